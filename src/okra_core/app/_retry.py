"""Commands that wait instead of failing: bounded retries, jittered backoff, entity locks.

A command reads the store, decides, and writes; the write is refused (a
:class:`ConcurrencyError`) if another writer changed what it read meanwhile. Such
a command is safe to run again from the start: it re-reads, re-validates and
re-decides. So :class:`Okra`'s commands are wrapped here to do that a bounded
number of times, sleeping a random, growing time between tries ("full jitter",
so that writers who collided do not collide again in step).

A storage backend shared by processes may also offer *entity locks* (the
:class:`EntityLocks` protocol, on its recorder): a lock per entity, held from
before a command's read until after its write, which other writers' writes to
that entity wait for. After a conflict on an entity, the retry holds its lock,
and so, for a short while, does every later command of this instance whose
target is that entity; other lock holders queue instead of colliding. Locks only
make conflicts rarer: correctness never depends on them, since every write is
still checked against what its command read.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, runtime_checkable
from uuid import UUID

import attrs

from ..domain._errors import ConcurrencyError, OkraError, ValidationError

if TYPE_CHECKING:
    from ._okra import Okra

__all__ = ["COMMANDS", "EntityLocks", "RetryPolicy", "install_retries"]

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("okra.retry")
"""Logs each retry (DEBUG) and each command given up (WARNING); count them to measure."""

COMMANDS: Final = (
    "plan_cycle",
    "start_cycle",
    "close_cycle",
    "draft_objective",
    "revise_objective",
    "reassign_objective",
    "activate_objective",
    "close_objective",
    "abandon_objective",
    "align",
    "unalign",
    "continue_objective",
    "add_key_result",
    "measure_baseline",
    "rebaseline",
    "retarget",
    "reweight",
    "check_in",
    "correct_check_in",
    "retract_check_in",
    "propose_action",
    "place_action",
    "resolve_action",
    "add_task",
    "complete_task",
    "reopen_task",
    "revise_playbook",
    "subscribe",
    "unsubscribe",
    "bind_key_result",
    "unbind_key_result",
)
"""The :class:`Okra` methods that are commands (a test keeps this list complete)."""

# How long an entity stays "hot" after a conflict on it: commands on it take its
# lock before reading, so a busy key result is written in turn, not in a scrum.
_HOT_SECONDS: Final = 5.0


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often a command that met a concurrent writer is tried again, and how long apart.

    Try ``n`` (from 1) that fails sleeps a random time between 0 and
    ``min(cap, base * 2 ** (n - 1))`` seconds before try ``n + 1``. After
    ``attempts`` tries the last :class:`ConcurrencyError` is raised.

    Set ``Okra.retry_policy`` to change it for one instance, e.g.
    ``RetryPolicy(attempts=1)`` to see every conflict.

    Args:
        attempts: how many times a command is tried in all (at least 1).
        base: the first backoff ceiling, in seconds.
        cap: the largest backoff ceiling, in seconds.

    Example:
        >>> from okra_core import Okra, RetryPolicy
        >>> okra = Okra("memory://")
        >>> okra.retry_policy = RetryPolicy(attempts=1)
        >>> okra.retry_policy.backoff(3) <= 0.02
        True

    .. versionadded:: 0.1
    """

    attempts: int = 25
    base: float = 0.005
    cap: float = 0.25

    def __attrs_post_init__(self) -> None:
        errors = []
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            errors.append(("attempts", "expected a whole number >= 1"))
        elif self.attempts < 1:
            errors.append(("attempts", f"expected a whole number >= 1, got {self.attempts}"))
        for name in ("base", "cap"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= 60
            ):
                errors.append((name, f"expected seconds from 0 to 60, got {value!r}"))
        if errors:
            path, message = errors[0]
            raise ValidationError.single(path, message)

    def backoff(self, failed: int) -> float:
        """The ceiling of the sleep after try number ``failed`` (from 1) failed."""
        return float(min(self.cap, self.base * 2 ** (failed - 1)))

    def sleep_after(self, failed: int) -> float:
        """A random sleep, in seconds, after try number ``failed`` failed."""
        return random.uniform(0, self.backoff(failed))  # jitter, not secrets


DEFAULT_POLICY: Final = RetryPolicy()


@runtime_checkable
class EntityLocks(Protocol):
    """A storage recorder's per-entity locks (optional; PostgreSQL and SQLite have them).

    While a thread is inside ``hold(ids)``, writes by *other* processes to any of
    ``ids`` wait (up to the backend's lock timeout); writes by the holder do not.
    Locks are taken in id order. A backend without the method simply has none.
    """

    def hold(self, entity_ids: Sequence[UUID]) -> contextlib.AbstractContextManager[None]:
        """Hold the locks of ``entity_ids`` for the duration of the ``with`` block."""


_running = threading.local()


def _in_command(okra: object) -> bool:
    return id(okra) in getattr(_running, "ids", set())


@contextlib.contextmanager
def _mark(okra: object) -> Iterator[None]:
    ids: set[int] = getattr(_running, "ids", set())
    _running.ids = ids
    ids.add(id(okra))
    try:
        yield
    finally:
        ids.discard(id(okra))


def _locks_of(okra: Okra) -> EntityLocks | None:
    recorder = getattr(getattr(okra, "_store", None), "recorder", None)
    return recorder if isinstance(recorder, EntityLocks) else None


def _target_id(okra: Okra, args: tuple[Any, ...], kwargs: dict[str, Any]) -> UUID | None:
    """The entity a command is about, from its first argument, if it is known already."""
    ref = args[0] if args else next(iter(kwargs.values()), None)
    if ref is None:
        return None
    try:
        return okra._ctx.refs.resolve_any(ref)
    except (OkraError, TypeError, ValueError, AttributeError):
        return None


def _hot(okra: Okra) -> dict[UUID, float]:
    hot: dict[UUID, float] | None = getattr(okra, "_okra_hot_entities", None)
    if hot is None:
        hot = {}
        okra._okra_hot_entities = hot  # type: ignore[attr-defined]
    now = time.monotonic()
    for entity_id in [i for i, until in hot.items() if until < now]:
        del hot[entity_id]
    return hot


def _retrying(name: str, method: F) -> F:
    @functools.wraps(method)
    def command(okra: Okra, *args: Any, **kwargs: Any) -> Any:
        if _in_command(okra):  # a command run by a command: the outer one retries
            return method(okra, *args, **kwargs)
        policy: RetryPolicy = getattr(okra, "retry_policy", DEFAULT_POLICY)
        locks = _locks_of(okra)
        held: set[UUID] = set()
        for attempt in range(1, policy.attempts + 1):
            # The instance's own lock first, then the entity locks: a thread of
            # this process waiting for the instance never holds an entity lock.
            with okra._ctx.lock, _mark(okra):
                if locks is not None:
                    hot = _hot(okra)
                    if attempt == 1 and hot:
                        target = _target_id(okra, args, kwargs)
                        if target is not None and target in hot:
                            held.add(target)
                hold = locks.hold(sorted(held)) if locks and held else contextlib.nullcontext()
                try:
                    with hold:
                        return method(okra, *args, **kwargs)
                except ConcurrencyError as exc:
                    if attempt == policy.attempts:
                        exc.add_note(f"{name} was tried {attempt} times")
                        log.warning("okra: %s given up after %d tries: %s", name, attempt, exc)
                        raise
                    log.debug("okra: %s met a concurrent writer (try %d): %s", name, attempt, exc)
                    if locks is not None:
                        held.update(exc.entity_ids)
                        until = time.monotonic() + _HOT_SECONDS
                        _hot(okra).update(dict.fromkeys(exc.entity_ids, until))
            time.sleep(policy.sleep_after(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    return command  # type: ignore[return-value]


def install_retries(cls: type[Okra]) -> None:
    """Wrap every command of ``cls`` (see :data:`COMMANDS`) in the retry loop."""
    for name in COMMANDS:
        setattr(cls, name, _retrying(name, getattr(cls, name)))
