"""What plugins hand to okra: small frozen descriptors, checked when they are made.

Registration hooks return these (see :mod:`okra_core.hookspecs`). Each names the
thing it registers, so okra can tell which plugin claimed which name; each checks
its own fields, so a plugin that builds a bad one fails inside its own hook, where
okra reports it with the plugin's name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

if TYPE_CHECKING:
    from ..app._context import Authorizer
    from ..app._okra import Okra
    from ..store._index import KeyResultIndex
    from ..store._store import ReadModelStore
    from ._notification import Channel

__all__ = [
    "SEVERITIES",
    "AccessPolicy",
    "CliCommand",
    "Exporter",
    "LintFinding",
    "LintRule",
    "MetricSource",
    "Notifier",
    "StorageBackend",
    "WebRoute",
]

_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")


def _name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name}: expected a lowercase name "
            f"(letters, digits, '_', '-', '.'), got {value!r}"
        )


def _scheme(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not _SCHEME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name}: expected a lowercase URL scheme "
            f"without '://', got {value!r}"
        )


def _callable(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not callable(value):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name}: expected a callable, "
            f"got {type(value).__name__}"
        )


def _optional_callable(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        _callable(instance, attribute, value)


def _text(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(
            f"{type(instance).__name__}.{attribute.name}: expected text, got {type(value).__name__}"
        )


@attrs.frozen(kw_only=True)
class StorageBackend:
    """A place to keep okra's events, chosen by the scheme of the store URL.

    Attributes:
        scheme: the URL scheme it serves, without ``://`` (``sqlite``).
        description: one line for ``okra plugins`` and for error messages.
        settings: ``settings(url) -> env``: the eventsourcing settings that open
            ``url`` (``PERSISTENCE_MODULE`` and the module's own keys). Raise
            :class:`okra_core.ValidationError` with path ``url`` for a bad URL.
        read_models: ``read_models(recorder) -> ReadModelStore | None``: where the
            store keeps persisted read models beside its events, given the
            eventsourcing application recorder that ``settings`` produced. It must
            be a module-level class or function (it is stored by its import path).
            ``None`` (the default): the backend keeps no read models.
        key_result_index: ``key_result_index(recorder) -> KeyResultIndex | None``:
            the store's persisted key result index (questions about a key
            result's past read its rows instead of its whole stream), given the
            same recorder; a module-level class or function, like ``read_models``.
            :class:`okra_core.SQLKeyResultIndex` serves any DB-API database.
            ``None`` (the default): the backend keeps no index, and the past is
            read from the log.
        example: an example URL, shown when a URL is refused.

    .. versionadded:: 0.1
    """

    scheme: str = attrs.field(validator=_scheme)
    description: str = attrs.field(validator=_text)
    settings: Callable[[str], Mapping[str, str]] = attrs.field(validator=_callable)
    read_models: Callable[[Any], ReadModelStore | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )
    example: str = attrs.field(default="", validator=_text)
    key_result_index: Callable[[Any], KeyResultIndex | None] | None = attrs.field(
        default=None, validator=_optional_callable
    )

    @property
    def name(self) -> str:
        """The name plugins compete for: the scheme."""
        return self.scheme


@attrs.frozen(kw_only=True)
class Notifier:
    """A kind of notification channel (a log, a webhook, mail), chosen by URL scheme.

    Users configure each channel by a URL whose scheme picks the notifier
    (``console://stderr``, ``webhook+https://hooks.example.com/okra``,
    ``smtp://okra@mail.example.com:587?starttls=1``). okra opens the channel
    with the notifier's ``open`` and hands it rendered notifications.

    Attributes:
        scheme: the URL scheme it serves, without ``://`` (``smtp``).
        description: one line for ``okra plugins`` and for error messages.
        open: ``open(url, secret) -> Channel``: a channel for ``url``; ``secret``
            is the channel's secret (a password, a signing key) from the
            environment or settings, or ``None``; secrets never come from the
            event log. Raise :class:`okra_core.ValidationError` (path ``url``) for a
            bad URL.
        example: an example URL, shown when a URL is refused.

    .. versionchanged:: 0.1
        Registered by URL scheme, opening channels that deliver rendered
        :class:`okra_core.Notification` objects (was: ``name`` and
        ``notify(okra, event)``).
    """

    scheme: str = attrs.field(validator=_scheme)
    description: str = attrs.field(validator=_text)
    open: Callable[[str, str | None], Channel] = attrs.field(validator=_callable)
    example: str = attrs.field(default="", validator=_text)

    @property
    def name(self) -> str:
        """The name plugins compete for: the scheme."""
        return self.scheme


@attrs.frozen(kw_only=True)
class CliCommand:
    """A subcommand of the ``okra`` command line.

    Attributes:
        name: the subcommand (``okra NAME``); it must equal the click command's name.
        command: a :class:`click.Command` (typed loosely here: okra_core does not
            depend on click; the ``okra`` command checks it).
    """

    name: str = attrs.field(validator=_name)
    command: Any


@attrs.frozen(kw_only=True)
class WebRoute:
    """A page or endpoint that a web user interface mounts.

    Attributes:
        name: a unique name for the route (``example.summary``).
        path: the URL path, starting with ``/``.
        handler: the callable that answers it; its calling convention is the
            web adapter's (for ``okra serve``: a Starlette endpoint, given the
            ``Request``, returning a ``Response``).
        methods: the HTTP methods it answers.
    """

    name: str = attrs.field(validator=_name)
    path: str = attrs.field(validator=_text)
    handler: Callable[..., Any] = attrs.field(validator=_callable)
    methods: tuple[str, ...] = attrs.field(default=("GET",), converter=tuple)

    @path.validator
    def _check_path(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not value.startswith("/"):
            raise ValueError(f"WebRoute.path: expected a path starting with '/', got {value!r}")


@attrs.frozen(kw_only=True)
class AccessPolicy:
    """Who may issue which command on a store, decided by a plugin.

    Attributes:
        name: a unique name for the policy (``web.roles``).
        authorizer_for: ``authorizer_for(store_url) -> Authorizer | None``: the
            authorizer for the store at that URL (its password hidden), or None when
            the policy has nothing to say about that store. Called once when an
            :class:`~okra_core.Okra` opens without an ``authorizer`` of its own.
    """

    name: str = attrs.field(validator=_name)
    authorizer_for: Callable[[str], Authorizer | None] = attrs.field(validator=_callable)


@attrs.frozen(kw_only=True)
class Exporter:
    """A way to write an okra store out as a document (Markdown, CSV, a slide).

    Attributes:
        name: the format's name (``markdown``).
        description: one line for ``okra plugins``.
        media_type: the MIME type of what it writes (``text/markdown``).
        export: ``export(okra) -> str | bytes``: the document.
    """

    name: str = attrs.field(validator=_name)
    description: str = attrs.field(validator=_text)
    media_type: str = attrs.field(validator=_text)
    export: Callable[[Okra], str | bytes] = attrs.field(validator=_callable)


SEVERITIES = ("error", "warning", "info")
"""How bad a lint finding is, worst first. ``okra lint --strict`` fails on errors."""


def _severity(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.default is None:
        return
    if value not in SEVERITIES:
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name}: expected one of "
            f"{', '.join(SEVERITIES)}, got {value!r}"
        )


@attrs.frozen(kw_only=True)
class LintFinding:
    """One problem a lint rule found.

    Attributes:
        rule: the code of the rule that found it.
        message: what is wrong and what to do, in words; it names the entity.
        entity_id: the entity it is about, if any.
        severity: ``error``, ``warning`` or ``info``; ``None`` (the default) means
            the rule's own severity. In a :class:`okra_core.LintReport` it is always
            set: the playbook's setting for the rule, else the finding's, else the
            rule's.

    .. versionchanged:: 0.1
        ``severity`` added.
    """

    rule: str = attrs.field(validator=_text)
    message: str = attrs.field(validator=_text)
    entity_id: UUID | None = None
    severity: str | None = attrs.field(default=None, validator=_severity)


@attrs.frozen(kw_only=True)
class LintRule:
    """A check of how OKRs are written (too many key results, a vague title...).

    Attributes:
        code: a short unique code (``example.too-many-krs``).
        description: what the rule asks for, in one line.
        check: ``check(okra)`` or ``check(okra, context)``: the problems found, as
            :class:`LintFinding` objects. ``context`` is a
            :class:`okra_core.LintContext`: the entities as of the instant linted,
            the cycles in scope and the playbook's lint settings. A check that
            takes only ``okra`` reads the store as it is now; its findings about
            entities outside the cycles linted are dropped.
        severity: the severity of its findings unless they or the playbook say
            otherwise (default ``warning``).

    .. versionchanged:: 0.1
        ``severity`` added; ``check`` may take a second argument, the context.
    """

    code: str = attrs.field(validator=_name)
    description: str = attrs.field(validator=_text)
    check: Callable[..., Iterable[LintFinding]] = attrs.field(validator=_callable)
    severity: str = attrs.field(default="warning", validator=_severity)

    @property
    def name(self) -> str:
        """The name plugins compete for: the code."""
        return self.code


@attrs.frozen(kw_only=True)
class MetricSource:
    """Outside data that checks in on key results automatically, chosen by URL scheme.

    A key result is bound to a source by a URL (``okra kr bind KR URL``), whose
    scheme picks the source: ``sql+sqlite:///data.db?query=...``,
    ``json+http://127.0.0.1:8000/stats#/signups``, ``csv:///data.csv?column=mrr``.
    ``okra sync`` reads every bound key result and checks in what changed.

    Attributes:
        scheme: the URL scheme it serves, without ``://`` (``sql+sqlite``).
        description: one line for ``okra plugins`` and for error messages.
        read: ``read(url, secret) -> number``: the metric's current value. Raise
            any exception when it cannot be read (okra reports it for that key
            result, writes nothing and tries again on the next run); return
            ``None`` when there is nothing to report yet. ``secret`` is the
            secret named by the URL's ``secret=NAME`` option, from the
            environment variable ``OKRA_SOURCE_SECRET_<NAME>`` (``None`` if the
            URL names none); secrets never come from the event log.
        check: ``check(url)``, optional: raise :class:`okra_core.ValidationError`
            (path ``url``) for a URL the source cannot use, so that binding it is
            refused before anything is written.
        example: an example URL, shown when a URL is refused.

    .. versionchanged:: 0.1
        Chosen by URL scheme, reading a bound URL with ``read(url, secret)``
        (was: ``name`` and ``read(key_result)``, which had nowhere to say what to
        read, nor a way to pass a secret).
    """

    scheme: str = attrs.field(validator=_scheme)
    description: str = attrs.field(validator=_text)
    read: Callable[[str, str | None], float | None] = attrs.field(validator=_callable)
    check: Callable[[str], None] | None = attrs.field(default=None, validator=_optional_callable)
    example: str = attrs.field(default="", validator=_text)

    @property
    def name(self) -> str:
        """The name plugins compete for: the scheme."""
        return self.scheme
