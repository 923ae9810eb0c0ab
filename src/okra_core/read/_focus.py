"""Focus: what needs attention this week, ranked, each item with its reason.

A pure projection of a :class:`~okra_core.read._world.World`. Everything is measured
from ``world.at`` (now, or the *as of* instant) and the playbook in force then.

Scope: the active cycles (or the one cycle asked for), and in them the objectives
that are draft or active (closed and abandoned objectives need no attention).

Kinds of item, in the order they rank:

1. ``off_track``: a key result whose clamped attainment ``p`` is below
   ``at_risk * e`` (``e`` the cycle's expected pace).
2. ``falling_confidence``: the latest stated confidence is lower than the one
   stated before it.
3. ``at_risk``: ``at_risk * e <= p < on_track * e``.
4. ``overload``: an owner with more draft or active objectives in scope than
   ``max_objectives_per_owner``.
5. ``stale``: a key result of an active objective with no check-in recorded
   within the check-in cadence.
6. ``idle_action``: a placed bet with no activity within the cadence.

Within a kind, a larger magnitude (``severity``) ranks first, then the title,
then the owner and the entity id, so the order is total and deterministic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final
from uuid import UUID

import attrs

from ..domain._action import Action
from ..domain._cycle import Cycle
from ..domain._events import EntityKind
from ..domain._key_result import CheckIn, KeyResult
from ..domain._objective import Objective
from ..domain._values import ActionStatus, CycleStatus, ObjectiveStatus, PaceBands
from ._progress import PaceStatus, pace_status
from ._world import World

__all__ = ["FocusItem", "FocusKind", "FocusList", "OwnerFocus", "focus", "rank"]

_DAY = 86400.0


class FocusKind(enum.StrEnum):
    """Why an item needs attention; members are listed in the order they rank."""

    OFF_TRACK = "off_track"
    FALLING_CONFIDENCE = "falling_confidence"
    AT_RISK = "at_risk"
    OVERLOAD = "overload"
    STALE = "stale"
    IDLE_ACTION = "idle_action"

    @property
    def priority(self) -> int:
        """0 for the most urgent kind (``off_track``), 5 for the least."""
        return list(FocusKind).index(self)


@attrs.frozen(kw_only=True)
class FocusItem:
    """One thing that needs attention, with the reason and the figures behind it.

    Attributes:
        kind: why it needs attention.
        rank: its place in the list, from 1 (0 until ranked).
        severity: the magnitude that orders items of one kind, larger first:
            the shortfall ``e - p`` (behind pace), the drop in probability
            (falling confidence), the objectives above the limit (overload), the
            days overdue (stale, idle action).
        entity_kind, entity_id: the key result or action concerned (``None`` for
            overload, which is about an owner).
        title: the key result's or action's title; the owner's name for overload.
        owner: who is responsible: the key result's owner, the action's owner, or
            the overloaded owner.
        objective_id, objective_title: the objective the item sits under.
        cycle_id, cycle_name: its cycle (``None`` for overload).
        reason: the reason in words, with the numbers.
        attainment: clamped attainment ``p`` (behind pace).
        expected_pace: expected pace ``e`` (behind pace).
        confidence_from, confidence_to: the previous and latest stated
            probabilities (falling confidence).
        last_activity_at: the latest check-in recorded (stale; ``None`` if there
            is none) or the action's latest event (idle action).
        days_since: days from the last activity (or from when the clock started)
            to ``at`` (stale, idle action).
        days_overdue: ``days_since`` minus the cadence (stale, idle action).
        objective_count, objective_limit: draft or active objectives owned, and
            the playbook's limit (overload).
    """

    kind: FocusKind
    rank: int = 0
    severity: float
    entity_kind: EntityKind | None
    entity_id: UUID | None
    title: str
    owner: str
    objective_id: UUID | None = None
    objective_title: str | None = None
    cycle_id: UUID | None = None
    cycle_name: str | None = None
    reason: str
    attainment: float | None = None
    expected_pace: float | None = None
    confidence_from: float | None = None
    confidence_to: float | None = None
    last_activity_at: datetime | None = None
    days_since: float | None = None
    days_overdue: float | None = None
    objective_count: int | None = None
    objective_limit: int | None = None

    @property
    def sort_key(self) -> tuple[int, float, str, str, str]:
        """Kind priority, larger severity first, title, owner, entity id."""
        entity = self.entity_id.hex if self.entity_id is not None else ""
        return (self.kind.priority, -self.severity, self.title, self.owner, entity)


@attrs.frozen(kw_only=True)
class OwnerFocus:
    """The items of one owner, in rank order.

    Attributes:
        owner: the person or team responsible.
        items: their items, most urgent first.
    """

    owner: str
    items: tuple[FocusItem, ...]


@attrs.frozen(kw_only=True)
class FocusList:
    """What needs attention at ``at``, ranked.

    Attributes:
        at: the instant described.
        owner: the owner asked about (``None``: everyone). An item belongs to an
            owner if they own the key result or action, or the objective it sits
            under; so a team that owns objectives sees the items of the people
            who own their key results.
        cycle_ids, cycle_names: the cycles in scope.
        check_in_cadence_days: the playbook's cadence in force at ``at``.
        max_objectives_per_owner: the playbook's overload limit.
        items: every item, most urgent first (``rank`` 1, 2, ...).
    """

    at: datetime
    owner: str | None
    cycle_ids: tuple[UUID, ...]
    cycle_names: tuple[str, ...]
    check_in_cadence_days: int
    max_objectives_per_owner: int
    items: tuple[FocusItem, ...]

    def by_owner(self) -> tuple[OwnerFocus, ...]:
        """The items grouped by ``item.owner``; the owner of the top-ranked item first."""
        groups: dict[str, list[FocusItem]] = {}
        for item in self.items:
            groups.setdefault(item.owner, []).append(item)
        return tuple(OwnerFocus(owner=o, items=tuple(items)) for o, items in groups.items())

    def of_kind(self, kind: FocusKind | str) -> tuple[FocusItem, ...]:
        """The items of one kind, in rank order."""
        wanted = FocusKind(kind)
        return tuple(item for item in self.items if item.kind is wanted)


def rank(items: Iterable[FocusItem]) -> tuple[FocusItem, ...]:
    """Sort items by :attr:`FocusItem.sort_key` and number them from 1.

    The order depends only on the items, never on the order they come in.
    """
    ordered = sorted(items, key=lambda item: item.sort_key)
    return tuple(attrs.evolve(item, rank=i) for i, item in enumerate(ordered, start=1))


def focus(world: World, *, owner: str | None, cycle: Cycle | None) -> FocusList:
    """What needs attention at ``world.at``, ranked, each item with its reason.

    Args:
        world: the entities at the instant described.
        owner: only the items of this owner (see :class:`FocusList`); ``None`` for all.
        cycle: only this cycle (whatever its status); ``None`` for the active cycles.
    """
    settings = world.playbook.settings
    cycles = (
        [cycle]
        if cycle is not None
        else [c for c in world.cycles() if c.status is CycleStatus.ACTIVE]
    )
    objectives = [o for c in cycles for o in world.objectives(cycle_id=c.id) if o.is_open]
    cadence = timedelta(days=settings.check_in_cadence_days)
    items: list[FocusItem] = []
    for objective in objectives:
        in_cycle = world.cycle_of(objective)
        for kr in world.key_results(objective.id):
            if owner is not None and owner not in (kr.owner, objective.owner):
                continue
            items += _key_result_items(world, kr, objective, in_cycle, cadence)
    items += _idle_actions(world, objectives, owner, cadence)
    items += _overload(objectives, owner, settings.max_objectives_per_owner)
    return FocusList(
        at=world.at,
        owner=owner,
        cycle_ids=tuple(c.id for c in cycles),
        cycle_names=tuple(c.name for c in cycles),
        check_in_cadence_days=settings.check_in_cadence_days,
        max_objectives_per_owner=settings.max_objectives_per_owner,
        items=rank(items),
    )


# --- key results -------------------------------------------------------------------


def _key_result_items(
    world: World, kr: KeyResult, objective: Objective, cycle: Cycle, cadence: timedelta
) -> list[FocusItem]:
    base: dict[str, Any] = {
        "entity_kind": EntityKind.KEY_RESULT,
        "entity_id": kr.id,
        "title": kr.title,
        "owner": kr.owner,
        "objective_id": objective.id,
        "objective_title": objective.title,
        "cycle_id": cycle.id,
        "cycle_name": cycle.name,
    }
    items: list[FocusItem] = []
    p = kr.attainment().clamped
    e = cycle.expected_pace(world.at)
    status = _pace_status(p, e, world.playbook.settings.pace_bands) if p is not None else None
    if p is not None and status is not None:
        bands = world.playbook.settings.pace_bands
        label = status.value.replace("_", " ")
        items.append(
            FocusItem(
                kind=status,
                severity=e - p,
                reason=(
                    f"{label}: {p:.0%} attained against {e:.0%} of the cycle gone "
                    f"(on track needs {bands.on_track * e:.0%}, "
                    f"at risk {bands.at_risk * e:.0%})"
                ),
                attainment=p,
                expected_pace=e,
                **base,
            )
        )
    falling = _falling_confidence(kr.check_ins)
    if falling is not None:
        before, latest = falling
        assert before.confidence is not None
        assert latest.confidence is not None
        was, now = before.confidence.probability, latest.confidence.probability
        items.append(
            FocusItem(
                kind=FocusKind.FALLING_CONFIDENCE,
                severity=was - now,
                reason=(
                    f"confidence fell from {was:.0%} ({before.confidence}) to {now:.0%} "
                    f"({latest.confidence}) at the check-in of "
                    f"{latest.effective_at:%Y-%m-%d}"
                ),
                confidence_from=was,
                confidence_to=now,
                **base,
            )
        )
    stale = _stale(world, kr, objective, cycle, cadence, base)
    if stale is not None:
        items.append(stale)
    return items


_BEHIND: Final = {PaceStatus.AT_RISK: FocusKind.AT_RISK, PaceStatus.OFF_TRACK: FocusKind.OFF_TRACK}


def _pace_status(p: float, e: float, bands: PaceBands) -> FocusKind | None:
    """The focus kind for a key result behind pace (None when on track; see ``pace_status``)."""
    return _BEHIND.get(pace_status(p, e, bands))


def _falling_confidence(check_ins: Sequence[CheckIn]) -> tuple[CheckIn, CheckIn] | None:
    """The last two check-ins that stated a confidence, if the latest is lower."""
    stated = [c for c in check_ins if c.confidence is not None]
    if len(stated) < 2:
        return None
    before, latest = stated[-2], stated[-1]
    assert before.confidence is not None
    assert latest.confidence is not None
    if latest.confidence.probability < before.confidence.probability:
        return before, latest
    return None


def _stale(
    world: World,
    kr: KeyResult,
    objective: Objective,
    cycle: Cycle,
    cadence: timedelta,
    base: dict[str, Any],
) -> FocusItem | None:
    # Key results of a draft objective cannot take check-ins yet.
    if objective.status is not ObjectiveStatus.ACTIVE:
        return None
    # A check-in recorded after ``at`` (backdated into it) was not there to be seen.
    recorded = [c.recorded_at for c in kr.check_ins if c.recorded_at <= world.at]
    last = max(recorded, default=None)
    # The clock starts no earlier than the cycle and the key result themselves.
    start = max(cycle.starts_at, kr.created_at)
    since = max(last, start) if last is not None else start
    elapsed = world.at - since
    if elapsed <= cadence:
        return None
    days = elapsed.total_seconds() / _DAY
    overdue = (elapsed - cadence).total_seconds() / _DAY
    every = _days(cadence.total_seconds() / _DAY)
    if last is not None and last >= start:
        what = f"no check-in for {_days(days)} (last recorded {last:%Y-%m-%d})"
    else:
        event = "the cycle started" if since == cycle.starts_at else "the key result was defined"
        what = f"no check-in in {_days(days)} since {event} on {since:%Y-%m-%d}"
    return FocusItem(
        kind=FocusKind.STALE,
        severity=overdue,
        reason=f"{what}; due every {every}: {_days(overdue)} overdue",
        last_activity_at=last,
        days_since=days,
        days_overdue=overdue,
        **base,
    )


# --- actions and owners ---------------------------------------------------------------


def _idle_actions(
    world: World, objectives: list[Objective], owner: str | None, cadence: timedelta
) -> list[FocusItem]:
    in_scope = {o.id: o for o in objectives}
    items: list[FocusItem] = []
    for action in world.actions():
        if action.status is not ActionStatus.PLACED:
            continue
        served = _objectives_served(world, action, in_scope)
        if not served:
            continue
        if owner is not None and owner != action.owner and all(o.owner != owner for o in served):
            continue
        elapsed = world.at - action.updated_at
        if elapsed <= cadence:
            continue
        objective = next((o for o in served if owner in (None, o.owner)), served[0])
        in_cycle = world.cycle_of(objective)
        days = elapsed.total_seconds() / _DAY
        overdue = (elapsed - cadence).total_seconds() / _DAY
        items.append(
            FocusItem(
                kind=FocusKind.IDLE_ACTION,
                severity=overdue,
                entity_kind=EntityKind.ACTION,
                entity_id=action.id,
                title=action.title,
                owner=action.owner,
                objective_id=objective.id,
                objective_title=objective.title,
                cycle_id=in_cycle.id,
                cycle_name=in_cycle.name,
                reason=(
                    f"placed bet with no activity for {_days(days)} (last on "
                    f"{action.updated_at:%Y-%m-%d}); expected every "
                    f"{_days(cadence.total_seconds() / _DAY)}: {_days(overdue)} overdue"
                ),
                last_activity_at=action.updated_at,
                days_since=days,
                days_overdue=overdue,
            )
        )
    return items


def _objectives_served(
    world: World, action: Action, in_scope: dict[UUID, Objective]
) -> list[Objective]:
    """The in-scope objectives of the key results an action serves, without repeats."""
    found: dict[UUID, Objective] = {}
    for kr_id in action.key_result_ids:
        kr = world.get(kr_id)
        if isinstance(kr, KeyResult) and kr.objective_id in in_scope:
            found.setdefault(kr.objective_id, in_scope[kr.objective_id])
    return list(found.values())


def _overload(objectives: list[Objective], owner: str | None, limit: int) -> list[FocusItem]:
    counts: dict[str, int] = {}
    for objective in objectives:
        counts[objective.owner] = counts.get(objective.owner, 0) + 1
    return [
        FocusItem(
            kind=FocusKind.OVERLOAD,
            severity=float(count - limit),
            entity_kind=None,
            entity_id=None,
            title=name,
            owner=name,
            reason=(
                f"{name} owns {count} draft or active objectives; "
                f"the playbook allows {limit} per owner"
            ),
            objective_count=count,
            objective_limit=limit,
        )
        for name, count in counts.items()
        if count > limit and owner in (None, name)
    ]


def _days(days: float) -> str:
    """Whole days, rounded down, in words: ``less than a day``, ``1 day``, ``5 days``."""
    whole = int(days)
    if whole < 1:
        return "less than a day"
    return "1 day" if whole == 1 else f"{whole} days"
