"""The ``memory://`` storage backend: eventsourcing's plain-Python recorders.

Events live in this process only and vanish when the store closes; nothing is
shared between two :class:`~okra_core.Okra` instances. Good for tests and demos.
"""

from __future__ import annotations

from okra_core import StorageBackend, ValidationError, hookimpl

__all__ = ["memory_settings", "okra_storage_backends"]


def memory_settings(url: str) -> dict[str, str]:
    """Eventsourcing settings for ``memory://`` (nothing may follow the ``//``)."""
    if url.rstrip("/") != "memory:":
        raise ValidationError.single(
            "url", f"expected memory:// with nothing after it, got {url!r}"
        )
    return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@hookimpl
def okra_storage_backends() -> list[StorageBackend]:
    """The ``memory://`` backend."""
    return [
        StorageBackend(
            scheme="memory",
            description="events in this process only (tests, demos)",
            settings=memory_settings,
            example="memory://",
        )
    ]
