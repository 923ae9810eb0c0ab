"""okra's PostgreSQL recorder and read-model store (imported only when used).

Importing this module imports psycopg; :mod:`okra_adapters.storage.postgresql`
names it by import path so that okra works without the ``postgresql`` extra.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from okra_core import (
    TREE_SIGNER,
    Checkpoint,
    LogMovedError,
    ReadConflictError,
    Signer,
    SQLDialect,
    SQLKeyResultIndex,
    ValidationError,
    genesis_checkpoint,
    grow_tree,
    subtree_keys,
)

__all__ = ["GuardedPostgresRecorder", "PostgresReadModelStore", "postgres_key_result_index"]


def _why_unreachable(datastore: PostgresDatastore) -> str:
    """What a direct connection attempt says, for a clearer error than the pool's."""
    settings = datastore.pool.kwargs
    if not isinstance(settings, dict):
        return "the server could not be reached"
    settings = {k: v for k, v in settings.items() if k != "row_factory"}
    try:
        psycopg.connect(**settings, connect_timeout=5).close()
    except psycopg.Error as exc:
        return " ".join(str(exc).split())
    return "the server answers now; try again"


_DDL_LOCK_KEY = int.from_bytes(b"okra-ddl", "big") >> 1
"""A PostgreSQL advisory lock key (any bigint) that okra's DDL is serialised on."""


@contextlib.contextmanager
def ddl_lock(datastore: PostgresDatastore) -> Iterator[None]:
    """Hold okra's advisory lock on the server while creating tables.

    The lock is held on a connection of its own for the duration; the DDL runs
    on others from the pool.
    """
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_DDL_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_DDL_LOCK_KEY,))


def entity_lock_key(entity_id: UUID) -> int:
    """The advisory lock key (a signed bigint) of an entity: the first 8 bytes of its id."""
    return int.from_bytes(entity_id.bytes[:8], "big", signed=True)


class GuardedPostgresRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, plus a check of what the command read.

    eventsourcing serialises writers with an ``EXCLUSIVE`` lock on the events
    table (reads go on). A command's events carry the versions of the entities
    it only consulted (``read_versions``); before inserting, in the same
    transaction, this recorder takes that lock itself and then compares each
    with the log. If one moved on, :class:`okra_core.ReadConflictError` rolls the
    transaction back: a check-in cannot slip in while another process closes its
    objective. The schema named in the URL is created if it is missing.

    It also has per-entity locks (:meth:`hold`, okra's ``EntityLocks``): a
    PostgreSQL advisory lock per entity, which every write takes (in id order,
    before the table lock) for the entities it writes, unless this thread holds
    them already. A command retried after a conflict holds its entity's lock from
    before its read to after its write, so writers to a busy key result queue on
    the lock instead of colliding again and again.
    """

    _held: threading.local

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        # The first use of the connection pool: if it fails, say why the server
        # could not be reached (the pool only says how long it waited).
        self._held = threading.local()
        try:
            super().__init__(datastore, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            raise OperationalError(f"{exc}: {_why_unreachable(datastore)}") from exc

    def _held_ids(self) -> set[UUID]:
        held: set[UUID] | None = getattr(self._held, "ids", None)
        if held is None:
            held = self._held.ids = set()
        return held

    @contextlib.contextmanager
    def hold(self, entity_ids: Sequence[UUID]) -> Iterator[None]:
        """Hold the advisory locks of ``entity_ids`` (session locks, on a connection of their own).

        Other processes' writes to these entities wait until the block ends; this
        thread's writes do not. Waits at most the store's lock timeout.
        """
        wanted = sorted(set(entity_ids) - self._held_ids())
        if not wanted:
            yield
            return
        with self.datastore.get_connection() as conn:
            conn.execute(
                SQL("SET lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
                prepare=False,
            )
            taken: list[int] = []
            try:
                for entity_id in wanted:
                    key = entity_lock_key(entity_id)
                    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
                    taken.append(key)
                self._held_ids().update(wanted)
                yield
            finally:
                self._held_ids().difference_update(wanted)
                for key in reversed(taken):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                conn.execute("RESET lock_timeout", prepare=False)

    def create_table(self) -> None:
        """Create the schema (if named and missing), then eventsourcing's tables.

        Processes opening one store at once would run the same DDL at once, which
        PostgreSQL refuses ("tuple concurrently updated"); they take turns.
        """
        try:
            with ddl_lock(self.datastore):
                self._create_schema_and_tables()
        except (OperationalError, InterfaceError) as exc:
            raise OperationalError(f"{exc}: {_why_unreachable(self.datastore)}") from exc

    def _create_schema_and_tables(self) -> None:
        if self.datastore.schema != "public":
            statement = SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(
                Identifier(self.datastore.schema)
            )
            # Two processes creating it at once: the loser finds it made.
            with (
                contextlib.suppress(IntegrityError),
                self.datastore.transaction(commit=True) as curs,
            ):
                curs.execute(statement, prepare=False)
        super().create_table()
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (level integer NOT NULL, idx bigint NOT NULL, "
                    "hash bytea NOT NULL, position bigint, PRIMARY KEY (level, idx))"
                ).format(self._tree_table(_NODES)),
                prepare=False,
            )
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (size bigint PRIMARY KEY, root bytea NOT NULL, "
                    "at text NOT NULL, signature bytea, key_id text)"
                ).format(self._tree_table(_HEADS)),
                prepare=False,
            )
            # A new store's tree starts empty; one made before trees waits to be sealed.
            curs.execute(
                SQL("SELECT EXISTS (SELECT 1 FROM {0}.{1}) AS used").format(
                    Identifier(self.datastore.schema), Identifier(self.events_table_name)
                ),
                prepare=False,
            )
            row = curs.fetchone()
            if row is not None and not row["used"]:
                self._add_head(curs, genesis_checkpoint(), ignore=True)

    def _tree_table(self, name: str) -> Any:
        return SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(name))

    def _fetch_ids_after_insert_events(
        self, curs: psycopg.Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        head = self._head(curs)
        if head is not None and ids is not None:
            nodes, new_head = grow_tree(
                head,
                self._nodes(curs, subtree_keys(head.size)),
                zip(ids, stored_events, strict=True),
                kwargs.get(TREE_SIGNER),
            )
            curs.executemany(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s)").format(self._tree_table(_NODES)),
                nodes,
            )
            self._add_head(curs, new_head)
        return ids

    # --- the hash tree (okra_core.LogTreeRecorder) -----------------------------------

    def tree_head(self) -> Checkpoint | None:
        """The latest tree head; None if this store keeps no tree (yet)."""
        with self.datastore.transaction(commit=False) as curs:
            return self._head(curs)

    def tree_heads(self, after_size: int = 0) -> list[Checkpoint]:
        """The recorded heads with a size above ``after_size``, oldest first."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT * FROM {0} WHERE size > %s ORDER BY size").format(
                    self._tree_table(_HEADS)
                ),
                (after_size,),
            )
            return [_checkpoint(row) for row in curs.fetchall()]

    def tree_leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Leaves ``start`` onwards (at most ``limit``), as ``(index, position, hash)``."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT idx, position, hash FROM {0} WHERE level = 0 AND idx >= %s "
                    "ORDER BY idx LIMIT %s"
                ).format(self._tree_table(_NODES)),
                (start, limit),
            )
            return [(int(r["idx"]), int(r["position"]), bytes(r["hash"])) for r in curs.fetchall()]

    def tree_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at ``(level, index)`` among ``keys``."""
        with self.datastore.transaction(commit=False) as curs:
            return self._nodes(curs, keys)

    def seal_tree(self, signer: Signer | None) -> Checkpoint:
        """Start the tree over the log as it is now, in one transaction; its head."""
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            if self._head(curs) is not None:
                raise ValidationError.single("seal", "this store's log is sealed already")
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {0}.{1} ORDER BY notification_id"
                ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
            )
            records = [
                (
                    int(r["notification_id"]),
                    StoredEvent(
                        r["originator_id"],
                        int(r["originator_version"]),
                        r["topic"],
                        bytes(r["state"]),
                    ),
                )
                for r in curs.fetchall()
            ]
            nodes, head = grow_tree(genesis_checkpoint(), {}, records, signer)
            curs.executemany(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s)").format(self._tree_table(_NODES)),
                nodes,
            )
            self._add_head(curs, head)
            return head

    def tree_records(self, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """The stored records after position ``after`` (at most ``limit``), as stored."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {0}.{1} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
                ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)),
                (after, limit),
            )
            return [
                (
                    int(r["notification_id"]),
                    StoredEvent(
                        r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"])
                    ),
                )
                for r in curs.fetchall()
            ]

    def count_records(self, upto: int) -> int:
        """How many records the log holds at positions up to ``upto``."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT COUNT(*) AS n FROM {0}.{1} WHERE notification_id <= %s").format(
                    Identifier(self.datastore.schema), Identifier(self.events_table_name)
                ),
                (upto,),
            )
            row = curs.fetchone()
            return 0 if row is None else int(row["n"])

    def _head(self, curs: psycopg.Cursor[DictRow]) -> Checkpoint | None:
        curs.execute(
            SQL("SELECT * FROM {0} ORDER BY size DESC LIMIT 1").format(self._tree_table(_HEADS))
        )
        row = curs.fetchone()
        return None if row is None else _checkpoint(row)

    def _nodes(
        self, curs: psycopg.Cursor[DictRow], keys: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], bytes]:
        # One query for the whole right edge (at most 64 nodes): it runs on every write.
        if not keys:
            return {}
        pairs = SQL(", ").join(SQL("(%s, %s)") for _ in keys)
        curs.execute(
            SQL("SELECT level, idx, hash FROM {0} WHERE (level, idx) IN ({1})").format(
                self._tree_table(_NODES), pairs
            ),
            [n for key in keys for n in key],
        )
        return {(int(r["level"]), int(r["idx"])): bytes(r["hash"]) for r in curs.fetchall()}

    def _add_head(
        self, curs: psycopg.Cursor[DictRow], head: Checkpoint, *, ignore: bool = False
    ) -> None:
        conflict = " ON CONFLICT DO NOTHING" if ignore else ""
        curs.execute(
            SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s, %s)" + conflict).format(
                self._tree_table(_HEADS)
            ),
            (head.size, head.root, head.at.isoformat(), head.signature, head.key_id),
        )

    def _insert_events(
        self, curs: psycopg.Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        # The written entities' locks before anything else (a holder is between
        # its read and its write; wait for it rather than write over its read).
        held = self._held_ids()
        written = sorted({UUID(str(e.originator_id)) for e in stored_events} - held)
        if written:
            curs.execute(
                SQL("SET LOCAL lock_timeout = '{0}s'").format(self.datastore.lock_timeout),
                prepare=True,
            )
            curs.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k",
                ([entity_lock_key(i) for i in written],),
                prepare=True,
            )
        read_versions: dict[UUID, int] = kwargs.get("read_versions") or {}
        read_position: int | None = kwargs.get("read_position")
        if not read_versions and read_position is None:
            return
        # The lock first, so no other writer can commit between this check and
        # the insert that follows (eventsourcing takes the same lock again then,
        # which costs nothing inside one transaction).
        self._lock_table(curs)
        if read_position is not None:
            # Nothing may have been recorded after the position the command read.
            latest = SQL("SELECT COALESCE(MAX(notification_id), 0) AS last FROM {0}.{1}").format(
                Identifier(self.datastore.schema), Identifier(self.events_table_name)
            )
            curs.execute(latest, prepare=True)
            row = curs.fetchone()
            if row is not None and int(row["last"]) > read_position:
                raise LogMovedError(read_position)
        if not read_versions:
            return
        statement = SQL(
            "SELECT originator_id, MAX(originator_version) AS version FROM {0}.{1} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        ids = list(read_versions)
        keys: list[Any] = (
            ids if self.datastore.originator_id_type == "uuid" else [str(i) for i in ids]
        )
        curs.execute(statement, (keys,), prepare=True)
        current = {str(row["originator_id"]): int(row["version"]) for row in curs.fetchall()}
        for entity_id, seen in read_versions.items():
            now = current.get(str(entity_id), 0)
            if now != seen:
                raise ReadConflictError(entity_id, seen, now)


def _checkpoint(row: DictRow) -> Checkpoint:
    return Checkpoint(
        size=int(row["size"]),
        root=bytes(row["root"]),
        at=datetime.fromisoformat(row["at"]),
        signature=None if row["signature"] is None else bytes(row["signature"]),
        key_id=row["key_id"],
    )


_NODES = "okra_tree_nodes"
_HEADS = "okra_tree_heads"
_READ_MODELS_TABLE = "okra_read_models"


class PostgresReadModelStore:
    """Read models in a table beside the events (``okra_read_models``, same schema)."""

    def __init__(self, recorder: PostgresApplicationRecorder) -> None:
        self._datastore = recorder.datastore
        self._table = SQL("{0}.{1}").format(
            Identifier(self._datastore.schema), Identifier(_READ_MODELS_TABLE)
        )
        with ddl_lock(self._datastore), self._datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {0} (name text PRIMARY KEY, "
                    "position bigint NOT NULL, data bytea NOT NULL)"
                ).format(self._table),
                prepare=False,
            )

    def load(self, name: str) -> tuple[int, bytes] | None:
        """The saved ``(position, data)`` of read model ``name``, if any."""
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT position, data FROM {0} WHERE name = %s").format(self._table), (name,)
            )
            row = curs.fetchone()
        return None if row is None else (int(row["position"]), bytes(row["data"]))

    def save(self, name: str, position: int, data: bytes) -> None:
        """Save ``data`` at ``position``, unless a later position is already saved."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {0} AS t (name, position, data) VALUES (%s, %s, %s) "
                    "ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, "
                    "data = EXCLUDED.data WHERE t.position < EXCLUDED.position"
                ).format(self._table),
                (name, position, data),
            )

    def drop(self, name: str) -> None:
        """Forget read model ``name``."""
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {0} WHERE name = %s").format(self._table), (name,))


def postgres_key_result_index(recorder: PostgresApplicationRecorder) -> SQLKeyResultIndex:
    """The key result index, in two tables beside the events (same schema)."""
    datastore = recorder.datastore
    schema = datastore.schema

    @contextlib.contextmanager
    def transaction(write: bool) -> Iterator[psycopg.Cursor[Any]]:
        with datastore.transaction(commit=write) as curs:
            curs.row_factory = tuple_row  # type: ignore[assignment]
            yield curs

    def table(name: str) -> str:
        return f'"{schema}"."{name}"' if schema else f'"{name}"'

    dialect = SQLDialect(
        transaction=transaction,
        table=table,
        placeholder="%s",
        integer="bigint",
        real="double precision",
        text="text",
        blob="bytea",
        snapshot="SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    )
    index = SQLKeyResultIndex(dialect, create=False)
    if not index.exists():
        with ddl_lock(datastore):
            index.create()
    return index
