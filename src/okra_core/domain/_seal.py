"""The seal: when a store's hash tree was started over the records it already held."""

from __future__ import annotations

from typing import Self
from uuid import UUID, uuid5

import attrs

from ._entity import Entity, cannot_apply
from ._events import EntityKind, Event

__all__ = ["LOG_ID", "Seal"]

LOG_ID = uuid5(UUID("6f6b7261-0000-4000-8000-000000000000"), "okra.log")
"""The id of the one stream of facts about the log itself."""


@attrs.frozen(kw_only=True)
class Seal(Entity):
    """The log's seal: the tree was started when it held ``size`` records, with ``root``."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.LOG)
    size: int
    root: str

    @property
    def label(self) -> str:
        """The log's seal, by name."""
        return "the log"

    def apply(self, event: Event) -> Self:
        """A log is sealed once: no event follows."""
        raise cannot_apply(self, event)
