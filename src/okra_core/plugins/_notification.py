"""What notifier plugins deliver: a rendered :class:`Notification`, through a :class:`Channel`.

okra decides *what* to notify (see ``okra_adapters.notify``); a notifier plugin
decides *how* it travels (a log line, a webhook, an email). The two meet here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from ..domain._values import NotificationKind

__all__ = ["Channel", "DeliveryError", "Notification"]


@attrs.frozen(kw_only=True)
class Notification:
    """One message to one recipient on one channel, ready to send.

    Attributes:
        key: the idempotency key: the same notification always has the same key,
            however often it is derived, so a receiver can drop a repeat (webhooks
            send it as ``Idempotency-Key``, email derives its ``Message-ID`` from it).
        kind: what it is about.
        channel: the short name of the channel it goes to.
        recipient: the address on that channel.
        subject: a one-line summary.
        text: the message as plain text.
        html: the message as HTML (user-written text in it is escaped).
        data: the facts behind it as JSON-ready data (ids, figures, reasons).
        created_at: when it was derived (UTC).

    .. versionadded:: 0.1
    """

    key: str
    kind: NotificationKind
    channel: str
    recipient: str
    subject: str
    text: str
    html: str
    data: Mapping[str, Any] = attrs.field(factory=dict)
    created_at: datetime


@runtime_checkable
class Channel(Protocol):
    """Something a notifier opened from a channel URL, which sends notifications.

    ``deliver`` sends one notification or raises (any exception): the caller
    records the failure and tries again later. It should not retry by itself.

    .. versionadded:: 0.1
    """

    def deliver(self, notification: Notification) -> None:
        """Send ``notification``; raise if it was not accepted."""
        ...  # pragma: no cover


class DeliveryError(Exception):
    """A channel could not deliver a notification (the receiver refused or was away).

    .. versionadded:: 0.1
    """
