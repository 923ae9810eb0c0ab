"""Metric-source URLs: what may be bound to a key result (and so written to the log).

The URL of a source is recorded in the event log, which is kept forever and
exported: it must carry no secret. A URL may *name* a secret (``secret=NAME``);
``okra sync`` reads its value from the environment variable
``OKRA_SOURCE_SECRET_<NAME>`` when it reads the source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from ..domain._errors import FieldError, ValidationError
from ._types import MetricSource

__all__ = ["SECRET_ENV_PREFIX", "check_source_url"]

SECRET_ENV_PREFIX = "OKRA_SOURCE_SECRET_"
"""``secret=NAME`` in a source URL is read from ``$OKRA_SOURCE_SECRET_<NAME>``."""

# Query parameters that would put a secret's value in the log.
_SECRET_PARAMETERS = frozenset(
    {"access_token", "api_key", "apikey", "auth", "key", "pass", "passwd", "password", "token"}
)
_SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def check_source_url(url: object, sources: Mapping[str, MetricSource], path: str = "source") -> str:
    """``url`` stripped, if a metric source can read it and it holds no secret.

    Raises:
        ValidationError: naming ``path``: not a URL, an unknown scheme (the
            message lists the sources installed), a password or a secret-looking
            query parameter, a malformed ``secret=`` name, or whatever the
            source's own ``check`` refuses.
    """
    if not isinstance(url, str) or "://" not in url:
        shown = ", ".join(f"{s.scheme}:// (e.g. {s.example})" if s.example else s.scheme
                          for s in sources.values())  # fmt: skip
        raise ValidationError.single(
            path, f"expected a source URL, one of {shown or 'no source installed'}; got {url!r}"
        )
    url = url.strip()
    scheme = url.partition("://")[0].lower()
    source = sources.get(scheme)
    if source is None:
        known = ", ".join(sorted(sources)) or "none installed"
        raise ValidationError.single(
            path, f"no metric source serves {scheme}://; expected one of: {known}"
        )
    errors: list[FieldError] = []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError as exc:
        raise ValidationError.single(path, f"a malformed URL: {exc}") from None
    if password is not None:
        errors.append(
            FieldError(
                path,
                "expected no password in the URL (it would be kept in the log); name a secret "
                f"with secret=NAME and set {SECRET_ENV_PREFIX}NAME in the environment",
            )
        )
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in _SECRET_PARAMETERS:
            errors.append(
                FieldError(
                    path,
                    f"expected no {name}= in the URL (it would be kept in the log); name a "
                    f"secret with secret=NAME and set {SECRET_ENV_PREFIX}NAME instead",
                )
            )
        elif name == "secret" and not _SECRET_NAME.match(value):
            errors.append(
                FieldError(
                    path,
                    f"expected secret=NAME (letters, digits, '_'), the name of an "
                    f"environment variable {SECRET_ENV_PREFIX}NAME; got secret={value!r}",
                )
            )
    if errors:
        raise ValidationError(errors)
    if source.check is not None:
        try:
            source.check(url)
        except ValidationError as exc:
            raise ValidationError([FieldError(path, e.message) for e in exc.errors]) from None
        except Exception as exc:  # a plugin's check that fails some other way
            raise ValidationError.single(path, f"{scheme}:// refused it: {exc}") from None
    return url
