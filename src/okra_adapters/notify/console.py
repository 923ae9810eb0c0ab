"""The ``console://`` notifier: notifications as text on a stream or in the log.

``console://stderr`` (the default for ``console://``), ``console://stdout``, or
``console://log`` (the ``okra.notify`` logger, at INFO level). Useful to try the
rules out, and as a record beside the real channels.
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

from okra_core import Notification, Notifier, ValidationError

__all__ = ["NOTIFIERS", "ConsoleChannel", "open_console"]

log = logging.getLogger("okra.notify")

_TARGETS = ("stderr", "stdout", "log")


class ConsoleChannel:
    """Writes each notification as a short text block.

    Args:
        target: ``stderr``, ``stdout`` or ``log``.
    """

    def __init__(self, target: str = "stderr") -> None:
        if target not in _TARGETS:
            raise ValidationError.single(
                "url",
                f"expected console://stderr, console://stdout or console://log, got {target!r}",
            )
        self.target = target

    def deliver(self, notification: Notification) -> None:
        """Write ``notification`` to the stream or the log."""
        block = f"To: {notification.recipient}\n{notification.text}\n"
        if self.target == "log":
            log.info("%s", block)
            return
        # Looked up at each call, so a redirected stream (tests, doctests) is honoured.
        stream = sys.stdout if self.target == "stdout" else sys.stderr
        stream.write(block)
        stream.flush()


def open_console(url: str, secret: str | None) -> ConsoleChannel:
    """A console channel for ``console://stderr`` (or ``stdout``, ``log``)."""
    parts = urlsplit(url)
    return ConsoleChannel(parts.netloc or parts.path.strip("/") or "stderr")


NOTIFIERS = (
    Notifier(
        scheme="console",
        description="notifications as text on stderr, stdout or the log",
        open=open_console,
        example="console://stderr",
    ),
)
"""The console notifier, as the built-in plugin registers it."""
