"""The persisted read model: every entity's current state, saved with its log position.

Opening a store then loads the saved states and folds in only the events recorded
after that position, instead of replaying the whole log. The saved form carries a
fingerprint of the code that made it (event types and schema versions, entity
fields, okra's version and a format number): if any of it differs, or the data
cannot be read, the read model is rebuilt from the log, which stays the only
source of truth.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Final
from uuid import UUID

import attrs
import cattrs

from ..codec._codec import JSONBytes, make_converter
from ..codec._fast import value_structurer
from ..domain import (
    _action,
    _cycle,
    _entity,
    _fold,
    _key_result,
    _metrics,
    _objective,
    _playbook,
    _seal,
    _values,
)
from ..domain._action import Action
from ..domain._cycle import Cycle
from ..domain._events import EventRegistry
from ..domain._fold import AnyEntity
from ..domain._key_result import CheckIn, CheckIns, KeyResult
from ..domain._objective import Objective
from ..domain._playbook import Playbook, Subscription
from ..domain._seal import Seal
from ..plugins._installed import version as installed_version

__all__ = ["READ_MODEL_NAME", "dump_states", "fingerprint", "load_states"]

READ_MODEL_NAME: Final = "okra.entities"
# Bump when the folding rules change without any field changing.
_FORMAT: Final = 1
_KINDS: Final[dict[str, type[AnyEntity]]] = {
    "cycle": Cycle,
    "objective": Objective,
    "key_result": KeyResult,
    "action": Action,
    "playbook": Playbook,
    "subscription": Subscription,
    "log": Seal,
}
# The modules whose code decides what a state is: folding rules, metrics, values.
_RULES: Final = (
    _entity,
    _cycle,
    _objective,
    _key_result,
    _action,
    _playbook,
    _seal,
    _fold,
    _metrics,
    _values,
)

log = logging.getLogger("okra")


def fingerprint(registry: EventRegistry) -> str:
    """What a saved read model must match to be used: the code that folded it.

    It covers the event types and their schema versions, the shape of every
    class an entity's state can hold (fields, their types and defaults, all the
    way down), the source of the modules whose rules fold events and build values,
    okra's version and a format number.
    """
    parts = [*_code_parts()]
    parts += sorted(f"{cls.wire_name} v{cls.schema_version}" for cls in registry)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@functools.cache
def _code_parts() -> tuple[str, ...]:
    """The registry-independent part of the fingerprint: the same for the whole process."""
    version = installed_version("okra") or "unknown"  # unknown: a source checkout
    parts = [f"format {_FORMAT}", f"okra {version}"]
    parts += [_shape(cls) for cls in _reachable(_KINDS.values())]
    parts += [hashlib.sha256(inspect.getsource(m).encode()).hexdigest() for m in _RULES]
    return tuple(parts)


def _reachable(roots: Iterable[type]) -> list[type]:
    """Every attrs class reachable through the fields of ``roots``, in a stable order."""
    seen: dict[str, type] = {}
    todo = list(roots)
    while todo:
        cls = todo.pop()
        if cls.__qualname__ in seen:
            continue
        seen[cls.__qualname__] = cls
        for field in attrs.fields(cls):
            todo += [t for t in _types_in(field.type) if attrs.has(t)]
    return [seen[name] for name in sorted(seen)]


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if not args:
        return [annotation] if isinstance(annotation, type) else []
    return [t for arg in args for t in _types_in(arg)]


def _shape(cls: type) -> str:
    fields = ", ".join(f"{f.name}: {f.type!r} = {f.default!r}" for f in attrs.fields(cls))
    return f"{cls.__qualname__}({fields})"


@functools.cache
def _converter() -> cattrs.Converter:
    converter = make_converter()
    _quick_check_ins(converter)
    return converter


def _quick_check_ins(converter: cattrs.Converter) -> None:
    """Read saved check-ins through the quick path: they are most of a saved model.

    A check-in the quick path does not take as it is sends the whole sequence to
    the strict hook, which decides (and names what is wrong).
    """
    strict = converter.get_structure_hook(CheckIns)
    quick = value_structurer(converter, CheckIn)
    if quick is None:  # pragma: no cover - CheckIn's fields are all ones the quick path takes
        return

    def structure(value: object, cls: Any) -> CheckIns:
        if type(value) is list:
            items = []
            for item in value:
                check_in = quick(item) if type(item) is dict else None
                if check_in is None:
                    break
                items.append(check_in)
            else:
                return CheckIns(items)
        return strict(value, cls)  # type: ignore[no-any-return]

    converter.register_structure_hook(CheckIns, structure)


Anchor = tuple[str, int]
"""The event at a read model's position, as ``(originator id hex, version)``."""


def dump_states(states: Mapping[UUID, AnyEntity], stamp: str, anchor: Anchor) -> bytes:
    """The states as bytes, tagged with the code fingerprint and the event at their position."""
    converter = _converter()
    entities = [
        [str(state.entity_kind), converter.unstructure(state, type(state))]
        for state in states.values()
    ]
    saved = {"fingerprint": stamp, "anchor": list(anchor), "entities": entities}
    return JSONBytes().encode(saved)


def load_states(data: bytes, stamp: str) -> tuple[dict[UUID, AnyEntity], Anchor] | None:
    """The states saved in ``data`` and their anchor.

    None if they were made by other code or cannot be read.
    """
    try:
        saved: Any = JSONBytes().decode(data)
        if saved.get("fingerprint") != stamp:
            log.info("okra: the saved read model is from other code; rebuilding from the log")
            return None
        converter = _converter()
        states: dict[UUID, AnyEntity] = {}
        for kind, fields in saved["entities"]:
            state = converter.structure(fields, _KINDS[kind])
            states[state.id] = state
        anchor_id, anchor_version = saved["anchor"]
        return states, (str(anchor_id), int(anchor_version))
    except Exception as exc:  # any damage means: rebuild from the log
        log.warning("okra: the saved read model cannot be read (%s); rebuilding from the log", exc)
        return None
