"""A cycle: a time box (a quarter, a year), planned, active, then closed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self
from uuid import UUID

import attrs

from ._entity import Entity, Stamp, cannot_apply
from ._events import (
    CycleClosed,
    CyclePlanned,
    CycleStarted,
    EntityKind,
    Event,
)
from ._values import (
    CycleStatus,
)

__all__ = [
    "Cycle",
]


@attrs.frozen(kw_only=True)
class Cycle(Entity):
    """A time box, such as a quarter; may sit inside a parent cycle (a year)."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.CYCLE)
    name: str
    starts_at: datetime
    ends_at: datetime
    parent_id: UUID | None
    status: CycleStatus = CycleStatus.PLANNING

    @classmethod
    def plan(cls, stamp: Stamp, id: UUID, **fields: Any) -> CyclePlanned:
        """The event that plans a new cycle."""
        return CyclePlanned(
            originator_id=id,
            originator_version=1,
            recorded_at=stamp.at,
            actor=stamp.actor,
            **fields,
        )

    def start(self, stamp: Stamp) -> CycleStarted:
        """Move from planning to active."""
        if self.status is not CycleStatus.PLANNING:
            raise self._refuse("start", self.status.value)
        return self._next(CycleStarted, stamp)

    def close(self, stamp: Stamp) -> CycleClosed:
        """Close an active cycle."""
        if self.status is not CycleStatus.ACTIVE:
            raise self._refuse("close", self.status.value, "only an active cycle can be closed")
        return self._next(CycleClosed, stamp)

    def expected_pace(self, at: datetime) -> float:
        """``e = (at - start) / (end - start)``, clamped to [0, 1]."""
        span = (self.ends_at - self.starts_at).total_seconds()
        return min(1.0, max(0.0, (at - self.starts_at).total_seconds() / span))

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case CycleStarted():
                return self._touched(event, status=CycleStatus.ACTIVE)
            case CycleClosed():
                return self._touched(event, status=CycleStatus.CLOSED)
        raise cannot_apply(self, event)
