"""Plain JSON-ready data from okra's objects, for scripts, APIs and exports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import cattrs
from cattrs.gen import make_dict_unstructure_fn

from ..domain._entity import Entity
from ..domain._events import Event
from ..domain._metrics import Metric
from ._codec import make_converter

__all__ = ["to_data"]


def _tagged(converter: cattrs.Converter, key: str, tag: Callable[[Any], str]) -> Any:
    def factory(cls: Any) -> Callable[[Any], dict[str, Any]]:
        fields = make_dict_unstructure_fn(cls, converter)

        def unstructure(obj: Any) -> dict[str, Any]:
            return {key: tag(obj), **fields(obj)}

        return unstructure

    return factory


@functools.cache
def _converter() -> cattrs.Converter:
    converter = make_converter()
    converter.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, Entity),
        _tagged(converter, "kind", lambda e: str(e.entity_kind)),
    )
    converter.register_unstructure_hook_factory(
        lambda t: isinstance(t, type) and issubclass(t, Event),
        _tagged(converter, "type", lambda e: e.wire_name),
    )
    return converter


def to_data(obj: Any) -> Any:
    """``obj`` as plain data: dicts, lists, strings, numbers, booleans and None.

    Works on entities (tagged with their ``kind``), events (tagged with their
    ``type``, the wire name), query results and lists or dicts of them. Ids become
    hex strings with dashes, instants ISO 8601 strings (UTC), enums their values,
    sets sorted lists, and metrics objects tagged with their ``kind``.

    Example:
        >>> from okra_core import to_data, Change
        >>> to_data(Change(baseline=24, target=4))
        {'kind': 'change', 'baseline': 24.0, 'target': 4.0, 'commit': None, 'stretch': None}
    """
    if isinstance(obj, list | tuple):
        return [to_data(item) for item in obj]
    if isinstance(obj, dict):
        return {str(to_data(key)): to_data(value) for key, value in obj.items()}
    return _converter().unstructure(obj, Metric if isinstance(obj, Metric) else type(obj))
