"""An objective: a qualitative outcome, its lifecycle and its alignment links."""

from __future__ import annotations

from typing import Self
from uuid import UUID

import attrs

from ._entity import Entity, Stamp, cannot_apply
from ._errors import ValidationError
from ._events import (
    EntityKind,
    Event,
    ObjectiveAbandoned,
    ObjectiveActivated,
    ObjectiveAligned,
    ObjectiveClosed,
    ObjectiveContinued,
    ObjectiveReassigned,
    ObjectiveRevised,
    ObjectiveUnaligned,
)
from ._values import (
    AlignmentLink,
    ContinuationMode,
    ObjectiveKind,
    ObjectiveStatus,
    RollupPolicy,
)

__all__ = [
    "Alignment",
    "Continuation",
    "Objective",
]


@attrs.frozen(kw_only=True)
class Alignment:
    """A link from an objective to a parent objective or key result."""

    parent_id: UUID
    parent_kind: EntityKind
    link: AlignmentLink
    weight: float


@attrs.frozen(kw_only=True)
class Continuation:
    """Where an objective came from when it continues one of an earlier cycle."""

    from_objective_id: UUID
    mode: ContinuationMode


@attrs.frozen(kw_only=True)
class Objective(Entity):
    """A qualitative, ambitious outcome for a cycle, with an owner."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.OBJECTIVE)
    title: str
    description: str
    owner: str
    cycle_id: UUID
    kind: ObjectiveKind
    rollup: RollupPolicy
    status: ObjectiveStatus = ObjectiveStatus.DRAFT
    alignments: tuple[Alignment, ...] = ()
    abandon_reason: str = ""
    continues: Continuation | None = None

    @property
    def is_open(self) -> bool:
        """Draft or active: it can still change."""
        return self.status in (ObjectiveStatus.DRAFT, ObjectiveStatus.ACTIVE)

    def require_open(self, doing: str) -> None:
        """Refuse ``doing`` unless the objective is draft or active."""
        if not self.is_open:
            raise self._refuse(doing, self.status.value)

    def revise(self, stamp: Stamp, *, title: str, description: str) -> ObjectiveRevised:
        """Reword the objective."""
        self.require_open("revise")
        return self._next(ObjectiveRevised, stamp, title=title, description=description)

    def reassign(self, stamp: Stamp, *, owner: str) -> ObjectiveReassigned:
        """Give the objective a new owner."""
        self.require_open("reassign")
        return self._next(ObjectiveReassigned, stamp, owner=owner)

    def activate(self, stamp: Stamp, *, key_result_count: int) -> ObjectiveActivated:
        """Commit to a draft objective; it needs at least one key result."""
        if self.status is not ObjectiveStatus.DRAFT:
            raise self._refuse("activate", self.status.value, "only a draft can be activated")
        if key_result_count == 0:
            raise self._refuse(
                "activate", "without key results", "add a key result that measures it first"
            )
        return self._next(ObjectiveActivated, stamp)

    def close(self, stamp: Stamp) -> ObjectiveClosed:
        """Close an active objective."""
        if self.status is not ObjectiveStatus.ACTIVE:
            raise self._refuse("close", self.status.value, "only an active objective can be closed")
        return self._next(ObjectiveClosed, stamp)

    def abandon(self, stamp: Stamp, *, reason: str) -> ObjectiveAbandoned:
        """Give up on a draft or active objective."""
        self.require_open("abandon")
        return self._next(ObjectiveAbandoned, stamp, reason=reason)

    def align(
        self,
        stamp: Stamp,
        *,
        parent_id: UUID,
        parent_kind: EntityKind,
        link: AlignmentLink,
        weight: float,
    ) -> ObjectiveAligned:
        """Link to a parent objective or key result (one link per parent)."""
        self.require_open("align")
        if any(a.parent_id == parent_id for a in self.alignments):
            raise self._refuse(
                "align", "already linked to that parent", "unalign it first to change the link"
            )
        return self._next(
            ObjectiveAligned,
            stamp,
            parent_id=parent_id,
            parent_kind=parent_kind,
            link=link,
            weight=weight,
        )

    def unalign(self, stamp: Stamp, *, parent_id: UUID) -> ObjectiveUnaligned:
        """Remove the link to a parent."""
        self.require_open("unalign")
        if not any(a.parent_id == parent_id for a in self.alignments):
            raise ValidationError.single("parent", f"{self.label!r} is not aligned to {parent_id}")
        return self._next(ObjectiveUnaligned, stamp, parent_id=parent_id)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case ObjectiveRevised(title=title, description=description):
                return self._touched(event, title=title, description=description)
            case ObjectiveReassigned(owner=owner):
                return self._touched(event, owner=owner)
            case ObjectiveActivated():
                return self._touched(event, status=ObjectiveStatus.ACTIVE)
            case ObjectiveClosed():
                return self._touched(event, status=ObjectiveStatus.CLOSED)
            case ObjectiveAbandoned(reason=reason):
                return self._touched(event, status=ObjectiveStatus.ABANDONED, abandon_reason=reason)
            case ObjectiveAligned():
                link = Alignment(
                    parent_id=event.parent_id,
                    parent_kind=event.parent_kind,
                    link=event.link,
                    weight=event.weight,
                )
                return self._touched(event, alignments=(*self.alignments, link))
            case ObjectiveUnaligned(parent_id=parent_id):
                kept = tuple(a for a in self.alignments if a.parent_id != parent_id)
                return self._touched(event, alignments=kept)
            case ObjectiveContinued(from_objective_id=source, mode=mode):
                continues = Continuation(from_objective_id=source, mode=mode)
                return self._touched(event, continues=continues)
        raise cannot_apply(self, event)
