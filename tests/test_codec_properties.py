"""Property tests of the event codec: every event round-trips, every corruption is named.

Round trips go through the codec alone, through the eventsourcing mapper with both
JSON transcoders (orjson and the standard library), and through a real SQLite file.
Corruptions take a generated event's encoded record, break one field (a wrong
type, an unknown enum value, a naive datetime, a missing or an extra field) and
check that decoding refuses it with an error whose path names that field.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import NoneType
from typing import Any, get_args
from uuid import UUID, uuid4

import attrs
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from okra_core import (
    CORE_EVENTS,
    Change,
    CheckInRecorded,
    CheckInSource,
    Confidence,
    Event,
    EventCodec,
    EventDecodeError,
    FieldError,
    JSONBytes,
    KeyResultDefined,
    Metric,
    OkraMapper,
    PlaybookRevised,
    PlaybookSettings,
)
from okra_core.codec._fast import exact_checker, fast_structurer
from okra_core.store._store import EventStoreApp, store_env
from tests.strategies import EVENT_STRATEGIES, events

WIRE_NAMES = sorted(cls.wire_name for cls in CORE_EVENTS)
ORIGIN = ("originator_id", "originator_version")
CODEC = EventCodec()

per_type = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- every event type has a strategy ------------------------------------------------


def test_every_registered_event_type_has_a_strategy() -> None:
    assert set(EVENT_STRATEGIES) == set(WIRE_NAMES)
    assert len(WIRE_NAMES) == len(CORE_EVENTS)


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_each_strategy_makes_its_own_event_type(wire_name: str, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    assert type(event) is CORE_EVENTS[wire_name]


# --- round trips ----------------------------------------------------------------------


def _datetimes_of(value: object) -> Iterator[datetime]:
    """Every datetime inside an event or value object."""
    if isinstance(value, datetime):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _datetimes_of(item)
    else:
        cls = type(value)
        if attrs.has(cls):
            for field in attrs.fields(cls):
                yield from _datetimes_of(getattr(value, field.name))


def _assert_same_event(decoded: object, original: Event) -> None:
    assert type(decoded) is type(original)
    assert decoded == original
    # Equal aware datetimes are the same instant; the codec also puts them in UTC.
    for when in _datetimes_of(decoded):
        assert when.tzinfo is UTC


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_codec_round_trip(wire_name: str, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    codec = CODEC
    name, fields = codec.encode(event)
    assert name == wire_name
    assert not set(ORIGIN) & set(fields)
    decoded = codec.decode(name, event.originator_id, event.originator_version, fields)
    _assert_same_event(decoded, event)


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_the_quick_decoder_takes_every_well_formed_record_as_the_strict_one_does(
    wire_name: str, data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    _, fields = CODEC.encode(event)
    quick = fast_structurer(CODEC.converter, type(event))
    assert quick is not None
    fast = quick(fields, event.originator_id, event.originator_version)
    strict = CODEC._decode_strictly(
        wire_name, event.originator_id, event.originator_version, fields
    )
    assert fast is not None, "a well-formed record fell back to the strict decoder"
    _assert_same_event(fast, event)
    _assert_same_event(strict, event)


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_an_event_is_checked_as_its_round_trip_through_the_store(
    wire_name: str, data: st.DataObject
) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    name, fields = CODEC.encode(event)
    trip = CODEC.decode(name, event.originator_id, event.originator_version, fields)
    checked = CODEC.checked(event)
    _assert_same_event(checked, event)
    assert checked == trip
    if exact_checker(type(event)) is not None:  # the others are always round-tripped
        assert CODEC.checked(trip) is trip, "a decoded event is not taken as it is"
    # Only exact events are taken as they are: the others come back normalised.
    assert CODEC.encode(checked) == CODEC.encode(trip)


def test_check_ins_are_checked_without_a_round_trip() -> None:
    assert exact_checker(CORE_EVENTS["okra.key_result.checked_in"]) is not None


@pytest.mark.parametrize("use_orjson", [False, True], ids=["stdlib-json", "orjson"])
@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_mapper_round_trip(wire_name: str, use_orjson: bool, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    mapper = OkraMapper(JSONBytes(use_orjson=use_orjson), codec=CODEC)
    stored = mapper.to_stored_event(event)
    assert stored.topic == wire_name
    assert stored.originator_id == event.originator_id
    assert stored.originator_version == event.originator_version
    _assert_same_event(mapper.to_domain_event(stored), event)
    # Records written by one JSON library are read by the other.
    other = OkraMapper(JSONBytes(use_orjson=not use_orjson), codec=CODEC)
    _assert_same_event(other.to_domain_event(stored), event)


@attrs.define
class SQLiteStore:
    """Two applications on one SQLite file: one writes, the other reads."""

    writer: EventStoreApp
    reader: EventStoreApp
    used: set[tuple[UUID, int]] = attrs.Factory(set)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    path: Path = tmp_path_factory.mktemp("codec") / "events.sqlite"
    env = store_env("sqlite:///" + str(path))
    writer = EventStoreApp(env, EventCodec())
    reader = EventStoreApp(env, EventCodec())
    try:
        yield SQLiteStore(writer, reader)
    finally:
        reader.close()
        writer.close()


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@per_type
@given(data=st.data())
def test_sqlite_round_trip(wire_name: str, sqlite_store: SQLiteStore, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    # One database serves all examples; a (stream, position) pair is stored once.
    if (event.originator_id, event.originator_version) in sqlite_store.used:
        event = attrs.evolve(event, originator_id=uuid4())
    sqlite_store.used.add((event.originator_id, event.originator_version))
    sqlite_store.writer.save(event)
    version = event.originator_version
    for app in (sqlite_store.writer, sqlite_store.reader):
        read = list(app.events.get(event.originator_id, gt=version - 1, lte=version))
        assert len(read) == 1
        _assert_same_event(read[0], event)


# --- corruptions ----------------------------------------------------------------------

Keys = tuple[str | int, ...]


def _json_path(keys: Keys) -> str:
    return "$" + "".join(f".{k}" if isinstance(k, str) else f"[{k}]" for k in keys)


@attrs.frozen
class Site:
    """One place in an encoded record: its keys, what belongs there and what is there."""

    keys: Keys
    kind: str
    encoded: Any
    optional: bool = False
    required: tuple[str, ...] = ()
    tagged: bool = False  # an object tagged with its ``kind`` (a metric)


@attrs.frozen
class Corruption:
    """Replace (or remove, or add) one thing; decoding must name ``path``."""

    description: str
    apply: Callable[[dict[str, Any]], Any]
    path: str
    mentions: str = ""


def _sites(value: object, declared: Any, encoded: Any, keys: Keys = ()) -> Iterator[Site]:
    """Walk a decoded value and its encoded form side by side."""
    optional = NoneType in get_args(declared)
    if value is None:
        yield Site(keys, "null", encoded, optional=True)
    elif isinstance(value, enum.Enum):
        yield Site(keys, "enum", encoded)
    elif isinstance(value, bool):
        yield Site(keys, "bool", encoded)
    elif isinstance(value, int):
        yield Site(keys, "int", encoded, optional)
    elif isinstance(value, float):
        yield Site(keys, "number", encoded, optional)
    elif isinstance(value, str):
        yield Site(keys, "text", encoded, optional)
    elif isinstance(value, UUID):
        yield Site(keys, "uuid", encoded, optional)
    elif isinstance(value, datetime):
        yield Site(keys, "datetime", encoded, optional)
    elif isinstance(value, tuple):
        yield Site(keys, "list", encoded)
        (item_type, _) = get_args(declared)
        for index, item in enumerate(value):
            yield from _sites(item, item_type, encoded[index], (*keys, index))
    elif attrs.has(cls := type(value)):
        # attrs resolved the field types; typing.get_type_hints cannot (see the report).
        fields = [f for f in attrs.fields(cls) if not (keys == () and f.name in ORIGIN)]
        required = tuple(f.name for f in fields if f.default is attrs.NOTHING)
        yield Site(keys, "object", encoded, required=required, tagged=declared == Metric)
        for field in fields:
            yield from _sites(
                getattr(value, field.name),
                field.type,
                encoded[field.name],
                (*keys, field.name),
            )
    else:  # pragma: no cover - a new kind of field: teach the walk about it
        raise AssertionError(f"unexpected {type(value).__name__} at {_json_path(keys)}")


def _at(data: Any, keys: Keys) -> Any:
    for key in keys:
        data = data[key]
    return data


def _replace(keys: Keys, new: object) -> Callable[[dict[str, Any]], Any]:
    def apply(data: dict[str, Any]) -> Any:
        if not keys:
            return new
        _at(data, keys[:-1])[keys[-1]] = new
        return data

    return apply


def _remove(keys: Keys, name: str) -> Callable[[dict[str, Any]], Any]:
    def apply(data: dict[str, Any]) -> Any:
        del _at(data, keys)[name]
        return data

    return apply


def _add(keys: Keys, name: str) -> Callable[[dict[str, Any]], Any]:
    def apply(data: dict[str, Any]) -> Any:
        _at(data, keys)[name] = "surplus"
        return data

    return apply


def _wrong_values(site: Site) -> list[tuple[str, object]]:
    """Values of the wrong type (or out of the enum) for ``site``."""
    value = site.encoded
    wrong: list[tuple[str, object]]
    match site.kind:
        case "text":
            wrong = [("a number", 42), ("a float", 4.2), ("a bool", True), ("a list", ["x"])]
        case "number":
            wrong = [
                ("the number as text", repr(value)),
                ("text", "NaN"),
                ("a bool", True),
                ("infinity", math.inf),
                ("-infinity", -math.inf),
                ("nan", math.nan),
                ("a whole number beyond any float", 10**400),
                ("a list", [value]),
            ]
        case "int":
            wrong = [
                ("the number as text", str(value)),
                ("a float", float(value)),
                ("a bool", True),
            ]
        case "bool":
            wrong = [("text", "true"), ("a number", 1), ("zero", 0)]
        case "uuid":
            wrong = [("a number", 12345), ("a truncated id", value[:-1]), ("text", "not-an-id")]
        case "datetime":
            naive = datetime.fromisoformat(value).replace(tzinfo=None).isoformat()
            wrong = [
                ("a naive datetime", naive),
                ("a bare date", value[:10]),
                ("text", "yesterday"),
                ("a timestamp", 1_700_000_000),
            ]
        case "enum":
            wrong = [("an unknown value", f"no_such_{value}"), ("upper case", value.upper())]
            wrong += [("a number", 1)]
        case "object":
            wrong = [("a number", 1), ("text", "object"), ("a list", [])]
        case "list":
            wrong = [("text", "list"), ("an object", {}), ("a number", 1)]
        case "null":
            wrong = [("a list", []), ("a bool", True), ("text", "not a value")]
        case _:  # pragma: no cover
            raise AssertionError(site.kind)
    if not site.optional and site.kind not in ("null", "object", "list"):
        wrong.append(("null", None))
    return wrong


def _corruptions(site: Site) -> list[Corruption]:
    path = _json_path(site.keys)
    found = [
        Corruption(f"{description} at {path}", _replace(site.keys, new), path)
        for description, new in _wrong_values(site)
    ]
    if site.kind == "object":
        for name in site.required:
            found.append(
                Corruption(
                    f"{path}.{name} missing",
                    _remove(site.keys, name),
                    _json_path((*site.keys, name)),
                )
            )
        found.append(
            Corruption(f"an extra field in {path}", _add(site.keys, "surplus"), path, "surplus")
        )
    if site.tagged:
        found.append(Corruption(f"{path} without a kind", _remove(site.keys, "kind"), path))
        found.append(
            Corruption(
                f"{path} of an unknown kind",
                _replace((*site.keys, "kind"), "no_such_kind"),
                path,
                "no_such_kind",
            )
        )
    return found


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith((root + ".", root + "["))


def _decode_error(codec: EventCodec, event: Event, data: object) -> EventDecodeError | None:
    try:
        codec.decode(event.wire_name, event.originator_id, event.originator_version, data)
    except EventDecodeError as refused:
        return refused
    return None


def _assert_refused(event: Event, encoded: dict[str, Any], corruption: Corruption) -> None:
    """Decoding ``encoded`` with ``corruption`` fails, naming the corrupted field only."""
    codec = CODEC
    corrupted = corruption.apply(copy.deepcopy(encoded))
    refused = _decode_error(codec, event, corrupted)
    assert refused is not None, f"{corruption.description}: decoded without an error"
    context = f"{corruption.description}: {refused}"
    assert refused.errors, context
    assert all(isinstance(e, FieldError) for e in refused.errors), context
    assert any(e.path == corruption.path for e in refused.errors), context
    # Only the corrupted field is blamed.
    assert all(_under(e.path, corruption.path) for e in refused.errors), context
    if corruption.mentions:
        assert any(corruption.mentions in e.message for e in refused.errors), context
    # The message names the record.
    assert event.wire_name in str(refused), context


@settings(max_examples=400, deadline=None)
@given(event=events(), data=st.data())
def test_a_corrupted_field_is_refused_and_named(event: Event, data: st.DataObject) -> None:
    codec = CODEC
    name, encoded = codec.encode(event)
    site = data.draw(st.sampled_from(list(_sites(event, type(event), encoded))), label="site")
    corruption = data.draw(st.sampled_from(_corruptions(site)), label="corruption")
    note(corruption.description)
    _assert_refused(event, encoded, corruption)
    # The intact record still decodes.
    assert codec.decode(name, event.originator_id, event.originator_version, encoded) == event


@pytest.mark.parametrize("wire_name", WIRE_NAMES)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_every_corruption_of_every_field_is_refused(wire_name: str, data: st.DataObject) -> None:
    event = data.draw(EVENT_STRATEGIES[wire_name])
    _, encoded = CODEC.encode(event)
    for site in _sites(event, type(event), encoded):
        for corruption in _corruptions(site):
            _assert_refused(event, encoded, corruption)


def test_every_kind_of_site_is_generated() -> None:
    """The walk knows every kind of field that the strategies produce."""
    kinds: set[str] = set()

    # Each event type on its own: drawn from all at once, a kind carried by few
    # types (a bool: the inclusive flag of two metrics) could go unseen.
    for strategy in EVENT_STRATEGIES.values():

        @settings(max_examples=25, deadline=None, database=None)
        @given(event=strategy)
        def collect(event: Event) -> None:
            _, encoded = CODEC.encode(event)
            kinds.update(site.kind for site in _sites(event, type(event), encoded))

        collect()
    expected = {"text", "number", "int", "bool", "uuid", "datetime", "enum", "object", "list"}
    assert expected | {"null"} == kinds


# --- examples: strings are never numbers, and nested validation names its path ---------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _check_in(**changes: Any) -> CheckInRecorded:
    fields: dict[str, Any] = {
        "originator_id": UUID(int=7),
        "originator_version": 3,
        "recorded_at": T0,
        "actor": "ana",
        "check_in_id": UUID(int=8),
        "value": 12.5,
        "confidence": Confidence.on("zero_to_ten", 7),
        "narrative": "",
        "effective_at": T0,
        "source": CheckInSource.MANUAL,
    }
    return CheckInRecorded(**{**fields, **changes})


@pytest.mark.parametrize("text", ["3.5", "3", "1e3", " 2 ", "nan", "Infinity", ""])
def test_a_string_where_a_float_belongs_is_refused_not_coerced(text: str) -> None:
    codec = EventCodec()
    name, encoded = codec.encode(_check_in())
    encoded["value"] = text
    with pytest.raises(EventDecodeError) as refused:
        codec.decode(name, UUID(int=7), 3, encoded)
    assert [(e.path, e.message) for e in refused.value.errors] == [
        ("$.value", "expected a number, got str")
    ]


@pytest.mark.parametrize("use_orjson", [False, True], ids=["stdlib-json", "orjson"])
def test_a_stored_string_number_is_refused_by_the_mapper(use_orjson: bool) -> None:
    transcoder = JSONBytes(use_orjson=use_orjson)
    mapper = OkraMapper(transcoder, codec=EventCodec())
    stored = mapper.to_stored_event(_check_in())
    record = transcoder.decode(stored.state)
    assert record["value"] == 12.5
    record["value"] = "12.5"
    tampered = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=transcoder.encode(record),
    )
    with pytest.raises(EventDecodeError) as refused:
        mapper.to_domain_event(tampered)
    assert refused.value.paths == ("$.value",)
    assert "okra.key_result.checked_in" in str(refused.value)


@pytest.mark.parametrize(
    ("event", "keys", "value", "path"),
    [
        (_check_in(), ("confidence", "probability"), 0.9, "$.confidence.probability"),
        (_check_in(), ("confidence", "given"), "11", "$.confidence.given"),
        (_check_in(), ("confidence", "scale"), "zero_to_eleven", "$.confidence.scale"),
        (
            KeyResultDefined(
                originator_id=UUID(int=1),
                originator_version=1,
                recorded_at=T0,
                actor="ana",
                objective_id=UUID(int=2),
                title="First response",
                metric=Change(baseline=24.0, target=4.0),
                unit="h",
                weight=1.0,
                owner="ana",
            ),
            ("metric", "target"),
            24.0,
            "$.metric.target",
        ),
        (
            PlaybookRevised(
                originator_id=UUID(int=3),
                originator_version=1,
                recorded_at=T0,
                actor="ana",
                settings=PlaybookSettings(check_in_cadence_days=14),
                reason="fortnightly",
            ),
            ("settings", "pace_bands", "at_risk"),
            0.95,
            "$.settings.pace_bands.at_risk",
        ),
    ],
    ids=["probability", "given", "scale", "change", "pace-bands"],
)
def test_a_value_object_that_fails_its_own_rules_is_named(
    event: Event, keys: Keys, value: object, path: str
) -> None:
    codec = EventCodec()
    name, encoded = codec.encode(event)
    _replace(keys, value)(encoded)
    with pytest.raises(EventDecodeError) as refused:
        codec.decode(name, event.originator_id, event.originator_version, encoded)
    assert refused.value.paths == (path,)


def test_an_unknown_type_and_a_newer_schema_are_refused() -> None:
    codec = EventCodec()
    name, encoded = codec.encode(_check_in())
    with pytest.raises(EventDecodeError) as unknown:
        codec.decode("okra.key_result.teleported", UUID(int=7), 3, encoded)
    assert unknown.value.paths == ("$.type",)
    with pytest.raises(EventDecodeError) as newer:
        codec.decode(name, UUID(int=7), 3, {**encoded, "_schema": 99})
    assert newer.value.paths == ("$._schema",)
