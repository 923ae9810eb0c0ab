"""Values as people type them: ``42%``, ``done``, ``today``; errors in plain words.

The command line and the web read a check-in's value and its date through these,
so that both accept the same things and say the same when something is wrong.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Final

from ..domain._errors import ValidationError
from ..domain._metrics import Metric, Milestone

__all__ = ["parse_instant", "parse_value"]

_DONE: Final = frozenset({"done", "yes", "y", "met", "true", "complete", "completed", "1"})
_NOT_DONE: Final = frozenset(
    {"not done", "not-done", "no", "n", "not met", "false", "open", "pending", "0", "todo"}
)
_PERCENT_UNITS: Final = frozenset({"%", "percent", "pct", "percentage"})
_NUMBER: Final = re.compile(r"^[+-]?(\d[\d_,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_LONGEST: Final = 100


def _shown(text: str) -> str:
    text = text if len(text) <= _LONGEST else text[:_LONGEST] + "..."
    return repr(text)


def parse_value(
    text: str, *, metric: Metric | None = None, unit: str = "", path: str = "value"
) -> float:
    """A key result's value as typed: ``42``, ``1,250``, ``42%``, ``done``, ``not done``.

    ``42%`` is 42 on a key result measured in percent (unit ``%``); on one in
    another unit it is refused, since it cannot be told what it is a percentage
    of. A milestone takes ``done``/``not done`` (also yes/no, met/not met, 1/0).

    Raises:
        ValidationError: with ``path``, saying in words what was expected.

    Example:
        >>> from okra_core import Milestone, parse_value
        >>> parse_value("42%", unit="%"), parse_value("1,250")
        (42.0, 1250.0)
        >>> parse_value("done", metric=Milestone())
        1.0
    """
    if not isinstance(text, str):
        raise ValidationError.single(path, f"expected a value as text, got {type(text).__name__}")
    given = " ".join(text.split()).casefold()
    if isinstance(metric, Milestone):
        if given in _DONE:
            return 1.0
        if given in _NOT_DONE:
            return 0.0
        raise ValidationError.single(
            path, f"expected done or not done for a milestone, got {_shown(text.strip())}"
        )
    number = given
    percent = number.endswith("%")
    if percent:
        number = number[:-1].strip()
    if not _NUMBER.match(number):
        example = "42 or 42%" if unit.strip().casefold() in _PERCENT_UNITS else "42 or 1,250.5"
        raise ValidationError.single(
            path, f"expected a number such as {example}, got {_shown(text.strip())}"
        )
    if percent and unit.strip().casefold() not in _PERCENT_UNITS:
        measured = f"in {unit.strip()}" if unit.strip() else "without a unit"
        raise ValidationError.single(
            path,
            f"got {_shown(text.strip())}, a percentage, but this key result is measured "
            f"{measured}: give the number itself",
        )
    value = float(number.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise ValidationError.single(path, f"expected a number that fits, got {_shown(text)}")
    return value


def parse_instant(text: str, *, now: datetime, path: str = "effective_at") -> date | datetime:
    """A date as typed: ``today``, ``yesterday``, ``3 days ago``, ``2026-07-14`` or ISO 8601.

    ``today`` and ``yesterday`` are days of ``now``'s time zone; a date and time
    without an offset is in ``now``'s time zone too. A date (not a time) means
    that whole day, as dates mean everywhere in okra.

    Raises:
        ValidationError: with ``path``, naming the forms it takes.

    Example:
        >>> from datetime import UTC, datetime
        >>> from okra_core import parse_instant
        >>> parse_instant("yesterday", now=datetime(2026, 7, 14, 9, tzinfo=UTC))
        datetime.date(2026, 7, 13)
    """
    if not isinstance(text, str):
        raise ValidationError.single(path, f"expected a date as text, got {type(text).__name__}")
    given = " ".join(text.split()).casefold()
    today = now.date()
    if given in ("today", "now"):
        return today if given == "today" else now
    if given == "yesterday":
        return today - timedelta(days=1)
    ago = re.fullmatch(r"(\d{1,4}) (day|days|week|weeks) ago", given)
    if ago:
        days = int(ago.group(1)) * (7 if ago.group(2).startswith("week") else 1)
        return today - timedelta(days=days)
    try:
        if len(given) == 10:
            return date.fromisoformat(given)
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError.single(
            path,
            "expected a date such as today, yesterday, 3 days ago, 2026-07-14 or "
            f"2026-07-14T09:30, got {_shown(text.strip())}",
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=now.tzinfo)
