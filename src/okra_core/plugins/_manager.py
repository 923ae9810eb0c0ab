"""Finding, checking and calling plugins (pluggy, project name ``okra``).

There is no plugin manager at module level: :func:`load_plugins` builds a new
one each time, and each :class:`~okra_core.Okra` holds its own, so tests never
share plugin state. Plugins come from the ``okra`` entry-point group (okra's own
storage adapters too) and from :meth:`Plugins.register`.
"""

from __future__ import annotations

import logging
import os
import sys
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
import pluggy

from .. import hookspecs
from ..domain._errors import PluginError, ValidationError
from ..domain._events import CORE_EVENTS, Event, EventRegistry
from ._installed import EntryPoint, entry_points
from ._types import (
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
    from ..app._okra import Okra

__all__ = [
    "PLUGINS_ENV_VAR",
    "PluginInfo",
    "PluginProblem",
    "Plugins",
    "hookimpl",
    "load_plugins",
]

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)
"""Marks a plugin's function as the implementation of the hook of the same name."""

PLUGINS_ENV_VAR = "OKRA_PLUGINS"
"""Chooses which entry-point plugins load: unset, all; ``a,b``, only those;
``-a,-b``, all but those; empty, none."""

_log = logging.getLogger("okra.plugins")

D = TypeVar("D")

_HOOK_NAMES = frozenset(n for n in hookspecs.__all__ if n.startswith("okra_"))


@attrs.frozen
class PluginProblem:
    """Something wrong with one plugin, reported instead of stopping okra.

    Attributes:
        plugin: the plugin's name (its entry-point name, or the name it was
            registered under).
        message: what went wrong and what was expected.
    """

    plugin: str
    message: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: {self.message}"


@attrs.frozen
class PluginInfo:
    """One registered plugin, as ``okra plugins`` lists it.

    Attributes:
        name: the plugin's name.
        hooks: the hooks it implements, sorted.
        package: the distribution that installed it (``None`` when registered
            by code rather than by an entry point).
        version: that distribution's version.
    """

    name: str
    hooks: tuple[str, ...]
    package: str | None = None
    version: str | None = None


@attrs.frozen
class _Origin:
    package: str
    version: str
    value: str


def _parse_selection(raw: str | None) -> tuple[str, frozenset[str]]:
    """``OKRA_PLUGINS`` as ``(mode, names)``; mode is all, only or except."""
    if raw is None:
        return "all", frozenset()
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if not items:
        return "only", frozenset()
    blocked = [item.startswith("-") for item in items]
    if all(blocked):
        return "except", frozenset(item[1:].strip() for item in items)
    if any(blocked):
        raise PluginError(
            f"{PLUGINS_ENV_VAR}={raw!r}: expected either names to allow (a,b) or names "
            "to block (-a,-b), not both"
        )
    return "only", frozenset(items)


class Plugins:
    """The plugins of one okra process part: a pluggy manager plus okra's checks.

    Build one with :func:`load_plugins`. Pass it to ``Okra(url, plugins=...)`` to
    share it between stores; otherwise each store loads its own.

    Attributes:
        manager: the underlying :class:`pluggy.PluginManager` (project ``okra``).
        selection: what ``OKRA_PLUGINS`` said when entry points were loaded, in
            words, for error messages (empty: all entry points were loaded).
    """

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self.selection = ""
        self._problems: dict[PluginProblem, None] = {}
        self._origins: dict[str, _Origin] = {}
        self._started: weakref.WeakSet[Okra] = weakref.WeakSet()
        self._claims: dict[tuple[str, str], str] = {}

    # --- registering ------------------------------------------------------------

    def load_entry_points(self, environ: Mapping[str, str] | None = None) -> None:
        """Register every plugin of the ``okra`` entry-point group that is selected.

        ``OKRA_PLUGINS`` (read from ``environ``, default ``os.environ``) selects
        them. A plugin that fails to import or to register is reported in
        :attr:`problems` and skipped.

        Raises:
            PluginError: if ``OKRA_PLUGINS`` is malformed.
        """
        env = os.environ if environ is None else environ
        raw = env.get(PLUGINS_ENV_VAR)
        mode, names = _parse_selection(raw)
        if mode != "all":
            self.selection = f"{PLUGINS_ENV_VAR}={raw!r}"
        found: set[str] = set()
        for ep in _discover():
            found.add(ep.name)
            if (mode == "only" and ep.name not in names) or (mode == "except" and ep.name in names):
                continue
            if ep.name in self._origins:
                first = self._origins[ep.name]
                self._report(
                    ep.name,
                    f"two plugins claim the name {ep.name!r}: {first.value} (from "
                    f"{first.package}) and {ep.value} (from {ep.package}); the second is ignored, "
                    "uninstall one of them",
                )
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                self._report(
                    ep.name, f"cannot be imported from {ep.value} ({type(exc).__name__}: {exc})"
                )
                continue
            try:
                self.register(plugin, name=ep.name)
            except PluginError as exc:
                self._report(ep.name, str(exc))
                continue
            self._origins[ep.name] = _Origin(ep.package, ep.version, ep.value)
        if mode == "only":
            for name in sorted(names - found):
                self._report(
                    name, f"{self.selection} allows it, but no installed plugin has that name"
                )

    def register(self, plugin: object, name: str | None = None) -> str:
        """Register a plugin (a module, class or object with hook functions).

        Args:
            plugin: the plugin.
            name: its name (default: the module's or class's name).

        Returns:
            The name it was registered under.

        Raises:
            PluginError: if the name is taken, or the plugin has a function that
                looks like a hook but is not one (a misspelt name), or a hook
                with arguments the hook does not offer.
        """
        if name is None:
            name = str(getattr(plugin, "__name__", None) or type(plugin).__name__)
        other = self.manager.get_plugin(name)
        if other is not None:
            raise PluginError(
                f"two plugins claim the name {name!r}: {_describe(other)} and "
                f"{_describe(plugin)}; register one under another name"
            )
        misspelt = sorted(
            attr
            for attr in dir(plugin)
            if attr.startswith("okra_")
            and attr not in _HOOK_NAMES
            and callable(getattr(plugin, attr, None))
        )
        if misspelt:
            raise PluginError(
                f"plugin {name!r} has {', '.join(misspelt)}, which is no okra hook; "
                f"expected one of: {', '.join(sorted(_HOOK_NAMES))}"
            )
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            detail = str(exc).replace("\n", "; ")
            raise PluginError(f"plugin {name!r} is invalid: {detail}") from None
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            self.manager.unregister(name=name)
            detail = str(exc).replace("\n", "; ")
            raise PluginError(f"plugin {name!r}: {detail}") from None
        for okra in list(self._started):
            self._call_each("okra_started", {"okra": okra}, only=name)
        return name

    def unregister(self, name: str) -> None:
        """Remove the plugin registered under ``name``."""
        self.manager.unregister(name=name)
        self._origins.pop(name, None)

    # --- what plugins provide ---------------------------------------------------------

    @property
    def problems(self) -> tuple[PluginProblem, ...]:
        """Problems found so far with plugins, oldest first, each once."""
        return tuple(self._problems)

    def info(self) -> list[PluginInfo]:
        """Every registered plugin with its hooks, package and version, by name."""
        result = []
        for name, plugin in self.manager.list_name_plugin():
            hooks = tuple(sorted(c.name for c in self.manager.get_hookcallers(plugin) or ()))
            origin = self._origins.get(name)
            result.append(
                PluginInfo(
                    name=name,
                    hooks=hooks,
                    package=origin.package if origin else None,
                    version=origin.version if origin else None,
                )
            )
        return sorted(result, key=lambda info: info.name)

    def storage_backends(self) -> dict[str, StorageBackend]:
        """Storage backends by URL scheme.

        Raises:
            PluginError: if two plugins serve the same scheme.
        """
        return self._unique("okra_storage_backends", StorageBackend, "storage backend")

    def storage_backend(self, url: str) -> StorageBackend:
        """The storage backend for ``url``'s scheme.

        Raises:
            ValidationError: (path ``url``) if ``url`` has no scheme or no
                installed backend serves it; the message lists those installed.
            PluginError: if two plugins serve the scheme.
        """
        backends = self.storage_backends()
        ordered = sorted(backends.values(), key=_by_name)
        installed = ", ".join(f"{b.scheme} ({b.example or b.scheme + '://'})" for b in ordered)
        scheme, sep, _ = url.partition("://")
        if not sep or not scheme:
            examples = " or ".join(b.example or b.scheme + "://" for b in ordered)
            raise ValidationError.single(
                "url", f"expected a store URL such as {examples or 'memory://'}, got {url!r}"
            )
        backend = backends.get(scheme.lower())
        if backend is None:
            where = f" ({self.selection} chooses which plugins load)" if self.selection else ""
            raise ValidationError.single(
                "url",
                f"no storage backend for {scheme}:// is installed{where}; "
                f"installed: {installed or 'none'}",
            )
        return backend

    def notifiers(self) -> dict[str, Notifier]:
        """Notifiers by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_notifiers", Notifier, "notifier")

    def cli_commands(self) -> dict[str, CliCommand]:
        """CLI commands by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_cli_commands", CliCommand, "command")

    def web_routes(self) -> dict[str, WebRoute]:
        """Web routes by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_web_routes", WebRoute, "web route")

    def access_policies(self) -> dict[str, AccessPolicy]:
        """Access policies by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_access_policies", AccessPolicy, "access policy")

    def exporters(self) -> dict[str, Exporter]:
        """Exporters by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_exporters", Exporter, "exporter")

    def lint_rules(self) -> dict[str, LintRule]:
        """Lint rules by code (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_lint_rules", LintRule, "lint rule")

    def metric_sources(self) -> dict[str, MetricSource]:
        """Metric sources by name (:class:`PluginError` if two plugins claim one)."""
        return self._unique("okra_metric_sources", MetricSource, "metric source")

    def event_registry(self) -> EventRegistry:
        """The event types of okra and of the plugins.

        Raises:
            PluginError: if two event types claim the same wire name.
        """
        collected = self._collect("okra_event_types", type, "event type")
        if not collected:
            return CORE_EVENTS
        registry = CORE_EVENTS.copy()
        for plugin, cls in collected:
            if not issubclass(cls, Event):
                self._report(plugin, f"okra_event_types: expected Event subclasses, got {cls!r}")
                continue
            try:
                registry.register(cls)
            except ValueError as exc:
                raise PluginError(f"plugin {plugin!r}: {exc}") from None
        return registry

    # --- observers ----------------------------------------------------------------

    def event_recorded(self, okra: Okra, event: Event) -> None:
        """Tell every plugin that ``okra`` recorded ``event`` (after the commit)."""
        self._call_each("okra_event_recorded", {"okra": okra, "event": event})

    def started(self, okra: Okra) -> None:
        """Tell every plugin, and those registered later, that ``okra`` is open."""
        self._started.add(okra)
        self._call_each("okra_started", {"okra": okra})

    def claimed_by(self, hook_name: str, name: str) -> str | None:
        """The plugin whose ``hook_name`` returned the thing called ``name``, if seen."""
        return self._claims.get((hook_name, name))

    def check(self) -> tuple[PluginProblem, ...]:
        """Call every registration hook now and return all problems found.

        Two plugins claiming one name are reported here rather than raised.
        """
        for collect in (
            self.storage_backends,
            self.notifiers,
            self.cli_commands,
            self.web_routes,
            self.exporters,
            self.lint_rules,
            self.metric_sources,
            self.event_registry,
        ):
            try:
                collect()
            except PluginError as exc:
                self._report("?", str(exc))
        return self.problems

    def report(self, plugin: str, message: str) -> None:
        """Record a problem with ``plugin`` (hosts such as the CLI use this too).

        It is logged at error level on the ``okra.plugins`` logger and listed in
        :attr:`problems`; the plugin's other contributions go on working.
        """
        self._report(plugin, message)

    # --- internals ----------------------------------------------------------------------

    def _report(self, plugin: str, message: str) -> None:
        problem = PluginProblem(plugin, message)
        if problem not in self._problems:
            self._problems[problem] = None
            _log.error("%s", problem)

    def _call_each(self, hook_name: str, kwargs: dict[str, Any], only: str | None = None) -> None:
        """Call a hook plugin by plugin, so one that raises does not stop the others."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook_name)
        for impl in caller.get_hookimpls():  # first registered first
            if only is not None and impl.plugin_name != only:
                continue
            try:
                impl.function(*(kwargs[arg] for arg in impl.argnames))
            except Exception as exc:
                self._report(impl.plugin_name, f"{hook_name} raised {type(exc).__name__}: {exc}")

    def _collect(self, hook_name: str, kind: type[D], what: str) -> list[tuple[str, D]]:
        """What every plugin returns from a registration hook, checked item by item."""
        caller: pluggy.HookCaller = getattr(self.manager.hook, hook_name)
        collected: list[tuple[str, D]] = []
        for impl in caller.get_hookimpls():  # first registered first
            plugin = impl.plugin_name
            try:
                result: Any = impl.function()
                if isinstance(result, kind):
                    items = [result]
                elif isinstance(result, Iterable) and not isinstance(result, str | bytes):
                    items = list(result)  # a generator may raise here
                else:
                    self._report(
                        plugin,
                        f"{hook_name} returned {result!r}; expected a list of {kind.__name__}",
                    )
                    continue
            except Exception as exc:
                self._report(plugin, f"{hook_name} raised {type(exc).__name__}: {exc}")
                continue
            for item in items:
                if isinstance(item, kind):
                    collected.append((plugin, item))
                else:
                    self._report(
                        plugin,
                        f"{hook_name} returned {item!r}; expected a {kind.__name__} for each "
                        f"{what}",
                    )
        return collected

    def _unique(self, hook_name: str, kind: type[D], what: str) -> dict[str, D]:
        owners: dict[str, str] = {}
        result: dict[str, D] = {}
        for plugin, item in self._collect(hook_name, kind, what):
            name = cast(str, item.name)  # type: ignore[attr-defined]
            if name in owners:
                raise PluginError(
                    f"two plugins claim the {what} {name!r}: {owners[name]!r} and {plugin!r}; "
                    f"uninstall or block one of them (see {PLUGINS_ENV_VAR})"
                )
            owners[name] = plugin
            result[name] = item
            self._claims[(hook_name, name)] = plugin
        return result


_DISCOVERED: dict[tuple[str, ...], tuple[EntryPoint, ...]] = {}


def _discover() -> tuple[EntryPoint, ...]:
    """The ``okra`` entry points, each with its distribution's name and version.

    Reading every installed distribution's metadata costs milliseconds, and each
    ``Okra`` loads its plugins, so what was found is remembered per ``sys.path``
    (a plugin installed while a process runs is seen by the next process). This
    caches only what is installed, never plugin objects or their state.
    """
    key = tuple(sys.path)
    cached = _DISCOVERED.get(key)
    if cached is None:
        seen: set[tuple[str, str]] = set()
        found: list[EntryPoint] = []
        for ep in entry_points(hookspecs.PROJECT):
            if (ep.name, ep.value) in seen:
                continue  # the same distribution found twice on the path
            seen.add((ep.name, ep.value))
            found.append(ep)
        cached = tuple(found)
        if len(_DISCOVERED) >= 8:
            _DISCOVERED.clear()
        _DISCOVERED[key] = cached
    return cached


def _describe(plugin: object) -> str:
    return repr(getattr(plugin, "__name__", None) or type(plugin).__name__)


def _by_name(item: StorageBackend) -> str:
    return item.name


def load_plugins(
    *plugins: object,
    entry_points: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Plugins:
    """A new plugin manager with the installed plugins (and any given here).

    Args:
        *plugins: more plugins to register, under their own names.
        entry_points: also load the ``okra`` entry-point group (okra's built-in
            adapters are there too), as ``OKRA_PLUGINS`` selects.
        environ: where to read ``OKRA_PLUGINS`` (default: ``os.environ``).

    Raises:
        PluginError: if ``OKRA_PLUGINS`` is malformed or a plugin given here is
            invalid. Problems with installed plugins are reported in
            :attr:`Plugins.problems` instead.

    Example:
        >>> from okra_core import load_plugins
        >>> sorted(load_plugins().storage_backends())
        ['memory', 'postgresql', 'sqlite']
    """
    result = Plugins()
    if entry_points:
        result.load_entry_points(environ)
    for plugin in plugins:
        result.register(plugin)
    return result
