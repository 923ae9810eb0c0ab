"""Opening an eventsourcing event store from an okra store URL."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from eventsourcing.utils import Environment, EnvType

from ._codec import EventCodec, JSONBytes, OkraMapper
from ._errors import ValidationError

__all__ = [
    "EventStoreApp",
    "GuardedSQLiteRecorder",
    "ReadConflictError",
    "ReadModelStore",
    "SQLiteReadModelStore",
    "default_store_url",
    "store_env",
]

STORE_ENV_VAR = "OKRA_STORE"
"""Environment variable naming the store to open when no URL is given."""


def default_store_url() -> str:
    """``$OKRA_STORE`` if set, else an SQLite file in the user's data directory.

    The data directory is ``$OKRA_HOME`` if set, else ``$XDG_DATA_HOME/okra``, else
    ``~/.local/share/okra``.
    """
    url = os.environ.get(STORE_ENV_VAR, "").strip()
    if url:
        return url
    return f"sqlite:///{default_data_dir() / 'okra.sqlite'}"


def default_data_dir() -> Path:
    """Where okra keeps its files by default."""
    home = os.environ.get("OKRA_HOME", "").strip()
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "okra"


def store_env(url: str) -> dict[str, str]:
    """Eventsourcing settings for an okra store URL.

    ``memory://`` keeps events in this process only; ``sqlite:///relative/path``
    and ``sqlite:////absolute/path`` use an SQLite file (created with its folder).
    """
    parts = urlsplit(url)
    if parts.scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if parts.scheme == "sqlite":
        if parts.netloc:
            raise ValidationError.single(
                "url",
                f"expected sqlite:///path (three slashes) or sqlite:////abs/path, got {url!r}",
            )
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ValidationError.single(
                "url", f"expected a file path after sqlite:///, got {url!r}"
            )
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            path = str(Path(path).expanduser())
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            # Writers wait for each other this long (seconds) before giving up.
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "okra_core._store:GuardedSQLiteRecorder",
        }
    raise ValidationError.single(
        "url", f"expected a store URL such as memory:// or sqlite:///okra.sqlite, got {url!r}"
    )


class ReadConflictError(IntegrityError):
    """An entity a command relied on changed between the command's read and its write."""

    def __init__(self, entity_id: UUID, seen: int, current: int) -> None:
        self.entity_id = entity_id
        super().__init__(f"{entity_id} is at version {current}, the command saw {seen}")


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
        return ids


class ReadModelStore(Protocol):
    """Where a store keeps its persisted read models, beside its events.

    Each read model is one blob saved with the log position it reflects, so a
    restart loads it and continues from that position without counting any
    event twice. A backend that keeps nothing between runs has no such store.
    """

    def load(self, name: str) -> tuple[int, bytes] | None:
        """The saved ``(position, data)`` of read model ``name``, if any."""

    def save(self, name: str, position: int, data: bytes) -> None:
        """Save ``data`` at ``position``, unless a later position is already saved."""

    def drop(self, name: str) -> None:
        """Forget read model ``name`` (it will be rebuilt from the log)."""


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


class EventStoreApp(Application[UUID]):
    """The eventsourcing application that stores okra's events.

    It is configured only from the arguments okra passes, never from stray
    process environment variables, so a store opens the same way everywhere.
    """

    name = "okra"

    def __init__(self, env: EnvType, codec: EventCodec) -> None:
        self._codec = codec
        super().__init__(env)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Settings from the given env only."""
        return Environment(name, dict(env or {}))

    @property
    def read_models(self) -> ReadModelStore | None:
        """Where this store persists read models (``None``: it keeps nothing)."""
        if not hasattr(self, "_read_models"):
            recorder = self.recorder
            self._read_models: ReadModelStore | None = (
                SQLiteReadModelStore(recorder)
                if isinstance(recorder, SQLiteApplicationRecorder)
                else None
            )
        return self._read_models

    def construct_mapper(self) -> Mapper[UUID]:
        """Okra's cattrs mapper, with eventsourcing's cipher and compressor if set."""
        return OkraMapper(
            JSONBytes(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
            codec=self._codec,
        )
