"""Forecasts: where a key result's check-in trend is heading by its cycle's end."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from ..domain._cycle import Cycle
from ..domain._key_result import CheckIn, KeyResult
from ..domain._metrics import Change, Milestone

__all__ = ["Forecast", "forecast"]

_SECONDS_PER_DAY = 86400.0


@attrs.frozen(kw_only=True)
class Forecast:
    """A key result's value expected at its cycle's end, from its check-in trend.

    The trend is the least-squares line through the check-ins in effect (value
    against effective time), read at the cycle's end.

    Attributes:
        at: the instant forecast (the cycle's end).
        value: the value the trend reaches then, or ``None`` (see ``reason``).
        attainment: the current metric applied to ``value`` (uncapped), or
            ``None`` when ``value`` is, or the baseline is still to be measured.
        based_on: how many check-ins the line was fitted to.
        slope_per_day: the trend's change of value per day, or ``None``.
        reason: how it was computed, or why there is none.
    """

    at: datetime
    value: float | None
    attainment: float | None
    based_on: int
    slope_per_day: float | None
    reason: str


def forecast(key_result: KeyResult, cycle: Cycle) -> Forecast:
    """The value a key result's check-in trend reaches at the end of its cycle.

    Fits the least-squares line ``value = a + b * t`` through every check-in in
    effect (``t`` its effective time) and reads it at ``cycle.ends_at``:
    ``b = sum((t - t̄)(v - v̄)) / sum((t - t̄)²)``, forecast ``v̄ + b * (end - t̄)``.
    It needs at least two check-ins at distinct effective times; a milestone
    (done or not) has no trend. The forecast attainment applies the current
    metric to the forecast value, uncapped.
    """
    # The same check-ins, metric, unit and end always give the same forecast,
    # and a key result keeps its check-ins while they do not change.
    key = ("forecast", key_result.metric, key_result.unit, cycle.ends_at)
    return key_result.check_ins.derived(key, lambda _: _forecast(key_result, cycle))


def _forecast(key_result: KeyResult, cycle: Cycle) -> Forecast:
    check_ins = key_result.check_ins
    end = cycle.ends_at

    def none(reason: str) -> Forecast:
        return Forecast(
            at=end,
            value=None,
            attainment=None,
            based_on=len(check_ins),
            slope_per_day=None,
            reason=reason,
        )

    if isinstance(key_result.metric, Milestone):
        return none("a milestone is done or not: it has no trend")
    if len(check_ins) < 2:
        return none(f"needs 2 check-ins at distinct times, has {len(check_ins)}")
    line = check_ins.derived("least_squares", _least_squares)
    if line is None:
        return none("needs 2 check-ins at distinct times; all are at the same time")
    origin, x_mean, y_mean, slope = line
    x_end = (end - origin).total_seconds() / _SECONDS_PER_DAY
    value = y_mean + slope * (x_end - x_mean)
    metric = key_result.metric
    unmeasured = isinstance(metric, Change) and metric.baseline is None
    attainment = None if unmeasured else metric.attainment(value)
    unit = f" {key_result.unit}" if key_result.unit else ""
    return Forecast(
        at=end,
        value=value,
        attainment=attainment,
        based_on=len(check_ins),
        slope_per_day=slope,
        reason=(
            f"least-squares trend of {len(check_ins)} check-ins ({slope:+.4g}{unit} per day) "
            f"read at {end.isoformat()}"
        ),
    )


def _least_squares(check_ins: Sequence[CheckIn]) -> tuple[datetime, float, float, float] | None:
    """``(origin, mean day, mean value, slope per day)`` of the line through the check-ins.

    Days are counted from the first check-in (the origin). None if all the
    check-ins are at one time. Computed once per key result's check-ins.
    """
    origin = check_ins[0].effective_at
    xs = [(c.effective_at - origin).total_seconds() / _SECONDS_PER_DAY for c in check_ins]
    ys = [c.value for c in check_ins]
    x_mean = sum(xs) / len(xs)
    y_mean = sum(ys) / len(ys)
    spread = sum((x - x_mean) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, ys, strict=True)) / spread
    return origin, x_mean, y_mean, slope
