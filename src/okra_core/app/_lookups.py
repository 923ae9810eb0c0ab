"""The query side, now: one entity by reference, and lists of entities."""

from __future__ import annotations

from ..domain._action import Action, Task
from ..domain._cycle import Cycle
from ..domain._fold import AnyEntity
from ..domain._key_result import CheckIn, KeyResult
from ..domain._metrics import Attainment
from ..domain._objective import Objective
from ..domain._playbook import PLAYBOOK_ID, Subscription
from ..domain._values import (
    CycleStatus,
    ObjectiveStatus,
)
from ._context import Collaborator
from ._inputs import enum_query
from ._refs import Ref

__all__ = ["Lookups"]


class Lookups(Collaborator):
    """Finds entities as they are now."""

    def cycle(self, ref: Ref) -> Cycle:
        """One cycle, by object, id, id prefix or name."""
        return self._refs.query(Cycle, ref)

    def objective(self, ref: Ref) -> Objective:
        """One objective, by object, id, id prefix or title."""
        return self._refs.query(Objective, ref)

    def key_result(self, ref: Ref) -> KeyResult:
        """One key result, by object, id, id prefix or title."""
        return self._refs.query(KeyResult, ref)

    def action(self, ref: Ref) -> Action:
        """One action, by object, id, id prefix or title."""
        return self._refs.query(Action, ref)

    def task(self, ref: Ref) -> Task:
        """One task, by object, id, id prefix or title."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            return self._refs.find_task(ref)

    def get_check_in(self, ref: Ref) -> CheckIn:
        """One check-in in effect, by object, id or id prefix."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            return self._refs.find_check_in(ref)

    def cycles(self, *, status: CycleStatus | str | None = None) -> list[Cycle]:
        """All cycles, by start date; optionally only those with ``status``."""
        wanted = enum_query("status", CycleStatus, status)
        return sorted(
            (c for c in self._refs.all(Cycle) if wanted is None or c.status is wanted),
            key=lambda c: (c.starts_at, c.name),
        )

    def objectives(
        self,
        *,
        cycle: Ref | None = None,
        owner: str | None = None,
        status: ObjectiveStatus | str | None = None,
    ) -> list[Objective]:
        """Objectives in the order they were drafted, filtered by cycle, owner and status."""
        wanted = enum_query("status", ObjectiveStatus, status)
        with self._ctx.lock:
            self._ctx.state.refresh()
            cycle_id = self._refs.find(Cycle, cycle, "cycle").id if cycle is not None else None
            return [
                o
                for o in self._refs.all(Objective)
                if (cycle_id is None or o.cycle_id == cycle_id)
                and (owner is None or o.owner == owner)
                and (wanted is None or o.status is wanted)
            ]

    def key_results(self, objective: Ref | None = None) -> list[KeyResult]:
        """Key results in the order they were added, optionally of one objective."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            if objective is None:
                return self._refs.all(KeyResult)
            return self._refs.key_results_of(self._refs.find(Objective, objective, "objective").id)

    def actions(self, *, key_result: Ref | None = None) -> list[Action]:
        """Actions in the order they were proposed, optionally those serving one key result."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            if key_result is None:
                return self._refs.all(Action)
            kr_id = self._refs.find(KeyResult, key_result, "key_result").id
            return [a for a in self._refs.all(Action) if kr_id in a.key_result_ids]

    def attainment(self, key_result: Ref) -> Attainment:
        """Attainment of a key result from its latest check-in (see :class:`Attainment`)."""
        return self.key_result(key_result).attainment()

    def get(self, ref: Ref) -> AnyEntity:
        """Any entity (cycle, objective, key result, action, playbook) by any reference.

        A task or check-in finds the action or key result that holds it.
        """
        with self._ctx.lock:
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref)
            if entity_id == PLAYBOOK_ID:
                return self._ctx.playbook()
            return self._ctx.state.states[entity_id]

    def subscriptions(self, *, channel: str | None = None) -> list[Subscription]:
        """The active subscriptions (of one channel), in the order they were made."""
        return [
            s for s in self._refs.all(Subscription) if s.active and channel in (None, s.channel)
        ]
