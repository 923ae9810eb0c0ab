"""The bets ledger and calibration: what was tried, what it did, how well people forecast.

Both are pure projections of a :class:`~okra_core.read._world.World`.

**Bets ledger.** Every action (a bet) with its investment, odds, expected effects
and the *observed* effect on each key result it serves: the key result's value
when the bet ended (resolved, or ``world.at`` if still open) minus its value when
the bet was placed. A value at an instant is that of the latest check-in
effective by then. Hit rate per owner is ``validated / (validated +
invalidated)``; inconclusive and abandoned bets are counted but not rated.
Learnings of resolved bets are carried to the next cycle.

**Calibration.** Every confidence stated on a check-in of a key result that has
been graded is a forecast that the key result would be met; the outcome is 1 if
its attainment at close was at least 1, else 0. The Brier score of an owner is
the mean of ``(p - o)^2`` over their forecasts: 0 is perfect, 0.25 is what
always saying 50% scores, 1 is always certain and always wrong.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ..domain._action import Action
from ..domain._cycle import Cycle
from ..domain._key_result import KeyResult
from ..domain._objective import Objective
from ..domain._values import ActionStatus, Investment, Outcome
from ._world import World

__all__ = [
    "BIN_EDGES",
    "BetEffect",
    "BetEntry",
    "BetsLedger",
    "Calibration",
    "CarriedLearning",
    "ConfidenceForecast",
    "OwnerCalibration",
    "OwnerHitRate",
    "ReliabilityBin",
    "bets_ledger",
    "brier_score",
    "calibrate",
    "calibration",
    "final_outcome",
    "next_cycle",
]

BIN_EDGES: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Edges of the reliability bins: ``[0, 0.2)``, ``[0.2, 0.4)``, ... ``[0.8, 1.0]``."""


# --- bets ledger ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BetEffect:
    """What a bet was expected to do to one key result, and what the key result did.

    Attributes:
        key_result_id, key_result_title, unit: the key result.
        expected_change: the expected movement of its value (``None`` if the bet
            stated none for this key result).
        note: the note of the expected effect.
        start_value: its value when the bet was placed (``None`` if never placed
            or no check-in was effective by then).
        end_value: its value when the bet was resolved, or at ``at`` if still
            open (``None`` if never placed or no check-in was effective by then).
        observed_change: ``end_value - start_value`` (``None`` if either is).
        as_expected: whether the observed change went the expected direction
            (same sign, non-zero); ``None`` when either change is undefined or
            the expected change is 0.
    """

    key_result_id: UUID
    key_result_title: str
    unit: str
    expected_change: float | None
    note: str
    start_value: float | None
    end_value: float | None
    observed_change: float | None
    as_expected: bool | None


@attrs.frozen(kw_only=True)
class BetEntry:
    """One action in the ledger.

    Attributes:
        action_id, title, owner: the action.
        status: proposed, placed, validated, invalidated, inconclusive or abandoned.
        outcome: how it resolved (``None`` while unresolved).
        hypothesis, kill_criteria: as stated.
        investment: effort (and cost) put in.
        odds: the stated probability it pays off, if given.
        placed_at, resolved_at: when it started and ended (``None`` if not yet).
        effects: per key result served: expected and observed effect.
        learning, evidence: what was learnt, and where to see it.
    """

    action_id: UUID
    title: str
    owner: str
    status: ActionStatus
    outcome: Outcome | None
    hypothesis: str
    kill_criteria: str
    investment: Investment
    odds: float | None
    placed_at: datetime | None
    resolved_at: datetime | None
    effects: tuple[BetEffect, ...]
    learning: str
    evidence: tuple[str, ...]


@attrs.frozen(kw_only=True)
class OwnerHitRate:
    """How one owner's bets turned out.

    Attributes:
        owner: the owner of the actions.
        bets: every bet of theirs in the ledger.
        open: proposed or placed, not resolved yet.
        validated, invalidated, inconclusive, abandoned: resolved bets by outcome.
        hit_rate: ``validated / (validated + invalidated)``; ``None`` with no
            settled (validated or invalidated) bet.
    """

    owner: str
    bets: int
    open: int
    validated: int
    invalidated: int
    inconclusive: int
    abandoned: int
    hit_rate: float | None


@attrs.frozen(kw_only=True)
class CarriedLearning:
    """A learning of a resolved bet, for the next cycle's planning.

    Attributes:
        action_id, action_title, owner, outcome, learning: the bet and what it taught.
        key_result_ids, key_result_titles: the key results it served.
        from_cycle_id, from_cycle_name: the cycle it was learnt in.
        to_cycle_id, to_cycle_name: the next cycle it carries to (``None`` if no
            later cycle exists yet).
    """

    action_id: UUID
    action_title: str
    owner: str
    outcome: Outcome
    learning: str
    key_result_ids: tuple[UUID, ...]
    key_result_titles: tuple[str, ...]
    from_cycle_id: UUID | None
    from_cycle_name: str | None
    to_cycle_id: UUID | None
    to_cycle_name: str | None


@attrs.frozen(kw_only=True)
class BetsLedger:
    """Every bet in scope, hit rates per owner, and the learnings to carry.

    Attributes:
        at: the instant described.
        cycle_id, cycle_name: the cycle asked about (``None``: all cycles).
        owner: the action owner asked about (``None``: everyone).
        entries: the bets, in the order they were proposed.
        owners: hit rates per owner, sorted by owner.
        hit_rate: the hit rate over every entry (``None`` with no settled bet).
        learnings: the learnings of the resolved bets, in the order resolved.
    """

    at: datetime
    cycle_id: UUID | None
    cycle_name: str | None
    owner: str | None
    entries: tuple[BetEntry, ...]
    owners: tuple[OwnerHitRate, ...]
    hit_rate: float | None
    learnings: tuple[CarriedLearning, ...]


def bets_ledger(world: World, *, cycle: Cycle | None, owner: str | None) -> BetsLedger:
    """The ledger of bets at ``world.at``.

    Args:
        world: the entities at the instant described.
        cycle: only actions serving a key result of an objective of this cycle.
        owner: only actions with this owner.
    """
    actions = [
        a
        for a in world.actions()
        if (owner is None or a.owner == owner)
        and (cycle is None or any(c.id == cycle.id for c in _cycles_of(world, a)))
    ]
    entries = tuple(_entry(world, a) for a in actions)
    names = sorted({a.owner for a in actions})
    resolved = sorted(
        (a for a in actions if a.resolved_at is not None),
        key=lambda a: (a.resolved_at, a.title, a.id.hex),
    )
    return BetsLedger(
        at=world.at,
        cycle_id=cycle.id if cycle is not None else None,
        cycle_name=cycle.name if cycle is not None else None,
        owner=owner,
        entries=entries,
        owners=tuple(_hit_rate(n, [e for e in entries if e.owner == n]) for n in names),
        hit_rate=_hit_rate("", entries).hit_rate,
        learnings=tuple(_learning(world, a, cycle) for a in resolved),
    )


def _entry(world: World, action: Action) -> BetEntry:
    expected = {e.key_result_id: e for e in action.expected_effects}
    end = action.resolved_at if action.resolved_at is not None else world.at
    effects = []
    for kr_id in action.key_result_ids:
        kr = world.get(kr_id)
        if not isinstance(kr, KeyResult):
            continue  # not yet defined at this instant
        effect = expected.get(kr_id)
        change = effect.change if effect is not None else None
        start = kr.value_at(action.placed_at) if action.placed_at is not None else None
        finish = kr.value_at(end) if action.placed_at is not None else None
        observed = finish - start if start is not None and finish is not None else None
        as_expected = (
            None if change is None or observed is None or change == 0 else observed * change > 0
        )
        effects.append(
            BetEffect(
                key_result_id=kr.id,
                key_result_title=kr.title,
                unit=kr.unit,
                expected_change=change,
                note=effect.note if effect is not None else "",
                start_value=start,
                end_value=finish,
                observed_change=observed,
                as_expected=as_expected,
            )
        )
    return BetEntry(
        action_id=action.id,
        title=action.title,
        owner=action.owner,
        status=action.status,
        outcome=Outcome(action.status.value) if action.status.is_resolved else None,
        hypothesis=action.hypothesis,
        kill_criteria=action.kill_criteria,
        investment=action.investment,
        odds=action.odds,
        placed_at=action.placed_at,
        resolved_at=action.resolved_at,
        effects=tuple(effects),
        learning=action.learning,
        evidence=action.evidence,
    )


def _hit_rate(owner: str, entries: Iterable[BetEntry]) -> OwnerHitRate:
    entries = list(entries)
    count = {s: sum(e.status is s for e in entries) for s in ActionStatus}
    settled = count[ActionStatus.VALIDATED] + count[ActionStatus.INVALIDATED]
    return OwnerHitRate(
        owner=owner,
        bets=len(entries),
        open=count[ActionStatus.PROPOSED] + count[ActionStatus.PLACED],
        validated=count[ActionStatus.VALIDATED],
        invalidated=count[ActionStatus.INVALIDATED],
        inconclusive=count[ActionStatus.INCONCLUSIVE],
        abandoned=count[ActionStatus.ABANDONED],
        hit_rate=count[ActionStatus.VALIDATED] / settled if settled else None,
    )


def _cycles_of(world: World, action: Action) -> list[Cycle]:
    """The cycles of the key results an action serves, in the order of its key results."""
    found: dict[UUID, Cycle] = {}
    for kr_id in action.key_result_ids:
        kr = world.get(kr_id)
        if isinstance(kr, KeyResult):
            objective = world.get(kr.objective_id)
            if isinstance(objective, Objective):
                found.setdefault(objective.cycle_id, world.cycle_of(objective))
    return list(found.values())


def _learning(world: World, action: Action, cycle: Cycle | None) -> CarriedLearning:
    served = [k for k in (world.get(i) for i in action.key_result_ids) if isinstance(k, KeyResult)]
    cycles = _cycles_of(world, action)
    source = cycle if cycle is not None else (cycles[0] if cycles else None)
    target = next_cycle(world, source) if source is not None else None
    return CarriedLearning(
        action_id=action.id,
        action_title=action.title,
        owner=action.owner,
        outcome=Outcome(action.status.value),
        learning=action.learning,
        key_result_ids=tuple(k.id for k in served),
        key_result_titles=tuple(k.title for k in served),
        from_cycle_id=source.id if source is not None else None,
        from_cycle_name=source.name if source is not None else None,
        to_cycle_id=target.id if target is not None else None,
        to_cycle_name=target.name if target is not None else None,
    )


def next_cycle(world: World, cycle: Cycle) -> Cycle | None:
    """The cycle learnings of ``cycle`` carry to.

    Among the cycles that start after ``cycle`` starts, the earliest; those with
    the same parent as ``cycle`` are preferred (a quarter's learnings go to the
    next quarter, not to a year that happens to start sooner); ties by name.
    """
    later = [c for c in world.cycles() if c.starts_at > cycle.starts_at]
    siblings = [c for c in later if c.parent_id == cycle.parent_id]
    return min(siblings or later, key=lambda c: (c.starts_at, c.name), default=None)


# --- calibration ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ConfidenceForecast:
    """One stated confidence on a graded key result, and how it turned out.

    Attributes:
        key_result_id, key_result_title, owner: the key result and its owner.
        check_in_id, effective_at: the check-in the confidence was stated on.
        probability: the stated confidence as a probability.
        outcome: 1 if the key result was met at close, else 0.
    """

    key_result_id: UUID
    key_result_title: str
    owner: str
    check_in_id: UUID
    effective_at: datetime
    probability: float
    outcome: int


@attrs.frozen(kw_only=True)
class ReliabilityBin:
    """Forecasts whose probability falls in ``[lower, upper)`` (the last bin includes 1).

    Attributes:
        lower, upper: the bin's edges.
        forecasts: how many forecasts fall in it.
        mean_probability: their mean stated probability (``None`` if empty).
        hit_frequency: the share of them whose key result was met (``None`` if
            empty). Well calibrated forecasts have it close to ``mean_probability``.
    """

    lower: float
    upper: float
    forecasts: int
    mean_probability: float | None
    hit_frequency: float | None


@attrs.frozen(kw_only=True)
class OwnerCalibration:
    """How well one owner's stated confidence matched outcomes.

    Attributes:
        owner: the owner of the key results.
        forecasts: how many confidences they stated on graded key results.
        key_results: how many graded key results those cover.
        brier: mean of ``(p - o)^2``, in [0, 1]; 0 is perfect.
        mean_probability: mean stated probability.
        hit_frequency: share of forecasts whose key result was met.
        bins: the reliability bins (see :data:`BIN_EDGES`), always five.
    """

    owner: str
    forecasts: int
    key_results: int
    brier: float
    mean_probability: float
    hit_frequency: float
    bins: tuple[ReliabilityBin, ...]


@attrs.frozen(kw_only=True)
class Calibration:
    """Stated confidence against final outcomes, per owner.

    Attributes:
        at: the instant described.
        cycle_id, cycle_name: the cycle asked about (``None``: every cycle).
        owner: the key result owner asked about (``None``: everyone).
        owners: per owner with at least one forecast, sorted by owner.
        overall: the same over every forecast (``None`` if there is none).
        forecasts: every forecast counted, by owner, key result and time.
    """

    at: datetime
    cycle_id: UUID | None
    cycle_name: str | None
    owner: str | None
    owners: tuple[OwnerCalibration, ...]
    overall: OwnerCalibration | None
    forecasts: tuple[ConfidenceForecast, ...]


def final_outcome(key_result: KeyResult) -> int | None:
    """1 if the key result met its target at close, 0 if not, ``None`` if not graded.

    Met means ``grade.attainment >= 1``; an attainment that was undefined at
    close (``None``) counts as not met.
    """
    grade = key_result.grade
    if grade is None:
        return None
    return 1 if grade.attainment is not None and grade.attainment >= 1 else 0


def brier_score(pairs: Sequence[tuple[float, int]]) -> float | None:
    """Mean of ``(p - o)^2`` over ``(probability, outcome)`` pairs; ``None`` if empty.

    Rounded to 12 decimals, so float noise does not show (0.065, not 0.06500000000000002).

    Example:
        >>> brier_score([(0.8, 1), (0.3, 0)])  # (0.04 + 0.09) / 2
        0.065
    """
    if not pairs:
        return None
    return round(sum((p - o) ** 2 for p, o in pairs) / len(pairs), 12)


def calibrate(owner: str, forecasts: Sequence[ConfidenceForecast]) -> OwnerCalibration:
    """Brier score, means and reliability bins of a non-empty list of forecasts."""
    if not forecasts:
        raise ValueError("expected at least one forecast")
    pairs = [(f.probability, f.outcome) for f in forecasts]
    brier = brier_score(pairs)
    assert brier is not None
    bins = []
    last = len(BIN_EDGES) - 2
    for i, (lower, upper) in enumerate(itertools.pairwise(BIN_EDGES)):
        inside = [(p, o) for p, o in pairs if lower <= p < upper or (i == last and p == upper)]
        bins.append(
            ReliabilityBin(
                lower=lower,
                upper=upper,
                forecasts=len(inside),
                mean_probability=_mean(p for p, _ in inside),
                hit_frequency=_mean(o for _, o in inside),
            )
        )
    mean_p = _mean(p for p, _ in pairs)
    hits = _mean(o for _, o in pairs)
    assert mean_p is not None
    assert hits is not None
    return OwnerCalibration(
        owner=owner,
        forecasts=len(forecasts),
        key_results=len({f.key_result_id for f in forecasts}),
        brier=brier,
        mean_probability=mean_p,
        hit_frequency=hits,
        bins=tuple(bins),
    )


def calibration(world: World, *, owner: str | None, cycle: Cycle | None) -> Calibration:
    """Stated confidence against final outcome per owner, at ``world.at``.

    Args:
        world: the entities at the instant described (key results graded by then).
        owner: only key results owned by this owner.
        cycle: only key results of objectives in this cycle.
    """
    key_results = world.key_results_in(cycle.id) if cycle is not None else world.key_results()
    forecasts: list[ConfidenceForecast] = []
    for kr in key_results:
        outcome = final_outcome(kr)
        if outcome is None or (owner is not None and kr.owner != owner):
            continue
        for check_in in kr.check_ins:
            if check_in.confidence is None:
                continue
            forecasts.append(
                ConfidenceForecast(
                    key_result_id=kr.id,
                    key_result_title=kr.title,
                    owner=kr.owner,
                    check_in_id=check_in.id,
                    effective_at=check_in.effective_at,
                    probability=check_in.confidence.probability,
                    outcome=outcome,
                )
            )
    forecasts.sort(key=lambda f: (f.owner, f.key_result_title, f.key_result_id.hex, f.effective_at))
    names = sorted({f.owner for f in forecasts})
    return Calibration(
        at=world.at,
        cycle_id=cycle.id if cycle is not None else None,
        cycle_name=cycle.name if cycle is not None else None,
        owner=owner,
        owners=tuple(calibrate(n, [f for f in forecasts if f.owner == n]) for n in names),
        overall=calibrate(owner or "", forecasts) if forecasts else None,
        forecasts=tuple(forecasts),
    )


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None
