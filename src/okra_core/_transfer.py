"""Event records for export and import: one JSON object per event.

A record is the event's fields as :class:`EventCodec` encodes them, plus its
``type`` (the wire name), ``originator_id`` and ``originator_version``. The same
shape is what ``okra export`` writes, one record per line (JSON Lines).

Importing checks everything before anything is written: every record decodes,
every entity's versions follow on from what the store (or an earlier record)
already has, every event applies to the state before it, and every id an entity
refers to (its cycle, objective, key results, parents) exists once the import is
done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final
from uuid import UUID

from ._codec import EventCodec
from ._errors import FieldError, ValidationError
from ._events import Event
from ._model import Action, AnyEntity, Cycle, KeyResult, Objective, project

__all__ = ["check_import", "from_record", "to_record"]

TYPE_KEY: Final = "type"
ID_KEY: Final = "originator_id"
VERSION_KEY: Final = "originator_version"

# Report at most this many bad records: enough to fix a file, not a wall of text.
MAX_REPORTED: Final = 50


def to_record(codec: EventCodec, event: Event) -> dict[str, Any]:
    """``event`` as one plain record: its type, entity, version and fields."""
    wire_name, data = codec.encode(event)
    return {
        TYPE_KEY: wire_name,
        ID_KEY: str(event.originator_id),
        VERSION_KEY: event.originator_version,
        **data,
    }


def from_record(codec: EventCodec, record: object) -> Event:
    """Rebuild an event from a record made by :func:`to_record`.

    Raises:
        ValidationError: naming each bad field by its ``$``-rooted path.
    """
    if not isinstance(record, Mapping):
        raise ValidationError.single("$", f"expected an object, got {type(record).__name__}")
    fields = dict(record)
    errors: list[FieldError] = []
    wire_name = fields.pop(TYPE_KEY, None)
    if not isinstance(wire_name, str):
        errors.append(
            FieldError(f"$.{TYPE_KEY}", "expected an event type such as okra.cycle.planned")
        )
    raw_id = fields.pop(ID_KEY, None)
    originator_id: UUID | None = None
    with contextlib.suppress(ValueError):
        originator_id = UUID(raw_id) if isinstance(raw_id, str) else None
    if originator_id is None:
        errors.append(FieldError(f"$.{ID_KEY}", f"expected a UUID string, got {raw_id!r}"))
    version = fields.pop(VERSION_KEY, None)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        errors.append(FieldError(f"$.{VERSION_KEY}", f"expected an integer >= 1, got {version!r}"))
    if errors:
        raise ValidationError(errors)
    assert isinstance(wire_name, str)
    assert originator_id is not None
    assert isinstance(version, int)
    return codec.decode(wire_name, originator_id, version, fields)


def _at(index: int, errors: Iterable[FieldError]) -> list[FieldError]:
    return [FieldError(f"[{index}]{e.path.removeprefix('$')}", e.message) for e in errors]


def _references(entity: AnyEntity) -> Iterable[tuple[str, UUID | None, tuple[type, ...]]]:
    match entity:
        case Cycle():
            yield "parent_id", entity.parent_id, (Cycle,)
        case Objective():
            yield "cycle_id", entity.cycle_id, (Cycle,)
            for link in entity.alignments:
                yield "parent_id", link.parent_id, (Objective, KeyResult)
            if entity.continues is not None:
                yield "from_objective_id", entity.continues.from_objective_id, (Objective,)
        case KeyResult():
            yield "objective_id", entity.objective_id, (Objective,)
            yield "continues_id", entity.continues_id, (KeyResult,)
        case Action():
            for kr_id in entity.key_result_ids:
                yield "key_result_ids", kr_id, (KeyResult,)
        case _:
            return


def check_import(
    codec: EventCodec,
    records: Iterable[object],
    states: Mapping[UUID, AnyEntity],
    progress: Callable[[int], None] | None = None,
) -> list[Event]:
    """Decode and check ``records`` against ``states``; return the events in order.

    Once a record of an entity is bad, that entity's later records and the
    references to it are not reported again: one mistake, one message.

    Raises:
        ValidationError: listing every bad record (up to :data:`MAX_REPORTED`),
            each path starting with the record's index: ``[3].confidence.scale``.
    """
    check = _Check(codec, states)
    for index, record in enumerate(records):
        if progress is not None:
            progress(index + 1)
        if check.bad < MAX_REPORTED:
            check.record(index, record)
    if check.errors:
        summary = "nothing was imported"
        if check.bad >= MAX_REPORTED:
            summary += f"; only the first {MAX_REPORTED} bad records are listed"
        raise ValidationError(check.errors, summary=summary)
    return check.events


class _Check:
    """The state of an import check: what is folded so far, what is broken."""

    def __init__(self, codec: EventCodec, states: Mapping[UUID, AnyEntity]) -> None:
        self.codec = codec
        self.states = states
        self.folded: dict[UUID, AnyEntity] = {}
        self.broken: set[UUID] = set()
        self.events: list[Event] = []
        self.errors: list[FieldError] = []
        self.bad = 0

    def lookup(self, entity_id: UUID) -> AnyEntity | None:
        return self.folded.get(entity_id, self.states.get(entity_id))

    def record(self, index: int, record: object) -> None:
        try:
            event = from_record(self.codec, record)
        except ValidationError as exc:
            self.fail(index, exc.errors, _raw_id(record))
            return
        entity_id = event.originator_id
        if entity_id in self.broken:
            return
        before = self.lookup(entity_id)
        expected = before.version + 1 if before is not None else 1
        if event.originator_version != expected:
            self.fail(index, [_version_error(entity_id, expected, event)], entity_id)
            return
        try:
            after = project(before, event)
        except (AssertionError, AttributeError, TypeError, ValueError) as exc:
            message = f"{event.wire_name} does not apply to this entity: {exc}"
            self.fail(index, [FieldError(f"$.{TYPE_KEY}", message)], entity_id)
            return
        dangling = _dangling(before, after, self.lookup, self.broken)
        if dangling:
            self.fail(index, dangling, entity_id)
            return
        self.folded[entity_id] = after
        self.events.append(event)

    def fail(self, index: int, errors: Iterable[FieldError], entity_id: UUID | None) -> None:
        self.errors += _at(index, errors)
        self.bad += 1
        if entity_id is not None:
            self.broken.add(entity_id)


def _raw_id(record: object) -> UUID | None:
    raw = record.get(ID_KEY) if isinstance(record, Mapping) else None
    try:
        return UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _version_error(entity_id: UUID, expected: int, event: Event) -> FieldError:
    if event.originator_version < expected:
        problem = (
            f"version {event.originator_version} of {entity_id} is already recorded "
            "(is this log imported already?)"
        )
    else:
        problem = (
            f"expected version {expected} of {entity_id}, got "
            f"{event.originator_version}: an earlier event of it is missing"
        )
    return FieldError(f"$.{VERSION_KEY}", problem)


def _dangling(
    before: AnyEntity | None,
    after: AnyEntity,
    lookup: Callable[[UUID], AnyEntity | None],
    broken: set[UUID],
) -> list[FieldError]:
    """The references ``after`` gained over ``before`` that point at nothing fit."""
    known = set(_references(before)) if before is not None else set()
    errors: list[FieldError] = []
    for field, ref, kinds in _references(after):
        if ref is None or ref in broken or (field, ref, kinds) in known:
            continue
        target = lookup(ref)
        if not isinstance(target, kinds):
            wanted = " or ".join(k.__name__ for k in kinds)
            found = "nothing recorded before" if target is None else f"a {type(target).__name__}"
            errors.append(
                FieldError(f"$.{field}", f"expected the id of a {wanted}; {ref} is {found}")
            )
    return errors
