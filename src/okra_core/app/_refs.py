"""Finding entities by reference: the object, its id, a unique id prefix or its title.

Commands and queries take a :data:`Ref` for each entity they are about. A
:class:`References` finds it among the live states and, while a command runs,
notes the version it found, so that the write can be refused if the entity
changed meanwhile (see :meth:`~okra_core.app._context.Context.save`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Final, TypeVar
from uuid import UUID

from ..domain._action import Action, Task
from ..domain._cycle import Cycle
from ..domain._entity import Entity
from ..domain._errors import AmbiguousReferenceError, NotFoundError, ValidationError
from ..domain._fold import AnyEntity
from ..domain._key_result import CheckIn, KeyResult
from ..domain._objective import Objective
from ..domain._playbook import PLAYBOOK_ID, Playbook
from ..read._world import World
from ._state import LiveState
from ._suggest import did_you_mean

__all__ = ["Ref", "References", "kind_name", "match", "named_id", "path_name"]

Ref = UUID | str | Entity | Task | CheckIn
"""How commands and queries accept an entity: the object itself, its id, a unique
prefix of its hex id (at least 4 digits), or its exact title (case-insensitive)."""

T = TypeVar("T", bound=Entity)
C = TypeVar("C")

_MIN_PREFIX: Final = 4


class References:
    """Finds entities in the live state, and notes what a running command relied on.

    Args:
        state: the live state to search.
        lock: the instance's lock (held while catching up with the log).
    """

    def __init__(self, state: LiveState, lock: threading.RLock) -> None:
        self._state = state
        self._lock = lock
        # Versions of the entities the running command consulted (None between
        # commands): checked again inside the write, see GuardedSQLiteRecorder.
        self.reads: dict[UUID, int] | None = None

    def note(self, state: T) -> T:
        """Remember that the running command relied on ``state`` as it is now."""
        if self.reads is not None:
            self.reads[state.id] = state.version
        return state

    def query(self, cls: type[T], ref: Ref) -> T:
        """One entity of ``cls`` by reference, after catching up with the log."""
        with self._lock:
            self._state.refresh()
            return self.find(cls, ref, path_name(cls))

    def all(self, cls: type[T]) -> list[T]:
        """Every entity of ``cls``, after catching up with the log, in log order."""
        with self._lock:
            self._state.refresh()
            return [s for s in self._state.states.values() if isinstance(s, cls)]

    def get(self, cls: type[T], entity_id: UUID) -> T:
        """The entity of ``cls`` with ``entity_id`` (noted as read)."""
        state = self._state.states.get(entity_id)
        if not isinstance(state, cls):
            raise NotFoundError(kind_name(cls), entity_id)
        return self.note(state)

    def cycle_of(self, objective: Objective) -> Cycle:
        """The cycle an objective is in (noted as read)."""
        return self.get(Cycle, objective.cycle_id)

    def objective_of(self, key_result: KeyResult) -> Objective:
        """The objective a key result measures (noted as read)."""
        return self.get(Objective, key_result.objective_id)

    def key_results_of(self, objective_id: UUID) -> list[KeyResult]:
        """The key results of one objective, in the order they were added."""
        return [k for k in self.all(KeyResult) if k.objective_id == objective_id]

    def is_above(self, objective_id: UUID, start_id: UUID) -> bool:
        """Whether ``objective_id`` is reachable upwards from ``start_id``."""
        seen: set[UUID] = set()
        todo = [start_id]
        while todo:
            current = todo.pop()
            if current == objective_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            state = self._state.states.get(current)
            if isinstance(state, Objective):
                self.note(state)
                for link in state.alignments:
                    parent = self._state.states.get(link.parent_id)
                    if isinstance(parent, KeyResult):
                        todo.append(parent.objective_id)
                    elif parent is not None:
                        todo.append(parent.id)
        return False

    def find(self, cls: type[T], ref: Ref | None, path: str) -> T:
        """The entity of ``cls`` that ``ref`` names (noted as read); ``path`` names the argument."""
        found = self.find_any((cls,), ref, path)
        assert isinstance(found, cls)
        return self.note(found)

    def find_any(self, classes: tuple[type[Entity], ...], ref: Ref | None, path: str) -> AnyEntity:
        """The entity of one of ``classes`` that ``ref`` names."""
        kind = " or ".join(kind_name(c) for c in classes)
        if isinstance(ref, Entity):
            ref = ref.id
        if isinstance(ref, UUID):
            state = self._state.states.get(ref)
            if isinstance(state, classes):
                return state
            raise NotFoundError(kind, str(ref))
        candidates = [s for s in self._state.states.values() if isinstance(s, classes)]
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single(
                path, f"expected {article(kind)} {kind}, its id or its title, got {ref!r}"
            )
        return match(kind, ref, candidates, lambda s: (s.id, s.label))

    def resolve_any(self, ref: Ref) -> UUID:
        """The id of the entity (or of the holder of the task or check-in) ``ref`` names."""
        if isinstance(ref, Task | CheckIn):
            return _holder_id(ref)
        if isinstance(ref, Playbook) or ref == PLAYBOOK_ID:
            return PLAYBOOK_ID
        return self.find_any((Cycle, Objective, KeyResult, Action, Playbook), ref, "ref").id

    def find_task(self, ref: Ref) -> Task:
        """The task ``ref`` names: by object, id, id prefix or title (open tasks first)."""
        if isinstance(ref, Task):
            ref = ref.id
        tasks = [
            task
            for action_id in set(self._state.task_action.values())
            for task in self.get(Action, action_id).tasks
        ]
        if isinstance(ref, UUID):
            for task in tasks:
                if task.id == ref:
                    return task
            raise NotFoundError("task", str(ref))
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single(
                "task", f"expected a task, its id or its title, got {ref!r}"
            )
        # Quick capture says "done: write the brief": if only one task by that
        # title is still open, that is the one meant.
        open_tasks = [t for t in tasks if not t.done]
        with contextlib.suppress(NotFoundError):
            return match("task", ref, open_tasks, lambda t: (t.id, t.title))
        return match("task", ref, tasks, lambda t: (t.id, t.title))

    def find_check_in(self, ref: Ref) -> CheckIn:
        """The check-in in effect that ``ref`` names: by object, id or id prefix."""
        if isinstance(ref, CheckIn):
            ref = ref.id
        if isinstance(ref, UUID):
            kr_id = self._state.check_in_key_result.get(ref)
            if kr_id is None:
                raise NotFoundError("check-in", str(ref))
            return self.get(KeyResult, kr_id).find_check_in(ref)
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single("check_in", f"expected a check-in or its id, got {ref!r}")
        ids = [(i, self.get(KeyResult, k)) for i, k in self._state.check_in_key_result.items()]
        check_in_id, key_result = match(
            "check-in", ref, ids, lambda pair: (pair[0], pair[1].title), titles=False
        )
        return key_result.find_check_in(check_in_id)

    def in_world(self, world: World, cls: type[T], ref: Ref) -> T:
        """The entity ``ref`` names, as it is in ``world`` (it must exist there)."""
        found = self.find(cls, ref, path_name(cls))
        state = world.get(found.id)
        if not isinstance(state, cls):
            raise NotFoundError(
                kind_name(cls), found.label, f"it did not exist yet at {world.at.isoformat()}"
            )
        return state


# --- helpers ---------------------------------------------------------------------------


def kind_name(cls: type[Entity]) -> str:
    return {
        Cycle: "cycle",
        Objective: "objective",
        KeyResult: "key result",
        Action: "action",
        Playbook: "playbook",
    }.get(cls, cls.__name__.lower())


def path_name(cls: type[Entity]) -> str:
    return kind_name(cls).replace(" ", "_")


def match(
    kind: str,
    ref: str,
    candidates: Iterable[C],
    key: Callable[[C], tuple[UUID, str]],
    *,
    titles: bool = True,
) -> C:
    """Find the one candidate whose id, id prefix or (if ``titles``) title is ``ref``."""
    text = ref.strip()
    items = [(c, *key(c)) for c in candidates]
    compact = text.lower().replace("-", "")
    if len(compact) >= _MIN_PREFIX and all(ch in "0123456789abcdef" for ch in compact):
        hits = [(c, i, label) for c, i, label in items if i.hex.startswith(compact)]
        if len(hits) == 1:
            return hits[0][0]
        if len(hits) > 1:
            raise AmbiguousReferenceError(kind, ref, [(i, label) for _, i, label in hits])
    if titles:
        folded = text.casefold()
        hits = [(c, i, label) for c, i, label in items if label.strip().casefold() == folded]
        if len(hits) == 1:
            return hits[0][0]
        if len(hits) > 1:
            raise AmbiguousReferenceError(kind, ref, [(i, label) for _, i, label in hits])
    hint = f"give its id, a prefix of at least {_MIN_PREFIX} hex digits"
    hint += " or its exact title" if titles else ""
    suggestion = did_you_mean(text, (label for _, _, label in items)) if titles else ""
    raise NotFoundError(kind, ref, f"{suggestion} {hint}" if suggestion else hint)


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _holder_id(item: Task | CheckIn) -> UUID:
    return item.action_id if isinstance(item, Task) else item.key_result_id


def named_id(ref: Ref) -> UUID | None:
    """The id ``ref`` names without looking anything up, when it names one that way.

    An object (a task or check-in: its holder's), an id, or an id's full text;
    whether that entity exists is for the caller to find out.
    """
    if isinstance(ref, Task | CheckIn):
        return _holder_id(ref)
    if isinstance(ref, Entity):
        return ref.id
    if isinstance(ref, UUID):
        return ref
    if isinstance(ref, str) and len(ref.strip()) in (32, 36):
        with contextlib.suppress(ValueError):
            return UUID(ref.strip())
    return None
