"""The current state of each entity, folded from its events.

Each entity is an immutable attrs class. ``apply(event)`` returns the next state;
the command methods check lifecycle rules against the current state and return
the events to record (they never change anything themselves).
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Self, TypeVar, cast, overload
from uuid import UUID, uuid5

import attrs

from ._errors import InvalidTransitionError, ValidationError
from ._events import (
    ActionPlaced,
    ActionProposed,
    ActionResolved,
    BaselineMeasured,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CycleClosed,
    CyclePlanned,
    CycleStarted,
    EntityKind,
    Event,
    KeyResultBound,
    KeyResultContinued,
    KeyResultDefined,
    KeyResultGraded,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
    KeyResultUnbound,
    ObjectiveAbandoned,
    ObjectiveActivated,
    ObjectiveAligned,
    ObjectiveClosed,
    ObjectiveContinued,
    ObjectiveDrafted,
    ObjectiveReassigned,
    ObjectiveRevised,
    ObjectiveUnaligned,
    PlaybookRevised,
    SubscriptionAdded,
    SubscriptionRemoved,
    TaskAdded,
    TaskCompleted,
    TaskReopened,
)
from ._metrics import Attainment, Change, Metric, Milestone
from ._values import (
    ActionStatus,
    AlignmentLink,
    CheckInSource,
    Confidence,
    ContinuationMode,
    CycleStatus,
    ExpectedEffect,
    Investment,
    NotificationKind,
    ObjectiveKind,
    ObjectiveStatus,
    Outcome,
    PlaybookSettings,
    RollupPolicy,
)

__all__ = [
    "PLAYBOOK_ID",
    "Action",
    "Alignment",
    "CheckIn",
    "CheckIns",
    "Continuation",
    "Cycle",
    "Entity",
    "Grade",
    "KeyResult",
    "Objective",
    "Playbook",
    "Stamp",
    "Subscription",
    "Task",
    "project",
    "round_score",
    "subscription_id",
    "suggest_grade",
]

PLAYBOOK_ID = uuid5(UUID("6f6b7261-0000-4000-8000-000000000000"), "okra.playbook")
"""The id of the one playbook stream of an okra store."""

Ev = TypeVar("Ev", bound=Event)
R = TypeVar("R")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen
class Stamp:
    """Who issues a command, and when: put on every event it causes."""

    actor: str
    at: datetime


@attrs.frozen(kw_only=True)
class Entity:
    """Fields every entity has.

    Attributes:
        id: the entity's id; any unique prefix of its hex form also finds it.
        version: how many events its stream holds.
        created_at, created_by: when and by whom its first event was recorded.
        updated_at, updated_by: the same for its latest event.
    """

    entity_kind: EntityKind = attrs.field(init=False)
    id: UUID
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id: enough to refer to it in practice."""
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        """A human name for the entity (its title or name)."""
        return str(getattr(self, "title", getattr(self, "name", self.short_id)))

    def _next(self, cls: type[Ev], stamp: Stamp, **fields: Any) -> Ev:
        return cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            recorded_at=stamp.at,
            actor=stamp.actor,
            **fields,
        )

    def _touched(self, event: Event, **changes: Any) -> Self:
        # attrs.evolve, without its per-call look-up of the fields: this runs
        # once per event folded, so it is most of the cost of a replay's folding.
        fields = {name: getattr(self, name) for name in _init_fields(type(self))}
        fields["version"] = event.originator_version
        fields["updated_at"] = event.recorded_at
        fields["updated_by"] = event.actor
        fields.update(changes)
        return type(self)(**fields)

    def _refuse(self, doing: str, state: object, hint: str = "") -> InvalidTransitionError:
        kind = self.entity_kind.value.replace("_", " ")
        message = f"cannot {doing} {kind} {self.label!r}: it is {state}"
        return InvalidTransitionError(f"{message}; {hint}" if hint else message)


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _init_fields(cls: type) -> tuple[str, ...]:
    """The names ``cls.__init__`` takes (entity fields have no private aliases)."""
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in attrs.fields(cls) if f.init)
    return names


def _origin(event: Event) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "version": event.originator_version,
        "created_at": event.recorded_at,
        "created_by": event.actor,
        "updated_at": event.recorded_at,
        "updated_by": event.actor,
    }


# --- cycle ----------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Cycle(Entity):
    """A time box, such as a quarter; may sit inside a parent cycle (a year)."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.CYCLE)
    name: str
    starts_at: datetime
    ends_at: datetime
    parent_id: UUID | None
    status: CycleStatus = CycleStatus.PLANNING

    @classmethod
    def plan(cls, stamp: Stamp, id: UUID, **fields: Any) -> CyclePlanned:
        """The event that plans a new cycle."""
        return CyclePlanned(
            originator_id=id,
            originator_version=1,
            recorded_at=stamp.at,
            actor=stamp.actor,
            **fields,
        )

    def start(self, stamp: Stamp) -> CycleStarted:
        """Move from planning to active."""
        if self.status is not CycleStatus.PLANNING:
            raise self._refuse("start", self.status.value)
        return self._next(CycleStarted, stamp)

    def close(self, stamp: Stamp) -> CycleClosed:
        """Close an active cycle."""
        if self.status is not CycleStatus.ACTIVE:
            raise self._refuse("close", self.status.value, "only an active cycle can be closed")
        return self._next(CycleClosed, stamp)

    def expected_pace(self, at: datetime) -> float:
        """``e = (at - start) / (end - start)``, clamped to [0, 1]."""
        span = (self.ends_at - self.starts_at).total_seconds()
        return min(1.0, max(0.0, (at - self.starts_at).total_seconds() / span))

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case CycleStarted():
                return self._touched(event, status=CycleStatus.ACTIVE)
            case CycleClosed():
                return self._touched(event, status=CycleStatus.CLOSED)
        raise _unexpected(self, event)


# --- objective ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Alignment:
    """A link from an objective to a parent objective or key result."""

    parent_id: UUID
    parent_kind: EntityKind
    link: AlignmentLink
    weight: float


@attrs.frozen(kw_only=True)
class Continuation:
    """Where an objective came from when it continues one of an earlier cycle."""

    from_objective_id: UUID
    mode: ContinuationMode


@attrs.frozen(kw_only=True)
class Objective(Entity):
    """A qualitative, ambitious outcome for a cycle, with an owner."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.OBJECTIVE)
    title: str
    description: str
    owner: str
    cycle_id: UUID
    kind: ObjectiveKind
    rollup: RollupPolicy
    status: ObjectiveStatus = ObjectiveStatus.DRAFT
    alignments: tuple[Alignment, ...] = ()
    abandon_reason: str = ""
    continues: Continuation | None = None

    @property
    def is_open(self) -> bool:
        """Draft or active: it can still change."""
        return self.status in (ObjectiveStatus.DRAFT, ObjectiveStatus.ACTIVE)

    def require_open(self, doing: str) -> None:
        """Refuse ``doing`` unless the objective is draft or active."""
        if not self.is_open:
            raise self._refuse(doing, self.status.value)

    def revise(self, stamp: Stamp, *, title: str, description: str) -> ObjectiveRevised:
        """Reword the objective."""
        self.require_open("revise")
        return self._next(ObjectiveRevised, stamp, title=title, description=description)

    def reassign(self, stamp: Stamp, *, owner: str) -> ObjectiveReassigned:
        """Give the objective a new owner."""
        self.require_open("reassign")
        return self._next(ObjectiveReassigned, stamp, owner=owner)

    def activate(self, stamp: Stamp, *, key_result_count: int) -> ObjectiveActivated:
        """Commit to a draft objective; it needs at least one key result."""
        if self.status is not ObjectiveStatus.DRAFT:
            raise self._refuse("activate", self.status.value, "only a draft can be activated")
        if key_result_count == 0:
            raise self._refuse(
                "activate", "without key results", "add a key result that measures it first"
            )
        return self._next(ObjectiveActivated, stamp)

    def close(self, stamp: Stamp) -> ObjectiveClosed:
        """Close an active objective."""
        if self.status is not ObjectiveStatus.ACTIVE:
            raise self._refuse("close", self.status.value, "only an active objective can be closed")
        return self._next(ObjectiveClosed, stamp)

    def abandon(self, stamp: Stamp, *, reason: str) -> ObjectiveAbandoned:
        """Give up on a draft or active objective."""
        self.require_open("abandon")
        return self._next(ObjectiveAbandoned, stamp, reason=reason)

    def align(
        self,
        stamp: Stamp,
        *,
        parent_id: UUID,
        parent_kind: EntityKind,
        link: AlignmentLink,
        weight: float,
    ) -> ObjectiveAligned:
        """Link to a parent objective or key result (one link per parent)."""
        self.require_open("align")
        if any(a.parent_id == parent_id for a in self.alignments):
            raise self._refuse(
                "align", "already linked to that parent", "unalign it first to change the link"
            )
        return self._next(
            ObjectiveAligned,
            stamp,
            parent_id=parent_id,
            parent_kind=parent_kind,
            link=link,
            weight=weight,
        )

    def unalign(self, stamp: Stamp, *, parent_id: UUID) -> ObjectiveUnaligned:
        """Remove the link to a parent."""
        self.require_open("unalign")
        if not any(a.parent_id == parent_id for a in self.alignments):
            raise ValidationError.single("parent", f"{self.label!r} is not aligned to {parent_id}")
        return self._next(ObjectiveUnaligned, stamp, parent_id=parent_id)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case ObjectiveRevised(title=title, description=description):
                return self._touched(event, title=title, description=description)
            case ObjectiveReassigned(owner=owner):
                return self._touched(event, owner=owner)
            case ObjectiveActivated():
                return self._touched(event, status=ObjectiveStatus.ACTIVE)
            case ObjectiveClosed():
                return self._touched(event, status=ObjectiveStatus.CLOSED)
            case ObjectiveAbandoned(reason=reason):
                return self._touched(event, status=ObjectiveStatus.ABANDONED, abandon_reason=reason)
            case ObjectiveAligned():
                link = Alignment(
                    parent_id=event.parent_id,
                    parent_kind=event.parent_kind,
                    link=event.link,
                    weight=event.weight,
                )
                return self._touched(event, alignments=(*self.alignments, link))
            case ObjectiveUnaligned(parent_id=parent_id):
                kept = tuple(a for a in self.alignments if a.parent_id != parent_id)
                return self._touched(event, alignments=kept)
            case ObjectiveContinued(from_objective_id=source, mode=mode):
                continues = Continuation(from_objective_id=source, mode=mode)
                return self._touched(event, continues=continues)
        raise _unexpected(self, event)


# --- key result -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CheckIn:
    """One observation of a key result, as it stands after any corrections."""

    id: UUID
    key_result_id: UUID
    value: float
    confidence: Confidence | None
    narrative: str
    effective_at: datetime
    recorded_at: datetime
    actor: str
    source: CheckInSource
    corrected: bool = False

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id."""
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        """A human name for the check-in."""
        return f"{self.value:g} on {self.effective_at:%Y-%m-%d}"


@attrs.frozen(kw_only=True)
class Grade:
    """The score a key result got when its cycle closed (0.0 to 1.0, one decimal).

    Attributes:
        score: the grade given.
        suggested: ``round(clamp(p), 1)`` from the attainment at close.
        attainment: attainment at close against the current target (None if undefined).
        original_attainment: the same against the target first set.
        rationale: why the score differs from the suggestion (empty if it does not).
        graded_at, graded_by: when and by whom.
    """

    score: float
    suggested: float
    attainment: float | None
    original_attainment: float | None
    rationale: str
    graded_at: datetime
    graded_by: str


def round_score(value: float) -> float:
    """``value`` rounded to one decimal, halves up, as grades and scores are.

    ``floor(round(10 * value, 9) + 0.5) / 10``: rounding to 9 decimals first
    absorbs binary floating-point error, so a true half rounds up even when its
    binary value is a hair below (``0.35``, or the mean of 0.6 and 0.7).

    Example:
        >>> round_score(0.25), round_score(0.649), round_score(0.35)
        (0.3, 0.6, 0.4)
    """
    return math.floor(round(value * 10, 9) + 0.5) / 10


def suggest_grade(attainment: float | None) -> float:
    """The grade suggested for an attainment: ``clamp(p, 0, 1)`` rounded half up to 0.1.

    An undefined attainment (no check-ins, baseline never measured) suggests 0.0.

    Example:
        >>> suggest_grade(0.25), suggest_grade(0.649), suggest_grade(1.3), suggest_grade(None)
        (0.3, 0.6, 1.0, 0.0)
    """
    if attainment is None:
        return 0.0
    return round_score(min(1.0, max(0.0, attainment)))


def _order(check_in: CheckIn) -> tuple[datetime, datetime]:
    return (check_in.effective_at, check_in.recorded_at)


def _effective(check_in: CheckIn) -> datetime:
    return check_in.effective_at


class CheckIns(Sequence[CheckIn]):
    """A key result's check-ins: an immutable sequence, ordered by effective time.

    It reads like a tuple (indexing, slicing, ``len``, iteration, ``==`` with a
    tuple of the same check-ins). Successive states of a key result share one
    list underneath: the next state's sequence is a longer view of the same
    list when its new check-in sorts last (the usual case), so recording a
    check-in, or reading the check-ins effective by an instant, costs the same
    with 10 or 100,000 check-ins, and snapshots of a long history do not each
    hold a copy. A backdated check-in, a correction or a retraction copies.

    Example:
        >>> CheckIns() == ()
        True
    """

    __slots__ = ("_derived", "_items", "_length")

    def __init__(self, check_ins: Iterable[CheckIn] = ()) -> None:
        self._items: list[CheckIn] = list(check_ins)
        self._length = len(self._items)
        self._derived: dict[Hashable, Any] | None = None

    @classmethod
    def _view(cls, items: list[CheckIn], length: int) -> CheckIns:
        view = cls.__new__(cls)
        view._items = items
        view._length = length
        view._derived = None
        return view

    def derived(self, key: Hashable, compute: Callable[[CheckIns], R]) -> R:
        """``compute(self)``, computed once per sequence (it never changes) and ``key``.

        For figures derived from all the check-ins, such as a key result's trend:
        a state whose check-ins did not change keeps its sequence, so a query
        asked again does not recompute them. ``key`` tells the figures apart and
        holds whatever else they depend on (a metric, an instant).
        """
        derived = self._derived
        if derived is None:
            derived = self._derived = {}
        if key not in derived:
            derived[key] = compute(self)
        return cast(R, derived[key])

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> CheckIn: ...

    @overload
    def __getitem__(self, index: slice) -> CheckIns: ...

    def __getitem__(self, index: int | slice) -> CheckIn | CheckIns:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if start == 0 and step == 1:
                return self.prefix(stop)
            return CheckIns(self._items[: self._length][index])
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError("check-in index out of range")
        return self._items[index]

    def __iter__(self) -> Iterator[CheckIn]:
        return itertools.islice(self._items, self._length)

    def __reversed__(self) -> Iterator[CheckIn]:
        # From the end of the shared list, skipping the check-ins after this view.
        return itertools.islice(reversed(self._items), len(self._items) - self._length, None)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CheckIns):
            return self._length == other._length and (
                (self._items is other._items) or list(self) == list(other)
            )
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"CheckIns({list(self)!r})"

    def prefix(self, length: int) -> CheckIns:
        """The first ``length`` check-ins, sharing this sequence's list."""
        return CheckIns._view(self._items, max(0, min(length, self._length)))

    def inserted(self, check_in: CheckIn) -> CheckIns:
        """A sequence with ``check_in`` added in its place (by effective, then recorded time)."""
        items, length = self._items, self._length
        at = bisect.bisect_right(items, _order(check_in), 0, length, key=_order)
        if at == length and len(items) == length:
            items.append(check_in)
            # Another state of the same lineage may have appended at once: only
            # the one whose check-in landed in the slot may share the list.
            if items[length] is check_in:
                return CheckIns._view(items, length + 1)
        return CheckIns([*items[:at], check_in, *items[at:length]])

    def without(self, check_in_id: UUID) -> CheckIns:
        """A sequence without the check-in of this id."""
        return CheckIns(c for c in self if c.id != check_in_id)

    def effective_by(self, at: datetime) -> int:
        """How many check-ins were effective at or before ``at`` (they come first)."""
        return bisect.bisect_right(self._items, at, 0, self._length, key=_effective)


def _check_ins(value: Iterable[CheckIn]) -> CheckIns:
    return value if isinstance(value, CheckIns) else CheckIns(value)


@attrs.frozen(kw_only=True)
class KeyResult(Entity):
    """A measurable outcome under an objective.

    Attributes:
        metric: the current metric (after any retarget or re-baseline).
        original_metric: the metric as first defined, to read scores against it.
        check_ins: the check-ins in effect, ordered by effective time (a
            :class:`CheckIns`, which reads like a tuple).
        source: the URL of the metric source ``okra sync`` reads it from
            (empty: none, check-ins are manual).
    """

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.KEY_RESULT)
    objective_id: UUID
    title: str
    metric: Metric
    original_metric: Metric
    unit: str
    weight: float
    owner: str
    check_ins: CheckIns = attrs.field(factory=CheckIns, converter=_check_ins)
    retracted_ids: frozenset[UUID] = frozenset()
    grade: Grade | None = None
    continues_id: UUID | None = None
    source: str = ""

    @property
    def latest(self) -> CheckIn | None:
        """The check-in with the latest effective time, if any."""
        return self.check_ins[-1] if self.check_ins else None

    @property
    def current_value(self) -> float | None:
        """The latest observed value, if any."""
        return self.check_ins[-1].value if self.check_ins else None

    @property
    def confidence(self) -> Confidence | None:
        """The confidence stated with the latest check-in that stated one."""
        for check_in in reversed(self.check_ins):
            if check_in.confidence is not None:
                return check_in.confidence
        return None

    def check_ins_by(self, at: datetime) -> CheckIns:
        """The check-ins in effect that were effective at or before ``at``."""
        return self.check_ins.prefix(self.check_ins.effective_by(at))

    def value_at(self, at: datetime) -> float | None:
        """The value of the latest check-in effective at or before ``at`` (None if none)."""
        cut = self.check_ins.effective_by(at)
        return self.check_ins[cut - 1].value if cut else None

    def attainment(self, *, original: bool = False) -> Attainment:
        """Attainment from the latest check-in (see the metric's rule).

        With ``original=True`` it is read against the metric as first defined,
        before any retarget or re-baseline (the goalposts where they started).
        """
        metric = self.original_metric if original else self.metric
        if isinstance(metric, Change) and metric.baseline is None:
            return Attainment(None, "the baseline is still to be measured")
        latest = self.latest
        if latest is None:
            return Attainment(None, "no check-ins yet")
        value = metric.attainment(latest.value)
        if isinstance(metric, Milestone):
            return Attainment(value, "done" if value == 1 else "not done yet")
        observed = f"{latest.value:g} {self.unit}".rstrip()
        return Attainment(value, f"{observed} against {metric.describe(self.unit)}")

    def find_check_in(self, check_in_id: UUID) -> CheckIn:
        """The check-in in effect with this id."""
        for check_in in self.check_ins:
            if check_in.id == check_in_id:
                return check_in
        if check_in_id in self.retracted_ids:
            raise InvalidTransitionError(f"check-in {check_in_id.hex[:8]} was retracted")
        raise ValidationError.single("check_in", f"{self.label!r} has no check-in {check_in_id}")

    def measure_baseline(self, stamp: Stamp, *, baseline: float) -> BaselineMeasured:
        """Set the baseline of a key result whose baseline was to be measured."""
        metric = self._change_metric("measure the baseline of")
        if metric.baseline is not None:
            raise self._refuse(
                "measure the baseline of",
                f"already measured ({metric.baseline:g})",
                "use rebaseline, with a reason",
            )
        return self._next(BaselineMeasured, stamp, baseline=baseline)

    def rebaseline(self, stamp: Stamp, *, baseline: float, reason: str) -> KeyResultRebaselined:
        """Replace a measured baseline."""
        metric = self._change_metric("rebaseline")
        if metric.baseline is None:
            raise self._refuse(
                "rebaseline", "still to be measured", "use measure_baseline for the first baseline"
            )
        return self._next(KeyResultRebaselined, stamp, baseline=baseline, reason=reason)

    def retarget(self, stamp: Stamp, *, metric: Metric, reason: str) -> KeyResultRetargeted:
        """Move the goalposts, keeping the kind of metric and the baseline."""
        if metric.kind != self.metric.kind:
            raise ValidationError.single(
                "metric.kind",
                f"expected {self.metric.kind} (the key result's kind), got {metric.kind}; "
                "define a new key result to measure something else",
            )
        if isinstance(metric, Milestone):
            raise self._refuse("retarget", "a milestone", "a milestone has no target to move")
        if (
            isinstance(metric, Change)
            and isinstance(self.metric, Change)
            and metric.baseline != self.metric.baseline
        ):
            raise ValidationError.single(
                "metric.baseline",
                f"expected the current baseline {self.metric.baseline}; "
                "use rebaseline to change it",
            )
        if metric == self.metric:
            raise ValidationError.single("metric", "expected a change from the current metric")
        return self._next(KeyResultRetargeted, stamp, metric=metric, reason=reason)

    def reweight(self, stamp: Stamp, *, weight: float, reason: str) -> KeyResultReweighted:
        """Change the key result's weight in its objective's rollup."""
        if weight == self.weight:
            raise ValidationError.single("weight", f"expected a change from {self.weight:g}")
        return self._next(KeyResultReweighted, stamp, weight=weight, reason=reason)

    def bind(self, stamp: Stamp, *, source: str) -> KeyResultBound:
        """Read the key result's value from a metric source (``okra sync``)."""
        if source == self.source:
            raise ValidationError.single("source", f"{self.label!r} is bound to it already")
        return self._next(KeyResultBound, stamp, source=source)

    def unbind(self, stamp: Stamp) -> KeyResultUnbound:
        """Stop reading the key result's value from its metric source."""
        if not self.source:
            raise self._refuse("unbind", "bound to no metric source")
        return self._next(KeyResultUnbound, stamp)

    def record(self, stamp: Stamp, **fields: Any) -> CheckInRecorded:
        """A new check-in."""
        return self._next(CheckInRecorded, stamp, **fields)

    def correct(self, stamp: Stamp, **fields: Any) -> CheckInCorrected:
        """Correct a check-in in effect."""
        self.find_check_in(fields["check_in_id"])
        return self._next(CheckInCorrected, stamp, **fields)

    def retract(self, stamp: Stamp, *, check_in_id: UUID, reason: str) -> CheckInRetracted:
        """Withdraw a check-in in effect."""
        self.find_check_in(check_in_id)
        return self._next(CheckInRetracted, stamp, check_in_id=check_in_id, reason=reason)

    def grade_at_close(self, stamp: Stamp, **fields: Any) -> KeyResultGraded:
        """Grade the key result as its cycle closes (once: a grade is immutable)."""
        if self.grade is not None:
            raise self._refuse("grade", f"already graded {self.grade.score:g}")
        return self._next(KeyResultGraded, stamp, **fields)

    def _change_metric(self, doing: str) -> Change:
        if not isinstance(self.metric, Change):
            raise self._refuse(
                doing, f"a {self.metric.kind} key result", "only change metrics have a baseline"
            )
        return self.metric

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case CheckInRecorded():
                check_in = CheckIn(
                    id=event.check_in_id,
                    key_result_id=self.id,
                    value=event.value,
                    confidence=event.confidence,
                    narrative=event.narrative,
                    effective_at=event.effective_at,
                    recorded_at=event.recorded_at,
                    actor=event.actor,
                    source=event.source,
                )
                return self._touched(event, check_ins=self.check_ins.inserted(check_in))
            case CheckInCorrected():
                old = self.find_check_in(event.check_in_id)
                new = attrs.evolve(
                    old,
                    value=event.value,
                    confidence=event.confidence,
                    narrative=event.narrative,
                    effective_at=event.effective_at,
                    corrected=True,
                )
                rest = self.check_ins.without(old.id)
                return self._touched(event, check_ins=rest.inserted(new))
            case CheckInRetracted(check_in_id=check_in_id):
                rest = self.check_ins.without(check_in_id)
                return self._touched(
                    event, check_ins=rest, retracted_ids=self.retracted_ids | {check_in_id}
                )
            case BaselineMeasured(baseline=baseline):
                # Measuring completes the definition; it moves no goalpost.
                metric = attrs.evolve(self._change_metric("measure"), baseline=baseline)
                original = self.original_metric
                if isinstance(original, Change) and original.baseline is None:
                    # Folding an event must never fail: if the key result was
                    # retargeted before it was measured and the original levels do
                    # not fit this baseline, the original stays as it was defined.
                    with contextlib.suppress(ValidationError):
                        original = attrs.evolve(original, baseline=baseline)
                return self._touched(event, metric=metric, original_metric=original)
            case KeyResultRebaselined(baseline=baseline):
                metric = attrs.evolve(self._change_metric("rebaseline"), baseline=baseline)
                return self._touched(event, metric=metric)
            case KeyResultRetargeted(metric=metric):
                return self._touched(event, metric=metric)
            case KeyResultReweighted(weight=weight):
                return self._touched(event, weight=weight)
            case KeyResultBound(source=source):
                return self._touched(event, source=source)
            case KeyResultUnbound():
                return self._touched(event, source="")
            case KeyResultGraded():
                grade = Grade(
                    score=event.score,
                    suggested=event.suggested,
                    attainment=event.attainment,
                    original_attainment=event.original_attainment,
                    rationale=event.rationale,
                    graded_at=event.recorded_at,
                    graded_by=event.actor,
                )
                return self._touched(event, grade=grade)
            case KeyResultContinued(from_key_result_id=source):
                return self._touched(event, continues_id=source)
        raise _unexpected(self, event)


# --- action ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Task:
    """A small step under an action."""

    id: UUID
    action_id: UUID
    title: str
    added_at: datetime
    added_by: str
    done: bool = False
    completed_at: datetime | None = None
    completed_by: str | None = None

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id."""
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        """The task's title."""
        return self.title


@attrs.frozen(kw_only=True)
class Action(Entity):
    """An idea the team will try in service of key results: a bet, not a plan."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.ACTION)
    title: str
    key_result_ids: tuple[UUID, ...]
    hypothesis: str
    investment: Investment
    expected_effects: tuple[ExpectedEffect, ...]
    odds: float | None
    kill_criteria: str
    owner: str
    status: ActionStatus = ActionStatus.PROPOSED
    learning: str = ""
    evidence: tuple[str, ...] = ()
    placed_at: datetime | None = None
    resolved_at: datetime | None = None
    tasks: tuple[Task, ...] = ()

    def place(self, stamp: Stamp) -> ActionPlaced:
        """Start investing in a proposed bet."""
        if self.status is not ActionStatus.PROPOSED:
            raise self._refuse("place", self.status.value, "only a proposed bet can be placed")
        return self._next(ActionPlaced, stamp)

    def resolve(
        self, stamp: Stamp, *, outcome: Outcome, learning: str, evidence: tuple[str, ...]
    ) -> ActionResolved:
        """Settle the bet; only once. Only a placed bet can be (in)validated."""
        if self.status.is_resolved:
            raise self._refuse("resolve", f"already {self.status.value}", "a bet resolves once")
        if self.status is ActionStatus.PROPOSED and outcome is not Outcome.ABANDONED:
            raise self._refuse(
                f"mark as {outcome.value}", "only proposed", "place the bet first, or abandon it"
            )
        return self._next(
            ActionResolved, stamp, outcome=outcome, learning=learning, evidence=evidence
        )

    def find_task(self, task_id: UUID) -> Task:
        """The task with this id."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise ValidationError.single("task", f"{self.label!r} has no task {task_id}")

    def add_task(self, stamp: Stamp, *, task_id: UUID, title: str) -> TaskAdded:
        """Add a step to an unresolved action."""
        self._require_unresolved("add a task to")
        return self._next(TaskAdded, stamp, task_id=task_id, title=title)

    def complete_task(self, stamp: Stamp, *, task_id: UUID) -> TaskCompleted:
        """Mark an open task done."""
        self._require_unresolved("complete a task of")
        task = self.find_task(task_id)
        if task.done:
            raise InvalidTransitionError(f"task {task.title!r} is already done")
        return self._next(TaskCompleted, stamp, task_id=task_id)

    def reopen_task(self, stamp: Stamp, *, task_id: UUID) -> TaskReopened:
        """Open a done task again."""
        self._require_unresolved("reopen a task of")
        task = self.find_task(task_id)
        if not task.done:
            raise InvalidTransitionError(f"task {task.title!r} is not done")
        return self._next(TaskReopened, stamp, task_id=task_id)

    def _require_unresolved(self, doing: str) -> None:
        if self.status.is_resolved:
            raise self._refuse(doing, self.status.value)

    def _with_task(self, event: Event, task_id: UUID, change: Callable[[Task], Task]) -> Self:
        tasks = tuple(change(t) if t.id == task_id else t for t in self.tasks)
        return self._touched(event, tasks=tasks)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case ActionPlaced():
                return self._touched(event, status=ActionStatus.PLACED, placed_at=event.recorded_at)
            case ActionResolved():
                return self._touched(
                    event,
                    status=ActionStatus(event.outcome.value),
                    learning=event.learning,
                    evidence=event.evidence,
                    resolved_at=event.recorded_at,
                )
            case TaskAdded():
                task = Task(
                    id=event.task_id,
                    action_id=self.id,
                    title=event.title,
                    added_at=event.recorded_at,
                    added_by=event.actor,
                )
                return self._touched(event, tasks=(*self.tasks, task))
            case TaskCompleted():
                at, by = event.recorded_at, event.actor
                return self._with_task(
                    event,
                    event.task_id,
                    lambda t: attrs.evolve(t, done=True, completed_at=at, completed_by=by),
                )
            case TaskReopened():
                return self._with_task(
                    event,
                    event.task_id,
                    lambda t: attrs.evolve(t, done=False, completed_at=None, completed_by=None),
                )
        raise _unexpected(self, event)


# --- playbook -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Playbook(Entity):
    """The organisation's OKR rules; version 0 means the defaults, never revised."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.PLAYBOOK)
    settings: PlaybookSettings = attrs.Factory(PlaybookSettings)

    @property
    def label(self) -> str:
        """Always ``playbook``."""
        return "playbook"

    @classmethod
    def default(cls) -> Playbook:
        """The playbook before anyone revised it (dated at the Unix epoch)."""
        return cls(
            id=PLAYBOOK_ID,
            version=0,
            created_at=_EPOCH,
            created_by="okra",
            updated_at=_EPOCH,
            updated_by="okra",
        )

    def revise(self, stamp: Stamp, *, settings: PlaybookSettings, reason: str) -> PlaybookRevised:
        """Replace the rules."""
        if settings == self.settings:
            raise ValidationError.single("settings", "expected a change from the current playbook")
        return self._next(PlaybookRevised, stamp, settings=settings, reason=reason)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case PlaybookRevised(settings=settings):
                if self.version == 0:
                    return attrs.evolve(self, settings=settings, **_origin(event))
                return self._touched(event, settings=settings)
        raise _unexpected(self, event)


# --- subscriptions ----------------------------------------------------------------

_SUBSCRIPTIONS = uuid5(UUID("6f6b7261-0000-4000-8000-000000000000"), "okra.subscription")


def subscription_id(channel: str, recipient: str) -> UUID:
    """The id of the one subscription of ``recipient`` on ``channel``.

    Derived from both (the recipient case-insensitively), so subscribing again
    continues the same stream instead of starting a second subscription.
    """
    return uuid5(_SUBSCRIPTIONS, f"{channel.strip()}\n{recipient.strip().lower()}")


@attrs.frozen(kw_only=True)
class Subscription(Entity):
    """Who gets which notifications on which channel.

    Attributes:
        channel: the short name of the channel (its URL is configured outside
            the log).
        recipient: the address on the channel (an email address, a room).
        kinds: the notifications wanted.
        owners: only about what these owners are responsible for (empty:
            everyone's).
        active: False once removed (until subscribed again).
        since: when it was last added or changed. Notifications about events
            are sent for the events recorded after that (by log position).
    """

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.SUBSCRIPTION)
    channel: str
    recipient: str
    kinds: tuple[NotificationKind, ...]
    owners: tuple[str, ...]
    active: bool = True
    since: datetime

    @property
    def label(self) -> str:
        """``recipient on channel``."""
        return f"{self.recipient} on {self.channel}"

    def wants(self, kind: NotificationKind, owners: tuple[str, ...] = ()) -> bool:
        """Whether it is active and wants ``kind`` about any of ``owners``.

        With no ``owners`` (something about no one in particular, such as a
        cycle closing) any subscription to ``kind`` wants it.
        """
        if not self.active or kind not in self.kinds:
            return False
        return not self.owners or not owners or any(o in self.owners for o in owners)

    def change(
        self, stamp: Stamp, *, kinds: tuple[NotificationKind, ...], owners: tuple[str, ...]
    ) -> SubscriptionAdded:
        """Subscribe again, with these kinds and owners."""
        if self.active and (kinds, owners) == (self.kinds, self.owners):
            raise ValidationError.single(
                "kinds", f"{self.label!r} is already subscribed to exactly these notifications"
            )
        return self._next(
            SubscriptionAdded,
            stamp,
            channel=self.channel,
            recipient=self.recipient,
            kinds=kinds,
            owners=owners,
        )

    def remove(self, stamp: Stamp, *, reason: str) -> SubscriptionRemoved:
        """End the subscription."""
        if not self.active:
            raise self._refuse("remove", "removed already")
        return self._next(SubscriptionRemoved, stamp, reason=reason)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case SubscriptionAdded(kinds=kinds, owners=owners):
                return self._touched(
                    event, kinds=kinds, owners=owners, active=True, since=event.recorded_at
                )
            case SubscriptionRemoved():
                return self._touched(event, active=False)
        raise _unexpected(self, event)


# --- folding events -------------------------------------------------------------

AnyEntity = Cycle | Objective | KeyResult | Action | Playbook | Subscription


def _unexpected(state: Entity, event: Event) -> AssertionError:
    return AssertionError(f"{type(event).__name__} cannot apply to {type(state).__name__}")


def _create(event: Event) -> AnyEntity:
    match event:
        case CyclePlanned():
            return Cycle(
                name=event.name,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                parent_id=event.parent_id,
                **_origin(event),
            )
        case ObjectiveDrafted():
            return Objective(
                title=event.title,
                description=event.description,
                owner=event.owner,
                cycle_id=event.cycle_id,
                kind=event.kind,
                rollup=event.rollup,
                **_origin(event),
            )
        case KeyResultDefined():
            return KeyResult(
                objective_id=event.objective_id,
                title=event.title,
                metric=event.metric,
                original_metric=event.metric,
                unit=event.unit,
                weight=event.weight,
                owner=event.owner,
                **_origin(event),
            )
        case ActionProposed():
            return Action(
                title=event.title,
                key_result_ids=event.key_result_ids,
                hypothesis=event.hypothesis,
                investment=event.investment,
                expected_effects=event.expected_effects,
                odds=event.odds,
                kill_criteria=event.kill_criteria,
                owner=event.owner,
                **_origin(event),
            )
        case PlaybookRevised():
            return Playbook.default().apply(event)
        case SubscriptionAdded():
            return Subscription(
                channel=event.channel,
                recipient=event.recipient,
                kinds=event.kinds,
                owners=event.owners,
                since=event.recorded_at,
                **_origin(event),
            )
    raise AssertionError(f"{type(event).__name__} cannot start a stream")


def project(state: AnyEntity | None, event: Event) -> AnyEntity:
    """Fold one event into an entity's state (``None`` before its first event)."""
    if state is None:
        if event.originator_version != 1:
            raise AssertionError(
                f"{event.wire_name} v{event.originator_version} has no predecessor"
            )
        return _create(event)
    if event.originator_version != state.version + 1:
        raise AssertionError(
            f"{event.wire_name} v{event.originator_version} follows v{state.version}"
        )
    return state.apply(event)
