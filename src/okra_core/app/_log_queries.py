"""The query side of the log: the events themselves, an entity's timeline, the audit, diffs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ..domain._checks import check_text, raise_if
from ..domain._clock import as_utc
from ..domain._errors import (
    FieldError,
    NotFoundError,
    ValidationError,
)
from ..domain._events import (
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    Event,
)
from ..read._audit import Diff, LogEntry, diff_states, log_entry
from ._context import Collaborator
from ._ingest import to_record
from ._inputs import When, collect, instant
from ._refs import Ref, kind_name

__all__ = ["LogQueries"]


class LogQueries(Collaborator):
    """Reads the recorded events: whole, per entity, filtered, or as a diff."""

    def history(self, ref: Ref | None = None) -> Iterator[Event]:
        """The recorded events, oldest first: of one entity, or of the whole store.

        Read from the store itself, so this is the authoritative log.
        """
        if ref is None:
            yield from (event for _, event in self._ctx.log.replay(0, checked=True))
            return
        with self._ctx.lock:
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref)
        yield from self._ctx.log.stream(entity_id)

    def export_records(self) -> Iterator[dict[str, Any]]:
        """The whole log as plain records, oldest first, for :meth:`import_events`.

        Each record is one event: ``type`` (the wire name), ``originator_id``,
        ``originator_version`` and the event's fields, all JSON types.
        """
        for event in self.history():
            yield to_record(self._ctx.codec, event)

    def events_after(
        self, position: int = 0, *, upto: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """The log after ``position`` (up to ``upto``), oldest first, each event with its position.

        For followers that keep their own place in the log, such as notifiers:
        read from the store itself, so events of other processes are included.
        """
        for path, value in (("position", position), ("upto", upto)):
            if value is None and path == "upto":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError.single(
                    path, f"expected a log position (a whole number >= 0), got {value!r}"
                )
        for notification in self._ctx.log.notifications(position, upto=upto):
            yield notification.id, self._ctx.log.decode(notification)

    def timeline(self, ref: Ref) -> list[LogEntry]:
        """An entity's events, oldest first, each saying who did what, when and why."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref)
            label = self._ctx.state.label(entity_id)
            return [log_entry(event, label) for event in self._ctx.state.history_of(entity_id)]

    def audit(
        self,
        *,
        actor: str | None = None,
        ref: Ref | None = None,
        since: When = None,
        until: When = None,
    ) -> list[LogEntry]:
        """The whole log in the order it was recorded, with positions, optionally filtered.

        Args:
            actor: only what this actor did.
            ref: only the events of this entity.
            since: only events recorded at or after this instant (a date: from its start).
            until: only events recorded up to this instant (a date: to its end).
        """
        errors: list[FieldError] = []
        if actor is not None:
            errors += check_text("actor", actor)
        start = collect(errors, lambda: as_utc("since", since)) if since is not None else None
        end = collect(errors, lambda: instant("until", until, None)) if until is not None else None
        raise_if(errors)
        with self._ctx.lock:
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref) if ref is not None else None
            last = self._ctx.state.position
        entries = []
        log = self._ctx.log
        for notification in log.checked(log.notifications(0, upto=last)):
            if entity_id is not None and notification.originator_id != entity_id:
                continue
            event = self._ctx.log.decode(notification)
            if (
                (actor is None or event.actor == actor.strip())
                and (start is None or event.recorded_at >= start)
                and (end is None or event.recorded_at <= end)
            ):
                label = self._ctx.state.label(event.originator_id)
                entries.append(log_entry(event, label, notification.id))
        return entries

    def diff(
        self, ref: Ref, *, start: datetime | date, end: When = None, known: bool = False
    ) -> Diff:
        """How an entity changed from ``start`` to ``end`` (default now).

        States are compared *as of* each instant, with the events that took effect
        in between (a check-in at its effective time); or, with ``known=True``, *as
        known at* each instant, with the events recorded in between.
        """
        with self._ctx.lock:
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref)
            now = self._ctx.now()
            errors: list[FieldError] = []
            begin = collect(errors, lambda: instant("start", start, now))
            finish = collect(errors, lambda: instant("end", end, now)) if end is not None else now
            if begin is not None and finish is not None and finish < begin:
                errors.append(FieldError("end", "expected an instant after the start"))
            raise_if(errors)
            history = self._ctx.state.history_of(entity_id)
            before = self._ctx.state.past(entity_id, begin, begin if known else None)
            after = self._ctx.state.past(entity_id, finish, finish if known else None)
            if after is None:
                current = self._ctx.state.current(entity_id)
                raise NotFoundError(
                    kind_name(type(current)),
                    current.label,
                    f"it did not exist yet at {finish.isoformat()}",
                )
            label = self._ctx.state.label(entity_id)
            when = _recorded_at if known else _effective_at(history.events)
            between = (log_entry(e, label) for e in history if begin < when(e) <= finish)
            return diff_states(before, after, start=begin, end=finish, events=between)


# --- helpers ---------------------------------------------------------------------------


def _recorded_at(event: Event) -> datetime:
    return event.recorded_at


def _effective_at(events: Iterable[Event]) -> Callable[[Event], datetime]:
    """When each event took effect.

    A check-in (or its correction or retraction) at the check-in's effective
    time, everything else when it was recorded.
    """
    effective: dict[UUID, datetime] = {}
    for event in events:
        if isinstance(event, CheckInRecorded | CheckInCorrected):
            effective[event.check_in_id] = event.effective_at

    def when(event: Event) -> datetime:
        if isinstance(event, CheckInRecorded | CheckInCorrected | CheckInRetracted):
            return effective.get(event.check_in_id, event.recorded_at)
        return event.recorded_at

    return when
