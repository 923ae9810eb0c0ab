"""Encryption at rest with eventsourcing's AES cipher, on every backend."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from okra_core import (
    EventDecodeError,
    Okra,
    StorageError,
    ValidationError,
    generate_cipher_key,
)

SECRET = "Launch the secret project"


def _write(url: str, key: str) -> None:
    with Okra(url, settings={"CIPHER_KEY": key}) as okra:
        cycle = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.draft_objective(SECRET, cycle=cycle, owner="ana", actor="ana")


def _raw_states(url: str) -> Iterator[bytes]:
    """Every stored record's bytes, read past okra."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            for (state,) in conn.execute("SELECT state FROM stored_events"):
                yield bytes(state)
    else:
        base, _, schema = url.partition("?schema=")
        with psycopg.connect(base) as conn:
            rows = conn.execute(f'SELECT state FROM "{schema}".okra_events').fetchall()
            for (state,) in rows:
                yield bytes(state)


@pytest.fixture(params=["sqlite", "postgresql"])
def disk_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'secret.sqlite'}"


def test_a_key_has_32_random_bytes() -> None:
    import base64

    keys = {generate_cipher_key() for _ in range(5)}
    assert len(keys) == 5
    assert all(len(base64.b64decode(k)) == 32 for k in keys)


def test_events_are_unreadable_on_disk_and_readable_with_the_key(disk_url: str) -> None:
    key = generate_cipher_key()
    _write(disk_url, key)
    states = list(_raw_states(disk_url))
    assert len(states) == 2
    assert not any(SECRET.encode() in s or b"ana" in s for s in states)
    with Okra(disk_url, settings={"CIPHER_KEY": key}) as okra:
        assert [o.title for o in okra.objectives()] == [SECRET]


def test_without_encryption_the_text_is_on_disk(disk_url: str) -> None:
    # The test above means something only because this one holds.
    with Okra(disk_url) as okra:
        cycle = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.draft_objective(SECRET, cycle=cycle, owner="ana", actor="ana")
    assert any(SECRET.encode() in s for s in _raw_states(disk_url))


def test_a_wrong_key_says_so(disk_url: str) -> None:
    _write(disk_url, generate_cipher_key())
    wrong = {"CIPHER_KEY": generate_cipher_key()}
    with Okra(disk_url, settings=wrong) as okra, pytest.raises(EventDecodeError) as info:
        okra.objectives()
    message = str(info.value)
    assert "CIPHER_KEY is wrong" in message
    assert "okra.cycle.planned" in message


def test_a_missing_key_says_so(disk_url: str) -> None:
    _write(disk_url, generate_cipher_key())
    with Okra(disk_url) as okra, pytest.raises(EventDecodeError) as info:
        okra.objectives()
    assert "open it with its CIPHER_KEY" in str(info.value)


@pytest.mark.parametrize("key", ["not base64!", "c2hvcnQ=", "é"])
def test_a_malformed_key_is_refused_before_anything_opens(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        Okra("memory://", settings={"CIPHER_KEY": key})
    assert info.value.paths == ("settings.CIPHER_KEY",)
    assert "generate_cipher_key()" in str(info.value)


def test_an_unknown_cipher_topic_is_a_storage_error() -> None:
    with pytest.raises(StorageError) as info:
        Okra("memory://", settings={"CIPHER_TOPIC": "no_such_module:Cipher"})
    assert "cannot open store memory://" in str(info.value)


def test_the_saved_read_model_is_encrypted_too(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    key = generate_cipher_key()
    _write(url, key)
    with sqlite3.connect(tmp_path / "okra.sqlite") as db:
        (data,) = db.execute("SELECT data FROM okra_read_models").fetchone()
    assert SECRET.encode() not in data
    with Okra(url, settings={"CIPHER_KEY": key}) as okra:
        assert [o.title for o in okra.objectives()] == [SECRET]
