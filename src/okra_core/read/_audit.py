"""Who did what, when and why: the log as readable entries, and diffs between instants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs

from ..codec._data import to_data
from ..domain._events import Event
from ..domain._fold import AnyEntity

__all__ = ["Diff", "FieldChange", "LogEntry", "describe", "diff_states", "log_entry"]

_BASE_FIELDS: Final = frozenset({"originator_id", "originator_version", "recorded_at", "actor"})
# The field of an event that says why it happened, in order of preference.
_WHY_FIELDS: Final = ("reason", "rationale", "narrative", "learning", "hypothesis")
# Fields too bulky or too internal for a one-line summary.
_QUIET_FIELDS: Final = frozenset(
    {"check_in_id", "task_id", "cycle_id", "objective_id", "key_result_ids", "expected_effects"}
)


@attrs.frozen(kw_only=True)
class LogEntry:
    """One recorded event, readable: who did what to which entity, when and why.

    Attributes:
        position: the event's position in the store's log (None when read from an
            entity's own history, which does not carry it).
        recorded_at: when it was recorded.
        actor: who issued the command.
        type: the event's wire name, e.g. ``okra.key_result.checked_in``.
        entity_id, entity_kind, entity_label: the entity it belongs to.
        version: the entity's version after it.
        summary: what happened, in a line.
        why: the reason, rationale, narrative or learning given with it ("" if none).
        event: the event itself.
    """

    position: int | None
    recorded_at: datetime
    actor: str
    type: str
    entity_id: UUID
    entity_kind: str
    entity_label: str
    version: int
    summary: str
    why: str
    event: Event


@attrs.frozen(kw_only=True)
class FieldChange:
    """One field that differs between two states, as plain data (see :func:`to_data`)."""

    field: str
    before: Any
    after: Any


@attrs.frozen(kw_only=True)
class Diff:
    """How an entity changed between two instants.

    Attributes:
        entity_id, entity_kind, entity_label: the entity.
        start, end: the two instants compared.
        existed_at_start: False if it did not exist yet at ``start``.
        changes: the fields that differ, in field order (version and update
            stamps included).
        events: the events recorded after ``start`` up to ``end``, which made the
            difference.
    """

    entity_id: UUID
    entity_kind: str
    entity_label: str
    start: datetime
    end: datetime
    existed_at_start: bool
    changes: tuple[FieldChange, ...]
    events: tuple[LogEntry, ...]


def describe(event: Event) -> str:
    """A one-line summary of an event, e.g. ``checked in: value 42, confidence 0.7``."""
    fact = event.wire_name.rsplit(".", 1)[-1].replace("_", " ")
    details = []
    for field in attrs.fields(type(event)):
        name = field.name
        if name in _BASE_FIELDS or name in _QUIET_FIELDS or name in _WHY_FIELDS:
            continue
        value = getattr(event, name)
        if value is None or value == "" or value == ():
            continue
        details.append(f"{name.replace('_', ' ')} {_short(value)}")
    return f"{fact}: {', '.join(details)}" if details else fact


def _short(value: object) -> str:
    data = to_data(value)
    if isinstance(data, dict):
        if "probability" in data:  # a confidence: as it was given
            return f"{data['given']} on {data['scale']}"
        inner = ", ".join(f"{k} {_short_plain(v)}" for k, v in data.items() if v is not None)
        return f"({inner})"
    return _short_plain(data)


def _short_plain(data: object) -> str:
    if isinstance(data, float):
        return f"{data:g}"
    if isinstance(data, list):
        return "[" + ", ".join(_short_plain(item) for item in data) + "]"
    return str(data)


def _why(event: Event) -> str:
    for name in _WHY_FIELDS:
        value = getattr(event, name, "")
        if isinstance(value, str) and value:
            return value
    return ""


def log_entry(event: Event, label: str, position: int | None = None) -> LogEntry:
    """The readable entry for ``event``; ``label`` names its entity."""
    return LogEntry(
        position=position,
        recorded_at=event.recorded_at,
        actor=event.actor,
        type=event.wire_name,
        entity_id=event.originator_id,
        entity_kind=str(event.entity_kind()),
        entity_label=label,
        version=event.originator_version,
        summary=describe(event),
        why=_why(event),
        event=event,
    )


def diff_states(
    before: AnyEntity | None,
    after: AnyEntity,
    *,
    start: datetime,
    end: datetime,
    events: Iterable[LogEntry],
) -> Diff:
    """The fields that differ between two states of one entity (``before`` None: not yet)."""
    old: Mapping[str, Any] = to_data(before) if before is not None else {}
    new: Mapping[str, Any] = to_data(after)
    changes = tuple(
        FieldChange(field=name, before=old.get(name), after=value)
        for name, value in new.items()
        if name != "kind" and old.get(name) != value
    )
    return Diff(
        entity_id=after.id,
        entity_kind=str(after.entity_kind),
        entity_label=after.label,
        start=start,
        end=end,
        existed_at_start=before is not None,
        changes=changes,
        events=tuple(events),
    )
