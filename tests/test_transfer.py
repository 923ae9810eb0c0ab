"""Export and import of the event log as records: round trips and refusals."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.demo import build_demo
from okra_core import (
    Change,
    EventCodec,
    ManualClock,
    Okra,
    ValidationError,
    to_data,
)
from okra_core._transfer import MAX_REPORTED, from_record, to_record
from tests.conftest import START
from tests.helpers import count, paths, refused
from tests.strategies import events

CODEC = EventCodec()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events())
def test_a_record_survives_json_and_comes_back_as_the_same_event(event: Any) -> None:
    record = json.loads(json.dumps(to_record(CODEC, event)))
    assert from_record(CODEC, record) == event


@pytest.fixture(scope="module")
def demo_records() -> list[dict[str, Any]]:
    clock = ManualClock(START)
    with Okra("memory://", clock=clock) as okra:
        build_demo(okra, clock)
        return list(okra.export_records())


def _fresh(url: str = "memory://") -> Okra:
    return Okra(url, clock=ManualClock(START))


def test_a_log_imported_into_a_fresh_store_gives_the_same_log_and_states(
    store_url: str, demo_records: list[dict[str, Any]]
) -> None:
    seen: list[int] = []
    with _fresh(store_url) as target:
        assert target.import_records(demo_records, progress=seen.append) == len(demo_records)
        assert list(target.export_records()) == demo_records
        assert seen == list(range(1, len(demo_records) + 1))
        world = target.world()
    with _fresh() as again:
        again.import_records(demo_records)
        assert to_data(again.world().cycles()) == to_data(world.cycles())
        assert to_data(again.world().key_results()) == to_data(world.key_results())


def test_an_import_can_continue_a_store_it_came_from(demo_records: list[dict[str, Any]]) -> None:
    half = len(demo_records) // 2
    with _fresh() as target:
        target.import_records(demo_records[:half])
        target.import_records(demo_records[half:])
        assert list(target.export_records()) == demo_records


def _refused_import(records: list[Any], okra: Okra | None = None) -> ValidationError:
    target = okra if okra is not None else _fresh()
    error = refused(target, ValidationError, lambda: target.import_records(records))
    assert isinstance(error, ValidationError)
    return error


def test_the_same_log_twice_is_refused_as_already_recorded(
    demo_records: list[dict[str, Any]],
) -> None:
    with _fresh() as target:
        target.import_records(demo_records)
        error = _refused_import(demo_records[:3], target)
        assert "already recorded" in str(error)
        assert paths(error)[0] == "[0].originator_version"


def test_every_bad_record_is_named_by_its_index_and_field(
    demo_records: list[dict[str, Any]],
) -> None:
    bad: list[Any] = [dict(r) for r in demo_records]
    bad[2]["owner"] = 42  # the objective drafted third
    bad[5] = {**bad[5], "type": "okra.no_such_thing"}
    bad[7] = "not an object"
    del bad[9]["originator_id"]
    error = _refused_import(bad)
    assert paths(error)[:4] == ("[2].owner", "[5].type", "[7]", "[9].originator_id")
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
    assert paths(error) == ("[0].cycle_id",)
    assert "expected the id of a Cycle" in str(error)


def test_a_reference_to_the_wrong_kind_of_entity_is_refused() -> None:
    with _fresh() as source:
        cycle = source.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        objective = source.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        source.add_key_result(objective, "K", metric=Change(baseline=0, target=1), actor="ana")
        records = list(source.export_records())
    records[2]["objective_id"] = records[0]["originator_id"]  # a cycle, not an objective
    error = _refused_import(records)
    assert paths(error) == ("[2].objective_id",)
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
    assert paths(error) == ("[1].type",)


def test_a_first_event_that_creates_nothing_is_refused() -> None:
    record = {
        "type": "okra.cycle.started",
        "originator_id": str(uuid4()),
        "originator_version": 1,
        "recorded_at": START.isoformat(),
        "actor": "ana",
    }
    assert paths(_refused_import([record])) == ("[0].type",)


def test_a_long_list_of_bad_records_is_cut_short() -> None:
    records = [{"type": "okra.nope"}] * (MAX_REPORTED + 20)
    error = _refused_import(records)
    assert len({p.split("]")[0] for p in paths(error)}) == MAX_REPORTED
    assert f"only the first {MAX_REPORTED}" in str(error)


def test_an_empty_import_writes_nothing() -> None:
    with _fresh() as target:
        assert target.import_records([]) == 0
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
        from_record(CODEC, record)
    assert set(info.value.paths) == {f"$.{key}" for key in missing}
