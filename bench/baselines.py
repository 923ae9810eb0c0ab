"""The baselines: bare eventsourcing and raw sqlite3, doing what okra does without okra.

For eventsourcing, every okra event type gets an equivalent frozen dataclass
``DomainEvent`` with the same fields (ids and instants typed, nested values as
plain dicts), stored by eventsourcing's default mapper and JSON transcoder. For
sqlite3, the same rows go into a table like eventsourcing's, as JSON text.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import Application
from eventsourcing.domain import DomainEvent

from okra_core import CORE_EVENTS, Event, to_data

_module = sys.modules[__name__]
_ES_CLASSES: dict[type[Event], type[DomainEvent]] = {}
_SKIP = {"originator_id", "originator_version", "recorded_at"}


def _typed(annotation: Any) -> bool:
    return annotation in (UUID, datetime)


def _es_class(cls: type[Event]) -> type[DomainEvent]:
    """The dataclass DomainEvent equivalent to okra event class ``cls`` (made once)."""
    found = _ES_CLASSES.get(cls)
    if found is None:
        fields = [(f.name, Any) for f in attrs.fields(cls) if f.name not in _SKIP]
        name = "Es" + cls.__name__
        found = dataclasses.make_dataclass(
            name, fields, bases=(DomainEvent,), frozen=True, namespace={"__module__": __name__}
        )
        setattr(_module, name, found)  # eventsourcing finds classes by module:name
        _ES_CLASSES[cls] = found
    return found


for _cls in CORE_EVENTS:
    _es_class(_cls)


def to_es(event: Event) -> DomainEvent:
    """``event`` as the equivalent eventsourcing DomainEvent."""
    cls = type(event)
    data = to_data(event)
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in _SKIP:
            continue
        value = getattr(event, field.name)
        fields[field.name] = value if _typed(type(value)) else data[field.name]
    return _es_class(cls)(
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        timestamp=event.recorded_at,
        **fields,
    )


def es_app(path: str | None) -> Application[UUID]:
    """A bare eventsourcing application on an SQLite file (or in memory for None)."""
    env = (
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": path}
        if path
        else {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    )
    return Application(env=env)


def es_read_all(app: Application[UUID], batch: int = 1000) -> int:
    """Read the whole log in order and decode every event: eventsourcing's replay floor."""
    recorder, mapper = app.recorder, app.mapper
    count, start = 0, 1
    while True:
        notifications = recorder.select_notifications(start=start, limit=batch)  # type: ignore[attr-defined]
        for notification in notifications:
            mapper.to_domain_event(notification)
            count += 1
        if len(notifications) < batch:
            return count
        start = notifications[-1].id + 1


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, originator_id TEXT NOT NULL, "
    "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL, "
    "UNIQUE (originator_id, originator_version))"
)


def raw_connect(path: str) -> sqlite3.Connection:
    """A raw sqlite3 connection with the settings eventsourcing uses (WAL, explicit BEGIN)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(_SCHEMA)
    return db


def raw_rows(events: Iterable[Event]) -> list[tuple[str, int, str, dict[str, Any]]]:
    """The rows a raw insert writes, before JSON encoding (prepared outside the timing)."""
    return [(e.originator_id.hex, e.originator_version, e.wire_name, to_data(e)) for e in events]


def raw_insert(db: sqlite3.Connection, rows: list[tuple[str, int, str, dict[str, Any]]]) -> None:
    """Insert ``rows`` (JSON-encoding each state) in one transaction."""
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
        [(i, v, t, json.dumps(s).encode()) for i, v, t, s in rows],
    )
    db.execute("COMMIT")


def raw_read_all(db: sqlite3.Connection) -> int:
    """Select every row in order and parse its JSON."""
    count = 0
    for (state,) in db.execute("SELECT state FROM events ORDER BY id"):
        json.loads(state)
        count += 1
    return count


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
