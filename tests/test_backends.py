"""The storage backends: their URLs, their read-model stores, their errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from okra_core import EventCodec, Okra, StorageError, ValidationError
from okra_core.store._store import EventStoreApp, ReadModelStore, store_env


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p@127.0.0.1:5432/", "expected a host and a database"),
        ("postgresql:///okra", "expected a host and a database"),
        ("postgresql://u:p@127.0.0.1:99999/okra", "expected a port number"),
        ("postgresql://u:p@127.0.0.1/okra?sslmode=require", "unknown option(s) sslmode"),
        ("postgresql://u:p@127.0.0.1/okra?schema=a;drop", "plain identifier"),
        ("memory://somewhere", "expected memory:// with nothing after it"),
        ("postgres://u:p@127.0.0.1/okra", "no storage backend for postgres://"),
    ],
)
def test_malformed_urls_say_what_was_expected(url: str, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        Okra(url)
    assert info.value.paths == ("url",)
    assert expected in str(info.value)


def test_the_postgresql_url_becomes_eventsourcing_settings() -> None:
    env = store_env("postgresql://ana:s%40cret@127.0.0.1:6543/okra?schema=team_a")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("ana", "s@cret")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("127.0.0.1", "6543")
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_SCHEMA"]) == ("okra", "team_a")


def test_an_unreachable_server_says_why_and_hides_the_password() -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError) as info:
        Okra(f"postgresql://ana:hunter2@127.0.0.1:{port}/okra")
    message = str(info.value)
    assert "Connection refused" in message
    assert "hunter2" not in message
    assert f"postgresql://ana:***@127.0.0.1:{port}/okra" in message


@pytest.fixture
def read_models(store_url: str) -> Iterator[ReadModelStore | None]:
    app = EventStoreApp(store_env(store_url), EventCodec())
    yield app.read_models
    app.close()


def test_read_models_are_kept_beside_the_events(
    store_url: str, read_models: ReadModelStore | None
) -> None:
    if store_url.startswith("memory"):
        assert read_models is None  # nothing outlives the process anyway
        return
    assert read_models is not None
    assert read_models.load("progress") is None
    read_models.save("progress", 5, b"five")
    assert read_models.load("progress") == (5, b"five")
    read_models.save("progress", 3, b"older")  # an earlier position never wins
    assert read_models.load("progress") == (5, b"five")
    read_models.save("progress", 8, b"eight")
    assert read_models.load("progress") == (8, b"eight")
    read_models.save("focus", 1, b"")
    read_models.drop("progress")
    assert read_models.load("progress") is None
    assert read_models.load("focus") == (1, b"")
    # Another opening of the same store sees them: they are in the database.
    again = EventStoreApp(store_env(store_url), EventCodec())
    try:
        assert again.read_models is not None
        assert again.read_models.load("focus") == (1, b"")
    finally:
        again.close()


def test_repr_and_messages_hide_the_password(postgres_url: str) -> None:
    password = urlsplit(postgres_url).password
    if not password:
        pytest.skip("the test server's URL has no password")
    with Okra(postgres_url) as okra:
        assert f":{password}@" not in repr(okra)
        assert ":***@" in repr(okra)
    with pytest.raises(StorageError) as closed:
        okra.cycles()
    assert f":{password}@" not in str(closed.value)
