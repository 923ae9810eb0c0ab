"""Shared fixtures: a manual clock and an okra store on every backend.

The PostgreSQL store is a fresh schema on a real server (see ``tests/pg.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import attrs
import pytest

from okra_core import Change, Cycle, KeyResult, ManualClock, Objective, Okra

from . import pg

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The URL of a real PostgreSQL server for the session, or None if there is none."""
    with pg.server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str | None) -> Iterator[str]:
    """A store URL on a fresh, empty schema of the PostgreSQL server."""
    if postgres_server is None:
        pg.skip_or_fail()
    assert postgres_server is not None
    with pg.fresh_schema(postgres_server) as (_, url):
        yield url


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "memory":
        return "memory://"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'okra.sqlite'}"


@pytest.fixture
def okra(store_url: str, clock: ManualClock) -> Iterator[Okra]:
    with Okra(store_url, clock=clock) as app:
        yield app


@attrs.frozen
class Quarter:
    """An active cycle with one active objective and one decreasing key result."""

    cycle: Cycle
    objective: Objective
    key_result: KeyResult


@pytest.fixture
def quarter(okra: Okra) -> Quarter:
    cycle = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    okra.start_cycle(cycle, actor="ana")
    objective = okra.draft_objective("Delight customers", cycle=cycle, owner="ana", actor="ana")
    key_result = okra.add_key_result(
        objective,
        "First response time",
        metric=Change(baseline=24, target=4),
        unit="h",
        actor="ana",
    )
    okra.activate_objective(objective, actor="ana")
    return Quarter(okra.cycle(cycle), okra.objective(objective), okra.key_result(key_result))
