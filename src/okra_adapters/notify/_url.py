"""Reading channel URLs: okra's own options out of the query, the rest left alone."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from okra_core import ValidationError

__all__ = ["flag", "shown", "split_options"]


def shown(url: str) -> str:
    """``url`` as messages and logs may show it: scheme, host and port only.

    A channel URL can carry a secret in its user info (``smtp://user:password@``)
    or its path (a Slack hook's ``/services/T/B/SECRET``); neither is ever shown.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port, say
        return f"{url.partition(':')[0]}://(a malformed URL)"
    return (
        f"{parts.scheme}://{host}{port}/…"
        if parts.path.strip("/")
        else f"{parts.scheme}://{host}{port}"
    )


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
