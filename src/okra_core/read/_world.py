"""What every projection reads: the entities as they stood at one instant.

A :class:`World` is built by :class:`~okra_core.Okra` for each query, from the
current state or from a time-travelled one (*as of* an instant, *as known at* an
instant). Projections are pure functions of a world: they never read the store,
so the same function answers for now and for any moment in the past.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from ..domain._action import Action
from ..domain._cycle import Cycle
from ..domain._fold import AnyEntity
from ..domain._key_result import KeyResult
from ..domain._objective import Alignment, Objective
from ..domain._playbook import PLAYBOOK_ID, Playbook
from ..domain._values import AlignmentLink, ObjectiveStatus

__all__ = ["World"]

T = TypeVar("T", bound=AnyEntity)


class World:
    """The entities at one instant, with the indexes projections need.

    Attributes:
        at: the instant described. Expected pace, staleness and "this week" are
            measured from it.
        known_at: when set, only what had been recorded by then is included;
            ``None`` means everything recorded so far.
        playbook: the rules in force at ``at``.
    """

    def __init__(
        self,
        states: Mapping[UUID, AnyEntity],
        *,
        at: datetime,
        known_at: datetime | None = None,
    ) -> None:
        self._states = states
        self.at = at
        self.known_at = known_at
        playbook = states.get(PLAYBOOK_ID)
        self.playbook: Playbook = playbook if isinstance(playbook, Playbook) else Playbook.default()

    def __repr__(self) -> str:
        known = f", known_at={self.known_at.isoformat()}" if self.known_at else ""
        return f"World(at={self.at.isoformat()}{known}, {len(self._states)} entities)"

    # --- single entities -------------------------------------------------------------

    def get(self, entity_id: UUID) -> AnyEntity | None:
        """The entity with this id, if it existed at this instant."""
        return self._states.get(entity_id)

    def cycle(self, cycle_id: UUID) -> Cycle:
        """The cycle with this id (it must exist)."""
        return self._typed(Cycle, cycle_id)

    def objective(self, objective_id: UUID) -> Objective:
        """The objective with this id (it must exist)."""
        return self._typed(Objective, objective_id)

    def key_result(self, key_result_id: UUID) -> KeyResult:
        """The key result with this id (it must exist)."""
        return self._typed(KeyResult, key_result_id)

    def action(self, action_id: UUID) -> Action:
        """The action with this id (it must exist)."""
        return self._typed(Action, action_id)

    def objective_of(self, key_result: KeyResult) -> Objective:
        """The objective a key result measures."""
        return self.objective(key_result.objective_id)

    def cycle_of(self, objective: Objective) -> Cycle:
        """The cycle an objective belongs to."""
        return self.cycle(objective.cycle_id)

    # --- collections, in the order they were created (their first events in the log) -----

    def cycles(self) -> list[Cycle]:
        """All cycles, by start (then name)."""
        return sorted(self._of(Cycle), key=lambda c: (c.starts_at, c.name))

    def objectives(
        self, *, cycle_id: UUID | None = None, owner: str | None = None
    ) -> list[Objective]:
        """Objectives, optionally of one cycle and/or one owner."""
        found = self._by_cycle.get(cycle_id, []) if cycle_id is not None else self._of(Objective)
        return [o for o in found if owner is None or o.owner == owner]

    def key_results(self, objective_id: UUID | None = None) -> list[KeyResult]:
        """Key results, optionally of one objective."""
        if objective_id is None:
            return self._of(KeyResult)
        return list(self._by_objective.get(objective_id, []))

    def key_results_in(self, cycle_id: UUID) -> list[KeyResult]:
        """Key results of every objective in a cycle."""
        return [kr for o in self.objectives(cycle_id=cycle_id) for kr in self.key_results(o.id)]

    def actions(self, key_result_id: UUID | None = None) -> list[Action]:
        """Actions, optionally those serving one key result."""
        if key_result_id is None:
            return self._of(Action)
        return list(self._actions_by_key_result.get(key_result_id, []))

    def children(
        self, parent_id: UUID, link: AlignmentLink | None = None
    ) -> list[tuple[Objective, Alignment]]:
        """Objectives aligned to a parent objective or key result, with their links."""
        return [
            (child, alignment)
            for child, alignment in self._children.get(parent_id, [])
            if link is None or alignment.link is link
        ]

    def contributors(self, objective: Objective) -> list[tuple[Objective, Alignment]]:
        """Objectives counted in this one's rollup.

        Those with a ``contributes`` link to it or to one of its key results; an
        abandoned objective counts for nothing.
        """
        parents: Iterable[UUID] = [objective.id, *(kr.id for kr in self.key_results(objective.id))]
        return [
            (child, alignment)
            for parent_id in parents
            for child, alignment in self.children(parent_id, AlignmentLink.CONTRIBUTES)
            if child.status is not ObjectiveStatus.ABANDONED
        ]

    def owners(self, cycle_id: UUID | None = None) -> list[str]:
        """Everyone who owns an objective or key result (in a cycle), sorted."""
        objectives = self.objectives(cycle_id=cycle_id)
        names = {o.owner for o in objectives}
        names |= {kr.owner for o in objectives for kr in self.key_results(o.id)}
        return sorted(names)

    # --- internals ----------------------------------------------------------------------

    def _typed(self, cls: type[T], entity_id: UUID) -> T:
        state = self._states.get(entity_id)
        if not isinstance(state, cls):
            raise KeyError(f"no {cls.__name__} {entity_id} at {self.at.isoformat()}")
        return state

    def _of(self, cls: type[T]) -> list[T]:
        return [s for s in self._entities.get(cls, []) if isinstance(s, cls)]

    @functools.cached_property
    def _entities(self) -> dict[type, list[AnyEntity]]:
        grouped: dict[type, list[AnyEntity]] = defaultdict(list)
        for state in self._states.values():  # in the order they were first recorded
            grouped[type(state)].append(state)
        return grouped

    @functools.cached_property
    def _by_cycle(self) -> dict[UUID, list[Objective]]:
        grouped: dict[UUID, list[Objective]] = defaultdict(list)
        for objective in self._of(Objective):
            grouped[objective.cycle_id].append(objective)
        return grouped

    @functools.cached_property
    def _by_objective(self) -> dict[UUID, list[KeyResult]]:
        grouped: dict[UUID, list[KeyResult]] = defaultdict(list)
        for key_result in self._of(KeyResult):
            grouped[key_result.objective_id].append(key_result)
        return grouped

    @functools.cached_property
    def _actions_by_key_result(self) -> dict[UUID, list[Action]]:
        grouped: dict[UUID, list[Action]] = defaultdict(list)
        for action in self._of(Action):
            for key_result_id in action.key_result_ids:
                grouped[key_result_id].append(action)
        return grouped

    @functools.cached_property
    def _children(self) -> dict[UUID, list[tuple[Objective, Alignment]]]:
        grouped: dict[UUID, list[tuple[Objective, Alignment]]] = defaultdict(list)
        for objective in self._of(Objective):
            for alignment in objective.alignments:
                grouped[alignment.parent_id].append((objective, alignment))
        return grouped
