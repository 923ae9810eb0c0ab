"""Events made elsewhere: records to export, and the checks before an import.

:meth:`Okra.export_records` writes every event as one plain record
(:func:`to_record`): its ``type`` (the wire name), ``originator_id``,
``originator_version`` and its fields as the codec encodes them. The same shape
is what ``okra export`` writes, one record per line.

:meth:`Okra.import_events` records events that did not come from okra's own
commands: such records, :class:`Event` objects, a migration, a generator. Every
record is checked first, all together, against the store's current states and
the records before it. It must

- decode strictly (a registered type, every field valid; text without control
  characters and the names, titles and actors not empty);
- continue its entity's stream at the next version, with an event of that
  entity's kind (only playbook events on the playbook);
- not be recorded in the future, nor before the record before it (or the
  store's latest event): a log's order is the order of its times;
- fold into its entity's state;
- refer only to entities that exist, of the kind the field names (an
  alignment's ``parent_kind`` is its parent's kind), and make no alignment loop;
- not reuse a check-in's or task's id; not expect an effect on a key result the
  action does not name; not plan a cycle that ends before it starts.

Lifecycle rules of commands (no check-in on a closed objective, say) are not
applied again: the records are facts that already happened. Once a record of
an entity is bad, that entity's later records and references to it are not
reported again: one mistake, one message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs
import cattrs

from ..codec._codec import EventCodec
from ..domain._checks import check_text, raise_if
from ..domain._cycle import Cycle
from ..domain._errors import ConcurrencyError, FieldError, OkraError, ValidationError
from ..domain._events import (
    ActionProposed,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CyclePlanned,
    EntityKind,
    Event,
    KeyResultContinued,
    KeyResultDefined,
    ObjectiveAligned,
    ObjectiveContinued,
    ObjectiveDrafted,
    PlaybookRevised,
    TaskAdded,
)
from ..domain._fold import AnyEntity, project
from ..domain._key_result import KeyResult
from ..domain._objective import Objective
from ..domain._playbook import PLAYBOOK_ID
from ._context import Collaborator

__all__ = ["MAX_REPORTED", "Importer", "check_import", "to_record"]

# Report at most this many bad records: enough to fix a file, not a wall of text.
MAX_REPORTED: Final = 50

TYPE_KEY: Final = "type"
_ORIGIN: Final = ("originator_id", "originator_version")

# Text fields that must say something, and those that may be empty.
_NAMES: Final = frozenset({"actor", "title", "name", "owner", "channel", "recipient"})
_TEXTS: Final = frozenset(
    {"description", "narrative", "reason", "hypothesis", "kill_criteria", "learning", "unit"}
)

Batches = list[tuple[list[Event], dict[UUID, AnyEntity]]]


def to_record(codec: EventCodec, event: Event) -> dict[str, Any]:
    """``event`` as one plain record: its type, entity, version and fields."""
    wire_name, data = codec.encode(event)
    return {
        TYPE_KEY: wire_name,
        "originator_id": str(event.originator_id),
        "originator_version": event.originator_version,
        **data,
    }


def _references(event: Event) -> list[tuple[str, UUID | None, tuple[type[AnyEntity], ...]]]:
    """``(field, id, kinds it must be)`` for each entity ``event`` refers to."""
    match event:
        case CyclePlanned(parent_id=parent):
            return [("parent_id", parent, (Cycle,))]
        case ObjectiveDrafted(cycle_id=cycle):
            return [("cycle_id", cycle, (Cycle,))]
        case ObjectiveAligned(parent_id=parent, parent_kind=kind):
            wanted = KeyResult if kind is EntityKind.KEY_RESULT else Objective
            return [("parent_id", parent, (wanted,))]
        case ObjectiveContinued(from_objective_id=source):
            return [("from_objective_id", source, (Objective,))]
        case KeyResultDefined(objective_id=objective):
            return [("objective_id", objective, (Objective,))]
        case KeyResultContinued(from_key_result_id=source):
            return [("from_key_result_id", source, (KeyResult,))]
        case ActionProposed(key_result_ids=ids):
            return [(f"key_result_ids[{n}]", i, (KeyResult,)) for n, i in enumerate(ids)]
    return []


def _decode(codec: EventCodec, record: object) -> Event:
    """An event given as an :class:`Event` or as a plain record (``$``-rooted errors)."""
    if isinstance(record, Event):
        name = type(record).wire_name
        if name not in codec.registry or codec.registry[name] is not type(record):
            raise ValidationError.single(
                f"$.{TYPE_KEY}", f"{type(record).__qualname__} is not a registered event type"
            )
        # The same checks as a stored record: it must be as decoding would make it.
        return codec.checked(record)
    if not isinstance(record, Mapping):
        raise ValidationError.single(
            "$", f"expected an event or an object with a type, got {type(record).__name__}"
        )
    fields = dict(record)
    wire_name = fields.pop(TYPE_KEY, None)
    origin = [fields.pop(key, None) for key in _ORIGIN]
    errors: list[FieldError] = []
    if not isinstance(wire_name, str):
        errors.append(
            FieldError(f"$.{TYPE_KEY}", "required: the event's type, such as okra.cycle.planned")
        )
    originator_id: UUID | None = None
    try:
        originator_id = codec.converter.structure(origin[0], UUID)
    except (cattrs.BaseValidationError, TypeError, ValueError):
        shown = "nothing" if origin[0] is None else repr(origin[0])
        errors.append(FieldError("$.originator_id", f"expected a UUID, got {shown}"))
    version = origin[1]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        shown = "nothing" if version is None else repr(version)
        errors.append(
            FieldError("$.originator_version", f"expected a whole number >= 1, got {shown}")
        )
    if errors:
        raise ValidationError(errors)
    assert isinstance(wire_name, str)
    assert originator_id is not None
    assert isinstance(version, int)
    return codec.decode(wire_name, originator_id, version, fields)


def _raw_id(record: object) -> UUID | None:
    """The entity a record is about, if that much of it can be read."""
    if isinstance(record, Event):
        return record.originator_id
    raw = record.get("originator_id") if isinstance(record, Mapping) else None
    try:
        return UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def check_import(
    records: Iterable[object],
    states: Mapping[UUID, AnyEntity],
    codec: EventCodec,
    *,
    now: datetime,
    known_ids: Callable[[UUID], bool],
    batch_size: int | None,
    progress: Callable[[int], None] | None = None,
) -> Batches:
    """The events of ``records``, each checked, in batches to record.

    Args:
        records: events, or their plain records (:func:`to_record`).
        states: the store's current states (not changed).
        codec: decodes and checks each record, as stored records are.
        now: no record may have been recorded after this.
        known_ids: whether a check-in or task id is used in the store already.
        batch_size: events per batch (``None``: one batch).
        progress: called with the count of records read so far.

    Returns:
        The batches, each with the states of the entities it touched as folded
        to its end (so that recording a batch need not fold it again).

    Raises:
        ValidationError: listing every bad record (up to :data:`MAX_REPORTED`),
            each path starting with its index (``events[3].value``); nothing is
            to be written.
    """
    check = _Check(states, codec, now, known_ids)
    for index, record in enumerate(records):
        if progress is not None:
            progress(index + 1)
        if check.bad < MAX_REPORTED:
            check.record(index, record)
    if check.errors:
        summary = "nothing was imported"
        if check.bad >= MAX_REPORTED:
            summary += f"; only the first {MAX_REPORTED} bad records are listed"
        raise ValidationError(check.summarised(), summary=summary)
    return list(check.batches(batch_size))


class _Check:
    """An import being checked: what is folded so far, what is broken."""

    def __init__(
        self,
        states: Mapping[UUID, AnyEntity],
        codec: EventCodec,
        now: datetime,
        known_ids: Callable[[UUID], bool],
    ) -> None:
        self.states = states
        self.codec = codec
        self.now = now
        self.known_ids = known_ids
        self.folded: dict[UUID, AnyEntity] = {}
        self.broken: set[UUID] = set()
        self.new_ids: set[UUID] = set()
        self.events: list[Event] = []
        self.afters: list[AnyEntity] = []  # the state each event left its entity in
        self.errors: list[FieldError] = []
        self.already: list[int] = []  # indexes of records the store has already
        self.bad = 0
        self.latest = max((s.updated_at for s in states.values()), default=None)

    def lookup(self, entity_id: UUID) -> AnyEntity | None:
        return self.folded.get(entity_id, self.states.get(entity_id))

    def record(self, index: int, record: object) -> None:
        try:
            event = _decode(self.codec, record)
        except ValidationError as exc:
            self.fail(index, exc.errors, _raw_id(record))
            return
        entity_id = event.originator_id
        if entity_id in self.broken:
            return
        before = self.lookup(entity_id)
        expected = before.version + 1 if before is not None else 1
        if event.originator_version < expected:
            self.already.append(index)
            self.fail(index, [_version_error(entity_id, expected, event)], entity_id)
            return
        problems = self.problems(event, before, expected)
        if problems:
            self.fail(index, problems, entity_id)
            return
        try:
            after = project(before, event)
        except (OkraError, AssertionError, LookupError, TypeError, ValueError) as exc:
            message = f"{event.wire_name} does not apply to {entity_id}: {exc}"
            self.fail(index, [FieldError(f"$.{TYPE_KEY}", message)], entity_id)
            return
        loop = self.loop(after)
        if loop:
            self.fail(index, [FieldError("$.parent_id", loop)], entity_id)
            return
        self.folded[entity_id] = after
        self.events.append(event)
        self.afters.append(after)
        self.latest = event.recorded_at

    def problems(self, event: Event, before: AnyEntity | None, expected: int) -> list[FieldError]:
        """What is wrong with ``event`` before it is folded (empty if nothing)."""
        entity_id = event.originator_id
        if event.originator_version != expected:
            return [_version_error(entity_id, expected, event)]
        if (entity_id == PLAYBOOK_ID) != isinstance(event, PlaybookRevised):
            return [
                FieldError(
                    f"$.{TYPE_KEY}",
                    "only playbook events may be recorded on the playbook's id, and only on it",
                )
            ]
        errors = _text_errors(event)
        if event.recorded_at > self.now:
            errors.append(FieldError("$.recorded_at", "expected a time no later than now"))
        elif self.latest is not None and event.recorded_at < self.latest:
            errors.append(
                FieldError(
                    "$.recorded_at",
                    f"expected a time no earlier than the event before it "
                    f"({self.latest.isoformat()}): a log is in the order of its times",
                )
            )
        for field, ref, kinds in _references(event):
            if ref is None or ref in self.broken:
                continue
            target = self.lookup(ref)
            if not isinstance(target, kinds):
                wanted = " or ".join(k.__name__ for k in kinds)
                found = (
                    "nothing recorded before" if target is None else f"a {type(target).__name__}"
                )
                errors.append(
                    FieldError(f"$.{field}", f"expected the id of a {wanted}; {ref} is {found}")
                )
        errors += self.event_rules(event, before)
        return errors

    def event_rules(self, event: Event, before: AnyEntity | None) -> list[FieldError]:
        """Rules of single event types that folding does not enforce."""
        match event:
            case CyclePlanned() if event.ends_at <= event.starts_at:
                return [FieldError("$.ends_at", "expected an end after the start")]
            case CheckInRecorded(check_in_id=new) | TaskAdded(task_id=new):
                if new in self.new_ids or self.known_ids(new):
                    field = "check_in_id" if isinstance(event, CheckInRecorded) else "task_id"
                    return [FieldError(f"$.{field}", f"{new} is already used; ids are unique")]
                self.new_ids.add(new)
            case CheckInCorrected() | CheckInRetracted() if isinstance(before, KeyResult):
                # Folding tolerates these (a log is never refused); an import must not.
                try:
                    before.find_check_in(event.check_in_id)
                except OkraError as exc:
                    return [FieldError("$.check_in_id", str(exc))]
            case ActionProposed():
                named = set(event.key_result_ids)
                return [
                    FieldError(
                        f"$.expected_effects[{n}].key_result_id",
                        "expected one of the action's key_result_ids",
                    )
                    for n, effect in enumerate(event.expected_effects)
                    if effect.key_result_id not in named
                ]
        return []

    def loop(self, after: AnyEntity) -> str:
        """Why ``after`` would be aligned above itself, or '' if it is not."""
        if not isinstance(after, Objective):
            return ""
        seen: set[UUID] = set()
        todo = [link.parent_id for link in after.alignments]
        while todo:
            parent = self.lookup(todo.pop())
            if isinstance(parent, KeyResult):
                parent = self.lookup(parent.objective_id)
            if not isinstance(parent, Objective) or parent.id in seen:
                continue
            if parent.id == after.id:
                return f"{after.title!r} would be aligned (directly or not) to itself"
            seen.add(parent.id)
            todo += [link.parent_id for link in parent.alignments]
        return ""

    def fail(self, index: int, errors: Iterable[FieldError], entity_id: UUID | None) -> None:
        self.errors += [
            FieldError(f"events[{index}]{e.path.removeprefix('$')}", e.message) for e in errors
        ]
        self.bad += 1
        if entity_id is not None:
            self.broken.add(entity_id)

    def summarised(self) -> list[FieldError]:
        """The errors, with a log that is already in the store said once."""
        if not self.already or len(self.already) != self.bad:
            return self.errors
        return [
            FieldError(
                f"events[{self.already[0]}]",
                "its events are already in this store (was this log imported already?); "
                "nothing else is wrong",
            )
        ]

    def batches(self, size: int | None) -> Iterator[tuple[list[Event], dict[UUID, AnyEntity]]]:
        """The checked events in batches, each with the states it leaves its entities in."""
        step = size if size is not None else max(len(self.events), 1)
        for start in range(0, len(self.events), step):
            batch = self.events[start : start + step]
            # The last state of each entity in the batch wins.
            touched = dict(
                zip(
                    (e.originator_id for e in batch), self.afters[start : start + step], strict=True
                )
            )
            yield batch, touched


def _version_error(entity_id: UUID, expected: int, event: Event) -> FieldError:
    if event.originator_version < expected:
        problem = f"version {event.originator_version} of {entity_id} is already recorded"
    else:
        problem = (
            f"expected version {expected} of {entity_id}, got {event.originator_version}: "
            "an earlier event of it is missing"
        )
    return FieldError("$.originator_version", problem)


def _text_errors(event: Event) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, required in _text_fields(type(event)):
        value = getattr(event, name)
        if isinstance(value, str):
            errors += check_text(f"$.{name}", value, required=required)
    return errors


_TEXT_FIELDS: dict[type[Event], tuple[tuple[str, bool], ...]] = {}


def _text_fields(cls: type[Event]) -> tuple[tuple[str, bool], ...]:
    """The text fields of ``cls`` an import checks, and whether each is required."""
    fields = _TEXT_FIELDS.get(cls)
    if fields is None:
        fields = _TEXT_FIELDS[cls] = tuple(
            (field.name, field.name in _NAMES)
            for field in attrs.fields(cls)
            if field.name in _NAMES or field.name in _TEXTS
        )
    return fields


class Importer(Collaborator):
    """Records events made elsewhere, once every one of them is checked."""

    def import_events(
        self,
        events: Iterable[Event | Mapping[str, Any]],
        *,
        actor: str,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Record events made elsewhere (an export, a migration, a generator).

        Every record is checked before anything is written: it must decode as a
        stored record does, be the next version of its entity's stream (after
        the store's events and the records before it) with an event of that
        entity's kind, be recorded no later than now and no earlier than the
        event before it, fold into its entity's state, refer only to entities
        of the right kind that exist (in the store or earlier in ``events``)
        without an alignment loop, and reuse no check-in or task id. Lifecycle
        rules of commands are not applied again: the records are facts that
        already happened, and keep their own recorded time and actor.

        By default all the events are written in one transaction: all or none.
        With ``batch_size``, each batch is one transaction; another writer
        recording into the same stream meanwhile is refused by the store as for
        any command, so no event is lost: the batch that meets it is not
        written, the batches before it stay recorded (a note on the error says
        how many events) and the rest is not attempted. Observers
        (``okra_event_recorded``) hear of every event recorded.

        Args:
            events: :class:`Event` objects, or their plain records as
                :meth:`export_records` gives them (``{"type":
                "okra.key_result.checked_in", "originator_id": ...,
                "originator_version": ..., ...}``), as read from JSON.
            actor: who imports; the authorizer is asked about ``import_events``.
            batch_size: events per transaction (at least 1; default: all).
            progress: called with the count of records checked so far.

        Returns:
            The number of events recorded.

        Raises:
            ValidationError: if any record is wrong; each problem's path starts
                with the record's index (``events[3].value``). Nothing is written.
            ConcurrencyError: another writer got to one of the streams first.
            PermissionDeniedError: the actor may not import.
        """
        errors = check_text("actor", actor, max_length=200)
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            errors.append(FieldError("batch_size", "expected a whole number >= 1, or None"))
        raise_if(errors)
        with self._ctx.lock:
            self._ctx.state.refresh()
            self._ctx.authorize(actor, "import_events", None)
            batches = check_import(
                events,
                self._ctx.state.states,
                self._ctx.codec,
                now=self._ctx.now(),
                known_ids=self._ctx.state.id_in_use,
                batch_size=batch_size,
                progress=progress,
            )
            total = sum(len(batch) for batch, _ in batches)
            self._refs.reads = {}
            done = 0
            try:
                for batch, folded in batches:
                    try:
                        self._ctx.save(*batch, folded=folded)
                    except ConcurrencyError as exc:
                        exc.add_note(f"{done} of the {total} events were recorded")
                        raise
                    done += len(batch)
            finally:
                self._refs.reads = None
            return total
