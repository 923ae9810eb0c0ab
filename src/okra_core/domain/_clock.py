"""Where okra gets the time from, and the rule that all datetimes are aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol, runtime_checkable

from ._errors import ValidationError

__all__ = ["Clock", "ManualClock", "SystemClock", "as_utc"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a timezone-aware datetime."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """A clock that moves only when told to: for tests, demos and replays.

    Example:
        >>> from datetime import datetime, timedelta, UTC
        >>> clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
        >>> clock.advance(timedelta(days=7)).isoformat()
        '2026-01-12T09:00:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = as_utc("start", start)

    def now(self) -> datetime:
        """Return the instant the clock was last set to."""
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Move the clock to ``instant`` (which may be earlier) and return it."""
        self._now = as_utc("instant", instant)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant."""
        if delta < timedelta(0):
            raise ValidationError.single("delta", "expected a duration >= 0")
        self._now += delta
        return self._now

    def __repr__(self) -> str:
        return f"ManualClock({self._now.isoformat()})"


def as_utc(path: str, value: object, *, end_of_day: bool = False) -> datetime:
    """Return ``value`` as an aware UTC datetime, or raise a :class:`ValidationError`.

    A ``date`` means midnight UTC at its start (or, with ``end_of_day``, at the
    start of the next day, so that a cycle "ending 31 March" includes that day).
    Naive datetimes are refused: okra cannot guess which zone they meant.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValidationError.single(
                path,
                f"expected a timezone-aware datetime, got naive {value.isoformat()}; "
                "attach a zone, e.g. datetime(..., tzinfo=UTC)",
            )
        try:
            return _plausible(path, value.astimezone(UTC))
        except OverflowError:  # 9999-12-31T23:59-05:00 is in the year 10000 in UTC
            raise ValidationError.single(
                path, f"expected an instant within the years 1 to 9999 in UTC, got {value}"
            ) from None
    if isinstance(value, date):
        start = datetime.combine(value, time(0), tzinfo=UTC)
        try:
            return _plausible(path, start + timedelta(days=1) if end_of_day else start)
        except OverflowError:
            raise ValidationError.single(path, f"expected a date before {value}") from None
    raise ValidationError.single(
        path, f"expected a timezone-aware datetime or a date, got {type(value).__name__}"
    )


# The years okra takes instants from: anything outside is a typo (0026 for 2026,
# 9999 as "never"), not a fact about OKRs.
_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def _plausible(path: str, instant: datetime) -> datetime:
    if not _FIRST_YEAR <= instant.year <= _LAST_YEAR:
        raise ValidationError.single(
            path,
            f"expected a date between the years {_FIRST_YEAR} and {_LAST_YEAR}, "
            f"got {instant:%Y-%m-%d}",
        )
    return instant
