"""The hash tree that binds every stored event into one log (RFC 6962 / RFC 9162).

Each stored record is a leaf: ``H(0x00 || leaf bytes)``, where the leaf bytes are
the record exactly as stored (its log position, entity id, version, topic and
stored state: the ciphertext, for an encrypted store), so the tree is checked
without the key. Inner nodes are ``H(0x01 || left || right)`` and the tree over
``n`` leaves splits at the largest power of two below ``n``, as in RFC 6962, so
any tool that checks a Certificate Transparency proof can check okra's.

A *tree head* (:class:`Checkpoint`) is the size of the tree and its root,
with the time it was recorded and, optionally, an Ed25519 signature over both.
An *inclusion proof* shows that one record is leaf ``i`` of the tree whose root
a head states; a *consistency proof* shows that a later head's tree only
appended to an earlier one's. Both are checked here with nothing but hashes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "Frontier",
    "consistency_path",
    "inclusion_path",
    "leaf_bytes",
    "leaf_hash",
    "node_hash",
    "root_of",
    "subtree_keys",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the tree with no leaves (RFC 6962: the hash of the empty string)."""

_HEAD_PREFIX = b"okra tree head v1\n"
# position (8 bytes), entity id (16), version (8), topic length (4); the state's length (8)
_HEAD = struct.Struct(">Q16sQI")
_LENGTH = struct.Struct(">Q")


def leaf_bytes(
    position: int, originator_id: UUID | str, originator_version: int, topic: str, state: object
) -> bytes:
    """The bytes of one stored record, as its leaf holds them: unambiguous and stable.

    ``state`` is the stored bytes; anything else (text written into the database
    by hand) is hashed as its text, so that it can only differ from what was stored.
    """
    if isinstance(originator_id, UUID):
        entity = originator_id.bytes
    else:  # as a database returns it: 32 hex digits, or the dashed form
        entity = bytes.fromhex(originator_id.replace("-", ""))
        if len(entity) != 16:
            entity = UUID(originator_id).bytes  # raises ValueError, naming the bad id
    topic_bytes = str(topic).encode()
    if isinstance(state, bytes | bytearray | memoryview):
        data = bytes(state)
    else:
        data = str(state).encode()
    return b"".join(
        (
            _HEAD.pack(position, entity, originator_version, len(topic_bytes)),
            topic_bytes,
            _LENGTH.pack(len(data)),
            data,
        )
    )


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962's leaf hash: ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962's inner node hash: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def subtree_keys(size: int) -> list[tuple[int, int]]:
    """The perfect subtrees a tree of ``size`` leaves is made of, largest first.

    Each is ``(level, index)``: the node at ``level`` (0 for leaves) covering
    leaves ``index * 2**level`` to ``(index + 1) * 2**level - 1``.
    """
    keys = []
    offset = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, offset >> level))
            offset += 1 << level
    return keys


class Frontier:
    """The right edge of a growing tree: the roots of its perfect subtrees.

    Appending a leaf is a binary increment: equal-sized subtrees merge. The
    nodes each append completes are returned, so a store can keep every node
    and serve proofs without recomputing them.
    """

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()) -> None:
        if len(roots) != size.bit_count():
            raise ValueError(f"a tree of {size} leaves has {size.bit_count()} subtree roots")
        self.size = size
        self._roots = list(roots)  # aligned with subtree_keys(size)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the nodes completed, ``(level, index, hash)``, leaf first."""
        completed = [(0, self.size, leaf)]
        node = leaf
        level = 0
        index = self.size
        while self.size >> level & 1:  # a subtree of this size waits on the left
            node = node_hash(self._roots.pop(), node)
            level += 1
            index >>= 1
            completed.append((level, index, node))
        self._roots.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        """The tree's root: the subtree roots folded from the right."""
        if not self._roots:
            return EMPTY_ROOT
        node = self._roots[-1]
        for left in reversed(self._roots[:-1]):
            node = node_hash(left, node)
        return node


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree over ``leaves`` (leaf hashes), by RFC 6962's definition."""
    frontier = Frontier()
    for leaf in leaves:
        frontier.append(leaf)
    return frontier.root()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(index: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962's audit path for leaf ``index`` of the tree over ``leaves``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(index, leaves[:k]), root_of(leaves[k:])]
    return [*inclusion_path(index - k, leaves[k:]), root_of(leaves[:k])]


def consistency_path(old_size: int, leaves: Sequence[bytes]) -> list[bytes]:
    """RFC 6962's consistency proof from the tree of ``old_size`` leaves to all ``leaves``."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no consistency proof from {old_size} to {len(leaves)} leaves")
    return _subproof(old_size, leaves, complete=True)


def _subproof(m: int, leaves: Sequence[bytes], *, complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [root_of(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete=complete), root_of(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], complete=False), root_of(leaves[:k])]


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``path`` proves leaf hash ``leaf`` is leaf ``index`` of the tree ``(size, root)``.

    RFC 9162, section 2.1.3.2.
    """
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    node = leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            node = node_hash(node, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and node == root


def verify_consistency(
    old_size: int, old_root: bytes, new_size: int, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether ``path`` proves the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    RFC 9162, section 2.1.4.2.
    """
    if old_size == new_size:
        return old_root == new_root and not path
    if not 0 < old_size < new_size or not path:
        return False
    nodes = list(path)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


@attrs.frozen(kw_only=True)
class Checkpoint:
    """A tree head: the log's tree of ``size`` leaves has ``root``, as recorded at ``at``.

    Attributes:
        size: how many stored records the tree covers (the first ``size``).
        root: the tree's root hash.
        at: when the head was recorded (UTC).
        signature: an Ed25519 signature over :meth:`signed_bytes`, if one was made.
        key_id: which key signed it (the first 8 bytes of the SHA-256 of the
            raw public key, in hex), if signed.
    """

    size: int
    root: bytes
    at: datetime
    signature: bytes | None = None
    key_id: str | None = None

    def signed_bytes(self) -> bytes:
        """What a signature covers: a fixed prefix, the size, the root and the time."""
        return _HEAD_PREFIX + f"{self.size}\n{self.root.hex()}\n{self.at.isoformat()}\n".encode()

    def to_json(self) -> dict[str, object]:
        """The head as JSON types (hex for bytes, ISO 8601 for the time)."""
        return {
            "size": self.size,
            "root": self.root.hex(),
            "at": self.at.isoformat(),
            "signature": None if self.signature is None else self.signature.hex(),
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Checkpoint:
        """The head :meth:`to_json` wrote (raises ValueError or KeyError if malformed)."""
        signature = data.get("signature")
        key_id = data.get("key_id")
        return cls(
            size=int(str(data["size"])),
            root=bytes.fromhex(str(data["root"])),
            at=datetime.fromisoformat(str(data["at"])),
            signature=bytes.fromhex(str(signature)) if signature else None,
            key_id=str(key_id) if key_id else None,
        )
