"""The tamper-evident log: what a backend keeps, how it grows, and how it is checked.

A storage backend whose recorder implements :class:`LogTreeRecorder` keeps, in
the same transaction as each write, the RFC 6962 hash tree over every stored
record (its nodes, each leaf with the log position it binds) and a tree head
(:class:`~okra_core.Checkpoint`) per write, signed when a signing key is
configured. :func:`grow_tree` is the part every backend shares: from the
stored heads' right edge and the new records, the nodes to store and the new
head. :func:`verify_log` checks a whole log against its tree and heads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable
from uuid import UUID

import attrs

from ..codec._merkle import (
    EMPTY_ROOT,
    Checkpoint,
    Frontier,
    leaf_bytes,
    leaf_hash,
    subtree_keys,
)

__all__ = [
    "TREE_SIGNER",
    "LogProblem",
    "LogReport",
    "LogTreeRecorder",
    "Signer",
    "StoredRecord",
    "genesis_checkpoint",
    "grow_tree",
    "read_leaves",
    "record_leaf",
    "verify_log",
]

TREE_SIGNER: Final = "tree_signer"
"""The keyword under which a write passes its :data:`Signer` to the recorder."""

Signer = Callable[[Checkpoint], Checkpoint]
"""Signs a tree head: returns it with ``signature`` and ``key_id`` set."""

TreeNode = tuple[int, int, bytes, int | None]
"""``(level, index, hash, position)``: a stored node; leaves (level 0) bind a position."""


class StoredRecord(Protocol):
    """A record as a recorder stores it (eventsourcing's ``StoredEvent`` and ``Notification``)."""

    @property
    def originator_id(self) -> UUID | str:
        """The entity's id."""

    @property
    def originator_version(self) -> int:
        """The event's version in its entity's stream."""

    @property
    def topic(self) -> str:
        """The event's type, as stored."""

    @property
    def state(self) -> bytes:
        """The event's stored bytes (compressed and encrypted if the store is)."""


@runtime_checkable
class LogTreeRecorder(Protocol):
    """What a recorder offers to make its log tamper-evident (okra's own recorders do).

    On every ``insert_events`` it also stores, in the same transaction, the
    nodes and the head :func:`grow_tree` returns for the new records (signed
    with the :data:`Signer` passed as ``tree_signer``, if any) — unless the
    store has no tree yet (a store made before trees existed, until sealed).
    """

    def tree_head(self) -> Checkpoint | None:
        """The latest tree head; None if this store keeps no tree (yet)."""

    def tree_heads(self, after_size: int = 0) -> list[Checkpoint]:
        """The recorded heads with a size above ``after_size``, oldest first."""

    def tree_leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Leaves ``start`` onwards (at most ``limit``), as ``(index, position, hash)``."""

    def tree_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at ``(level, index)`` among ``keys``."""

    def seal_tree(self, signer: Signer | None) -> Checkpoint:
        """Start the tree over the log as it is now, in one transaction; its head."""

    def count_records(self, upto: int) -> int:
        """How many records the log holds at positions up to ``upto``."""

    def tree_records(self, after: int, limit: int) -> list[tuple[int, StoredRecord]]:
        """The stored records after position ``after`` (at most ``limit``), as stored."""


def record_leaf(position: int, record: StoredRecord) -> bytes:
    """The leaf hash of one stored record at ``position``."""
    return leaf_hash(
        leaf_bytes(
            position, record.originator_id, record.originator_version, record.topic, record.state
        )
    )


def grow_tree(
    head: Checkpoint,
    edge: dict[tuple[int, int], bytes],
    records: Iterable[tuple[int, StoredRecord]],
    signer: Signer | None = None,
    now: datetime | None = None,
) -> tuple[list[TreeNode], Checkpoint]:
    """The nodes to store and the new head after appending ``records`` to the tree.

    Args:
        head: the latest head (its size is where the new leaves start).
        edge: the stored nodes at ``subtree_keys(head.size)`` (the tree's right edge).
        records: ``(position, record)`` for each new record, in log order.
        signer: signs the new head, if given.
        now: the head's time (default: now, UTC).
    """
    keys = subtree_keys(head.size)
    missing = [key for key in keys if key not in edge]
    if missing:
        raise ValueError(f"the tree of size {head.size} has no stored node at {missing[0]}")
    frontier = Frontier(head.size, [edge[key] for key in keys])
    nodes: list[TreeNode] = []
    for position, record in records:
        completed = frontier.append(record_leaf(position, record))
        nodes.append((*completed[0], position))
        nodes += [(*node, None) for node in completed[1:]]
    checkpoint = Checkpoint(size=frontier.size, root=frontier.root(), at=now or datetime.now(UTC))
    return nodes, signer(checkpoint) if signer is not None else checkpoint


def genesis_checkpoint(now: datetime | None = None) -> Checkpoint:
    """The head of a new store's empty tree."""
    return Checkpoint(size=0, root=EMPTY_ROOT, at=now or datetime.now(UTC))


@attrs.frozen(kw_only=True)
class LogProblem:
    """One way the log differs from what its tree and heads say.

    Attributes:
        kind: ``edited`` (a record's bytes changed), ``inserted`` (a record that
            okra did not write, among or after the others), ``deleted`` (a record
            the tree holds is gone), ``rewritten`` (the tree's hashes were changed to match:
            a head no longer matches), ``unsigned`` (heads without a signature,
            one problem for all), ``bad signature`` (a head's signature does not
            check with the public key), ``truncated`` (the log is shorter than a
            head says).
        position: the log position concerned (None if it is not one record).
        entity_id, version: the record's entity and version, when known.
        message: the problem in words.
    """

    kind: str
    position: int | None
    entity_id: UUID | None
    version: int | None
    message: str


@attrs.frozen(kw_only=True)
class LogReport:
    """What :meth:`~okra_core.Okra.verify` found.

    Attributes:
        sealed: whether the store keeps a tree at all.
        records: how many stored records were read.
        size: the size of the latest head (the records the tree covers).
        heads: how many heads were checked; ``signed``: how many of them bear
            a good signature (0 when no public key was given).
        problems: every problem found, in log order (the first is the first bad
            position); empty when the log is sound.
    """

    sealed: bool
    records: int
    size: int
    heads: int
    signed: int
    problems: tuple[LogProblem, ...]

    @property
    def sound(self) -> bool:
        """Whether the log matched its tree and every head."""
        return self.sealed and not self.problems


_MAX_PROBLEMS: Final = 100


def verify_log(
    tree: LogTreeRecorder,
    records: Iterator[tuple[int, StoredRecord]],
    *,
    since: int = 0,
    check_signature: Callable[[Checkpoint], bool] | None = None,
) -> LogReport:
    """Check every stored record against its leaf, and every head against the leaves.

    Args:
        tree: the recorder that keeps the tree.
        records: ``(position, record)`` of the whole log from the first record
            after the leaf ``since`` covers, in position order.
        since: trust the tree up to this head size (a head checked before):
            start from its right edge.
        check_signature: says whether a head's signature is good (None: heads
            are not checked for signatures).
    """
    problems: list[LogProblem] = []

    def problem(kind: str, position: int | None, record: Any, message: str) -> None:
        if len(problems) < _MAX_PROBLEMS:
            entity = UUID(str(record.originator_id)) if record is not None else None
            version = record.originator_version if record is not None else None
            problems.append(
                LogProblem(
                    kind=kind, position=position, entity_id=entity, version=version, message=message
                )
            )

    latest = tree.tree_head()
    if latest is None:
        count = sum(1 for _ in records)
        return LogReport(sealed=False, records=count, size=0, heads=0, signed=0, problems=())
    heads = [h for h in tree.tree_heads(since) if h.size > since] if since else tree.tree_heads()
    edge = tree.tree_nodes(subtree_keys(since))
    frontier = Frontier(since, [edge[k] for k in subtree_keys(since)])
    count = 0
    head_index = 0
    signed = 0
    unsigned: list[int] = []

    def check_heads_up_to(size: int) -> None:
        nonlocal head_index, signed
        while head_index < len(heads) and heads[head_index].size <= size:
            head = heads[head_index]
            head_index += 1
            if head.size != size:
                continue
            if head.root != frontier.root():
                problem(
                    "rewritten",
                    None,
                    None,
                    f"the tree head of size {head.size} recorded at {head.at.isoformat()} "
                    "does not match the records before it: the tree was rewritten",
                )
            if check_signature is not None:
                if head.signature is None:
                    unsigned.append(head.size)
                elif check_signature(head):
                    signed += 1
                else:
                    problem(
                        "bad signature",
                        None,
                        None,
                        f"the signature of the tree head of size {head.size} does not "
                        "check with the public key",
                    )

    check_heads_up_to(since)
    leaves = read_leaves(tree, since)
    leaf = next(leaves, None)
    record_item = next(records, None)
    while leaf is not None or record_item is not None:
        if record_item is None:
            assert leaf is not None
            problem(
                "deleted",
                leaf[1],
                None,
                f"the record at position {leaf[1]} (leaf {leaf[0]}) is gone from the log",
            )
            frontier.append(leaf[2])
            check_heads_up_to(frontier.size)
            leaf = next(leaves, None)
            continue
        position, record = record_item
        if leaf is None:
            problem(
                "inserted",
                position,
                record,
                f"the record at position {position} was not written by okra: the tree "
                "ends before it",
            )
            count += 1
            record_item = next(records, None)
            continue
        index, bound, stored = leaf
        if position < bound:
            problem(
                "inserted",
                position,
                record,
                f"the record at position {position} was not written by okra: no leaf binds it",
            )
            count += 1
            record_item = next(records, None)
            continue
        if position > bound:
            problem(
                "deleted",
                bound,
                None,
                f"the record at position {bound} (leaf {index}) is gone from the log",
            )
        else:
            count += 1
            if record_leaf(position, record) != stored:
                problem(
                    "edited",
                    position,
                    record,
                    f"the record at position {position} differs from what was written "
                    "(its bytes, entity, version or type changed)",
                )
            record_item = next(records, None)
        frontier.append(stored)
        check_heads_up_to(frontier.size)
        leaf = next(leaves, None)
    if unsigned:
        problem(
            "unsigned",
            None,
            None,
            f"{len(unsigned)} of the {head_index} tree heads are not signed (the first: the "
            f"head of size {unsigned[0]}); they were recorded without OKRA_SIGNING_KEY",
        )
    if latest.size > frontier.size:
        problem(
            "truncated",
            None,
            None,
            f"the latest tree head says {latest.size} records, the tree holds {frontier.size}",
        )
    return LogReport(
        sealed=True,
        records=count,
        size=latest.size,
        heads=head_index,
        signed=signed,
        problems=tuple(problems),
    )


def read_leaves(tree: LogTreeRecorder, start: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """The tree's leaves from index ``start``, as ``(index, position, hash)``, in batches."""
    batch = 5000
    while True:
        rows = tree.tree_leaves(start, batch)
        yield from rows
        if len(rows) < batch:
            return
        start = rows[-1][0] + 1
