"""Commands that record something: one per domain action.

Each validates its input in okra_core (every problem at once, named by the
option that set it), writes once or not at all, and prints what changed: a line
for people, or the entity as JSON with ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs
import click

from okra_core import (
    AlignmentLink,
    Change,
    CheckIn,
    CheckInSource,
    ContinuationMode,
    ExpectedEffect,
    Investment,
    Metric,
    Milestone,
    ObjectiveKind,
    Okra,
    OkraError,
    Outcome,
    Playbook,
    Range,
    Ref,
    RollupPolicy,
    StayAbove,
    StayBelow,
    ValidationError,
    When,
    check_in_warnings,
    parse_value,
    to_data,
)

from .._format import pct
from ._base import (
    NUMBER,
    WHEN,
    ExitCode,
    OkraCommand,
    OkraGroup,
    Session,
    as_of_options,
    confidence_value,
    dumps,
    fail,
    instant,
    json_option,
    with_session,
)

__all__ = ["register"]


# Values may be negative: "-3" is a value, not an unknown option.
_NUMBERS = {"ignore_unknown_options": True}


def _done(sess: Session, as_json: bool, entity: Any, message: str) -> None:
    if as_json:
        click.echo(dumps(to_data(entity)))
    else:
        click.echo(message)


def _choice(enum_cls: type[Any]) -> click.Choice[str]:
    return click.Choice([m.value for m in enum_cls], case_sensitive=False)


# --- cycles ---------------------------------------------------------------------------


@click.group(cls=OkraGroup)
def cycle() -> None:
    """Plan, start and close cycles (quarters, years)."""


@cycle.command("plan")
@click.argument("name")
@click.option("--start", type=WHEN, required=True, help="First day (or instant).")
@click.option("--end", type=WHEN, required=True, help="Last day (included) or instant.")
@click.option("--parent", default=None, help="A cycle this one lies within (e.g. the year).")
@json_option
@with_session
def cycle_plan(
    sess: Session, name: str, start: date, end: date, parent: str | None, as_json: bool
) -> None:
    """Plan a cycle NAME from --start to --end."""
    planned = sess.okra.plan_cycle(name, start=start, end=end, parent=parent, actor=sess.actor)
    _done(sess, as_json, planned, f"planned cycle {planned.name} ({planned.short_id})")


@cycle.command("start")
@click.argument("cycle_ref", metavar="CYCLE")
@json_option
@with_session
def cycle_start(sess: Session, cycle_ref: str, as_json: bool) -> None:
    """Start a planned cycle."""
    started = sess.okra.start_cycle(cycle_ref, actor=sess.actor)
    _done(sess, as_json, started, f"started cycle {started.name}")


def _grades(values: Sequence[str]) -> dict[Ref, float | tuple[float, str]]:
    grades: dict[Ref, float | tuple[float, str]] = {}
    for value in values:
        ref, sep, rest = value.partition("=")
        grade, colon, rationale = rest.partition(":")
        if not sep or not ref.strip():
            fail(f"--grade: expected KEY_RESULT=SCORE[:RATIONALE], got {value!r}")
        try:
            number = float(grade)
        except ValueError:
            fail(f"--grade: expected a score such as 0.7 after '=', got {grade!r}")
        grades[ref.strip()] = (number, rationale.strip()) if colon else number
    return grades


@cycle.command("close")
@click.argument("cycle_ref", metavar="CYCLE")
@click.option(
    "--grade",
    "grades",
    multiple=True,
    metavar="KR=SCORE[:WHY]",
    help="Override a key result's suggested grade (0.0 to 1.0), with the reason. Repeatable.",
)
@json_option
@with_session
def cycle_close(sess: Session, cycle_ref: str, grades: tuple[str, ...], as_json: bool) -> None:
    """Close an active cycle: grade every key result and close its objectives.

    Each key result gets the suggested grade (its attainment, clamped to 0..1,
    rounded half up to 0.1) unless --grade overrides it with a reason. See
    `okra scorecard` before and after. Carry unfinished objectives on with
    `okra objective continue`.
    """
    closed = sess.okra.close_cycle(cycle_ref, actor=sess.actor, grades=_grades(grades))
    _done(
        sess, as_json, closed, f"closed cycle {closed.name}; see `okra scorecard {closed.short_id}`"
    )


# --- objectives -------------------------------------------------------------------------


@click.group(cls=OkraGroup)
def objective() -> None:
    """Draft, align, activate, close and continue objectives."""


@objective.command("draft")
@click.argument("title")
@click.option("--cycle", "cycle_ref", required=True, help="The cycle it belongs to.")
@click.option("--owner", required=True, help="Who owns it (a person or team).")
@click.option("--kind", type=_choice(ObjectiveKind), default="committed", show_default=True)
@click.option("--description", default="", help="Why it matters.")
@click.option("--rollup", type=_choice(RollupPolicy), default="mean", show_default=True)
@json_option
@with_session
def objective_draft(
    sess: Session,
    title: str,
    cycle_ref: str,
    owner: str,
    kind: str,
    description: str,
    rollup: str,
    as_json: bool,
) -> None:
    """Draft an objective TITLE in a cycle."""
    drafted = sess.okra.draft_objective(
        title,
        cycle=cycle_ref,
        owner=owner,
        kind=kind,
        description=description,
        rollup=rollup,
        actor=sess.actor,
    )
    _done(
        sess,
        as_json,
        drafted,
        f"{drafted.status.value} objective {drafted.title} ({drafted.short_id})",
    )


@objective.command("revise")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--title", default=None)
@click.option("--description", default=None)
@json_option
@with_session
def objective_revise(
    sess: Session, objective_ref: str, title: str | None, description: str | None, as_json: bool
) -> None:
    """Reword an objective."""
    if title is None and description is None:
        fail("nothing to change: give --title and/or --description")
    revised = sess.okra.revise_objective(
        objective_ref, title=title, description=description, actor=sess.actor
    )
    _done(sess, as_json, revised, f"revised objective {revised.title}")


@objective.command("reassign")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--owner", required=True)
@json_option
@with_session
def objective_reassign(sess: Session, objective_ref: str, owner: str, as_json: bool) -> None:
    """Give an objective to another owner."""
    moved = sess.okra.reassign_objective(objective_ref, owner=owner, actor=sess.actor)
    _done(sess, as_json, moved, f"objective {moved.title} is now owned by {moved.owner}")


def _lifecycle(name: str, verb: str, doc: str) -> None:
    @objective.command(name, help=doc)
    @click.argument("objective_ref", metavar="OBJECTIVE")
    @json_option
    @with_session
    def command(sess: Session, objective_ref: str, as_json: bool) -> None:
        method = getattr(sess.okra, f"{name}_objective")
        changed = method(objective_ref, actor=sess.actor)
        _done(sess, as_json, changed, f"{verb} objective {changed.title}")


_lifecycle("activate", "activated", "Activate a drafted objective: check-ins can start.")
_lifecycle("close", "closed", "Close an active objective before its cycle ends.")


@objective.command("abandon")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--reason", required=True, help="Why it is dropped (kept in the history).")
@json_option
@with_session
def objective_abandon(sess: Session, objective_ref: str, reason: str, as_json: bool) -> None:
    """Abandon an objective, saying why; it is listed but never scored."""
    dropped = sess.okra.abandon_objective(objective_ref, reason=reason, actor=sess.actor)
    _done(sess, as_json, dropped, f"abandoned objective {dropped.title}")


@objective.command("align")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--to", "parent", required=True, help="The parent objective or key result.")
@click.option("--link", type=_choice(AlignmentLink), default="contributes", show_default=True)
@click.option("--weight", type=NUMBER, default=1.0, show_default=True)
@json_option
@with_session
def objective_align(
    sess: Session, objective_ref: str, parent: str, link: str, weight: float, as_json: bool
) -> None:
    """Link an objective to a parent objective or key result.

    A `contributes` link counts in the parent's progress with --weight; a
    `supports` link is shown but not counted.
    """
    aligned = sess.okra.align(
        objective_ref, parent=parent, link=link, weight=weight, actor=sess.actor
    )
    _done(sess, as_json, aligned, f"aligned objective {aligned.title} ({link})")


@objective.command("unalign")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--from", "parent", required=True, help="The parent to unlink from.")
@json_option
@with_session
def objective_unalign(sess: Session, objective_ref: str, parent: str, as_json: bool) -> None:
    """Remove an objective's link to a parent."""
    changed = sess.okra.unalign(objective_ref, parent=parent, actor=sess.actor)
    _done(sess, as_json, changed, f"unlinked objective {changed.title}")


@objective.command("continue")
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.option("--into", "cycle_ref", required=True, help="The later cycle.")
@click.option("--mode", type=_choice(ContinuationMode), default="carry_over", show_default=True)
@json_option
@with_session
def objective_continue(
    sess: Session, objective_ref: str, cycle_ref: str, mode: str, as_json: bool
) -> None:
    """Continue an objective into a later cycle, as a new draft linked to it.

    carry_over takes the key results not met yet (the rest of the way is the new
    goal); clone takes all of them afresh; extend keeps counting from the
    original baseline.
    """
    new = sess.okra.continue_objective(objective_ref, cycle=cycle_ref, mode=mode, actor=sess.actor)
    _done(sess, as_json, new, f"continued as {new.title} ({new.short_id}), a draft")


# --- key results -------------------------------------------------------------------------


def metric_options(f: Any) -> Any:
    """The options that define a metric, shared by `kr add` and `kr retarget`."""
    options = [
        click.option(
            "--metric",
            "metric_kind",
            type=click.Choice(["change", "stay_above", "stay_below", "range", "milestone"]),
            default=None,
            help="How it is measured [default: change].",
        ),
        click.option(
            "--baseline",
            type=NUMBER,
            default=None,
            help="change: the starting value (omit: to be measured).",
        ),
        click.option("--target", type=NUMBER, default=None, help="change: the value to reach."),
        click.option(
            "--commit",
            "commit_level",
            type=NUMBER,
            default=None,
            help="change: the committed level (scores 0.7).",
        ),
        click.option(
            "--stretch", type=NUMBER, default=None, help="change: the stretch level (scores 1.3)."
        ),
        click.option(
            "--threshold",
            type=NUMBER,
            default=None,
            help="stay_above/stay_below: the line to hold.",
        ),
        click.option(
            "--exclusive", is_flag=True, help="stay_above/stay_below: the threshold itself fails."
        ),
        click.option("--low", type=NUMBER, default=None, help="range: lowest good value."),
        click.option("--high", type=NUMBER, default=None, help="range: highest good value."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


_METRIC_FIELDS = ("baseline", "target", "commit_level", "stretch", "threshold", "low", "high")


def build_metric(kind: str | None, values: dict[str, Any]) -> Metric:
    """A metric from the options; missing or stray options are named."""
    kind = kind or "change"
    needs = {
        "change": ("target",),
        "stay_above": ("threshold",),
        "stay_below": ("threshold",),
        "range": ("low", "high"),
        "milestone": (),
    }[kind]
    allowed = {
        "change": {"baseline", "target", "commit_level", "stretch"},
        "stay_above": {"threshold", "exclusive"},
        "stay_below": {"threshold", "exclusive"},
        "range": {"low", "high"},
        "milestone": set(),
    }[kind]
    problems = [
        f"--{n.replace('_level', '')}: required for a {kind} metric"
        for n in needs
        if values.get(n) is None
    ]
    problems += [
        f"--{n.replace('_level', '')}: not used by a {kind} metric"
        for n in (*_METRIC_FIELDS, "exclusive")
        if n not in allowed and values.get(n) not in (None, False)
    ]
    if problems:
        fail("invalid metric:\n  " + "\n  ".join(problems))
    try:
        if kind == "change":
            return Change(
                baseline=values["baseline"],
                target=values["target"],
                commit=values["commit_level"],
                stretch=values["stretch"],
            )
        if kind in ("stay_above", "stay_below"):
            cls = StayAbove if kind == "stay_above" else StayBelow
            return cls(threshold=values["threshold"], inclusive=not values["exclusive"])
        if kind == "range":
            return Range(low=values["low"], high=values["high"])
        return Milestone()
    except ValidationError as exc:
        fail("invalid metric:\n  " + "\n  ".join(f"--{e.path}: {e.message}" for e in exc.errors))


@click.group("kr", cls=OkraGroup)
def key_result() -> None:
    """Add key results and move their baselines, targets and weights."""


_KR_ADD_HELP = """Add a key result TITLE to an objective.

\b
Metrics:
  change      from --baseline to --target (up or down); optional --commit, --stretch;
              leave out --baseline if it is still to be measured (okra kr baseline)
  stay_above  keep the value at or above --threshold (--exclusive: above it)
  stay_below  keep the value at or below --threshold
  range       keep the value between --low and --high
  milestone   done (1) or not (0)
"""


@key_result.command("add", help=_KR_ADD_HELP)
@click.argument("objective_ref", metavar="OBJECTIVE")
@click.argument("title")
@metric_options
@click.option("--unit", default="", help="The unit of its values (h, %, users).")
@click.option("--weight", type=NUMBER, default=1.0, show_default=True)
@click.option("--owner", default=None, help="Who reports on it [default: the objective's owner].")
@json_option
@with_session
def kr_add(
    sess: Session,
    objective_ref: str,
    title: str,
    unit: str,
    weight: float,
    owner: str | None,
    as_json: bool,
    metric_kind: str | None,
    **values: Any,
) -> None:
    """Add a key result TITLE to an objective (see --help for the metrics)."""
    metric = build_metric(metric_kind, values)
    added = sess.okra.add_key_result(
        objective_ref, title, metric=metric, unit=unit, weight=weight, owner=owner, actor=sess.actor
    )
    _done(
        sess,
        as_json,
        added,
        f"added key result {added.title} ({added.short_id}): {added.metric.describe(added.unit)}",
    )


@key_result.command("baseline", context_settings=_NUMBERS)
@click.argument("kr_ref", metavar="KEY_RESULT")
@click.argument("baseline", type=NUMBER)
@click.option("--reason", default=None, help="Needed to replace a baseline already measured.")
@json_option
@with_session
def kr_baseline(
    sess: Session, kr_ref: str, baseline: float, reason: str | None, as_json: bool
) -> None:
    """Set a key result's measured baseline (or, with --reason, replace it)."""
    if reason is None:
        changed = sess.okra.measure_baseline(kr_ref, baseline=baseline, actor=sess.actor)
    else:
        changed = sess.okra.rebaseline(kr_ref, baseline=baseline, reason=reason, actor=sess.actor)
    _done(sess, as_json, changed, f"{changed.title}: {changed.metric.describe(changed.unit)}")


@key_result.command("retarget")
@click.argument("kr_ref", metavar="KEY_RESULT")
@metric_options
@click.option("--reason", required=True, help="Why the goalposts move (kept in the history).")
@json_option
@with_session
def kr_retarget(
    sess: Session, kr_ref: str, reason: str, as_json: bool, metric_kind: str | None, **values: Any
) -> None:
    """Move a key result's target (--target alone), or redefine its metric."""
    only_target = (
        metric_kind is None
        and all(values.get(n) in (None, False) for n in _METRIC_FIELDS if n != "target")
        and not values.get("exclusive")
    )
    if only_target:
        if values.get("target") is None:
            fail("nothing to change: give --target, or a whole metric with --metric")
        changed = sess.okra.retarget(
            kr_ref, target=values["target"], reason=reason, actor=sess.actor
        )
    else:
        changed = sess.okra.retarget(
            kr_ref, metric=build_metric(metric_kind, values), reason=reason, actor=sess.actor
        )
    _done(sess, as_json, changed, f"{changed.title}: {changed.metric.describe(changed.unit)}")


@key_result.command("reweight", context_settings=_NUMBERS)
@click.argument("kr_ref", metavar="KEY_RESULT")
@click.argument("weight", type=NUMBER)
@click.option("--reason", default="")
@json_option
@with_session
def kr_reweight(sess: Session, kr_ref: str, weight: float, reason: str, as_json: bool) -> None:
    """Change a key result's weight in its objective's progress."""
    changed = sess.okra.reweight(kr_ref, weight=weight, reason=reason, actor=sess.actor)
    _done(sess, as_json, changed, f"{changed.title}: weight {changed.weight:g}")


# --- check-ins ------------------------------------------------------------------------------


@click.command("checkin", cls=OkraCommand, context_settings=_NUMBERS)
@click.argument("kr_ref", metavar="KEY_RESULT")
@click.argument("value", nargs=-1, required=True, metavar="VALUE")
@click.option(
    "-c", "--confidence", default=None, help="On the playbook's scale: 7, 70, 0.7, amber, high."
)
@click.option("-m", "--narrative", default="", help="What happened, in a sentence or two.")
@click.option(
    "--at",
    "effective_at",
    type=WHEN,
    default=None,
    help="When it was true (backdating); a date means that day.",
)
@click.option("--source", type=_choice(CheckInSource), default="manual", show_default=True)
@json_option
@with_session
def checkin(
    sess: Session,
    kr_ref: str,
    value: tuple[str, ...],
    confidence: str | None,
    narrative: str,
    effective_at: date | datetime | None,
    source: str,
    as_json: bool,
) -> None:
    """Record a key result's VALUE now (or --at an earlier time).

    VALUE is a number in the key result's unit (42, 1,250, or 42% when it is
    measured in %), or for a milestone done / not done.
    """
    okra = sess.okra
    target = okra.key_result(kr_ref)
    number = parse_value(" ".join(value), metric=target.metric, unit=target.unit)
    at = instant(effective_at, okra.clock.now()) if effective_at is not None else None
    recorded = okra.check_in(
        target,
        value=number,
        confidence=confidence_value(confidence),
        narrative=narrative,
        effective_at=at,
        source=source,
        actor=sess.actor,
    )
    _done(sess, as_json, recorded, _checked_in(okra, recorded, number))
    _warn_about(okra, recorded)


def _warn_about(okra: Okra, recorded: CheckIn) -> None:
    """Say on stderr what looks wrong about a recorded check-in (it stays recorded)."""
    try:
        key_result = okra.key_result(recorded.key_result_id)
        cycle = okra.cycle(okra.objective(key_result.objective_id).cycle_id)
    except OkraError:
        return
    for warning in check_in_warnings(key_result, cycle, recorded):
        click.echo(f"warning: {warning}", err=True)


def _checked_in(okra: Okra, recorded: CheckIn, value: float) -> str:
    """The line after a check-in: the new attainment and pace, if they can be read."""
    try:
        progress = okra.key_result_progress(recorded.key_result_id)
    except OkraError:  # the check-in is recorded; only the summary is missing
        return f"checked in {value:g} ({recorded.id.hex[:8]})"
    unit = f" {progress.unit}" if progress.unit else ""
    return (
        f"checked in {progress.title}: {value:g}{unit} ({recorded.id.hex[:8]}); "
        f"attainment {pct(progress.attainment)}, {progress.pace_status.value.replace('_', ' ')}"
    )


@click.command("correct", cls=OkraCommand)
@click.argument("check_in_ref", metavar="CHECK_IN")
@click.option("--reason", required=True, help="Why the check-in was wrong.")
@click.option("--value", type=NUMBER, default=None)
@click.option("-c", "--confidence", default=None)
@click.option("-m", "--narrative", default=None)
@click.option("--at", "effective_at", type=WHEN, default=None)
@json_option
@with_session
def correct(
    sess: Session,
    check_in_ref: str,
    reason: str,
    value: float | None,
    confidence: str | None,
    narrative: str | None,
    effective_at: date | datetime | None,
    as_json: bool,
) -> None:
    """Correct a check-in (by its id prefix); the original stays in the history."""
    changes: dict[str, Any] = {}
    if value is not None:
        changes["value"] = value
    if confidence is not None:
        changes["confidence"] = confidence_value(confidence)
    if narrative is not None:
        changes["narrative"] = narrative
    if effective_at is not None:
        changes["effective_at"] = instant(effective_at, sess.okra.clock.now())
    if not changes:
        fail("nothing to correct: give --value, --confidence, --narrative or --at")
    fixed = sess.okra.correct_check_in(check_in_ref, reason=reason, actor=sess.actor, **changes)
    _done(sess, as_json, fixed, f"corrected check-in {fixed.id.hex[:8]}")


@click.command("retract", cls=OkraCommand)
@click.argument("check_in_ref", metavar="CHECK_IN")
@click.option("--reason", required=True)
@json_option
@with_session
def retract(sess: Session, check_in_ref: str, reason: str, as_json: bool) -> None:
    """Withdraw a check-in; it stays in the history but no longer counts."""
    kr = sess.okra.retract_check_in(check_in_ref, reason=reason, actor=sess.actor)
    _done(sess, as_json, kr, f"retracted a check-in of {kr.title}")


# --- actions and tasks ------------------------------------------------------------------------


@click.group(cls=OkraGroup)
def action() -> None:
    """Propose, place and resolve actions: bets on moving key results."""


def _effects(sess: Session, values: Sequence[str]) -> list[ExpectedEffect]:
    effects = []
    for value in values:
        ref, sep, rest = value.partition("=")
        change, _, note = rest.partition(":")
        if not sep:
            fail(
                f"--expect: expected KEY_RESULT=CHANGE[:NOTE] such as 'p95=-4:cache', got {value!r}"
            )
        try:
            amount = float(change)
        except ValueError:
            fail(f"--expect: expected a signed number after '=', got {change!r}")
        kr = sess.okra.key_result(ref.strip())
        effects.append(ExpectedEffect(key_result_id=kr.id, change=amount, note=note.strip()))
    return effects


@action.command("propose")
@click.argument("title")
@click.option(
    "--kr",
    "key_results",
    multiple=True,
    required=True,
    help="A key result it should move. Repeatable.",
)
@click.option("--hypothesis", required=True, help="We believe that ... will ... because ...")
@click.option("--owner", required=True)
@click.option("--effort", type=NUMBER, required=True, help="How much it costs in effort.")
@click.option("--effort-unit", default="person-days", show_default=True)
@click.option("--cost", type=NUMBER, default=None, help="Money, if any.")
@click.option("--currency", default="")
@click.option(
    "--expect",
    "expected",
    multiple=True,
    metavar="KR=CHANGE[:NOTE]",
    help="Expected effect on a key result. Repeatable.",
)
@click.option("--odds", type=NUMBER, default=None, help="Probability it works, 0..1.")
@click.option("--kill-criteria", default="", help="When to stop it.")
@json_option
@with_session
def action_propose(
    sess: Session,
    title: str,
    key_results: tuple[str, ...],
    hypothesis: str,
    owner: str,
    effort: float,
    effort_unit: str,
    cost: float | None,
    currency: str,
    expected: tuple[str, ...],
    odds: float | None,
    kill_criteria: str,
    as_json: bool,
) -> None:
    """Propose an action TITLE: a bet on moving key results."""
    investment = Investment(effort=effort, effort_unit=effort_unit, cost=cost, currency=currency)
    proposed = sess.okra.propose_action(
        title,
        key_results=list(key_results),
        hypothesis=hypothesis,
        owner=owner,
        investment=investment,
        expected_effects=_effects(sess, expected),
        odds=odds,
        kill_criteria=kill_criteria,
        actor=sess.actor,
    )
    _done(
        sess,
        as_json,
        proposed,
        f"{proposed.status.value} action {proposed.title} ({proposed.short_id})",
    )


@action.command("place")
@click.argument("action_ref", metavar="ACTION")
@json_option
@with_session
def action_place(sess: Session, action_ref: str, as_json: bool) -> None:
    """Place a proposed bet: work on it starts."""
    placed = sess.okra.place_action(action_ref, actor=sess.actor)
    _done(sess, as_json, placed, f"placed action {placed.title}")


@action.command("resolve")
@click.argument("action_ref", metavar="ACTION")
@click.argument("outcome", type=_choice(Outcome))
@click.option("--learning", required=True, help="What the team learned.")
@click.option("--evidence", multiple=True, help="A link or note backing it. Repeatable.")
@json_option
@with_session
def action_resolve(
    sess: Session,
    action_ref: str,
    outcome: str,
    learning: str,
    evidence: tuple[str, ...],
    as_json: bool,
) -> None:
    """Settle a bet as validated, invalidated, inconclusive or abandoned."""
    settled = sess.okra.resolve_action(
        action_ref, outcome=outcome, learning=learning, evidence=list(evidence), actor=sess.actor
    )
    _done(sess, as_json, settled, f"resolved action {settled.title}: {outcome}")


@click.group(cls=OkraGroup)
def task() -> None:
    """Small steps under an action: add, done, reopen (quick capture)."""


@task.command("add")
@click.argument("action_ref", metavar="ACTION")
@click.argument("title")
@json_option
@with_session
def task_add(sess: Session, action_ref: str, title: str, as_json: bool) -> None:
    """Add a task TITLE under an action: `okra task add cache "Add Redis"`."""
    added = sess.okra.add_task(action_ref, title, actor=sess.actor)
    _done(sess, as_json, added, f"added task {added.title} ({added.id.hex[:8]})")


@task.command("done")
@click.argument("task_ref", metavar="TASK")
@json_option
@with_session
def task_done(sess: Session, task_ref: str, as_json: bool) -> None:
    """Mark a task done (by id prefix or exact title)."""
    finished = sess.okra.complete_task(task_ref, actor=sess.actor)
    _done(sess, as_json, finished, f"done: {finished.title}")


@task.command("reopen")
@click.argument("task_ref", metavar="TASK")
@json_option
@with_session
def task_reopen(sess: Session, task_ref: str, as_json: bool) -> None:
    """Open a done task again."""
    reopened = sess.okra.reopen_task(task_ref, actor=sess.actor)
    _done(sess, as_json, reopened, f"reopened: {reopened.title}")


# --- the playbook ------------------------------------------------------------------


@click.group(cls=OkraGroup)
def playbook() -> None:
    """Show or change the organisation's OKR rules."""


@playbook.command("show")
@as_of_options
@json_option
@with_session
def playbook_show(sess: Session, as_of: When, as_known_at: When, as_json: bool) -> None:
    """The rules in force (or in force then): cadence, confidence scale, pace bands, scoring."""
    current = sess.okra.playbook
    if as_of is not None or as_known_at is not None:
        then = sess.okra.state(current, as_of=as_of, as_known_at=as_known_at)
        assert isinstance(then, Playbook)
        current = then
    data = to_data(current.settings)
    if as_json:
        click.echo(dumps(data))
        return
    for key, value in _flatten(data):
        click.echo(f"{key} = {json.dumps(value)}")


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            found += _flatten(value, f"{prefix}{key}.")
        else:
            found.append((prefix + key, value))
    return found


@playbook.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@click.option("--reason", required=True, help="Why the rules change (kept in the history).")
@json_option
@with_session
def playbook_set(sess: Session, assignments: tuple[str, ...], reason: str, as_json: bool) -> None:
    """Change rules, e.g. `okra playbook set check_in_cadence_days=14 pace_bands.at_risk=0.5`.

    Names are those `okra playbook show` prints.
    """
    current = sess.okra.playbook.settings
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep:
            fail(f"expected NAME=VALUE, got {assignment!r}")
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        head, dot, field = name.strip().partition(".")
        if dot:
            nested = changes.get(head, getattr(current, head, None))
            if nested is None or not attrs.has(type(nested)):
                fail(f"{name}: {head!r} is not a group of settings", ExitCode.INVALID)
            known = [f.name for f in attrs.fields(type(nested))]
            if field not in known:
                fail(f"{name}: not a setting of {head}; expected one of {', '.join(known)}")
            try:
                changes[head] = attrs.evolve(nested, **{field: value})
            except ValidationError as exc:
                fail(f"{name}: {'; '.join(e.message for e in exc.errors)}")
        else:
            changes[head] = value
    revised = sess.okra.revise_playbook(reason=reason, actor=sess.actor, **changes)
    _done(sess, as_json, revised, f"playbook revised (version {revised.version})")


def register(group: click.Group) -> None:
    """Add the writing commands to ``group``."""
    for command in (
        cycle,
        objective,
        key_result,
        checkin,
        correct,
        retract,
        action,
        task,
        playbook,
    ):
        group.add_command(command)
