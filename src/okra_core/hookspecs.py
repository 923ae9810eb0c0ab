"""The hooks a plugin can implement.

A plugin is a module or object with functions named after these hooks and marked
with :data:`okra_core.hookimpl`. It may accept fewer arguments than a hook
offers. Registration hooks return a list of descriptors; okra checks each, names
the plugin in every problem it reports, and refuses two plugins claiming the same
name. Observer hooks are told about things that happened; one that raises is
reported and does not stop the others.

``docs/plugins.md`` has a section for every hook here (a test keeps it so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

from .plugins._types import (
    AccessPolicy,
    CliCommand,
    Exporter,
    LintRule,
    MetricSource,
    Notifier,
    StorageBackend,
    WebRoute,
)

if TYPE_CHECKING:
    from .app._okra import Okra
    from .domain._events import Event

__all__ = [
    "PROJECT",
    "hookspec",
    "okra_access_policies",
    "okra_cli_commands",
    "okra_event_recorded",
    "okra_event_types",
    "okra_exporters",
    "okra_lint_rules",
    "okra_metric_sources",
    "okra_notifiers",
    "okra_started",
    "okra_storage_backends",
    "okra_web_routes",
]

PROJECT = "okra"
"""The name of the hook markers, of the plugin manager and of the entry-point group."""

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marks the hook specifications below."""


@hookspec
def okra_storage_backends() -> Iterable[StorageBackend]:
    """Storage backends, each serving one URL scheme.

    Example:
        ::

            @hookimpl
            def okra_storage_backends():
                return [StorageBackend(
                    scheme="mystore",
                    description="events in my store",
                    settings=lambda url: {"PERSISTENCE_MODULE": "my_package.persistence"},
                )]
    """
    raise NotImplementedError


@hookspec
def okra_notifiers() -> Iterable[Notifier]:
    """Notifiers, each serving one channel URL scheme.

    Example:
        ::

            class Printer:
                def deliver(self, notification):
                    print(notification.subject)

            @hookimpl
            def okra_notifiers():
                return [Notifier(scheme="print", description="print each subject",
                                 open=lambda url, secret: Printer(), example="print://")]
    """
    raise NotImplementedError


@hookspec
def okra_cli_commands() -> Iterable[CliCommand]:
    """Subcommands of the ``okra`` command line (click commands).

    Example:
        ::

            @click.command()
            def hello():
                click.echo("hello")

            @hookimpl
            def okra_cli_commands():
                return [CliCommand(name="hello", command=hello)]
    """
    raise NotImplementedError


@hookspec
def okra_web_routes() -> Iterable[WebRoute]:
    """Pages and endpoints for a web user interface.

    Example:
        ::

            @hookimpl
            def okra_web_routes():
                return [WebRoute(name="example.ping", path="/ping",
                                 handler=lambda request: PlainTextResponse("pong"))]
    """
    raise NotImplementedError


@hookspec
def okra_access_policies() -> Iterable[AccessPolicy]:
    """Policies on who may issue which command: :class:`okra_core.AccessPolicy`.

    An :class:`okra_core.Okra` opened without an ``authorizer`` asks each policy for
    an authorizer for its store; a command is allowed only when every one given
    allows it. An ``authorizer=`` passed to ``Okra`` replaces them all.

    Example:
        ::

            @hookimpl
            def okra_access_policies():
                def no_seals(actor, command, target):
                    return command != "seal"

                return [AccessPolicy(name="example.no-seals",
                                     authorizer_for=lambda url: no_seals)]
    """
    raise NotImplementedError


@hookspec
def okra_exporters() -> Iterable[Exporter]:
    """Exporters and renderers that write a store out as a document.

    Example:
        ::

            @hookimpl
            def okra_exporters():
                return [Exporter(
                    name="titles", description="the titles of all objectives",
                    media_type="text/plain",
                    export=lambda okra: ", ".join(o.title for o in okra.objectives()),
                )]
    """
    raise NotImplementedError


@hookspec
def okra_lint_rules() -> Iterable[LintRule]:
    """Rules about how OKRs are written (``okra lint``).

    A check takes ``okra`` and, if it wants it, the :class:`okra_core.LintContext`.

    Example:
        ::

            def few_key_results(okra, context):
                for objective in context.objectives():
                    if len(context.key_results(objective)) > 5:
                        yield LintFinding(rule="example.few-krs", entity_id=objective.id,
                                          message="more than five key results: keep the best")

            @hookimpl
            def okra_lint_rules():
                return [LintRule(code="example.few-krs", check=few_key_results,
                                 description="at most five key results per objective")]
    """
    raise NotImplementedError


@hookspec
def okra_metric_sources() -> Iterable[MetricSource]:
    """Sources of outside data that check in on key results automatically (``okra sync``).

    Each serves one URL scheme; key results are bound to a source by a URL.

    Example:
        ::

            @hookimpl
            def okra_metric_sources():
                return [MetricSource(scheme="example.constant", description="always 42",
                                     read=lambda url, secret: 42.0)]
    """
    raise NotImplementedError


@hookspec
def okra_event_types() -> Iterable[type[Event]]:
    """Extra event types (subclasses of :class:`okra_core.Event` with a wire name).

    They are added to the registry of every :class:`okra_core.Okra` opened
    without an explicit ``registry``.

    Example:
        ::

            @attrs.frozen(kw_only=True)
            class NoteWritten(Event):
                wire_name = "example.note.written"
                text: str

            @hookimpl
            def okra_event_types():
                return [NoteWritten]
    """
    raise NotImplementedError


@hookspec
def okra_event_recorded(okra: Okra, event: Event) -> None:
    """An event was recorded by ``okra`` (called after its write committed).

    Called once per event, in order, for the events this :class:`okra_core.Okra`
    instance wrote (not for events other processes wrote). Do not issue commands
    from here.

    Example:
        ::

            @hookimpl
            def okra_event_recorded(event):
                print(f"{event.actor} did {type(event).wire_name}")
    """


@hookspec(historic=True)
def okra_started(okra: Okra) -> None:
    """An :class:`okra_core.Okra` store was opened.

    Historic: a plugin registered later is told about every store opened before
    (and still open) with the same plugins.

    Example:
        ::

            @hookimpl
            def okra_started(okra):
                print(f"okra is open on {okra.url}")
    """
