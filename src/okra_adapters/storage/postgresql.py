"""The ``postgresql://`` storage backend: a PostgreSQL server through psycopg 3.

URL: ``postgresql://user:password@host:port/database``, optionally with
``?schema=name`` to keep okra's tables in their own schema (created if missing).
Many processes and machines can write to one store at once; the recorder
(:class:`okra_adapters.storage.postgres_recorder.GuardedPostgresRecorder`)
serialises writes with a table lock and re-checks what each command read.

This module does not import psycopg, so okra works without the ``postgresql``
extra; opening a ``postgresql://`` store without it says what to install.
"""

from __future__ import annotations

import importlib.util
from urllib.parse import parse_qs, unquote, urlsplit

from okra_core import (
    KeyResultIndex,
    ReadModelStore,
    StorageBackend,
    StorageError,
    ValidationError,
    hookimpl,
)

__all__ = [
    "okra_storage_backends",
    "postgresql_key_result_index",
    "postgresql_read_models",
    "postgresql_settings",
]

_EXAMPLE = "postgresql://user:password@localhost:5432/okra"
_OPTIONS = ("schema",)


def postgresql_settings(url: str) -> dict[str, str]:
    """Eventsourcing settings for a ``postgresql://`` URL.

    Raises:
        ValidationError: (path ``url``) if the host, database or an option is
            missing or malformed.
        StorageError: if psycopg (the ``postgresql`` extra) is not installed.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise ValidationError.single(
            "url", f"expected a port number from 1 to 65535, as in {_EXAMPLE}"
        ) from None
    database = unquote(parts.path.lstrip("/"))
    if not parts.hostname or not database or "/" in database:
        raise ValidationError.single(
            "url",
            f"expected a host and a database, as in {_EXAMPLE}, got {parts.hostname!r} "
            f"and {database!r}",
        )
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValidationError.single(
            "url", f"unknown option(s) {', '.join(unknown)}; expected only: {', '.join(_OPTIONS)}"
        )
    schema = options.get("schema", [""])[-1]
    if schema and not (schema.isidentifier() and schema.isascii() and len(schema) < 64):
        raise ValidationError.single(
            "url", f"expected schema= to be a plain identifier (letters, digits, _), got {schema!r}"
        )
    if importlib.util.find_spec("psycopg") is None:
        raise StorageError("postgresql:// stores need psycopg 3: pip install 'okra[postgresql]'")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": database,
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        # One connection is enough for an Okra (it serialises its own commands);
        # a few more for readers in other threads.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # Writers wait for each other's table lock this long (seconds) before giving up.
        "POSTGRES_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": (
            "okra_adapters.storage.postgres_recorder:GuardedPostgresRecorder"
        ),
    }


def postgresql_key_result_index(recorder: object) -> KeyResultIndex:
    """The key result index of a PostgreSQL event store, beside its events (imports psycopg)."""
    from .postgres_recorder import GuardedPostgresRecorder, postgres_key_result_index

    if not isinstance(recorder, GuardedPostgresRecorder):
        raise TypeError(f"expected okra's PostgreSQL recorder, got {type(recorder).__name__}")
    return postgres_key_result_index(recorder)


def postgresql_read_models(recorder: object) -> ReadModelStore:
    """The read-model store of a PostgreSQL event store (imports psycopg on use)."""
    from .postgres_recorder import GuardedPostgresRecorder, PostgresReadModelStore

    if not isinstance(recorder, GuardedPostgresRecorder):
        raise TypeError(f"expected okra's PostgreSQL recorder, got {type(recorder).__name__}")
    return PostgresReadModelStore(recorder)


@hookimpl
def okra_storage_backends() -> list[StorageBackend]:
    """The ``postgresql`` backend."""
    return [
        StorageBackend(
            scheme="postgresql",
            description="a PostgreSQL server, shared by many processes (psycopg 3)",
            settings=postgresql_settings,
            read_models=postgresql_read_models,
            key_result_index=postgresql_key_result_index,
            example=_EXAMPLE,
        )
    ]
