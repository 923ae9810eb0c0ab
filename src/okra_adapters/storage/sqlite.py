"""The ``sqlite:///path`` storage backend: one embedded SQLite file, okra's default.

Several processes may write to the same file: SQLite serialises the writes, and
:class:`GuardedSQLiteRecorder` re-checks, inside each write, the versions of the
entities the command read. Read models are kept in a table of the same file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from okra_core import LogMovedError, ReadConflictError, StorageBackend, ValidationError, hookimpl

__all__ = [
    "GuardedSQLiteRecorder",
    "SQLiteReadModelStore",
    "okra_storage_backends",
    "sqlite_path",
    "sqlite_settings",
]


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


class GuardedSQLiteRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, plus a check of what the command read.

    A command's events carry the versions of the other entities it consulted
    (``read_versions``: the objective and cycle of a check-in, say). Inside the
    write transaction, after the insert has taken SQLite's write lock, each is
    checked against the log; if any moved on, the transaction rolls back. So a
    check-in cannot slip in while another process closes its objective.
    """

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        read_versions: dict[UUID, int] = kwargs.get("read_versions") or {}
        statement = (
            f"SELECT MAX(originator_version) FROM {self.events_table_name} WHERE originator_id=?"
        )
        for entity_id, seen in read_versions.items():
            c.execute(statement, (entity_id.hex,))
            current = c.fetchone()[0] or 0
            if current != seen:
                raise ReadConflictError(entity_id, seen, current)
        read_position: int | None = kwargs.get("read_position")
        if read_position is not None:
            # Only this write's own rows may follow the position the command read.
            c.execute(
                f"SELECT COUNT(*) FROM {self.events_table_name} WHERE rowid > ?", (read_position,)
            )
            if c.fetchone()[0] != len(stored_events):
                raise LogMovedError(read_position)
        return ids


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


@hookimpl
def okra_storage_backends() -> list[StorageBackend]:
    """The ``sqlite`` backend."""
    return [
        StorageBackend(
            scheme="sqlite",
            description="an embedded SQLite file (the default)",
            settings=sqlite_settings,
            read_models=SQLiteReadModelStore,
            example="sqlite:///okra.sqlite",
        )
    ]
