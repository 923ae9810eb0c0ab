"""Small validators shared by value objects and commands.

Each returns a list of :class:`FieldError` rather than raising, so that a command
can report every bad field at once before it writes anything.
"""

from __future__ import annotations

import math
import re
from typing import Any

import attrs

from ._errors import FieldError, ValidationError

__all__ = [
    "check_number",
    "check_probability",
    "check_text",
    "join",
    "number",
    "optional_number",
    "prefixed",
    "raise_if",
]


def join(prefix: str, path: str) -> str:
    """Join two parts of a dotted field path, either of which may be empty."""
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}.{path}"


def check_number(
    path: str, value: object, *, minimum: float | None = None, allow_none: bool = False
) -> list[FieldError]:
    """Check that ``value`` is a finite real number (not a bool), at least ``minimum``."""
    if value is None and allow_none:
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [FieldError(path, f"expected a number, got {type(value).__name__}")]
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return [FieldError(path, "expected a number within +/-1.8e308, got a larger one")]
    if not finite:
        return [FieldError(path, f"expected a finite number, got {value}")]
    if minimum is not None and value < minimum:
        return [FieldError(path, f"expected a number >= {minimum:g}, got {value:g}")]
    return []


def check_probability(path: str, value: object) -> list[FieldError]:
    """Check that ``value`` is a number in [0, 1]."""
    errors = check_number(path, value)
    if not errors and not 0.0 <= value <= 1.0:  # type: ignore[operator]
        errors.append(FieldError(path, f"expected a probability in [0, 1], got {value}"))
    return errors


def check_text(
    path: str, value: object, *, required: bool = True, max_length: int = 10_000
) -> list[FieldError]:
    """Check that ``value`` is a string; if ``required``, one with visible characters."""
    if not isinstance(value, str):
        return [FieldError(path, f"expected text, got {type(value).__name__}")]
    if required and not value.strip():
        return [FieldError(path, "expected non-empty text")]
    if len(value) > max_length:
        return [FieldError(path, f"expected at most {max_length} characters, got {len(value)}")]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return [FieldError(path, "expected valid Unicode text (it holds a lone surrogate)")]
    control = _CONTROL.search(value)
    if control is not None:
        code = ord(control.group())
        return [
            FieldError(
                path,
                f"expected printable text; it holds the control character U+{code:04X} "
                "(only tabs and line breaks are allowed)",
            )
        ]
    return []


# C0 and C1 control characters other than tab, line feed and carriage return: an
# escape sequence in a title would reach every terminal that lists it. Also the
# bidirectional overrides and isolates, which make text read other than it is.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def prefixed(prefix: str, error: ValidationError) -> ValidationError:
    """Return ``error`` with every path put under ``prefix``."""
    return ValidationError(
        [FieldError(join(prefix, e.path), e.message) for e in error.errors], summary=error.summary
    )


def raise_if(errors: list[FieldError], summary: str = "invalid input") -> None:
    """Raise a :class:`ValidationError` listing ``errors``, if there are any."""
    if errors:
        raise ValidationError(errors, summary=summary)


def _to_float(value: float) -> float:
    # Whole numbers become floats so that a value reads the same live and after a
    # round trip through storage. Anything else (a string, an int too large for a
    # float) is left as it is, for the validators to refuse with the field's name.
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _to_float_or_none(value: float | None) -> float | None:
    return None if value is None else _to_float(value)


def number(**kwargs: Any) -> Any:
    """An attrs field for a float that stores whole numbers as floats."""
    return attrs.field(converter=_to_float, **kwargs)


def optional_number(**kwargs: Any) -> Any:
    """An attrs field for a float or ``None`` that stores whole numbers as floats."""
    return attrs.field(converter=_to_float_or_none, **kwargs)
