"""The ``sqlite:///path`` storage backend: one embedded SQLite file, okra's default.

Several processes may write to the same file: SQLite serialises the writes, and
:class:`GuardedSQLiteRecorder` re-checks, inside each write, the versions of the
entities the command read. Read models are kept in a table of the same file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from okra_core import (
    TREE_SIGNER,
    Checkpoint,
    LogMovedError,
    ReadConflictError,
    Signer,
    SQLDialect,
    SQLKeyResultIndex,
    StorageBackend,
    ValidationError,
    genesis_checkpoint,
    grow_tree,
    hookimpl,
    subtree_keys,
)

__all__ = [
    "GuardedSQLiteRecorder",
    "SQLiteReadModelStore",
    "okra_storage_backends",
    "sqlite_key_result_index",
    "sqlite_path",
    "sqlite_settings",
]


# How many entities' versions one query checks (SQLite allows 999 parameters at least).
_READ_CHUNK = 500


def sqlite_path(url: str) -> Path | None:
    """The file of ``sqlite:///relative/path`` or ``sqlite:////abs/path`` (None: ``:memory:``).

    Raises:
        ValidationError: with path ``url`` when it names no file.
    """
    parts = urlsplit(url)
    if parts.netloc:
        raise ValidationError.single(
            "url",
            f"expected sqlite:///path (three slashes) or sqlite:////abs/path, got {url!r}",
        )
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path:
        raise ValidationError.single("url", f"expected a file path after sqlite:///, got {url!r}")
    return None if path == ":memory:" else Path(path).expanduser()


def sqlite_settings(url: str) -> dict[str, str]:
    """Eventsourcing settings for ``sqlite:///relative/path`` or ``sqlite:////abs/path``.

    The file's folder is created if needed.
    """
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": ":memory:" if path is None else str(path),
        # Writers wait for each other this long (seconds) before giving up.
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:GuardedSQLiteRecorder",
    }


_NODES = "okra_tree_nodes"
_HEADS = "okra_tree_heads"


class GuardedSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, plus a check of what the command read and a hash tree.

    A command's events carry the versions of the other entities it consulted
    (``read_versions``: the objective and cycle of a check-in, say). Inside the
    write transaction, after the insert has taken SQLite's write lock, each is
    checked against the log; if any moved on, the transaction rolls back. So a
    check-in cannot slip in while another process closes its objective.

    In the same transaction the records join the log's hash tree (tables
    ``okra_tree_nodes`` and ``okra_tree_heads``, see :class:`okra_core.LogTreeRecorder`).

    It also has per-entity locks (:meth:`hold`, okra's ``EntityLocks``): one byte
    per entity in a lock file beside the database (``<file>-okra-locks``), taken
    with POSIX record locks, which every write takes for the entities it writes
    before it asks SQLite for its write lock. A command retried after a conflict
    holds its entity's byte from before its read to after its write, so writers
    to a busy key result take turns instead of colliding. The kernel drops a
    killed process's locks; the locks only make conflicts rarer, the version
    checks keep every write correct without them.
    """

    _lock_file: _LockFile | None = None

    def _locks(self) -> _LockFile | None:
        """The database's lock file (shared in this process), or None for an in-memory one."""
        if self._lock_file is None:
            pool = self.datastore.pool
            if pool.is_sqlite_memory_mode:
                return None
            path = pool.db_name.removeprefix("file:").split("?", 1)[0] + "-okra-locks"
            self._lock_file = _LockFile.shared(path, self)
        return self._lock_file

    @contextlib.contextmanager
    def hold(self, entity_ids: Sequence[UUID]) -> Iterator[None]:
        """Hold the locks of ``entity_ids``; other processes' writes to them wait."""
        locks = self._locks()
        if locks is None:
            yield
            return
        taken = locks.take(entity_ids)
        try:
            yield
        finally:
            locks.release(taken)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Take the written entities' locks (see :meth:`hold`), then write as eventsourcing does."""
        locks = self._locks()
        if locks is None:
            return super().insert_events(stored_events, **kwargs)
        taken = locks.take([UUID(str(e.originator_id)) for e in stored_events])
        try:
            return super().insert_events(stored_events, **kwargs)
        finally:
            locks.release(taken)

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {_NODES} (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "hash BLOB NOT NULL, position INTEGER, PRIMARY KEY (level, idx))"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {_HEADS} (size INTEGER PRIMARY KEY, root BLOB NOT NULL, "
            "at TEXT NOT NULL, signature BLOB, key_id TEXT)"
        )

    def create_table(self) -> None:
        """Create the tables, then start a new store's tree with the empty head.

        A store made before trees (events, no head) waits to be sealed. The head
        goes in by one statement in a transaction of its own: a statement that
        writes takes SQLite's write lock before it reads, so processes opening a
        new store at once wait for each other, where a read followed by a write
        in one transaction fails at once ("database is locked") when another
        process wrote in between.
        """
        super().create_table()
        head = genesis_checkpoint()
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT OR IGNORE INTO {_HEADS} (size, root, at) SELECT ?, ?, ? "
                f"WHERE NOT EXISTS (SELECT 1 FROM {self.events_table_name})",
                (head.size, head.root, head.at.isoformat()),
            )

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        read_versions: dict[UUID, int] = kwargs.get("read_versions") or {}
        reads = list(read_versions.items())
        # One query per chunk of entities read (an import reads hundreds per write),
        # within SQLite's limit on a statement's parameters.
        for start in range(0, len(reads), _READ_CHUNK):
            chunk = reads[start : start + _READ_CHUNK]
            c.execute(
                f"SELECT originator_id, MAX(originator_version) FROM {self.events_table_name} "
                f"WHERE originator_id IN ({', '.join('?' * len(chunk))}) GROUP BY originator_id",
                [entity_id.hex for entity_id, _ in chunk],
            )
            current = dict(c.fetchall())
            for entity_id, seen in chunk:
                now = current.get(entity_id.hex, 0)
                if now != seen:
                    raise ReadConflictError(entity_id, seen, now)
        read_position: int | None = kwargs.get("read_position")
        if read_position is not None:
            # Only this write's own rows may follow the position the command read.
            c.execute(
                f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid > ?", (read_position,)
            )
            if c.fetchone()[0] != len(stored_events):
                raise LogMovedError(read_position)
        head = self._head(c)
        if head is not None and ids is not None:
            nodes, new_head = grow_tree(
                head,
                self._nodes(c, subtree_keys(head.size)),
                zip(ids, stored_events, strict=True),
                kwargs.get(TREE_SIGNER),
            )
            c.executemany(f"INSERT INTO {_NODES} VALUES (?, ?, ?, ?)", nodes)
            self._add_head(c, new_head)
        return ids

    # --- the hash tree (okra_core.LogTreeRecorder) -----------------------------------

    def tree_head(self) -> Checkpoint | None:
        """The latest tree head; None if this store keeps no tree (yet)."""
        with self.datastore.transaction(commit=False) as c:
            return self._head(c)

    def tree_heads(self, after_size: int = 0) -> list[Checkpoint]:
        """The recorded heads with a size above ``after_size``, oldest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {_HEADS} WHERE size > ? ORDER BY size", (after_size,))
            return [_checkpoint(row) for row in c.fetchall()]

    def tree_leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Leaves ``start`` onwards (at most ``limit``), as ``(index, position, hash)``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT idx, position, hash FROM {_NODES} WHERE level = 0 AND idx >= ? "
                "ORDER BY idx LIMIT ?",
                (start, limit),
            )
            return [(int(i), int(p), bytes(h)) for i, p, h in c.fetchall()]

    def tree_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at ``(level, index)`` among ``keys``."""
        with self.datastore.transaction(commit=False) as c:
            return self._nodes(c, keys)

    def seal_tree(self, signer: Signer | None) -> Checkpoint:
        """Start the tree over the log as it is now, in one transaction; its head."""
        with self.datastore.transaction(commit=True) as c:
            if self._head(c) is not None:
                raise ValidationError.single("seal", "this store's log is sealed already")
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} ORDER BY rowid"
            )
            rows = c.fetchall()
            records = [(int(r[0]), StoredEvent(r[1], int(r[2]), r[3], bytes(r[4]))) for r in rows]
            nodes, head = grow_tree(genesis_checkpoint(), {}, records, signer)
            c.executemany(f"INSERT INTO {_NODES} VALUES (?, ?, ?, ?)", nodes)
            self._add_head(c, head)
            return head

    def tree_records(self, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """The stored records after position ``after`` (at most ``limit``), as stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, limit),
            )
            return [(r[0], StoredEvent(r[1], r[2], r[3], r[4])) for r in c.fetchall()]

    def count_records(self, upto: int) -> int:
        """How many records the log holds at positions up to ``upto``."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid <= ?", (upto,))
            return int(c.fetchone()[0])

    def _head(self, c: SQLiteCursor) -> Checkpoint | None:
        c.execute(f"SELECT * FROM {_HEADS} ORDER BY size DESC LIMIT 1")
        row = c.fetchone()
        return None if row is None else _checkpoint(row)

    def _nodes(
        self, c: SQLiteCursor, keys: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        # One query for the whole right edge (at most 64 nodes): it runs on every write.
        if not keys:
            return {}
        pairs = ", ".join("(?, ?)" for _ in keys)
        c.execute(
            f"SELECT level, idx, hash FROM {_NODES} WHERE (level, idx) IN (VALUES {pairs})",
            [n for key in keys for n in key],
        )
        return {(int(level), int(index)): bytes(h) for level, index, h in c.fetchall()}

    def _add_head(self, c: SQLiteCursor, head: Checkpoint) -> None:
        c.execute(
            f"INSERT INTO {_HEADS} VALUES (?, ?, ?, ?, ?)",
            (head.size, head.root, head.at.isoformat(), head.signature, head.key_id),
        )


def _checkpoint(row: Sequence[Any]) -> Checkpoint:
    size, root, at, signature, key_id = row
    return Checkpoint(
        size=int(size),
        root=bytes(root),
        at=datetime.fromisoformat(at),
        signature=None if signature is None else bytes(signature),
        key_id=key_id,
    )


# How long a write waits for another process's entity lock (seconds), as for SQLite's own.
_LOCK_WAIT = 30.0


def _offset(entity_id: UUID) -> int:
    """The byte of an entity in the lock file (collisions only make two entities take turns)."""
    return int.from_bytes(entity_id.bytes[:4], "big") >> 1


class _LockFile:
    """One open lock file per database path in this process.

    POSIX record locks belong to the process, and closing *any* descriptor of
    the file drops them all; so every recorder of the same database in a process
    shares one descriptor, closed when the last of them is gone.
    """

    _open: ClassVar[dict[str, _LockFile]] = {}
    _registry_guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.users = 0
        self.guard = threading.Lock()
        self.held: set[UUID] = set()

    @classmethod
    def shared(cls, path: str, user: object) -> _LockFile:
        """The lock file of ``path``, kept open while ``user`` lives."""
        with cls._registry_guard:
            found = cls._open.get(path)
            if found is None:
                found = cls._open[path] = cls(path)
            found.users += 1
        weakref.finalize(user, found._unuse)
        return found

    def _unuse(self) -> None:
        with self._registry_guard:
            self.users -= 1
            if self.users == 0:
                del self._open[self.path]
                os.close(self.fd)

    def take(self, entity_ids: Sequence[UUID]) -> list[UUID]:
        """Lock the bytes of ``entity_ids`` this process does not hold yet, in id order.

        Waits up to :data:`_LOCK_WAIT` seconds for each; one not had by then is
        skipped (the write goes on, checked as ever).
        """
        taken: list[UUID] = []
        for entity_id in sorted(set(entity_ids)):
            with self.guard:
                if entity_id in self.held:
                    continue
                self.held.add(entity_id)
            deadline = time.monotonic() + _LOCK_WAIT
            pause = 0.001
            while True:
                try:
                    fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _offset(entity_id))
                except OSError:
                    if time.monotonic() < deadline:
                        time.sleep(pause)
                        pause = min(pause * 2, 0.02)
                        continue
                    with self.guard:
                        self.held.discard(entity_id)
                else:
                    taken.append(entity_id)
                break
        return taken

    def release(self, taken: Sequence[UUID]) -> None:
        """Unlock what :meth:`take` took."""
        for entity_id in taken:
            fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, _offset(entity_id))
            with self.guard:
                self.held.discard(entity_id)


_READ_MODELS_TABLE = "okra_read_models"


class SQLiteReadModelStore:
    """Read models in a table of the event store's own SQLite file."""

    def __init__(self, recorder: SQLiteApplicationRecorder) -> None:
        self._datastore = recorder.datastore
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {_READ_MODELS_TABLE} ("
                "name TEXT PRIMARY KEY, position INTEGER NOT NULL, data BLOB NOT NULL)"
            )

    def load(self, name: str) -> tuple[int, bytes] | None:
        """The saved ``(position, data)`` of read model ``name``, if any."""
        with self._datastore.transaction(commit=False) as c:
            c.execute(f"SELECT position, data FROM {_READ_MODELS_TABLE} WHERE name=?", (name,))
            row = c.fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def save(self, name: str, position: int, data: bytes) -> None:
        """Save ``data`` at ``position``, unless a later position is already saved."""
        with self._datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {_READ_MODELS_TABLE} (name, position, data) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET position=excluded.position, data=excluded.data "
                "WHERE excluded.position > position",
                (name, position, data),
            )

    def drop(self, name: str) -> None:
        """Forget read model ``name``."""
        with self._datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {_READ_MODELS_TABLE} WHERE name=?", (name,))


def sqlite_key_result_index(recorder: SQLiteApplicationRecorder) -> SQLKeyResultIndex:
    """The key result index, in two tables of the event store's own SQLite file."""
    datastore = recorder.datastore
    return SQLKeyResultIndex(
        SQLDialect(
            transaction=lambda write: datastore.transaction(commit=write),
            table=lambda name: f'"{name}"',
        )
    )


@hookimpl
def okra_storage_backends() -> list[StorageBackend]:
    """The ``sqlite`` backend."""
    return [
        StorageBackend(
            scheme="sqlite",
            description="an embedded SQLite file (the default)",
            settings=sqlite_settings,
            read_models=SQLiteReadModelStore,
            key_result_index=sqlite_key_result_index,
            example="sqlite:///okra.sqlite",
        )
    ]
