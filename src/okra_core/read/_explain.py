"""Why is this figure what it is: the formula, its terms and the events behind them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ..domain._cycle import Cycle
from ..domain._events import (
    BaselineMeasured,
    CheckInCorrected,
    CheckInRecorded,
    Event,
    KeyResultDefined,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
)
from ..domain._key_result import KeyResult
from ..domain._metrics import Change
from ..domain._objective import Objective
from ..domain._values import RollupPolicy
from ._audit import LogEntry, log_entry
from ._progress import cycle_progress, objective_progress
from ._world import World

__all__ = ["Explanation", "Term", "explain_cycle", "explain_key_result", "explain_objective"]

EventsOf = Callable[[UUID], Sequence[Event]]
"""The events of an entity, oldest first, as known in the world being explained."""


@attrs.frozen(kw_only=True)
class Term:
    """One input of a formula.

    Attributes:
        name: the symbol or item (``s``, ``t``, ``c``, or a key result's title).
        value: its value (None if undefined).
        weight: its weight in a rollup (None outside rollups).
        counted: whether it entered the figure.
        note: where it comes from, in words.
        source_id: the entity it comes from.
    """

    name: str
    value: float | None
    weight: float | None = None
    counted: bool = True
    note: str = ""
    source_id: UUID | None = None


@attrs.frozen(kw_only=True)
class Explanation:
    """A figure, the formula that produced it with the numbers filled in, and its sources.

    Attributes:
        entity_id, entity_kind, entity_label: what the figure is about.
        figure: ``attainment`` (a key result) or ``progress`` (an objective).
        value: the figure (None if undefined).
        formula: the rule, with the numbers put in.
        terms: the inputs of the formula.
        events: the recorded events the terms come from, oldest first.
        at, known_at: the instant explained, and what was known (None: everything).
    """

    entity_id: UUID
    entity_kind: str
    entity_label: str
    figure: str
    value: float | None
    formula: str
    terms: tuple[Term, ...]
    events: tuple[LogEntry, ...]
    at: datetime
    known_at: datetime | None


def explain_key_result(world: World, key_result: KeyResult, events_of: EventsOf) -> Explanation:
    """Why a key result's attainment is what it is."""
    attainment = key_result.attainment()
    metric = key_result.metric
    latest = key_result.latest
    terms: list[Term] = []
    if isinstance(metric, Change):
        terms.append(Term(name="s", value=metric.baseline, note="baseline"))
        terms.append(Term(name="t", value=metric.target, note="target"))
        if metric.commit is not None:
            terms.append(Term(name="commit", value=metric.commit, note="commit level (p = 0.7)"))
        if metric.stretch is not None:
            terms.append(Term(name="stretch", value=metric.stretch, note="stretch level (p = 1.3)"))
    if latest is not None:
        note = f"latest check-in, effective {latest.effective_at:%Y-%m-%d %H:%M} UTC"
        terms.append(Term(name="c", value=latest.value, note=note, source_id=latest.id))
    formula = _key_result_formula(key_result, attainment.value)
    wanted = _definition_events(events_of(key_result.id), key_result)
    return Explanation(
        entity_id=key_result.id,
        entity_kind=str(key_result.entity_kind),
        entity_label=key_result.label,
        figure="attainment",
        value=attainment.value,
        formula=f"{formula} ({attainment.reason})",
        terms=tuple(terms),
        events=tuple(log_entry(event, key_result.label) for event in wanted),
        at=world.at,
        known_at=world.known_at,
    )


def _key_result_formula(key_result: KeyResult, value: float | None) -> str:
    metric, latest = key_result.metric, key_result.latest
    shown = "undefined" if value is None else f"{value:.4g}"
    if (
        isinstance(metric, Change)
        and metric.baseline is not None
        and latest is not None
        and metric.commit is None
        and metric.stretch is None
    ):
        s, t, c = metric.baseline, metric.target, latest.value
        return f"p = (c - s) / (t - s) = ({c:g} - {s:g}) / ({t:g} - {s:g}) = {shown}"
    if isinstance(metric, Change):
        return f"p = piecewise through s, commit, t and stretch = {shown}"
    return f"p = {metric.kind} rule = {shown}"


def _definition_events(events: Sequence[Event], key_result: KeyResult) -> list[Event]:
    """The events behind a key result's figure.

    The last event that set each part of its metric and weight, and the latest
    check-in's recording and corrections.
    """
    latest_id = key_result.latest.id if key_result.latest else None
    chosen: dict[str, Event] = {}
    corrections: list[Event] = []
    for event in events:
        match event:
            case KeyResultDefined():
                chosen["defined"] = event
            case BaselineMeasured() | KeyResultRebaselined():
                chosen["baseline"] = event
            case KeyResultRetargeted():
                chosen["target"] = event
            case KeyResultReweighted():
                chosen["weight"] = event
            case CheckInRecorded(check_in_id=check_in_id) if check_in_id == latest_id:
                chosen["check_in"] = event
            case CheckInCorrected(check_in_id=check_in_id) if check_in_id == latest_id:
                corrections.append(event)
    picked = [*chosen.values(), *corrections]
    return sorted(picked, key=lambda e: e.originator_version)


def explain_objective(world: World, objective: Objective, events_of: EventsOf) -> Explanation:
    """Why an objective's progress is what it is: its rollup, item by item."""
    progress = objective_progress(world, objective)
    terms = tuple(
        Term(
            name=item.title,
            value=item.value,
            weight=item.weight,
            counted=item.counted,
            note=(
                "clamped attainment of a key result"
                if item.link is None
                else f"progress of an objective that {item.link} (link weight)"
            ),
            source_id=item.id,
        )
        for item in progress.contributions
    )
    entries: list[LogEntry] = []
    for key_result in world.key_results(objective.id):
        label = key_result.label
        entries += [
            log_entry(e, label) for e in _definition_events(events_of(key_result.id), key_result)
        ]
    entries.sort(key=lambda entry: (entry.recorded_at, str(entry.entity_id), entry.version))
    return _rollup(
        world,
        objective,
        progress.rollup,
        progress.progress,
        terms,
        "item(s) without a value",
        entries,
    )


def _rollup(
    world: World,
    entity: Objective | Cycle,
    policy: RollupPolicy,
    value: float | None,
    terms: tuple[Term, ...],
    missing: str,
    events: Sequence[LogEntry],
) -> Explanation:
    """The explanation of a rolled-up progress: the policy's formula over its terms."""
    counted = [t for t in terms if t.counted and t.value is not None]
    shown = "undefined" if value is None else f"{value:.4g}"
    formula = f"{_rollup_formula(policy, counted)} = {shown}"
    if len(counted) < len(terms):
        formula += f"; {len(terms) - len(counted)} {missing} left out"
    return Explanation(
        entity_id=entity.id,
        entity_kind=str(entity.entity_kind),
        entity_label=entity.label,
        figure="progress",
        value=value,
        formula=formula,
        terms=terms,
        events=tuple(events),
        at=world.at,
        known_at=world.known_at,
    )


def _rollup_formula(policy: RollupPolicy, counted: Sequence[Term]) -> str:
    if not counted:
        return f"{policy} of no defined items"
    if policy is RollupPolicy.MIN:
        return "min(" + ", ".join(f"{t.value:.4g}" for t in counted) + ")"
    products = " + ".join(f"{t.weight:g} x {t.value:.4g}" for t in counted)
    if policy is RollupPolicy.SUM:
        return f"min(1, {products})"
    weights = " + ".join(f"{t.weight:g}" for t in counted)
    return f"({products}) / ({weights})"


def explain_cycle(world: World, cycle: Cycle) -> Explanation:
    """Why a cycle's progress is what it is: the plain mean of its objectives' progress.

    The events are not listed here (ask for an objective's explanation for those).
    """
    progress = cycle_progress(world, cycle)
    terms = tuple(
        Term(
            name=item.title,
            value=item.progress,
            weight=1.0,
            counted=item.progress is not None,
            note=f"progress of an objective owned by {item.owner}",
            source_id=item.objective_id,
        )
        for item in progress.objectives
    )
    missing = "objective(s) without progress"
    return _rollup(world, cycle, RollupPolicy.MEAN, progress.progress, terms, missing, ())
