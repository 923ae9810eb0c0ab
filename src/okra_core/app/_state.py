"""The live state: every entity's current state, kept up to date from the log.

One :class:`LiveState` per :class:`~okra_core.Okra`. It folds in what the log
holds past its position (events of this instance and of other processes alike),
starts from the saved read model where the store keeps one, saves it again now
and then, and indexes entities' histories for questions about the past. It
holds no lock of its own: the caller holds the instance's lock.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Final
from uuid import UUID

from eventsourcing.persistence import Recording

from ..domain._action import Action
from ..domain._errors import NotFoundError, PluginError, StorageError
from ..domain._events import CheckInRecorded, Event, EventRegistry, TaskAdded
from ..domain._fold import AnyEntity, Replay, project
from ..domain._key_result import KeyResult
from ..domain._playbook import PLAYBOOK_ID, Playbook
from ..read._history import EntityHistory
from ..read._history import as_of as _as_of
from ..read._world import World
from ..store._log import Log
from ..store._readmodel import READ_MODEL_NAME, dump_states, fingerprint, load_states
from ..store._store import ReadModelStore
from ..store._tree import LogTreeRecorder
from ._index import IndexUnusable, KeyResultIndexer, is_key_result_event, key_result_topics

__all__ = ["LiveState"]

log = logging.getLogger("okra")

# After catching up on this many events, save the read model (it is also saved on close).
_CHECKPOINT_EVERY: Final = 10_000
# How often a rebuild reports its progress, in events.
_PROGRESS_EVERY: Final = 1000


class LiveState:
    """The current state of every entity of one store, and the indexes beside it.

    Args:
        log: the store's log.
        registry: the event types known (part of the read model's fingerprint).
        persist: save the read model beside the events, and start from it.
    """

    def __init__(self, log: Log, registry: EventRegistry, *, persist: bool) -> None:
        self._log = log
        self._registry = registry
        self._persist = persist
        self.closed = False
        self._restored = False
        self._saved_position = 0
        self.states: dict[UUID, AnyEntity] = {}
        self.position = 0
        # Positions of this instance's own writes that arrived out of order.
        self._ahead: set[int] = set()
        self.task_action: dict[UUID, UUID] = {}
        self.check_in_key_result: dict[UUID, UUID] = {}
        # Indexed histories for time travel: loaded per entity on demand, or all
        # at once for a query about the past; kept up to date once loaded.
        self._histories: dict[UUID, EntityHistory] = {}
        self._all_histories = False
        # Every entity's history but the key results' (the key result index has those).
        self._other_histories = False
        self._last_world: tuple[Hashable, World] | None = None

    # --- following the log -----------------------------------------------------------

    def refresh(self, progress: Callable[[int], None] | None = None) -> None:
        """Fold in events recorded since the last look, by this or another process."""
        if self.closed:
            raise StorageError(f"this Okra on {self._log.shown_url} was closed; open a new one")
        if not self._restored:
            self._restore()
            if self._indexer is not None:
                self._indexer.follow(self.position)
        replay = Replay(self.states)
        try:
            for position, event in self._log.replay(self.position):
                if position in self._ahead:
                    self._ahead.discard(position)
                else:
                    try:
                        self._replay(replay, event)
                    except AssertionError as exc:  # the fold refuses a gap in a stream
                        raise self._log.damaged(position, str(exc)) from None
                    if self._indexer is not None:
                        self._indexer.take(position, event)
                self.position = position
                if progress is not None and position % _PROGRESS_EVERY == 0:
                    progress(position)
        finally:  # whatever stopped it, the states are those of self.position
            replay.finish()
        if self.position - self._saved_position >= _CHECKPOINT_EVERY:
            self.checkpoint()

    def _replay(self, replay: Replay, event: Event) -> None:
        """:meth:`apply` for the log read in a refresh, through ``replay``."""
        if (
            self._all_histories
            or (self._histories and event.originator_id in self._histories)
            or (self._other_histories and not is_key_result_event(type(event)))
        ):
            replay.settle(event.originator_id)  # its history keeps the state after each event
            self.apply(event)
        elif replay.add(event):  # not folded in already (a save interrupted before it moved)
            self._index(event)

    def _index(self, event: Event) -> None:
        if isinstance(event, CheckInRecorded):
            self.check_in_key_result[event.check_in_id] = event.originator_id
        elif isinstance(event, TaskAdded):
            self.task_action[event.task_id] = event.originator_id

    def apply(self, event: Event, folded: Mapping[UUID, AnyEntity] | None = None) -> None:
        """Fold one event in; ``folded`` may hold the state after it, already computed."""
        state = self.states.get(event.originator_id)
        if state is not None and event.originator_version <= state.version:
            return  # already folded in (a save interrupted before it moved the position)
        after = folded.get(event.originator_id) if folded else None
        if after is None or after.version != event.originator_version:
            after = project(state, event)
        state = self.states[event.originator_id] = after
        history = self._histories.get(event.originator_id)
        if history is None and (
            self._all_histories or (self._other_histories and not is_key_result_event(type(event)))
        ):
            history = self._histories[event.originator_id] = EntityHistory()
        if history is not None:
            history.append(event, state)
        self._index(event)

    def recorded(
        self,
        events: Iterable[Event],
        recordings: Iterable[Recording[UUID]],
        folded: Mapping[UUID, AnyEntity] | None = None,
    ) -> None:
        """Take in this instance's own write: fold its events, move past its positions."""
        for event in events:
            self.apply(event, folded)
        for recording in recordings:
            notification_id = recording.notification.id
            if self._indexer is not None:
                self._indexer.take(notification_id, recording.domain_event)  # type: ignore[arg-type]
            if notification_id == self.position + 1:
                self.position = notification_id
            else:
                self._ahead.add(notification_id)

    def id_in_use(self, item_id: UUID) -> bool:
        """Whether a check-in or task already has ``item_id``."""
        return item_id in self.check_in_key_result or item_id in self.task_action

    # --- the saved read model --------------------------------------------------------

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Forget the saved read model and fold every entity from the whole log again."""
        read_models = self._read_models()
        if read_models is not None:
            self._log.storage(lambda: read_models.drop(READ_MODEL_NAME))
        if self._indexer is not None:
            try:
                self._log.storage(self._indexer.drop)
            except StorageError as exc:  # the index is then rebuilt when it is next used
                log.warning("okra: the key result index of %s waits: %s", self._log.shown_url, exc)
            self._indexer.follow(0)  # rebuilt from the events folded below
        self.states.clear()
        self.task_action.clear()
        self.check_in_key_result.clear()
        self._histories.clear()
        self._all_histories = self._other_histories = False
        self._last_world = None
        self.position = self._saved_position = 0
        self._ahead.clear()
        self._restored = True
        if progress is None:
            self.refresh()
        else:
            last = self._log.last_position()
            self.refresh(progress=lambda position: progress(position, last))
            progress(self.position, last)
        self.checkpoint()
        return sum(state.version for state in self.states.values())

    def checkpoint(self) -> None:
        """Save the read model if it moved on since it was last saved, and bring the index up."""
        if self._indexer is not None and not self._ahead:
            self._indexer.bring_up(self.position)
        read_models = self._read_models()
        if read_models is None or self._ahead or self.position <= self._saved_position:
            return
        anchor = self._log.anchor_at(self.position)
        if anchor is None:  # pragma: no cover - the log lost an event it had
            return
        data = self._log.seal(dump_states(self.states, self._fingerprint, anchor))
        self._log.storage(lambda: read_models.save(READ_MODEL_NAME, self.position, data))
        self._saved_position = self.position

    # --- the key result index --------------------------------------------------------

    @functools.cached_property
    def _indexer(self) -> KeyResultIndexer | None:
        """The store's key result index, where it keeps one and read models may be kept."""
        if not self._persist:
            return None
        try:
            index = self._log.key_result_index()
        except (StorageError, PluginError) as exc:  # busy, or a backend's bug: the log answers
            log.warning(
                "okra: the key result index of %s is not usable now: %s", self._log.shown_url, exc
            )
            return None
        return KeyResultIndexer(self._log, index) if index is not None else None

    @functools.cached_property
    def _fingerprint(self) -> str:
        # Only stores that keep a read model need it; not computed on every open.
        return fingerprint(self._registry)

    def _read_models(self) -> ReadModelStore | None:
        if not self._persist:
            return None
        return self._log.read_models()

    def _restore(self) -> None:
        """Start from the saved read model, if there is a usable one.

        It is used only if it was made by the same code and the log still holds,
        at the saved position, the very event it was folded up to (the events
        were not replaced, say from a backup, under it). Otherwise it is dropped,
        and the states are rebuilt from the log and saved afresh.
        """
        self._restored = True
        read_models = self._read_models()
        saved = (
            self._log.storage(lambda: read_models.load(READ_MODEL_NAME)) if read_models else None
        )
        if saved is None or read_models is None:
            return
        position, sealed = saved
        data = self._log.unseal(sealed)
        loaded = load_states(data, self._fingerprint) if data is not None else None
        if loaded is None or self._log.anchor_at(position) != loaded[1]:
            if loaded is not None:
                log.warning(
                    "okra: the saved read model does not match the log of %s; "
                    "rebuilding from the log",
                    self._log.shown_url,
                )
            self._log.storage(lambda: read_models.drop(READ_MODEL_NAME))
            return
        states = loaded[0]
        recorder = self._log.store.recorder
        if isinstance(recorder, LogTreeRecorder):
            folded = sum(state.version for state in states.values())
            held = self._log.storage(lambda: recorder.count_records(position))
            if held != folded:
                raise self._log.damaged(
                    position,
                    f"the log holds {held} records up to there, the {folded} okra wrote "
                    "are no longer all there",
                )
        self.states.update(states)
        for state in states.values():
            if isinstance(state, Action):
                self.task_action.update((task.id, state.id) for task in state.tasks)
            elif isinstance(state, KeyResult):
                ids = [c.id for c in state.check_ins] + list(state.retracted_ids)
                self.check_in_key_result.update((i, state.id) for i in ids)
        self.position = self._saved_position = position

    # --- the past --------------------------------------------------------------------

    def history_of(self, entity_id: UUID) -> EntityHistory:
        """One entity's indexed history, up to the version folded in here."""
        history = self._histories.get(entity_id)
        if history is None:
            history = EntityHistory()
            state = self.states.get(entity_id)
            # Only what this instance has folded in: events another process wrote
            # since the last refresh arrive through the log, like everything else.
            upto = state.version if state is not None else 0
            for event in self._log.stream(entity_id, upto=upto) if upto else ():
                history.append(event)
            self._histories[entity_id] = history
        return history

    @property
    def restored(self) -> bool:
        """Whether this instance has started on the store's states (its first refresh)."""
        return self._restored

    def from_stream(self, entity_id: UUID) -> EntityHistory | None:
        """One entity's whole history, read from its own stream only; None if it has none.

        For a question about one entity before anything else is folded in: it
        reads that entity's rows, not the log. The history is kept, topped up
        from the stream when asked again, and later kept current by the log.
        """
        history = self._histories.get(entity_id)
        fresh = history is None
        if history is None:
            history = EntityHistory()
        for event in self._log.stream(entity_id, after=len(history)):
            history.append(event)
        if not history:
            return None
        if fresh:
            self._histories[entity_id] = history
        return history

    def world_at(self, at: datetime, known: datetime | None) -> World:
        """Every entity as of ``at`` (as known at ``known``), those that existed then.

        The last world made is kept until the log moves on: the same question
        asked again (a page reloaded, a report and its details) is not folded
        again.
        """
        key = (at, known, self.position, frozenset(self._ahead))
        if self._last_world is not None and self._last_world[0] == key:
            return self._last_world[1]
        key_results = self._indexed_world(at, known)
        if key_results is None:
            self._load_histories()
        else:
            self._load_histories(key_results=False)
        # In the order of self.states: the order of their first events in the log.
        states: dict[UUID, AnyEntity] = {}
        for entity_id, now in self.states.items():
            state: AnyEntity | None
            if key_results is not None and isinstance(now, KeyResult):
                state = key_results.get(entity_id)
            else:
                state = _as_of(self._histories[entity_id], at, known)
            if state is not None:
                states[entity_id] = state
        world = World(states, at=at, known_at=known)
        self._last_world = (key, world)
        return world

    def indexed(
        self, entity_id: UUID, at: datetime, known: datetime | None
    ) -> tuple[KeyResult, KeyResult | None] | None:
        """:meth:`KeyResultIndexer.first_answer`, for a question before anything is folded."""
        return None if self._indexer is None else self._indexer.first_answer(entity_id, at, known)

    def past(self, entity_id: UUID, at: datetime, known: datetime | None) -> AnyEntity | None:
        """An entity as of ``at`` (as known at ``known``); None if it did not exist yet.

        The playbook always exists: its defaults hold until its first revision.
        The first question about a key result whose history is not loaded here
        is answered from the index, where the store keeps one and it can be
        brought to this instance's position (see :meth:`KeyResultIndexer.first_question`).
        """
        indexer = self._indexer
        if (
            indexer is not None
            and entity_id not in self._histories
            and isinstance(self.states.get(entity_id), KeyResult)
            and not self._ahead
            and indexer.first_question(entity_id)
            and indexer.try_catch_up(self.position) == self.position
        ):
            with contextlib.suppress(IndexUnusable):
                return indexer.as_of(entity_id, at, known, position=self.position)
        state = _as_of(self.history_of(entity_id), at, known)
        if state is None and entity_id == PLAYBOOK_ID:
            return Playbook.default()
        return state

    def current(self, entity_id: UUID) -> AnyEntity:
        """The current state of a resolved entity (the default playbook if never revised)."""
        state = self.states.get(entity_id)
        if state is None and entity_id == PLAYBOOK_ID:
            return Playbook.default()
        if state is None:
            raise NotFoundError("entity", str(entity_id))
        return state

    def label(self, entity_id: UUID) -> str:
        """The entity's title or name (its short id if it is not known here)."""
        state = self.states.get(entity_id)
        return state.label if state is not None else entity_id.hex[:8]

    def _indexed_world(self, at: datetime, known: datetime | None) -> dict[UUID, KeyResult] | None:
        """Every key result as of ``at``, from the index; None where it cannot answer here.

        It answers where the store keeps one and it is at this instance's
        position, for the first world of the past asked here. After that the
        histories are loaded: a world at another instant then folds from memory,
        where the index would read every check-in effective by then again.
        """
        indexer = self._indexer
        if (
            indexer is None
            or self._all_histories
            or indexer.worlds_answered
            or self._ahead
            or indexer.try_catch_up(self.position) != self.position
        ):
            return None
        try:
            return indexer.world(at, known, position=self.position)
        except IndexUnusable:
            return None

    def _load_histories(self, *, key_results: bool = True) -> None:
        """Index every entity's history (once; kept up to date from then on).

        Without ``key_results``, every history but the key results': their
        records are passed over undecoded (the key result index answers for them).
        """
        if self._all_histories or (self._other_histories and not key_results):
            return
        last = max(self.position, *self._ahead) if self._ahead else self.position
        histories = self._histories
        skip = None if key_results else key_result_topics(self._registry)
        for _, event in self._log.replay(0, upto=last, checked=True, skip=skip):
            history = histories.get(event.originator_id)
            if history is None:
                history = histories[event.originator_id] = EntityHistory()
            history.append(event)  # one it holds already (loaded for itself) is passed over
        for entity_id, state in self.states.items():
            if (history := histories.get(entity_id)) is not None:
                history.adopt(state)  # the state now: folded once already
        if key_results:
            self._all_histories = True
        else:
            self._other_histories = True
