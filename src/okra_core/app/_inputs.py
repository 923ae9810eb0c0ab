"""Reading the arguments of commands and queries: instants, enums, lists, weights.

Each helper either returns the clean value or adds :class:`~okra_core.FieldError`
entries naming the argument, so a command can report every bad field at once.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from ..domain._checks import check_number, raise_if
from ..domain._clock import as_utc
from ..domain._errors import FieldError, ValidationError

__all__ = [
    "When",
    "check_weight",
    "collect",
    "enum_query",
    "enum_value",
    "instant",
    "sequence",
]

When = datetime | date | None
"""An instant for ``as_of`` / ``as_known_at``: an aware datetime, or a date (meaning
the end of that day, UTC); ``None`` for now."""

En = TypeVar("En", bound=enum.Enum)


def instant(path: str, value: datetime | date, now: datetime | None) -> datetime:
    """An aware instant for a query; a date means the last moment of that day (UTC).

    With ``now``, an instant in the future is refused (a date of today means now).
    """
    instant = as_utc(path, value, end_of_day=True)
    if not isinstance(value, datetime):
        instant -= timedelta(microseconds=1)
    if now is None:
        return instant
    if instant > now and not isinstance(value, datetime) and instant - now < timedelta(days=1):
        return now  # "as of today" is now
    if instant > now:
        raise ValidationError.single(path, f"expected an instant not in the future, got {value}")
    return instant


def collect(errors: list[FieldError], build: Callable[[], Any]) -> Any:
    """Run ``build``; on a validation error, add its field errors and return None."""
    try:
        return build()
    except ValidationError as exc:
        errors.extend(exc.errors)
        return None


def enum_value(errors: list[FieldError], path: str, cls: type[En], value: object) -> En:
    """``value`` as a member of ``cls`` (by value, any case); else note the error."""
    if isinstance(value, cls):
        return value
    for member in cls:
        if isinstance(value, str) and value.strip().lower() == str(member.value):
            return member
    errors.append(
        FieldError(path, f"expected one of {', '.join(str(m.value) for m in cls)}, got {value!r}")
    )
    return next(iter(cls))


def enum_query(path: str, cls: type[En], value: object) -> En | None:
    """``value`` as a member of ``cls`` for a query filter (None: no filter)."""
    if value is None:
        return None
    errors: list[FieldError] = []
    member = enum_value(errors, path, cls, value)
    raise_if(errors)
    return member


def sequence(errors: list[FieldError], path: str, value: object) -> list[Any]:
    """``value`` as a list if it is a list or tuple; else note the error, return []."""
    if isinstance(value, list | tuple):
        return list(value)
    errors.append(FieldError(path, f"expected a list, got {type(value).__name__}"))
    return []


def check_weight(path: str, weight: object) -> list[FieldError]:
    """Errors for a rollup weight that is not a number above 0."""
    errors = check_number(path, weight)
    if not errors and weight <= 0:  # type: ignore[operator]
        errors.append(FieldError(path, f"expected a weight > 0, got {weight}"))
    return errors
