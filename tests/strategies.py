"""Hypothesis strategies for okra's value objects, metrics and every core event type.

Everything generated here passes the value objects' own validators; invalid data
is made by the tests themselves (by corrupting encoded records, or by choosing bad
command arguments).

``EVENT_STRATEGIES`` maps each wire name of :data:`okra_core.CORE_EVENTS` to a
strategy for that event type. A test asserts that its keys are exactly the
registry's wire names, so a new event type without a strategy fails the suite.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import strategies as st

from okra_core import (
    ActionPlaced,
    ActionProposed,
    ActionResolved,
    AlignmentLink,
    BaselineMeasured,
    Change,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    ContinuationMode,
    CycleClosed,
    CyclePlanned,
    CycleStarted,
    EntityKind,
    Event,
    ExpectedEffect,
    Investment,
    KeyResultBound,
    KeyResultContinued,
    KeyResultDefined,
    KeyResultGraded,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
    KeyResultUnbound,
    LintSettings,
    LogSealed,
    Metric,
    Milestone,
    NotificationKind,
    NotificationRules,
    ObjectiveAbandoned,
    ObjectiveActivated,
    ObjectiveAligned,
    ObjectiveClosed,
    ObjectiveContinued,
    ObjectiveDrafted,
    ObjectiveKind,
    ObjectiveReassigned,
    ObjectiveRevised,
    ObjectiveUnaligned,
    Outcome,
    PaceBands,
    PlaybookRevised,
    PlaybookSettings,
    Range,
    RollupPolicy,
    ScoringPolicy,
    StayAbove,
    StayBelow,
    SubscriptionAdded,
    SubscriptionRemoved,
    TaskAdded,
    TaskCompleted,
    TaskReopened,
)

__all__ = [
    "EVENT_STRATEGIES",
    "aware_datetimes",
    "changes",
    "confidences",
    "events",
    "expected_effects",
    "finite_floats",
    "investments",
    "metrics",
    "metrics_by_kind",
    "moderate_floats",
    "pace_bands",
    "playbook_settings",
    "probabilities",
    "raw_texts",
    "scoring_policies",
    "texts",
    "titles",
    "zones",
]

E = TypeVar("E", bound=Event)

# --- scalars ----------------------------------------------------------------------

finite_floats: st.SearchStrategy[float] = st.floats(allow_nan=False, allow_infinity=False)
"""Any finite float, from subnormals and -0.0 to +-1.8e308."""

moderate_floats: st.SearchStrategy[float] = st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False
)
"""Finite floats of everyday size, for values whose arithmetic should not overflow."""

non_negative_floats: st.SearchStrategy[float] = st.floats(
    min_value=0.0, allow_nan=False, allow_infinity=False
)
positive_floats: st.SearchStrategy[float] = st.floats(
    min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False
)
probabilities: st.SearchStrategy[float] = st.floats(min_value=0.0, max_value=1.0)

raw_texts: st.SearchStrategy[str] = st.text(max_size=40)
"""Any unicode text (no lone surrogates, which no UTF-8 store holds): events carry it."""

_printable = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")) | st.sampled_from(
    "\t\n\r"
)
texts: st.SearchStrategy[str] = st.text(_printable, max_size=40)
"""Unicode text a command accepts: no control characters but tabs and line breaks."""

titles: st.SearchStrategy[str] = st.text(_printable, min_size=1, max_size=30).filter(
    lambda s: bool(s.strip())
)
"""Text with at least one visible character, as okra requires of names."""

versions: st.SearchStrategy[int] = st.integers(min_value=1, max_value=2**63 - 1)
"""Positions in a stream: SQLite stores them as signed 64-bit integers."""

# --- aware datetimes --------------------------------------------------------------

_ZONE_NAMES = (
    "Europe/Berlin",  # DST, and local mean time (+00:53:28) before 1893
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Kiritimati",  # +14:00
)


def _named_zones() -> list[tzinfo]:
    """The zones above that this machine's tz database has (it may have none)."""
    found: list[tzinfo] = []
    for name in _ZONE_NAMES:
        try:
            found.append(ZoneInfo(name))
        except ZoneInfoNotFoundError:  # pragma: no cover - depends on the machine
            continue
    return found


def _fixed_offset(seconds: int) -> tzinfo:
    return timezone(timedelta(seconds=seconds))


zones: st.SearchStrategy[tzinfo] = st.one_of(
    st.just(UTC),
    st.sampled_from([UTC, *_named_zones()]),
    # Any offset Python allows: strictly within +-24h, to the second.
    st.integers(min_value=-86_399, max_value=86_399).map(_fixed_offset),
)
"""UTC, named zones with DST where available, and arbitrary fixed offsets."""


def _unambiguous(value: datetime) -> bool:
    # In a DST fold or gap the offset depends on ``fold``, and Python's == then
    # never equates the datetime with one in another zone (PEP 495), even though
    # the instant is well defined. Such wall times cannot round-trip by ==.
    return value.utcoffset() == value.replace(fold=1 - value.fold).utcoffset()


def aware_datetimes(
    *,
    min_value: datetime = datetime(1900, 1, 2),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value: datetime = datetime(2200, 12, 30),  # noqa: DTZ001
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in many zones, with microseconds.

    The bounds keep a day away from ``datetime.min``/``max`` so that converting to
    UTC cannot overflow.
    """
    return st.datetimes(
        min_value=min_value, max_value=max_value, timezones=zones, allow_imaginary=False
    ).filter(_unambiguous)


# --- value objects ----------------------------------------------------------------


@st.composite
def confidences(draw: st.DrawFn, scale: ConfidenceScale | None = None) -> Confidence:
    """A confidence on ``scale`` (or any scale), built with ``Confidence.on``.

    Numeric values are whole, short decimals, or any float in range (1/3 must keep
    all its digits).
    """
    chosen = draw(st.sampled_from(ConfidenceScale)) if scale is None else scale
    labels = chosen.labels
    if labels is not None:
        label = draw(st.sampled_from(sorted(labels)))
        spelled = draw(st.sampled_from([label, label.upper(), label.title(), f" {label}\t"]))
        return Confidence.on(chosen, spelled)
    top = chosen.maximum
    assert top is not None
    given: float = draw(
        st.one_of(
            st.integers(min_value=0, max_value=int(top)),
            st.integers(min_value=0, max_value=int(top * 1000)).map(lambda n: n / 1000),
            st.sampled_from([0.0, top, top / 3]),
            st.floats(min_value=0.0, max_value=top),
        )
    )
    return Confidence.on(chosen, given)


investments: st.SearchStrategy[Investment] = st.one_of(
    st.builds(
        Investment,
        effort=non_negative_floats,
        effort_unit=titles,
        cost=st.none(),
        currency=texts,
    ),
    st.builds(
        Investment,
        effort=non_negative_floats,
        effort_unit=titles,
        cost=non_negative_floats,
        currency=titles,
    ),
)
"""Investments with and without a cost (a cost needs a currency)."""


def expected_effects(
    key_result_ids: st.SearchStrategy[UUID] | None = None,
) -> st.SearchStrategy[ExpectedEffect]:
    """Expected effects on the given key results (any ids by default)."""
    return st.builds(
        ExpectedEffect,
        key_result_id=st.uuids() if key_result_ids is None else key_result_ids,
        change=finite_floats,
        note=texts,
    )


@st.composite
def pace_bands(draw: st.DrawFn) -> PaceBands:
    """Pace bands with ``at_risk <= on_track``, both in [0, 1]."""
    low, high = sorted(draw(st.lists(probabilities, min_size=2, max_size=2)))
    return PaceBands(on_track=high, at_risk=low)


@st.composite
def scoring_policies(draw: st.DrawFn) -> ScoringPolicy:
    """Scoring policies with ``yellow_from <= green_from``, all in [0, 1]."""
    yellow, green = sorted(draw(st.lists(probabilities, min_size=2, max_size=2)))
    return ScoringPolicy(
        yellow_from=yellow,
        green_from=green,
        committed_expectation=draw(probabilities),
        aspirational_expectation=draw(probabilities),
    )


_rule_codes = st.sampled_from(["okra.no-unit", "okra.stale-check-in", "mine.rule", "a"])
_lint_words = st.text(alphabet="abcdefghij -", max_size=12)


def lint_settings() -> st.SearchStrategy[LintSettings]:
    """Lint settings of a playbook (they are normalised: sorted, no duplicates)."""
    return st.builds(
        LintSettings,
        disabled=st.lists(_rule_codes, max_size=3).map(tuple),
        errors=st.lists(_rule_codes, max_size=1).map(tuple),
        max_key_results_per_objective=st.integers(min_value=1, max_value=100),
        output_words=st.lists(_lint_words, max_size=3).map(tuple),
        bau_words=st.lists(_lint_words, max_size=3).map(tuple),
        allowed_words=st.lists(_lint_words, max_size=3).map(tuple),
    )


def playbook_settings(
    *, max_whole: int = 2**63 - 1, non_default: bool = True
) -> st.SearchStrategy[PlaybookSettings]:
    """Playbook settings; by default never equal to the defaults."""
    strategy = st.builds(
        PlaybookSettings,
        check_in_cadence_days=st.integers(min_value=1, max_value=min(max_whole, 366)),
        confidence_scale=st.sampled_from(ConfidenceScale),
        pace_bands=pace_bands(),
        scoring=scoring_policies(),
        max_objectives_per_owner=st.integers(min_value=1, max_value=min(max_whole, 1000)),
        notifications=st.builds(
            NotificationRules,
            confidence_drop=probabilities,
            closing_days=st.integers(min_value=1, max_value=366),
            digest_weekday=st.integers(min_value=0, max_value=6),
        ),
        lint=lint_settings(),
    )
    if non_default:
        return strategy.filter(lambda s: s != PlaybookSettings())
    return strategy


# --- metrics ----------------------------------------------------------------------


@st.composite
def changes(
    draw: st.DrawFn,
    *,
    numbers: st.SearchStrategy[float] = finite_floats,
    measured: bool | None = None,
) -> Change:
    """A ``Change`` metric, its levels in order along one direction.

    ``measured=False`` always gives ``baseline=None`` (to be measured), ``True``
    never, ``None`` either.
    """
    has_baseline = draw(st.booleans()) if measured is None else measured
    has_commit = draw(st.booleans())
    has_stretch = draw(st.booleans())
    count = 1 + has_baseline + has_commit + has_stretch
    points = sorted(draw(st.lists(numbers, min_size=count, max_size=count, unique=True)))
    if draw(st.booleans()):
        points.reverse()
    levels = iter(points)
    baseline = next(levels) if has_baseline else None
    commit = next(levels) if has_commit else None
    target = next(levels)
    stretch = next(levels) if has_stretch else None
    return Change(baseline=baseline, target=target, commit=commit, stretch=stretch)


@st.composite
def ranges(draw: st.DrawFn, *, numbers: st.SearchStrategy[float] = finite_floats) -> Range:
    """A ``Range`` with ``low <= high`` (a one-point range is allowed)."""
    low, high = sorted(draw(st.lists(numbers, min_size=2, max_size=2)))
    return Range(low=low, high=high)


def metrics_by_kind(
    *, numbers: st.SearchStrategy[float] = finite_floats
) -> dict[str, st.SearchStrategy[Metric]]:
    """A strategy per metric kind (``Change`` with and without a measured baseline)."""
    return {
        Change.kind: changes(numbers=numbers),
        StayAbove.kind: st.builds(StayAbove, threshold=numbers, inclusive=st.booleans()),
        StayBelow.kind: st.builds(StayBelow, threshold=numbers, inclusive=st.booleans()),
        Range.kind: ranges(numbers=numbers),
        Milestone.kind: st.just(Milestone()),
    }


def metrics(*, numbers: st.SearchStrategy[float] = finite_floats) -> st.SearchStrategy[Metric]:
    """Any metric: every kind; ``Change`` with a baseline, and still to be measured."""
    return st.one_of(
        changes(numbers=numbers, measured=False), *metrics_by_kind(numbers=numbers).values()
    )


# --- events -----------------------------------------------------------------------


def _event(cls: type[E], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[E]:
    """``cls`` with the fields every event has, and ``fields``."""
    return st.builds(
        cls,
        originator_id=st.uuids(),
        originator_version=versions,
        recorded_at=aware_datetimes(),
        actor=raw_texts,
        **fields,
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def _action_proposed(draw: st.DrawFn) -> ActionProposed:
    key_result_ids = tuple(draw(st.lists(st.uuids(), min_size=1, max_size=4, unique=True)))
    effects = draw(
        st.lists(expected_effects(st.sampled_from(key_result_ids)), max_size=len(key_result_ids))
    )
    return draw(
        _event(
            ActionProposed,
            title=raw_texts,
            key_result_ids=st.just(key_result_ids),
            hypothesis=raw_texts,
            investment=investments,
            expected_effects=st.just(tuple(effects)),
            odds=_optional(probabilities),
            kill_criteria=raw_texts,
            owner=raw_texts,
        )
    )


_grades = st.integers(0, 10).map(lambda tenths: tenths / 10)
_parent_kinds = st.sampled_from([EntityKind.OBJECTIVE, EntityKind.KEY_RESULT])
_weights = positive_floats
_check_in_fields: dict[str, st.SearchStrategy[Any]] = {
    "check_in_id": st.uuids(),
    "value": finite_floats,
    "confidence": _optional(confidences()),
    "narrative": raw_texts,
    "effective_at": aware_datetimes(),
}

EVENT_STRATEGIES: dict[str, st.SearchStrategy[Event]] = {
    # cycles
    CyclePlanned.wire_name: _event(
        CyclePlanned,
        name=raw_texts,
        starts_at=aware_datetimes(),
        ends_at=aware_datetimes(),
        parent_id=_optional(st.uuids()),
    ),
    CycleStarted.wire_name: _event(CycleStarted),
    CycleClosed.wire_name: _event(CycleClosed),
    # objectives
    ObjectiveDrafted.wire_name: _event(
        ObjectiveDrafted,
        title=raw_texts,
        description=raw_texts,
        owner=raw_texts,
        cycle_id=st.uuids(),
        kind=st.sampled_from(ObjectiveKind),
        rollup=st.sampled_from(RollupPolicy),
    ),
    ObjectiveRevised.wire_name: _event(ObjectiveRevised, title=raw_texts, description=raw_texts),
    ObjectiveReassigned.wire_name: _event(ObjectiveReassigned, owner=raw_texts),
    ObjectiveActivated.wire_name: _event(ObjectiveActivated),
    ObjectiveClosed.wire_name: _event(ObjectiveClosed),
    ObjectiveAbandoned.wire_name: _event(ObjectiveAbandoned, reason=raw_texts),
    ObjectiveAligned.wire_name: _event(
        ObjectiveAligned,
        parent_id=st.uuids(),
        parent_kind=_parent_kinds,
        link=st.sampled_from(AlignmentLink),
        weight=_weights,
    ),
    ObjectiveUnaligned.wire_name: _event(ObjectiveUnaligned, parent_id=st.uuids()),
    ObjectiveContinued.wire_name: _event(
        ObjectiveContinued, from_objective_id=st.uuids(), mode=st.sampled_from(ContinuationMode)
    ),
    # key results
    KeyResultDefined.wire_name: _event(
        KeyResultDefined,
        objective_id=st.uuids(),
        title=raw_texts,
        metric=metrics(),
        unit=raw_texts,
        weight=_weights,
        owner=raw_texts,
    ),
    BaselineMeasured.wire_name: _event(BaselineMeasured, baseline=finite_floats),
    KeyResultRebaselined.wire_name: _event(
        KeyResultRebaselined, baseline=finite_floats, reason=raw_texts
    ),
    KeyResultRetargeted.wire_name: _event(KeyResultRetargeted, metric=metrics(), reason=raw_texts),
    KeyResultReweighted.wire_name: _event(KeyResultReweighted, weight=_weights, reason=raw_texts),
    KeyResultBound.wire_name: _event(KeyResultBound, source=raw_texts),
    KeyResultUnbound.wire_name: _event(KeyResultUnbound),
    CheckInRecorded.wire_name: _event(
        CheckInRecorded, **_check_in_fields, source=st.sampled_from(CheckInSource)
    ),
    CheckInCorrected.wire_name: _event(CheckInCorrected, **_check_in_fields, reason=raw_texts),
    CheckInRetracted.wire_name: _event(CheckInRetracted, check_in_id=st.uuids(), reason=raw_texts),
    KeyResultGraded.wire_name: _event(
        KeyResultGraded,
        score=_grades,
        suggested=_grades,
        attainment=_optional(finite_floats),
        original_attainment=_optional(finite_floats),
        rationale=raw_texts,
    ),
    KeyResultContinued.wire_name: _event(KeyResultContinued, from_key_result_id=st.uuids()),
    # actions and tasks
    ActionProposed.wire_name: _action_proposed(),
    ActionPlaced.wire_name: _event(ActionPlaced),
    ActionResolved.wire_name: _event(
        ActionResolved,
        outcome=st.sampled_from(Outcome),
        learning=raw_texts,
        evidence=st.lists(texts, max_size=3).map(tuple),
    ),
    TaskAdded.wire_name: _event(TaskAdded, task_id=st.uuids(), title=raw_texts),
    TaskCompleted.wire_name: _event(TaskCompleted, task_id=st.uuids()),
    TaskReopened.wire_name: _event(TaskReopened, task_id=st.uuids()),
    # the playbook
    PlaybookRevised.wire_name: _event(
        PlaybookRevised, settings=playbook_settings(), reason=raw_texts
    ),
    # subscriptions
    SubscriptionAdded.wire_name: _event(
        SubscriptionAdded,
        channel=raw_texts,
        recipient=raw_texts,
        kinds=st.lists(st.sampled_from(NotificationKind), max_size=3).map(tuple),
        owners=st.lists(raw_texts, max_size=3).map(tuple),
    ),
    SubscriptionRemoved.wire_name: _event(SubscriptionRemoved, reason=raw_texts),
    # the log itself
    LogSealed.wire_name: _event(
        LogSealed,
        size=st.integers(min_value=0, max_value=2**53),
        root=st.binary(min_size=32, max_size=32).map(bytes.hex),
    ),
}
"""A strategy per core event type, by wire name."""


def events() -> st.SearchStrategy[Event]:
    """Any core event, every type equally likely."""
    return st.one_of(*(EVENT_STRATEGIES[name] for name in sorted(EVENT_STRATEGIES)))
