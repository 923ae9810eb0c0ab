"""Helpers for testing okra plugins with pytest.

Every helper builds its own :class:`~okra_core.Plugins`, so nothing a test
registers leaks into another test. Use the fixture by importing it into your
``conftest.py``::

    from okra_core.testing import okra_plugins  # noqa: F401

or the context manager anywhere::

    with plugin_registered(my_plugin) as plugins:
        with Okra("memory://", plugins=plugins) as okra:
            ...

This module imports pytest; okra itself never imports it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from .plugins._manager import Plugins, load_plugins

__all__ = ["okra_plugins", "plugin_registered"]


@contextlib.contextmanager
def plugin_registered(
    plugin: object,
    *,
    name: str | None = None,
    plugins: Plugins | None = None,
    entry_points: bool = True,
) -> Iterator[Plugins]:
    """Register ``plugin`` for the ``with`` block; yield the plugins to pass to ``Okra``.

    Args:
        plugin: the plugin (a module, class or object with hook functions).
        name: its name (default: the module's or class's name).
        plugins: add it to these (default: a new :func:`~okra_core.load_plugins`).
        entry_points: when making new plugins, also load the installed ones
            (okra's storage backends among them).

    Raises:
        PluginError: if the plugin is invalid (a misspelt hook, a name taken).

    Example:
        >>> from okra_core import Okra, hookimpl
        >>> from okra_core.testing import plugin_registered
        >>> class Recorder:
        ...     seen = []
        ...     @hookimpl
        ...     def okra_event_recorded(self, event):
        ...         self.seen.append(type(event).wire_name)
        >>> with plugin_registered(Recorder()) as plugins:
        ...     with Okra("memory://", plugins=plugins) as okra:
        ...         _ = okra.revise_playbook(check_in_cadence_days=14, reason="r", actor="ana")
        >>> Recorder.seen
        ['okra.playbook.revised']
    """
    manager = plugins if plugins is not None else load_plugins(entry_points=entry_points)
    registered = manager.register(plugin, name=name)
    try:
        yield manager
    finally:
        manager.unregister(registered)


@pytest.fixture
def okra_plugins() -> Plugins:
    """A fresh plugin manager with the installed plugins, for one test.

    Register a plugin with ``okra_plugins.register(plugin)`` and open stores with
    ``Okra(url, plugins=okra_plugins)``; pass it to the CLI as
    ``CliRunner().invoke(cli, args, obj=okra_plugins)``.
    """
    return load_plugins()
