"""An action (a bet) and its tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Self
from uuid import UUID

import attrs

from ._entity import Entity, Stamp, cannot_apply
from ._errors import InvalidTransitionError, ValidationError
from ._events import (
    ActionPlaced,
    ActionResolved,
    EntityKind,
    Event,
    TaskAdded,
    TaskCompleted,
    TaskReopened,
)
from ._values import (
    ActionStatus,
    ExpectedEffect,
    Investment,
    Outcome,
)

__all__ = [
    "Action",
    "Task",
]


@attrs.frozen(kw_only=True)
class Task:
    """A small step under an action."""

    id: UUID
    action_id: UUID
    title: str
    added_at: datetime
    added_by: str
    done: bool = False
    completed_at: datetime | None = None
    completed_by: str | None = None

    @property
    def short_id(self) -> str:
        """The first 8 hex digits of the id."""
        return self.id.hex[:8]

    @property
    def label(self) -> str:
        """The task's title."""
        return self.title


@attrs.frozen(kw_only=True)
class Action(Entity):
    """An idea the team will try in service of key results: a bet, not a plan."""

    entity_kind: EntityKind = attrs.field(init=False, default=EntityKind.ACTION)
    title: str
    key_result_ids: tuple[UUID, ...]
    hypothesis: str
    investment: Investment
    expected_effects: tuple[ExpectedEffect, ...]
    odds: float | None
    kill_criteria: str
    owner: str
    status: ActionStatus = ActionStatus.PROPOSED
    learning: str = ""
    evidence: tuple[str, ...] = ()
    placed_at: datetime | None = None
    resolved_at: datetime | None = None
    tasks: tuple[Task, ...] = ()

    def place(self, stamp: Stamp) -> ActionPlaced:
        """Start investing in a proposed bet."""
        if self.status is not ActionStatus.PROPOSED:
            raise self._refuse("place", self.status.value, "only a proposed bet can be placed")
        return self._next(ActionPlaced, stamp)

    def resolve(
        self, stamp: Stamp, *, outcome: Outcome, learning: str, evidence: tuple[str, ...]
    ) -> ActionResolved:
        """Settle the bet; only once. Only a placed bet can be (in)validated."""
        if self.status.is_resolved:
            raise self._refuse("resolve", f"already {self.status.value}", "a bet resolves once")
        if self.status is ActionStatus.PROPOSED and outcome is not Outcome.ABANDONED:
            raise self._refuse(
                f"mark as {outcome.value}", "only proposed", "place the bet first, or abandon it"
            )
        return self._next(
            ActionResolved, stamp, outcome=outcome, learning=learning, evidence=evidence
        )

    def find_task(self, task_id: UUID) -> Task:
        """The task with this id."""
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise ValidationError.single("task", f"{self.label!r} has no task {task_id}")

    def add_task(self, stamp: Stamp, *, task_id: UUID, title: str) -> TaskAdded:
        """Add a step to an unresolved action."""
        self._require_unresolved("add a task to")
        return self._next(TaskAdded, stamp, task_id=task_id, title=title)

    def complete_task(self, stamp: Stamp, *, task_id: UUID) -> TaskCompleted:
        """Mark an open task done."""
        self._require_unresolved("complete a task of")
        task = self.find_task(task_id)
        if task.done:
            raise InvalidTransitionError(f"task {task.title!r} is already done")
        return self._next(TaskCompleted, stamp, task_id=task_id)

    def reopen_task(self, stamp: Stamp, *, task_id: UUID) -> TaskReopened:
        """Open a done task again."""
        self._require_unresolved("reopen a task of")
        task = self.find_task(task_id)
        if not task.done:
            raise InvalidTransitionError(f"task {task.title!r} is not done")
        return self._next(TaskReopened, stamp, task_id=task_id)

    def _require_unresolved(self, doing: str) -> None:
        if self.status.is_resolved:
            raise self._refuse(doing, self.status.value)

    def _with_task(self, event: Event, task_id: UUID, change: Callable[[Task], Task]) -> Self:
        tasks = tuple(change(t) if t.id == task_id else t for t in self.tasks)
        return self._touched(event, tasks=tasks)

    def apply(self, event: Event) -> Self:
        """The state after ``event``."""
        match event:
            case ActionPlaced():
                return self._touched(event, status=ActionStatus.PLACED, placed_at=event.recorded_at)
            case ActionResolved():
                return self._touched(
                    event,
                    status=ActionStatus(event.outcome.value),
                    learning=event.learning,
                    evidence=event.evidence,
                    resolved_at=event.recorded_at,
                )
            case TaskAdded():
                task = Task(
                    id=event.task_id,
                    action_id=self.id,
                    title=event.title,
                    added_at=event.recorded_at,
                    added_by=event.actor,
                )
                return self._touched(event, tasks=(*self.tasks, task))
            case TaskCompleted():
                at, by = event.recorded_at, event.actor
                return self._with_task(
                    event,
                    event.task_id,
                    lambda t: attrs.evolve(t, done=True, completed_at=at, completed_by=by),
                )
            case TaskReopened():
                return self._with_task(
                    event,
                    event.task_id,
                    lambda t: attrs.evolve(t, done=False, completed_at=None, completed_by=None),
                )
        raise cannot_apply(self, event)
