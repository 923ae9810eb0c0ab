"""Check an okra proof with nothing but the proof and, optionally, a public key.

Usage::

    python -m okra_core.verify PROOF.json [--public-key okra-signing.pem.pub]

No store is needed: an inclusion proof carries the record exactly as stored and
the hashes up to the tree head's root; a consistency proof carries two heads
and the hashes between them. With ``--public-key`` every head in the proof must
bear a good Ed25519 signature by that key. Exit status 0 when the proof holds,
1 when it does not, 2 for a file that cannot be read.

Example:
    >>> from datetime import date
    >>> from okra_core import Okra
    >>> with Okra("memory://") as okra:
    ...     q = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    ...     document = okra.prove(1)
    >>> print(check_proof(document).split(" is in the log")[0])  # doctest: +ELLIPSIS
    the record at position 1 (entity ..., version 1)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .store._proofs import ProofError, check_proof
from .store._signing import signature_checker

__all__ = ["ProofError", "check_proof", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the verifier on the command line's arguments; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m okra_core.verify", description="Check an okra proof, offline."
    )
    parser.add_argument("proof", type=Path, help="the proof (JSON), as `okra proof` wrote it")
    parser.add_argument(
        "--public-key", type=Path, help="an Ed25519 public key (PEM) that must sign the heads"
    )
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.proof.read_text(encoding="utf-8"))
        check = None
        if args.public_key is not None:
            check = signature_checker(args.public_key.read_bytes())
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not isinstance(document, dict):
        print("error: not an okra proof: expected a JSON object", file=sys.stderr)
        return 2
    try:
        print(f"ok: {check_proof(document, check)}")
    except ProofError as exc:
        print(f"proof does not hold: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
