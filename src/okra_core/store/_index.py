"""The key result index: a bitemporal projection of key results, beside the log.

Most of a log is check-ins, and a question about a key result's past asks for
the check-ins *effective* by one instant, as *known* at another. Replaying its
stream answers, at the cost of every event in it. The index keeps one row per
event of every key result, in the store's own database, so that such a
question reads the rows it needs by range:

- a check-in's rows (recorded, then each correction) carry its fields as
  columns, with the span of knowledge in which each was the one in effect:
  ``known_from`` (when it became known) and ``known_to`` (when a correction or
  a retraction replaced it; ``NULL`` while it is in effect);
- a definition event (defined, retargeted, graded...) carries the stored record
  as it is in the log, to be decoded and folded;
- every row carries its version and its stamp, so the version and update stamp
  known at an instant are one look-up.

"Known at ``t``" is the same as everywhere in okra: the longest prefix of the
stream whose events were all recorded by ``t``. ``known_from`` is therefore the
running maximum of ``recorded_at`` along the stream, and an event is known at
``t`` exactly when its ``known_from <= t``. Instants are integers, microseconds
since 1970 (UTC), so ranges compare as numbers in any database.

The index is tracked by log position, as eventsourcing's tracking recorders
track what a follower has processed: it holds exactly the key result rows of
the log up to :meth:`KeyResultIndex.tracked`, and each extension moves that
position in the same transaction as its rows. The log stays the only source of
truth: the index can be dropped at any time and is built again from the log.

Two implementations come with okra: :class:`SQLKeyResultIndex` for any DB-API
database (SQLite and PostgreSQL use it) and :class:`MemoryKeyResultIndex`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol, runtime_checkable

import attrs

__all__ = [
    "CHECK_IN_COLUMNS",
    "CORRECTED",
    "DEFINITION",
    "INDEX_COLUMNS",
    "RECORDED",
    "RETRACTED",
    "Close",
    "IndexAnswer",
    "IndexRow",
    "KeyResultIndex",
    "MemoryKeyResultIndex",
    "SQLDialect",
    "SQLKeyResultIndex",
    "Tracked",
    "from_micros",
    "micros",
]

# What a row records (the ``kind`` column).
DEFINITION: Final = 0
RECORDED: Final = 1
CORRECTED: Final = 2
RETRACTED: Final = 3

INDEX_COLUMNS: Final = (
    "position",  # the event's position in the log
    "key_result",  # the key result's id, 32 hex digits
    "version",  # the event's version in the key result's stream
    "known_from",  # running max of recorded_at along the stream (microseconds)
    "kind",
    "event_at",  # the event's own recorded_at (microseconds)
    "event_actor",  # the event's own actor
    "check_in",  # the check-in's id, 32 hex digits (check-in rows)
    "effective_at",  # check-in rows: when the value was true (microseconds)
    "value",
    "confidence_probability",
    "confidence_scale",
    "confidence_given",
    "narrative",
    "recorded_at",  # when the check-in was first recorded (microseconds)
    "actor",  # who first recorded it
    "source",
    "known_to",  # known_from of the event that replaced this check-in row (NULL: none)
    "topic",  # definition rows: the stored record's topic ...
    "state",  # ... and its bytes, as in the log
)

IndexRow = tuple[Any, ...]
"""One row of the index, in the order of :data:`INDEX_COLUMNS`."""

CHECK_IN_COLUMNS: Final = (
    "check_in",
    "value",
    "confidence_probability",
    "confidence_scale",
    "confidence_given",
    "narrative",
    "effective_at",
    "recorded_at",
    "actor",
    "source",
    "kind",
)
"""The columns of :attr:`IndexAnswer.check_ins` after the key result's id, in this order."""

_AT: Final = {name: i for i, name in enumerate(INDEX_COLUMNS)}
_CHECK_IN_AT: Final = tuple(_AT[name] for name in CHECK_IN_COLUMNS)


@attrs.frozen
class Close:
    """A check-in row replaced: by a correction or a retraction, at ``known_to``."""

    check_in: str
    known_to: int


@attrs.frozen
class Tracked:
    """Where the index is: the log position it holds every row up to, and the event there.

    ``anchor`` is ``"<entity id hex>:<version>"`` of the event at ``position``
    (empty at position 0): an index whose anchor the log no longer holds there
    was made from another log (a backup restored under it) and is rebuilt.
    """

    position: int
    anchor: str


@attrs.frozen
class IndexAnswer:
    """What one :meth:`KeyResultIndex.read` found, all at one position of the index.

    Attributes:
        position: the position the index was at (None: never built).
        definitions: ``(key_result, version, known_from, topic, state)`` of the
            definition events, by key result, then version.
        stamps: per key result, ``(version, event_at, event_actor)`` of its last
            event known by ``defined_by``.
        check_ins: the check-ins in effect as known at ``known_at`` (None: now),
            effective by ``effective_by``: rows of the key result's id, then
            :data:`CHECK_IN_COLUMNS`, by key result, then as a key result orders
            its check-ins (effective time, recorded time, version).
        retracted: ``(key_result, check_in)`` of the retractions known at ``known_at``.
    """

    position: int | None
    definitions: list[tuple[str, int, int, str, bytes]]
    stamps: dict[str, tuple[int, int, str]]
    check_ins: list[tuple[Any, ...]]
    retracted: list[tuple[str, str]]


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def micros(instant: datetime) -> int:
    """``instant`` (aware) as microseconds since 1970, UTC: how the index stores instants."""
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The UTC instant of :func:`micros`."""
    return _EPOCH + timedelta(microseconds=value)


@runtime_checkable
class KeyResultIndex(Protocol):
    """The persisted key result index of one store (see the module's docstring).

    Instants are microseconds (:func:`micros`); ids are 32 lowercase hex digits.
    """

    def tracked(self) -> Tracked | None:
        """Where the index is; None if it was never built."""

    def extend(
        self,
        after: int | None,
        upto: Tracked,
        rows: Sequence[IndexRow],
        closes: Sequence[Close],
    ) -> bool:
        """Add the rows of the log's positions after ``after`` up to ``upto``, atomically.

        ``closes`` end rows added before this extension (their check-ins were
        corrected or retracted). Nothing is written, and the answer is False, if
        the index is no longer at ``after`` (another process extended it).
        """

    def running(self, key_results: Iterable[str]) -> dict[str, tuple[int, int]]:
        """For each key result held, ``(its last version, that row's known_from)``."""

    def open_check_ins(self, check_ins: Iterable[str]) -> dict[str, IndexRow]:
        """The row in effect (not replaced) of each of these check-ins that has one."""

    def read(
        self, key_result: str | None, defined_by: int, effective_by: int, known_at: int | None
    ) -> IndexAnswer:
        """What a key result (None: every one) as of an instant is made of, in one snapshot.

        Everything is read at one position of the index (one read transaction
        that sees one state of the database), so that an extension committed
        meanwhile is seen in all of the answer or in none of it.
        """

    def drop(self) -> None:
        """Forget the whole index (it is built again from the log)."""


# --- in memory -------------------------------------------------------------------------


def _check_in_order(row: Sequence[Any]) -> tuple[int, int, int]:
    return (row[_AT["effective_at"]], row[_AT["recorded_at"]], row[_AT["version"]])


class MemoryKeyResultIndex:
    """The index in this process's memory: for ``memory://`` stores (and as a model)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracked: Tracked | None = None
        self._rows: dict[str, list[list[Any]]] = {}  # key result -> rows in version order
        self._open: dict[str, list[Any]] = {}  # check-in -> its row in effect

    def tracked(self) -> Tracked | None:
        """Where the index is; None if it was never built."""
        return self._tracked

    def extend(
        self,
        after: int | None,
        upto: Tracked,
        rows: Sequence[IndexRow],
        closes: Sequence[Close],
    ) -> bool:
        """Add the rows of the log up to ``upto`` (False: the index is not at ``after``)."""
        with self._lock:
            if (None if self._tracked is None else self._tracked.position) != after:
                return False
            for close in closes:
                found = self._open.pop(close.check_in, None)
                if found is not None:
                    found[_AT["known_to"]] = close.known_to
            for row in rows:
                held = list(row)
                self._rows.setdefault(held[_AT["key_result"]], []).append(held)
                if held[_AT["kind"]] in (RECORDED, CORRECTED) and held[_AT["known_to"]] is None:
                    self._open[held[_AT["check_in"]]] = held
            self._tracked = upto
            return True

    def running(self, key_results: Iterable[str]) -> dict[str, tuple[int, int]]:
        """For each key result held, ``(its last version, that row's known_from)``."""
        found = {}
        for key_result in key_results:
            rows = self._rows.get(key_result)
            if rows:
                found[key_result] = (rows[-1][_AT["version"]], rows[-1][_AT["known_from"]])
        return found

    def open_check_ins(self, check_ins: Iterable[str]) -> dict[str, IndexRow]:
        """The row in effect of each of these check-ins that has one."""
        return {c: tuple(self._open[c]) for c in check_ins if c in self._open}

    def _of(self, key_result: str | None) -> list[tuple[str, list[list[Any]]]]:
        if key_result is None:
            return sorted(self._rows.items())
        rows = self._rows.get(key_result)
        return [(key_result, rows)] if rows else []

    def read(
        self, key_result: str | None, defined_by: int, effective_by: int, known_at: int | None
    ) -> IndexAnswer:
        """What a key result (None: every one) as of an instant is made of, in one snapshot."""
        with self._lock:
            return IndexAnswer(
                position=None if self._tracked is None else self._tracked.position,
                definitions=self._definitions(key_result),
                stamps=self._stamps(key_result, defined_by),
                check_ins=self._check_ins(key_result, effective_by, known_at),
                retracted=self._retracted(key_result, known_at),
            )

    def _definitions(self, key_result: str | None) -> list[tuple[str, int, int, str, bytes]]:
        """``(key_result, version, known_from, topic, state)`` of the definition events."""
        return [
            (kr, r[_AT["version"]], r[_AT["known_from"]], r[_AT["topic"]], r[_AT["state"]])
            for kr, rows in self._of(key_result)
            for r in rows
            if r[_AT["kind"]] == DEFINITION
        ]

    def _stamps(self, key_result: str | None, known_by: int) -> dict[str, tuple[int, int, str]]:
        """Per key result, ``(version, event_at, event_actor)`` of its last event known by then."""
        found = {}
        for kr, rows in self._of(key_result):
            known = [r for r in rows if r[_AT["known_from"]] <= known_by]
            if known:
                last = known[-1]
                found[kr] = (last[_AT["version"]], last[_AT["event_at"]], last[_AT["event_actor"]])
        return found

    def _check_ins(
        self, key_result: str | None, effective_by: int, known_at: int | None
    ) -> list[tuple[Any, ...]]:
        """The check-ins in effect as known at ``known_at``, effective by ``effective_by``."""
        found = []
        for kr, rows in self._of(key_result):
            in_effect = [
                r
                for r in rows
                if r[_AT["kind"]] in (RECORDED, CORRECTED)
                and r[_AT["effective_at"]] <= effective_by
                and (known_at is None or r[_AT["known_from"]] <= known_at)
                and (
                    r[_AT["known_to"]] is None
                    or (known_at is not None and r[_AT["known_to"]] > known_at)
                )
            ]
            in_effect.sort(key=_check_in_order)
            found += [(kr, *(r[i] for i in _CHECK_IN_AT)) for r in in_effect]
        return found

    def _retracted(self, key_result: str | None, known_at: int | None) -> list[tuple[str, str]]:
        """``(key_result, check_in)`` of the check-ins retracted as known at ``known_at``."""
        return [
            (kr, r[_AT["check_in"]])
            for kr, rows in self._of(key_result)
            for r in rows
            if r[_AT["kind"]] == RETRACTED
            and (known_at is None or r[_AT["known_from"]] <= known_at)
        ]

    def drop(self) -> None:
        """Forget the whole index."""
        with self._lock:
            self._tracked = None
            self._rows.clear()
            self._open.clear()


# --- in an SQL database ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SQLDialect:
    """What :class:`SQLKeyResultIndex` needs to know of one database and its driver.

    Attributes:
        transaction: ``transaction(write)`` opens a transaction and yields a
            DB-API cursor whose rows are sequences, committed at the end if
            ``write`` (rolled back on an error).
        table: ``table(name)``: the name to use in SQL for a table of okra's
            (quoted, and qualified by a schema if the store has one).
        placeholder: the driver's parameter marker (``?``, ``%s``).
        integer, real, text, blob: the column types for 64-bit integers, floats,
            text and bytes.
        snapshot: run first in a read transaction, so that all its statements
            see one state of the database (PostgreSQL: ``SET TRANSACTION
            ISOLATION LEVEL REPEATABLE READ``; SQLite's transactions are so).

    The SQL is plain: ``CREATE ... IF NOT EXISTS``, ``INSERT ... ON CONFLICT DO
    NOTHING``, ``ORDER BY ... LIMIT``. Each extension starts by updating the
    tracking row, which takes the database's write lock (SQLite) or the row's
    lock (PostgreSQL) before anything is read.
    """

    transaction: Callable[[bool], contextlib.AbstractContextManager[Any]]
    table: Callable[[str], str]
    placeholder: str = "?"
    integer: str = "INTEGER"
    real: str = "REAL"
    text: str = "TEXT"
    blob: str = "BLOB"
    snapshot: str = ""


_ROWS_TABLE: Final = "okra_key_result_index"
_TRACKING_TABLE: Final = "okra_key_result_index_tracking"


class SQLKeyResultIndex:
    """The index in two tables of the store's own SQL database.

    ``okra_key_result_index`` holds the rows (primary key: key result and
    version), with an index by key result and ``known_from`` (for stamps), by key
    result and effective time (for check-ins), and by check-in (for the rows a
    correction replaces); ``okra_key_result_index_tracking`` holds the position.
    """

    def __init__(self, dialect: SQLDialect, *, create: bool = True) -> None:
        self._d = dialect
        self._rows = dialect.table(_ROWS_TABLE)
        self._tracking = dialect.table(_TRACKING_TABLE)
        if create and not self.exists():
            self.create()

    def _sql(self, text: str) -> str:
        return text.replace("?", self._d.placeholder).format(
            rows=self._rows, tracking=self._tracking
        )

    def exists(self) -> bool:
        """Whether the tables are there: then no DDL is needed (it would take table locks)."""
        return self._has(
            "SELECT position, anchor FROM {tracking} WHERE id = 1", row=True
        ) and self._has("SELECT key_result FROM {rows} WHERE version = 0")

    def _has(self, query: str, *, row: bool = False) -> bool:
        try:
            with self._d.transaction(False) as c:
                c.execute(self._sql(query))
                return c.fetchone() is not None or not row
        except Exception:  # any driver's "no such table" (or column)
            return False

    def create(self) -> None:
        """Create the tables and indexes where they are missing.

        If the rows' table was missing, the index starts again from nothing.
        """
        rows_missing = not self._has("SELECT key_result FROM {rows} WHERE version = 0")
        d = self._d
        types = {
            "position": d.integer,
            "key_result": d.text,
            "version": d.integer,
            "known_from": d.integer,
            "kind": d.integer,
            "event_at": d.integer,
            "event_actor": d.text,
            "check_in": d.text,
            "effective_at": d.integer,
            "value": d.real,
            "confidence_probability": d.real,
            "confidence_scale": d.text,
            "confidence_given": d.text,
            "narrative": d.text,
            "recorded_at": d.integer,
            "actor": d.text,
            "source": d.text,
            "known_to": d.integer,
            "topic": d.text,
            "state": d.blob,
        }
        required = {"position", "key_result", "version", "known_from", "kind", "event_at"}
        columns = ", ".join(
            f"{name} {types[name]}{' NOT NULL' if name in required else ''}"
            for name in INDEX_COLUMNS
        )
        plain = _ROWS_TABLE  # index names are not qualified: they live in the table's schema
        with d.transaction(True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self._rows} ({columns}, "
                "PRIMARY KEY (key_result, version))"
            )
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {plain}_known "
                f"ON {self._rows} (key_result, known_from, version)"
            )
            c.execute(
                f"CREATE INDEX IF NOT EXISTS {plain}_effective "
                f"ON {self._rows} (key_result, effective_at, recorded_at, version)"
            )
            c.execute(f"CREATE INDEX IF NOT EXISTS {plain}_check_in ON {self._rows} (check_in)")
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self._tracking} "
                f"(id {d.integer} PRIMARY KEY, position {d.integer} NOT NULL, "
                f"anchor {d.text} NOT NULL)"
            )
            # One row, always there (-1: never built), so that an extension can lock it.
            c.execute(
                self._sql(
                    f"INSERT INTO {{tracking}} (id, position, anchor) VALUES (1, {_NEVER}, '') "
                    "ON CONFLICT DO NOTHING"
                )
            )
            if rows_missing:
                c.execute(
                    self._sql(
                        f"UPDATE {{tracking}} SET position = {_NEVER}, anchor = '' WHERE id = 1"
                    )
                )

    def tracked(self) -> Tracked | None:
        """Where the index is; None if it was never built."""
        with self._d.transaction(False) as c:
            c.execute(self._sql("SELECT position, anchor FROM {tracking} WHERE id = 1"))
            row = c.fetchone()
        position = _position(row)
        return None if position is None else Tracked(position, str(row[1]))

    def extend(
        self,
        after: int | None,
        upto: Tracked,
        rows: Sequence[IndexRow],
        closes: Sequence[Close],
    ) -> bool:
        """Add the rows of the log up to ``upto`` (False: the index is not at ``after``)."""
        with self._d.transaction(True) as c:
            # A write first: the lock is held before the position is read.
            c.execute(self._sql("UPDATE {tracking} SET position = position WHERE id = 1"))
            c.execute(self._sql("SELECT position FROM {tracking} WHERE id = 1"))
            if _position(c.fetchone()) != after:
                return False
            if closes:
                c.executemany(
                    self._sql(
                        "UPDATE {rows} SET known_to = ? WHERE check_in = ? AND known_to IS NULL "
                        f"AND kind IN ({RECORDED}, {CORRECTED})"
                    ),
                    [(close.known_to, close.check_in) for close in closes],
                )
            if rows:
                marks = ", ".join("?" * len(INDEX_COLUMNS))
                c.executemany(
                    self._sql(
                        f"INSERT INTO {{rows}} ({', '.join(INDEX_COLUMNS)}) VALUES ({marks})"
                    ),
                    rows,
                )
            c.execute(
                self._sql("UPDATE {tracking} SET position = ?, anchor = ? WHERE id = 1"),
                (upto.position, upto.anchor),
            )
        return True

    def running(self, key_results: Iterable[str]) -> dict[str, tuple[int, int]]:
        """For each key result held, ``(its last version, that row's known_from)``."""
        found: dict[str, tuple[int, int]] = {}
        wanted = list(key_results)
        with self._d.transaction(False) as c:
            for chunk in _chunks(wanted):
                marks = ", ".join("?" * len(chunk))
                c.execute(
                    self._sql(
                        "SELECT key_result, version, known_from FROM {rows} AS r "
                        f"WHERE key_result IN ({marks}) AND version = "
                        "(SELECT MAX(version) FROM {rows} WHERE key_result = r.key_result)"
                    ),
                    chunk,
                )
                found.update((r[0], (int(r[1]), int(r[2]))) for r in c.fetchall())
        return found

    def open_check_ins(self, check_ins: Iterable[str]) -> dict[str, IndexRow]:
        """The row in effect of each of these check-ins that has one."""
        found: dict[str, IndexRow] = {}
        wanted = list(check_ins)
        with self._d.transaction(False) as c:
            for chunk in _chunks(wanted):
                marks = ", ".join("?" * len(chunk))
                c.execute(
                    self._sql(
                        f"SELECT {', '.join(INDEX_COLUMNS)} FROM {{rows}} "
                        f"WHERE check_in IN ({marks}) AND known_to IS NULL "
                        f"AND kind IN ({RECORDED}, {CORRECTED})"
                    ),
                    chunk,
                )
                found.update((r[_AT["check_in"]], _stored(r)) for r in c.fetchall())
        return found

    def read(
        self, key_result: str | None, defined_by: int, effective_by: int, known_at: int | None
    ) -> IndexAnswer:
        """What a key result (None: every one) as of an instant is made of, in one snapshot."""
        with self._d.transaction(False) as c:
            if self._d.snapshot:
                c.execute(self._d.snapshot)
            c.execute(self._sql("SELECT position FROM {tracking} WHERE id = 1"))
            position = _position(c.fetchone())
            return IndexAnswer(
                position=position,
                definitions=self._definitions(c, key_result),
                stamps=self._stamps(c, key_result, defined_by),
                check_ins=self._check_ins(c, key_result, effective_by, known_at),
                retracted=self._retracted(c, key_result, known_at),
            )

    def _definitions(
        self, c: Any, key_result: str | None
    ) -> list[tuple[str, int, int, str, bytes]]:
        """``(key_result, version, known_from, topic, state)`` of the definition events."""
        which, args = _which(key_result)
        c.execute(
            self._sql(
                "SELECT key_result, version, known_from, topic, state FROM {rows} "
                f"WHERE kind = {DEFINITION}{which} ORDER BY key_result, version"
            ),
            args,
        )
        return [(r[0], int(r[1]), int(r[2]), str(r[3]), bytes(r[4])) for r in c.fetchall()]

    def _stamps(
        self, c: Any, key_result: str | None, known_by: int
    ) -> dict[str, tuple[int, int, str]]:
        """Per key result, ``(version, event_at, event_actor)`` of its last event known by then."""
        if key_result is not None:
            c.execute(
                self._sql(
                    "SELECT key_result, version, event_at, event_actor FROM {rows} "
                    "WHERE key_result = ? AND known_from <= ? "
                    "ORDER BY known_from DESC, version DESC LIMIT 1"
                ),
                (key_result, known_by),
            )
        else:
            c.execute(
                self._sql(
                    "SELECT r.key_result, r.version, r.event_at, r.event_actor "
                    "FROM {rows} AS r JOIN (SELECT key_result, MAX(version) AS last "
                    "FROM {rows} WHERE known_from <= ? GROUP BY key_result) AS m "
                    "ON r.key_result = m.key_result AND r.version = m.last"
                ),
                (known_by,),
            )
        return {r[0]: (int(r[1]), int(r[2]), str(r[3])) for r in c.fetchall()}

    def _check_ins(
        self, c: Any, key_result: str | None, effective_by: int, known_at: int | None
    ) -> list[tuple[Any, ...]]:
        """The check-ins in effect as known at ``known_at``, effective by ``effective_by``."""
        which, args = _which(key_result)
        if known_at is None:
            known = " AND known_to IS NULL"
        else:
            known = " AND known_from <= ? AND (known_to IS NULL OR known_to > ?)"
            args += (known_at, known_at)
        c.execute(
            self._sql(
                f"SELECT key_result, {', '.join(CHECK_IN_COLUMNS)} FROM {{rows}} "
                f"WHERE effective_at <= ? AND kind IN ({RECORDED}, {CORRECTED}){which}{known} "
                "ORDER BY key_result, effective_at, recorded_at, version"
            ),
            (effective_by, *args),
        )
        return c.fetchall()  # type: ignore[no-any-return]

    def _retracted(
        self, c: Any, key_result: str | None, known_at: int | None
    ) -> list[tuple[str, str]]:
        """``(key_result, check_in)`` of the check-ins retracted as known at ``known_at``."""
        which, args = _which(key_result)
        if known_at is not None:
            which += " AND known_from <= ?"
            args += (known_at,)
        c.execute(
            self._sql(f"SELECT key_result, check_in FROM {{rows}} WHERE kind = {RETRACTED}{which}"),
            args,
        )
        return [(str(r[0]), str(r[1])) for r in c.fetchall()]

    def drop(self) -> None:
        """Forget the whole index."""
        with self._d.transaction(True) as c:
            c.execute(
                self._sql(f"UPDATE {{tracking}} SET position = {_NEVER}, anchor = '' WHERE id = 1")
            )
            c.execute(self._sql("DELETE FROM {rows}"))


_NEVER: Final = -1


def _position(row: Sequence[Any] | None) -> int | None:
    if row is None or int(row[0]) == _NEVER:
        return None
    return int(row[0])


def _which(key_result: str | None) -> tuple[str, tuple[Any, ...]]:
    """The condition that picks one key result's rows (none: all of them)."""
    if key_result is None:
        return "", ()
    return " AND key_result = ?", (key_result,)


def _stored(row: Sequence[Any]) -> IndexRow:
    """A row as read back, with bytes as bytes (drivers hand out memoryview and the like)."""
    state = row[_AT["state"]]
    if state is None or type(state) is bytes:
        return tuple(row)
    return (*row[: _AT["state"]], bytes(state))


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
