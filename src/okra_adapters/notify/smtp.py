"""The ``smtp://`` and ``smtps://`` notifiers: an email per notification.

``smtp://[user@]host[:port]?from=okra@example.com&starttls=1`` sends through an
SMTP server; ``smtps://`` connects over TLS from the start (port 465 by
default). Options in the query:

- ``from`` (required): the sender address;
- ``starttls=1``: upgrade the connection with STARTTLS before anything else
  (refused if the server does not offer it);
- ``cafile=PATH``: trust this CA bundle (a private CA, a self-signed server);
- ``timeout=SECONDS`` (default 30).

With a user in the URL, okra logs in with the channel's secret as the password
(``OKRA_CHANNEL_<NAME>_SECRET``, or the ``secrets`` given to the dispatcher).
Each message is ``multipart/alternative``, plain text and HTML, to the
subscription's recipient. Its ``Message-ID`` is derived from the notification's
idempotency key, so a message sent twice (after a crash) has the same id both
times, and ``X-Okra-Key`` carries the key itself.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from okra_core import Notification, Notifier, ValidationError

from ._url import flag, seconds, shown, split_options

__all__ = ["NOTIFIERS", "SMTPChannel", "message_id", "open_smtp"]

_OPTIONS = frozenset({"from", "starttls", "cafile", "timeout"})


def message_id(key: str, sender: str) -> str:
    """The ``Message-ID`` of the notification with idempotency key ``key``."""
    domain = sender.rpartition("@")[2] or "okra.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"


class SMTPChannel:
    """Sends each notification as an email through one SMTP server.

    Args:
        host, port: the server.
        sender: the From address.
        tls: ``"starttls"``, ``"implicit"`` (SMTPS) or ``None`` (plain).
        user, password: log in with these (when ``user`` is set).
        cafile: a CA bundle to trust instead of the system's.
        timeout: seconds to wait for the server.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        tls: str | None = None,
        user: str | None = None,
        password: str | None = None,
        cafile: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.tls = tls
        self.user = user
        self._password = password
        self.cafile = cafile
        self.timeout = timeout

    def __repr__(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"SMTPChannel({who}{self.host}:{self.port}, tls={self.tls!r})"

    def message(self, notification: Notification) -> EmailMessage:
        """The email for ``notification``."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = notification.recipient
        # One line: a name or title may hold a line break, which no header may.
        message["Subject"] = " ".join(notification.subject.split())
        message["Date"] = format_datetime(notification.created_at)
        message["Message-ID"] = message_id(notification.key, self.sender)
        message["X-Okra-Key"] = notification.key
        message["X-Okra-Kind"] = notification.kind.value
        message.set_content(notification.text)
        message.add_alternative(
            f"<!DOCTYPE html><html><body>{notification.html}</body></html>", subtype="html"
        )
        return message

    def deliver(self, notification: Notification) -> None:
        """Send ``notification``; raise if the server does not accept it."""
        message = self.message(notification)
        context = ssl.create_default_context(cafile=self.cafile)
        smtp: smtplib.SMTP
        if self.tls == "implicit":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.tls == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self._password or "")
            smtp.send_message(message)


def open_smtp(url: str, secret: str | None) -> SMTPChannel:
    """An SMTP channel for ``smtp://user@host:587?from=...&starttls=1`` (or ``smtps://``)."""
    rest, options = split_options(url, _OPTIONS)
    parts = urlsplit(rest)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValidationError.single(
            "url", f"expected smtp://host:port?from=address (or smtps://), got {shown(url)!r}"
        )
    sender = options.get("from", "").strip()
    if "@" not in sender:
        raise ValidationError.single(
            "url",
            f"expected from=<sender address> in the query of {parts.scheme}://{parts.hostname}",
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationError.single("url", f"expected a port number in {shown(url)!r}") from None
    user = unquote(parts.username) if parts.username else None
    password = (
        secret if secret is not None else (unquote(parts.password) if parts.password else None)
    )
    if user and password is None:
        raise ValidationError.single(
            "url",
            f"{parts.scheme}://{user}@{parts.hostname} logs in as {user!r}: set the channel's "
            "secret (OKRA_CHANNEL_<NAME>_SECRET) to the password",
        )
    implicit = parts.scheme == "smtps"
    starttls = flag(options, "starttls")
    if implicit and starttls:
        raise ValidationError.single("url", "expected either smtps:// or starttls=1, not both")
    return SMTPChannel(
        parts.hostname,
        port or (465 if implicit else 25),
        sender=sender,
        tls="implicit" if implicit else "starttls" if starttls else None,
        user=user,
        password=password,
        cafile=options.get("cafile") or None,
        timeout=seconds(options, "timeout", 30.0),
    )


NOTIFIERS = (
    Notifier(
        scheme="smtp",
        description="an email per notification (starttls=1 to encrypt, a user to log in)",
        open=open_smtp,
        example="smtp://okra@mail.example.com:587?from=okra@example.com&starttls=1",
    ),
    Notifier(
        scheme="smtps",
        description="an email per notification over TLS from the start",
        open=open_smtp,
        example="smtps://okra@mail.example.com?from=okra@example.com",
    ),
)
"""The email notifiers, as the built-in plugin registers them."""
