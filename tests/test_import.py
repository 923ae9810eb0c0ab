"""Okra.import_events: every record checked first, then written in batches, none lost."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from okra_core import (
    CheckInRecorded,
    ConcurrencyError,
    Event,
    ManualClock,
    Okra,
    ValidationError,
    hookimpl,
    to_data,
)
from okra_core.testing import plugin_registered

from .conftest import Quarter
from .helpers import count


def _export(okra: Okra) -> list[Any]:
    data = to_data(list(okra.history()))
    assert isinstance(data, list)
    return data


def _check_ins(okra: Okra, quarter: Quarter, weeks: int) -> None:
    clock = okra.clock
    assert isinstance(clock, ManualClock)
    for week in range(weeks):
        clock.advance(timedelta(days=7))
        okra.check_in(quarter.key_result, value=20 - week, confidence=6, actor="ana")


def test_an_export_imports_into_an_empty_store_as_the_same_states(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    _check_ins(okra, quarter, 5)
    okra.correct_check_in(
        okra.key_result(quarter.key_result).check_ins[1], value=17.5, reason="typo", actor="ana"
    )
    exported = _export(okra)
    with Okra("memory://", clock=clock) as copy:
        assert copy.import_events(exported, batch_size=3, actor="ana") == len(exported)
        world = okra.world()
        for state in [*world.cycles(), *world.objectives(), *world.key_results()]:
            assert copy.get(state.id) == state
        assert [to_data(e) for e in copy.history()] == exported


def test_events_import_as_objects_too(okra: Okra, quarter: Quarter, clock: ManualClock) -> None:
    _check_ins(okra, quarter, 2)
    events = list(okra.history())
    with Okra("memory://", clock=clock) as copy:
        assert copy.import_events(events, actor="ana") == len(events)
        assert copy.key_result(quarter.key_result) == okra.key_result(quarter.key_result)


def _next_check_in(okra: Okra, quarter: Quarter, **changes: Any) -> dict[str, Any]:
    state = okra.key_result(quarter.key_result)
    event = CheckInRecorded(
        originator_id=state.id,
        originator_version=state.version + 1,
        recorded_at=okra.clock.now(),
        actor="importer",
        check_in_id=uuid4(),
        value=12.0,
        confidence=None,
        narrative="",
        effective_at=okra.clock.now(),
        source="import",  # type: ignore[arg-type]
    )
    return {**to_data(event), **changes}


def test_a_bad_record_names_its_index_and_field_and_nothing_is_written(
    okra: Okra, quarter: Quarter
) -> None:
    good = _next_check_in(okra, quarter)
    bad_value = {**good, "value": "12"}
    before = count(okra)
    with pytest.raises(ValidationError) as info:
        okra.import_events([good, bad_value, {"type": "okra.nope.happened"}, 7], actor="ana")  # type: ignore[list-item]
    paths = info.value.paths
    assert paths[0] == "events[1].value"
    assert paths[1].startswith("events[2]")
    assert paths[-1] == "events[3]"
    assert "nothing was imported" in str(info.value)
    assert count(okra) == before


def test_versions_must_continue_each_stream(okra: Okra, quarter: Quarter) -> None:
    first = _next_check_in(okra, quarter)
    gap = _next_check_in(okra, quarter, originator_version=first["originator_version"] + 2)
    with pytest.raises(ValidationError) as info:
        okra.import_events([first, gap], actor="ana")
    assert info.value.paths == ("events[1].originator_version",)
    again = _next_check_in(okra, quarter, originator_version=1)
    with pytest.raises(ValidationError) as info:
        okra.import_events([again], actor="ana")
    assert info.value.paths == ("events[0]",)
    assert "its events are already in this store" in str(info.value)


def test_references_must_exist_and_records_must_fold(okra: Okra, quarter: Quarter) -> None:
    defined = next(e for e in okra.history(quarter.key_result))
    orphan = {**to_data(defined), "originator_id": str(uuid4()), "objective_id": str(uuid4())}
    future = _next_check_in(
        okra, quarter, recorded_at=(okra.clock.now() + timedelta(days=1)).isoformat()
    )
    retract_unknown = {
        "type": "okra.key_result.check_in_retracted",
        "originator_id": str(quarter.key_result.id),
        "originator_version": okra.key_result(quarter.key_result).version + 1,
        "recorded_at": okra.clock.now().isoformat(),
        "actor": "importer",
        "check_in_id": str(uuid4()),
        "reason": "never was",
    }
    with pytest.raises(ValidationError) as info:
        okra.import_events([orphan, future, retract_unknown], actor="ana")
    # The retraction is of the key result whose record before it is bad: not
    # reported again.
    assert info.value.paths == ("events[0].objective_id", "events[1].recorded_at")
    with pytest.raises(ValidationError) as info:
        okra.import_events([retract_unknown], actor="ana")
    assert info.value.paths == ("events[0].check_in_id",)


def test_batch_size_is_checked(okra: Okra) -> None:
    for wrong in (0, -1, 1.5, True):
        with pytest.raises(ValidationError) as info:
            okra.import_events([], batch_size=wrong, actor="ana")  # type: ignore[arg-type]
        assert info.value.paths == ("batch_size",)


def test_a_concurrent_writer_loses_no_event_and_earlier_batches_stay(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    with Okra(url, clock=clock) as first:
        first.revise_playbook(check_in_cadence_days=14, reason="setup", actor="ana")
        playbook_version = first.playbook.version
    other = Okra(url, clock=clock)
    # The import's second batch writes the playbook's next version; the other
    # writer gets there first, right after the first batch is recorded.
    batches: list[Event] = []

    class Interloper:
        @hookimpl
        def okra_event_recorded(self, event: Event) -> None:
            batches.append(event)
            if len(batches) == 1:
                other.revise_playbook(check_in_cadence_days=21, reason="meanwhile", actor="bo")

    with Okra(url, clock=clock) as source:
        revisions: list[dict[str, Any]] = []
        for days in (7, 10):
            revisions.append(
                {
                    "type": "okra.playbook.revised",
                    "originator_id": str(source.playbook.id),
                    "originator_version": playbook_version + 1 + len(revisions),
                    "recorded_at": clock.now().isoformat(),
                    "actor": "importer",
                    **{
                        k: v
                        for k, v in to_data(
                            next(reversed(list(source.history(source.playbook))))
                        ).items()
                        if k in ("settings",)
                    },
                    "reason": f"cadence {days}",
                }
            )
    with (
        plugin_registered(Interloper()) as plugins,
        Okra(url, clock=clock, plugins=plugins) as okra,
    ):
        with pytest.raises(ConcurrencyError) as info:
            okra.import_events(revisions, batch_size=1, actor="ana")
        assert "1 of the 2 events were recorded" in str(info.value.__notes__)
        reasons = [getattr(e, "reason", "") for e in okra.history(okra.playbook)]
        assert reasons == ["setup", "cadence 7", "meanwhile"]
    other.close()
