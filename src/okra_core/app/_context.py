"""What the collaborators behind one ``Okra`` share, and how every command runs.

A command runs inside :meth:`Context.command`: under the instance's lock, after
catching up with the log, with a :class:`~okra_core.app._refs.References` that
notes every entity it relies on. It validates everything, asks the authorizer,
and ends in one :meth:`Context.save` of all its events, which the store refuses
if a noted entity changed meanwhile. So a command writes all of its events or
none, and never on a stale decision.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from ..codec._codec import EventCodec
from ..domain._checks import check_text, raise_if
from ..domain._clock import Clock, as_utc
from ..domain._cycle import Cycle
from ..domain._entity import Entity, Stamp
from ..domain._errors import InvalidTransitionError, PermissionDeniedError
from ..domain._events import Event
from ..domain._fold import AnyEntity
from ..domain._playbook import PLAYBOOK_ID, Playbook
from ..domain._values import CycleStatus
from ..plugins._manager import Plugins
from ..store._log import Log
from ._refs import Ref, References, path_name
from ._state import LiveState

if TYPE_CHECKING:
    from ._okra import Okra

__all__ = ["Authorizer", "Collaborator", "Context", "allow_all", "policies_authorizer"]

Authorizer = Callable[[str, str, "Entity | None"], bool]
"""``authorizer(actor, command, target) -> allowed``.

``command`` is the name of the :class:`Okra` method; ``target`` is the entity it
changes, or for a command that creates one, the entity it is created in (the cycle
of a new objective, the objective of a new key result), else ``None``.
"""

T = TypeVar("T", bound=Entity)


def allow_all(actor: str, command: str, target: Entity | None) -> bool:
    """The default authorizer: everyone may do everything."""
    return True


def policies_authorizer(plugins: Plugins, url: str) -> Authorizer:
    """The plugins' access policies for the store at ``url``, as one authorizer.

    A command is allowed when every policy that has a say about the store allows
    it; with none, everyone may do everything (:func:`allow_all`).
    """
    found = [
        authorizer
        for policy in plugins.access_policies().values()
        if (authorizer := policy.authorizer_for(url)) is not None
    ]
    if not found:
        return allow_all
    if len(found) == 1:
        return found[0]

    def every(actor: str, command: str, target: Entity | None) -> bool:
        return all(authorizer(actor, command, target) for authorizer in found)

    return every


class Context:
    """The parts of one ``Okra`` its collaborators share.

    Args:
        okra: the facade (plugins' observers are told about it).
        log: the store's log.
        state: the live state.
        codec: the event codec.
        plugins: the plugins in use.
        clock: where "now" comes from.
        authorizer: decides whether an actor may issue a command.
    """

    def __init__(
        self,
        okra: Okra,
        *,
        log: Log,
        state: LiveState,
        codec: EventCodec,
        plugins: Plugins,
        clock: Clock,
        authorizer: Authorizer,
    ) -> None:
        self.okra = okra
        self.log = log
        self.state = state
        self.codec = codec
        self.plugins = plugins
        self.clock = clock
        self.authorizer = authorizer
        self.lock = threading.RLock()
        self.refs = References(state, self.lock)

    def now(self) -> datetime:
        """The clock's time, as an aware UTC instant."""
        return as_utc("clock", self.clock.now())

    def playbook(self) -> Playbook:
        """The current playbook (the defaults until someone revises it)."""
        with self.lock:
            self.state.refresh()
            state = self.state.states.get(PLAYBOOK_ID)
            if isinstance(state, Playbook):
                return self.note(state)
            return self.note(Playbook.default())

    # --- running a command -----------------------------------------------------------

    @contextlib.contextmanager
    def command(self, actor: str) -> Iterator[Stamp]:
        """Run a command for ``actor``: locked, caught up, noting what it reads."""
        raise_if(check_text("actor", actor, max_length=200))
        with self.lock:
            self.state.refresh()
            self.refs.reads = {}
            try:
                # The clock is read after the refresh: a command's time is never
                # earlier than the state it was decided on.
                yield Stamp(actor.strip(), self.now())
            finally:
                self.refs.reads = None

    def note(self, state: T) -> T:
        """Remember that the running command relied on ``state`` as it is now."""
        return self.refs.note(state)

    def save(
        self,
        *events: Event,
        nothing_added: bool = False,
        folded: Mapping[UUID, AnyEntity] | None = None,
    ) -> None:
        """Record ``events`` in one write, or none of them.

        The entities the command noted must still be at the versions it read;
        with ``nothing_added``, nothing at all may have been recorded since its
        read (a close must see every key result of its cycle). ``folded``: states
        after the events, already computed (by an import's checks).
        """
        written = {e.originator_id for e in events}
        reads = {i: v for i, v in (self.refs.reads or {}).items() if i not in written}
        recordings = self.log.append(
            events,
            read_versions=reads,
            read_position=self.state.position if nothing_added else None,
        )
        self.state.recorded(events, recordings, folded)
        for event in events:
            self.plugins.event_recorded(self.okra, event)

    def save_one(self, cls: type[T], event: Event) -> T:
        """Record one event and return the state of its entity after it."""
        self.save(event)
        return self.refs.get(cls, event.originator_id)

    def authorize(self, actor: str, command: str, target: Entity | None) -> None:
        """Refuse with PermissionDeniedError unless the authorizer allows it."""
        if not self.authorizer(actor.strip(), command, target):
            on = f" on {target.entity_kind.value} {target.label!r}" if target is not None else ""
            raise PermissionDeniedError(f"{actor.strip()!r} may not {command}{on}")

    def target(self, cls: type[T], ref: Ref, actor: str, command: str) -> T:
        """The entity a command changes, once the actor may change it."""
        state = self.refs.find(cls, ref, path_name(cls))
        self.authorize(actor, command, state)
        return state

    def require_cycle_open(self, cycle: Cycle, doing: str, target: Entity | None = None) -> None:
        """Refuse ``doing`` something in a closed cycle."""
        if cycle.status is CycleStatus.CLOSED:
            what = (
                f"{target.label!r}: its cycle {cycle.name!r}" if target else f"cycle {cycle.name!r}"
            )
            raise InvalidTransitionError(f"cannot {doing} {what} is closed")


class Collaborator:
    """A part of ``Okra``'s work: the command side of one kind of entity, or a kind of query."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._refs = ctx.refs
