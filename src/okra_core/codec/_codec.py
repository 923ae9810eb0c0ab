"""Turning events into stored records and back, strictly.

One cattrs converter (de)serialises every event. Structuring never coerces: a
string where a number belongs, a naive datetime, an unknown field or an unknown
enum value is an error whose message names the field path (``$.value``). The
stored record is JSON, written by orjson when it is installed and by the standard
library otherwise.
"""

from __future__ import annotations

import enum
import functools
import json
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, get_args, get_origin
from uuid import UUID

import cattrs
from cattrs.errors import IterableValidationNote
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder

from ..domain._clock import as_utc
from ..domain._errors import EventDecodeError, FieldError, ValidationError
from ..domain._events import CORE_EVENTS, Event, EventRegistry
from ..domain._key_result import CheckIn, CheckIns
from ..domain._metrics import METRIC_KINDS, Metric
from ..domain._values import Confidence
from ._fast import SCHEMA_KEY, FastStructure, entity_uuid, exact_checker, fast_structurer

__all__ = ["EventCodec", "JSONBytes", "OkraMapper", "make_converter"]

try:  # pragma: no cover - which branch runs depends on the environment
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

_ORIGIN = ("originator_id", "originator_version")
_SCHEMA_KEY = SCHEMA_KEY


class JSONBytes(Transcoder):
    """JSON to and from bytes: orjson if installed, else the standard library."""

    def __init__(self, *, use_orjson: bool | None = None) -> None:
        self.uses_orjson = orjson is not None if use_orjson is None else use_orjson
        if self.uses_orjson and orjson is None:
            raise ImportError("orjson is not installed: pip install 'okra[orjson]'")

    def encode(self, obj: Any) -> bytes:
        """Serialise plain data (dicts, lists, strings, numbers, bools, None)."""
        if self.uses_orjson:
            return orjson.dumps(obj)
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()

    def decode(self, data: bytes) -> Any:
        """Parse JSON bytes into plain data."""
        if self.uses_orjson:
            return orjson.loads(data)
        return json.loads(data)


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _strict_str(value: object, _: type) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {_type_name(value)}")
    return value


def _strict_float(value: object, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {_type_name(value)}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return float(value)


def _strict_int(value: object, _: type) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, got {_type_name(value)}")
    return value


def _strict_bool(value: object, _: type) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {_type_name(value)}")
    return value


def _strict_datetime(value: object, _: type) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO 8601 datetime, got {value!r}") from None
    if not isinstance(value, datetime):
        raise TypeError(f"expected an ISO 8601 datetime, got {_type_name(value)}")
    try:
        return as_utc("", value)
    except ValidationError:
        raise ValueError(f"expected a timezone-aware datetime, got {value.isoformat()}") from None


def _strict_uuid(value: object, _: type) -> UUID:
    if isinstance(value, UUID):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an id (a UUID as text), got {_type_name(value)}")
    try:
        return UUID(value)
    except ValueError:
        raise ValueError(f"expected an id (a UUID as text), got {value!r}") from None


def _structure_enum(value: object, cls: type[enum.Enum]) -> enum.Enum:
    # One dict lookup (a hot path: every check-in has a source and a confidence
    # scale); the type check keeps True from passing for 1, or 1 for 1.0.
    try:
        member = cls._value2member_map_.get(value)
    except TypeError:  # unhashable: no member has that value
        member = None
    if member is not None and type(value) is type(member.value):
        return member
    expected = ", ".join(str(member.value) for member in cls)
    raise ValueError(f"expected one of {expected}, got {value!r}")


def _or_enum(hook: Callable[[object, Any], Any]) -> Callable[[object, Any], Any]:
    def structure(value: object, type_: Any) -> Any:
        if isinstance(type_, type) and issubclass(type_, enum.Enum):
            return _structure_enum(value, type_)
        return hook(value, type_)

    return structure


def _unstructure_enum(value: Any) -> Any:
    # _value_ rather than the value property: the same, without a descriptor call.
    return value._value_ if isinstance(value, enum.Enum) else value


def _is_variadic_tuple(cls: Any) -> bool:
    args = get_args(cls)
    return get_origin(cls) is tuple and len(args) == 2 and args[1] is Ellipsis


def make_converter() -> cattrs.Converter:
    """A strict converter for okra's events and value objects."""
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    # cattrs dispatches on the MRO first, so str's and int's hooks also receive
    # StrEnum and IntEnum types: _or_enum hands those to the enum rule.
    converter.register_structure_hook(str, _or_enum(_strict_str))
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(int, _or_enum(_strict_int))
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(enum.Enum, _structure_enum)
    converter.register_structure_hook(datetime, _strict_datetime)
    converter.register_structure_hook(UUID, _strict_uuid)
    converter.register_unstructure_hook(datetime, lambda d: d.isoformat())
    converter.register_unstructure_hook(UUID, str)
    converter.register_unstructure_hook(enum.Enum, _unstructure_enum)
    converter.register_unstructure_hook(str, _unstructure_enum)
    converter.register_unstructure_hook(int, _unstructure_enum)

    def tuple_factory(cls: Any) -> Callable[[object, type], tuple[Any, ...]]:
        item_type = get_args(cls)[0]
        structure_item = converter.get_structure_hook(item_type)

        def structure(value: object, _: type) -> tuple[Any, ...]:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected a list, got {_type_name(value)}")
            items, errors = [], []
            for index, item in enumerate(value):
                try:
                    items.append(structure_item(item, item_type))
                except Exception as exc:
                    note = IterableValidationNote(f"Structuring index {index}", index, item_type)
                    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                    errors.append(exc)
            if errors:
                raise cattrs.IterableValidationError(
                    f"while structuring {cls!r}",
                    errors,
                    cls,
                )
            return tuple(items)

        return structure

    converter.register_structure_hook_factory(_is_variadic_tuple, tuple_factory)
    # Sets (of ids, in entity states) are stored as sorted lists.
    converter.register_unstructure_hook_func(
        _is_set, lambda value: sorted(converter.unstructure(item) for item in value)
    )
    _register_metric_union(converter)
    _register_confidence_cache(converter)
    # A key result's check-ins (in states): a list, like a tuple.
    as_tuple = tuple[CheckIn, ...]
    converter.register_structure_hook(
        CheckIns, lambda value, _: CheckIns(converter.structure(value, as_tuple))
    )
    converter.register_unstructure_hook(
        CheckIns, lambda value: converter.unstructure(tuple(value), as_tuple)
    )
    return converter


_CONFIDENCE_CACHE_SIZE: Final = 4096


def _register_confidence_cache(converter: cattrs.Converter) -> None:
    """Decode each distinct stored confidence once, then reuse the (immutable) value.

    Nearly every check-in states a confidence, from a handful of values ("7" on
    0-10); checking and building each anew was a third of decoding a check-in.
    Only exact, well-typed records are cached, so every error still comes from
    the strict hook with its field path.
    """
    strict = converter.get_structure_hook(Confidence)
    cache: dict[tuple[object, ...], Confidence] = {}

    def structure(value: object, cls: Any) -> Confidence:
        if type(value) is dict and len(value) == 3:
            probability, scale, given = (
                value.get("probability"),
                value.get("scale"),
                value.get("given"),
            )
            if type(scale) is str and type(given) is str and type(probability) in (float, int):
                key = (type(probability), probability, scale, given)
                found = cache.get(key)
                if found is None:
                    found = strict(value, cls)
                    if len(cache) < _CONFIDENCE_CACHE_SIZE:
                        cache[key] = found
                return found
        return strict(value, cls)  # type: ignore[no-any-return]

    converter.register_structure_hook(Confidence, structure)


def _is_set(t: Any) -> bool:
    origin: Any = get_origin(t) or t
    return origin in (set, frozenset)


def _register_metric_union(converter: cattrs.Converter) -> None:
    """Metrics are stored as objects tagged with their ``kind``."""
    kinds = ", ".join(METRIC_KINDS)

    def structure(value: object, _: Any) -> Metric:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object with a kind ({kinds}), got {_type_name(value)}")
        fields = dict(value)
        kind = fields.pop("kind", None)
        if kind not in METRIC_KINDS:
            raise ValueError(f"expected kind to be one of {kinds}, got {kind!r}")
        return converter.structure(fields, METRIC_KINDS[kind])

    def unstructure(metric: Metric) -> dict[str, Any]:
        return {"kind": metric.kind, **converter.unstructure(metric, type(metric))}

    converter.register_structure_hook_func(lambda t: t == Metric, structure)
    converter.register_unstructure_hook_func(lambda t: t == Metric, unstructure)


def _field_errors(exc: BaseException, path: str = "$") -> list[FieldError]:
    """Flatten a (nested) structuring failure into one error per field path."""
    if isinstance(exc, ValidationError):
        return [FieldError(f"{path}.{e.path}" if e.path else path, e.message) for e in exc.errors]
    if isinstance(exc, cattrs.ClassValidationError):
        errors: list[FieldError] = []
        with_notes, others = exc.group_exceptions()
        for sub, note in with_notes:
            errors += _field_errors(sub, f"{path}.{note.name}")
        for sub in others:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, cattrs.IterableValidationError):
        errors = []
        with_index, others = exc.group_exceptions()
        for sub, index_note in with_index:
            errors += _field_errors(sub, f"{path}[{index_note.index!r}]")
        for sub in others:
            errors += _field_errors(sub, path)
        return errors
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return [FieldError(path, f"unexpected field(s) {', '.join(sorted(exc.extra_fields))}")]
    if isinstance(exc, KeyError):
        return [FieldError(path, "required field missing")]
    if isinstance(exc, cattrs.BaseValidationError):
        return [FieldError(path, str(exc))]
    if isinstance(exc, AttributeError | TypeError) and not str(exc).startswith("expected"):
        # cattrs met a non-object where an object (or list) belongs.
        return [FieldError(path, "expected an object or a list here, not a single value")]
    return [FieldError(path, str(exc) or type(exc).__name__)]


class EventCodec:
    """Events to and from plain data (dicts of JSON types), by wire name.

    Example:
        >>> codec = EventCodec()
        >>> from okra_core import CycleStarted
        >>> from datetime import datetime, UTC
        >>> from uuid import UUID
        >>> event = CycleStarted(originator_id=UUID(int=1), originator_version=2,
        ...                      recorded_at=datetime(2026, 1, 1, tzinfo=UTC), actor="ana")
        >>> name, data = codec.encode(event)
        >>> name, data
        ('okra.cycle.started', {'recorded_at': '2026-01-01T00:00:00+00:00', 'actor': 'ana'})
        >>> codec.decode(name, UUID(int=1), 2, data) == event
        True
    """

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CORE_EVENTS
        self._fast: dict[str, FastStructure | None] = {}  # by wire name
        self._exact: dict[type, Callable[[Any], bool] | None] = {}

    @functools.cached_property
    def converter(self) -> cattrs.Converter:
        """The strict converter, built on first use: many codecs never encode or decode."""
        return make_converter()

    def encode(self, event: Event) -> tuple[str, dict[str, Any]]:
        """The wire name and fields (without the originator) of ``event``."""
        cls = type(event)
        if cls.wire_name not in self.registry or self.registry[cls.wire_name] is not cls:
            raise TypeError(f"{cls.__qualname__} is not a registered event type")
        data: dict[str, Any] = self.converter.unstructure(event, cls)
        for key in _ORIGIN:
            del data[key]
        if cls.schema_version > 1:
            data[_SCHEMA_KEY] = cls.schema_version
        return cls.wire_name, data

    def checked(self, event: Event) -> Event:
        """``event`` as the store would give it back, or an error naming its bad fields.

        An event whose every field already has exactly the type and form decoding
        gives (floats as floats, instants in UTC, nested values likewise) is
        returned as it is; any other is encoded and decoded again, which
        normalises it or raises.

        Raises:
            EventDecodeError: a field is invalid (its path is in the message).
            TypeError: the event's type is not registered.
        """
        cls = type(event)
        exact = self._exact.get(cls, _UNBUILT)
        if exact is _UNBUILT:
            exact = self._exact[cls] = exact_checker(cls)
        if exact is not None and exact(event):
            return event
        wire_name, data = self.encode(event)
        return self.decode(wire_name, event.originator_id, event.originator_version, data)

    def decode(
        self, wire_name: str, originator_id: UUID, originator_version: int, data: object
    ) -> Event:
        """Rebuild an event from its wire name, originator and fields.

        Raises:
            EventDecodeError: if the wire name is unknown or any field is invalid;
                the message lists each bad field by its path.
        """
        fast: FastStructure | None = self._fast.get(wire_name, _UNBUILT)
        if fast is _UNBUILT:
            fast = self._quick_decoder(wire_name)
        if fast is not None and type(data) is dict:
            event = fast(data, originator_id, originator_version)
            if event is not None:
                return event
        return self._decode_strictly(wire_name, originator_id, originator_version, data)

    def _quick_decoder(self, wire_name: str) -> FastStructure | None:
        if wire_name not in self.registry:
            return None  # not remembered: a plugin may register the type later
        quick = self._fast[wire_name] = fast_structurer(self.converter, self.registry[wire_name])
        return quick

    def _decode_strictly(
        self, wire_name: str, originator_id: UUID, originator_version: int, data: object
    ) -> Event:
        """:meth:`decode` through the strict converter, which names every bad field."""
        record = f"{wire_name} event v{originator_version} of {originator_id}"
        if wire_name not in self.registry:
            raise EventDecodeError(
                [FieldError("$.type", f"unknown event type {wire_name!r}")], record=record
            )
        if not isinstance(data, dict):
            raise EventDecodeError(
                [FieldError("$", f"expected an object, got {_type_name(data)}")], record=record
            )
        cls = self.registry[wire_name]
        fields = dict(data)
        version = fields.pop(_SCHEMA_KEY, 1)
        try:
            if isinstance(version, bool) or not isinstance(version, int) or version < 1:
                raise ValidationError.single(
                    _SCHEMA_KEY, f"expected a schema version >= 1, got {version!r}"
                )
            if version > cls.schema_version:
                raise ValidationError.single(
                    _SCHEMA_KEY,
                    f"schema version {version} is newer than this okra knows "
                    f"({cls.schema_version}); upgrade okra",
                )
            fields = self.registry.upcast(wire_name, version, fields)
            fields["originator_id"] = originator_id
            fields["originator_version"] = originator_version
            return self.converter.structure(fields, cls)
        except (cattrs.BaseValidationError, ValidationError, LookupError) as exc:
            raise EventDecodeError(_field_errors(exc), record=record) from exc


_UNBUILT: Any = object()


_WRONG_KEY = (
    "cannot decrypt: the CIPHER_KEY is wrong, or the record was not written with encryption"
)
_MISSING_KEY = "; if the store is encrypted, open it with its CIPHER_KEY"


class OkraMapper(Mapper[UUID]):
    """An eventsourcing mapper that stores okra events by wire name through cattrs.

    Compression and encryption at rest work as with eventsourcing's own mapper.
    """

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        *,
        codec: EventCodec | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        self.codec = codec if codec is not None else EventCodec()

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        """Encode one okra event as a stored record."""
        wire_name, data = self.codec.encode(domain_event)
        state = self.transcoder.encode(data)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=wire_name,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """Decode one stored record into an okra event."""
        state = stored_event.state
        if self.cipher:
            try:
                state = self.cipher.decrypt(state)
            except Exception as exc:
                raise EventDecodeError(
                    [FieldError("$", _WRONG_KEY + f" ({type(exc).__name__}: {exc})")],
                    record=_record(stored_event),
                ) from exc
        try:
            if self.compressor:
                state = self.compressor.decompress(state)
            data = self.transcoder.decode(state)
        except Exception as exc:
            hint = "" if self.cipher else _MISSING_KEY
            raise EventDecodeError(
                [FieldError("$", f"unreadable record ({type(exc).__name__}: {exc}){hint}")],
                record=_record(stored_event),
            ) from exc
        originator_id: Any = stored_event.originator_id
        if not isinstance(originator_id, UUID):  # SQLite's text: each id parsed once
            try:
                originator_id = entity_uuid(originator_id)
            except Exception:
                originator_id = UUID(str(originator_id))
        return self.codec.decode(
            stored_event.topic, originator_id, stored_event.originator_version, data
        )


def _record(stored_event: StoredEvent) -> str:
    """How an error names a stored record (made only for errors: it costs a UUID's text)."""
    return (
        f"{stored_event.topic} event v{stored_event.originator_version} "
        f"of {stored_event.originator_id}"
    )
