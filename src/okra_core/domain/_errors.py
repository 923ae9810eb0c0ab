"""One exception family for everything okra refuses.

Callers catch :class:`OkraError` for the whole family, or a subclass for one kind
of refusal. Every error says what was wrong and, where it can, what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import attrs

__all__ = [
    "AmbiguousReferenceError",
    "ConcurrencyError",
    "DamagedLogError",
    "EventDecodeError",
    "FieldError",
    "InvalidTransitionError",
    "NotFoundError",
    "OkraError",
    "PermissionDeniedError",
    "PluginError",
    "StorageError",
    "ValidationError",
]


class OkraError(Exception):
    """Base class of every error okra raises on purpose."""


@attrs.frozen
class FieldError:
    """One problem with one field of a command or record.

    Attributes:
        path: where the problem is, as a dotted path (``metric.target``) or, for
            decoded records, a ``$``-rooted path (``$.confidence.probability``).
        message: what was expected, in words.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationError(OkraError, ValueError):
    """A command or record was refused because some of its fields are invalid.

    Nothing was written. :attr:`errors` lists every problem found, each with the
    path of its field.
    """

    def __init__(self, errors: Iterable[FieldError], *, summary: str = "invalid input") -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        self.summary = summary
        super().__init__(self._message())

    def _message(self) -> str:
        details = "; ".join(str(e) for e in self.errors)
        return f"{self.summary}: {details}" if details else self.summary

    @property
    def paths(self) -> tuple[str, ...]:
        """The paths of the invalid fields, in the order they were found."""
        return tuple(e.path for e in self.errors)

    @classmethod
    def single(cls, path: str, message: str) -> ValidationError:
        """Build an error about one field."""
        return cls([FieldError(path, message)])


class EventDecodeError(ValidationError):
    """A stored or imported event record could not be turned back into an event.

    The message names the record (its type and entity) and the field paths that
    are wrong, e.g. ``$.value: expected a number, got str``.
    """

    def __init__(self, errors: Iterable[FieldError], *, record: str) -> None:
        self.record = record
        super().__init__(errors, summary=f"cannot decode {record}")


class NotFoundError(OkraError, LookupError):
    """Nothing matches the given id, id prefix or title."""

    def __init__(self, kind: str, ref: object, hint: str = "") -> None:
        self.kind = kind
        self.ref = ref
        message = f"no {kind} matches {ref!r}"
        super().__init__(f"{message}; {hint}" if hint else message)


class AmbiguousReferenceError(NotFoundError):
    """A short id prefix or title matches more than one entity.

    :attr:`candidates` lists ``(id, label)`` pairs to choose from.
    """

    def __init__(self, kind: str, ref: object, candidates: Sequence[tuple[UUID, str]]) -> None:
        self.candidates = tuple(candidates)
        listing = ", ".join(f"{c.hex[:8]} {label!r}" for c, label in self.candidates)
        super().__init__(kind, ref, f"it is ambiguous, choose one of: {listing}")
        self.args = (f"{kind} {ref!r} is ambiguous; choose one of: {listing}",)


class ConcurrencyError(OkraError):
    """Another writer changed the same entity first; this command was not applied.

    Reload the entity and retry the command if it still makes sense. No event of
    either writer was lost: the other writer's change is in the log.
    """

    def __init__(self, entity_ids: Sequence[UUID]) -> None:
        self.entity_ids = tuple(entity_ids)
        ids = ", ".join(i.hex[:8] for i in self.entity_ids)
        super().__init__(
            f"{ids} was changed by another writer while this command ran; "
            "nothing was written: reload and retry"
        )


class InvalidTransitionError(OkraError):
    """The command is not allowed in the entity's current lifecycle state."""


class PermissionDeniedError(OkraError):
    """The actor is not allowed to issue this command (see ``Okra(authorizer=...)``)."""


class StorageError(OkraError):
    """The event store failed (a locked or unreadable database, a lost connection).

    The message says what the store reported. When it comes from a write, the
    write may or may not have been committed: read the entity's history before
    retrying a command that is not safe to repeat (a check-in, say).
    """


class DamagedLogError(StorageError):
    """The stored log is not one okra wrote: a version is missing, or a record changed.

    okra cannot fold a damaged log into states; ``okra verify`` (or
    :meth:`~okra_core.Okra.verify`) names every position that differs from what
    was written.
    """


class PluginError(OkraError):
    """A plugin, or the choice of plugins, is wrong in a way okra cannot work around.

    The message names the plugin(s) and says what was expected: two plugins
    claiming one name, a misspelt hook, a malformed ``OKRA_PLUGINS``. A plugin
    that merely fails to load is reported in ``Plugins.problems`` instead.
    """
