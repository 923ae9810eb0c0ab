"""The replay's quick paths give exactly what the strict ones give.

* The quick decoder (codec/_fast.py), on any record, either answers None (and
  the strict converter decides) or gives the very event the strict converter
  gives; it never takes a record the strict one refuses. Records are generated
  events' encodings with one field replaced by any JSON value, or removed, or
  one field added.
* Saved states (the read model) load as they were saved, check-ins through the
  quick path; a damaged check-in sends its state to the strict converter.
* :class:`~okra_core.domain._fold.Replay`, which gathers a key result's
  check-ins and folds them at once, gives the states ``project`` gives event by
  event, for interleaved streams of check-ins, corrections, retractions and
  other events, on several key results at once; and it refuses a gap in a
  stream as ``project`` does.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_core import (
    CORE_EVENTS,
    AnyEntity,
    Change,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CheckInSource,
    Event,
    EventCodec,
    EventDecodeError,
    KeyResultDefined,
    KeyResultRetargeted,
)
from okra_core.codec._codec import make_converter
from okra_core.codec._fast import _Unusual, entity_uuid, fast_structurer, fast_uuid
from okra_core.domain._fold import Replay, project
from okra_core.store._readmodel import dump_states, load_states
from tests.strategies import EVENT_STRATEGIES, aware_datetimes, confidences, finite_floats

CODEC = EventCodec()
WIRE_NAMES = sorted(cls.wire_name for cls in CORE_EVENTS)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["2026-01-05T00:00:00+00:00", "2026-01-05T00:00:00", str(uuid4())])
    | st.sampled_from([uuid4().hex, "manual", "zero_to_ten", "1800-01-01T00:00:00+00:00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def _mutated(data: st.DataObject, fields: dict[str, Any]) -> dict[str, Any]:
    record = dict(fields)
    how = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if how == "add" or not record:
        record[data.draw(st.text(max_size=12))] = data.draw(json_values)
    else:
        key = data.draw(st.sampled_from(sorted(record)))
        if how == "remove":
            del record[key]
        else:
            record[key] = data.draw(json_values)
    return record


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_quick_decoder_never_differs_from_the_strict_one(
    wire_name: str, data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    _, fields = CODEC.encode(event)
    record = _mutated(data, fields)
    quick = fast_structurer(CODEC.converter, type(event))
    assert quick is not None
    fast = quick(record, event.originator_id, event.originator_version)
    try:
        strict = CODEC._decode_strictly(
            wire_name, event.originator_id, event.originator_version, record
        )
    except EventDecodeError:
        assert fast is None, f"the quick path took a record the strict one refuses: {record}"
        return
    if fast is not None:
        assert fast == strict
        assert CODEC.encode(fast) == CODEC.encode(strict)


@given(st.uuids())
def test_ids_read_quickly_are_the_ids_written(value: UUID) -> None:
    for text in (str(value), value.hex, str(value).upper()):
        assert fast_uuid(text) == value
        assert entity_uuid(text) == value
        assert hash(fast_uuid(text)) == hash(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{12345678-1234-5678-1234-567812345678}",
        "urn:uuid:12345678-1234-5678-1234-567812345678",
        "12345678123456781234567812345678".replace("1", "_", 1),
        "+2345678123456781234567812345678",
        " 2345678123456781234567812345678",
        "g2345678123456781234567812345678",
        "1234567-81234-5678-1234-567812345678",
        "\uff112345678123456781234567812345678",  # a full-width digit one
    ],
)
def test_only_canonical_ids_take_the_quick_path(text: str) -> None:
    with pytest.raises((_Unusual, ValueError)):  # the strict path then decides
        fast_uuid(text)


# --- the replay's folding -------------------------------------------------------------


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    """Interleaved, well-ordered streams of two or three key results."""
    count = draw(st.integers(1, 3))
    ids = [uuid4() for _ in range(count)]
    objective = uuid4()
    # In UTC: wall-clock steps in another zone can land in a DST fold, where
    # Python's == never equates a datetime with one in another zone (PEP 495).
    clock = draw(aware_datetimes()).astimezone(UTC)
    versions = dict.fromkeys(ids, 0)
    live: dict[UUID, list[UUID]] = {i: [] for i in ids}
    log: list[Event] = []

    def stamp(entity: UUID) -> dict[str, Any]:
        nonlocal clock
        clock += timedelta(minutes=draw(st.integers(0, 600)))
        versions[entity] += 1
        return {
            "originator_id": entity,
            "originator_version": versions[entity],
            "recorded_at": clock,
            "actor": "ana",
        }

    for entity in ids:
        log.append(
            KeyResultDefined(
                **stamp(entity),
                objective_id=objective,
                title="Reply fast",
                metric=Change(baseline=0.0, target=10.0),
                unit="h",
                weight=1.0,
                owner="ana",
            )
        )
    for _ in range(draw(st.integers(0, 40))):
        entity = draw(st.sampled_from(ids))
        kind = draw(st.sampled_from(["record"] * 6 + ["correct", "retract", "retarget"]))
        effective = clock - timedelta(days=draw(st.integers(0, 30)))
        if kind == "record" or (not live[entity] and kind in ("correct", "retract")):
            check_in = uuid4()
            live[entity].append(check_in)
            log.append(
                CheckInRecorded(
                    **stamp(entity),
                    check_in_id=check_in,
                    value=draw(finite_floats),
                    confidence=draw(st.none() | confidences()),
                    narrative="",
                    effective_at=effective,
                    source=draw(st.sampled_from(list(CheckInSource))),
                )
            )
        elif kind == "correct":
            log.append(
                CheckInCorrected(
                    **stamp(entity),
                    check_in_id=draw(st.sampled_from(live[entity])),
                    value=draw(finite_floats),
                    confidence=None,
                    narrative="fixed",
                    effective_at=effective,
                    reason="typo",
                )
            )
        elif kind == "retract":
            gone = draw(st.sampled_from(live[entity]))
            live[entity].remove(gone)
            log.append(CheckInRetracted(**stamp(entity), check_in_id=gone, reason="twice"))
        else:
            log.append(
                KeyResultRetargeted(
                    **stamp(entity),
                    metric=Change(baseline=0.0, target=draw(st.floats(1, 1e6))),
                    reason="moved",
                )
            )
    return log


def _one_by_one(log: list[Event]) -> dict[UUID, AnyEntity]:
    states: dict[UUID, AnyEntity] = {}
    for event in log:
        states[event.originator_id] = project(states.get(event.originator_id), event)
    return states


@settings(max_examples=200, deadline=None)
@given(log=streams(), settle_at=st.integers(0, 50))
def test_replay_folds_as_project_does(log: list[Event], settle_at: int) -> None:
    states: dict[UUID, AnyEntity] = {}
    replay = Replay(states)
    for index, event in enumerate(log):
        assert replay.add(event)
        if index == settle_at:  # a query in the middle settles one key result
            replay.settle(event.originator_id)
            assert states[event.originator_id] == _one_by_one(log[: index + 1])[event.originator_id]
    replay.finish()
    expected = _one_by_one(log)
    assert states == expected
    assert list(states) == list(expected)  # in the order of their first events
    for key_result in expected.values():  # the check-ins read as they do one by one
        assert tuple(states[key_result.id].check_ins) == tuple(key_result.check_ins)  # type: ignore[union-attr]


@settings(max_examples=50, deadline=None)
@given(log=streams())
def test_replay_passes_over_what_it_folded_and_refuses_a_gap(log: list[Event]) -> None:
    states: dict[UUID, AnyEntity] = {}
    replay = Replay(states)
    for event in log:
        replay.add(event)
    # The same events again (a save interrupted before it moved the position).
    assert not any(replay.add(event) for event in log)
    last = log[-1]
    skipped = attrs.evolve(last, originator_version=last.originator_version + 2)
    with pytest.raises(AssertionError, match="follows"):
        replay.add(skipped)
    replay.finish()
    assert states == _one_by_one(log)


# --- the saved read model ---------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(log=streams(), data=st.data())
def test_saved_states_load_as_they_were_and_damage_is_refused(
    log: list[Event], data: st.DataObject
) -> None:
    states = _one_by_one(log)
    anchor = (log[-1].originator_id.hex, log[-1].originator_version)
    saved = dump_states(states, "stamp", anchor)
    loaded = load_states(saved, "stamp")
    assert loaded is not None
    assert loaded[0] == states
    assert list(loaded[0]) == list(states)
    # One check-in's field damaged: the strict hook decides, so the model is refused
    # (and rebuilt from the log) unless the value is one it takes as it is.
    document = json.loads(saved)
    check_ins = [c for _, fields in document["entities"] for c in fields.get("check_ins", [])]
    if not check_ins:
        return
    target = data.draw(st.sampled_from(check_ins))
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(json_values)
    damaged = load_states(json.dumps(document).encode(), "stamp")
    if damaged is not None:
        strict = make_converter()
        for kind, fields in document["entities"]:
            cls = type(states[UUID(fields["id"])])
            assert damaged[0][UUID(fields["id"])] == strict.structure(fields, cls), kind
