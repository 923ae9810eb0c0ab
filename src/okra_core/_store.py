"""Opening an eventsourcing event store from an okra store URL."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper
from eventsourcing.utils import Environment, EnvType

from ._codec import EventCodec, JSONBytes, OkraMapper
from ._errors import ValidationError

__all__ = ["EventStoreApp", "default_store_url", "store_env"]

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
        }
    raise ValidationError.single(
        "url", f"expected a store URL such as memory:// or sqlite:///okra.sqlite, got {url!r}"
    )


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

    def construct_mapper(self) -> Mapper[UUID]:
        """Okra's cattrs mapper, with eventsourcing's cipher and compressor if set."""
        return OkraMapper(
            JSONBytes(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
            codec=self._codec,
        )
