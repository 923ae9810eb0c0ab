"""Signing tree heads with Ed25519, and checking signatures with the public key alone.

The private key is a PEM file that okra reads when it writes (``OKRA_SIGNING_KEY``
names it) and never stores beside the log; whoever holds the public key can
check every signed head, and every proof made against one, without the store.
Uses the ``cryptography`` package (``pip install 'okra[signing]'``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs

from ..codec._merkle import Checkpoint
from ..domain._errors import StorageError, ValidationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "SIGNING_KEY",
    "create_signing_key",
    "load_public_key",
    "signature_checker",
    "signer_from",
]

SIGNING_KEY: Final = "OKRA_SIGNING_KEY"
"""The setting (or environment variable) naming the PEM file of the Ed25519 signing key."""

_INSTALL = "signing tree heads needs the cryptography package: pip install 'okra[signing]'"


def _ed25519() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover - the dev tools install it
        raise StorageError(_INSTALL) from None
    return ed25519


def _serialization() -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization


def key_id(public_key: Ed25519PublicKey) -> str:
    """The first 8 bytes of the SHA-256 of the raw public key, in hex."""
    s = _serialization()
    raw = public_key.public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signer_from(settings: Mapping[str, str]) -> Callable[[Checkpoint], Checkpoint] | None:
    """The signer the settings (or ``$OKRA_SIGNING_KEY``) name; None if none is named."""
    path = settings.get(SIGNING_KEY) or os.environ.get(SIGNING_KEY, "")
    if not path.strip():
        return None
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ValidationError.single(
            f"settings.{SIGNING_KEY}", f"cannot read the signing key {path!r}: {exc.strerror}"
        ) from None
    ed25519 = _ed25519()
    try:
        key = _serialization().load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValidationError.single(
            f"settings.{SIGNING_KEY}", f"expected an Ed25519 private key in PEM, in {path!r}: {exc}"
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValidationError.single(
            f"settings.{SIGNING_KEY}", f"expected an Ed25519 private key, {path!r} holds another"
        )
    private: Ed25519PrivateKey = key
    identity = key_id(private.public_key())

    def sign(head: Checkpoint) -> Checkpoint:
        return attrs.evolve(head, signature=private.sign(head.signed_bytes()), key_id=identity)

    return sign


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (raises ValueError if it is not one)."""
    ed25519 = _ed25519()
    key = _serialization().load_pem_public_key(data)
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError("expected an Ed25519 public key")
    public: Ed25519PublicKey = key
    return public


def signature_checker(public_key_pem: bytes) -> Callable[[Checkpoint], bool]:
    """Whether a head's signature checks with this public key (raises ValueError for a bad key)."""
    public = load_public_key(public_key_pem)
    from cryptography.exceptions import InvalidSignature

    def check(head: Checkpoint) -> bool:
        if head.signature is None:
            return False
        try:
            public.verify(head.signature, head.signed_bytes())
        except InvalidSignature:
            return False
        return True

    return check


def create_signing_key(path: Path) -> Path:
    """Write a new Ed25519 private key to ``path`` (mode 0600) and its public key beside it.

    Returns the public key's path (``path`` with ``.pub`` added). Refuses to
    overwrite either file.
    """
    s = _serialization()
    public_path = path.with_name(path.name + ".pub")
    for target in (path, public_path):
        if target.exists():
            raise ValidationError.single("path", f"{str(target)!r} exists; choose another name")
    private = _ed25519().Ed25519PrivateKey.generate()
    pem = private.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_path.write_bytes(
        private.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo)
    )
    return public_path
