"""Checking a batch of events made elsewhere before any of it is recorded.

:meth:`Okra.import_events` records events that did not come from okra's own
commands: an export of another store, a migration from a spreadsheet, a
generator. Every record is checked first, all together, against the store's
current states and the records before it: it must decode strictly, continue its
entity's stream at the next version, fold into that entity's state, refer only
to entities that exist (in the store or earlier in the import), and not be
recorded in the future. Only then is anything written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final
from uuid import UUID

import cattrs

from ._codec import EventCodec
from ._errors import FieldError, OkraError, ValidationError
from ._events import (
    ActionProposed,
    CheckInCorrected,
    CheckInRetracted,
    CyclePlanned,
    Event,
    KeyResultContinued,
    KeyResultDefined,
    ObjectiveAligned,
    ObjectiveContinued,
    ObjectiveDrafted,
)
from ._model import AnyEntity, Cycle, KeyResult, Objective, project

__all__ = ["check_import"]

# Stop collecting after this many problems: the first ones tell what is wrong.
_MAX_ERRORS: Final = 100
_ORIGIN: Final = ("originator_id", "originator_version")


def _references(event: Event) -> list[tuple[str, UUID | None, tuple[type[AnyEntity], ...]]]:
    """``(field, id, kinds it must be)`` for each entity ``event`` refers to."""
    match event:
        case CyclePlanned(parent_id=parent):
            return [("parent_id", parent, (Cycle,))]
        case ObjectiveDrafted(cycle_id=cycle):
            return [("cycle_id", cycle, (Cycle,))]
        case ObjectiveAligned(parent_id=parent):
            return [("parent_id", parent, (Objective, KeyResult))]
        case ObjectiveContinued(from_objective_id=source):
            return [("from_objective_id", source, (Objective,))]
        case KeyResultDefined(objective_id=objective):
            return [("objective_id", objective, (Objective,))]
        case KeyResultContinued(from_key_result_id=source):
            return [("from_key_result_id", source, (KeyResult,))]
        case ActionProposed(key_result_ids=ids):
            return [(f"key_result_ids[{n}]", i, (KeyResult,)) for n, i in enumerate(ids)]
    return []


def _decode(codec: EventCodec, record: object, path: str) -> Event:
    """An event given as an :class:`Event` or as plain data (``to_data`` form)."""
    if isinstance(record, Event):
        if not _registered(codec, record):
            raise ValidationError.single(
                f"{path}.type", f"{type(record).__qualname__} is not a registered event type"
            )
        # The same checks as a stored record: it must be as decoding would make it.
        return codec.checked(record)
    if not isinstance(record, Mapping):
        raise ValidationError.single(
            path, f"expected an event or an object with a type, got {type(record).__name__}"
        )
    fields = dict(record)
    wire_name = fields.pop("type", None)
    if not isinstance(wire_name, str):
        raise ValidationError.single(f"{path}.type", "expected the event's wire name")
    origin = [fields.pop(key, None) for key in _ORIGIN]
    errors: list[FieldError] = []
    try:
        originator_id = codec.converter.structure(origin[0], UUID)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        errors.append(FieldError(f"{path}.originator_id", _reason(exc)))
    version = origin[1]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        errors.append(FieldError(f"{path}.originator_version", "expected a whole number >= 1"))
    if errors:
        raise ValidationError(errors)
    return codec.decode(wire_name, originator_id, version, fields)


def _registered(codec: EventCodec, event: Event) -> bool:
    name = type(event).wire_name
    return name in codec.registry and codec.registry[name] is type(event)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        return _reason(exc.exceptions[0])
    return str(exc)


def _rooted(errors: Iterable[FieldError], path: str) -> list[FieldError]:
    """Decoder paths (``$.value``) put under the record's path (``events[3].value``)."""
    rooted = []
    for error in errors:
        sub = error.path
        if sub.startswith("$"):
            sub = sub[1:]
        elif sub.startswith(path):
            sub = sub[len(path) :]
        elif sub:
            sub = f".{sub}"
        rooted.append(FieldError(f"{path}{sub}", error.message))
    return rooted


def check_import(
    records: Iterable[object],
    states: Mapping[UUID, AnyEntity],
    codec: EventCodec,
    now: datetime,
    batch_size: int,
) -> list[tuple[list[Event], dict[UUID, AnyEntity]]]:
    """The events of ``records``, each checked; raises for any problem in any of them.

    Args:
        records: events, or their plain data as :func:`to_data` gives it.
        states: the store's current states (not changed).
        codec: decodes and checks each record, as stored records are.
        now: no record may have been recorded after this.
        batch_size: how many events to a batch.

    Returns:
        The batches, each with the states of the entities it touched, as folded
        to its end (so that recording a batch need not fold it again).

    Raises:
        ValidationError: listing every problem found (up to a hundred), each with
            the path ``events[index].field``; nothing is to be written.
    """
    batches: list[tuple[list[Event], dict[UUID, AnyEntity]]] = []
    events: list[Event] = []
    touched: dict[UUID, AnyEntity] = {}
    folded: dict[UUID, AnyEntity] = {}  # the states as the import leaves them
    errors: list[FieldError] = []
    for index, record in enumerate(records):
        if len(errors) >= _MAX_ERRORS:
            break
        path = f"events[{index}]"
        try:
            event = _decode(codec, record, path)
        except ValidationError as exc:
            errors += _rooted(exc.errors, path)
            continue
        problems = _check(event, folded, states, now, path)
        if problems:
            errors += problems
            continue
        events.append(event)
        touched[event.originator_id] = folded[event.originator_id]
        if len(events) == batch_size:
            batches.append((events, touched))
            events, touched = [], {}
    if errors:
        raise ValidationError(errors, summary="nothing was imported")
    if events:
        batches.append((events, touched))
    return batches


def _check(
    event: Event,
    folded: dict[UUID, AnyEntity],
    states: Mapping[UUID, AnyEntity],
    now: datetime,
    path: str,
) -> list[FieldError]:
    """The problems of one decoded event; if none, fold it into ``folded``."""
    if event.recorded_at > now:
        return [FieldError(f"{path}.recorded_at", "expected a time no later than now")]
    entity_id = event.originator_id
    state = folded[entity_id] if entity_id in folded else states.get(entity_id)
    expected = state.version + 1 if state is not None else 1
    if event.originator_version != expected:
        return [
            FieldError(
                f"{path}.originator_version",
                f"expected {expected}, the next version of {entity_id}",
            )
        ]
    errors = []
    for field, ref, kinds in _references(event):
        target = folded.get(ref) or states.get(ref) if ref is not None else None
        if ref is not None and not isinstance(target, kinds):
            names = " or ".join(k.__name__.lower() for k in kinds)
            errors.append(FieldError(f"{path}.{field}", f"expected an existing {names}"))
    if isinstance(event, CheckInCorrected | CheckInRetracted) and isinstance(state, KeyResult):
        # Folding tolerates these (a log is never refused); an import must not.
        try:
            state.find_check_in(event.check_in_id)
        except OkraError as exc:
            errors.append(FieldError(f"{path}.check_in_id", str(exc)))
    if errors:
        return errors
    try:
        folded[entity_id] = project(state, event)
    except (OkraError, AssertionError) as exc:
        return [FieldError(path, f"cannot apply to {entity_id}: {exc}")]
    return []
