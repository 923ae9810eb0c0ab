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

    Raises:
        ValidationError: listing every bad record (up to :data:`MAX_REPORTED`),
            each path starting with the record's index: ``[3].confidence.scale``.
    """
    events: list[Event] = []
    errors: list[FieldError] = []
    folded: dict[UUID, AnyEntity] = {}
    bad = 0
    for index, record in enumerate(records):
        if progress is not None:
            progress(index + 1)
        if bad >= MAX_REPORTED:
            continue
        try:
            event = from_record(codec, record)
        except ValidationError as exc:
            errors += _at(index, exc.errors)
            bad += 1
            continue
        entity_id = event.originator_id
        before = folded.get(entity_id, states.get(entity_id))
        expected = before.version + 1 if before is not None else 1
        if event.originator_version != expected:
            if event.originator_version < expected:
                problem = (
                    f"version {event.originator_version} of {entity_id} is already recorded "
                    f"(is this log imported already?)"
                )
            else:
                problem = (
                    f"expected version {expected} of {entity_id}, got "
                    f"{event.originator_version}: an earlier event of it is missing"
                )
            errors += _at(index, [FieldError(f"$.{VERSION_KEY}", problem)])
            bad += 1
            continue
        try:
            after = project(before, event)
        except (AssertionError, AttributeError, TypeError, ValueError) as exc:
            message = f"{event.wire_name} does not apply to this entity: {exc}"
            errors += _at(index, [FieldError(f"$.{TYPE_KEY}", message)])
            bad += 1
            continue
        dangling = _dangling(before, after, lambda i: folded.get(i, states.get(i)))
        if dangling:
            errors += _at(index, dangling)
            bad += 1
            continue
        folded[entity_id] = after
        events.append(event)
    if errors:
        summary = "nothing was imported"
        if bad >= MAX_REPORTED:
            summary += f"; only the first {MAX_REPORTED} bad records are listed"
        raise ValidationError(errors, summary=summary)
    return events


def _dangling(
    before: AnyEntity | None,
    after: AnyEntity,
    lookup: Callable[[UUID], AnyEntity | None],
) -> list[FieldError]:
    """The references ``after`` gained over ``before`` that point at nothing fit."""
    known = set(_references(before)) if before is not None else set()
    errors: list[FieldError] = []
    for field, ref, kinds in _references(after):
        if ref is None or (field, ref, kinds) in known:
            continue
        target = lookup(ref)
        if not isinstance(target, kinds):
            wanted = " or ".join(k.__name__ for k in kinds)
            found = "nothing recorded before" if target is None else f"a {type(target).__name__}"
            errors.append(
                FieldError(f"$.{field}", f"expected the id of a {wanted}; {ref} is {found}")
            )
    return errors
