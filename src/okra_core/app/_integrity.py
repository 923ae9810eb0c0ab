"""The tamper-evident log, from ``Okra``: verify it, its tree heads, proofs, sealing.

Every record a store writes joins the log's hash tree in the same transaction
(see :mod:`okra_core.store._tree`); these methods check the stored records
against it, hand out heads and proofs for third parties, and start the tree
on a store made before okra kept one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from itertools import islice
from typing import Any

from ..codec._merkle import Checkpoint
from ..domain._errors import NotFoundError, StorageError, ValidationError
from ..domain._events import LogSealed
from ..domain._seal import LOG_ID
from ..store._proofs import consistency_proof, inclusion_proof
from ..store._signing import signature_checker
from ..store._tree import LogReport, LogTreeRecorder, StoredRecord, read_leaves, verify_log
from ._context import Collaborator

__all__ = ["Integrity"]

_BATCH = 5000
_UNSEALED = (
    "the log of {url} has no hash tree: it was made before okra kept one; "
    "`okra verify --seal` (Okra.seal) starts the tree from the log as it is now"
)


class Integrity(Collaborator):
    """Checks the log against its hash tree; gives out heads and proofs."""

    def verify(self, *, since: int = 0, public_key: bytes | None = None) -> LogReport:
        """Check every stored record against the log's hash tree and its tree heads.

        Each record is compared with the leaf written for it, so an edited,
        deleted, inserted or appended record is named with its position and
        entity; every recorded head is recomputed from the leaves, so a tree
        rewritten to match is caught too. Works on the stored bytes: an
        encrypted store is verified without its key. A whole store rolled back
        to an earlier copy of itself is caught only against a head kept
        elsewhere (``okra checkpoint --json``).

        Args:
            since: trust the tree up to the head of this size (checked before),
                and check only what came after it.
            public_key: an Ed25519 public key (PEM): every head must then bear a
                good signature by it.

        Returns:
            What was found; ``report.sound`` is true when nothing differs. A
            store without a tree (made before okra kept one) reports
            ``sealed=False``.
        """
        tree = self._tree()
        check = None
        if public_key is not None:
            try:
                check = signature_checker(public_key)
            except (TypeError, ValueError) as exc:
                raise ValidationError.single(
                    "public_key", f"expected an Ed25519 public key in PEM: {exc}"
                ) from None
        head = tree.tree_head()
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValidationError.single("since", f"expected a tree size >= 0, got {since!r}")
        after = 0
        if since:
            if (
                head is None
                or since > head.size
                or since not in {h.size for h in tree.tree_heads(since - 1)}
            ):
                raise ValidationError.single(
                    "since", f"expected the size of a recorded tree head, got {since}"
                )
            after = tree.tree_leaves(since - 1, 1)[0][1]
        records = self._records(tree, after)
        return verify_log(tree, records, since=since, check_signature=check)

    def checkpoint(self) -> Checkpoint:
        """The latest tree head: the size of the log's tree, its root, when, and its signature.

        Keep a copy elsewhere: a later ``verify`` or consistency proof against it
        shows that the log was only appended to since.
        """
        head = self._tree().tree_head()
        if head is None:
            raise StorageError(_UNSEALED.format(url=self._ctx.log.shown_url))
        return head

    def prove(self, position: int, *, size: int | None = None) -> dict[str, Any]:
        """An inclusion proof of the record at log ``position``, against a recorded head.

        Args:
            position: the record's log position (as ``audit`` and ``history`` show it).
            size: the head to prove against (default: the latest).

        Returns:
            The proof as JSON types: the record as stored, its audit path, the head.
        """
        tree = self._tree()
        head = self._head_of(tree, size, "size")
        leaves = self._leaves(tree, head.size)
        whole = not isinstance(position, bool) and isinstance(position, int)
        index = (
            next((i for i, (p, _) in enumerate(leaves) if p == position), None) if whole else None
        )
        if index is None:
            raise ValidationError.single(
                "position",
                f"expected the log position of a record in the tree of size {head.size}, "
                f"got {position!r}",
            )
        found = self._ctx.log.storage(functools.partial(tree.tree_records, position - 1, 1))
        if not found or found[0][0] != position:
            raise NotFoundError("record", str(position), "it is not in the log: run okra verify")
        return inclusion_proof(position, index, found[0][1], [h for _, h in leaves], head)

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> dict[str, Any]:
        """A proof that the tree of ``new_size`` (default: the latest) extends that of ``old_size``.

        Both must be sizes of recorded heads; the proof carries both heads.
        """
        tree = self._tree()
        old = self._head_of(tree, old_size, "old_size")
        new = self._head_of(tree, new_size, "new_size")
        if old.size == 0 or old.size > new.size:
            raise ValidationError.single(
                "old_size", f"expected a size from 1 to {new.size}, got {old.size}"
            )
        leaves = self._leaves(tree, new.size)
        return consistency_proof(old, new, [h for _, h in leaves])

    def seal(self, *, actor: str) -> Checkpoint:
        """Start the log's hash tree over the records stored now (a store made before trees).

        The tree then covers every record from the first, and grows with every
        write; the seal itself is recorded as an event (``okra.log.sealed``).

        Raises:
            ValidationError: the log has a tree already.
        """
        tree = self._tree()
        with self._ctx.command(actor) as stamp:
            self._ctx.authorize(actor, "seal", None)
            head = tree.seal_tree(self._ctx.log.signer)
            self._ctx.save(
                LogSealed(
                    originator_id=LOG_ID,
                    originator_version=1,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    size=head.size,
                    root=head.root.hex(),
                )
            )
            return head

    def _records(self, tree: LogTreeRecorder, after: int) -> Iterator[tuple[int, StoredRecord]]:
        """The stored records after position ``after``, as stored, in batches."""
        while True:
            batch = self._ctx.log.storage(functools.partial(tree.tree_records, after, _BATCH))
            yield from batch
            if len(batch) < _BATCH:
                return
            after = batch[-1][0]

    def _tree(self) -> LogTreeRecorder:
        recorder = self._ctx.log.store.recorder
        if not isinstance(recorder, LogTreeRecorder):
            raise StorageError(
                f"the storage backend of {self._ctx.log.shown_url} keeps no hash tree "
                f"({type(recorder).__name__} is not a LogTreeRecorder)"
            )
        return recorder

    def _head_of(self, tree: LogTreeRecorder, size: int | None, path: str) -> Checkpoint:
        latest = tree.tree_head()
        if latest is None:
            raise StorageError(_UNSEALED.format(url=self._ctx.log.shown_url))
        if size is None:
            return latest
        whole = not isinstance(size, bool) and isinstance(size, int)
        heads = {h.size: h for h in tree.tree_heads(size - 1)} if whole and size > 0 else {}
        if size not in heads:
            raise ValidationError.single(
                path,
                f"expected the size of a recorded tree head (up to {latest.size}), got {size!r}",
            )
        return heads[size]

    def _leaves(self, tree: LogTreeRecorder, size: int) -> list[tuple[int, bytes]]:
        """``(position, hash)`` of the first ``size`` leaves."""
        return [(position, digest) for _, position, digest in islice(read_leaves(tree), size)]
