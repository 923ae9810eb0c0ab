"""Reading channel URLs: okra's own options out of the query, the rest left alone."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from okra_core import ValidationError

__all__ = ["flag", "split_options"]


def split_options(url: str, known: frozenset[str]) -> tuple[str, dict[str, str]]:
    """``url`` without the query parameters named in ``known``, and those parameters."""
    parts = urlsplit(url)
    options: dict[str, str] = {}
    rest = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in known:
            options[name] = value
        else:
            rest.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(rest))), options


def flag(options: dict[str, str], name: str) -> bool:
    """A yes/no option: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``."""
    value = options.get(name, "0").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValidationError.single("url", f"expected {name}=1 or {name}=0, got {name}={value!r}")


def seconds(options: dict[str, str], name: str, default: float) -> float:
    """A positive number of seconds."""
    raw = options.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise ValidationError.single(
            "url", f"expected {name} in seconds (0 to 600), got {name}={raw!r}"
        )
    return value
