"""Export and import of the event log as records: round trips, and every refusal."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.demo import build_demo
from okra_core import (
    Change,
    EventCodec,
    ExpectedEffect,
    ManualClock,
    Okra,
    PermissionDeniedError,
    ValidationError,
    to_data,
)
from okra_core.app._ingest import MAX_REPORTED, _decode, to_record
from tests.conftest import START
from tests.helpers import count, paths, refused
from tests.strategies import events

CODEC = EventCodec()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_a_record_survives_json_and_comes_back_as_the_same_event(event: Any) -> None:
    record = json.loads(json.dumps(to_record(CODEC, event)))
    assert _decode(CODEC, record) == event


@pytest.fixture(scope="module")
def demo_records() -> list[dict[str, Any]]:
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as okra:
        build_demo(okra, clock)
        return list(okra.export_records())


def _fresh(url: str = "memory://") -> Okra:
    """A store to import into; its clock is the system's, after every record here."""
    return Okra(url)


def test_a_log_imported_into_a_fresh_store_gives_the_same_log_and_states(
    store_url: str, demo_records: list[dict[str, Any]]
) -> None:
    seen: list[int] = []
    with _fresh(store_url) as target:
        assert target.import_events(demo_records, progress=seen.append, actor="ana") == len(
            demo_records
        )
        assert list(target.export_records()) == demo_records
        assert seen == list(range(1, len(demo_records) + 1))
        world = target.world()
    with _fresh() as again:
        again.import_events(demo_records, actor="ana")
        assert to_data(again.world().cycles()) == to_data(world.cycles())
        assert to_data(again.world().key_results()) == to_data(world.key_results())


def test_an_import_can_continue_a_store_it_came_from(demo_records: list[dict[str, Any]]) -> None:
    half = len(demo_records) // 2
    with _fresh() as target:
        target.import_events(demo_records[:half], actor="ana")
        target.import_events(demo_records[half:], actor="ana")
        assert list(target.export_records()) == demo_records


def _refused_import(records: list[Any], okra: Okra | None = None) -> ValidationError:
    target = okra if okra is not None else _fresh()
    error = refused(target, ValidationError, lambda: target.import_events(records, actor="ana"))
    assert isinstance(error, ValidationError)
    return error


def test_the_same_log_twice_is_refused_as_already_recorded(
    demo_records: list[dict[str, Any]],
) -> None:
    with _fresh() as target:
        target.import_events(demo_records, actor="ana")
        error = _refused_import(demo_records[:3], target)
        assert paths(error) == ("events[0]",)
        assert "already in this store (was this log imported already?)" in str(error)
        partly = _refused_import([*demo_records[:2], {"type": "okra.nope"}], target)
        assert "events[0].originator_version" in paths(partly)
        assert "is already recorded" in str(partly)


def test_every_bad_record_is_named_by_its_index_and_field(
    demo_records: list[dict[str, Any]],
) -> None:
    bad: list[Any] = [dict(r) for r in demo_records]
    bad[2]["owner"] = 42  # the objective drafted third
    bad[5] = {**bad[5], "type": "okra.no_such_thing"}
    bad[7] = "not an object"
    del bad[9]["originator_id"]
    error = _refused_import(bad)
    assert paths(error)[:4] == (
        "events[2].owner",
        "events[5].type",
        "events[7]",
        "events[9].originator_id",
    )
    assert "nothing was imported" in str(error)


def test_a_gap_in_an_entitys_versions_is_refused(demo_records: list[dict[str, Any]]) -> None:
    # The cycle's second event (started) is left out.
    cycle_id = next(r for r in demo_records if r["type"] == "okra.cycle.planned")["originator_id"]
    second = next(
        i
        for i, r in enumerate(demo_records)
        if r["originator_id"] == cycle_id and r["originator_version"] == 2
    )
    error = _refused_import(demo_records[:second] + demo_records[second + 1 :])
    assert "an earlier event of it is missing" in str(error)


def test_a_reference_to_nothing_is_refused() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        records = list(source.export_records())
    error = _refused_import(records[1:])  # the objective without its cycle
    assert paths(error) == ("events[0].cycle_id",)
    assert "expected the id of a Cycle" in str(error)


def test_a_reference_to_the_wrong_kind_of_entity_is_refused() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        objective = source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        source.add_key_result(objective, "K", metric=Change(baseline=0, target=1), actor="ana")
        records = list(source.export_records())
    records[2]["objective_id"] = records[0]["originator_id"]  # a cycle, not an objective
    error = _refused_import(records)
    assert paths(error) == ("events[2].objective_id",)
    assert "is a Cycle" in str(error)


def test_an_event_that_does_not_apply_to_its_entity_is_refused() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        records = list(source.export_records())
    # An objective event written as if it were the cycle's second event.
    activated = {
        "type": "okra.objective.activated",
        "originator_id": records[0]["originator_id"],
        "originator_version": 2,
        "recorded_at": records[1]["recorded_at"],
        "actor": "ana",
    }
    error = _refused_import([records[0], activated])
    assert paths(error) == ("events[1].type",)


def test_a_first_event_that_creates_nothing_is_refused() -> None:
    record = {
        "type": "okra.cycle.started",
        "originator_id": str(uuid4()),
        "originator_version": 1,
        "recorded_at": START.isoformat(),
        "actor": "ana",
    }
    assert paths(_refused_import([record])) == ("events[0].type",)


def test_a_long_list_of_bad_records_is_cut_short() -> None:
    records = [{"type": "okra.nope"}] * (MAX_REPORTED + 20)
    error = _refused_import(records)
    assert len({p.split("]")[0] for p in paths(error)}) == MAX_REPORTED
    assert f"only the first {MAX_REPORTED}" in str(error)


def test_an_empty_import_writes_nothing() -> None:
    with _fresh() as target:
        assert target.import_events([], actor="ana") == 0
        assert count(target) == 0


@given(st.lists(st.sampled_from(["type", "originator_id", "originator_version"]), min_size=1))
def test_records_missing_their_envelope_name_each_missing_key(missing: list[str]) -> None:
    record: dict[str, Any] = {
        "type": "okra.cycle.started",
        "originator_id": str(uuid4()),
        "originator_version": 1,
        "recorded_at": START.isoformat(),
        "actor": "ana",
    }
    for key in missing:
        record.pop(key, None)
    with pytest.raises(ValidationError) as info:
        _decode(CODEC, record)
    assert set(info.value.paths) == {f"$.{key}" for key in missing}


# --- what folding alone would let through (found in review) ---------------------------


def _quarter_records() -> list[dict[str, Any]]:
    """A cycle, an objective with two key results, a check-in each, a bet, a task."""
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        source.start_cycle(cycle, actor="ana")
        objective = source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        k1 = source.add_key_result(
            objective, "K1", metric=Change(baseline=0, target=10), actor="ana"
        )
        k2 = source.add_key_result(
            objective, "K2", metric=Change(baseline=0, target=10), actor="ana"
        )
        source.activate_objective(objective, actor="ana")
        source.check_in(k1, value=3, actor="ana")
        source.check_in(k2, value=4, actor="ana")
        return list(source.export_records())


def _index(records: list[dict[str, Any]], type_: str, n: int = 0) -> int:
    return [i for i, r in enumerate(records) if r["type"] == type_][n]


def test_a_shared_check_in_id_is_refused() -> None:
    records = _quarter_records()
    first = _index(records, "okra.key_result.checked_in")
    second = _index(records, "okra.key_result.checked_in", 1)
    records[second]["check_in_id"] = records[first]["check_in_id"]
    error = _refused_import(records)
    assert paths(error) == (f"events[{second}].check_in_id",)
    assert "ids are unique" in str(error)


def test_an_id_the_store_uses_is_refused() -> None:
    records = _quarter_records()
    with _fresh() as target:
        target.import_events(records, actor="ana")
        k1 = records[_index(records, "okra.key_result.defined")]
        again = {
            **records[_index(records, "okra.key_result.checked_in")],
            "originator_version": 3,
            "originator_id": k1["originator_id"],
            "recorded_at": (START + timedelta(days=1)).isoformat(),
        }
        assert "is already used" in str(_refused_import([again], target))


def test_only_playbook_events_go_on_the_playbooks_id() -> None:
    records = _quarter_records()
    records[0]["originator_id"] = "008d18f8-f9f5-5cee-83c0-d9a4a4a3afca"
    error = _refused_import(records[:1])
    assert "only playbook events" in str(error)


def test_times_may_not_be_in_the_future_nor_go_backwards() -> None:
    records = _quarter_records()
    future = [dict(r) for r in records]
    future[-1]["recorded_at"] = "2099-01-01T00:00:00+00:00"
    assert paths(_refused_import(future)) == (f"events[{len(records) - 1}].recorded_at",)
    backwards = [dict(r) for r in records]
    backwards[0]["recorded_at"] = (START + timedelta(hours=1)).isoformat()
    error = _refused_import(backwards)
    assert paths(error)[0] == "events[1].recorded_at"
    assert "a log is in the order of its times" in str(error)


def test_an_alignment_names_its_parents_kind_and_makes_no_loop() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        a = source.draft_objective("A", cycle=cycle, owner="ana", actor="ana")
        b = source.draft_objective("B", cycle=cycle, owner="ana", actor="ana")
        source.align(b, parent=a, actor="ana")
        records = list(source.export_records())
    wrong_kind = [dict(r) for r in records]
    wrong_kind[-1]["parent_kind"] = "key_result"
    assert paths(_refused_import(wrong_kind)) == (f"events[{len(records) - 1}].parent_id",)
    loop = {
        **records[-1],
        "originator_id": records[-1]["parent_id"],
        "originator_version": 2,
        "parent_id": records[-1]["originator_id"],
    }
    error = _refused_import([*records, loop])
    assert "would be aligned (directly or not) to itself" in str(error)


def test_a_cycle_ends_after_it_starts_and_titles_are_text() -> None:
    records = _quarter_records()
    empty_end = [dict(r) for r in records]
    empty_end[0]["ends_at"] = empty_end[0]["starts_at"]
    assert paths(_refused_import(empty_end[:1])) == ("events[0].ends_at",)
    titles = [dict(r) for r in records]
    drafted = _index(titles, "okra.objective.drafted")
    titles[drafted]["title"] = " "
    assert paths(_refused_import(titles)) == (f"events[{drafted}].title",)
    titles[drafted]["title"] = "a\x1b[31mred"
    assert "control character" in str(_refused_import(titles))


def test_a_correction_of_a_retracted_check_in_is_a_bad_record_not_a_crash() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        source.start_cycle(cycle, actor="ana")
        objective = source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        kr = source.add_key_result(
            objective, "K", metric=Change(baseline=0, target=10), actor="ana"
        )
        source.activate_objective(objective, actor="ana")
        check_in = source.check_in(kr, value=3, actor="ana")
        source.retract_check_in(check_in, reason="typo", actor="ana")
        records = list(source.export_records())
    correction = {
        **records[-1],
        "type": "okra.key_result.check_in_corrected",
        "originator_version": records[-1]["originator_version"] + 1,
        "value": 4.0,
        "confidence": None,
        "narrative": "",
        "effective_at": records[-1]["recorded_at"],
    }
    correction.pop("reason")
    correction["reason"] = "fix"
    error = _refused_import([*records, correction, {"type": "okra.nope"}])
    assert len(paths(error)) >= 2  # the correction and the unknown type, both reported


def test_an_expected_effect_names_one_of_the_actions_key_results() -> None:
    records = _quarter_records()
    with _fresh() as source:
        source.import_events(records, actor="ana")
        k1, k2 = (r["originator_id"] for r in records if r["type"] == "okra.key_result.defined")
        source.propose_action(
            "Bet",
            key_results=[k1],
            hypothesis="h",
            owner="ana",
            investment=1,
            expected_effects=[ExpectedEffect(key_result_id=UUID(k1), change=1)],
            actor="ana",
        )
        proposed = list(source.export_records())[-1]
    proposed["expected_effects"][0]["key_result_id"] = k2
    with _fresh() as target:
        target.import_events(records, actor="ana")
        error = _refused_import([proposed], target)
    assert paths(error) == ("events[0].expected_effects[0].key_result_id",)


def test_an_import_is_a_command_the_authorizer_decides_on() -> None:
    def nobody(actor: str, command: str, target: object) -> bool:
        return command != "import_events"

    with Okra("memory://", clock=ManualClock(START), authorizer=nobody) as okra:
        with pytest.raises(PermissionDeniedError):
            okra.import_events(_quarter_records(), actor="mallory")
        assert count(okra) == 0
