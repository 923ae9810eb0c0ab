"""``okra demo``: one realistic quarter, built through okra's public API.

A support company runs 2026-Q3 (1 July to 30 September): a company objective, three
team objectives aligned to it, key results of every kind (including first response
time going *down* from 24 h to 4 h and a baseline still to be measured), thirteen
weekly check-ins with changing confidence and narratives, one backdated check-in, a
correction, a retarget, bets that are validated, invalidated and abandoned, and tasks.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from okra_core import (
    Action,
    Change,
    ExpectedEffect,
    Investment,
    KeyResult,
    ManualClock,
    Milestone,
    Okra,
    Range,
    StayBelow,
)

__all__ = ["DEMO_ACTOR", "DemoError", "build_demo", "run_demo", "summary"]

DEMO_ACTOR = "okra-demo"
"""The actor of the demo's first event: how ``okra demo`` recognises its own file."""

QUARTER_START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
WEEKS = 13

Echo = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot run (for example, the target file is not a demo file)."""


def run_demo(path: Path, *, echo: Echo = print) -> Path:
    """Build the demo quarter in the SQLite file ``path`` and print a summary.

    An existing demo file at ``path`` is replaced; any other existing file is left
    alone and :class:`DemoError` is raised.
    """
    path = path.expanduser().resolve()
    _remove_previous_demo(path)
    clock = ManualClock(QUARTER_START - timedelta(days=7))
    with Okra(f"sqlite:///{path}", clock=clock) as okra:
        build_demo(okra, clock)
        for line in summary(okra):
            echo(line)
        count = sum(1 for _ in okra.history())
    echo("")
    echo(f"Database: {path} ({count} events)")
    echo(f"Explore it from Python: Okra('sqlite:///{path}')")
    return path


def _remove_previous_demo(path: Path) -> None:
    if not path.exists():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            row = db.execute("SELECT state FROM stored_events ORDER BY rowid LIMIT 1").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or f'"actor":"{DEMO_ACTOR}"'.encode() not in bytes(row[0]):
        raise DemoError(
            f"{path} exists and is not an okra demo file; choose another path with --path"
        )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_demo(okra: Okra, clock: ManualClock) -> None:
    """Record the demo quarter into ``okra``, moving ``clock`` week by week."""
    okra.revise_playbook(
        max_objectives_per_owner=3,
        reason="focus: nobody owns more than three objectives",
        actor=DEMO_ACTOR,
    )
    q3 = okra.plan_cycle(
        "2026-Q3", start=QUARTER_START.date(), end=date(2026, 9, 30), actor="maria"
    )

    company = okra.draft_objective(
        "Become the support team customers rave about",
        cycle=q3,
        owner="maria",
        kind="aspirational",
        description="Support is why customers stay and why they tell their friends.",
        actor="maria",
    )
    nps = okra.add_key_result(
        company, "Net promoter score", metric=Change(baseline=32, target=50), actor="maria"
    )
    churn = okra.add_key_result(
        company, "Monthly churn", metric=StayBelow(threshold=3.0), unit="%", actor="maria"
    )

    support = okra.draft_objective("Answer every customer fast", cycle=q3, owner="sam", actor="sam")
    response = okra.add_key_result(
        support,
        "Median first response time",
        metric=Change(baseline=24, target=4),
        unit="h",
        actor="sam",
    )
    one_touch = okra.add_key_result(
        support,
        "Tickets resolved in one contact",
        metric=Change(baseline=None, target=70),
        unit="%",
        actor="sam",
    )
    csat = okra.add_key_result(
        support, "CSAT", metric=Range(low=4.2, high=5.0), unit="/5", actor="sam"
    )

    help_centre = okra.draft_objective(
        "Answer questions before they are asked",
        cycle=q3,
        owner="lee",
        kind="aspirational",
        actor="lee",
    )
    deflection = okra.add_key_result(
        help_centre,
        "Self-service deflection rate",
        metric=Change(baseline=10, target=30, commit=20, stretch=40),
        unit="%",
        actor="lee",
    )
    launch = okra.add_key_result(
        help_centre, "New help centre launched", metric=Milestone(), actor="lee"
    )

    okra.align(support, parent=company, weight=0.6, actor="maria")
    okra.align(help_centre, parent=nps, weight=0.4, actor="maria")
    for objective in (company, support, help_centre):
        okra.activate_objective(objective, actor=objective.owner)
    clock.set(QUARTER_START)
    okra.start_cycle(q3, actor="maria")

    chatbot = okra.propose_action(
        "Chatbot triage for password resets",
        key_results=[response],
        hypothesis="A third of tickets are password resets; a bot can answer them at once.",
        owner="sam",
        investment=Investment(effort=15, cost=4000, currency="EUR"),
        expected_effects=[ExpectedEffect(key_result_id=response.id, change=-8)],
        odds=0.6,
        kill_criteria="Fewer than 20% of reset tickets closed by the bot after four weeks.",
        actor="sam",
    )
    rota = okra.propose_action(
        "Weekend on-call rota",
        key_results=[response, csat],
        hypothesis="Monday backlogs come from weekend tickets; cover weekends.",
        owner="sam",
        investment=20,
        odds=0.5,
        kill_criteria="No drop in Monday response time after six weekends.",
        actor="sam",
    )
    articles = okra.propose_action(
        "Rewrite the twenty most-read help articles",
        key_results=[deflection],
        hypothesis="The most-read articles are out of date, so readers open tickets anyway.",
        owner="lee",
        investment=12,
        expected_effects=[ExpectedEffect(key_result_id=deflection.id, change=8)],
        odds=0.7,
        actor="lee",
    )
    videos = okra.propose_action(
        "Video tutorials for onboarding",
        key_results=[deflection],
        hypothesis="New users prefer watching to reading.",
        owner="lee",
        investment=25,
        odds=0.3,
        actor="lee",
    )
    tasks = {
        chatbot.id: ["Export reset tickets", "Pick a bot vendor", "Write reset flows"],
        articles.id: ["Rank articles by views", "Rewrite top ten", "Rewrite next ten"],
    }
    for action_id, titles in tasks.items():
        for title in titles:
            okra.add_task(action_id, title, actor=okra.action(action_id).owner)
    okra.place_action(chatbot, actor="sam")
    okra.place_action(articles, actor="lee")

    for week in range(1, WEEKS + 1):
        clock.set(QUARTER_START + timedelta(weeks=week, hours=week % 3))
        _week(okra, week, nps, churn, response, one_touch, csat, deflection, launch)
        _bets(okra, week, chatbot, rota, articles, videos)

    clock.set(QUARTER_START + timedelta(weeks=WEEKS, days=2))
    for objective in (company, support, help_centre):
        okra.close_objective(objective, actor=objective.owner)
    okra.close_cycle(q3, actor="maria")


def _week(
    okra: Okra,
    week: int,
    nps: KeyResult,
    churn: KeyResult,
    response: KeyResult,
    one_touch: KeyResult,
    csat: KeyResult,
    deflection: KeyResult,
    launch: KeyResult,
) -> None:
    t = week / WEEKS
    if week == 1:
        okra.measure_baseline(one_touch, baseline=52, actor="sam")
    # First response falls from 24 h, fast once the chatbot is live (week 4).
    hours = 24 - 6 * t - (9 if week >= 4 else 0) - (2 * t if week >= 8 else 0)
    response_confidence = 4 if week < 4 else min(9, 5 + week // 3)
    okra.check_in(
        response,
        value=round(hours, 1),
        confidence=response_confidence,
        narrative=_RESPONSE_NOTES.get(week, "Steady week."),
        actor="sam",
    )
    okra.check_in(
        one_touch,
        value=round(52 + 14 * t, 1),
        confidence=6,
        narrative="Macros for the top ten issues help.",
        actor="sam",
    )
    okra.check_in(
        csat,
        value=round(4.3 - (0.2 if week in (5, 6) else 0) + 0.02 * week, 2),
        confidence=7 if week not in (5, 6) else 4,
        narrative="Weekend backlog hurt satisfaction."
        if week in (5, 6)
        else "Customers like faster answers.",
        actor="sam",
    )
    okra.check_in(
        deflection,
        value=round(10 + 22 * t + 3 * math.sin(week), 1),
        confidence=5 + week // 4,
        narrative="Rewritten articles are read to the end more often.",
        actor="lee",
    )
    okra.check_in(
        launch,
        value=1 if week >= 10 else 0,
        confidence=8 if week >= 7 else 5,
        narrative="Launched!" if week == 10 else "Building.",
        actor="lee",
    )
    if week % 4 == 0 or week == WEEKS:
        okra.check_in(
            churn,
            value=round(2.6 + (0.7 if week == 8 else 0) - 0.05 * week, 2),
            confidence=7,
            narrative="Price change in August lost a few small accounts."
            if week == 8
            else "Within the guardrail.",
            actor="maria",
        )
    if week % 2 == 0:
        okra.check_in(
            nps,
            value=round(32 + 12 * t, 1),
            confidence=7 - week // 5,
            narrative="Survey of the last two weeks.",
            actor="maria",
        )
    if week == 6:
        # Last week's CSAT survey came in late: record it at its effective time.
        okra.check_in(
            csat,
            value=4.15,
            confidence=4,
            narrative="Late survey batch from the weekend.",
            effective_at=QUARTER_START + timedelta(weeks=5, days=3),
            actor="sam",
        )
    if week == 7:
        typo = okra.key_results(one_touch.objective_id)[1].latest
        assert typo is not None
        okra.correct_check_in(
            typo, value=typo.value - 0.5, reason="Counted reopened tickets twice.", actor="sam"
        )
    if week == 9:
        okra.retarget(
            nps,
            target=45,
            reason="August price change: the board agreed a lower target.",
            actor="maria",
        )


def _bets(
    okra: Okra, week: int, chatbot: Action, rota: Action, articles: Action, videos: Action
) -> None:
    if week == 2:
        okra.complete_task("Export reset tickets", actor="sam")
        okra.complete_task("Pick a bot vendor", actor="sam")
        okra.place_action(rota, actor="sam")
        okra.complete_task("Rank articles by views", actor="lee")
    if week == 3:
        okra.complete_task("Write reset flows", actor="sam")
        okra.resolve_action(
            videos,
            outcome="abandoned",
            learning="Nobody on the team can film this quarter; revisit in Q4.",
            actor="lee",
        )
    if week == 5:
        okra.complete_task("Rewrite top ten", actor="lee")
    if week == 8:
        okra.resolve_action(
            chatbot,
            outcome="validated",
            learning="The bot closes 41% of reset tickets; median response fell 9 h.",
            evidence=["Ticket export weeks 4-8", "Bot dashboard"],
            actor="sam",
        )
    if week == 9:
        okra.resolve_action(
            rota,
            outcome="invalidated",
            learning="Monday backlog did not shrink: weekend tickets are few but slow.",
            evidence=["Monday response times, weeks 3-9"],
            actor="sam",
        )
        okra.complete_task("Rewrite next ten", actor="lee")
    if week == 11:
        okra.resolve_action(
            articles,
            outcome="validated",
            learning="Deflection rose 9 points on rewritten articles; rewrite the next 20.",
            actor="lee",
        )


_RESPONSE_NOTES = {
    1: "Baseline week: backlog from the spring launch.",
    3: "Chatbot vendor picked; flows written.",
    4: "Chatbot live for password resets.",
    6: "Weekend rota started; no effect on Monday yet.",
    8: "Bot now handles 41% of resets.",
    12: "Holiday cover held up.",
}


def summary(okra: Okra) -> list[str]:
    """A readable report of every cycle: objectives, key results, attainment, bets."""
    lines: list[str] = []
    for cycle in okra.cycles():
        lines.append(
            f"Cycle {cycle.name} ({cycle.starts_at:%Y-%m-%d} to "
            f"{cycle.ends_at - timedelta(seconds=1):%Y-%m-%d}), {cycle.status.value}"
        )
        for objective in okra.objectives(cycle=cycle):
            lines.append("")
            lines.append(
                f"  {objective.title}  [{objective.kind.value}, {objective.status.value}, "
                f"owner {objective.owner}]"
            )
            for link in objective.alignments:
                parent = okra.get(link.parent_id)
                lines.append(
                    f"    aligned: {link.link.value} ({link.weight:g}) to "
                    f"{parent.entity_kind.value.replace('_', ' ')} {parent.label!r}"
                )
            for kr in okra.key_results(objective):
                lines.append("    " + _kr_line(kr))
        lines.append("")
        lines.append("  Bets")
        for action in okra.actions():
            done = sum(task.done for task in action.tasks)
            tasks = f", tasks {done}/{len(action.tasks)} done" if action.tasks else ""
            lines.append(f"    {action.status.value:<12} {action.title}{tasks}")
            if action.learning:
                lines.append(f"    {'':<12} learning: {action.learning}")
    return lines


def _kr_line(kr: KeyResult) -> str:
    attainment = kr.attainment()
    shown = "  n/a" if attainment.value is None else f"{attainment.value:5.0%}"
    unit = f" {kr.unit}" if kr.unit else ""
    value = "no check-in" if kr.current_value is None else f"now {kr.current_value:g}{unit}"
    goal = kr.metric.describe(kr.unit)
    moved = f" (retargeted from {kr.original_metric.describe(kr.unit)})"
    moved = moved if kr.metric != kr.original_metric else ""
    confidence = f", confidence {kr.confidence}" if kr.confidence else ""
    return f"{shown}  {kr.title}: {goal}{moved}, {value}{confidence}"
