"""``okra sync``: key results bound to a metric source check in by themselves.

:func:`sync` reads every key result bound to a source (``okra kr bind``) whose
objective is active in an active cycle, and records a check-in with
``source=connector`` when the value read differs from the key result's latest
one; the narrative names the source and what it read. A source that fails,
times out or returns something other than a number is reported for that key
result, writes nothing and is read again on the next run; it never stops the
others.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from typing import Any, Literal
from uuid import UUID

import attrs

from okra_core import (
    SECRET_ENV_PREFIX,
    CheckInSource,
    ConcurrencyError,
    CycleStatus,
    KeyResult,
    MetricSource,
    ObjectiveStatus,
    Okra,
    OkraError,
)

from .sources import options

__all__ = ["SyncOutcome", "SyncStatus", "read_with_timeout", "secret_for", "sync"]

SyncStatus = Literal["checked_in", "would_check_in", "unchanged", "failed", "skipped"]
"""What became of one bound key result in a run."""

_DEFAULT_TIMEOUT = 10.0


@attrs.frozen(kw_only=True)
class SyncOutcome:
    """What one run did with one bound key result.

    Attributes:
        key_result_id: the key result.
        key_result: its title.
        source: the URL it is bound to (it holds no secret).
        status: ``checked_in``; ``would_check_in`` (a dry run); ``unchanged``
            (the value read is the latest already, or the source had nothing new);
            ``failed`` (see ``message``; read again next run); ``skipped`` (its
            objective or cycle is not active).
        value: the value read, if any.
        previous: the key result's latest value before the run.
        message: what happened, in words.
    """

    key_result_id: UUID
    key_result: str
    source: str
    status: SyncStatus
    value: float | None = None
    previous: float | None = None
    message: str = ""


def secret_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The secret a source URL names (``secret=NAME``): ``$OKRA_SOURCE_SECRET_<NAME>``.

    Raises:
        LookupError: the URL names a secret that the environment does not hold.
    """
    name = options(url).get("secret")
    if not name:
        return None
    env = os.environ if environ is None else environ
    variable = SECRET_ENV_PREFIX + name.upper()
    if variable not in env:
        raise LookupError(f"the source names secret {name!r}: set {variable}")
    return env[variable]


def read_with_timeout(source: MetricSource, url: str, secret: str | None, timeout: float) -> Any:
    """``source.read(url, secret)``, given up after ``timeout`` seconds.

    The read runs in a daemon thread: a source that hangs is left behind (and
    reported) rather than holding up the others or the end of the process.
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = source.read(url, secret)
        except BaseException as exc:  # handed to the caller, who reports it
            result["error"] = exc

    worker = threading.Thread(target=run, name=f"okra-sync {source.scheme}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in result:
        raise result["error"]
    return result.get("value")


def _limit(url: str, default: float) -> float:
    """The URL's own ``timeout=`` (with a second's grace for the source to say so)."""
    try:
        return float(options(url)["timeout"]) + 1
    except (KeyError, ValueError):
        return default


def _open_for_check_ins(okra: Okra, key_result: KeyResult) -> str:
    objective = okra.objective(key_result.objective_id)
    if objective.status is not ObjectiveStatus.ACTIVE:
        return f"its objective is {objective.status.value}"
    cycle = okra.cycle(objective.cycle_id)
    if cycle.status is not CycleStatus.ACTIVE:
        return f"its cycle {cycle.name!r} is {cycle.status.value}"
    return ""


def _one(
    okra: Okra,
    key_result: KeyResult,
    sources: Mapping[str, MetricSource],
    *,
    actor: str,
    dry_run: bool,
    environ: Mapping[str, str] | None,
    timeout: float,
) -> SyncOutcome:
    url = key_result.source
    scheme = url.partition("://")[0]
    previous = key_result.current_value

    def outcome(status: SyncStatus, message: str, value: float | None = None) -> SyncOutcome:
        return SyncOutcome(
            key_result_id=key_result.id,
            key_result=key_result.title,
            source=url,
            status=status,
            value=value,
            previous=previous,
            message=message,
        )

    closed = _open_for_check_ins(okra, key_result)
    if closed:
        return outcome("skipped", f"not read: {closed}")
    source = sources.get(scheme)
    if source is None:
        installed = ", ".join(sorted(sources)) or "none"
        return outcome("failed", f"no metric source serves {scheme}:// (installed: {installed})")
    try:
        secret = secret_for(url, environ)
        raw = read_with_timeout(source, url, secret, _limit(url, timeout))
    except Exception as exc:
        return outcome("failed", f"{scheme} failed: {exc}")
    if raw is None:
        return outcome("unchanged", f"{scheme} has nothing new")
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return outcome("failed", f"{scheme} returned {raw!r}, not a number")
    value = float(raw)
    if previous is not None and value == previous:
        return outcome("unchanged", f"{scheme} read {value:g}, the latest value already", value)
    narrative = f"okra sync: {scheme} read {value:g}"
    if dry_run:
        return outcome("would_check_in", f"{narrative} (dry run: nothing recorded)", value)
    # Reading the source took time: another writer (a second `okra sync`, a
    # person) may have checked in meanwhile. Compare with the latest value again.
    latest = okra.key_result(key_result.id).current_value
    if latest is not None and latest == value:
        return outcome("unchanged", f"{scheme} read {value:g}, checked in meanwhile", value)
    try:
        okra.check_in(
            key_result, value=value, actor=actor, narrative=narrative,
            source=CheckInSource.CONNECTOR,
        )  # fmt: skip
    except ConcurrencyError:
        return outcome("failed", f"{scheme} read {value:g}; another writer got there first, "
                       "so nothing was recorded: it is read again next run", value)  # fmt: skip
    except OkraError as exc:
        return outcome("failed", f"{scheme} read {value:g}, but the check-in was refused: {exc}")
    return outcome("checked_in", narrative, value)


def sync(
    okra: Okra,
    *,
    actor: str,
    dry_run: bool = False,
    environ: Mapping[str, str] | None = None,
    timeout: float = _DEFAULT_TIMEOUT,
) -> list[SyncOutcome]:
    """Read every bound key result once; check in the values that changed.

    Args:
        okra: the store.
        actor: who the check-ins are recorded as.
        dry_run: read, but record nothing.
        environ: where secrets are read from (default: ``os.environ``).
        timeout: seconds to wait for any one source.

    Returns:
        One outcome per bound key result, in the order they were defined.
    """
    sources = okra.plugins.metric_sources()
    bound = [kr for kr in okra.key_results() if kr.source]
    return [
        _one(okra, kr, sources, actor=actor, dry_run=dry_run, environ=environ, timeout=timeout)
        for kr in bound
    ]
