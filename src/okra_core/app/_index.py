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
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, cast
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent

from ..codec._fast import fast_uuid
from ..domain._events import (
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    EntityKind,
    Event,
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
    from_micros,
    micros,
)
from ..store._log import Log

__all__ = ["KeyResultIndexer"]

log = logging.getLogger("okra")

# Events read per extension of the index (each one transaction).
_CHUNK: Final = 10_000
_AT: Final = {name: i for i, name in enumerate(INDEX_COLUMNS)}
_EMPTY: Final = (None,) * (len(INDEX_COLUMNS) - 7)


_KEY_RESULT_EVENTS: dict[type[Event], bool] = {}


def _is_key_result_event(cls: type[Event]) -> bool:
    found = _KEY_RESULT_EVENTS.get(cls)
    if found is None:
        found = _KEY_RESULT_EVENTS[cls] = cls.entity_kind() == EntityKind.KEY_RESULT
    return found


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

    # --- following the log -------------------------------------------------------------

    def catch_up(self, upto: int | None = None) -> int:
        """Extend the index with the log's events up to ``upto`` (default: all); its position.

        Another process may extend it at the same time: an extension it made
        first is taken as it is, and this one goes on from there.

        Raises:
            DamagedLogError: a key result's stream skips a version, or corrects
                or retracts a check-in not in effect.
        """
        storage = self._log.storage
        tracked = storage(self._index.tracked)
        while True:
            start = tracked or 0
            if upto is not None and start >= upto:
                return start
            chunk = list(itertools.islice(self._log.replay(start, upto), _CHUNK))
            if not chunk and tracked is not None:
                return start
            reached = chunk[-1][0] if chunk else start
            rows, closes = self._rows(chunk)
            extend = functools.partial(self._index.extend, tracked, reached, rows, closes)
            if not storage(extend):
                tracked = storage(self._index.tracked)  # another process moved it: go from there
                continue
            if tracked is None:
                log.info("okra: indexing the key results of %s", self._log.shown_url)
            tracked = reached
            if len(chunk) < _CHUNK:
                return reached

    def drop(self) -> None:
        """Forget the index: it is built again from the log on its next use."""
        self._index.drop()

    def _rows(self, chunk: Sequence[tuple[int, Event]]) -> tuple[list[IndexRow], list[Close]]:
        """The index rows of a stretch of the log, and the earlier rows it replaces."""
        events = [(p, e) for p, e in chunk if _is_key_result_event(type(e))]
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
                    row = [*head, check_in, *_EMPTY[1:]]
                    row[_AT["kind"]] = RETRACTED
                else:
                    first = [original[_AT[c]] for c in ("recorded_at", "actor", "source")]
                    row = _check_in_row(head, CORRECTED, event, *first)
                    in_effect[check_in] = row
            else:
                stored = self._log.store.mapper.to_stored_event(event)
                row = [*head, *_EMPTY[:-2], stored.topic, stored.state]
                row[_AT["kind"]] = DEFINITION
            rows.append(row)
        return [tuple(row) for row in rows], closes

    # --- answering ---------------------------------------------------------------------

    def latest(self, entity_id: UUID) -> KeyResult | None:
        """The key result as its definitions leave it (no check-ins); None if not indexed.

        For what a question about a key result created later says of it.
        """
        return self._fold(entity_id, None)

    def as_of(self, entity_id: UUID, at: datetime, known_at: datetime | None) -> KeyResult | None:
        """The key result as true at ``at``, as known at ``known_at`` (None: now).

        None if it was not defined by then (or is not a key result the index holds).
        """
        defined_by = at if known_at is None else min(at, known_at)
        index = self._index
        key_result = entity_id.hex
        state = self._fold(entity_id, micros(defined_by))
        if state is None:
            return None
        stamp = self._log.storage(lambda: index.stamp(key_result, micros(defined_by)))
        if stamp is not None and stamp[0] != state.version:
            version, event_at, actor = stamp
            state = attrs.evolve(
                state, version=version, updated_at=from_micros(event_at), updated_by=actor
            )
        known = None if known_at is None else micros(known_at)
        found = self._log.storage(lambda: index.check_ins(key_result, micros(at), known))
        retracted = self._log.storage(lambda: index.retracted(key_result, known))
        return attrs.evolve(
            state,
            check_ins=CheckIns(self._check_ins(entity_id, found)),
            retracted_ids=frozenset(fast_uuid(r) for r in retracted),
        )

    def _fold(self, entity_id: UUID, known_by: int | None) -> KeyResult | None:
        """The key result from its definition events known by ``known_by`` (None: all)."""
        rows = self._log.storage(lambda: self._index.definitions(entity_id.hex))
        decode = self._log.store.mapper.to_domain_event
        state: Any = None
        for version, known_from, topic, data in rows:
            if known_by is not None and known_from > known_by:
                break
            event = cast(Event, decode(StoredEvent(entity_id, version, topic, data)))
            state = project(None, event) if state is None else state.apply(event)
        return state if isinstance(state, KeyResult) else None

    def _check_ins(self, entity_id: UUID, rows: Iterable[Sequence[Any]]) -> list[CheckIn]:
        made = []
        sources = CheckInSource._value2member_map_
        confidence_of = self._confidence
        for (
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
            made.append(
                CheckIn(
                    id=fast_uuid(check_in),
                    key_result_id=entity_id,
                    value=value,
                    confidence=None if scale is None else confidence_of(probability, scale, given),
                    narrative=narrative,
                    effective_at=from_micros(effective_at),
                    recorded_at=from_micros(recorded_at),
                    actor=actor,
                    source=sources[source],  # type: ignore[arg-type]
                    corrected=kind == CORRECTED,
                )
            )
        return made

    def _confidence(self, probability: float, scale: str, given: str) -> Confidence:
        key = (probability, scale, given)
        found = self._confidences.get(key)
        if found is None:
            found = self._confidences[key] = Confidence(
                probability=probability, scale=ConfidenceScale(scale), given=given
            )
        return found


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
