"""Proofs a third party can check with nothing but hashes and a public key.

An *inclusion proof* carries one stored record (exactly as stored), its leaf
index, its audit path and the tree head it is proved against; a *consistency
proof* carries two heads and the path that shows the later tree only appended
to the earlier one. Both are plain JSON documents (``okra proof`` writes them;
``python -m okra_core.verify`` checks them).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from ..codec._merkle import (
    Checkpoint,
    consistency_path,
    inclusion_path,
    leaf_bytes,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ._tree import StoredRecord

__all__ = ["ProofError", "check_proof", "consistency_proof", "inclusion_proof"]

INCLUSION: Final = "okra.inclusion-proof/1"
CONSISTENCY: Final = "okra.consistency-proof/1"


class ProofError(ValueError):
    """A proof that does not hold, or a document that is not a proof."""


def inclusion_proof(
    position: int, index: int, record: StoredRecord, leaves: Sequence[bytes], head: Checkpoint
) -> dict[str, Any]:
    """The inclusion proof of ``record`` (leaf ``index``) in the tree of ``head``."""
    return {
        "proof": INCLUSION,
        "position": position,
        "leaf_index": index,
        "record": {
            "originator_id": str(record.originator_id),
            "originator_version": record.originator_version,
            "topic": record.topic,
            "state": base64.b64encode(record.state).decode("ascii"),
        },
        "path": [node.hex() for node in inclusion_path(index, leaves[: head.size])],
        "head": head.to_json(),
    }


def consistency_proof(old: Checkpoint, new: Checkpoint, leaves: Sequence[bytes]) -> dict[str, Any]:
    """The proof that the tree of ``new`` only appended to the tree of ``old``."""
    return {
        "proof": CONSISTENCY,
        "old": old.to_json(),
        "new": new.to_json(),
        "path": [node.hex() for node in consistency_path(old.size, leaves[: new.size])],
    }


def check_proof(
    document: Mapping[str, Any], check_signature: Callable[[Checkpoint], bool] | None = None
) -> str:
    """Check a proof; return what it proves, in words.

    Args:
        document: the proof, as ``okra proof`` wrote it.
        check_signature: says whether a head's signature is good; with it, every
            head in the proof must be signed by that key.

    Raises:
        ProofError: the proof does not hold (the message says why), or the
            document is not an okra proof.
    """
    try:
        kind = document.get("proof")
        path = [bytes.fromhex(str(node)) for node in document["path"]]
        if kind == INCLUSION:
            head = Checkpoint.from_json(document["head"])
            record = document["record"]
            position = int(document["position"])
            index = int(document["leaf_index"])
            data = leaf_bytes(
                position,
                str(record["originator_id"]),
                int(record["originator_version"]),
                str(record["topic"]),
                base64.b64decode(str(record["state"]), validate=True),
            )
            heads = [head]
        elif kind == CONSISTENCY:
            old = Checkpoint.from_json(document["old"])
            new = Checkpoint.from_json(document["new"])
            heads = [old, new]
        else:
            raise ProofError(f"not an okra proof (proof: {kind!r})")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ProofError):
            raise
        raise ProofError(f"not a well-formed okra proof: {type(exc).__name__}: {exc}") from None
    signed = ""
    if check_signature is not None:
        for head in heads:
            if head.signature is None:
                raise ProofError(f"the tree head of size {head.size} is not signed")
            if not check_signature(head):
                raise ProofError(
                    f"the signature of the tree head of size {head.size} does not check "
                    "with the public key"
                )
        signed = ", signed by the key given"
    if kind == INCLUSION:
        if not verify_inclusion(index, head.size, leaf_hash(data), path, head.root):
            raise ProofError(
                f"the record at position {position} is not leaf {index} of the tree of "
                f"size {head.size} with root {head.root.hex()}"
            )
        return (
            f"the record at position {position} (entity {record['originator_id']}, version "
            f"{record['originator_version']}) is in the log whose tree head of size "
            f"{head.size} was recorded at {head.at.isoformat()}{signed}"
        )
    if not verify_consistency(old.size, old.root, new.size, new.root, path):
        raise ProofError(
            f"the tree of size {new.size} does not extend the tree of size {old.size}: "
            "the log was changed, not only appended to"
        )
    return (
        f"the log of size {new.size} (recorded at {new.at.isoformat()}) only appended to the "
        f"log of size {old.size} (recorded at {old.at.isoformat()}){signed}"
    )
