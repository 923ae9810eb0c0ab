"""Warnings about a check-in: things worth a second look that are not refused.

A check-in dated outside its cycle, or a value a key result's metric can hardly
mean (a negative percentage), is recorded as given: it may be right (a late
reading of the quarter before, a loss). But the person who typed it should hear
about it, so the command line and the web show these after recording.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from ..domain._cycle import Cycle
from ..domain._key_result import CheckIn, KeyResult
from ..domain._metrics import Change, Range, StayAbove, StayBelow

__all__ = ["check_in_warnings"]

_PERCENT_UNITS: Final = frozenset({"%", "percent", "pct", "percentage"})


def check_in_warnings(key_result: KeyResult, cycle: Cycle, check_in: CheckIn) -> list[str]:
    """What looks wrong about ``check_in`` on ``key_result`` in ``cycle``, in words.

    Returns an empty list when nothing does. Two things are looked at: when the
    value was true (before the cycle started or after it ended), and the value
    itself (a percentage below 0 or above 100 where the key result's own levels
    stay within 0-100; a negative value where every level of the metric is 0 or
    more, as counts and durations are).

    Example:
        >>> from datetime import UTC, date, datetime
        >>> from okra_core import Change, ManualClock, Okra, check_in_warnings
        >>> okra = Okra("memory://", clock=ManualClock(datetime(2026, 2, 1, tzinfo=UTC)))
        >>> q = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="a")
        >>> okra.start_cycle(q, actor="a").status.value
        'active'
        >>> o = okra.draft_objective("O", cycle=q, owner="a", actor="a")
        >>> kr = okra.add_key_result(o, "Share", metric=Change(baseline=10, target=40),
        ...                          unit="%", actor="a")
        >>> okra.activate_objective(o, actor="a").status.value
        'active'
        >>> c = okra.check_in(kr, value=-5, actor="a")
        >>> check_in_warnings(okra.key_result(kr), q, c)
        ['-5 % is below 0%, which a percentage can hardly be']
    """
    warnings = []
    at = check_in.effective_at
    if at < cycle.starts_at:
        warnings.append(
            f"it is dated {at:%Y-%m-%d}, before its cycle {cycle.name} starts "
            f"({cycle.starts_at:%Y-%m-%d})"
        )
    elif at >= cycle.ends_at:
        # ends_at is the first instant after the cycle: show its last day.
        last = cycle.ends_at - timedelta(microseconds=1)
        warnings.append(
            f"it is dated {at:%Y-%m-%d}, after its cycle {cycle.name} ended ({last:%Y-%m-%d})"
        )
    levels = _levels(key_result)
    value = check_in.value
    unit = key_result.unit.strip()
    shown = f"{value:g} {unit}".strip()
    if levels and unit.casefold() in _PERCENT_UNITS and all(0 <= v <= 100 for v in levels):
        if value < 0:
            warnings.append(f"{shown} is below 0%, which a percentage can hardly be")
        elif value > 100:
            warnings.append(f"{shown} is above 100%, beyond every level of this key result")
    elif levels and value < 0 and all(v >= 0 for v in levels):
        warnings.append(f"{shown} is negative, and every level of this key result is 0 or more")
    return warnings


def _levels(key_result: KeyResult) -> list[float]:
    """The numbers a key result's metric is defined by (empty for a milestone)."""
    metric = key_result.metric
    if isinstance(metric, Change):
        found = [metric.baseline, metric.target, metric.commit, metric.stretch]
    elif isinstance(metric, StayAbove | StayBelow):
        found = [metric.threshold]
    elif isinstance(metric, Range):
        found = [metric.low, metric.high]
    else:
        return []
    return [float(v) for v in found if v is not None]
