"""Schema versions: records written by an older okra are upcast when read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import attrs
import pytest

from okra_core import CORE_EVENTS, Event, EventCodec, EventDecodeError


@attrs.frozen(kw_only=True)
class Renamed(Event):
    """Version 2 of a test event: ``note`` became ``narrative`` and gained ``mood``."""

    wire_name = "test.thing.noted"
    schema_version = 2
    narrative: str
    mood: str


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["narrative"] = data.pop("note")
    data.setdefault("mood", "unknown")
    return data


@pytest.fixture
def codec() -> EventCodec:
    registry = CORE_EVENTS.copy()
    registry.register(Renamed)
    registry.add_upcaster("test.thing.noted", 1, _v1_to_v2)
    return EventCodec(registry)


def test_an_old_record_is_upcast(codec: EventCodec) -> None:
    entity = uuid4()
    v1 = {"recorded_at": "2026-01-05T09:00:00+00:00", "actor": "ana", "note": "hello"}
    event = codec.decode("test.thing.noted", entity, 1, v1)
    assert event == Renamed(
        originator_id=entity,
        originator_version=1,
        recorded_at=datetime(2026, 1, 5, 9, tzinfo=UTC),
        actor="ana",
        narrative="hello",
        mood="unknown",
    )


def test_new_records_carry_their_schema_version(codec: EventCodec) -> None:
    event = Renamed(
        originator_id=uuid4(),
        originator_version=3,
        recorded_at=datetime(2026, 1, 5, tzinfo=UTC),
        actor="ana",
        narrative="n",
        mood="calm",
    )
    name, data = codec.encode(event)
    assert data["_schema"] == 2
    assert codec.decode(name, event.originator_id, 3, data) == event


def test_a_record_from_a_newer_okra_is_refused(codec: EventCodec) -> None:
    data = {
        "recorded_at": "2026-01-05T09:00:00+00:00",
        "actor": "a",
        "narrative": "n",
        "mood": "m",
        "_schema": 3,
    }
    with pytest.raises(EventDecodeError, match="newer than this okra knows"):
        codec.decode("test.thing.noted", uuid4(), 1, data)


def test_a_missing_upcaster_is_reported() -> None:
    registry = CORE_EVENTS.copy()
    registry.register(Renamed)
    codec = EventCodec(registry)
    with pytest.raises(EventDecodeError, match="no upcaster"):
        codec.decode(
            "test.thing.noted", uuid4(), 1, {"recorded_at": "x", "actor": "a", "note": "n"}
        )


def test_unknown_wire_names_are_refused() -> None:
    with pytest.raises(EventDecodeError, match="unknown event type"):
        EventCodec().decode("okra.nothing.happened", uuid4(), 1, {})


def test_wire_names_must_be_unique_and_well_formed() -> None:
    @attrs.frozen(kw_only=True)
    class Clash(Event):
        wire_name = "okra.key_result.checked_in"

    @attrs.frozen(kw_only=True)
    class Bad(Event):
        wire_name = "NoDots"

    registry = CORE_EVENTS.copy()
    with pytest.raises(ValueError, match="claimed by both"):
        registry.register(Clash)
    with pytest.raises(ValueError, match="should look like"):
        registry.register(Bad)
