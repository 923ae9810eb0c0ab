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

from ._dispatch import CHANNEL_ENV_PREFIX, Dispatcher, RunReport, channels_from_env
from ._outbox import MemoryOutbox, Outbox, Pending, PostgreSQLOutbox, SQLiteOutbox, open_outbox
from ._rules import render
from .console import ConsoleChannel
from .smtp import SMTPChannel
from .webhook import WebhookChannel, sign, slack_payload

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
