"""Queries: dashboards, focus, scores, bets, history. Nothing here writes.

Every query prints tables for people or, with ``--json``, the result of the
matching :class:`okra_core.Okra` method as plain JSON. Those that read state
take ``--as-of`` (the state at an instant, with what is known now) and
``--as-known-at`` (only what had been recorded by then).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click
from rich.text import Text

from okra_core import (
    Action,
    Cycle,
    CycleStatus,
    KeyResult,
    Objective,
    Okra,
    When,
    World,
    to_data,
)

from . import _render as render
from ._base import (
    WHEN,
    ExitCode,
    OkraCommand,
    Session,
    as_of_options,
    dumps,
    emit,
    fail,
    json_option,
    with_session,
)
from ._lint import lint_lines

__all__ = ["register", "resolve_cycle"]


def resolve_cycle(
    okra: Okra,
    ref: str | None,
    *,
    as_of: When = None,
    as_known_at: When = None,
    world: World | None = None,
) -> Cycle:
    """The cycle ``ref`` names; by default the only active one, else the last closed one.

    The default is chosen among the cycles as they were at the instant asked about
    (``world``, if the caller has it already).
    """
    if ref is not None:
        return okra.cycle(ref)
    if world is None:
        world = okra.world(as_of=as_of, as_known_at=as_known_at)
    cycles = world.cycles()
    active = [c for c in cycles if c.status is CycleStatus.ACTIVE]
    if len(active) == 1:
        return active[0]
    closed = [c for c in cycles if c.status is CycleStatus.CLOSED]
    if not active and closed:
        return max(closed, key=lambda c: (c.ends_at, c.starts_at))
    if not cycles:
        fail("there is no cycle yet", ExitCode.NOT_FOUND, "plan one with `okra cycle plan`")
    listing = ", ".join(f"{c.short_id} {c.name!r} ({c.status.value})" for c in cycles)
    reason = "no cycle is active or closed" if not active else "more than one cycle is active"
    fail(f"{reason}; name one: {listing}", ExitCode.AMBIGUOUS)


def _query(name: str, **attrs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    return click.command(name, cls=OkraCommand, **attrs)


@_query("dashboard")
@click.argument("cycle_ref", metavar="[CYCLE]", required=False)
@click.option("--owner", default=None, help="Only objectives this owner owns or reports on.")
@as_of_options
@json_option
@with_session
def dashboard(
    sess: Session,
    cycle_ref: str | None,
    owner: str | None,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """A cycle's objectives and key results: progress bars, pace, confidence, trend.

    CYCLE defaults to the only active cycle, else the one closed last.
    """
    okra = sess.okra
    # One world, for the default cycle and the sparklines: a past one is costly.
    world = okra.world(as_of=as_of, as_known_at=as_known_at)
    cycle = resolve_cycle(okra, cycle_ref, world=world)
    board = okra.cycle_progress(cycle, as_of=as_of, as_known_at=as_known_at)
    findings = okra.lint(cycle, as_of=as_of, as_known_at=as_known_at).by_entity()
    if as_json:
        data = to_data(board)
        if owner is not None:
            data["objectives"] = [
                o
                for o in data["objectives"]
                if o["owner"] == owner or any(k["owner"] == owner for k in o["key_results"])
            ]
        data["lint"] = {str(k): to_data(v) for k, v in findings.items()}
        click.echo(dumps(data))
        return
    for item in render.dashboard(board, world, owner, sess.console.width, findings):
        sess.console.print(item)


@_query("focus")
@click.argument("owner", required=False)
@click.option(
    "--cycle", "cycle_ref", default=None, help="Only this cycle [default: active cycles]."
)
@as_of_options
@json_option
@with_session
def focus(
    sess: Session,
    owner: str | None,
    cycle_ref: str | None,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """What needs attention, most urgent first: for OWNER (a person or team), or everyone."""
    result = sess.okra.focus(owner=owner, cycle=cycle_ref, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, result, render.focus)


@_query("progress")
@click.argument("ref", metavar="KEY_RESULT|OBJECTIVE|CYCLE")
@as_of_options
@json_option
@with_session
def progress(sess: Session, ref: str, as_of: When, as_known_at: When, as_json: bool) -> None:
    """Progress of one key result, objective or cycle, with pace and forecast."""
    okra = sess.okra
    entity = okra.get(ref)
    when = {"as_of": as_of, "as_known_at": as_known_at}
    if isinstance(entity, KeyResult):
        emit(sess, as_json, okra.key_result_progress(entity, **when), render.key_result_progress)
    elif isinstance(entity, Objective):
        emit(sess, as_json, okra.objective_progress(entity, **when), render.objective_progress)
    elif isinstance(entity, Cycle):
        board = okra.cycle_progress(entity, **when)
        emit(
            sess,
            as_json,
            board,
            lambda b: render.dashboard(b, okra.world(**when), width=sess.console.width),
        )
    else:
        fail(
            f"{entity.label!r} is a {entity.entity_kind.value}; "
            "expected a key result, objective or cycle"
        )


@_query("tree")
@click.option("--cycle", "cycle_ref", default=None, help="One cycle [default: all].")
@as_of_options
@json_option
@with_session
def tree(
    sess: Session, cycle_ref: str | None, as_of: When, as_known_at: When, as_json: bool
) -> None:
    """The alignment tree: which objectives contribute to which."""
    result = sess.okra.alignment_tree(cycle=cycle_ref, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, result, render.tree)


@_query("orphans")
@click.option("--cycle", "cycle_ref", default=None)
@as_of_options
@json_option
@with_session
def orphans(
    sess: Session, cycle_ref: str | None, as_of: When, as_known_at: When, as_json: bool
) -> None:
    """Objectives aligned to nothing and with nothing aligned to them."""
    found = sess.okra.orphans(cycle=cycle_ref, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, found, lambda items: render.entities(items, "No orphan objectives."))


@_query("scorecard")
@click.argument("cycle_ref", metavar="[CYCLE]", required=False)
@as_of_options
@json_option
@with_session
def scorecard(
    sess: Session, cycle_ref: str | None, as_of: When, as_known_at: When, as_json: bool
) -> None:
    """Scores of a cycle's objectives and key results (provisional before the close)."""
    cycle = resolve_cycle(sess.okra, cycle_ref, as_of=as_of, as_known_at=as_known_at)
    result = sess.okra.scorecard(cycle, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, result, render.scorecard)


@_query("review")
@click.argument("cycle_ref", metavar="[CYCLE]", required=False)
@as_of_options
@json_option
@with_session
def review(
    sess: Session, cycle_ref: str | None, as_of: When, as_known_at: When, as_json: bool
) -> None:
    """The business review of a cycle: per owner, scores, misses, learnings, carry-overs."""
    cycle = resolve_cycle(sess.okra, cycle_ref, as_of=as_of, as_known_at=as_known_at)
    result = sess.okra.business_review(cycle, as_of=as_of, as_known_at=as_known_at)
    report = sess.okra.lint(cycle, as_of=as_of, as_known_at=as_known_at)
    if as_json:
        data = to_data(result)
        data["lint"] = to_data(report.findings)
        click.echo(dumps(data))
        return
    for item in render.review(result):
        sess.console.print(item)
    if report.findings:
        sess.console.print(Text(f"\nLint: {len(report.findings)} finding(s)", style="bold"))
        for line in lint_lines(report.findings):
            sess.console.print(line)


@_query("bets")
@click.option("--cycle", "cycle_ref", default=None)
@click.option("--owner", default=None)
@as_of_options
@json_option
@with_session
def bets(
    sess: Session,
    cycle_ref: str | None,
    owner: str | None,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """The bets ledger: what each action cost, what it was expected to move, what moved."""
    result = sess.okra.bets(cycle=cycle_ref, owner=owner, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, result, render.bets)


@_query("calibration")
@click.option("--cycle", "cycle_ref", default=None)
@click.option("--owner", default=None)
@as_of_options
@json_option
@with_session
def calibration(
    sess: Session,
    cycle_ref: str | None,
    owner: str | None,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """How well stated confidence predicted graded outcomes (Brier score per owner)."""
    result = sess.okra.calibration(
        cycle=cycle_ref, owner=owner, as_of=as_of, as_known_at=as_known_at
    )
    emit(sess, as_json, result, render.calibration)


@_query("show")
@click.argument("ref", metavar="THING")
@as_of_options
@json_option
@with_session
def show(sess: Session, ref: str, as_of: When, as_known_at: When, as_json: bool) -> None:
    """Everything about one cycle, objective, key result or action, as it is (or was)."""
    entity = sess.okra.state(ref, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, entity, render.state)


@_query("explain")
@click.argument("ref", metavar="KEY_RESULT|OBJECTIVE|CYCLE")
@as_of_options
@json_option
@with_session
def explain(sess: Session, ref: str, as_of: When, as_known_at: When, as_json: bool) -> None:
    """How a progress figure was computed: formula, numbers, and the events behind them."""
    result = sess.okra.explain(ref, as_of=as_of, as_known_at=as_known_at)
    emit(sess, as_json, result, render.explanation)


def _until(as_of: When, as_known_at: When) -> When:
    if as_of is not None and as_known_at is not None:
        fail("give --as-of or --as-known-at, not both: on a log they mean the same")
    return as_of if as_of is not None else as_known_at


@_query("history")
@click.argument("ref", metavar="THING")
@as_of_options
@json_option
@with_session
def history(sess: Session, ref: str, as_of: When, as_known_at: When, as_json: bool) -> None:
    """Who changed what, when and why, for one thing, oldest first.

    With --as-of or --as-known-at, only what had been recorded by then.
    """
    entries = sess.okra.audit(ref=ref, until=_until(as_of, as_known_at))
    emit(sess, as_json, entries, render.log)


@_query("audit")
@click.option("--actor", "who", default=None, help="Only what this actor did.")
@click.option("--ref", default=None, metavar="THING", help="Only events of this thing.")
@click.option("--since", type=WHEN, default=None, help="Recorded at or after.")
@click.option("--until", type=WHEN, default=None, help="Recorded at or before.")
@click.option("--as-of", "as_of", type=WHEN, default=None, hidden=True)
@click.option("--as-known-at", "as_known_at", type=WHEN, default=None, help="Same as --until.")
@json_option
@with_session
def audit(
    sess: Session,
    who: str | None,
    ref: str | None,
    since: When,
    until: When,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """The whole log, or part of it: position, time, actor, what and why."""
    if until is not None and (as_of is not None or as_known_at is not None):
        fail("give --until or --as-known-at, not both: they mean the same")
    until = until if until is not None else _until(as_of, as_known_at)
    entries = sess.okra.audit(actor=who, ref=ref, since=since, until=until)
    emit(sess, as_json, entries, render.log)


@_query("diff")
@click.argument("ref", metavar="THING")
@click.option("--from", "start", type=WHEN, required=True, help="The earlier instant.")
@click.option("--to", "end", type=WHEN, default=None, help="The later instant [default: now].")
@click.option(
    "--known", is_flag=True, help="Compare what was known then, not what is known now about then."
)
@json_option
@with_session
def diff(
    sess: Session, ref: str, start: date | datetime, end: When, known: bool, as_json: bool
) -> None:
    """What changed in one thing between two instants, and the events that changed it."""
    result = sess.okra.diff(ref, start=start, end=end, known=known)
    emit(sess, as_json, result, render.diff)


@_query("lineage")
@click.argument("ref", metavar="KEY_RESULT")
@as_of_options
@json_option
@with_session
def lineage(sess: Session, ref: str, as_of: When, as_known_at: When, as_json: bool) -> None:
    """A key result across cycles: what it continued, and what continued it."""
    chain: list[Any] = sess.okra.lineage(ref)
    if as_of is not None or as_known_at is not None:
        world = sess.okra.world(as_of=as_of, as_known_at=as_known_at)
        chain = [state for kr in chain if (state := world.get(kr.id)) is not None]
    emit(sess, as_json, chain, lambda items: render.entities(items, "No lineage."))


_KINDS: dict[str, type] = {
    "cycles": Cycle,
    "objectives": Objective,
    "krs": KeyResult,
    "actions": Action,
}


@_query("list")
@click.argument("kind", type=click.Choice([*_KINDS, "tasks"]))
@click.option("--cycle", "cycle_ref", default=None, help="Only things in this cycle.")
@click.option("--owner", default=None, help="Only things this owner owns.")
@click.option("--open", "only_open", is_flag=True, help="tasks: only those not done.")
@as_of_options
@json_option
@with_session
def list_command(
    sess: Session,
    kind: str,
    cycle_ref: str | None,
    owner: str | None,
    only_open: bool,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """List cycles, objectives, krs (key results), actions or tasks, with their ids."""
    okra = sess.okra
    world = okra.world(as_of=as_of, as_known_at=as_known_at)
    cycle_id = okra.cycle(cycle_ref).id if cycle_ref is not None else None
    if kind == "tasks":
        tasks = [
            (a, t)
            for a in _in_cycle(world, world.actions(), cycle_id)
            for t in a.tasks
            if not (only_open and t.done)
            if owner is None or a.owner == owner
        ]
        if as_json:
            click.echo(dumps([{**to_data(t), "action_title": a.title} for a, t in tasks]))
            return
        for a, t in tasks:
            mark = "x" if t.done else " "
            sess.console.print(f"[{mark}] {t.id.hex[:8]}  {t.title}  ({a.title})", markup=False)
        if not tasks:
            click.echo("No tasks.")
        return
    found = [
        e
        for e in _in_cycle(world, _all(world, _KINDS[kind]), cycle_id)
        if owner is None or getattr(e, "owner", owner) == owner
    ]
    emit(sess, as_json, found, lambda items: render.entities(items, f"No {kind}."))


def _all(world: World, cls: type) -> list[Any]:
    if cls is Cycle:
        return world.cycles()
    if cls is Objective:
        return world.objectives()
    if cls is KeyResult:
        return world.key_results()
    return world.actions()


def _in_cycle(world: World, items: list[Any], cycle_id: Any) -> list[Any]:
    if cycle_id is None:
        return items

    def cycle_of(entity: Any) -> Any:
        if isinstance(entity, Cycle):
            return entity.id
        if isinstance(entity, Objective):
            return entity.cycle_id
        if isinstance(entity, KeyResult):
            return world.objective_of(entity).cycle_id
        return next((cycle_of(world.key_result(k)) for k in entity.key_result_ids), None)

    return [e for e in items if cycle_of(e) == cycle_id]


def register(group: click.Group) -> None:
    """Add the queries to ``group``."""
    for command in (
        dashboard,
        focus,
        progress,
        tree,
        orphans,
        scorecard,
        review,
        bets,
        calibration,
        show,
        explain,
        history,
        audit,
        diff,
        lineage,
        list_command,
    ):
        group.add_command(command)
