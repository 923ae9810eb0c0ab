"""The attainment rule of every key-result kind, and what a metric refuses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import (
    COMMIT_ATTAINMENT,
    STRETCH_ATTAINMENT,
    Change,
    Milestone,
    Range,
    StayAbove,
    StayBelow,
    ValidationError,
)


@pytest.mark.parametrize(
    ("baseline", "target", "value", "expected"),
    [
        (0, 100, 50, 0.5),  # increase, halfway
        (0, 100, 100, 1.0),  # target met
        (0, 100, 150, 1.5),  # over-achieved: uncapped
        (0, 100, -20, -0.2),  # worse than the baseline: negative
        (24, 4, 24, 0.0),  # decrease: at the baseline
        (24, 4, 14, 0.5),  # "first response 24 h -> 4 h", halfway
        (24, 4, 4, 1.0),
        (24, 4, 2, 1.1),  # faster than the target
        (24, 4, 30, -0.3),
    ],
)
def test_change_attainment(baseline: float, target: float, value: float, expected: float) -> None:
    metric = Change(baseline=baseline, target=target)
    assert metric.attainment(value) == pytest.approx(expected)


def test_change_direction_follows_from_baseline_and_target() -> None:
    assert Change(baseline=24, target=4).direction == "decrease"
    assert Change(baseline=4, target=24).direction == "increase"
    assert Change(baseline=None, target=70).direction is None
    assert Change(baseline=None, target=70, commit=60).direction == "increase"


def test_baseline_to_be_measured_is_undefined_not_zero() -> None:
    assert Change(baseline=None, target=70).attainment(50) is None


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(baseline=finite, target=finite, value=finite)
def test_change_is_the_linear_formula_without_levels(
    baseline: float, target: float, value: float
) -> None:
    if baseline == target or abs(target - baseline) < 1e-6:
        return
    attainment = Change(baseline=baseline, target=target).attainment(value)
    assert attainment == pytest.approx((value - baseline) / (target - baseline), rel=1e-9)


def test_commit_and_stretch_levels_are_piecewise_linear() -> None:
    metric = Change(baseline=10, target=30, commit=20, stretch=40)
    assert metric.attainment(10) == pytest.approx(0.0)
    assert metric.attainment(15) == pytest.approx(COMMIT_ATTAINMENT / 2)
    assert metric.attainment(20) == pytest.approx(COMMIT_ATTAINMENT)
    assert metric.attainment(25) == pytest.approx((COMMIT_ATTAINMENT + 1) / 2)
    assert metric.attainment(30) == pytest.approx(1.0)
    assert metric.attainment(40) == pytest.approx(STRETCH_ATTAINMENT)
    # Beyond the ends, the nearest segment's slope continues.
    assert metric.attainment(50) == pytest.approx(STRETCH_ATTAINMENT + (STRETCH_ATTAINMENT - 1))
    assert metric.attainment(0) == pytest.approx(-COMMIT_ATTAINMENT)


def test_levels_work_for_a_decrease_too() -> None:
    metric = Change(baseline=24, target=4, commit=12, stretch=2)
    assert metric.attainment(12) == pytest.approx(COMMIT_ATTAINMENT)
    assert metric.attainment(4) == pytest.approx(1.0)
    assert metric.attainment(2) == pytest.approx(STRETCH_ATTAINMENT)


@given(st.lists(st.floats(min_value=-1e4, max_value=1e4), min_size=2, max_size=2, unique=True))
def test_levels_make_attainment_monotonic(values: list[float]) -> None:
    metric = Change(baseline=10, target=30, commit=20, stretch=40)
    low, high = sorted(values)
    low_attainment, high_attainment = metric.attainment(low), metric.attainment(high)
    assert low_attainment is not None
    assert high_attainment is not None
    assert low_attainment <= high_attainment


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        (StayAbove(threshold=99.5), 99.9, 1.0),
        (StayAbove(threshold=99.5), 99.5, 1.0),  # inclusive by default
        (StayAbove(threshold=99.5, inclusive=False), 99.5, 0.0),
        (StayAbove(threshold=99.5), 99.0, 0.0),
        (StayBelow(threshold=3.0), 2.9, 1.0),
        (StayBelow(threshold=3.0), 3.0, 1.0),
        (StayBelow(threshold=3.0, inclusive=False), 3.0, 0.0),
        (StayBelow(threshold=3.0), 3.1, 0.0),
        (Range(low=4.2, high=5.0), 4.2, 1.0),
        (Range(low=4.2, high=5.0), 5.0, 1.0),
        (Range(low=4.2, high=5.0), 4.1, 0.0),
        (Range(low=4.2, high=5.0), 5.1, 0.0),
        (Milestone(), 0, 0.0),
        (Milestone(), 1, 1.0),
    ],
)
def test_binary_metrics(
    metric: StayAbove | StayBelow | Range | Milestone, value: float, expected: float
) -> None:
    assert metric.attainment(value) == expected


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: Change(baseline=5, target=5), "target"),
        (lambda: Change(baseline=math.nan, target=5), "baseline"),
        (lambda: Change(baseline=0, target=math.inf), "target"),
        (lambda: Change(baseline=0, target=10, commit=12), "commit"),
        (lambda: Change(baseline=0, target=10, stretch=8), "stretch"),
        (lambda: Change(baseline=0, target="10"), "target"),  # type: ignore[arg-type]
        (lambda: StayAbove(threshold=math.nan), "threshold"),
        (lambda: StayAbove(threshold=1, inclusive="yes"), "inclusive"),  # type: ignore[arg-type]
        (lambda: Range(low=5, high=4), "high"),
        (lambda: Change(baseline=None, target=10**400), "target"),  # too large for a float
        (lambda: Range(low=0, high=10**400), "high"),
    ],
)
def test_invalid_metrics_are_refused_with_the_field(build: object, path: str) -> None:
    assert callable(build)
    with pytest.raises(ValidationError) as info:
        build()
    assert path in info.value.paths


def test_describe() -> None:
    assert Change(baseline=24, target=4).describe("h") == "24 h -> 4 h"
    assert Change(baseline=None, target=70, commit=60).describe() == "? -> 70 (commit 60)"
    assert StayBelow(threshold=3).describe("%") == "stay <= 3 %"
    assert StayAbove(threshold=3, inclusive=False).describe() == "stay > 3"
    assert Range(low=1, high=2).describe() == "within 1 .. 2"
