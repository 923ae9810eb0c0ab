"""Opening an eventsourcing event store from an okra store URL."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol, EventSourcingError
from eventsourcing.persistence import IntegrityError, Mapper, PersistenceError, Recording
from eventsourcing.utils import Environment, EnvType, TopicError, get_topic, resolve_topic

from ..codec._codec import EventCodec, JSONBytes, OkraMapper
from ..domain._errors import OkraError, PluginError, StorageError, ValidationError
from ..plugins._manager import Plugins, load_plugins
from ._index import KeyResultIndex

__all__ = [
    "CIPHER_KEY",
    "INDEX_TOPIC",
    "READ_MODELS_TOPIC",
    "EventStoreApp",
    "LogMovedError",
    "ReadConflictError",
    "ReadModelStore",
    "check_cipher_key",
    "default_store_url",
    "generate_cipher_key",
    "is_driver_error",
    "open_store",
    "redact_url",
    "store_env",
]

READ_MODELS_TOPIC = "OKRA_READ_MODELS_TOPIC"
"""The setting naming a storage backend's ``read_models`` factory by import path."""

INDEX_TOPIC = "OKRA_KEY_RESULT_INDEX_TOPIC"
"""The setting naming a storage backend's ``key_result_index`` factory by import path."""

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


def store_env(url: str, plugins: Plugins | None = None) -> dict[str, str]:
    """Eventsourcing settings for an okra store URL, from its storage backend.

    The backend is the plugin that serves the URL's scheme (``memory://``,
    ``sqlite:///path``, ``postgresql://...`` come with okra). ``plugins``
    defaults to a fresh :func:`~okra_core.load_plugins`.

    Raises:
        ValidationError: (path ``url``) if the URL is malformed or no backend
            serves its scheme.
        PluginError: if the backend misbehaves.
    """
    if plugins is None:
        plugins = load_plugins()
    backend = plugins.storage_backend(url)
    try:
        env = dict(backend.settings(url))
    except OkraError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot open store {redact_url(url)}: {exc}") from exc
    except Exception as exc:
        raise PluginError(
            f"storage backend {backend.scheme!r} failed on {redact_url(url)}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for setting, factory, name in (
        (READ_MODELS_TOPIC, backend.read_models, "read_models"),
        (INDEX_TOPIC, backend.key_result_index, "key_result_index"),
    ):
        if factory is None:
            continue
        topic = get_topic(factory)
        if resolve_topic(topic) is not factory:
            raise PluginError(
                f"storage backend {backend.scheme!r}: {name} must be a module-level "
                f"class or function, got {factory!r}"
            )
        env[setting] = topic
    return env


def open_store(
    url: str,
    codec: EventCodec,
    plugins: Plugins | None = None,
    settings: Mapping[str, str] | None = None,
) -> EventStoreApp:
    """Open the event store at ``url`` with extra eventsourcing ``settings``.

    Raises:
        ValidationError: for a bad URL or a malformed ``CIPHER_KEY``.
        StorageError: if the store cannot be opened; the message says why.
        PluginError: if the storage backend misbehaves.
    """
    env = store_env(url, plugins)
    env.update(settings or {})
    check_cipher_key(env.get(CIPHER_KEY, ""))
    try:
        return EventStoreApp(env, codec)
    except (EventSourcingError, TopicError, OSError, ValueError, ImportError) as exc:
        raise StorageError(f"cannot open store {redact_url(url)}: {exc}") from exc
    except Exception as exc:
        # A database driver's own error (sqlite3.DatabaseError for a file that is
        # not a database, say): every DB-API driver has its own hierarchy.
        if not is_driver_error(exc):
            raise
        raise StorageError(f"cannot open store {redact_url(url)}: {exc}") from exc


# The PEP 249 exception names: any driver's errors are subclasses of one of these.
_DRIVER_ERRORS = frozenset(
    {
        "Error",
        "DatabaseError",
        "OperationalError",
        "ProgrammingError",
        "IntegrityError",
        "InternalError",
        "NotSupportedError",
        "InterfaceError",
    }
)


def is_driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a database driver's error (a subclass of one of PEP 249's names)."""
    return any(cls.__name__ in _DRIVER_ERRORS for cls in type(exc).__mro__)


CIPHER_KEY = "CIPHER_KEY"
"""The eventsourcing setting that turns on encryption at rest (AES-GCM)."""

_KEY_SIZES = (16, 24, 32)


def check_cipher_key(key: str) -> None:
    """Refuse a ``CIPHER_KEY`` that is not 16, 24 or 32 bytes in base64 (empty: none)."""
    if not key:
        return
    try:
        size = len(base64.b64decode(key.encode("ascii"), validate=True))
    except (ValueError, UnicodeEncodeError):
        size = -1
    if size not in _KEY_SIZES:
        raise ValidationError.single(
            f"settings.{CIPHER_KEY}",
            "expected 16, 24 or 32 random bytes in base64, such as "
            "okra_core.generate_cipher_key() returns",
        )


def generate_cipher_key() -> str:
    """A new random key for encryption at rest: 32 bytes (AES-256), base64.

    Keep it secret and safe: without it the store cannot be read.

    Example:
        >>> from okra_core import Okra, generate_cipher_key
        >>> key = generate_cipher_key()
        >>> with Okra("memory://", settings={"CIPHER_KEY": key}) as okra:
        ...     okra.playbook.version
        0
    """
    return base64.b64encode(os.urandom(32)).decode("ascii")


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class LogMovedError(IntegrityError):
    """Something was recorded after the log position a command read from.

    A command that relies on *nothing being added* (closing a cycle must grade
    every key result of it, including one just added) passes ``read_position``
    to ``insert_events``; a storage backend shared by processes raises this from
    inside its write transaction if any other event was recorded after that
    position. Okra turns it into a :class:`ConcurrencyError`.

    Args:
        position: the log position the command read from.
    """

    def __init__(self, position: int) -> None:
        self.position = position
        super().__init__(f"events were recorded after position {position}, which the command read")


class ReadConflictError(IntegrityError):
    """An entity a command relied on changed between the command's read and its write.

    Storage backends raise it from inside their write transaction (so the write is
    rolled back) when an entity in the ``read_versions`` passed to
    ``insert_events`` is no longer at the version the command read. Okra turns it
    into a :class:`ConcurrencyError`.

    Args:
        entity_id: the entity that moved on.
        seen: the version the command read.
        current: the version now in the store.
    """

    def __init__(self, entity_id: UUID, seen: int, current: int) -> None:
        self.entity_id = entity_id
        super().__init__(f"{entity_id} is at version {current}, the command saw {seen}")


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


def _index_from(topic: str, recorder: Any) -> KeyResultIndex | None:
    """The index a backend's ``key_result_index`` factory makes; a PluginError if it misbehaves."""
    try:
        index = resolve_topic(topic)(recorder)
    except (OkraError, PersistenceError, OSError):
        raise
    except Exception as exc:
        if is_driver_error(exc):
            raise
        raise PluginError(
            f"the key_result_index of the storage backend ({topic}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if index is not None and not isinstance(index, KeyResultIndex):
        raise PluginError(
            f"the key_result_index of the storage backend ({topic}) returned "
            f"{type(index).__name__}, not a KeyResultIndex"
        )
    return index


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
            topic = self.env.get(READ_MODELS_TOPIC)
            self._read_models: ReadModelStore | None = (
                resolve_topic(topic)(self.recorder) if topic else None
            )
        return self._read_models

    @property
    def key_result_index(self) -> KeyResultIndex | None:
        """This store's persisted key result index (``None``: it keeps none)."""
        if not hasattr(self, "_key_result_index"):
            topic = self.env.get(INDEX_TOPIC)
            self._key_result_index: KeyResultIndex | None = (
                _index_from(topic, self.recorder) if topic else None
            )
        return self._key_result_index

    def record(
        self, events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Write okra's events in one transaction (``kwargs`` go to the recorder).

        ``Application.save`` also takes aggregates, and tells them from events
        with a runtime ``Protocol`` check per object, a fifth of the time of a
        batched import; okra saves only events, and no snapshots or followers
        of this application exist to notify, so it goes straight to the store.
        """
        return self.events.put(events, **kwargs)

    def construct_mapper(self) -> Mapper[UUID]:
        """Okra's cattrs mapper, with eventsourcing's cipher and compressor if set."""
        return OkraMapper(
            JSONBytes(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
            codec=self._codec,
        )
