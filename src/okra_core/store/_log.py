"""The log of one okra store: read in position order, one entity's stream, guarded appends.

``Log`` is the only place that talks to the event store once it is open: every
storage failure leaves it as a :class:`~okra_core.StorageError` naming the store
(without its password), and every refused write as a
:class:`~okra_core.ConcurrencyError` naming the entities involved.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import (
    Notification,
    PersistenceError,
    RecordConflictError,
    Recording,
)

from ..domain._errors import ConcurrencyError, DamagedLogError, StorageError
from ..domain._events import Event
from ._index import KeyResultIndex
from ._store import EventStoreApp, LogMovedError, ReadConflictError, ReadModelStore, is_driver_error
from ._tree import TREE_SIGNER, LogTreeRecorder, Signer, StoredRecord

__all__ = ["Log"]

log = logging.getLogger("okra")

C = TypeVar("C")

# How many notifications one select reads.
_BATCH: Final = 1000


class Log:
    """The event log of an open store.

    Args:
        store: the open event store.
        url: the store's URL, as given (for log messages).
        shown_url: the URL without a password (for error messages).
    """

    def __init__(
        self,
        store: EventStoreApp,
        *,
        url: str,
        shown_url: str,
        signer: Callable[[], Signer | None] = lambda: None,
    ) -> None:
        self.store = store
        self.url = url
        self.shown_url = shown_url
        self._signer_source = signer

    @functools.cached_property
    def signer(self) -> Signer | None:
        """What signs the tree heads of this log's writes (read on the first write)."""
        return self._signer_source()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def storage(self, operation: Callable[[], C]) -> C:
        """Run ``operation`` on the store; its failures become a StorageError."""
        try:
            return operation()
        except Exception as exc:
            # eventsourcing's errors, the OS's, and a database driver's own (a
            # plugin's index may use a DB-API driver directly: every driver's
            # errors derive from PEP 249's names).
            if not isinstance(exc, PersistenceError | OSError) and not is_driver_error(exc):
                raise
            raise StorageError(f"cannot use {self.shown_url}: {exc}") from exc

    # --- reading -------------------------------------------------------------------

    def notifications(self, after: int, upto: int | None = None) -> Iterator[Notification]:
        """The log after position ``after`` (up to ``upto``), in batches, oldest first."""
        recorder = self.store.recorder
        position = after
        while True:
            try:
                batch = recorder.select_notifications(start=position + 1, limit=_BATCH, stop=upto)
            except PersistenceError as exc:
                raise StorageError(f"cannot read {self.shown_url}: {exc}") from exc
            for notification in batch:
                position = notification.id
                yield notification
            if len(batch) < _BATCH:
                return

    def replay(
        self,
        after: int,
        upto: int | None = None,
        *,
        checked: bool = False,
        skip: Callable[[str], bool] | None = None,
    ) -> Iterator[tuple[int, Event]]:
        """The events after position ``after`` (up to ``upto``) with their positions.

        The quickest way through the log: where the recorder offers its rows as
        stored (every okra recorder does), they are read as they are, without
        eventsourcing's notification objects or a UUID built per row. With
        ``checked`` (from the log's start), a version missing from an entity's
        stream is refused as :meth:`checked` refuses it. Records whose topic
        ``skip`` is true of are passed over without being decoded.

        Raises:
            DamagedLogError: with ``checked``, a version is missing from a stream.
        """
        pairs = self._replay(after, upto, skip)
        if not checked:
            yield from pairs
            return
        versions: dict[UUID, int] = {}
        for position, event in pairs:
            self._follow(versions, position, event.originator_id, event.originator_version)
            yield position, event

    def _replay(
        self, after: int, upto: int | None, skip: Callable[[str], bool] | None
    ) -> Iterator[tuple[int, Event]]:
        recorder = self.store.recorder
        if not isinstance(recorder, LogTreeRecorder):
            for notification in self.notifications(after, upto):
                if skip is None or not skip(notification.topic):
                    yield notification.id, self.decode(notification)
            return
        # The mapper takes any record with the fields of a StoredEvent.
        decode = cast(Callable[[StoredRecord], Event], self.store.mapper.to_domain_event)
        position = after
        while upto is None or position < upto:
            start = position  # the batch starts after the last row read
            batch = self.storage(functools.partial(recorder.tree_records, start, _BATCH))
            for position, record in batch:
                if upto is not None and position > upto:
                    return
                if skip is None or not skip(record.topic):
                    yield position, decode(record)
            if len(batch) < _BATCH:
                return

    def decode(self, notification: Notification) -> Event:
        """The event a notification holds."""
        return cast(Event, self.store.mapper.to_domain_event(notification))

    def events(self, after: int = 0) -> Iterator[Event]:
        """The events after position ``after``, oldest first."""
        return map(self.decode, self.notifications(after))

    def checked(self, notifications: Iterable[Notification]) -> Iterator[Notification]:
        """``notifications`` of the whole log from its start, refusing a damaged one.

        Raises:
            DamagedLogError: a version is missing from an entity's stream.
        """
        versions: dict[UUID, int] = {}
        for notification in notifications:
            entity = UUID(str(notification.originator_id))
            self._follow(versions, notification.id, entity, notification.originator_version)
            yield notification

    def _follow(self, versions: dict[UUID, int], position: int, entity: UUID, version: int) -> None:
        """Note ``version`` of ``entity`` in ``versions``, refusing one that skips a version."""
        before = versions.get(entity, 0)
        if version != before + 1:
            raise self.damaged(
                position, f"version {version} of entity {entity} follows version {before}"
            )
        versions[entity] = version

    def damaged(self, position: int | None, what: str) -> DamagedLogError:
        """The error for a log found damaged (at ``position``, when it is known)."""
        at = f" at position {position}" if position is not None else ""
        return DamagedLogError(
            f"the log of {self.shown_url} is damaged{at}: {what}; "
            "run `okra verify` to see what changed"
        )

    def stream(
        self, entity_id: UUID, *, upto: int | None = None, after: int = 0
    ) -> Iterator[Event]:
        """One entity's events, oldest first: those after version ``after`` (up to ``upto``)."""
        try:
            events = cast(
                Iterator[Event],
                self.store.events.get(entity_id, gt=after or None, lte=upto),
            )
            for expected, event in enumerate(events, start=after + 1):
                if event.originator_version != expected:
                    raise self.damaged(
                        None,
                        f"version {event.originator_version} of entity {entity_id} follows "
                        f"version {expected - 1}",
                    )
                yield event
        except PersistenceError as exc:
            raise StorageError(f"cannot read {self.shown_url}: {exc}") from exc

    def last_position(self) -> int:
        """The position of the newest event (0 for an empty log)."""
        return self.storage(lambda: self.store.recorder.max_notification_id()) or 0

    def anchor_at(self, position: int) -> tuple[str, int] | None:
        """The event at ``position`` in the log, as ``(originator id hex, version)``."""
        notifications = self.storage(
            lambda: self.store.recorder.select_notifications(start=position, limit=1)
        )
        if not notifications or notifications[0].id != position:
            return None
        found = notifications[0]
        return UUID(str(found.originator_id)).hex, found.originator_version

    # --- writing -------------------------------------------------------------------

    def append(
        self,
        events: Sequence[Event],
        *,
        read_versions: dict[UUID, int],
        read_position: int | None = None,
    ) -> list[Recording[UUID]]:
        """Record ``events`` in one write, if the entities read are still as they were.

        Raises:
            ConcurrencyError: an entity read (or written) changed meanwhile, or,
                with ``read_position``, anything at all was recorded after it.
            StorageError: the store failed.
        """
        written = {e.originator_id for e in events}
        guard: dict[str, Any] = {"read_versions": read_versions}
        if read_position is not None:
            guard["read_position"] = read_position
        if self.signer is not None:
            guard[TREE_SIGNER] = self.signer
        try:
            return self.store.record(events, **guard)
        except ReadConflictError as exc:
            raise ConcurrencyError([exc.entity_id]) from exc
        except LogMovedError as exc:
            raise ConcurrencyError(sorted(written)) from exc
        except RecordConflictError as exc:
            raise ConcurrencyError(sorted(written)) from exc
        except PersistenceError as exc:
            raise StorageError(f"cannot write to {self.shown_url}: {exc}") from exc

    # --- the saved read model ------------------------------------------------------

    def read_models(self) -> ReadModelStore | None:
        """Where the store keeps read models, if its backend has a place for them."""
        return self.storage(lambda: self.store.read_models)

    def key_result_index(self) -> KeyResultIndex | None:
        """The store's key result index, if its backend keeps one and may here.

        An encrypted store keeps none: the index holds check-ins' values as
        columns, in the clear, and they are what the encryption protects.
        """
        if self.store.mapper.cipher:
            return None
        return self.storage(lambda: self.store.key_result_index)

    def seal(self, data: bytes) -> bytes:
        """Compress and encrypt a read model as the store does its events.

        The states hold everything the events do, so they get the same protection.
        """
        mapper = self.store.mapper
        if mapper.compressor:
            data = mapper.compressor.compress(data)
        if mapper.cipher:
            data = mapper.cipher.encrypt(data)
        return data

    def unseal(self, data: bytes) -> bytes | None:
        """A read model as :meth:`seal` saved it, or None if it cannot be opened."""
        mapper = self.store.mapper
        try:
            if mapper.cipher:
                data = mapper.cipher.decrypt(data)
            if mapper.compressor:
                data = mapper.compressor.decompress(data)
        except Exception:  # a wrong key, another cipher: rebuild from the log
            log.warning("okra: the saved read model cannot be decrypted; rebuilding from the log")
            return None
        return data
