"""okra kr bind and okra sync against real sources: SQLite, PostgreSQL, HTTP, CSV, a plugin's."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from okra_adapters.cli import ExitCode, cli
from okra_adapters.sync import sync
from okra_adapters.sync.sources import json_pointer, options
from okra_core import (
    Change,
    CheckInSource,
    InvalidTransitionError,
    KeyResult,
    KeyResultBound,
    KeyResultUnbound,
    ManualClock,
    MetricSource,
    Okra,
    ValidationError,
    hookimpl,
    load_plugins,
)
from okra_core.testing import plugin_registered

from .helpers import count, paths, refused
from .servers import Answer, json_endpoint

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


class Store:
    """An SQLite okra store with an active cycle and an active objective with two KRs."""

    def __init__(self, okra: Okra) -> None:
        self.okra = okra
        cycle = okra.plan_cycle("Q1", start=DAY0, end=DAY0 + timedelta(days=90), actor="ana")
        okra.start_cycle(cycle, actor="ana")
        goal = okra.draft_objective("Grow the community", cycle=cycle, owner="ana", actor="ana")
        self.signups = okra.add_key_result(
            goal, "Sign-ups", metric=Change(baseline=0, target=100), unit="people", actor="ana"
        )
        self.stars = okra.add_key_result(
            goal, "Stars", metric=Change(baseline=0, target=500), unit="stars", actor="ana"
        )
        okra.activate_objective(goal, actor="ana")

    def kr(self, kr: KeyResult) -> KeyResult:
        return self.okra.key_result(kr.id)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    clock = ManualClock(DAY0 + timedelta(days=1))
    with Okra(f"sqlite:///{tmp_path / 'okra.sqlite'}", clock=clock) as okra:
        yield Store(okra)


def signups_db(path: Path, rows: int) -> str:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE IF NOT EXISTS signups (email TEXT)")
    connection.execute("DELETE FROM signups")
    connection.executemany(
        "INSERT INTO signups VALUES (?)", [(f"p{n}@example.com",) for n in range(rows)]
    )
    connection.commit()
    connection.close()
    return f"sql+sqlite:///{path}?query=SELECT count(*) FROM signups"


# --- binding ------------------------------------------------------------------------------


def test_binding_is_an_event_folded_into_the_key_result(store: Store, tmp_path: Path) -> None:
    url = signups_db(tmp_path / "app.db", 3)
    bound = store.okra.bind_key_result(store.signups, source=url, actor="ana")
    assert bound.source == url
    events = list(store.okra.history(store.signups))
    assert isinstance(events[-1], KeyResultBound)
    assert events[-1].source == url
    clock = store.okra.clock
    assert isinstance(clock, ManualClock)
    clock.set(events[-1].recorded_at + timedelta(hours=1))
    unbound = store.okra.unbind_key_result(store.signups, actor="ana")
    assert unbound.source == ""
    assert isinstance(list(store.okra.history(store.signups))[-1], KeyResultUnbound)
    # As of before the unbinding, it was bound.
    assert store.okra.state(store.signups, as_of=events[-1].recorded_at).source == url  # type: ignore[union-attr]


def test_binding_survives_a_reopen(tmp_path: Path) -> None:
    url = signups_db(tmp_path / "app.db", 1)
    store_url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    with Okra(store_url) as okra:
        kr = Store(okra).signups
        okra.bind_key_result(kr, source=url, actor="ana")
    with Okra(store_url, persist_read_model=False) as okra:
        assert okra.key_result(kr.id).source == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sql+postgresql://app:hunter2@db/app?query=SELECT 1", "expected no password"),
        ("json+https://api.example.com/x?token=abc#/n", "expected no token="),
        ("json+https://api.example.com/x?secret=not a name#/n", "expected secret=NAME"),
        ("ftp://files.example.com/n", "no metric source serves ftp://"),
        ("not a url", "expected a source URL"),
        ("sql+sqlite:///app.db", "expected query=SELECT"),
        ("sql+sqlite:///app.db?query=DELETE FROM signups", "a query that reads"),
        ("csv:///data.csv", "expected column=NAME"),
        ("json+http://127.0.0.1/x#nope", "JSON pointer"),
    ],
)
def test_bad_source_urls_are_refused_and_nothing_is_written(
    store: Store, url: str, expected: str
) -> None:
    error = refused(
        store.okra,
        ValidationError,
        lambda: store.okra.bind_key_result(store.signups, source=url, actor="ana"),
    )
    assert set(paths(error)) == {"source"}
    assert expected in str(error)
    assert "hunter2" not in str(error)


def test_binding_twice_to_the_same_source_or_unbinding_nothing_is_refused(
    store: Store, tmp_path: Path
) -> None:
    url = signups_db(tmp_path / "app.db", 1)
    refused(store.okra, InvalidTransitionError, lambda: store.okra.unbind_key_result(
        store.signups, actor="ana"))  # fmt: skip
    store.okra.bind_key_result(store.signups, source=url, actor="ana")
    error = refused(
        store.okra,
        ValidationError,
        lambda: store.okra.bind_key_result(store.signups, source=url, actor="ana"),
    )
    assert paths(error) == ("source",)


# --- sync on SQLite, CSV, the example plugin -----------------------------------------------------


def test_sync_checks_in_from_a_real_sqlite_database_only_when_the_value_changes(
    store: Store, tmp_path: Path
) -> None:
    url = signups_db(tmp_path / "app.db", 3)
    store.okra.bind_key_result(store.signups, source=url, actor="ana")
    (outcome,) = sync(store.okra, actor="sync-bot")
    assert (outcome.status, outcome.value, outcome.previous) == ("checked_in", 3.0, None)
    check_in = store.kr(store.signups).latest
    assert check_in is not None
    assert (check_in.value, check_in.source, check_in.actor) == (3, CheckInSource.CONNECTOR,
                                                                  "sync-bot")  # fmt: skip
    assert check_in.narrative == "okra sync: sql+sqlite read 3"
    before = count(store.okra)
    (again,) = sync(store.okra, actor="sync-bot")
    assert again.status == "unchanged"
    assert count(store.okra) == before
    signups_db(tmp_path / "app.db", 5)
    (dry,) = sync(store.okra, actor="sync-bot", dry_run=True)
    assert (dry.status, dry.value) == ("would_check_in", 5.0)
    assert count(store.okra) == before
    (changed,) = sync(store.okra, actor="sync-bot")
    assert (changed.status, changed.value, changed.previous) == ("checked_in", 5.0, 3.0)
    assert store.kr(store.signups).current_value == 5


def test_a_query_that_returns_no_number_fails_and_writes_nothing(
    store: Store, tmp_path: Path
) -> None:
    signups_db(tmp_path / "app.db", 2)
    base = f"sql+sqlite:///{tmp_path / 'app.db'}?query="
    cases = {
        "SELECT email FROM signups LIMIT 1": "not a number",
        "SELECT email FROM signups": "one row of one number",
        "SELECT count(*) FROM nowhere": "no such table",
    }
    before = count(store.okra)
    for query, expected in cases.items():
        store.okra.bind_key_result(store.signups, source=base + query, actor="ana")
        (outcome,) = sync(store.okra, actor="bot")
        assert outcome.status == "failed"
        assert expected in outcome.message
    assert count(store.okra) == before + len(cases)  # the bindings, and no check-in
    # A read-only connection: a query cannot write, even one that tries through WITH.
    assert store.kr(store.signups).check_ins == ()


def test_sync_reads_a_csv_column(store: Store, tmp_path: Path) -> None:
    data = tmp_path / "weekly.csv"
    data.write_text("week,signups,note\n1,10,start\n2,17,\n3,oops,bad\n", encoding="utf-8")
    store.okra.bind_key_result(
        store.signups, source=f"csv:///{data}?column=signups&row=2", actor="ana"
    )
    store.okra.bind_key_result(store.stars, source=f"csv:///{data}?column=signups", actor="ana")
    first, second = sync(store.okra, actor="bot")
    assert (first.status, first.value) == ("checked_in", 17.0)
    assert second.status == "failed"
    assert "'oops', not a number" in second.message
    assert store.kr(store.stars).check_ins == ()


def test_the_example_plugins_source_checks_in(store: Store, tmp_path: Path) -> None:
    number = tmp_path / "stars.txt"
    number.write_text("42\n", encoding="utf-8")
    assert "example+file" in load_plugins().metric_sources()
    store.okra.bind_key_result(store.stars, source=f"example+file://{number}", actor="ana")
    (outcome,) = sync(store.okra, actor="bot")
    assert (outcome.status, outcome.value) == ("checked_in", 42.0)
    number.write_text("forty-three", encoding="utf-8")
    (bad,) = sync(store.okra, actor="bot")
    assert bad.status == "failed"
    assert "could not convert string to float" in bad.message


# --- sync over HTTP --------------------------------------------------------------------------


def test_sync_reads_a_json_pointer_from_a_real_http_server(store: Store) -> None:
    with json_endpoint() as server:
        server.answers["/stats"] = Answer(json.dumps({"signups": {"total": 12}}).encode())
        server.answers["/stars"] = Answer(json.dumps([{"n": 250}]).encode())
        store.okra.bind_key_result(
            store.signups, source="json+" + server.url("/stats#/signups/total"), actor="ana"
        )
        store.okra.bind_key_result(
            store.stars, source="json+" + server.url("/stars?secret=GH#/0/n"), actor="ana"
        )
        first, second = sync(store.okra, actor="bot", environ={"OKRA_SOURCE_SECRET_GH": "t0ken"})
        assert (first.status, first.value) == ("checked_in", 12.0)
        assert (second.status, second.value) == ("checked_in", 250.0)
        tokens = {r.path: r.headers.get("authorization") for r in server.requests}
        assert tokens == {"/stats": None, "/stars": "Bearer t0ken"}  # secret= is not sent on
        # The secret is in the environment only, never in the log.
        assert "t0ken" not in json.dumps(list(store.okra.export_records()), default=str)


def test_failing_sources_are_reported_per_key_result_and_retried_next_run(store: Store) -> None:
    gate = threading.Event()
    with json_endpoint() as server:
        server.answers["/ok"] = Answer(b'{"n": 7}')
        server.answers["/hang"] = Answer(b'{"n": 1}', wait=gate)
        store.okra.bind_key_result(store.signups, source="json+" + server.url("/ok#/n"),
                                   actor="ana")  # fmt: skip
        problems = {
            "/down": ("answered 500", Answer(b"oops", 500)),
            "/text": ("not JSON", Answer(b"<html>")),
            "/word": ("not a number: 'many'", Answer(b'{"n": "many"}')),
            "/missing": ("nothing at '/n'", Answer(b'{"m": 1}')),
            "/moved": ("answered 302", Answer(b"", 302)),
            "/hang": ("timed out", Answer(b'{"n": 1}', wait=gate)),
        }
        for path, (expected, answer) in problems.items():
            server.answers[path] = answer
            store.okra.bind_key_result(
                store.stars, source="json+" + server.url(f"{path}?timeout=0.5#/n"), actor="ana"
            )
            before = count(store.okra)
            outcomes = {o.key_result: o for o in sync(store.okra, actor="bot", timeout=5)}
            assert outcomes["Stars"].status == "failed", path
            assert expected in outcomes["Stars"].message, outcomes["Stars"].message
            # The other source is read all the same (once: after that it is unchanged).
            assert outcomes["Sign-ups"].status in ("checked_in", "unchanged")
            assert count(store.okra) - before <= 1
            assert store.kr(store.stars).check_ins == ()
        gate.set()
        server.answers["/hang"] = Answer(b'{"n": 9}')
        # The next run reads it again, and this time it answers.
        outcomes = {o.key_result: o for o in sync(store.okra, actor="bot")}
        assert (outcomes["Stars"].status, outcomes["Stars"].value) == ("checked_in", 9.0)


class Hanging:
    """A plugin's source that never answers, and has no timeout of its own."""

    def __init__(self) -> None:
        self.release = threading.Event()

    @hookimpl
    def okra_metric_sources(self) -> list[MetricSource]:
        def read(url: str, secret: str | None) -> float:
            self.release.wait(30)
            return 1.0

        return [MetricSource(scheme="hang", description="never answers", read=read)]


def test_a_source_that_hangs_is_given_up_and_the_others_are_read(tmp_path: Path) -> None:
    plugin = Hanging()
    with (
        plugin_registered(plugin, name="hang") as plugins,
        Okra(f"sqlite:///{tmp_path / 'okra.sqlite'}", plugins=plugins) as okra,
    ):
        store = Store(okra)
        okra.bind_key_result(store.signups, source="hang://forever", actor="ana")
        okra.bind_key_result(store.stars, source=signups_db(tmp_path / "a.db", 2), actor="ana")
        try:
            first, second = sync(okra, actor="bot", timeout=0.5)
        finally:
            plugin.release.set()
        assert first.status == "failed"
        assert first.message == "hang failed: no answer within 0.5 s"
        assert (second.status, second.value) == ("checked_in", 2.0)
        assert store.kr(store.signups).check_ins == ()


def test_a_secret_missing_from_the_environment_is_reported(store: Store) -> None:
    with json_endpoint() as server:
        server.answers["/s"] = Answer(b'{"n": 1}')
        store.okra.bind_key_result(
            store.signups, source="json+" + server.url("/s?secret=API#/n"), actor="ana"
        )
        (outcome,) = sync(store.okra, actor="bot", environ={})
        assert outcome.status == "failed"
        assert "set OKRA_SOURCE_SECRET_API" in outcome.message
        assert server.requests == []


def test_key_results_not_open_for_check_ins_are_skipped(store: Store, tmp_path: Path) -> None:
    url = signups_db(tmp_path / "app.db", 1)
    store.okra.bind_key_result(store.signups, source=url, actor="ana")
    store.okra.abandon_objective(store.signups.objective_id, reason="pivot", actor="ana")
    (outcome,) = sync(store.okra, actor="bot")
    assert outcome.status == "skipped"
    assert "abandoned" in outcome.message


# --- sync on PostgreSQL ------------------------------------------------------------------------


def test_sync_reads_a_real_postgresql_with_the_password_from_the_environment(
    store: Store, postgres_server: str | None, postgres_url: str
) -> None:
    assert postgres_server is not None
    schema = postgres_url.rpartition("schema=")[2]
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("CREATE TABLE {}.users (id int)").format(sql.Identifier(schema)))
        connection.execute(
            sql.SQL("INSERT INTO {}.users SELECT generate_series(1, 40)").format(
                sql.Identifier(schema)
            )
        )
    server = postgres_server.removeprefix("postgresql://").partition("@")[2]  # host:port/db
    user = urlsplit(postgres_server).username
    url = f"sql+postgresql://{user}@{server}?secret=PG&query=SELECT count(*) FROM {schema}.users"
    store.okra.bind_key_result(store.signups, source=url, actor="ana")
    wrong = f"sql+postgresql://{user}@{server}?secret=WRONG&query=SELECT 1"
    store.okra.bind_key_result(store.stars, source=wrong, actor="ana")
    # The server's own password (the throwaway one's, or .ci/run's).
    password = urlsplit(postgres_server).password or ""
    environ = {"OKRA_SOURCE_SECRET_PG": password, "OKRA_SOURCE_SECRET_WRONG": "nope"}
    first, second = sync(store.okra, actor="bot", environ=environ)
    assert (first.status, first.value) == ("checked_in", 40.0)
    assert second.status == "failed"
    assert "password authentication failed" in second.message
    assert "nope" not in second.message
    # Read only: a query that writes is refused by the server, and writes nothing here.
    writes = f"sql+postgresql://{user}@{server}?secret=PG&query=WITH x AS (DELETE FROM {schema}.users RETURNING 1) SELECT count(*) FROM x"  # noqa: E501
    store.okra.bind_key_result(store.stars, source=writes, actor="ana")
    _, third = sync(store.okra, actor="bot", environ=environ)
    assert third.status == "failed"
    assert "read-only transaction" in third.message
    with psycopg.connect(postgres_server) as connection:
        (rows,) = connection.execute(
            sql.SQL("SELECT count(*) FROM {}.users").format(sql.Identifier(schema))
        ).fetchone() or (0,)
    assert rows == 40


# --- the command line ----------------------------------------------------------------------------


def test_okra_kr_bind_and_sync_on_the_command_line(tmp_path: Path) -> None:
    store_path = tmp_path / "team.sqlite"
    with Okra(f"sqlite:///{store_path}") as okra:
        kr = Store(okra).signups
    url = signups_db(tmp_path / "app.db", 4)
    runner = CliRunner(env={"OKRA_STORE": str(store_path), "OKRA_ACTOR": "maria"})
    plugins = load_plugins()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), obj=plugins)
        return result.exit_code, result.stdout + result.stderr

    code, out = run("kr", "bind", kr.short_id, url)
    assert (code, out.strip()) == (0, f"bound: Sign-ups reads {url}")
    code, out = run("kr", "bind", kr.short_id, "sql+postgresql://u:pw@h/db?query=SELECT 1")
    assert code == 3
    assert "SOURCE-URL: expected no password" in out
    code, out = run("sync", "--dry-run")
    assert code == 0
    assert "would check in" in out
    code, out = run("sync", "--json")
    assert code == 0
    assert [o["status"] for o in json.loads(out)] == ["checked_in"]
    code, out = run("sync", "--watch", "--interval", "1", "--runs", "2")
    assert code == 0
    assert out.count("1 bound key result(s): 1 unchanged") == 2
    run("kr", "bind", "Stars", f"csv:///{tmp_path / 'missing.csv'}?column=n")
    code, out = run("sync")
    assert code == ExitCode.CHECKS  # a source failed: the exit status says so
    assert "failed" in out
    assert "1 checked in" not in out
    code, out = run("kr", "unbind", "Stars")
    assert (code, out.strip()) == (0, "unbound: Stars")


def test_source_url_options_and_json_pointers() -> None:
    assert options("sql+sqlite:///a.db?timeout=3&query=SELECT 1+1 FROM t WHERE a='x&y'") == {
        "timeout": "3",
        "query": "SELECT 1+1 FROM t WHERE a='x&y'",
    }
    document = {"a/b": {"~n": [1, 2.5]}}
    assert json_pointer(document, "/a~1b/~0n/1") == 2.5
    assert json_pointer(document, "") == document
    with pytest.raises(ValueError, match="nothing at"):
        json_pointer(document, "/a~1b/~0n/7")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=8))
def test_sync_records_one_check_in_per_change_of_value(values: list[int]) -> None:
    """Whatever a source reads run after run, the check-ins are exactly its changes."""
    with tempfile.TemporaryDirectory() as folder, Okra("memory://") as okra:
        data = Path(folder) / "metric.csv"
        store = Store(okra)
        okra.bind_key_result(store.signups, source=f"csv:///{data}?column=n", actor="ana")
        for value in values:
            data.write_text(f"n\n{value}\n", encoding="utf-8")
            sync(okra, actor="bot")
            sync(okra, actor="bot")  # a second run in a row never records anything
        changes = [v for i, v in enumerate(values) if i == 0 or v != values[i - 1]]
        assert [c.value for c in store.kr(store.signups).check_ins] == changes
        assert all(c.source is CheckInSource.CONNECTOR for c in store.kr(store.signups).check_ins)


def test_a_value_checked_in_by_someone_else_during_the_read_is_not_recorded_twice(
    tmp_path: Path,
) -> None:
    class Racing:
        """A slow source: while it is read, a person checks in the same value."""

        okra: Okra | None = None

        @hookimpl
        def okra_metric_sources(self) -> list[MetricSource]:
            def read(url: str, secret: str | None) -> float:
                assert self.okra is not None
                self.okra.check_in("Sign-ups", value=21, actor="ana", narrative="by hand")
                return 21.0

            return [MetricSource(scheme="racing", description="a race", read=read)]

    plugin = Racing()
    with (
        plugin_registered(plugin, name="racing") as plugins,
        Okra(f"sqlite:///{tmp_path / 'okra.sqlite'}", plugins=plugins) as okra,
    ):
        plugin.okra = okra
        store = Store(okra)
        okra.bind_key_result(store.signups, source="racing://x", actor="ana")
        (outcome,) = sync(okra, actor="bot")
        assert outcome.status == "unchanged"
        assert outcome.message == "racing read 21, checked in meanwhile"
        assert [c.actor for c in store.kr(store.signups).check_ins] == ["ana"]
