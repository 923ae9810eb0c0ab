"""``okra demo``: one realistic quarter, built and read through okra's public API.

A support company runs 2026-Q3 (1 July to 30 September): a company objective, two
team objectives aligned to it, key results of every kind (including first response
time going *down* from 24 h to 4 h and a baseline still to be measured), thirteen
weekly check-ins with changing confidence and narratives, a late survey batch
recorded after the fact, a correction, a retarget, and bets that are validated,
invalidated, abandoned, left idle and settled as inconclusive.

The demo tells the quarter the way a team lead lives it:

1. week 10 (Wednesday 9 September): the dashboard, and the focus list of the week;
2. time travel: one objective at mid-quarter, as reported then and as known now,
   next to where it stands now;
3. the close: grades (one overridden, with its rationale), the scorecard, the
   business review and a carry-over into 2026-Q4.

The clock is a :class:`~okra_core.ManualClock` moved week by week, so the output is
the same on every run.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from okra_core import (
    Action,
    Change,
    CheckIn,
    CheckInCorrected,
    CheckInRecorded,
    Cycle,
    CycleStatus,
    ExpectedEffect,
    FocusItem,
    Investment,
    KeyResult,
    KeyResultProgress,
    KeyResultScore,
    ManualClock,
    Milestone,
    Objective,
    ObjectiveKind,
    ObjectiveProgress,
    ObjectiveScore,
    Okra,
    OwnerReview,
    Range,
    Scorecard,
    StayBelow,
)

__all__ = [
    "CYCLE",
    "DEMO_ACTOR",
    "NEXT_CYCLE",
    "QUARTER_START",
    "THIS_WEEK",
    "TIME_TRAVELLER",
    "WEEKS",
    "DemoError",
    "build_demo",
    "run_demo",
    "summary",
    "this_week",
    "week_time",
]

DEMO_ACTOR = "okra-demo"
"""The actor of the demo's first event: how ``okra demo`` recognises its own file."""

QUARTER_START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
"""When the demo starts the cycle (the quarter itself starts at midnight)."""
WEEKS = 13
"""Weeks of check-ins in the demo quarter."""
THIS_WEEK = 10
"""The week the demo stops to look at the quarter "now" (Wednesday 9 September)."""

CYCLE = "2026-Q3"
"""The demo's quarter."""
NEXT_CYCLE = "2026-Q4"
"""The quarter the committed objective is carried over into."""
TIME_TRAVELLER = "Answer every customer fast"
"""The objective shown at mid-quarter next to now."""

Echo = Callable[[str], None]
WeekHook = Callable[[int], None]


class DemoError(Exception):
    """The demo cannot run (for example, the target file is not a demo file)."""


def run_demo(path: Path, *, echo: Echo = print) -> Path:
    """Build the demo quarter in the SQLite file ``path`` and print what it shows.

    The report comes in two parts: the quarter in week :data:`THIS_WEEK`
    (dashboard, focus list, time travel), printed as the week is recorded, then
    the close (scorecard, business review, bets). An existing demo file at
    ``path`` is replaced; any other existing file is left alone and
    :class:`DemoError` is raised.
    """
    path = path.expanduser().resolve()
    _remove_previous_demo(path)
    clock = ManualClock(QUARTER_START - timedelta(days=7))
    with Okra(f"sqlite:///{path}", clock=clock) as okra:

        def at_week(week: int) -> None:
            if week == THIS_WEEK:
                for line in this_week(okra):
                    echo(line)

        build_demo(okra, clock, at_week=at_week)
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


# --- writing the quarter -----------------------------------------------------------------


def build_demo(okra: Okra, clock: ManualClock, *, at_week: WeekHook | None = None) -> None:
    """Record the demo quarter into ``okra``, moving ``clock`` week by week.

    After the events of each week ``1 .. WEEKS``, ``at_week(week)`` is called with
    the clock still in that week, so a caller can read the quarter as it unfolds.
    Then the cycle is closed with its grades (the net promoter score's overridden)
    and the committed objective is carried over into 2026-Q4.
    """
    okra.revise_playbook(
        max_objectives_per_owner=3,
        reason="focus: nobody owns more than three objectives",
        actor=DEMO_ACTOR,
    )
    q3 = okra.plan_cycle(CYCLE, start=QUARTER_START.date(), end=date(2026, 9, 30), actor="maria")

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

    support = okra.draft_objective(TIME_TRAVELLER, cycle=q3, owner="sam", actor="sam")
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

    bets = _propose_bets(okra, nps, response, csat, deflection)
    krs = _KeyResults(nps, churn, response, one_touch, csat, deflection, launch)
    for week in range(1, WEEKS + 1):
        clock.set(week_time(week))
        _week(okra, week, krs)
        _bets(okra, week, bets)
        if at_week is not None:
            at_week(week)

    clock.set(QUARTER_START + timedelta(weeks=WEEKS, days=2))
    okra.close_cycle(
        q3,
        actor="maria",
        grades={
            nps: (
                0.7,
                "0.9 only against the target lowered in week 9; against the board's "
                "original 50 it is 0.6. The price change was real, so was the shortfall.",
            )
        },
    )
    q4 = okra.plan_cycle(NEXT_CYCLE, start=date(2026, 10, 1), end=date(2026, 12, 31), actor="maria")
    okra.continue_objective(support, cycle=q4, mode="carry_over", actor="sam")


def week_time(week: int) -> datetime:
    """When the check-ins of ``week`` (1 to :data:`WEEKS`) are recorded.

    Wednesdays, a week apart, at 9:00 to 11:00 so the weeks are not all alike.
    """
    return QUARTER_START + timedelta(weeks=week, hours=week % 3)


class _KeyResults(NamedTuple):
    """The demo's key results, by role."""

    nps: KeyResult
    churn: KeyResult
    response: KeyResult
    one_touch: KeyResult
    csat: KeyResult
    deflection: KeyResult
    launch: KeyResult


class _Bets(NamedTuple):
    """The demo's bets, by role."""

    chatbot: Action
    rota: Action
    articles: Action
    videos: Action
    calls: Action


def _propose_bets(
    okra: Okra, nps: KeyResult, response: KeyResult, csat: KeyResult, deflection: KeyResult
) -> _Bets:
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
    calls = okra.propose_action(
        "Call ten detractors a month",
        key_results=[nps],
        hypothesis="A call from a manager turns some detractors into promoters.",
        owner="maria",
        investment=6,
        odds=0.4,
        actor="maria",
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
    return _Bets(chatbot, rota, articles, videos, calls)


# Tickets resolved in one contact (%): quick gains from macros, a plateau in
# August (the rest are billing questions), a late climb once billing joins.
_ONE_TOUCH = {
    1: 53.0,
    2: 54.5,
    3: 55.5,
    4: 56.5,
    5: 57.5,
    6: 59.7,  # corrected to 57.9 in week 8
    7: 58.4,
    8: 58.6,
    9: 58.9,
    10: 58.5,
    11: 60.2,
    12: 61.8,
    13: 63.1,
}
_NPS_CONFIDENCE = {2: 7, 4: 7, 6: 6, 8: 6, 10: 4, 12: 5}


def _week(okra: Okra, week: int, krs: _KeyResults) -> None:
    t = week / WEEKS
    if week == 1:
        okra.measure_baseline(krs.one_touch, baseline=52, actor="sam")
    # First response falls from 24 h, fast once the chatbot is live (week 4).
    hours = 24 - 6 * t - (9 if week >= 4 else 0) - (2 * t if week >= 8 else 0)
    okra.check_in(
        krs.response,
        value=round(hours, 1),
        confidence=4 if week < 4 else min(9, 5 + week // 3),
        narrative=_RESPONSE_NOTES.get(week, "Steady week."),
        actor="sam",
    )
    okra.check_in(
        krs.one_touch,
        value=_ONE_TOUCH[week],
        confidence=6 if week < 8 else 5 if week < 11 else 6,
        narrative="Macros for the top ten issues help."
        if week < 7
        else "Stuck: the rest are billing questions."
        if week < 11
        else "Billing joined the support rota.",
        actor="sam",
    )
    okra.check_in(
        krs.csat,
        value=round(4.3 - (0.2 if week in (5, 6) else 0) + 0.02 * week, 2),
        confidence=7 if week not in (5, 6) else 4,
        narrative="Weekend backlog hurt satisfaction."
        if week in (5, 6)
        else "Customers like faster answers.",
        actor="sam",
    )
    okra.check_in(
        krs.deflection,
        value=round(10 + 22 * t + 3 * math.sin(week), 1),
        confidence=5 + week // 4,
        narrative="Rewritten articles are read to the end more often.",
        actor="lee",
    )
    okra.check_in(
        krs.launch,
        value=1 if week >= 10 else 0,
        confidence=8 if week >= 7 else 5,
        narrative="Launched!" if week == 10 else "Building.",
        actor="lee",
    )
    # Churn is measured monthly: with a weekly cadence, it goes stale in between.
    if week % 4 == 0 or week == WEEKS:
        okra.check_in(
            krs.churn,
            value=round(2.6 + (0.7 if week == 8 else 0) - 0.05 * week, 2),
            confidence=7,
            narrative="Price change in August lost a few small accounts."
            if week == 8
            else "Within the guardrail.",
            actor="maria",
        )
    if week % 2 == 0:
        okra.check_in(
            krs.nps,
            value=round(32 + 12 * t, 1),
            confidence=_NPS_CONFIDENCE[week],
            narrative="Promoters mention the price change: fewer nines and tens."
            if week == 10
            else "Survey of the last two weeks.",
            actor="maria",
        )
    if week == 7:
        # A weekend survey batch came in late: record it at the time it was true,
        # the Friday before mid-quarter.
        okra.check_in(
            krs.csat,
            value=4.15,
            confidence=4,
            narrative="Late survey batch from the weekend queue.",
            effective_at=QUARTER_START + timedelta(weeks=6, days=2),
            actor="sam",
        )
    if week == 8:
        wrong = _check_in_of_week(okra.key_result(krs.one_touch), 6)
        okra.correct_check_in(
            wrong,
            value=57.9,
            reason="Reopened tickets were counted as resolved in one contact.",
            actor="sam",
        )
    if week == 9:
        okra.retarget(
            krs.nps,
            target=45,
            reason="August price change: the board agreed a lower target.",
            actor="maria",
        )


def _check_in_of_week(kr: KeyResult, week: int) -> CheckIn:
    """The check-in recorded in ``week``."""
    return next(c for c in kr.check_ins if c.recorded_at == week_time(week))


def _bets(okra: Okra, week: int, bets: _Bets) -> None:
    if week == 2:
        okra.complete_task("Export reset tickets", actor="sam")
        okra.complete_task("Pick a bot vendor", actor="sam")
        okra.place_action(bets.rota, actor="sam")
        okra.complete_task("Rank articles by views", actor="lee")
    if week == 3:
        okra.complete_task("Write reset flows", actor="sam")
        okra.resolve_action(
            bets.videos,
            outcome="abandoned",
            learning="Nobody on the team can film this quarter; revisit in Q4.",
            actor="lee",
        )
    if week == 5:
        okra.complete_task("Rewrite top ten", actor="lee")
        # Placed, then nobody touches it: the focus list flags it as idle.
        okra.place_action(bets.calls, actor="maria")
    if week == 8:
        okra.resolve_action(
            bets.chatbot,
            outcome="validated",
            learning="The bot closes 41% of reset tickets; median response fell 9 h.",
            evidence=["Ticket export weeks 4-8", "Bot dashboard"],
            actor="sam",
        )
    if week == 9:
        okra.resolve_action(
            bets.rota,
            outcome="invalidated",
            learning="Monday backlog did not shrink: weekend tickets are few but slow.",
            evidence=["Monday response times, weeks 3-9"],
            actor="sam",
        )
    if week == 10:
        okra.complete_task("Rewrite next ten", actor="lee")
    if week == 11:
        okra.resolve_action(
            bets.articles,
            outcome="validated",
            learning="Deflection rose 9 points on rewritten articles; rewrite the next 20.",
            actor="lee",
        )
    if week == 12:
        okra.resolve_action(
            bets.calls,
            outcome="inconclusive",
            learning="Only four calls were held; too few to tell. Book them in Q4 planning.",
            actor="maria",
        )


_RESPONSE_NOTES = {
    1: "Baseline week: backlog from the spring launch.",
    3: "Chatbot vendor picked; flows written.",
    4: "Chatbot live for password resets.",
    6: "Weekend rota started; no effect on Monday yet.",
    8: "Bot now handles 41% of resets.",
    12: "Holiday cover held up.",
}


# --- reading the quarter ---------------------------------------------------------------


def this_week(okra: Okra) -> list[str]:
    """The quarter as it stands at ``okra``'s clock: dashboard, focus list, time travel."""
    cycle = okra.cycle(CYCLE)
    now = okra.clock.now()
    week = (now - QUARTER_START) // timedelta(weeks=1)
    of_weeks = f" (week {week} of {WEEKS})" if 1 <= week <= WEEKS else ""
    lines = [_heading(f"{cycle.name}, {_day(now)}{of_weeks}: the quarter now")]
    lines += _dashboard(okra, cycle)
    lines += ["", _heading("Focus this week: what needs attention, most urgent first")]
    lines += _focus(okra, cycle)
    lines += ["", _heading(f"Time travel: {TIME_TRAVELLER!r} at mid-quarter and now")]
    # By title within the cycle: once carried over, the title is in 2026-Q4 too.
    objective = next(o for o in okra.objectives(cycle=cycle) if o.title == TIME_TRAVELLER)
    lines += _time_travel(okra, cycle, objective)
    return lines


def _dashboard(okra: Okra, cycle: Cycle) -> list[str]:
    board = okra.cycle_progress(cycle)
    lines = [
        f"{board.expected_pace:.0%} of the quarter has gone; "
        f"overall progress {_pct(board.progress).strip()} "
        f"(mean of {board.measured} objectives).",
    ]
    for objective in board.objectives:
        lines.append("")
        lines.append(
            f"{_pct(objective.progress)}  {_status(objective.pace_status):<10} "
            f"{objective.title}  [{objective.owner}, {objective.kind.value}]"
        )
        for kr in objective.key_results:
            lines.append("  " + _kr_progress_line(kr))
        lines += ["  " + line for line in _contributors(objective)]
    owners = ", ".join(f"{o.owner} {_pct(o.progress).strip()}" for o in board.owners)
    statuses = ", ".join(
        f"{c.count} {_status(c.status)}" for c in board.key_results_by_status if c.count
    )
    lines += ["", f"By owner: {owners}.", f"Key results: {statuses}."]
    return lines


def _kr_progress_line(kr: KeyResultProgress) -> str:
    value = "no check-in" if kr.value is None else f"now {_num(kr.value, kr.unit)}"
    moved = " (retargeted)" if kr.goalposts_moved else ""
    confidence = f", confidence {kr.confidence}" if kr.confidence is not None else ""
    return (
        f"{_pct(kr.clamped)}  {_status(kr.pace_status):<10} {kr.title}: "
        f"{kr.metric}{moved}, {value}{confidence}"
    )


def _contributors(objective: ObjectiveProgress) -> list[str]:
    return [
        f"{_pct(c.value)}  {'':<10} + {c.title} ({c.owner}), weight {c.weight:g}"
        + (f" via {c.via_key_result_title!r}" if c.via_key_result_title else "")
        for c in objective.contributions
        if c.link is not None
    ]


def _focus(okra: Okra, cycle: Cycle) -> list[str]:
    focus = okra.focus(cycle=cycle)
    if not focus.items:
        return ["Nothing needs attention this week."]
    lines: list[str] = []
    for item in focus.items:
        lines.append(f"{item.rank:>2}. {_focus_label(item):<19}{item.title} ({item.owner})")
        lines.append(f"    {'':<19}{item.reason}")
    return lines


def _focus_label(item: FocusItem) -> str:
    return item.kind.value.replace("_", " ")


def _time_travel(okra: Okra, cycle: Cycle, objective: Objective) -> list[str]:
    mid = cycle.starts_at + (cycle.ends_at - cycle.starts_at) / 2
    then = okra.objective_progress(objective, as_known_at=mid)
    corrected = okra.objective_progress(objective, as_of=mid)
    now = okra.objective_progress(objective)
    columns = ("reported then", "known now", "now")
    width = max(len(kr.title) for kr in now.key_results) + 2
    lines = [
        f"Mid-quarter: {_day(mid)} {mid:%H:%M}.",
        "  reported then: as_known_at=mid-quarter, only what had been recorded by then",
        "  known now:     as_of=mid-quarter, what was true then, with everything recorded since",
        "Each key result: its value and (attainment).",
        "",
        f"{'':<{width}}" + "".join(f"{c:>17}" for c in columns),
        f"{'Progress':<{width}}"
        + "".join(f"{_pct(p.progress):>17}" for p in (then, corrected, now)),
    ]
    for i, kr in enumerate(now.key_results):
        cells = (then.key_results[i], corrected.key_results[i], kr)
        lines.append(f"{kr.title:<{width}}" + "".join(f"{_value(c):>17}" for c in cells))
    late = list(_late_news(okra, now.key_results, mid))
    if late:
        lines += ["", "Recorded after mid-quarter about the days before it:"]
        lines += late
    return lines


def _value(kr: KeyResultProgress) -> str:
    if kr.value is None:
        return "-"
    return f"{_num(kr.value, kr.unit)} ({_pct(kr.clamped).strip()})"


def _late_news(okra: Okra, key_results: Iterable[KeyResultProgress], mid: datetime) -> list[str]:
    """Check-ins and corrections recorded after ``mid`` but effective before it."""
    found: list[tuple[datetime, str]] = []
    for kr in key_results:
        for entry in okra.timeline(kr.key_result_id):
            event = entry.event
            if not isinstance(event, CheckInRecorded | CheckInCorrected):
                continue
            if event.effective_at <= mid < entry.recorded_at:
                what = "corrected to" if isinstance(event, CheckInCorrected) else "checked in"
                line = (
                    f"- {entry.recorded_at:%a %d %b}, {entry.actor}: {kr.title} {what} "
                    f"{_num(event.value, kr.unit)} as of {event.effective_at:%a %d %b}: "
                    f"{entry.why}"
                )
                found.append((entry.recorded_at, line))
    return [line for _, line in sorted(found)]


def summary(okra: Okra) -> list[str]:
    """The close of the demo quarter: the scorecard and the business review."""
    cycle = okra.cycle(CYCLE)
    card = okra.scorecard(cycle)
    review = okra.business_review(cycle)
    when = (
        f"closed {_day(cycle.updated_at)}"
        if cycle.status is CycleStatus.CLOSED
        else f"({cycle.status.value})"
    )
    lines = [
        "",
        _heading(f"End of quarter: {cycle.name} {when}"),
        _scorecard_line(card),
    ]
    for objective in card.objectives:
        lines.append("")
        lines.append(_objective_score_line(objective))
        for kr in objective.key_results:
            lines += _kr_score_lines(kr)
    lines += ["", _heading(f"Business review {cycle.name}")]
    for owner in review.owners:
        lines += _owner_review(owner)
    ledger = okra.bets(cycle=cycle)
    outcomes = Counter(e.outcome.value if e.outcome else e.status.value for e in ledger.entries)
    hit = f"{ledger.hit_rate:.0%}" if ledger.hit_rate is not None else "n/a"
    lines += [
        "",
        f"Bets: {len(ledger.entries)} ("
        + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        + f"); hit rate {hit}, validated of validated and invalidated.",
    ]
    return lines


def _scorecard_line(card: Scorecard) -> str:
    band = f" ({card.band.value})" if card.band is not None else ""
    readings = Counter(
        o.reading.value.replace("_", " ")
        for o in card.objectives
        if o.kind is ObjectiveKind.ASPIRATIONAL
    )
    aspirational = ", ".join(f"{n} {reading}" for reading, n in sorted(readings.items()))
    return (
        f"Scorecard: overall {_score(card.score)}{band}; "
        f"committed met {card.committed_met} of {card.committed_total}; "
        f"aspirational: {aspirational or 'none'}."
        + (" Provisional: not every key result is graded yet." if card.provisional else "")
    )


def _objective_score_line(objective: ObjectiveScore) -> str:
    about = "" if objective.kind is ObjectiveKind.COMMITTED else "about "
    expected = f"expected {about}{_score(objective.expectation)}"
    return (
        f"{_score(objective.score)}  {objective.band.value:<6} {objective.title}  "
        f"[{objective.owner}, {objective.kind.value}: "
        f"{objective.reading.value.replace('_', ' ')}, {expected}]"
    )


def _kr_score_lines(kr: KeyResultScore) -> list[str]:
    attainment = "n/a" if kr.attainment is None else f"{kr.attainment:.0%}"
    lines = [f"  {_score(kr.score)}  {kr.title} (attainment {attainment})"]
    if kr.overridden:
        lines.append(
            f"       overridden by {kr.graded_by}: suggested {_score(kr.suggested)}, "
            f"graded {_score(kr.score)}: {kr.rationale}"
        )
    if kr.goalposts_moved:
        lines.append(
            f"       goalposts moved: against the original target it would suggest "
            f"{_score(kr.original_suggested)}"
        )
    return lines


def _owner_review(owner: OwnerReview) -> list[str]:
    committed = (
        f", committed met {owner.committed_met} of {owner.committed_total}"
        if owner.committed_total
        else ""
    )
    lines = [f"{owner.owner}: score {_score(owner.score)}{committed}"]
    for miss in owner.misses:
        short = ", ".join(f"{kr.title} {_score(kr.score)}" for kr in miss.short_key_results)
        lines.append(f"  missed {miss.title!r} ({_score(miss.score)}): short on {short}")
    for learning in owner.learnings:
        lines.append(f"  learned ({learning.outcome.value}) {learning.title}: {learning.learning}")
    for carry in owner.carry_overs:
        krs = ", ".join(link.to_title for link in carry.key_results)
        lines.append(
            f"  {carry.mode.value.replace('_', ' ')} into {carry.to_cycle_name}: "
            f"{carry.to_title!r} ({carry.to_status.value}) with {krs}"
        )
    return lines


# --- formatting ---------------------------------------------------------------------------


def _heading(text: str) -> str:
    return f"== {text} =="


def _day(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b %Y}"


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.0%}"


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _status(status: object) -> str:
    return str(status).replace("_", " ")


def _num(value: float, unit: str) -> str:
    return f"{value:g} {unit}" if unit else f"{value:g}"
