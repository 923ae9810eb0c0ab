"""A key result: its metric, its check-ins (by effective time) and its grade."""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Self, TypeVar, cast, overload
from uuid import UUID

import attrs

from ._entity import Entity, Stamp, cannot_apply
from ._errors import InvalidTransitionError, ValidationError
from ._events import (
    BaselineMeasured,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    EntityKind,
    Event,
    KeyResultBound,
    KeyResultContinued,
    KeyResultGraded,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
    KeyResultUnbound,
)
from ._metrics import Attainment, Change, Metric, Milestone
from ._values import (
    CheckInSource,
    Confidence,
)

__all__ = [
    "CheckIn",
    "CheckIns",
    "Grade",
    "KeyResult",
    "round_score",
    "suggest_grade",
]


R = TypeVar("R")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    def recorded(self, event: CheckInRecorded) -> CheckIn:
        """The check-in ``event`` records on this key result."""
        return CheckIn(
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

    def with_check_ins(self, check_ins: Iterable[CheckIn], last: CheckInRecorded) -> Self:
        """The state after the events that recorded ``check_ins``, ``last`` the latest.

        The same as applying those events one by one, without a state for each
        in between: replaying a log folds most of its check-ins this way.
        """
        sequence = self.check_ins
        for check_in in check_ins:
            sequence = sequence.inserted(check_in)
        return self._touched(last, check_ins=sequence)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case CheckInRecorded():
                return self.with_check_ins((self.recorded(event),), event)
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
        raise cannot_apply(self, event)
