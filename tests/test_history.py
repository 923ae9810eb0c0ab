"""Time travel, timelines, the audit log, diffs and the persisted read model."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from okra_core import (
    AnyEntity,
    Change,
    Event,
    KeyResult,
    ManualClock,
    NotFoundError,
    Objective,
    Okra,
    ValidationError,
    to_data,
)
from okra_core.domain._fold import project
from okra_core.read._history import EntityHistory
from tests.conftest import START, Quarter

DAY = timedelta(days=1)


def weekly_check_ins(okra: Okra, clock: ManualClock, quarter: Quarter, values: list[float]) -> None:
    for value in values:
        clock.advance(7 * DAY)
        okra.check_in(quarter.key_result, value=value, actor="ana")


# --- state as of / as known at -----------------------------------------------------------


def test_state_as_of_counts_backdated_check_ins_at_their_effective_time(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    weekly_check_ins(okra, clock, quarter, [20, 16])  # Jan 12 and Jan 19
    # On Jan 26 someone records what was true on Jan 15.
    clock.advance(7 * DAY)
    backdated = datetime(2026, 1, 15, 12, tzinfo=UTC)
    okra.check_in(quarter.key_result, value=18, effective_at=backdated, actor="bo")

    as_of = okra.state(quarter.key_result, as_of=date(2026, 1, 16))
    assert isinstance(as_of, KeyResult)
    assert [c.value for c in as_of.check_ins] == [20, 18]  # the backdated one counts
    known = okra.state(quarter.key_result, as_known_at=date(2026, 1, 16))
    assert isinstance(known, KeyResult)
    assert [c.value for c in known.check_ins] == [20]  # it was not recorded yet
    # Now, everything counts.
    assert [c.value for c in okra.key_result(quarter.key_result).check_ins] == [20, 18, 16]


def test_as_known_at_reproduces_a_report_after_a_correction(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    weekly_check_ins(okra, clock, quarter, [20])
    report_day = clock.now()
    before = okra.attainment(quarter.key_result)
    clock.advance(DAY)
    check_in = okra.key_result(quarter.key_result).check_ins[0]
    okra.correct_check_in(check_in, value=14, reason="the dashboard double counted", actor="ana")
    # As known on the report's day, the figure is the one reported...
    known = okra.state(quarter.key_result, as_known_at=report_day)
    assert isinstance(known, KeyResult)
    assert known.attainment() == before
    # ...while as of that day, with what we know now, it is the corrected one.
    now_view = okra.state(quarter.key_result, as_of=report_day)
    assert isinstance(now_view, KeyResult)
    assert now_view.current_value == 14


def test_retarget_shows_in_time_travel_and_original_attainment(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    weekly_check_ins(okra, clock, quarter, [14])  # 24 -> 4 h, at 14: halfway
    clock.advance(DAY)
    okra.retarget(quarter.key_result, target=12, reason="hiring freeze", actor="ana")
    current = okra.key_result(quarter.key_result)
    assert current.attainment().value == pytest.approx(10 / 12)
    assert current.attainment(original=True).value == pytest.approx(0.5)
    before = okra.state(quarter.key_result, as_of=clock.now() - DAY)
    assert isinstance(before, KeyResult)
    assert before.metric == Change(baseline=24, target=4)


def test_state_before_creation_is_not_found(okra: Okra, quarter: Quarter) -> None:
    with pytest.raises(NotFoundError, match="created at"):
        okra.state(quarter.key_result, as_of=date(2025, 12, 31))


@pytest.mark.parametrize("when", ["as_of", "as_known_at"])
def test_instants_in_the_future_or_naive_are_refused(
    okra: Okra, clock: ManualClock, quarter: Quarter, when: str
) -> None:
    with pytest.raises(ValidationError) as future:
        okra.state(quarter.key_result, **{when: clock.now() + DAY})
    assert future.value.paths == (when,)
    with pytest.raises(ValidationError) as naive:
        okra.state(quarter.key_result, **{when: datetime(2026, 1, 1)})  # noqa: DTZ001
    assert naive.value.paths == (when,)


def test_a_date_of_today_means_now(okra: Okra, clock: ManualClock, quarter: Quarter) -> None:
    weekly_check_ins(okra, clock, quarter, [20])
    today = clock.now().date()
    assert okra.state(quarter.key_result, as_of=today) == okra.key_result(quarter.key_result)


def test_world_as_of_holds_only_what_existed(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    clock.advance(3 * DAY)
    later = okra.draft_objective("Later", cycle=quarter.cycle, owner="bo", actor="bo")
    past = okra.world(as_of=clock.now() - DAY)
    assert past.get(later.id) is None
    assert [o.id for o in past.objectives()] == [quarter.objective.id]
    assert [o.id for o in okra.world().objectives()] == [quarter.objective.id, later.id]


# --- the history index ----------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.integers(0, 100), min_size=1, max_size=300),
    probe=st.integers(0, 320),
)
def test_history_index_equals_folding_the_prefix(values: list[int], probe: int) -> None:
    """Snapshots and the recorded-time index give the same state as folding everything."""
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="a")
        goal = okra.draft_objective("G", cycle=cycle, owner="a", actor="a")
        kr = okra.add_key_result(goal, "K", metric=Change(baseline=0, target=100), actor="a")
        okra.activate_objective(goal, actor="a")
        for value in values:
            clock.advance(timedelta(hours=1))
            okra.check_in(kr, value=value, actor="a")
        events = list(okra.history(kr))
    history = EntityHistory()
    for recorded in events:
        history.append(recorded)
    at = START + timedelta(hours=probe)
    expected = None
    for recorded in events:
        if recorded.recorded_at <= at:
            expected = project(expected, recorded)
    assert history.known_at(at) == expected
    # Asked in another order: states are folded on the first question that needs them.
    later = EntityHistory()
    for recorded in events:
        later.append(recorded)
    definition = later.defined_at(at)
    assert later.latest == project_all(events)
    assert later.known_at(at) == expected
    # Handed the state now (the live state has it): it folds only as far as it is asked.
    adopted = EntityHistory()
    for recorded in events:
        adopted.append(recorded)
    final = project_all(events)
    assert final is not None
    adopted.adopt(final)
    assert adopted.latest is final
    assert adopted.known_at(at) == expected
    assert adopted.defined_at(at) == definition
    if expected is None:
        assert definition is None
    else:
        assert isinstance(definition, KeyResult)
        assert isinstance(expected, KeyResult)
        assert attrs.evolve(definition, check_ins=expected.check_ins) == expected


def project_all(events: list[Event]) -> AnyEntity | None:
    state = None
    for recorded in events:
        state = project(state, recorded)
    return state


def test_a_fresh_instance_answers_about_the_past_from_the_entity_rows_alone(
    store_url: str, clock: ManualClock
) -> None:
    """A past question about one entity, first thing after opening, reads that entity only.

    Its answers are those of an instance that has folded the whole log, for every
    entity, at instants before, between and after the events, as of and as known.
    """
    if store_url == "memory://":
        pytest.skip("a memory store is not shared between two instances")
    instants = []
    with Okra(store_url, clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="a")
        okra.start_cycle(cycle, actor="a")
        goal = okra.draft_objective("Reply fast", cycle=cycle, owner="a", actor="a")
        krs = [
            okra.add_key_result(goal, f"K{n}", metric=Change(baseline=0, target=100), actor="a")
            for n in range(3)
        ]
        okra.activate_objective(goal, actor="a")
        for week in range(6):
            clock.advance(7 * DAY)
            instants.append(clock.now() - DAY)
            for n, kr in enumerate(krs):
                okra.check_in(
                    kr, value=10 * week + n, actor="a", effective_at=clock.now() - DAY * n
                )
        okra.correct_check_in(
            okra.key_result(krs[0]).check_ins[1], value=99, reason="typo", actor="a"
        )
        okra.retarget(krs[1], metric=Change(baseline=0, target=50), reason="scope", actor="a")
        clock.advance(DAY)
        instants.append(clock.now())
        ids = [cycle.id, goal.id, *(kr.id for kr in krs)]
        asked = [
            (entity, at, known)
            for entity in ids
            for at in instants[::2]
            for known in (None, instants[3])
        ]
        expected = [okra.state(e, as_of=at, as_known_at=k) for e, at, k in asked]
    for (entity, at, known), answer in zip(asked, expected, strict=True):
        with Okra(store_url, clock=clock) as fresh:
            assert fresh.state(str(entity), as_of=at, as_known_at=known) == answer
            assert not fresh._state.restored, "it folded the log to answer"
            # A key result is answered from the store's key result index, the
            # others from their own streams: nothing else is read.
            read = set() if entity in {kr.id for kr in krs} else {entity}
            assert set(fresh._state._histories) == read, "it read other entities"
    with Okra(store_url, clock=clock) as fresh:
        with pytest.raises(NotFoundError, match="created at"):
            fresh.state(krs[0].id, as_of=START - DAY)
        # Not the playbook (it has defaults), nor an unknown id: the usual path answers.
        with pytest.raises(NotFoundError):
            fresh.state(UUID(int=7), as_of=instants[0])
        with pytest.raises(ValidationError, match="as_of"):
            fresh.state(krs[0].id, as_of=datetime(2026, 1, 5))  # noqa: DTZ001 - naive on purpose


def test_history_ignores_events_it_already_holds() -> None:
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="a")
        okra.start_cycle(cycle, actor="a")
        events = list(okra.history(cycle))
    history = EntityHistory()
    for recorded in events + events:
        history.append(recorded)
    assert len(history) == 2
    with pytest.raises(AssertionError, match="follows"):
        history.append(attrs.evolve(events[0], originator_version=5))


# --- timeline, audit and diff -----------------------------------------------------------


def test_timeline_says_who_did_what_and_why(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    clock.advance(DAY)
    okra.check_in(quarter.key_result, value=20, narrative="new triage rota", actor="bo")
    okra.retarget(quarter.key_result, target=8, reason="hiring freeze", actor="ana")
    entries = okra.timeline(quarter.key_result)
    assert [(e.type, e.actor, e.why) for e in entries] == [
        ("okra.key_result.defined", "ana", ""),
        ("okra.key_result.checked_in", "bo", "new triage rota"),
        ("okra.key_result.retargeted", "ana", "hiring freeze"),
    ]
    assert entries[1].summary.startswith("checked in: value 20")
    assert all(e.entity_label == "First response time" for e in entries)
    assert [e.version for e in entries] == [1, 2, 3]
    json.dumps(to_data(entries))


def test_audit_filters_by_actor_entity_and_time(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    everything = okra.audit()
    assert [e.position for e in everything] == list(range(1, len(everything) + 1))
    clock.advance(2 * DAY)
    okra.check_in(quarter.key_result, value=20, actor="bo")
    by_bo = okra.audit(actor="bo")
    assert [e.type for e in by_bo] == ["okra.key_result.checked_in"]
    assert by_bo[0].position == len(everything) + 1
    assert okra.audit(since=clock.now().date()) == by_bo
    assert okra.audit(until=START.date(), ref=quarter.cycle) == [
        e for e in everything if e.entity_id == quarter.cycle.id
    ]
    with pytest.raises(ValidationError) as bad:
        okra.audit(actor=" ", since="yesterday")  # type: ignore[arg-type]
    assert bad.value.paths == ("actor", "since")


def test_diff_lists_changed_fields_and_the_events_between(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    start = clock.now()
    clock.advance(DAY)
    okra.reassign_objective(quarter.objective, owner="bo", actor="ana")
    okra.revise_objective(quarter.objective, title="Delight every customer", actor="bo")
    diff = okra.diff(quarter.objective, start=start)
    changed = {c.field: (c.before, c.after) for c in diff.changes}
    assert changed["owner"] == ("ana", "bo")
    assert changed["title"] == ("Delight customers", "Delight every customer")
    assert changed["version"] == (2, 4)
    assert [e.type for e in diff.events] == [
        "okra.objective.reassigned",
        "okra.objective.revised",
    ]
    assert diff.existed_at_start
    with pytest.raises(ValidationError) as backwards:
        okra.diff(quarter.objective, start=clock.now(), end=start)
    assert backwards.value.paths == ("end",)


def test_diff_from_before_creation(okra: Okra, quarter: Quarter) -> None:
    diff = okra.diff(quarter.key_result, start=date(2025, 12, 1))
    assert not diff.existed_at_start
    assert {c.field for c in diff.changes} >= {"title", "metric"}


# --- the persisted read model -------------------------------------------------------------


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'okra.sqlite'}"


def saved_position(tmp_path: Path) -> int | None:
    with sqlite3.connect(tmp_path / "okra.sqlite") as db:
        row = db.execute("SELECT position FROM okra_read_models").fetchone()
    return None if row is None else int(row[0])


def build(okra: Okra, clock: ManualClock) -> tuple[Objective, KeyResult]:
    cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="a")
    okra.start_cycle(cycle, actor="a")
    goal = okra.draft_objective("Goal", cycle=cycle, owner="a", actor="a")
    kr = okra.add_key_result(goal, "KR", metric=Change(baseline=0, target=10), actor="a")
    okra.activate_objective(goal, actor="a")
    for value in range(5):
        clock.advance(DAY)
        okra.check_in(kr, value=value, actor="a")
    return okra.objective(goal), okra.key_result(kr)


def test_closing_saves_the_read_model_and_opening_continues_from_it(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = sqlite_url(tmp_path)
    with Okra(url, clock=clock) as okra:
        _, kr = build(okra, clock)
    assert saved_position(tmp_path) == 10
    # Another writer adds an event after the save; a new instance loads the saved
    # state and folds in only that one.
    with Okra(url, clock=clock, persist_read_model=False) as other:
        clock.advance(DAY)
        other.check_in(kr, value=9, actor="b")
    with Okra(url, clock=clock) as reopened:
        assert reopened.key_result(kr).current_value == 9
        assert reopened.key_result(kr).version == 7
    assert saved_position(tmp_path) == 11


def test_a_read_model_from_other_code_is_rebuilt(tmp_path: Path, clock: ManualClock) -> None:
    url = sqlite_url(tmp_path)
    with Okra(url, clock=clock) as okra:
        _, kr = build(okra, clock)
        expected = okra.key_result(kr)
    with sqlite3.connect(tmp_path / "okra.sqlite") as db:
        db.execute("UPDATE okra_read_models SET data = ?", (b'{"fingerprint": "other"}',))
    with Okra(url, clock=clock) as reopened:
        assert reopened.key_result(kr) == expected


def test_a_damaged_read_model_is_rebuilt_and_logged(
    tmp_path: Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    url = sqlite_url(tmp_path)
    with Okra(url, clock=clock) as okra:
        _, kr = build(okra, clock)
        expected = okra.key_result(kr)
    with sqlite3.connect(tmp_path / "okra.sqlite") as db:
        db.execute("UPDATE okra_read_models SET data = ?", (b"\x00not json",))
    with Okra(url, clock=clock) as reopened:
        assert reopened.key_result(kr) == expected
    assert "rebuilding from the log" in caplog.text


def test_rebuild_equals_the_incremental_state(tmp_path: Path, clock: ManualClock) -> None:
    url = sqlite_url(tmp_path)
    with Okra(url, clock=clock) as okra:
        goal, kr = build(okra, clock)
        before = (okra.objective(goal), okra.key_result(kr))
        assert okra.rebuild() == 10
        assert (okra.objective(goal), okra.key_result(kr)) == before
        assert okra.state(kr, as_of=clock.now() - DAY).version == 5


def test_rebuild_reports_its_progress(clock: ManualClock) -> None:
    with Okra("memory://", clock=clock) as okra:
        okra.import_events(
            [
                {
                    "type": "okra.cycle.planned",
                    "originator_id": str(UUID(int=n + 1)),
                    "originator_version": 1,
                    "recorded_at": clock.now().isoformat(),
                    "actor": "ana",
                    "name": f"C{n}",
                    "starts_at": "2026-01-01T00:00:00+00:00",
                    "ends_at": "2026-04-01T00:00:00+00:00",
                    "parent_id": None,
                }
                for n in range(2500)
            ],
            actor="ana",
        )
        seen: list[tuple[int, int]] = []
        assert okra.rebuild(progress=lambda done, last: seen.append((done, last))) == 2500
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_memory_stores_keep_no_read_model(clock: ManualClock) -> None:
    with Okra("memory://", clock=clock) as okra:
        build(okra, clock)
        assert okra.rebuild() == 10


@pytest.mark.parametrize("checkins", [0, 3, 9])
def test_a_read_model_from_another_log_is_not_trusted(
    tmp_path: Path, clock: ManualClock, checkins: int
) -> None:
    """A read model copied under other events (a restored backup, say) is rebuilt:
    whether that log is shorter, as long or longer than the saved position."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with Okra(sqlite_url(tmp_path / "a"), clock=clock) as first:
        build(first, clock)
    with Okra(sqlite_url(tmp_path / "b"), clock=clock, persist_read_model=False) as other:
        cycle = other.plan_cycle("Other", start=date(2026, 1, 1), end=date(2026, 6, 30), actor="b")
        other.start_cycle(cycle, actor="b")
        goal = other.draft_objective("Other goal", cycle=cycle, owner="b", actor="b")
        kr = other.add_key_result(goal, "Other KR", metric=Change(baseline=0, target=5), actor="b")
        other.activate_objective(goal, actor="b")
        for value in range(checkins):
            other.check_in(kr, value=value, actor="b")
        expected = [o.title for o in other.objectives()]
    with sqlite3.connect(tmp_path / "a" / "okra.sqlite") as a:
        row = a.execute("SELECT name, position, data FROM okra_read_models").fetchone()
    with sqlite3.connect(tmp_path / "b" / "okra.sqlite") as b:
        b.execute(
            "CREATE TABLE IF NOT EXISTS okra_read_models (name TEXT PRIMARY KEY, "
            "position INTEGER NOT NULL, data BLOB NOT NULL)"
        )
        b.execute("INSERT INTO okra_read_models VALUES (?, ?, ?)", row)
    with Okra(sqlite_url(tmp_path / "b"), clock=clock) as reopened:
        assert [o.title for o in reopened.objectives()] == expected
        clock.advance(DAY)
        reopened.plan_cycle("Next", start=date(2026, 7, 1), end=date(2026, 9, 30), actor="b")
    # The bad copy was replaced by one that matches this log.
    assert saved_position(tmp_path / "b") == 5 + checkins + 1


def test_the_default_playbook_has_a_state_and_a_diff(okra: Okra, clock: ManualClock) -> None:
    start = clock.now()
    assert okra.state(okra.playbook, as_of=start) == okra.playbook
    clock.advance(DAY)
    okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly", actor="ana")
    before = okra.state(okra.playbook, as_of=start)
    assert before.settings.check_in_cadence_days == 7  # type: ignore[union-attr]
    diff = okra.diff(okra.playbook, start=start)
    assert [c.field for c in diff.changes if c.field == "settings"] == ["settings"]


def test_explain_a_cycle(okra: Okra, clock: ManualClock, quarter: Quarter) -> None:
    other = okra.draft_objective("Grow", cycle=quarter.cycle, owner="bo", actor="bo")
    okra.add_key_result(other, "Signups", metric=Change(baseline=0, target=10), actor="bo")
    okra.activate_objective(other, actor="bo")
    clock.advance(DAY)
    okra.check_in(quarter.key_result, value=14, actor="ana")  # 24 -> 4: halfway
    why = okra.explain(quarter.cycle)
    assert why.figure == "progress"
    assert why.value == pytest.approx(0.5)
    assert [(t.name, t.value, t.counted) for t in why.terms] == [
        ("Delight customers", 0.5, True),
        ("Grow", None, False),
    ]
    assert why.formula == "(1 x 0.5) / (1) = 0.5; 1 objective(s) without progress left out"


def test_a_past_world_is_kept_until_the_log_moves(
    okra: Okra, clock: ManualClock, quarter: Quarter
) -> None:
    weekly_check_ins(okra, clock, quarter, [20, 16])
    then = clock.now() - DAY
    first = okra.world(as_of=then)
    assert okra.world(as_of=then) is first  # the same question: not folded again
    kr = quarter.key_result.id
    before = first.key_result(kr)
    # A check-in backdated to before `then` moves the log: the next answer counts it.
    okra.check_in(kr, value=4, effective_at=then - DAY, actor="bo")
    later = okra.world(as_of=then)
    assert later is not first
    assert len(later.key_result(kr).check_ins) == len(before.check_ins) + 1
    okra.rebuild()
    rebuilt = okra.world(as_of=then)
    assert rebuilt is not later
    assert rebuilt.key_result(kr) == later.key_result(kr)
