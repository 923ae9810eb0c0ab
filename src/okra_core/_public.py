"""Presenting the public names as okra_core's own, with type hints that still resolve.

Tracebacks and reprs should show ``okra_core.Okra``, not the private module
that defines it, so :func:`publish` sets ``__module__`` on each public class.
``typing.get_type_hints`` resolves a class's string annotations in the module
named by ``__module__``, where their names (``datetime``, ``UUID``, private
helpers) are not to be found; so first every annotation of every okra_core
class behind a public one is resolved in its defining module (with the public
names added, for hints that can only name ``Okra`` under ``TYPE_CHECKING``),
and stored resolved.

This happens at import, not on first use: ``attrs.fields(cls)`` gives each
field's type as stored, and nothing could resolve it later for a caller who
reads it there. The names of a defining module and the public ones are merged
once per module, not per class (that merge was most of the cost).
"""

from __future__ import annotations

import contextlib
import inspect
import sys
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["publish"]

_PACKAGE = "okra_core"


def publish(namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Resolve the type hints of ``names`` in ``namespace``, then make them okra_core's."""
    names = list(names)
    done: set[type] = set()
    scopes: dict[str, dict[str, Any]] = {}  # per defining module: its names, then the public
    for name in names:
        obj = namespace[name]
        if inspect.isclass(obj):
            for cls in reversed(obj.__mro__):  # bases first
                if cls not in done and cls.__module__.startswith(f"{_PACKAGE}."):
                    scope = scopes.get(cls.__module__)
                    if scope is None:
                        module = vars(sys.modules[cls.__module__])
                        scope = scopes[cls.__module__] = {**module, **namespace}
                    _resolve(cls, scope)
                    done.add(cls)
    for name in names:
        obj = namespace[name]
        if getattr(obj, "__module__", "").startswith(f"{_PACKAGE}."):
            with contextlib.suppress(AttributeError, TypeError):  # e.g. type aliases
                obj.__module__ = _PACKAGE


def _resolve(cls: type, names: dict[str, Any]) -> None:
    """Store ``cls``'s own annotations resolved in ``names`` (its module's, then the public)."""
    own = inspect.get_annotations(cls)  # this class's own, unevaluated
    if own:
        # Only this class's own annotations: its bases are done already.
        holder = type(
            cls.__name__, (), {"__annotations__": dict(own), "__module__": cls.__module__}
        )
        hints = typing.get_type_hints(holder, globalns=names, include_extras=True)
        cls.__annotations__ = {key: hints[key] for key in own}
    if attrs.has(cls):
        attrs.resolve_types(cls)
