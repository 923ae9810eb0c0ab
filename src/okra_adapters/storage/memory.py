"""The ``memory://`` storage backend: eventsourcing's plain-Python recorders.

Events live in this process only and vanish when the store closes; nothing is
shared between two :class:`~okra_core.Okra` instances. Good for tests and demos.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder, POPOFactory

from okra_core import (
    TREE_SIGNER,
    Checkpoint,
    MemoryKeyResultIndex,
    Signer,
    StorageBackend,
    ValidationError,
    genesis_checkpoint,
    grow_tree,
    hookimpl,
    subtree_keys,
)

__all__ = [
    "MemoryFactory",
    "TreePOPORecorder",
    "memory_key_result_index",
    "memory_settings",
    "okra_storage_backends",
]


class TreePOPORecorder(POPOApplicationRecorder):
    """eventsourcing's plain-Python recorder, plus the log's hash tree (in memory too)."""

    def __init__(self) -> None:
        super().__init__()
        self._tree_lock = threading.Lock()
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._positions: dict[int, int] = {}
        self._heads: list[Checkpoint] = [genesis_checkpoint()]
        self.key_result_index = MemoryKeyResultIndex()

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Called under the recorder's database lock, so the tree grows in log order.
        ids = super()._update_table(stored_events, **kwargs)
        if ids is not None:
            head = self._heads[-1]
            edge = {k: self._nodes[k] for k in subtree_keys(head.size) if k in self._nodes}
            nodes, new_head = grow_tree(
                head, edge, zip(ids, stored_events, strict=True), kwargs.get(TREE_SIGNER)
            )
            with self._tree_lock:
                for level, index, digest, position in nodes:
                    self._nodes[level, index] = digest
                    if position is not None:
                        self._positions[index] = position
                self._heads.append(new_head)
        return ids

    def tree_head(self) -> Checkpoint | None:
        """The latest tree head."""
        with self._tree_lock:
            return self._heads[-1]

    def tree_heads(self, after_size: int = 0) -> list[Checkpoint]:
        """The recorded heads with a size above ``after_size``, oldest first."""
        with self._tree_lock:
            return [h for h in self._heads if h.size > after_size]

    def tree_leaves(self, start: int, limit: int) -> list[tuple[int, int, bytes]]:
        """Leaves ``start`` onwards (at most ``limit``), as ``(index, position, hash)``."""
        with self._tree_lock:
            size = self._heads[-1].size
            return [
                (i, self._positions[i], self._nodes[0, i])
                for i in range(start, min(size, start + limit))
            ]

    def tree_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored nodes at ``(level, index)`` among ``keys``."""
        with self._tree_lock:
            return {k: self._nodes[k] for k in keys if k in self._nodes}

    def tree_records(self, after: int, limit: int) -> list[tuple[int, StoredEvent]]:
        """The stored records after position ``after`` (at most ``limit``), as stored."""
        return [(n.id, n) for n in self.select_notifications(start=after + 1, limit=limit)]

    def count_records(self, upto: int) -> int:
        """How many records the log holds at positions up to ``upto``."""
        return len(self.select_notifications(start=1, limit=max(upto, 0), stop=upto))

    def seal_tree(self, signer: Signer | None) -> Checkpoint:
        """A memory store's tree starts with the store: there is nothing to seal."""
        raise ValidationError.single("seal", "this store's log is sealed already")


class MemoryFactory(POPOFactory):
    """eventsourcing's plain-Python persistence, with okra's recorder."""

    def application_recorder(self) -> ApplicationRecorder:
        """A recorder that keeps the log's hash tree."""
        return TreePOPORecorder()


def memory_settings(url: str) -> dict[str, str]:
    """Eventsourcing settings for ``memory://`` (nothing may follow the ``//``)."""
    if url.rstrip("/") != "memory:":
        raise ValidationError.single(
            "url", f"expected memory:// with nothing after it, got {url!r}"
        )
    return {"PERSISTENCE_MODULE": f"{__name__}:MemoryFactory"}


def memory_key_result_index(recorder: object) -> MemoryKeyResultIndex | None:
    """The key result index of a ``memory://`` store: in memory, beside its events."""
    return recorder.key_result_index if isinstance(recorder, TreePOPORecorder) else None


@hookimpl
def okra_storage_backends() -> list[StorageBackend]:
    """The ``memory://`` backend."""
    return [
        StorageBackend(
            scheme="memory",
            description="events in this process only (tests, demos)",
            settings=memory_settings,
            key_result_index=memory_key_result_index,
            example="memory://",
        )
    ]
