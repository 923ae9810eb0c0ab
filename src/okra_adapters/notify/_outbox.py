"""Where delivery state lives: the outbox, beside the events but not among them.

Delivery state (how far the log has been read for notifications, what is
waiting, what was delivered, what gave up) is operational, not a fact of the
domain, so it is kept out of the event log, in an :class:`Outbox`. Two are
built in: :class:`MemoryOutbox` (one process) and :class:`SQLiteOutbox` (a file,
by default the store's own SQLite file, in tables of its own).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import attrs

from okra_core import Notification, NotificationKind, ValidationError

__all__ = [
    "MemoryOutbox",
    "Outbox",
    "Pending",
    "SQLiteOutbox",
    "open_outbox",
]


@attrs.frozen(kw_only=True)
class Pending:
    """A notification in the outbox, with its delivery state.

    Attributes:
        notification: what is to be sent.
        state: ``pending`` (waiting or to be retried), ``delivered`` or ``dead``
            (gave up after too many attempts: a dead letter).
        attempts: how many deliveries were tried.
        next_try_at: when it may be tried (again).
        last_error: why the latest attempt failed ("" if none did).
        delivered_at: when it was delivered.
    """

    notification: Notification
    state: str
    attempts: int
    next_try_at: datetime
    last_error: str = ""
    delivered_at: datetime | None = None

    @property
    def key(self) -> str:
        """The notification's idempotency key."""
        return self.notification.key


class Outbox(Protocol):
    """The delivery state of one store's notifications.

    Implementations make :meth:`enqueue` atomic: the new notifications and the
    new log position are saved together, or neither is.
    """

    def position(self) -> int:
        """The log position up to which events have been turned into notifications."""
        ...

    def enqueue(self, notifications: Sequence[Notification], position: int) -> int:
        """Add the notifications whose keys are new and move the position; return how many."""
        ...

    def due(self, now: datetime) -> list[Pending]:
        """Pending notifications that may be tried at ``now``, oldest first."""
        ...

    def mark_delivered(self, key: str, now: datetime) -> None:
        """Record that the notification with ``key`` was delivered."""
        ...

    def mark_failed(self, key: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: try again at ``retry_at``, or (``None``) give up."""
        ...

    def get(self, key: str) -> Pending | None:
        """The notification with ``key`` and its state, if the outbox has it."""
        ...

    def items(self, state: str | None = None) -> list[Pending]:
        """Everything in the outbox (in one state), oldest first."""
        ...

    def revive(self, keys: Iterable[str], now: datetime) -> int:
        """Put dead letters back to pending, attempts reset; return how many."""
        ...

    def discard(self, keys: Iterable[str]) -> int:
        """Forget dead letters for good; return how many."""
        ...

    def close(self) -> None:
        """Release the outbox's resources."""
        ...


def encode_notification(n: Notification) -> str:
    """A notification as JSON text."""
    return json.dumps(
        {
            "key": n.key,
            "kind": n.kind.value,
            "channel": n.channel,
            "recipient": n.recipient,
            "subject": n.subject,
            "text": n.text,
            "html": n.html,
            "data": n.data,
            "created_at": n.created_at.isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def decode_notification(text: str) -> Notification:
    """A notification from :func:`encode_notification`'s JSON text."""
    raw: dict[str, Any] = json.loads(text)
    return Notification(
        key=raw["key"],
        kind=NotificationKind(raw["kind"]),
        channel=raw["channel"],
        recipient=raw["recipient"],
        subject=raw["subject"],
        text=raw["text"],
        html=raw["html"],
        data=raw["data"],
        created_at=datetime.fromisoformat(raw["created_at"]),
    )


class MemoryOutbox:
    """An outbox in this process's memory: lost when it ends (for tests, ``memory://``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._position = 0
        self._items: dict[str, Pending] = {}

    def position(self) -> int:
        return self._position

    def enqueue(self, notifications: Sequence[Notification], position: int) -> int:
        with self._lock:
            added = 0
            for n in notifications:
                if n.key not in self._items:
                    self._items[n.key] = Pending(
                        notification=n, state="pending", attempts=0, next_try_at=n.created_at
                    )
                    added += 1
            self._position = max(self._position, position)
            return added

    def due(self, now: datetime) -> list[Pending]:
        with self._lock:
            return [
                p for p in self._items.values() if p.state == "pending" and p.next_try_at <= now
            ]

    def mark_delivered(self, key: str, now: datetime) -> None:
        with self._lock:
            item = self._items[key]
            self._items[key] = attrs.evolve(
                item, state="delivered", attempts=item.attempts + 1, delivered_at=now
            )

    def mark_failed(self, key: str, error: str, retry_at: datetime | None) -> None:
        with self._lock:
            item = self._items[key]
            self._items[key] = attrs.evolve(
                item,
                state="pending" if retry_at is not None else "dead",
                attempts=item.attempts + 1,
                next_try_at=retry_at if retry_at is not None else item.next_try_at,
                last_error=error,
            )

    def get(self, key: str) -> Pending | None:
        return self._items.get(key)

    def items(self, state: str | None = None) -> list[Pending]:
        with self._lock:
            return [p for p in self._items.values() if state in (None, p.state)]

    def revive(self, keys: Iterable[str], now: datetime) -> int:
        with self._lock:
            count = 0
            for key in keys:
                item = self._items.get(key)
                if item is not None and item.state == "dead":
                    self._items[key] = attrs.evolve(
                        item, state="pending", attempts=0, next_try_at=now
                    )
                    count += 1
            return count

    def discard(self, keys: Iterable[str]) -> int:
        with self._lock:
            dead = [k for k in keys if k in self._items and self._items[k].state == "dead"]
            for key in dead:
                del self._items[key]
            return len(dead)

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS okra_notify_position (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS okra_notify_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    notification TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_try_at TEXT NOT NULL,
    last_error TEXT NOT NULL,
    delivered_at TEXT
);
CREATE INDEX IF NOT EXISTS okra_notify_outbox_due ON okra_notify_outbox (state, next_try_at);
"""

_COLUMNS = "notification, state, attempts, next_try_at, last_error, delivered_at"


class SQLiteOutbox:
    """An outbox in an SQLite file (tables ``okra_notify_*``).

    It may be the store's own file: the tables do not touch the events. Every
    change is one transaction, so a crash leaves either the state before it or
    the state after it.

    Args:
        path: the SQLite file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        with self._lock:
            self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteOutbox({self.path!r})"

    def __enter__(self) -> SQLiteOutbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def position(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT position FROM okra_notify_position").fetchone()
        return int(row[0]) if row else 0

    def enqueue(self, notifications: Sequence[Notification], position: int) -> int:
        with self._lock, self._transaction():
            added = 0
            for n in notifications:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO okra_notify_outbox (key, notification, state, "
                    "attempts, next_try_at, last_error) VALUES (?, ?, 'pending', 0, ?, '')",
                    (n.key, encode_notification(n), _stamp(n.created_at)),
                )
                added += cursor.rowcount
            self._db.execute(
                "INSERT INTO okra_notify_position (id, position) VALUES (1, ?) "
                "ON CONFLICT (id) DO UPDATE SET position = MAX(position, excluded.position)",
                (position,),
            )
            return added

    def due(self, now: datetime) -> list[Pending]:
        return self._select("state = 'pending' AND next_try_at <= ?", (_stamp(now),))

    def mark_delivered(self, key: str, now: datetime) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE okra_notify_outbox SET state = 'delivered', attempts = attempts + 1, "
                "delivered_at = ? WHERE key = ?",
                (_stamp(now), key),
            )

    def mark_failed(self, key: str, error: str, retry_at: datetime | None) -> None:
        with self._lock:
            if retry_at is None:
                self._db.execute(
                    "UPDATE okra_notify_outbox SET state = 'dead', attempts = attempts + 1, "
                    "last_error = ? WHERE key = ?",
                    (error, key),
                )
            else:
                self._db.execute(
                    "UPDATE okra_notify_outbox SET attempts = attempts + 1, last_error = ?, "
                    "next_try_at = ? WHERE key = ?",
                    (error, _stamp(retry_at), key),
                )

    def get(self, key: str) -> Pending | None:
        found = self._select("key = ?", (key,))
        return found[0] if found else None

    def items(self, state: str | None = None) -> list[Pending]:
        if state is None:
            return self._select("1 = 1", ())
        return self._select("state = ?", (state,))

    def revive(self, keys: Iterable[str], now: datetime) -> int:
        with self._lock, self._transaction():
            return sum(
                self._db.execute(
                    "UPDATE okra_notify_outbox SET state = 'pending', attempts = 0, "
                    "next_try_at = ? WHERE key = ? AND state = 'dead'",
                    (_stamp(now), key),
                ).rowcount
                for key in keys
            )

    def discard(self, keys: Iterable[str]) -> int:
        with self._lock, self._transaction():
            return sum(
                self._db.execute(
                    "DELETE FROM okra_notify_outbox WHERE key = ? AND state = 'dead'", (key,)
                ).rowcount
                for key in keys
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _select(self, where: str, args: tuple[object, ...]) -> list[Pending]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM okra_notify_outbox WHERE {where} ORDER BY seq", args
            ).fetchall()
        return [
            Pending(
                notification=decode_notification(row[0]),
                state=row[1],
                attempts=row[2],
                next_try_at=datetime.fromisoformat(row[3]),
                last_error=row[4],
                delivered_at=datetime.fromisoformat(row[5]) if row[5] else None,
            )
            for row in rows
        ]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on an exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _stamp(instant: datetime) -> str:
    # Fixed-width UTC text, so that comparing text compares instants.
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def open_outbox(url: str) -> Outbox:
    """An outbox from a URL: ``memory://`` or ``sqlite:///path``.

    Raises:
        ValidationError: (path ``outbox``) for any other URL.
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return MemoryOutbox()
    if parts.scheme == "sqlite" and not parts.netloc:
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            return SQLiteOutbox(Path(path).expanduser())
    raise ValidationError.single(
        "outbox", f"expected an outbox URL such as sqlite:///path/outbox.sqlite, got {url!r}"
    )
