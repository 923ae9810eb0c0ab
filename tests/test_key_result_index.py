"""The key result index answers as the key result's whole stream does, on every backend.

The index (``okra_core.store._index``, followed by ``app._index``) is a
projection of the log in the store's own database. These tests hold it to the
definition, :func:`okra_core.read._history.as_of` over the key result's stream:

- for random histories (check-ins recorded late and backdated, corrected,
  retracted; key results retargeted and reweighted; a clock that goes back),
  at random instants, as of and as known at;
- after the index is dropped and built again from the log (the log is the only
  source of truth);
- from a fresh instance, which reads only the index's rows of that key result.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_core import Change, KeyResult, ManualClock, Okra
from okra_core.app._index import KeyResultIndexer
from okra_core.read._history import as_of as history_as_of

from . import pg
from .conftest import START

DAY = timedelta(days=1)
Step = tuple[Any, ...]

_step = st.one_of(
    st.tuples(
        st.just("check_in"),
        st.integers(0, 1),  # which key result
        st.integers(-50, 150),  # value
        st.integers(0, 20),  # backdated by so many days
        st.none() | st.integers(0, 10),  # confidence
    ),
    st.tuples(st.just("correct"), st.integers(0, 1), st.integers(0, 30), st.integers(-50, 150)),
    st.tuples(st.just("move"), st.integers(0, 1), st.integers(0, 30), st.integers(-10, 10)),
    st.tuples(st.just("retract"), st.integers(0, 1), st.integers(0, 30)),
    st.tuples(st.just("retarget"), st.integers(0, 1), st.integers(1, 300)),
    st.tuples(st.just("reweight"), st.integers(0, 1), st.integers(1, 5)),
    st.tuples(st.just("wait"), st.integers(0, 72)),  # hours
    st.tuples(st.just("skew"), st.integers(1, 48)),  # the clock goes back, hours
)
steps = st.lists(_step, min_size=1, max_size=25)


def _play(okra: Okra, clock: ManualClock, plan: list[Step]) -> list[UUID]:
    """Run ``plan`` on a new quarter; the key results' ids."""
    cycle = okra.plan_cycle("Q", start=START.date(), end=(START + 90 * DAY).date(), actor="ana")
    okra.start_cycle(cycle, actor="ana")
    goal = okra.draft_objective("Reply fast", cycle=cycle, owner="ana", actor="ana")
    krs = [
        okra.add_key_result(goal, f"K{n}", metric=Change(baseline=0, target=100), actor="ana")
        for n in range(2)
    ]
    okra.activate_objective(goal, actor="ana")
    for step in plan:
        clock.advance(timedelta(minutes=7))
        kind, *args = step
        if kind == "wait":
            clock.advance(timedelta(hours=int(args[0])))
            continue
        if kind == "skew":
            clock.set(clock.now() - timedelta(hours=int(args[0])))
            continue
        kr = krs[int(args[0])]
        state = okra.key_result(kr)
        check_ins = state.check_ins
        if kind == "check_in":
            _, value, back, confidence = args
            okra.check_in(
                kr,
                value=float(value),
                confidence=confidence,
                effective_at=min(clock.now(), max(START, clock.now() - back * DAY)),
                actor="lee",
            )
        elif kind in ("correct", "move", "retract") and check_ins:
            target = check_ins[int(args[1]) % len(check_ins)]
            if target.effective_at > clock.now():
                continue  # the clock went back past it: a correction would be refused
            if kind == "correct":
                if float(args[2]) != target.value:
                    okra.correct_check_in(
                        target.id, value=float(args[2]), reason="typo", actor="sam"
                    )
            elif kind == "move":
                moved = target.effective_at + int(args[2]) * DAY
                moved = min(clock.now(), max(START, moved))
                if moved != target.effective_at:
                    okra.correct_check_in(target.id, effective_at=moved, reason="date", actor="sam")
            else:
                okra.retract_check_in(target.id, reason="wrong", actor="sam")
        elif kind == "retarget":
            target_value = float(args[1])
            if isinstance(state.metric, Change) and target_value != state.metric.target:
                okra.retarget(kr, target=target_value, reason="scope", actor="ana")
        elif kind == "reweight" and float(args[1]) != state.weight:
            okra.reweight(kr, weight=float(args[1]), actor="ana")
    return [kr.id for kr in krs]


def _instants(okra: Okra, ids: list[UUID]) -> list[datetime]:
    """Instants around every event of the key results, and None (now) for known_at."""
    found = {START - DAY}
    for entity_id in ids:
        for event in okra._state.history_of(entity_id):
            found |= {event.recorded_at, event.recorded_at - timedelta(seconds=1)}
            effective = getattr(event, "effective_at", None)
            if effective is not None:
                found |= {effective, effective + timedelta(hours=1)}
    return sorted(found)


def _indexer(okra: Okra) -> KeyResultIndexer:
    indexer = okra._state._indexer
    assert indexer is not None, "the backend keeps a key result index"
    return indexer


def _check(okra: Okra, ids: list[UUID], instants: list[datetime]) -> None:
    indexer = _indexer(okra)
    position = okra._log.last_position()
    assert indexer.catch_up() == position
    # A sample of the instants (each backend query is a round trip on PostgreSQL).
    step = max(1, len(instants) // 12)
    knowns: list[datetime | None] = [None, *instants[step // 2 :: step * 2]]
    for entity_id in ids:
        history = okra._state.history_of(entity_id)
        for at in instants[::step]:
            for known in knowns:
                expected = history_as_of(history, at, known)
                got = indexer.as_of(entity_id, at, known, position=position)
                assert got == expected, (at, known)
                if isinstance(got, KeyResult) and isinstance(expected, KeyResult):
                    assert list(got.check_ins) == list(expected.check_ins)
    # Every key result at once, as a world of the past takes them.
    state = okra._state
    for at in instants[:: step * 2]:
        for known in knowns[:3]:
            expected_states = {
                entity_id: past
                for entity_id in ids
                if (past := history_as_of(state.history_of(entity_id), at, known)) is not None
            }
            assert indexer.world(at, known, position=position) == expected_states, (at, known)


def _check_world(okra: Okra, at: datetime, known: datetime | None) -> None:
    """The first world of the past: key results from the index, the rest from their streams."""
    state = okra._state
    world = state.world_at(at, known)
    assert not state._all_histories, "the key results' streams were not read"
    expected = {
        entity_id: past
        for entity_id in state.states
        if (past := history_as_of(state.history_of(entity_id), at, known)) is not None
    }
    assert list(world._states.items()) == list(expected.items()), (at, known)


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def urls(backend: str, tmp_path: Path, postgres_server: str | None) -> Iterator[str]:
    """Fresh store URLs on the backend, one per hypothesis example."""

    def fresh() -> Iterator[str]:
        count = 0
        while True:
            count += 1
            if backend == "memory":
                yield "memory://"
            elif backend == "sqlite":
                yield f"sqlite:///{tmp_path / f'okra-{count}.sqlite'}"
            else:
                if postgres_server is None:
                    pg.skip_or_fail()
                assert postgres_server is not None
                with pg.fresh_schema(postgres_server) as (_, url):
                    yield url

    return fresh()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=steps)
def test_the_index_answers_as_the_stream_does(urls: Iterator[str], plan: list[Step]) -> None:
    clock = ManualClock(START)
    with Okra(next(urls), clock=clock) as okra:
        ids = _play(okra, clock, plan)
        instants = _instants(okra, ids)
        _check_world(okra, instants[len(instants) // 2], None)
        _check(okra, ids, instants)
        # Dropped and built again from the log: the same answers.
        _indexer(okra).drop()
        assert _indexer(okra).catch_up() == okra._log.last_position()
        _check(okra, ids, instants)


def test_the_index_follows_the_log_in_steps_and_across_instances(
    urls: Iterator[str], backend: str
) -> None:
    """Built a little at a time as the log grows (and by another instance), it is the same."""
    if backend == "memory":
        pytest.skip("a memory store is not shared between two instances")
    url = next(urls)
    clock = ManualClock(START)
    plan: list[Step] = [
        ("check_in", 0, 10, 0, 5),
        ("wait", 30),
        ("check_in", 0, 20, 3, None),
        ("correct", 0, 0, 15),
        ("check_in", 1, 40, 0, 7),
        ("retract", 1, 0),
        ("move", 0, 1, -2),
    ]
    with Okra(url, clock=clock) as okra:
        ids = _play(okra, clock, plan[:3])
        _indexer(okra).catch_up()
        for step in plan[3:]:
            _play_more(okra, clock, ids, step)
            _indexer(okra).catch_up()
        instants = _instants(okra, ids)
        _check(okra, ids, instants)
        expected = {
            (entity_id, at): history_as_of(okra._state.history_of(entity_id), at)
            for entity_id in ids
            for at in instants
        }
    for (entity_id, at), answer in expected.items():
        if answer is None:
            continue
        with Okra(url, clock=clock) as fresh:
            assert fresh.state(entity_id, as_of=at) == answer
            assert not fresh._state.restored, "the index answered, nothing was folded"
            assert not fresh._state._histories, "no stream was read"
            # Asked again, the key result's history is loaded for what follows.
            assert fresh.state(entity_id, as_of=at) == answer
            assert set(fresh._state._histories) == {entity_id}


def _play_more(okra: Okra, clock: ManualClock, ids: list[UUID], step: Step) -> None:
    clock.advance(timedelta(hours=5))
    kind, which, *args = step
    kr = ids[int(which)]
    check_ins = okra.key_result(kr).check_ins
    if kind == "check_in":
        okra.check_in(kr, value=float(args[0]), confidence=args[2], actor="lee")
    elif kind == "correct":
        okra.correct_check_in(
            check_ins[int(args[0])].id, value=float(args[1]), reason="t", actor="sam"
        )
    elif kind == "move":
        target = check_ins[int(args[0]) % len(check_ins)]
        moved = min(clock.now(), target.effective_at + int(args[1]) * DAY)
        okra.correct_check_in(target.id, effective_at=moved, reason="d", actor="sam")
    elif kind == "retract":
        okra.retract_check_in(check_ins[int(args[0])].id, reason="w", actor="sam")


def test_an_encrypted_store_keeps_no_index(tmp_path: Path) -> None:
    """The index holds check-ins' values in the clear: an encrypted store does without it."""
    from okra_core import generate_cipher_key

    url = f"sqlite:///{tmp_path / 'secret.sqlite'}"
    with Okra(url, settings={"CIPHER_KEY": generate_cipher_key()}) as okra:
        assert okra._state._indexer is None
    import sqlite3

    with sqlite3.connect(tmp_path / "secret.sqlite") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert not any("key_result_index" in t for t in tables)


def test_without_a_persisted_read_model_there_is_no_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.sqlite'}"
    with Okra(url, persist_read_model=False) as okra:
        assert okra._state._indexer is None


def test_a_key_result_defined_later_is_not_found_as_of_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    clock = ManualClock(START)
    with Okra(url, clock=clock) as okra:
        clock.advance(DAY)
        ids = _play(okra, clock, [("check_in", 0, 5, 0, None)])
    with Okra(url, clock=clock) as fresh:
        with pytest.raises(Exception, match="created at"):
            fresh.state(ids[0], as_of=START)
        state = fresh.state(ids[0], as_of=clock.now())
        assert isinstance(state, KeyResult)
        assert [c.value for c in state.check_ins] == [5.0]


def _quarter_store(tmp_path: Path, clock: ManualClock) -> tuple[str, list[UUID]]:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    with Okra(url, clock=clock) as okra:
        ids = _play(
            okra,
            clock,
            [("check_in", 0, 10, 0, 5), ("wait", 30), ("check_in", 0, 20, 2, None)],
        )
    return url, ids


def _from_the_log(url: str, clock: ManualClock, key_result: UUID) -> Any:
    """The key result now, from an instance that keeps and uses no index."""
    with Okra(url, clock=clock, persist_read_model=False) as plain:
        return plain.state(key_result, as_of=clock.now())


def _sql(tmp_path: Path, statement: str) -> None:
    import sqlite3

    with sqlite3.connect(tmp_path / "okra.sqlite") as db:
        db.execute(statement)


def test_an_index_made_from_another_log_is_built_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tracking row names the event at its position: a log that differs there is not trusted."""
    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    expected = _from_the_log(url, clock, ids[0])
    # As if the events had been restored from a backup under the index.
    _sql(tmp_path, "DELETE FROM okra_key_result_index WHERE kind = 1")
    _sql(tmp_path, "UPDATE okra_key_result_index_tracking SET anchor = 'another:1'")
    with Okra(url, clock=clock) as fresh:
        assert fresh.state(ids[0], as_of=clock.now()) == expected
    assert "does not match its log" in caplog.text


def test_a_lost_index_table_is_answered_from_the_log(tmp_path: Path) -> None:
    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    expected = _from_the_log(url, clock, ids[0])
    _sql(tmp_path, "DROP TABLE okra_key_result_index")
    with Okra(url, clock=clock) as fresh:
        assert fresh.state(ids[0], as_of=clock.now()) == expected
    with Okra(url, clock=clock) as again:  # built again from the log meanwhile
        assert again.state(ids[0], as_of=clock.now()) == expected
        assert not again._state._histories, "the index answered"


def test_an_index_that_moved_on_is_not_read_at_another_position(tmp_path: Path) -> None:
    """Answers are read in one snapshot and only at the position the instance is at."""
    from okra_core.app._index import IndexUnusable

    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    with Okra(url, clock=clock) as reader, Okra(url, clock=clock) as writer:
        reader.key_result(ids[0])  # folded up to here
        position = reader._state.position
        writer.check_in(ids[0], value=99.0, actor="lee")
        _indexer(writer).catch_up()
        with pytest.raises(IndexUnusable):
            _indexer(reader).as_of(ids[0], clock.now(), None, position=position)
        # The reader's own question is answered for its position, from the log.
        state = reader._state.past(ids[0], clock.now(), None)
        assert isinstance(state, KeyResult)
        assert sorted(c.value for c in state.check_ins) == [10.0, 20.0]  # not 99 yet


def test_a_question_about_another_entity_does_not_build_the_index(tmp_path: Path) -> None:
    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    _sql(tmp_path, "UPDATE okra_key_result_index_tracking SET position = -1, anchor = ''")
    _sql(tmp_path, "DELETE FROM okra_key_result_index")
    with Okra(url, clock=clock, persist_read_model=False) as okra:
        objective = okra.key_result(ids[0]).objective_id
    with Okra(url, clock=clock) as fresh:
        fresh.state(objective, as_of=clock.now())
        assert _indexer(fresh).tracked() is None, "the objective's question built no index"


def test_a_driver_error_from_the_index_is_answered_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend's index may use its driver directly: its errors are storage failures."""
    import sqlite3

    from okra_core.store._index import SQLKeyResultIndex

    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    expected = _from_the_log(url, clock, ids[0])

    def locked(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(SQLKeyResultIndex, "read", locked)
    with Okra(url, clock=clock) as fresh:
        assert fresh.state(ids[0], as_of=clock.now()) == expected


def test_a_broken_index_factory_leaves_the_store_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from okra_adapters.storage import sqlite as backend

    clock = ManualClock(START)
    url, ids = _quarter_store(tmp_path, clock)
    expected = _from_the_log(url, clock, ids[0])
    monkeypatch.setattr(backend, "sqlite_key_result_index", lambda recorder: 42)
    with Okra(url, clock=clock) as okra:
        assert okra.state(ids[0], as_of=clock.now()) == expected
        assert okra._state._indexer is None
    assert "not a KeyResultIndex" in caplog.text
