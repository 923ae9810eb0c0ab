"""Progress: attainment, pace, forecast and rollups of key results and objectives.

Every function here is a pure function of a :class:`~okra_core.read._world.World`: the
entities at one instant (``world.at``). Expected pace is measured from that
instant, never from the system clock, so the same call answers for now and for
any moment in the past.

Notation: ``p`` attainment (1.0 = target met), ``e`` expected pace of the cycle,
``w`` a weight, ``v`` the value of one rollup item.

Rules (each one is documented in ``docs/progress.md`` and tested):

- A key result's attainment ``p`` comes from its metric and latest check-in
  (``KeyResult.attainment``); it is kept uncapped, and rollups use
  ``clamp(p, 0, 1)``. It is undefined (``None``, never 0) with no check-ins or
  while the baseline is to be measured.
- Pace status compares the clamped ``p`` with ``e = cycle.expected_pace(at)``
  through the playbook's bands: on track if ``p >= on_track * e``, at risk if
  ``p >= at_risk * e``, else off track; unknown while ``p`` is undefined.
  Before the cycle starts ``e = 0``, so any defined ``p`` is on track.
- An objective's progress is its rollup policy applied to its items: its key
  results (weight = the key result's weight, value = clamped ``p``) and the
  objectives that *contribute* to it or to one of its key results (weight = the
  link's weight, value = that objective's own progress). Items whose value is
  undefined are left out and counted. ``mean`` is ``sum(w*v) / sum(w)``, ``min``
  the smallest ``v``, ``sum`` is ``min(1, sum(w*v))``. ``supports`` links are
  listed, never counted.
- An objective's status is the weakest pace status of its own key results
  (off track < at risk < on track); ``unknown`` ones are ignored unless all are.
- Abandoned objectives are left out of cycle and owner rollups and of their
  parents' rollups, but their own progress can still be asked for.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ..domain._cycle import Cycle
from ..domain._events import EntityKind
from ..domain._key_result import KeyResult
from ..domain._objective import Alignment, Objective
from ..domain._values import (
    AlignmentLink,
    Confidence,
    CycleStatus,
    ObjectiveKind,
    ObjectiveStatus,
    PaceBands,
    RollupPolicy,
)
from ._forecast import Forecast, forecast
from ._world import World

__all__ = [
    "Contribution",
    "CycleProgress",
    "Forecast",
    "KeyResultProgress",
    "ObjectiveProgress",
    "OwnerProgress",
    "OwnerSummary",
    "PaceStatus",
    "StatusCount",
    "combine",
    "cycle_progress",
    "forecast",
    "key_result_progress",
    "objective_progress",
    "owner_progress",
    "pace_status",
    "weakest",
]


class PaceStatus(enum.StrEnum):
    """Where attainment stands against the cycle's expected pace.

    Computed from numbers only; a person's stated confidence is kept apart and
    never changes it. From weakest to strongest: ``off_track``, ``at_risk``,
    ``on_track``; ``unknown`` when attainment is undefined.
    """

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    UNKNOWN = "unknown"


_STRENGTH = {PaceStatus.OFF_TRACK: 0, PaceStatus.AT_RISK: 1, PaceStatus.ON_TRACK: 2}


def pace_status(attainment: float | None, expected: float, bands: PaceBands) -> PaceStatus:
    """The pace status of a clamped attainment against expected pace ``expected``.

    On track if ``p >= bands.on_track * e``, at risk if ``p >= bands.at_risk * e``,
    else off track; ``unknown`` when ``p`` is ``None``. With ``e = 0`` (the cycle
    has not started) every defined ``p`` is on track.

    Example:
        >>> pace_status(0.4, 0.5, PaceBands())  # 0.4 < 0.9 * 0.5, 0.4 >= 0.6 * 0.5
        <PaceStatus.AT_RISK: 'at_risk'>
    """
    if attainment is None:
        return PaceStatus.UNKNOWN
    if attainment >= bands.on_track * expected:
        return PaceStatus.ON_TRACK
    if attainment >= bands.at_risk * expected:
        return PaceStatus.AT_RISK
    return PaceStatus.OFF_TRACK


def weakest(statuses: Iterable[PaceStatus]) -> PaceStatus:
    """The weakest of some pace statuses, ignoring ``unknown`` unless all are.

    Off track is weaker than at risk, which is weaker than on track. With no
    status at all, or only unknown ones, the answer is ``unknown``.
    """
    known = [s for s in statuses if s is not PaceStatus.UNKNOWN]
    return min(known, key=_STRENGTH.__getitem__) if known else PaceStatus.UNKNOWN


def combine(policy: RollupPolicy, items: Sequence[tuple[float, float | None]]) -> float | None:
    """Roll up ``(weight, value)`` items under ``policy``; ``None`` values are left out.

    - ``mean``: ``sum(w * v) / sum(w)``
    - ``min``: ``min(v)`` (weights play no part)
    - ``sum``: ``min(1, sum(w * v))``

    Returns ``None`` when no item has a value. Weights are positive (the
    commands refuse others).

    Example:
        >>> combine(RollupPolicy.MEAN, [(1.0, 0.5), (3.0, 1.0), (1.0, None)])
        0.875
    """
    defined = [(w, v) for w, v in items if v is not None]
    if not defined:
        return None
    if policy is RollupPolicy.MIN:
        return min(v for _, v in defined)
    total = sum(w * v for w, v in defined)
    if policy is RollupPolicy.SUM:
        return min(1.0, total)
    return total / sum(w for w, _ in defined)


def _mean(values: Iterable[float | None]) -> float | None:
    return combine(RollupPolicy.MEAN, [(1.0, v) for v in values])


# --- results ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class KeyResultProgress:
    """Where one key result stands at the world's instant.

    Attributes:
        key_result_id, title, owner, unit, weight: the key result.
        metric: the current metric in words (e.g. ``24 h -> 4 h``).
        objective_id, objective_title: the objective it measures.
        cycle_id: the objective's cycle.
        value: the latest value in effect, or ``None`` with no check-ins.
        value_at: when that value was true (its effective time).
        check_in_count: how many check-ins are in effect.
        attainment: uncapped attainment ``p``, or ``None`` when undefined.
        clamped: ``clamp(p, 0, 1)``, as rollups use it.
        attainment_reason: how ``p`` was computed, or why it is undefined.
        original_attainment: ``p`` against the metric as first defined.
        goalposts_moved: whether the metric differs from the original one.
        confidence: the latest stated confidence (kept apart from the status).
        expected_pace: ``e`` of the cycle at the world's instant.
        pace_status: ``clamped`` compared with ``expected_pace`` through the bands.
        forecast: the value expected at the cycle's end.
    """

    key_result_id: UUID
    title: str
    owner: str
    unit: str
    weight: float
    metric: str
    objective_id: UUID
    objective_title: str
    cycle_id: UUID
    value: float | None
    value_at: datetime | None
    check_in_count: int
    attainment: float | None
    clamped: float | None
    attainment_reason: str
    original_attainment: float | None
    goalposts_moved: bool
    confidence: Confidence | None
    expected_pace: float
    pace_status: PaceStatus
    forecast: Forecast


@attrs.frozen(kw_only=True)
class Contribution:
    """One item of an objective's rollup: a key result or an aligned objective.

    Attributes:
        kind: ``key_result`` or ``objective``.
        id, title, owner: the item.
        link: ``None`` for a key result; the alignment link of an objective.
        weight: the key result's weight, or the link's weight.
        value: clamped attainment of a key result, or the objective's progress;
            ``None`` when undefined.
        counted: whether ``value`` entered the rollup (a defined value on a
            key result or a ``contributes`` link; ``supports`` links never count).
        via_key_result_id, via_key_result_title: the key result the objective is
            aligned to, when it is aligned to a key result rather than to the
            objective itself.
    """

    kind: EntityKind
    id: UUID
    title: str
    owner: str
    link: AlignmentLink | None
    weight: float
    value: float | None
    counted: bool
    via_key_result_id: UUID | None = None
    via_key_result_title: str | None = None


@attrs.frozen(kw_only=True)
class ObjectiveProgress:
    """An objective's progress, rolled up from its key results and contributors.

    Attributes:
        objective_id, title, owner, kind, status, rollup: the objective.
        cycle_id, cycle_name: its cycle.
        progress: the rollup policy over the defined items, or ``None``.
        measured: how many items had a value (entered the rollup).
        total: how many items there are (key results and contributing objectives).
        expected_pace: ``e`` of the objective's cycle at the world's instant.
        pace_status: the weakest pace status of its own key results.
        key_results: the progress of each of its key results.
        contributions: the counted items: key results, then contributing objectives.
        supporters: objectives linked with ``supports``: shown, never counted.
    """

    objective_id: UUID
    title: str
    owner: str
    kind: ObjectiveKind
    status: ObjectiveStatus
    rollup: RollupPolicy
    cycle_id: UUID
    cycle_name: str
    progress: float | None
    measured: int
    total: int
    expected_pace: float
    pace_status: PaceStatus
    key_results: tuple[KeyResultProgress, ...]
    contributions: tuple[Contribution, ...]
    supporters: tuple[Contribution, ...]


@attrs.frozen(kw_only=True)
class StatusCount:
    """How many items have one pace status.

    Attributes:
        status: the pace status.
        count: how many have it.
    """

    status: PaceStatus
    count: int


@attrs.frozen(kw_only=True)
class OwnerSummary:
    """One owner's line in a cycle's dashboard.

    Attributes:
        owner: who.
        objectives: how many (not abandoned) objectives they own in the cycle.
        measured: how many of those have a defined progress.
        progress: the plain mean of those progresses, or ``None``.
    """

    owner: str
    objectives: int
    measured: int
    progress: float | None


@attrs.frozen(kw_only=True)
class CycleProgress:
    """The dashboard of a cycle at the world's instant.

    Attributes:
        cycle_id, name, starts_at, ends_at, status: the cycle.
        at: the instant described.
        expected_pace: ``e`` of the cycle at ``at``.
        progress: plain mean of the objectives' progress (undefined left out).
        measured: how many objectives have a defined progress.
        total: how many objectives are counted (abandoned ones are not).
        objectives: each objective's progress, in creation order.
        owners: per objective owner, the mean progress of their objectives.
        objectives_by_status: objective statuses counted (every status listed).
        key_results_by_status: key-result statuses counted (every status listed).
    """

    cycle_id: UUID
    name: str
    starts_at: datetime
    ends_at: datetime
    status: CycleStatus
    at: datetime
    expected_pace: float
    progress: float | None
    measured: int
    total: int
    objectives: tuple[ObjectiveProgress, ...]
    owners: tuple[OwnerSummary, ...]
    objectives_by_status: tuple[StatusCount, ...]
    key_results_by_status: tuple[StatusCount, ...]


@attrs.frozen(kw_only=True)
class OwnerProgress:
    """Everything one person owns, in one cycle or in every cycle not closed.

    Attributes:
        owner: who.
        at: the instant described.
        cycle_id, cycle_name: the cycle asked about, or ``None`` for all open cycles.
        progress: plain mean of their objectives' progress (undefined left out).
        measured: how many of their objectives have a defined progress.
        objectives: the progress of each (not abandoned) objective they own.
        key_results: key results they own under objectives owned by others.
        key_results_by_status: statuses of every key result they own (under
            their objectives and others'), every status listed.
    """

    owner: str
    at: datetime
    cycle_id: UUID | None
    cycle_name: str | None
    progress: float | None
    measured: int
    objectives: tuple[ObjectiveProgress, ...]
    key_results: tuple[KeyResultProgress, ...]
    key_results_by_status: tuple[StatusCount, ...]


# --- computing ----------------------------------------------------------------------


def _counts(statuses: Iterable[PaceStatus]) -> tuple[StatusCount, ...]:
    seen = list(statuses)
    return tuple(StatusCount(status=s, count=seen.count(s)) for s in PaceStatus)


class _Progress:
    """Progress of one world, each key result and objective computed once."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.bands = world.playbook.settings.pace_bands
        self._paces: dict[UUID, float] = {}
        self._cycles: dict[UUID, Cycle] = {}
        self._key_results: dict[UUID, KeyResultProgress] = {}
        self._objectives: dict[UUID, ObjectiveProgress] = {}
        self._busy: set[UUID] = set()

    def _cycle(self, objective: Objective) -> Cycle:
        found = self._cycles.get(objective.cycle_id)
        if found is None:
            found = self._cycles[objective.cycle_id] = self.world.cycle_of(objective)
        return found

    def pace(self, cycle: Cycle) -> float:
        found = self._paces.get(cycle.id)
        if found is None:
            found = self._paces[cycle.id] = cycle.expected_pace(self.world.at)
        return found

    def key_result(
        self, key_result: KeyResult, objective: Objective | None = None
    ) -> KeyResultProgress:
        found = self._key_results.get(key_result.id)
        if found is not None:
            return found
        if objective is None:
            objective = self.world.objective_of(key_result)
        cycle = self._cycle(objective)
        e = self.pace(cycle)
        attainment = key_result.attainment()
        moved = key_result.metric != key_result.original_metric
        original = key_result.attainment(original=True) if moved else attainment
        latest = key_result.latest
        found = self._key_results[key_result.id] = KeyResultProgress(
            key_result_id=key_result.id,
            title=key_result.title,
            owner=key_result.owner,
            unit=key_result.unit,
            weight=key_result.weight,
            metric=key_result.metric.describe(key_result.unit),
            objective_id=objective.id,
            objective_title=objective.title,
            cycle_id=cycle.id,
            value=latest.value if latest else None,
            value_at=latest.effective_at if latest else None,
            check_in_count=len(key_result.check_ins),
            attainment=attainment.value,
            clamped=attainment.clamped,
            attainment_reason=attainment.reason,
            original_attainment=original.value,
            goalposts_moved=moved,
            confidence=key_result.confidence,
            expected_pace=e,
            pace_status=pace_status(attainment.clamped, e, self.bands),
            forecast=forecast(key_result, cycle),
        )
        return found

    def objective(self, objective: Objective) -> ObjectiveProgress:
        found = self._objectives.get(objective.id)
        if found is not None:
            return found
        # Links cannot loop (``align`` refuses it); should one ever be found, the
        # objective met again on the way down counts as undefined.
        self._busy.add(objective.id)
        try:
            found = self._compute(objective)
        finally:
            self._busy.discard(objective.id)
        self._objectives[objective.id] = found
        return found

    def _child_value(self, child: Objective) -> float | None:
        return None if child.id in self._busy else self.objective(child).progress

    def _aligned(self, child: Objective, alignment: Alignment, counted: bool) -> Contribution:
        value = self._child_value(child)
        via = None
        if alignment.parent_kind is EntityKind.KEY_RESULT:
            via = self.world.key_result(alignment.parent_id)
        return Contribution(
            kind=EntityKind.OBJECTIVE,
            id=child.id,
            title=child.title,
            owner=child.owner,
            link=alignment.link,
            weight=alignment.weight,
            value=value,
            counted=counted and value is not None,
            via_key_result_id=via.id if via else None,
            via_key_result_title=via.title if via else None,
        )

    def _compute(self, objective: Objective) -> ObjectiveProgress:
        world = self.world
        cycle = self._cycle(objective)
        key_results = tuple(
            self.key_result(kr, objective) for kr in world.key_results(objective.id)
        )
        items = [
            Contribution(
                kind=EntityKind.KEY_RESULT,
                id=kr.key_result_id,
                title=kr.title,
                owner=kr.owner,
                link=None,
                weight=kr.weight,
                value=kr.clamped,
                counted=kr.clamped is not None,
            )
            for kr in key_results
        ]
        items += [self._aligned(c, a, True) for c, a in world.contributors(objective)]
        parents = [objective.id, *(kr.key_result_id for kr in key_results)]
        supporters = tuple(
            self._aligned(child, alignment, False)
            for parent_id in parents
            for child, alignment in world.children(parent_id, AlignmentLink.SUPPORTS)
            if child.status is not ObjectiveStatus.ABANDONED
        )
        return ObjectiveProgress(
            objective_id=objective.id,
            title=objective.title,
            owner=objective.owner,
            kind=objective.kind,
            status=objective.status,
            rollup=objective.rollup,
            cycle_id=cycle.id,
            cycle_name=cycle.name,
            progress=combine(objective.rollup, [(i.weight, i.value) for i in items]),
            measured=sum(1 for i in items if i.counted),
            total=len(items),
            expected_pace=self.pace(cycle),
            pace_status=weakest(kr.pace_status for kr in key_results),
            key_results=key_results,
            contributions=tuple(items),
            supporters=supporters,
        )


def _counted(objectives: Iterable[Objective]) -> list[Objective]:
    return [o for o in objectives if o.status is not ObjectiveStatus.ABANDONED]


def key_result_progress(world: World, key_result: KeyResult) -> KeyResultProgress:
    """Attainment, pace status, confidence and forecast of one key result."""
    return _Progress(world).key_result(key_result)


def objective_progress(world: World, objective: Objective) -> ObjectiveProgress:
    """An objective's progress rolled up from its key results and contributors.

    Computable for an objective in any status, abandoned included (an abandoned
    objective is only left out of its parents', its cycle's and its owner's
    rollups).
    """
    return _Progress(world).objective(objective)


def cycle_progress(world: World, cycle: Cycle) -> CycleProgress:
    """The dashboard of a cycle: each objective's progress, per owner and overall.

    Abandoned objectives are left out. The overall progress is the plain mean of
    the objectives' progress (equal weights), undefined ones left out; each
    owner's line is the same mean over the objectives they own. Linear in the
    number of objectives, key results, links and check-ins.
    """
    engine = _Progress(world)
    objectives = tuple(engine.objective(o) for o in _counted(world.objectives(cycle_id=cycle.id)))
    by_owner: dict[str, list[ObjectiveProgress]] = {}
    for progress in objectives:
        by_owner.setdefault(progress.owner, []).append(progress)
    owners = tuple(
        OwnerSummary(
            owner=owner,
            objectives=len(owned),
            measured=sum(1 for o in owned if o.progress is not None),
            progress=_mean(o.progress for o in owned),
        )
        for owner, owned in sorted(by_owner.items())
    )
    return CycleProgress(
        cycle_id=cycle.id,
        name=cycle.name,
        starts_at=cycle.starts_at,
        ends_at=cycle.ends_at,
        status=cycle.status,
        at=world.at,
        expected_pace=engine.pace(cycle),
        progress=_mean(o.progress for o in objectives),
        measured=sum(1 for o in objectives if o.progress is not None),
        total=len(objectives),
        objectives=objectives,
        owners=owners,
        objectives_by_status=_counts(o.pace_status for o in objectives),
        key_results_by_status=_counts(kr.pace_status for o in objectives for kr in o.key_results),
    )


def owner_progress(world: World, owner: str, cycle: Cycle | None) -> OwnerProgress:
    """Progress of what one person owns, in ``cycle`` or in every cycle not closed.

    Their objectives (abandoned ones left out) and the key results they own under
    objectives owned by someone else (under abandoned objectives left out). The
    progress is the plain mean of their objectives' progress, undefined left out.
    """
    engine = _Progress(world)
    if cycle is not None:
        cycles = [cycle]
    else:
        cycles = [c for c in world.cycles() if c.status is not CycleStatus.CLOSED]
    in_cycles = _counted(o for c in cycles for o in world.objectives(cycle_id=c.id))
    mine = tuple(engine.objective(o) for o in in_cycles if o.owner == owner)
    theirs = tuple(
        engine.key_result(kr)
        for o in in_cycles
        if o.owner != owner
        for kr in world.key_results(o.id)
        if kr.owner == owner
    )
    owned_key_results = [kr for o in mine for kr in o.key_results if kr.owner == owner]
    return OwnerProgress(
        owner=owner,
        at=world.at,
        cycle_id=cycle.id if cycle else None,
        cycle_name=cycle.name if cycle else None,
        progress=_mean(o.progress for o in mine),
        measured=sum(1 for o in mine if o.progress is not None),
        objectives=mine,
        key_results=theirs,
        key_results_by_status=_counts(kr.pace_status for kr in [*owned_key_results, *theirs]),
    )
