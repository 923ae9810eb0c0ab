"""Value objects and enumerations of the OKRA domain."""

from __future__ import annotations

import enum
from typing import Self
from uuid import UUID

import attrs

from ._checks import (
    check_number,
    check_probability,
    check_text,
    number,
    optional_number,
    raise_if,
)
from ._errors import FieldError, ValidationError
from ._lint_settings import LintSettings

__all__ = [
    "ActionStatus",
    "AlignmentLink",
    "CheckInSource",
    "Confidence",
    "ConfidenceScale",
    "ContinuationMode",
    "CycleStatus",
    "ExpectedEffect",
    "Investment",
    "NotificationKind",
    "NotificationRules",
    "ObjectiveKind",
    "ObjectiveStatus",
    "Outcome",
    "PaceBands",
    "PlaybookSettings",
    "RollupPolicy",
    "ScoringPolicy",
]


class CycleStatus(enum.StrEnum):
    """Lifecycle of a cycle: ``planning`` -> ``active`` -> ``closed``."""

    PLANNING = "planning"
    ACTIVE = "active"
    CLOSED = "closed"


class ObjectiveKind(enum.StrEnum):
    """How an objective's score is read: committed expects 1.0, aspirational about 0.7."""

    COMMITTED = "committed"
    ASPIRATIONAL = "aspirational"


class ObjectiveStatus(enum.StrEnum):
    """Lifecycle of an objective: ``draft`` -> ``active`` -> ``closed`` or ``abandoned``."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"
    ABANDONED = "abandoned"


class RollupPolicy(enum.StrEnum):
    """How an objective's progress is computed from its key results.

    ``mean`` is the weighted mean of clamped attainment (the default), ``min`` the
    weakest key result, ``sum`` the weighted sum (for metrics that add up).
    """

    MEAN = "mean"
    MIN = "min"
    SUM = "sum"


class AlignmentLink(enum.StrEnum):
    """A typed link from an objective to a parent objective or key result.

    ``contributes`` counts in the parent's rollup (with a weight); ``supports`` is
    shown but not counted.
    """

    CONTRIBUTES = "contributes"
    SUPPORTS = "supports"


class ContinuationMode(enum.StrEnum):
    """How an objective goes on into a later cycle.

    ``carry_over`` takes the key results not yet met, re-baselined at their latest
    value (the rest of the way is the new goal); ``clone`` copies every key result
    as defined now, to start afresh; ``extend`` copies every key result with its
    baseline and target unchanged, so progress keeps counting from where it began.
    """

    CARRY_OVER = "carry_over"
    CLONE = "clone"
    EXTEND = "extend"


class CheckInSource(enum.StrEnum):
    """Where a check-in came from."""

    MANUAL = "manual"
    IMPORT = "import"
    API = "api"
    CONNECTOR = "connector"


class ActionStatus(enum.StrEnum):
    """Lifecycle of an action (a bet).

    ``proposed`` -> ``placed`` -> one of ``validated``, ``invalidated``,
    ``inconclusive``; ``proposed`` or ``placed`` -> ``abandoned``.
    """

    PROPOSED = "proposed"
    PLACED = "placed"
    VALIDATED = "validated"
    INVALIDATED = "invalidated"
    INCONCLUSIVE = "inconclusive"
    ABANDONED = "abandoned"

    @property
    def is_resolved(self) -> bool:
        """Whether the bet has been settled one way or another."""
        return self not in (ActionStatus.PROPOSED, ActionStatus.PLACED)


class Outcome(enum.StrEnum):
    """How a bet resolved."""

    VALIDATED = "validated"
    INVALIDATED = "invalidated"
    INCONCLUSIVE = "inconclusive"
    ABANDONED = "abandoned"


class ConfidenceScale(enum.StrEnum):
    """The scales on which people state confidence, each mapped to a probability.

    ============== ======================================= =======================
    scale          given as                                probability
    ============== ======================================= =======================
    zero_to_ten    0 ... 10 (5 is the usual start)         value / 10
    percent        0 ... 100                               value / 100
    probability    0.0 ... 1.0                             value
    low_medium_high ``low``, ``medium``, ``high``          0.2, 0.5, 0.8
    red_amber_green ``red``, ``amber``, ``green``          0.2, 0.5, 0.8
    ============== ======================================= =======================
    """

    ZERO_TO_TEN = "zero_to_ten"
    PERCENT = "percent"
    PROBABILITY = "probability"
    LOW_MEDIUM_HIGH = "low_medium_high"
    RED_AMBER_GREEN = "red_amber_green"

    @property
    def labels(self) -> dict[str, float] | None:
        """The named levels of a label scale, or ``None`` for a numeric scale."""
        return _LABELS.get(self)

    @property
    def maximum(self) -> float | None:
        """The top of a numeric scale, or ``None`` for a label scale."""
        return _MAXIMA.get(self)

    def to_probability(self, given: float | str, path: str = "confidence") -> float:
        """Convert a value given on this scale to a probability in [0, 1].

        Raises:
            ValidationError: if ``given`` is not on this scale.
        """
        labels = self.labels
        if labels is not None:
            if isinstance(given, str) and given.strip().lower() in labels:
                return labels[given.strip().lower()]
            raise ValidationError.single(
                path,
                f"expected one of {', '.join(labels)} on the {self.value} scale, got {given!r}",
            )
        top = self.maximum
        assert top is not None
        errors = check_number(path, given)
        if not errors and not 0 <= given <= top:  # type: ignore[operator]
            errors = [
                FieldError(
                    path,
                    f"expected a number from 0 to {top:g} on the {self.value} scale, got {given}",
                )
            ]
        raise_if(errors)
        return float(given) / top


_LEVELS = {"low": 0.2, "medium": 0.5, "high": 0.8}
_LABELS: dict[ConfidenceScale, dict[str, float]] = {
    ConfidenceScale.LOW_MEDIUM_HIGH: _LEVELS,
    ConfidenceScale.RED_AMBER_GREEN: dict(
        zip(("red", "amber", "green"), _LEVELS.values(), strict=True)
    ),
}
_MAXIMA: dict[ConfidenceScale, float] = {
    ConfidenceScale.ZERO_TO_TEN: 10.0,
    ConfidenceScale.PERCENT: 100.0,
    ConfidenceScale.PROBABILITY: 1.0,
}


def _given_text(given: float | str) -> str:
    if isinstance(given, str):
        return given.strip().lower()
    short = f"{given:g}"
    # "7" rather than "7.0", but never at the cost of precision (1/3 stays exact).
    return short if float(short) == given else repr(float(given))


@attrs.frozen(kw_only=True)
class Confidence:
    """Someone's stated confidence that a key result will be met.

    Stored as a probability together with the scale and the value it was given on,
    so that "7 out of 10" and "amber" both survive exactly as said.

    Example:
        >>> Confidence.on(ConfidenceScale.ZERO_TO_TEN, 7).probability
        0.7
        >>> Confidence.on("red_amber_green", "Amber").given
        'amber'
    """

    probability: float
    scale: ConfidenceScale
    given: str

    def __attrs_post_init__(self) -> None:
        raise_if(check_probability("probability", self.probability))
        expected = self.scale.to_probability(_parse_given(self.scale, self.given), "given")
        if abs(expected - self.probability) > 1e-9:
            raise ValidationError.single(
                "probability",
                f"expected {expected} for {self.given!r} on the {self.scale.value} scale, "
                f"got {self.probability}",
            )

    @classmethod
    def on(cls, scale: ConfidenceScale | str, given: float | str) -> Self:
        """Build a confidence from a value given on ``scale``."""
        try:
            scale = ConfidenceScale(scale)
        except ValueError:
            raise ValidationError.single(
                "confidence.scale",
                f"expected one of {', '.join(s.value for s in ConfidenceScale)}, got {scale!r}",
            ) from None
        probability = scale.to_probability(given)
        return cls(probability=probability, scale=scale, given=_given_text(given))

    def __str__(self) -> str:
        if self.scale.labels is not None:
            return self.given
        return f"{self.given}/{self.scale.maximum:g}"


def _parse_given(scale: ConfidenceScale, given: str) -> float | str:
    if scale.labels is not None:
        return given
    try:
        return float(given)
    except ValueError:
        raise ValidationError.single("given", f"expected a number as text, got {given!r}") from None


@attrs.frozen(kw_only=True)
class Investment:
    """What a bet costs: effort (in ``effort_unit``) and, optionally, money."""

    effort: float = number()
    effort_unit: str = "person-days"
    cost: float | None = optional_number(default=None)
    currency: str = ""

    def __attrs_post_init__(self) -> None:
        errors = check_number("effort", self.effort, minimum=0)
        errors += check_text("effort_unit", self.effort_unit)
        errors += check_number("cost", self.cost, minimum=0, allow_none=True)
        if self.cost is not None and not self.currency.strip():
            errors.append(FieldError("currency", "expected a currency when a cost is given"))
        raise_if(errors)


@attrs.frozen(kw_only=True)
class ExpectedEffect:
    """What a bet is expected to do to one of its key results.

    ``change`` is the expected movement of the key result's value (negative for a
    decrease), in the key result's unit.
    """

    key_result_id: UUID
    change: float = number()
    note: str = ""

    def __attrs_post_init__(self) -> None:
        raise_if(check_number("change", self.change))


@attrs.frozen(kw_only=True)
class PaceBands:
    """How attainment is compared with expected pace ``e``.

    On track if ``p >= on_track * e``, at risk if ``p >= at_risk * e``, else off track.
    """

    on_track: float = number(default=0.9)
    at_risk: float = number(default=0.6)

    def __attrs_post_init__(self) -> None:
        errors = check_probability("on_track", self.on_track)
        errors += check_probability("at_risk", self.at_risk)
        if not errors and self.at_risk > self.on_track:
            errors.append(FieldError("at_risk", "expected at most on_track"))
        raise_if(errors)


@attrs.frozen(kw_only=True)
class ScoringPolicy:
    """How grades (0.0 to 1.0, one decimal) are read at cycle close.

    Grades below ``yellow_from`` are red, below ``green_from`` yellow, else green.
    A committed objective is expected to score ``committed_expectation``, an
    aspirational one about ``aspirational_expectation``.
    """

    yellow_from: float = number(default=0.4)
    green_from: float = number(default=0.7)
    committed_expectation: float = number(default=1.0)
    aspirational_expectation: float = number(default=0.7)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        for field in attrs.fields(type(self)):
            errors += check_probability(field.name, getattr(self, field.name))
        if not errors and self.yellow_from > self.green_from:
            errors.append(FieldError("yellow_from", "expected at most green_from"))
        raise_if(errors)


class NotificationKind(enum.StrEnum):
    """What a notification is about; subscriptions choose among these.

    ``check_in_due`` reminds an owner whose key result has had no check-in for the
    playbook's cadence; ``pace_worsened`` and ``confidence_dropped`` say a key
    result is slipping; ``action_resolved`` and ``target_changed`` pass on a bet's
    learning and a moved goalpost with its reason; ``weekly_digest`` is the focus
    list and the week's progress; ``cycle_closing`` warns that a cycle ends soon;
    ``scorecard`` gives a cycle's grades when it closes.
    """

    CHECK_IN_DUE = "check_in_due"
    PACE_WORSENED = "pace_worsened"
    CONFIDENCE_DROPPED = "confidence_dropped"
    ACTION_RESOLVED = "action_resolved"
    TARGET_CHANGED = "target_changed"
    WEEKLY_DIGEST = "weekly_digest"
    CYCLE_CLOSING = "cycle_closing"
    SCORECARD = "scorecard"


@attrs.frozen(kw_only=True)
class NotificationRules:
    """When the notification rules fire; part of the playbook.

    The check-in cadence is the playbook's own ``check_in_cadence_days``.

    Attributes:
        confidence_drop: a fall in stated confidence (as a probability) larger
            than this, from one check-in to the next, is notified.
        closing_days: a cycle that ends within this many days is "closing soon".
        digest_weekday: the day of the week the weekly digest goes out
            (0 = Monday ... 6 = Sunday).

    .. versionadded:: 0.1
    """

    confidence_drop: float = number(default=0.2)
    closing_days: int = 7
    digest_weekday: int = 0

    def __attrs_post_init__(self) -> None:
        errors = check_probability("confidence_drop", self.confidence_drop)
        for name, low, top in (("closing_days", 1, 366), ("digest_weekday", 0, 6)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
                errors.append(
                    FieldError(name, f"expected a whole number from {low} to {top}, got {value!r}")
                )
        raise_if(errors)


@attrs.frozen(kw_only=True)
class PlaybookSettings:
    """The organisation's OKR rules. Changing them is an event like any other.

    Attributes:
        check_in_cadence_days: how often each key result should get a check-in.
        confidence_scale: the scale people give confidence on by default.
        pace_bands: thresholds of the pace status.
        scoring: how grades are read at cycle close.
        max_objectives_per_owner: more than this is overload (a focus warning).
        notifications: when reminders and warnings are sent.
        lint: which lint rules run and how severe they are (see ``okra lint``).
    """

    check_in_cadence_days: int = 7
    confidence_scale: ConfidenceScale = ConfidenceScale.ZERO_TO_TEN
    pace_bands: PaceBands = attrs.Factory(PaceBands)
    scoring: ScoringPolicy = attrs.Factory(ScoringPolicy)
    max_objectives_per_owner: int = 5
    notifications: NotificationRules = attrs.Factory(NotificationRules)
    lint: LintSettings = attrs.Factory(LintSettings)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        for name, top in (("check_in_cadence_days", 366), ("max_objectives_per_owner", 1000)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
                errors.append(
                    FieldError(name, f"expected a whole number from 1 to {top}, got {value!r}")
                )
        raise_if(errors)
