"""Where delivery state lives: the outbox, beside the events but not among them.

Delivery state (how far the log has been read for notifications, what is
waiting, what was delivered, what gave up) is operational, not a fact of the
domain, so it is kept out of the event log, in an :class:`Outbox`. Two are
built in: :class:`MemoryOutbox` (one process), :class:`SQLiteOutbox` (a file, by
default the store's own SQLite file) and :class:`PostgreSQLOutbox` (by default the
store's own database), each in tables of its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, Self, cast
from urllib.parse import urlsplit

import attrs

from okra_core import Notification, NotificationKind, StorageError, ValidationError

__all__ = [
    "MemoryOutbox",
    "Outbox",
    "Pending",
    "PostgreSQLOutbox",
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

    def claim(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Pending]:
        """Take up to ``limit`` due notifications no one else holds, for ``lease``; oldest first.

        A claim is atomic: two dispatchers claiming at once never get the same
        item. It ends when the item is marked delivered or failed, or when the
        lease runs out (its holder died): then another dispatcher may claim it.
        """
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

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc_info: object) -> None: ...


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
        self._claims: dict[str, tuple[str, datetime]] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

    def claim(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Pending]:
        with self._lock:
            free = [
                p
                for p in self._items.values()
                if p.state == "pending"
                and p.next_try_at <= now
                and (p.key not in self._claims or self._claims[p.key][1] <= now)
            ][:limit]
            for p in free:
                self._claims[p.key] = (owner, now + lease)
            return free

    def mark_delivered(self, key: str, now: datetime) -> None:
        with self._lock:
            self._claims.pop(key, None)
            item = self._items[key]
            self._items[key] = attrs.evolve(
                item, state="delivered", attempts=item.attempts + 1, delivered_at=now
            )

    def mark_failed(self, key: str, error: str, retry_at: datetime | None) -> None:
        with self._lock:
            self._claims.pop(key, None)
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


_COLUMNS = "notification, state, attempts, next_try_at, last_error, delivered_at"


class _SQLOutbox:
    """An outbox in two SQL tables; subclasses give the connection and the dialect.

    Statements are written with ``?`` placeholders and ``{outbox}``/``{position}``
    for the table names; :meth:`_sql` adapts them.
    """

    _placeholder = "?"
    # Added to the claim's inner SELECT: PostgreSQL's FOR UPDATE SKIP LOCKED, so that
    # concurrent claims pass over each other's rows instead of waiting for them.
    _skip_locked = ""

    def __init__(self, db: Any, outbox: str, position: str) -> None:
        self._db = db
        self._names = {"outbox": outbox, "position": position}
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def position(self) -> int:
        with self._lock:
            row = self._run("SELECT position FROM {position} WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def enqueue(self, notifications: Sequence[Notification], position: int) -> int:
        with self._lock, self._transaction():
            added = 0
            for n in notifications:
                cursor = self._run(
                    "INSERT INTO {outbox} (key, notification, state, attempts, next_try_at, "
                    "last_error) VALUES (?, ?, 'pending', 0, ?, '') ON CONFLICT (key) DO NOTHING",
                    (n.key, encode_notification(n), _stamp(n.created_at)),
                )
                added += max(cursor.rowcount, 0)
            self._run(
                "INSERT INTO {position} (id, position) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
            )
            self._run(
                "UPDATE {position} SET position = ? WHERE id = 1 AND position < ?",
                (position, position),
            )
            return added

    def due(self, now: datetime) -> list[Pending]:
        return self._select("state = 'pending' AND next_try_at <= ?", (_stamp(now),))

    def claim(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Pending]:
        free = "state = 'pending' AND next_try_at <= ? AND " + _UNCLAIMED
        with self._lock, self._transaction():
            rows = self._run(
                f"UPDATE {{outbox}} SET claimed_by = ?, claimed_until = ? WHERE seq IN ("
                f"SELECT seq FROM {{outbox}} WHERE {free} ORDER BY seq LIMIT ?{self._skip_locked}"
                f") RETURNING {_COLUMNS}, seq",
                (owner, _stamp(now + lease), _stamp(now), _stamp(now), limit),
            ).fetchall()
        return [_pending(row) for row in sorted(rows, key=lambda row: int(row[-1]))]

    def mark_delivered(self, key: str, now: datetime) -> None:
        with self._lock, self._transaction():
            self._run(
                "UPDATE {outbox} SET state = 'delivered', attempts = attempts + 1, "
                "claimed_by = NULL, claimed_until = NULL, delivered_at = ? WHERE key = ?",
                (_stamp(now), key),
            )

    def mark_failed(self, key: str, error: str, retry_at: datetime | None) -> None:
        with self._lock, self._transaction():
            if retry_at is None:
                self._run(
                    "UPDATE {outbox} SET state = 'dead', attempts = attempts + 1, "
                    "claimed_by = NULL, claimed_until = NULL, last_error = ? WHERE key = ?",
                    (error, key),
                )
            else:
                self._run(
                    "UPDATE {outbox} SET attempts = attempts + 1, last_error = ?, "
                    "claimed_by = NULL, claimed_until = NULL, next_try_at = ? WHERE key = ?",
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
                self._run(
                    "UPDATE {outbox} SET state = 'pending', attempts = 0, "
                    "next_try_at = ? WHERE key = ? AND state = 'dead'",
                    (_stamp(now), key),
                ).rowcount
                for key in keys
            )

    def discard(self, keys: Iterable[str]) -> int:
        with self._lock, self._transaction():
            return sum(
                self._run("DELETE FROM {outbox} WHERE key = ? AND state = 'dead'", (key,)).rowcount
                for key in keys
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _sql(self, statement: str) -> str:
        return statement.format(**self._names).replace("?", self._placeholder)

    def _run(self, statement: str, args: tuple[object, ...] = ()) -> Any:
        return self._db.execute(self._sql(statement), args)

    def _select(self, where: str, args: tuple[object, ...]) -> list[Pending]:
        with self._lock:
            rows = self._run(
                f"SELECT {_COLUMNS} FROM {{outbox}} WHERE {where} ORDER BY seq", args
            ).fetchall()
        return [_pending(row) for row in rows]

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError


_TABLES = """
CREATE TABLE IF NOT EXISTS {position} (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS {outbox} (
    seq {seq},
    key TEXT NOT NULL UNIQUE,
    notification TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_try_at TEXT NOT NULL,
    last_error TEXT NOT NULL,
    delivered_at TEXT,
    claimed_by TEXT,
    claimed_until TEXT
);
CREATE INDEX IF NOT EXISTS {index} ON {outbox} (state, next_try_at);
"""


def _pending(row: Sequence[Any]) -> Pending:
    return Pending(
        notification=decode_notification(row[0]),
        state=row[1],
        attempts=row[2],
        next_try_at=datetime.fromisoformat(row[3]),
        last_error=row[4],
        delivered_at=datetime.fromisoformat(row[5]) if row[5] else None,
    )


_UNCLAIMED = "(claimed_until IS NULL OR claimed_until <= ?)"

# Columns added after the first release: added to an outbox made before them.
_CLAIM_COLUMNS = ("claimed_by", "claimed_until")


class SQLiteOutbox(_SQLOutbox):
    """An outbox in an SQLite file (tables ``okra_notify_*``).

    It may be the store's own file: the tables do not touch the events. Every
    change is one transaction, so a crash leaves either the state before it or
    the state after it. Dispatchers in several processes may share it: a claim
    is one ``BEGIN IMMEDIATE`` transaction, and sets a lease on what it takes.

    Args:
        path: the SQLite file.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        super().__init__(db, "okra_notify_outbox", "okra_notify_position")
        db.executescript(
            _TABLES.format(
                seq="INTEGER PRIMARY KEY AUTOINCREMENT",
                index="okra_notify_outbox_due",
                **self._names,
            )
        )
        with _Transaction(db):
            have = {row[1] for row in db.execute("PRAGMA table_info(okra_notify_outbox)")}
            for column in _CLAIM_COLUMNS:
                if column not in have:
                    db.execute(f"ALTER TABLE okra_notify_outbox ADD COLUMN {column} TEXT")

    def __repr__(self) -> str:
        return f"SQLiteOutbox({self.path!r})"

    def _transaction(self) -> AbstractContextManager[Any]:
        return _Transaction(self._db)


class PostgreSQLOutbox(_SQLOutbox):
    """An outbox in a PostgreSQL database (tables ``okra_notify_*``, in the URL's schema).

    By default the store's own database, reachable from every machine; any
    number of dispatchers may share it (claims use ``FOR UPDATE SKIP LOCKED``).
    Needs the ``postgresql`` extra (psycopg 3).

    Args:
        url: ``postgresql://user:password@host:port/database[?schema=name]``.
    """

    _placeholder = "%s"
    _skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        import psycopg

        from okra_adapters.storage.postgresql import postgresql_settings

        settings = postgresql_settings(url)
        schema = settings["POSTGRES_SCHEMA"]
        prefix = f'"{schema}".' if schema else ""
        self._shown = url.rpartition("@")[2]
        try:
            db = psycopg.connect(
                dbname=settings["POSTGRES_DBNAME"],
                host=settings["POSTGRES_HOST"],
                port=settings["POSTGRES_PORT"],
                user=settings["POSTGRES_USER"],
                password=settings["POSTGRES_PASSWORD"],
                connect_timeout=5,
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            raise StorageError(f"cannot open the outbox at {self._shown}: {exc}") from None
        super().__init__(db, prefix + "okra_notify_outbox", prefix + "okra_notify_position")
        with db.transaction():
            if schema:
                db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            # Processes opening one outbox at once take turns over the DDL.
            db.execute("SELECT pg_advisory_xact_lock(hashtext('okra_notify_outbox'))")
            for statement in _TABLES.format(
                seq="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                index="okra_notify_outbox_due",
                **self._names,
            ).split(";"):
                if statement.strip():
                    db.execute(statement)
            for column in _CLAIM_COLUMNS:
                db.execute(
                    f"ALTER TABLE {self._names['outbox']} ADD COLUMN IF NOT EXISTS {column} TEXT"
                )

    def __repr__(self) -> str:
        return f"PostgreSQLOutbox({self._shown!r})"

    def _transaction(self) -> AbstractContextManager[Any]:
        return cast(AbstractContextManager[Any], self._db.transaction())


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
    """An outbox from a URL: ``memory://``, ``sqlite:///path`` or ``postgresql://...``.

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
    if parts.scheme == "postgresql":
        return PostgreSQLOutbox(url)
    raise ValidationError.single(
        "outbox", f"expected an outbox URL such as sqlite:///path/outbox.sqlite, got {url!r}"
    )
