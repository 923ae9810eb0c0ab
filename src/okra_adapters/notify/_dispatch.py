"""The dispatcher: turns the log and the clock into notifications and delivers them.

One run (:meth:`Dispatcher.run_once`) does two steps:

1. **derive**: read the events after the outbox's position and ask the rules
   what each calls for, then ask the clock-based rules what is due now; add
   every notification whose key is new to the outbox *and* move the position,
   in one transaction (a crash before it leaves both as they were; after it,
   nothing is derived twice);
2. **deliver**: send each pending notification that is due through its
   channel; record it delivered, or record the failure and when to try again
   (exponential backoff), or, after ``max_attempts``, give up: a dead letter.

So delivery is *at least once*: a crash after a send but before it is recorded
sends that one notification again on the next run, with the same idempotency
key, which receivers can use to drop the repeat.

Any number of dispatchers may share one outbox (processes, machines): each
*claims* a few due notifications at a time (an atomic claim with a lease, see
:meth:`Outbox.claim`) and sends only what it claimed, so while all are alive
each notification is sent once. Deriving twice is harmless: keys are
deterministic and the outbox adds each key once. If a dispatcher dies holding
claims, another sends them once the lease (``lease``, default 5 minutes) ends.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import attrs

from okra_core import (
    Channel,
    DeliveryError,
    Notification,
    Okra,
    OkraError,
    SubscriptionAdded,
    ValidationError,
)

from ._outbox import MemoryOutbox, Outbox, Pending, open_outbox
from ._rules import derive_due, derive_from_event, fan_out

__all__ = ["CHANNEL_ENV_PREFIX", "Dispatcher", "RunReport", "channels_from_env"]

log = logging.getLogger("okra.notify")

CHANNEL_ENV_PREFIX = "OKRA_CHANNEL_"
"""``OKRA_CHANNEL_<NAME>=url`` configures channel ``name``; ``..._<NAME>_SECRET`` its secret."""

_BATCH = 500  # events read per outbox transaction
_CLAIM = 10  # notifications claimed at a time: small, so that dispatchers share the work


def _env_name(channel: str) -> str:
    return channel.upper().replace("-", "_")


def channels_from_env(
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Channel URLs and secrets from ``OKRA_CHANNEL_<NAME>`` and ``OKRA_CHANNEL_<NAME>_SECRET``.

    ``<NAME>`` is the channel's name in upper case with ``-`` as ``_``
    (``OKRA_CHANNEL_TEAM_CHAT`` configures ``team-chat``).

    Returns:
        ``(urls, secrets)``, both by channel name.
    """
    env = os.environ if environ is None else environ
    urls: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for name, value in env.items():
        if not name.startswith(CHANNEL_ENV_PREFIX) or not value:
            continue
        rest = name[len(CHANNEL_ENV_PREFIX) :]
        if rest.endswith("_SECRET"):
            secrets[rest[: -len("_SECRET")].lower().replace("_", "-")] = value
        else:
            urls[rest.lower().replace("_", "-")] = value
    return urls, secrets


@attrs.frozen(kw_only=True)
class RunReport:
    """What one run did.

    Attributes:
        position: the log position read up to.
        derived: new notifications added to the outbox.
        delivered: notifications delivered.
        failed: deliveries that failed and will be tried again.
        dead: deliveries that failed for the last time (now dead letters).
        pending: notifications still waiting (due later, or retrying).
    """

    position: int
    derived: int
    delivered: int
    failed: int
    dead: int
    pending: int


class Dispatcher:
    """Derives notifications from an okra store and delivers them through channels.

    Args:
        okra: the store. Its clock says what "now" is (reminders, retries).
        channels: channel URLs by name (default: from ``OKRA_CHANNEL_<NAME>``).
        secrets: channel secrets by name, a webhook's signing key or an SMTP
            password (default: from ``OKRA_CHANNEL_<NAME>_SECRET``).
        outbox: where delivery state is kept: an :class:`Outbox` or a URL
            (``sqlite:///path``, ``postgresql://...``, ``memory://``). Default: the
            store's own SQLite file or PostgreSQL database, memory for
            ``memory://`` stores; other stores must name one.
        max_attempts: deliveries tried before a notification becomes a dead letter.
        backoff: the wait after the first failure; it doubles after each.
        max_backoff: the longest wait between two tries.
        environ: where to read ``OKRA_CHANNEL_*`` (default: ``os.environ``).
        lease: how long a claim on a notification lasts; a dispatcher that dies
            holding one delays that notification this long. Longer than any send.

    Example:
        ``Dispatcher(okra, channels={"mail": "smtp://mail.example.com:587?from=okra@example.com&starttls=1"}).run_once()``
    """

    def __init__(
        self,
        okra: Okra,
        *,
        channels: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        outbox: Outbox | str | None = None,
        max_attempts: int = 8,
        backoff: timedelta = timedelta(minutes=1),
        max_backoff: timedelta = timedelta(hours=6),
        environ: Mapping[str, str] | None = None,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError.single("lease", f"expected a positive timedelta, got {lease!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValidationError.single(
                "max_attempts", f"expected a whole number >= 1, got {max_attempts!r}"
            )
        if backoff <= timedelta(0) or max_backoff < backoff:
            raise ValidationError.single("backoff", "expected 0 < backoff <= max_backoff")
        self.okra = okra
        env_urls, env_secrets = channels_from_env(environ)
        self.channels: dict[str, str] = dict(channels) if channels is not None else env_urls
        self._secrets = dict(secrets) if secrets is not None else env_secrets
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.lease = lease
        # Who holds a claim: readable in the outbox, unique per dispatcher.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._owns_outbox = outbox is None or isinstance(outbox, str)
        self.outbox: Outbox = _outbox(okra, outbox)
        self._opened: dict[str, Channel | Exception] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Dispatcher({self.okra!r}, channels={sorted(self.channels)})"

    def __enter__(self) -> Dispatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the outbox if this dispatcher opened it (not the store)."""
        if self._owns_outbox:
            self.outbox.close()

    # --- running ---------------------------------------------------------------

    def run_once(self) -> RunReport:
        """Derive what is due now, then deliver what is pending: one pass, for cron.

        If deriving fails, what was queued before is still delivered, then the
        error is raised.
        """
        with self._lock:
            try:
                derived = self.derive()
            except Exception:
                self.deliver()
                raise
            delivered, failed, dead = self.deliver()
            pending = len(self.outbox.items("pending"))
            return RunReport(
                position=self.outbox.position(),
                derived=derived,
                delivered=delivered,
                failed=failed,
                dead=dead,
                pending=pending,
            )

    def watch(
        self,
        interval: float = 60.0,
        *,
        stop: threading.Event | None = None,
        runs: int | None = None,
    ) -> None:
        """Run again and again, ``interval`` seconds apart, until ``stop`` is set.

        A run that fails (the store is unreachable, say) is logged and the next
        one tries again.

        Args:
            interval: seconds between the end of one run and the start of the next.
            stop: set it (from another thread, a signal handler) to stop.
            runs: stop after this many runs (default: never).
        """
        stop = stop if stop is not None else threading.Event()
        count = 0
        while not stop.is_set():
            try:
                report = self.run_once()
                log.info("okra notify: %s", report)
            except OkraError as exc:
                log.error("okra notify: this run failed: %s", exc)
            except Exception:  # a dropped connection, a locked database, a bug in a rule
                log.exception("okra notify: this run failed unexpectedly; the next one retries")
            count += 1
            if runs is not None and count >= runs:
                return
            stop.wait(interval)

    def derive(self) -> int:
        """Add the notifications that the new events and the clock call for; return how many."""
        okra = self.okra
        now = self._now()
        subscriptions = okra.subscriptions()
        position = self.outbox.position()
        # First pass: where, among the new events, each subscription was last
        # added or changed; it gets notifications about the events after that.
        started: dict[UUID, int] = {}
        last = position
        for at, event in okra.events_after(position):
            last = at
            if isinstance(event, SubscriptionAdded):
                started[event.originator_id] = at
        added = 0
        batch: list[Notification] = []
        for seen, (at, event) in enumerate(okra.events_after(position, upto=last), start=1):
            # Only subscriptions that were there before the event: this also spares
            # the rules' work on a backlog older than every subscription.
            eligible = [s for s in subscriptions if started.get(s.id, 0) < at]
            if eligible:
                drafts = derive_from_event(okra, at, event, eligible)
                batch += fan_out(drafts, eligible, now)
            if seen % _BATCH == 0:
                added += self.outbox.enqueue(batch, at)
                batch = []
        batch += derive_due(okra, now, subscriptions)
        added += self.outbox.enqueue(batch, last)
        return added

    def deliver(self) -> tuple[int, int, int]:
        """Send every due notification this dispatcher can claim; return (delivered, failed, dead).

        It claims a few at a time until none is left unclaimed, so dispatchers
        sharing the outbox share the work and never send the same one twice.
        """
        now = self._now()
        delivered = failed = dead = 0
        for item in self._claimed(now):
            try:
                self._channel(item.notification.channel).deliver(item.notification)
            except Exception as exc:  # any channel may fail in any way; the others go on
                error = f"{type(exc).__name__}: {exc}"
                attempts = item.attempts + 1
                # The exponent is capped before multiplying: 2**41 minutes overflows.
                wait = min(self.backoff * 2 ** min(attempts - 1, 30), self.max_backoff)
                retry_at = now + wait if attempts < self.max_attempts else None
                self.outbox.mark_failed(item.key, error, retry_at)
                n = item.notification
                log.log(
                    logging.WARNING if retry_at else logging.ERROR,
                    "okra notify: %s to %s on %r failed (attempt %d; %s): %s",
                    n.kind.value,
                    n.recipient,
                    n.channel,
                    attempts,
                    f"next in {wait}" if retry_at else "gave up: a dead letter",
                    error,
                )
                if retry_at is None:
                    dead += 1
                else:
                    failed += 1
                continue
            self.outbox.mark_delivered(item.key, now)
            delivered += 1
        return delivered, failed, dead

    # --- dead letters -------------------------------------------------------------

    def dead_letters(self) -> list[Pending]:
        """Notifications given up on, oldest first, each with its last error."""
        return self.outbox.items("dead")

    def retry(self, keys: Iterable[str] | None = None) -> int:
        """Put dead letters (all, or those with ``keys``) back in line; return how many."""
        chosen = [p.key for p in self.dead_letters()] if keys is None else list(keys)
        return self.outbox.revive(chosen, self._now())

    def discard(self, keys: Iterable[str] | None = None) -> int:
        """Forget dead letters (all, or those with ``keys``) for good; return how many."""
        chosen = [p.key for p in self.dead_letters()] if keys is None else list(keys)
        return self.outbox.discard(chosen)

    # --- internals -----------------------------------------------------------------

    def _now(self) -> datetime:
        return self.okra.clock.now()

    def _claimed(self, now: datetime) -> Iterable[Pending]:
        claim = getattr(self.outbox, "claim", None)
        if claim is None:  # an outbox from before claims: this dispatcher must be alone
            yield from self.outbox.due(now)
            return
        while True:
            batch: list[Pending] = claim(now, self.owner, self.lease, _CLAIM)
            if not batch:
                return
            yield from batch

    def _channel(self, name: str) -> Channel:
        opened = self._opened.get(name)
        if opened is None:
            opened = self._opened[name] = self._open(name)
        if isinstance(opened, Exception):
            raise opened
        return opened

    def _open(self, name: str) -> Channel | Exception:
        url = self.channels.get(name)
        if url is None:
            return LookupError(
                f"channel {name!r} is not configured: set {CHANNEL_ENV_PREFIX}{_env_name(name)} "
                "to its URL"
            )
        scheme = urlsplit(url).scheme.lower()
        try:
            notifier = self.okra.plugins.notifiers().get(scheme)
            if notifier is None:
                known = ", ".join(sorted(self.okra.plugins.notifiers())) or "none"
                return LookupError(
                    f"channel {name!r}: no notifier serves {scheme}:// (installed: {known})"
                )
            return notifier.open(url, self._secrets.get(name))
        except Exception as exc:  # a plugin's bad URL check, or a bug in it
            return DeliveryError(f"channel {name!r} cannot be opened: {exc}")


def _outbox(okra: Okra, outbox: Outbox | str | None) -> Outbox:
    if outbox is None:
        scheme = urlsplit(okra.url).scheme
        if scheme == "memory":
            return MemoryOutbox()
        if scheme in ("sqlite", "postgresql"):
            return open_outbox(okra.url)
        raise ValidationError.single(
            "outbox",
            f"a {scheme}:// store keeps no outbox of its own yet; pass one, "
            "e.g. outbox='sqlite:///var/lib/okra/outbox.sqlite'",
        )
    if isinstance(outbox, str):
        return open_outbox(outbox)
    return outbox
