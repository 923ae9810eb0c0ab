"""Key-result metrics and the attainment rule of each kind.

Notation: ``s`` baseline, ``t`` target, ``c`` the latest value, ``p`` attainment
(1.0 means the target is met). Attainment is uncapped; rollups clamp it to [0, 1].
"""

from __future__ import annotations

import itertools
from typing import ClassVar, Literal

import attrs

from ._checks import check_number, number, optional_number, raise_if
from ._errors import FieldError, ValidationError

__all__ = [
    "COMMIT_ATTAINMENT",
    "STRETCH_ATTAINMENT",
    "Attainment",
    "Change",
    "Metric",
    "Milestone",
    "Range",
    "StayAbove",
    "StayBelow",
]

COMMIT_ATTAINMENT = 0.7
"""Attainment at a key result's ``commit`` level, when it has one."""

STRETCH_ATTAINMENT = 1.3
"""Attainment at a key result's ``stretch`` level, when it has one."""


@attrs.frozen
class Attainment:
    """How far a key result is towards its target.

    Attributes:
        value: uncapped attainment (1.0 = target met, above 1 = over-achieved,
            below 0 = worse than the baseline), or ``None`` when undefined.
        reason: why it is undefined, or how it was computed.
    """

    value: float | None
    reason: str

    @property
    def is_defined(self) -> bool:
        """Whether attainment can be computed yet."""
        return self.value is not None

    @property
    def clamped(self) -> float | None:
        """Attainment clamped to [0, 1], as rollups use it."""
        return None if self.value is None else min(1.0, max(0.0, self.value))


@attrs.frozen(kw_only=True)
class Change:
    """Move a number from a baseline to a target, up or down.

    ``p = (c - s) / (t - s)``: the direction follows from ``s`` and ``t``, so
    "first response 24 h -> 4 h" is ``Change(baseline=24, target=4)``. With a
    ``baseline`` of ``None`` the baseline is still to be measured and attainment
    is undefined (not 0) until it is.

    Optional ``commit`` and ``stretch`` levels make attainment piecewise linear
    through ``(s, 0)``, ``(commit, 0.7)``, ``(t, 1.0)`` and ``(stretch, 1.3)``,
    extended beyond the ends by the nearest segment's slope.

    Example:
        >>> Change(baseline=24, target=4).attainment(14)
        0.5
    """

    kind: ClassVar[Literal["change"]] = "change"
    baseline: float | None = optional_number()
    target: float = number()
    commit: float | None = optional_number(default=None)
    stretch: float | None = optional_number(default=None)

    def __attrs_post_init__(self) -> None:
        errors = check_number("baseline", self.baseline, allow_none=True)
        errors += check_number("target", self.target)
        errors += check_number("commit", self.commit, allow_none=True)
        errors += check_number("stretch", self.stretch, allow_none=True)
        raise_if(errors)
        s, t = self.baseline, self.target
        if s is not None and s == t:
            raise ValidationError.single(
                "target", f"expected a target different from the baseline {s:g}"
            )
        # Levels must line up along the direction of travel: s < commit < t < stretch
        # (or all reversed). With no baseline yet, the direction comes from the levels.
        points = [v for v in (s, self.commit, t, self.stretch) if v is not None]
        increasing = all(a < b for a, b in itertools.pairwise(points))
        decreasing = all(a > b for a, b in itertools.pairwise(points))
        if not (increasing or decreasing):
            raise ValidationError(
                [
                    FieldError(
                        "commit" if self.commit is not None else "stretch",
                        "expected the levels in order baseline, commit, target, stretch "
                        "along one direction",
                    )
                ]
            )

    @property
    def direction(self) -> Literal["increase", "decrease"] | None:
        """``increase`` or ``decrease``; ``None`` while neither baseline nor levels tell."""
        other = self.baseline if self.baseline is not None else self.commit
        if other is None:
            if self.stretch is None:
                return None
            return "increase" if self.stretch > self.target else "decrease"
        return "increase" if self.target > other else "decrease"

    def attainment(self, value: float) -> float | None:
        """Attainment of ``value``, or ``None`` while the baseline is unmeasured."""
        if self.baseline is None:
            return None
        points = [(self.baseline, 0.0)]
        if self.commit is not None:
            points.append((self.commit, COMMIT_ATTAINMENT))
        points.append((self.target, 1.0))
        if self.stretch is not None:
            points.append((self.stretch, STRETCH_ATTAINMENT))
        # Pick the segment that holds ``value``; outside, the nearest end segment.
        segment = len(points) - 2
        sign = 1.0 if points[-1][0] > points[0][0] else -1.0
        for i in range(len(points) - 1):
            if sign * value <= sign * points[i + 1][0]:
                segment = i
                break
        (x0, y0), (x1, y1) = points[segment], points[segment + 1]
        return y0 + (value - x0) * (y1 - y0) / (x1 - x0)

    def describe(self, unit: str = "") -> str:
        """The metric in words, e.g. ``24 h -> 4 h`` or ``? -> 70 % (commit 60 %)``."""
        levels = [
            f"{name} {_num(v, unit)}"
            for name, v in (("commit", self.commit), ("stretch", self.stretch))
            if v is not None
        ]
        text = f"{_num(self.baseline, unit)} -> {_num(self.target, unit)}"
        return f"{text} ({', '.join(levels)})" if levels else text


@attrs.frozen(kw_only=True)
class StayAbove:
    """A guardrail: every observation should be at or above ``threshold``.

    Met or not per observation (``inclusive`` says whether equal counts as met);
    attainment is 1.0 when the latest observation meets it, else 0.0.
    """

    kind: ClassVar[Literal["stay_above"]] = "stay_above"
    threshold: float = number()
    inclusive: bool = True

    def __attrs_post_init__(self) -> None:
        raise_if(check_number("threshold", self.threshold) + _check_flag(self.inclusive))

    def is_met(self, value: float) -> bool:
        """Whether one observation meets the guardrail."""
        return value >= self.threshold if self.inclusive else value > self.threshold

    def attainment(self, value: float) -> float:
        """1.0 if ``value`` meets the guardrail, else 0.0."""
        return 1.0 if self.is_met(value) else 0.0

    def describe(self, unit: str = "") -> str:
        """The metric in words, e.g. ``stay >= 3 %``."""
        return f"stay {'>=' if self.inclusive else '>'} {_num(self.threshold, unit)}"


@attrs.frozen(kw_only=True)
class StayBelow:
    """A guardrail: every observation should be at or below ``threshold``."""

    kind: ClassVar[Literal["stay_below"]] = "stay_below"
    threshold: float = number()
    inclusive: bool = True

    def __attrs_post_init__(self) -> None:
        raise_if(check_number("threshold", self.threshold) + _check_flag(self.inclusive))

    def is_met(self, value: float) -> bool:
        """Whether one observation meets the guardrail."""
        return value <= self.threshold if self.inclusive else value < self.threshold

    def attainment(self, value: float) -> float:
        """1.0 if ``value`` meets the guardrail, else 0.0."""
        return 1.0 if self.is_met(value) else 0.0

    def describe(self, unit: str = "") -> str:
        """The metric in words, e.g. ``stay <= 3 %``."""
        return f"stay {'<=' if self.inclusive else '<'} {_num(self.threshold, unit)}"


@attrs.frozen(kw_only=True)
class Range:
    """Keep a number inside ``[low, high]`` (both inclusive): 1.0 inside, 0.0 outside."""

    kind: ClassVar[Literal["range"]] = "range"
    low: float = number()
    high: float = number()

    def __attrs_post_init__(self) -> None:
        errors = check_number("low", self.low) + check_number("high", self.high)
        if not errors and self.low > self.high:
            errors.append(FieldError("high", f"expected at least low ({self.low:g})"))
        raise_if(errors)

    def attainment(self, value: float) -> float:
        """1.0 if ``low <= value <= high``, else 0.0."""
        return 1.0 if self.low <= value <= self.high else 0.0

    def describe(self, unit: str = "") -> str:
        """The metric in words, e.g. ``within 4.2 .. 5 /5``."""
        return f"within {self.low:g} .. {_num(self.high, unit)}"


@attrs.frozen(kw_only=True)
class Milestone:
    """Done or not: check in 1 when it is done, 0 while it is not."""

    kind: ClassVar[Literal["milestone"]] = "milestone"

    def attainment(self, value: float) -> float:
        """The check-in value itself, 0.0 or 1.0."""
        return float(value)

    def describe(self, unit: str = "") -> str:
        """The metric in words: ``done or not``."""
        return "done or not"


def _num(value: float | None, unit: str) -> str:
    text = "?" if value is None else f"{value:g}"
    return f"{text} {unit}" if unit else text


def _check_flag(value: object) -> list[FieldError]:
    if not isinstance(value, bool):
        return [FieldError("inclusive", f"expected true or false, got {type(value).__name__}")]
    return []


Metric = Change | StayAbove | StayBelow | Range | Milestone
"""Any key-result metric. Each has a ``kind`` and an ``attainment(value)`` method."""

METRIC_TYPES: tuple[type[Metric], ...] = (Change, StayAbove, StayBelow, Range, Milestone)
METRIC_KINDS: dict[str, type[Metric]] = {m.kind: m for m in METRIC_TYPES}


def check_value(metric: Metric, value: object, path: str = "value") -> list[FieldError]:
    """Check that ``value`` is a valid observation for ``metric``."""
    errors = check_number(path, value)
    if not errors and isinstance(metric, Milestone) and value not in (0, 1):
        errors.append(
            FieldError(path, f"expected 0 (not done) or 1 (done) for a milestone, got {value}")
        )
    return errors
