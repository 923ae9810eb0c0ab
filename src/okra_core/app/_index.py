"""Keeping the key result index up with the log, and answering from it.

The index itself (its rows, its tables) is :mod:`okra_core.store._index`; this
is the follower that turns the log's events into its rows, and the reader that
makes a key result *as of* an instant out of them, the same state
:func:`okra_core.read._history.as_of` folds from the key result's whole stream
(a property test holds the two equal, and a dropped and rebuilt index equal to
both).
"""

from __future__ import annotations

import functools
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Final, cast
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent

from ..codec._fast import fast_uuid
from ..domain._errors import DamagedLogError, EventDecodeError, StorageError
from ..domain._events import (
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    EntityKind,
    Event,
    EventRegistry,
)
from ..domain._fold import project
from ..domain._key_result import CheckIn, CheckIns, KeyResult
from ..domain._values import CheckInSource, Confidence, ConfidenceScale
from ..store._index import (
    CORRECTED,
    DEFINITION,
    INDEX_COLUMNS,
    RECORDED,
    RETRACTED,
    Close,
    IndexRow,
    KeyResultIndex,
    Tracked,
    from_micros,
    micros,
)
from ..store._log import Log

__all__ = [
    "Folded",
    "IndexUnusable",
    "KeyResultIndexer",
    "is_key_result_event",
    "key_result_topics",
]

log = logging.getLogger("okra")

# Events read per extension of the index (each one transaction).
_CHUNK: Final = 10_000
# Events kept from the folding instance before the index is extended with them.
_FEED_EVERY: Final = 10_000
_AT: Final = {name: i for i, name in enumerate(INDEX_COLUMNS)}


_KEY_RESULT_EVENTS: dict[type[Event], bool] = {}


def is_key_result_event(cls: type[Event]) -> bool:
    """Whether events of this class belong to a key result's stream."""
    found = _KEY_RESULT_EVENTS.get(cls)
    if found is None:
        found = _KEY_RESULT_EVENTS[cls] = cls.entity_kind() == EntityKind.KEY_RESULT
    return found


class IndexUnusable(Exception):
    """The index cannot answer this question now: the log answers it instead."""


def _anchor(entity_hex: str, version: int) -> str:
    """How the index names the event it was extended up to (:attr:`Tracked.anchor`)."""
    return f"{entity_hex}:{version}"


def key_result_topics(registry: EventRegistry) -> Callable[[str], bool]:
    """Whether a record of a topic (a wire name of ``registry``) is a key result's event."""
    found: dict[str, bool] = {}

    def of_a_key_result(topic: str) -> bool:
        known = found.get(topic)
        if known is None:
            known = found[topic] = topic in registry and is_key_result_event(registry[topic])
        return known

    return of_a_key_result


class KeyResultIndexer:
    """The key result index of one store, followed from its log.

    Args:
        log: the store's log.
        index: the store's index.
    """

    def __init__(self, log: Log, index: KeyResultIndex) -> None:
        self._log = log
        self._index = index
        self._confidences: dict[tuple[float, str, str], Confidence] = {}
        self._decoded: dict[tuple[str, int], Event] = {}
        # The events folded since the index was last at the folder's position
        # (None: not in step), so that it need not read them from the log again.
        self._feed: list[tuple[int, Event]] | None = None
        self._feed_after = 0
        self._asked: set[UUID] = set()  # key results answered about
        self.worlds_answered = 0

    # --- following the log -------------------------------------------------------------

    def catch_up(self, upto: int | None = None, folded: Folded | None = None) -> int:
        """Extend the index with the log's events up to ``upto`` (default: all); its position.

        Another process may extend it at the same time: an extension it made
        first is taken as it is, and this one goes on from there. ``folded``:
        ``(after, events)``, the log's events after position ``after`` with
        their positions, decoded already (by the instance that folded them);
        the part of them the index needs is not read from the log again.

        Raises:
            DamagedLogError: a key result's stream skips a version, or corrects
                or retracts a check-in not in effect.
        """
        storage = self._log.storage
        tracked = self._position(storage(self._index.tracked))
        while True:
            start = tracked or 0
            if upto is not None and start >= upto:
                return start
            chunk = _taken(folded, start, upto)
            if chunk is None:
                chunk = list(itertools.islice(self._log.replay(start, upto), _CHUNK))
            if not chunk and tracked is not None:
                return start
            reached = chunk[-1][0] if chunk else start
            try:
                rows, closes = self._rows(chunk)
            except DamagedLogError:
                moved = self._position(storage(self._index.tracked))
                if moved != tracked:  # read while another process extended it: again
                    tracked = moved
                    continue
                raise
            last = chunk[-1][1] if chunk else None
            to = Tracked(
                reached, _anchor(last.originator_id.hex, last.originator_version) if last else ""
            )
            extend = functools.partial(self._index.extend, tracked, to, rows, closes)
            if not storage(extend):
                tracked = self._position(storage(self._index.tracked))  # moved by another
                continue
            if tracked is None:
                log.info("okra: indexing the key results of %s", self._log.shown_url)
            tracked = reached
            if len(chunk) < _CHUNK:
                return reached

    def _position(self, tracked: Tracked | None) -> int | None:
        """The index's position, if the log still holds its anchor there; else it is dropped.

        An index made from another log (a backup restored under it, a log cut
        short) is not trusted: it is built again from this one.
        """
        if tracked is None:
            return None
        if tracked.position == 0:
            return 0
        found = self._log.anchor_at(tracked.position)
        if found is not None and _anchor(*found) == tracked.anchor:
            return tracked.position
        log.warning(
            "okra: the key result index of %s does not match its log; building it again",
            self._log.shown_url,
        )
        self._log.storage(self._index.drop)
        return None

    # --- fed by the instance that folds the events ---------------------------------------

    def follow(self, position: int) -> None:
        """Take the events folded after ``position`` (see :meth:`take`), if the index is there."""
        self._feed = [] if (self._log.storage(self.tracked) or 0) == position else None
        self._feed_after = position

    def take(self, position: int, event: Event) -> None:
        """Keep an event just folded; the index is extended once enough are kept.

        Events out of order (or when the index was not in step) are not kept:
        the index then reads the log from its own position.
        """
        feed = self._feed
        if feed is None:
            return
        if position != self._feed_after + len(feed) + 1:
            self._feed = None
            return
        feed.append((position, event))
        if len(feed) >= _FEED_EVERY:
            self.bring_up(position)

    def bring_up(self, upto: int) -> None:
        """Extend the index up to ``upto``, from the events kept where they reach."""
        folded = (self._feed_after, self._feed) if self._feed else None
        reached = self.try_catch_up(upto, folded)
        self._feed = [] if reached == upto else None
        self._feed_after = upto

    def first_question(self, entity_id: UUID) -> bool:
        """Whether an entity is asked about for the first time here (noted).

        The index answers a question with a few range queries and reads only the
        rows the answer holds, where loading the history reads the whole stream;
        but a history, once loaded, answers any further question from memory.
        So the index answers the first question about a key result, and the
        second loads its history for the questions that follow.
        """
        if entity_id in self._asked:
            return False
        self._asked.add(entity_id)
        return True

    def tracked(self) -> int | None:
        """The log position the index is at (None: never built)."""
        tracked = self._index.tracked()
        return None if tracked is None else tracked.position

    def try_catch_up(self, upto: int | None = None, folded: Folded | None = None) -> int | None:
        """:meth:`catch_up`, or None if the store cannot take the extension now.

        The index only saves reading: a store too busy to extend it (SQLite's
        write lock, PostgreSQL's row lock taken too long) leaves the question to
        the log, and the next checkpoint tries again.
        """
        try:
            return self.catch_up(upto, folded)
        except StorageError as exc:
            log.warning("okra: the key result index of %s waits: %s", self._log.shown_url, exc)
            return None

    def drop(self) -> None:
        """Forget the index: it is built again from the log on its next use."""
        self._index.drop()
        self._decoded.clear()
        self._feed = None

    def _rows(self, chunk: Sequence[tuple[int, Event]]) -> tuple[list[IndexRow], list[Close]]:
        """The index rows of a stretch of the log, and the earlier rows it replaces."""
        events = [(p, e) for p, e in chunk if is_key_result_event(type(e))]
        if not events:
            return [], []
        # What the index holds already of the key results and check-ins this touches.
        first_seen: dict[str, int] = {}
        for _, event in events:
            first_seen.setdefault(event.originator_id.hex, event.originator_version)
        running = self._log.storage(
            lambda: self._index.running(k for k, v in first_seen.items() if v > 1)
        )
        changed = [e for _, e in events if isinstance(e, CheckInCorrected | CheckInRetracted)]
        recorded_here = {e.check_in_id for _, e in events if isinstance(e, CheckInRecorded)}
        earlier = {e.check_in_id.hex for e in changed if e.check_in_id not in recorded_here}
        in_effect: dict[str, list[Any]] = {  # check-in -> its row in effect
            check_in: list(row)
            for check_in, row in (
                self._log.storage(lambda: self._index.open_check_ins(earlier)) if earlier else {}
            ).items()
        }
        earlier_rows = {id(row) for row in in_effect.values()}
        rows: list[list[Any]] = []
        closes: list[Close] = []
        for position, event in events:
            key_result = event.originator_id.hex
            version, known = running.get(key_result, (0, None))
            if event.originator_version != version + 1:
                raise self._log.damaged(
                    position,
                    f"version {event.originator_version} of key result {event.originator_id} "
                    f"follows version {version}",
                )
            at = micros(event.recorded_at)
            known = at if known is None or at > known else known
            running[key_result] = (event.originator_version, known)
            head = [position, key_result, event.originator_version, known, 0, at, event.actor]
            if isinstance(event, CheckInRecorded):
                row = _check_in_row(head, RECORDED, event, at, event.actor, event.source.value)
                in_effect[event.check_in_id.hex] = row
            elif isinstance(event, CheckInCorrected | CheckInRetracted):
                check_in = event.check_in_id.hex
                original = in_effect.pop(check_in, None)
                if original is None:
                    raise self._log.damaged(
                        position,
                        f"{event.wire_name} v{event.originator_version} names check-in "
                        f"{event.check_in_id}, which is not in effect",
                    )
                if id(original) in earlier_rows:  # a row the index holds: closed there
                    closes.append(Close(check_in, known))
                else:  # a row of this stretch: closed before it is written
                    original[_AT["known_to"]] = known
                if isinstance(event, CheckInRetracted):
                    row = _sparse_row(head, RETRACTED, check_in=check_in)
                else:
                    first = [original[_AT[c]] for c in ("recorded_at", "actor", "source")]
                    row = _check_in_row(head, CORRECTED, event, *first)
                    in_effect[check_in] = row
            else:
                stored = self._log.store.mapper.to_stored_event(event)
                row = _sparse_row(head, DEFINITION, topic=stored.topic, state=stored.state)
            rows.append(row)
        return [tuple(row) for row in rows], closes

    # --- answering ---------------------------------------------------------------------

    def first_answer(
        self, entity_id: UUID, at: datetime, known_at: datetime | None
    ) -> tuple[KeyResult, KeyResult | None] | None:
        """A key result now (its definition) and as of ``at``, from the index alone.

        For a question about one key result before anything else is folded in
        (a new process): it reads that key result's rows, the index brought up
        to the log first. None if the entity is not a key result (its first
        event says so: nothing is indexed for another), the index cannot answer
        now, or the key result was asked about already (:meth:`first_question`).
        """
        if not self.first_question(entity_id):
            return None
        first = next(self._log.stream(entity_id, upto=1), None)
        if first is None or not is_key_result_event(type(first)):
            return None
        if self.try_catch_up() is None:
            return None
        try:
            states, definitions = self._states(entity_id.hex, at, known_at)
        except IndexUnusable:
            return None
        latest = _fold(definitions.get(entity_id.hex, []), None)
        if latest is None:
            return None
        return latest, states.get(entity_id)

    def as_of(
        self, entity_id: UUID, at: datetime, known_at: datetime | None, *, position: int
    ) -> KeyResult | None:
        """The key result as true at ``at``, as known at ``known_at`` (None: now).

        None if it was not defined by then.

        Raises:
            IndexUnusable: the index is not at ``position`` (it moved on since
                it was brought there), or could not be read.
        """
        return self._states(entity_id.hex, at, known_at, position)[0].get(entity_id)

    def world(
        self, at: datetime, known_at: datetime | None, *, position: int
    ) -> dict[UUID, KeyResult]:
        """Every key result as of ``at`` (as known at ``known_at``) that was defined by then.

        A few queries of the index, whatever the number of key results: for a
        world of the past without folding the log.

        Raises:
            IndexUnusable: as :meth:`as_of`.
        """
        self.worlds_answered += 1
        return self._states(None, at, known_at, position)[0]

    def _states(
        self,
        key_result: str | None,
        at: datetime,
        known_at: datetime | None,
        position: int | None = None,
    ) -> tuple[dict[UUID, KeyResult], dict[str, list[tuple[int, Event]]]]:
        """:func:`okra_core.read._history.as_of` for one key result or all, from the index.

        Also the definitions read.

        Raises:
            IndexUnusable: the index could not be read, or (given ``position``)
                was read at another position.
        """
        defined_by = micros(at if known_at is None else min(at, known_at))
        known = None if known_at is None else micros(known_at)
        try:
            answer = self._log.storage(
                lambda: self._index.read(key_result, defined_by, micros(at), known)
            )
            definitions = self._definitions(answer.definitions)
        except (StorageError, EventDecodeError) as exc:
            log.warning(
                "okra: the key result index of %s cannot be read: %s", self._log.shown_url, exc
            )
            raise IndexUnusable(str(exc)) from exc
        if position is not None and answer.position != position:
            raise IndexUnusable(f"the index moved to {answer.position}, not {position}")
        check_ins: dict[str, list[Sequence[Any]]] = {}
        for row in answer.check_ins:
            check_ins.setdefault(row[0], []).append(row)
        retracted: dict[str, set[UUID]] = {}
        for held, check_in in answer.retracted:
            retracted.setdefault(held, set()).add(fast_uuid(check_in))
        states: dict[UUID, KeyResult] = {}
        for held, events in definitions.items():
            entity_id = fast_uuid(held)
            state = _fold(events, defined_by)
            if state is None:
                continue  # not defined yet, as known then
            stamp = answer.stamps.get(held)
            if stamp is not None and stamp[0] != state.version:
                version, event_at, actor = stamp
                state = attrs.evolve(
                    state, version=version, updated_at=from_micros(event_at), updated_by=actor
                )
            states[entity_id] = attrs.evolve(
                state,
                check_ins=CheckIns(
                    _check_ins(entity_id, check_ins.get(held, ()), self._confidences)
                ),
                retracted_ids=frozenset(retracted.get(held, ())),
            )
        return states, definitions

    def _definitions(
        self, rows: Sequence[tuple[str, int, int, str, bytes]]
    ) -> dict[str, list[tuple[int, Event]]]:
        """Per key result, ``(known_from, event)`` of its definition events, in order.

        Decoded events are kept: a row of the index never changes.
        """
        decoded, decode = self._decoded, self._log.store.mapper.to_domain_event
        found: dict[str, list[tuple[int, Event]]] = {}
        for held, version, known_from, topic, data in rows:
            event = decoded.get((held, version))
            if event is None:
                record = StoredEvent(fast_uuid(held), version, topic, data)
                event = decoded[held, version] = cast(Event, decode(record))
            found.setdefault(held, []).append((known_from, event))
        return found


def _fold(events: Sequence[tuple[int, Event]], known_by: int | None) -> KeyResult | None:
    """The key result from its definition events known by ``known_by`` (None: all)."""
    state: Any = None
    for known_from, event in events:
        if known_by is not None and known_from > known_by:
            break
        state = project(None, event) if state is None else state.apply(event)
    return state if isinstance(state, KeyResult) else None


def _check_ins(
    entity_id: UUID,
    rows: Iterable[Sequence[Any]],
    confidences: dict[tuple[float, str, str], Confidence],
) -> list[CheckIn]:
    """The check-ins of index rows; ``confidences`` keeps each confidence made once."""
    made = []
    sources = CheckInSource._value2member_map_
    for (
        _,
        check_in,
        value,
        probability,
        scale,
        given,
        narrative,
        effective_at,
        recorded_at,
        actor,
        source,
        kind,
    ) in rows:
        if scale is None:
            confidence = None
        else:
            confidence = confidences.get((probability, scale, given))
            if confidence is None:
                confidence = confidences[probability, scale, given] = Confidence(
                    probability=probability, scale=ConfidenceScale(scale), given=given
                )
        made.append(
            CheckIn(
                id=fast_uuid(check_in),
                key_result_id=entity_id,
                value=value,
                confidence=confidence,
                narrative=narrative,
                effective_at=from_micros(effective_at),
                recorded_at=from_micros(recorded_at),
                actor=actor,
                source=sources[source],  # type: ignore[arg-type]
                corrected=kind == CORRECTED,
            )
        )
    return made


Folded = tuple[int, Sequence[tuple[int, Event]]]
"""``(after, events)``: the log's events after position ``after``, with their positions."""


def _taken(folded: Folded | None, start: int, upto: int | None) -> list[tuple[int, Event]] | None:
    """The next stretch after ``start`` from ``folded``; None if it does not hold it."""
    if folded is None:
        return None
    after, events = folded
    offset = start - after
    if not 0 <= offset < len(events) or events[offset][0] != start + 1:
        return None
    chunk = list(events[offset : offset + _CHUNK])
    if upto is not None and chunk[-1][0] > upto:
        chunk = [pair for pair in chunk if pair[0] <= upto]
    return chunk


def _sparse_row(head: list[Any], kind: int, **columns: Any) -> list[Any]:
    """A row of ``head`` (the columns every row has), ``kind`` and ``columns``; NULL elsewhere."""
    row = [*head, *(None,) * (len(INDEX_COLUMNS) - len(head))]
    row[_AT["kind"]] = kind
    for name, value in columns.items():
        row[_AT[name]] = value
    return row


def _check_in_row(
    head: list[Any],
    kind: int,
    event: CheckInRecorded | CheckInCorrected,
    recorded_at: int,
    actor: str,
    source: str,
) -> list[Any]:
    """The row of a check-in as ``event`` leaves it (recorded, or corrected)."""
    row = [
        *head,
        event.check_in_id.hex,
        micros(event.effective_at),
        event.value,
        *_confidence_columns(event.confidence),
        event.narrative,
        recorded_at,
        actor,
        source,
        None,  # known_to
        None,  # topic
        None,  # state
    ]
    row[_AT["kind"]] = kind
    return row


def _confidence_columns(confidence: Confidence | None) -> tuple[Any, Any, Any]:
    if confidence is None:
        return None, None, None
    return confidence.probability, confidence.scale.value, confidence.given
