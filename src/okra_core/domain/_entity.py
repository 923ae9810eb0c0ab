"""What every entity is: an id, a version, who made and last changed it, and when.

Each entity is an immutable attrs class. ``apply(event)`` returns the next state;
the command methods check lifecycle rules against the current state and return
the events to record (they never change anything themselves).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self, TypeVar
from uuid import UUID

import attrs

from ._errors import InvalidTransitionError
from ._events import (
    EntityKind,
    Event,
)

__all__ = [
    "Entity",
    "Stamp",
    "cannot_apply",
    "init_fields",
    "origin_fields",
]


Ev = TypeVar("Ev", bound=Event)
R = TypeVar("R")


@attrs.frozen
class Stamp:
    """Who issues a command, and when: put on every event it causes."""

    actor: str
    at: datetime


@attrs.frozen(kw_only=True)
class Entity:
    """Fields every entity has.

    Attributes:
        id: the entity's id; any unique prefix of its hex form also finds it.
        version: how many events its stream holds.
        created_at, created_by: when and by whom its first event was recorded.
        updated_at, updated_by: the same for its latest event.
    """

    entity_kind: EntityKind = attrs.field(init=False)
    id: UUID
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id: enough to refer to it in practice."""
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        """A human name for the entity (its title or name)."""
        return str(getattr(self, "title", getattr(self, "name", self.short_id)))

    def _next(self, cls: type[Ev], stamp: Stamp, **fields: Any) -> Ev:
        return cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            recorded_at=stamp.at,
            actor=stamp.actor,
            **fields,
        )

    def _touched(self, event: Event, **changes: Any) -> Self:
        # attrs.evolve, without its per-call look-up of the fields: this runs
        # once per event folded, so it is most of the cost of a replay's folding.
        fields = {name: getattr(self, name) for name in init_fields(type(self))}
        fields["version"] = event.originator_version
        fields["updated_at"] = event.recorded_at
        fields["updated_by"] = event.actor
        fields.update(changes)
        return type(self)(**fields)

    def _refuse(self, doing: str, state: object, hint: str = "") -> InvalidTransitionError:
        kind = self.entity_kind.value.replace("_", " ")
        message = f"cannot {doing} {kind} {self.label!r}: it is {state}"
        return InvalidTransitionError(f"{message}; {hint}" if hint else message)


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def init_fields(cls: type) -> tuple[str, ...]:
    """The names ``cls.__init__`` takes (entity fields have no private aliases)."""
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in attrs.fields(cls) if f.init)
    return names


def origin_fields(event: Event) -> dict[str, Any]:
    return {
        "id": event.originator_id,
        "version": event.originator_version,
        "created_at": event.recorded_at,
        "created_by": event.actor,
        "updated_at": event.recorded_at,
        "updated_by": event.actor,
    }


def cannot_apply(state: Entity, event: Event) -> AssertionError:
    return AssertionError(f"{type(event).__name__} cannot apply to {type(state).__name__}")
