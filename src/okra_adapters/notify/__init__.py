"""Notifications and reminders: okra's rules, delivered through notifier plugins.

The rules (:mod:`okra_adapters.notify._rules`) read the event log and the clock:
check-ins due, key results slipping, bets resolved, targets moved, weekly
digests, cycles closing and their scorecards. Subscriptions (events in the log,
see :meth:`okra_core.Okra.subscribe`) say who gets which on which channel. A
:class:`Dispatcher` keeps its place in the log and the delivery state in an
outbox, and sends through channels opened by notifier plugins (built in:
``console://``, ``webhook+https://``, ``smtp://``).

See ``docs/notifications.md``.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._dispatch import CHANNEL_ENV_PREFIX, Dispatcher, RunReport, channels_from_env
    from ._outbox import (
        MemoryOutbox,
        Outbox,
        Pending,
        PostgreSQLOutbox,
        SQLiteOutbox,
        open_outbox,
    )
    from ._rules import render
    from .console import ConsoleChannel
    from .smtp import SMTPChannel
    from .webhook import WebhookChannel, sign, slack_payload

# Where each public name lives. They are imported on first use (PEP 562), because
# every `okra` command loads the notify plugin (okra_adapters.notify.plugin, inside
# this package) and most of them never send a notification.
_HOMES = {
    "CHANNEL_ENV_PREFIX": "_dispatch",
    "Dispatcher": "_dispatch",
    "RunReport": "_dispatch",
    "channels_from_env": "_dispatch",
    "MemoryOutbox": "_outbox",
    "Outbox": "_outbox",
    "Pending": "_outbox",
    "PostgreSQLOutbox": "_outbox",
    "SQLiteOutbox": "_outbox",
    "open_outbox": "_outbox",
    "render": "_rules",
    "ConsoleChannel": "console",
    "SMTPChannel": "smtp",
    "WebhookChannel": "webhook",
    "sign": "webhook",
    "slack_payload": "webhook",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "CHANNEL_ENV_PREFIX",
    "ConsoleChannel",
    "Dispatcher",
    "MemoryOutbox",
    "Outbox",
    "Pending",
    "PostgreSQLOutbox",
    "RunReport",
    "SMTPChannel",
    "SQLiteOutbox",
    "WebhookChannel",
    "channels_from_env",
    "open_outbox",
    "render",
    "sign",
    "slack_payload",
]
