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
import importlib.metadata
import logging
from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

import attrs
import cattrs

from ._codec import JSONBytes, make_converter
from ._events import EventRegistry
from ._model import (
    Action,
    Alignment,
    AnyEntity,
    CheckIn,
    Continuation,
    Cycle,
    Grade,
    KeyResult,
    Objective,
    Playbook,
    Task,
)

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
}
_SHAPES: Final = (*_KINDS.values(), Alignment, CheckIn, Continuation, Grade, Task)

log = logging.getLogger("okra")


def fingerprint(registry: EventRegistry) -> str:
    """What a saved read model must match to be used: the code that folded it."""
    try:
        version = importlib.metadata.version("okra")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - source checkout
        version = "unknown"
    parts = [f"format {_FORMAT}", f"okra {version}"]
    parts += sorted(f"{cls.wire_name} v{cls.schema_version}" for cls in registry)
    parts += [f"{cls.__name__}({', '.join(f.name for f in attrs.fields(cls))})" for cls in _SHAPES]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


@functools.cache
def _converter() -> cattrs.Converter:
    return make_converter()


def dump_states(states: Mapping[UUID, AnyEntity], stamp: str) -> bytes:
    """The states as bytes, tagged with the code fingerprint ``stamp``."""
    converter = _converter()
    entities = [
        [str(state.entity_kind), converter.unstructure(state, type(state))]
        for state in states.values()
    ]
    return JSONBytes().encode({"fingerprint": stamp, "entities": entities})


def load_states(data: bytes, stamp: str) -> dict[UUID, AnyEntity] | None:
    """The states saved in ``data``, or None if they were made by other code or are unreadable."""
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
        return states
    except Exception as exc:  # any damage means: rebuild from the log
        log.warning("okra: the saved read model cannot be read (%s); rebuilding from the log", exc)
        return None
