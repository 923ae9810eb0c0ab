"""The tamper-evident log: real SQLite files and a real PostgreSQL database, edited behind
okra's back in every way we know, and each edit found by ``okra verify`` with its position."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from okra_adapters.cli import cli
from okra_core import (
    Change,
    DamagedLogError,
    LogReport,
    ManualClock,
    Okra,
    create_signing_key,
    generate_cipher_key,
)
from okra_core.codec._merkle import (
    EMPTY_ROOT,
    consistency_path,
    inclusion_path,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)
from okra_core.store._tree import record_leaf
from okra_core.verify import ProofError, check_proof

from .conftest import START

# --- the hash tree itself, against RFC 6962's recursive definition -----------------------


def _mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


_leaves = st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=40).map(
    lambda items: [leaf_hash(item) for item in items]
)


@given(_leaves)
def test_the_incremental_root_is_rfc_6962s(leaves: list[bytes]) -> None:
    assert root_of(leaves) == _mth(leaves)


@given(_leaves, st.data())
def test_inclusion_proofs_hold_for_each_leaf_and_fail_for_another(
    leaves: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = root_of(leaves)
    path = inclusion_path(index, leaves)
    assert verify_inclusion(index, len(leaves), leaves[index], path, root)
    assert not verify_inclusion(index, len(leaves), leaf_hash(b"forged"), path, root)
    if len(leaves) > 1:
        other = (index + 1) % len(leaves)
        assert not verify_inclusion(other, len(leaves), leaves[index], path, root) or (
            leaves[other] == leaves[index]
        )


@given(_leaves, st.data())
def test_consistency_proofs_hold_for_appends_only(leaves: list[bytes], data: st.DataObject) -> None:
    old = data.draw(st.integers(1, len(leaves)))
    path = consistency_path(old, leaves)
    assert verify_consistency(old, root_of(leaves[:old]), len(leaves), root_of(leaves), path)
    changed = [leaf_hash(b"changed"), *leaves[1:]]
    if old < len(leaves) and changed[0] != leaves[0]:
        assert not verify_consistency(
            old, root_of(changed[:old]), len(leaves), root_of(leaves), path
        )


# --- stores to tamper with ------------------------------------------------------------------


class Raw:
    """Direct SQL on a store's own database, as anyone with the file or a login could."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.sqlite: sqlite3.Connection | None = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.table = "stored_events"
            self.id = "rowid"
            self.p = "?"
        else:
            self.sqlite = None
            parts = urlsplit(url)
            schema = parse_qs(parts.query)["schema"][0]
            self.pg = psycopg.connect(parts._replace(query="").geturl(), autocommit=True)
            self.table = f"{schema}.okra_events"
            self.id = "notification_id"
            self.p = "%s"

    def execute(self, statement: str, *params: Any) -> list[Any]:
        statement = statement.replace("{t}", self.table).replace("{id}", self.id)
        statement = statement.replace("?", self.p)
        if self.sqlite is not None:
            rows = self.sqlite.execute(statement, params).fetchall()
            self.sqlite.commit()
            return rows
        with self.pg.cursor() as cur:
            cur.execute(statement.encode(), params)
            return cur.fetchall() if cur.description else []

    def row(self, position: int) -> tuple[Any, ...]:
        return tuple(
            self.execute(
                "SELECT originator_id, originator_version, topic, state FROM {t} WHERE {id} = ?",
                position,
            )[0]
        )

    def state(self, position: int) -> bytes:
        return bytes(self.row(position)[3])

    def set_state(self, position: int, state: bytes) -> None:
        self.execute("UPDATE {t} SET state = ? WHERE {id} = ?", state, position)

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        else:
            self.pg.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'okra.sqlite'}"


def _quarter(url: str, **settings: str) -> int:
    """A small quarter: 5 definitions, 5 check-ins (positions 6-10). Returns the log size."""
    clock = ManualClock(START)
    with Okra(url, clock=clock, settings=settings) as okra:
        q = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(q, actor="ana")
        goal = okra.draft_objective("Answer fast", cycle=q, owner="ana", actor="ana")
        kr = okra.add_key_result(
            goal, "First reply", metric=Change(baseline=24, target=4), unit="h", actor="ana"
        )
        okra.activate_objective(goal, actor="ana")
        for value in (20, 16, 12, 300, 8):
            clock.advance(timedelta(days=7))
            okra.check_in(kr, value=value, confidence=7, actor="ana")
        return okra.checkpoint().size


@pytest.fixture
def raw(url: str) -> Iterator[Raw]:
    _quarter(url)
    raw = Raw(url)
    yield raw
    raw.close()


def _verify(url: str, **kwargs: Any) -> LogReport:
    with Okra(url, persist_read_model=False) as okra:
        return okra.verify(**kwargs)


def _first(report: LogReport) -> tuple[str, int | None]:
    assert not report.sound
    return report.problems[0].kind, report.problems[0].position


def test_an_untouched_log_is_sound(url: str, raw: Raw) -> None:
    report = _verify(url)
    assert report.sound
    assert (report.records, report.size) == (10, 10)
    assert report.heads == 10  # one head per write


def test_an_edited_value_is_found_at_its_position(url: str, raw: Raw) -> None:
    state = raw.state(9)
    assert b"300" in state
    raw.set_state(9, state.replace(b"300", b"999"))
    report = _verify(url)
    assert _first(report) == ("edited", 9)
    assert report.problems[0].version == 5  # the key result's fifth event
    assert len(report.problems) == 1


def test_a_changed_actor_is_found(url: str, raw: Raw) -> None:
    raw.set_state(7, raw.state(7).replace(b'"ana"', b'"mallory"'))
    assert _first(_verify(url)) == ("edited", 7)


def test_swapped_payloads_are_found_at_the_first_of_them(url: str, raw: Raw) -> None:
    six, eight = raw.state(6), raw.state(8)
    raw.set_state(6, eight)
    raw.set_state(8, six)
    report = _verify(url)
    assert [(p.kind, p.position) for p in report.problems] == [("edited", 6), ("edited", 8)]


def test_a_forged_row_appended_is_found(url: str, raw: Raw) -> None:
    entity, version, topic, state = raw.row(10)
    raw.execute(
        "INSERT INTO {t} (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        entity,
        version + 1,
        topic,
        state,
    )
    report = _verify(url)
    assert report.problems[0].kind == "inserted"
    assert report.problems[0].position is not None
    assert report.problems[0].position > 10


def test_the_last_row_deleted_is_found(url: str, raw: Raw) -> None:
    raw.execute("DELETE FROM {t} WHERE {id} = ?", 10)
    assert _first(_verify(url)) == ("deleted", 10)


def test_a_middle_row_deleted_is_found(url: str, raw: Raw) -> None:
    raw.execute("DELETE FROM {t} WHERE {id} = ?", 7)
    assert _first(_verify(url)) == ("deleted", 7)


def test_a_rewritten_tree_is_caught_by_its_heads(url: str, raw: Raw) -> None:
    """Edit a record and put its new hash in the tree too: the heads still tell."""
    state = raw.state(9).replace(b"300", b"999")
    raw.set_state(9, state)
    entity, version, topic, _ = raw.row(9)
    nodes = raw.table.replace("okra_events", "okra_tree_nodes").replace(
        "stored_events", "okra_tree_nodes"
    )
    leaf = record_leaf(9, StoredEvent(entity, version, topic, state))
    raw.execute(f"UPDATE {nodes} SET hash = ? WHERE level = 0 AND position = ?", leaf, 9)
    report = _verify(url)
    assert report.problems[0].kind == "rewritten"
    assert "size 9" in report.problems[0].message


# --- what every command does with a damaged log --------------------------------------------


def _okra(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "okra"), "--store", url, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_verify_from_the_shell_names_the_position_and_exits_10(url: str, raw: Raw) -> None:
    assert _okra(url, "verify").returncode == 0
    raw.set_state(9, raw.state(9).replace(b"300", b"999"))
    out = _okra(url, "verify")
    assert out.returncode == 10, out.stderr
    assert "first at position 9" in out.stdout
    assert "Traceback" not in out.stderr
    data = json.loads(_okra(url, "verify", "--json").stdout)
    assert data["sound"] is False
    assert data["problems"][0]["position"] == 9


def test_a_missing_middle_version_is_exit_9_everywhere(url: str, raw: Raw) -> None:
    raw.execute("DELETE FROM {t} WHERE {id} = ?", 7)  # the key result's second event
    for command in (
        ["dashboard"],
        ["show", "First reply"],
        ["history", "First reply"],
        ["audit"],
        ["export"],
        ["rebuild"],
    ):
        out = _okra(url, *command)
        assert out.returncode == 9, (command, out.stdout, out.stderr)
        assert "damaged" in out.stderr, command
        assert "Traceback" not in out.stderr, command


def test_a_damaged_log_raises_a_clear_error_in_python(url: str, raw: Raw) -> None:
    raw.execute("DELETE FROM {t} WHERE {id} = ?", 7)
    with Okra(url, persist_read_model=False) as okra, pytest.raises(DamagedLogError) as info:
        okra.cycles()
    assert "position 8" in str(info.value)


# --- signed heads, proofs, checked offline --------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "okra-signing.pem"
    return private, create_signing_key(private)


def test_signed_heads_check_with_the_public_key_only(
    url: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    _quarter(url, OKRA_SIGNING_KEY=str(private))
    with Okra(url) as okra:
        report = okra.verify(public_key=public.read_bytes())
        assert report.sound
        assert report.signed == 10
    other = create_signing_key(tmp_path / "other.pem")
    out = _okra(url, "verify", "--public-key", str(other))
    assert out.returncode == 10
    assert "bad signature" in out.stdout


def test_a_proof_checks_in_a_fresh_process_with_only_the_public_key(
    url: str, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    private, public = keys
    _quarter(url, OKRA_SIGNING_KEY=str(private))
    proof = tmp_path / "proof.json"
    assert _okra(url, "proof", "9", "-o", str(proof)).returncode == 0
    check = [sys.executable, "-m", "okra_core.verify", str(proof), "--public-key", str(public)]
    out = subprocess.run(check, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "position 9" in out.stdout
    # Change the record in the proof: it no longer holds.
    document = json.loads(proof.read_text())
    document["record"]["originator_version"] += 1
    proof.write_text(json.dumps(document))
    out = subprocess.run(check, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert out.returncode == 1
    assert "is not leaf" in out.stderr


def test_a_consistency_proof_shows_the_log_only_grew(url: str, raw: Raw) -> None:
    with Okra(url) as okra:
        early = okra.prove_consistency(5)
        assert "only appended" in check_proof(early)
    raw.set_state(3, raw.state(3).replace(b"Answer fast", b"Answer slow"))
    # The tree was not touched, so its proof still holds; a verify finds the record.
    assert _first(_verify(url)) == ("edited", 3)
    early["new"]["root"] = "00" * 32
    with pytest.raises(ProofError, match="does not extend"):
        check_proof(early)


def test_an_encrypted_store_is_verified_without_its_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'secret.sqlite'}"
    _quarter(url, CIPHER_KEY=generate_cipher_key())
    assert _verify(url).sound
    raw = Raw(url)
    state = bytearray(raw.state(9))
    state[-1] ^= 1
    raw.set_state(9, bytes(state))
    raw.close()
    assert _first(_verify(url)) == ("edited", 9)


def test_export_and_import_keep_the_tree(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'a.sqlite'}"
    copy = f"sqlite:///{tmp_path / 'b.sqlite'}"
    _quarter(source)
    with Okra(source) as okra:
        records = list(okra.export_records())
        head = okra.checkpoint()
    with Okra(copy) as okra:
        okra.import_events(records, actor="ana")
        assert okra.verify().sound
        # The same events, stored as the same bytes at the same positions: the same root.
        assert okra.checkpoint().root == head.root


# --- stores made before trees ---------------------------------------------------------------


def test_an_old_store_says_how_to_seal_and_seals(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    _quarter(url)
    raw = Raw(url)  # the store as okra made it before it kept a tree
    raw.execute("DROP TABLE okra_tree_nodes")
    raw.execute("DELETE FROM okra_tree_heads")
    raw.close()
    out = _okra(url, "verify")
    assert out.returncode == 10
    assert "no hash tree" in out.stdout
    assert "okra verify --seal" in out.stdout
    out = _okra(url, "--actor", "ana", "verify", "--seal")
    assert out.returncode == 0, out.stderr
    assert "sealed" in out.stdout
    assert "is sound: 11 records" in out.stdout
    with Okra(url) as okra:
        sealed = [e for e in okra.history() if e.wire_name == "okra.log.sealed"]
        assert len(sealed) == 1
        assert sealed[0].actor == "ana"
        assert okra.verify().sound
    runner = CliRunner()
    again = runner.invoke(cli, ["--store", url, "verify", "--seal"])
    assert again.exit_code == 3
    assert "sealed already" in again.output


def test_verify_since_a_head_checks_only_what_came_after(url: str, raw: Raw) -> None:
    raw.set_state(3, raw.state(3).replace(b"Answer fast", b"Answer slow"))
    assert _first(_verify(url)) == ("edited", 3)
    assert _verify(url, since=5).sound  # what came before size 5 was trusted
    raw.set_state(9, raw.state(9).replace(b"300", b"999"))
    assert _first(_verify(url, since=5)) == ("edited", 9)


def test_verify_refuses_a_since_that_is_no_head(url: str, raw: Raw) -> None:
    with Okra(url) as okra:
        from okra_core import ValidationError

        with pytest.raises(ValidationError, match="since"):
            okra.verify(since=99)


def test_every_backend_keeps_a_tree(store_url: str, clock: ManualClock) -> None:
    with Okra(store_url, clock=clock) as okra:
        okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        report = okra.verify()
        assert report.sound
        assert report.size == 1
        assert "position 1" in check_proof(okra.prove(1))
