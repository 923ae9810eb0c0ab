"""The ``webhook+https://`` and ``webhook+http://`` notifiers: a JSON POST per notification.

The URL is the receiver's, prefixed with ``webhook+``. okra's options go in its
query and are removed before posting; any other query parameter is kept:

- ``format=json`` (default): okra's own payload (key, kind, recipient, subject,
  text, html, data, created_at);
- ``format=slack``: a Slack-compatible payload, ``{"text": ..., "blocks": [...]}``,
  for Slack incoming webhooks and the many tools that accept the same shape;
- ``timeout=SECONDS`` (default 10).

Every request carries ``Idempotency-Key: <notification key>``. With a secret
configured for the channel, it is also signed: ``X-Okra-Timestamp: <unix
seconds>`` and ``X-Okra-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<timestamp>.<body>`` under the secret. A receiver recomputes it to check that
the request came from whoever holds the secret, and refuses old timestamps to
stop replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from okra_core import DeliveryError, Notification, Notifier, ValidationError

from ._url import seconds, shown, split_options

__all__ = ["NOTIFIERS", "WebhookChannel", "open_webhook", "sign", "slack_payload"]

_OPTIONS = frozenset({"format", "timeout"})
_FORMATS = ("json", "slack")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Okra-Signature`` value of ``body`` sent at ``timestamp``: ``sha256=<hex>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _mrkdwn(text: str) -> str:
    # Slack's text format gives &, < and > a meaning: escape them as Slack asks.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """A Slack-compatible message: a ``text`` fallback and ``blocks`` (header, section)."""
    body = notification.text.split("\n\n", 1)[1] if "\n\n" in notification.text else ""
    return {
        "text": _mrkdwn(f"{notification.subject}\n{body}".strip()),
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": notification.subject[:150]},
            },
            *(
                [{"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(body)[:3000]}}]
                if body
                else []
            ),
        ],
    }


def json_payload(notification: Notification) -> dict[str, Any]:
    """Okra's own JSON payload for a notification."""
    return {
        "key": notification.key,
        "kind": notification.kind.value,
        "recipient": notification.recipient,
        "subject": notification.subject,
        "text": notification.text,
        "html": notification.html,
        "data": dict(notification.data),
        "created_at": notification.created_at.isoformat(),
    }


class WebhookChannel:
    """POSTs each notification as JSON to one URL.

    Args:
        url: the receiver's ``http://`` or ``https://`` URL.
        format: ``json`` or ``slack``.
        secret: the signing key (``None``: requests are not signed).
        timeout: seconds to wait for the receiver.
    """

    def __init__(
        self, url: str, *, format: str = "json", secret: str | None = None, timeout: float = 10
    ) -> None:
        if format not in _FORMATS:
            raise ValidationError.single(
                "url", f"expected format=json or format=slack, got format={format!r}"
            )
        self.url = url
        self.format = format
        self.secret = secret
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"WebhookChannel({shown(self.url)!r}, format={self.format!r})"

    def deliver(self, notification: Notification) -> None:
        """POST ``notification``; raise :class:`DeliveryError` unless the receiver says 2xx."""
        payload = (
            slack_payload(notification) if self.format == "slack" else json_payload(notification)
        )
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "okra-notify",
            "Idempotency-Key": notification.key,
        }
        if self.secret:
            stamp = str(int(time.time()))
            headers["X-Okra-Timestamp"] = stamp
            headers["X-Okra-Signature"] = sign(self.secret, stamp, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        where = shown(self.url)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                # Following it would re-send the signed headers without the body,
                # elsewhere, and count a lost payload as delivered.
                raise DeliveryError(
                    f"{where} answered {exc.code} (a redirect); configure the final URL"
                ) from None
            raise DeliveryError(f"{where} answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"cannot reach {where}: {reason}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"{where} answered {status}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are answers, not instructions: they surface as HTTPError."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def open_webhook(url: str, secret: str | None) -> WebhookChannel:
    """A webhook channel for ``webhook+https://host/path?format=slack``."""
    scheme, sep, rest = url.partition("+")
    if scheme != "webhook" or not sep or not rest.startswith(("http://", "https://")):
        raise ValidationError.single(
            "url", f"expected webhook+https://host/path (or webhook+http://), got {shown(url)!r}"
        )
    target, options = split_options(rest, _OPTIONS)
    return WebhookChannel(
        target,
        format=options.get("format", "json"),
        secret=secret,
        timeout=seconds(options, "timeout", 10.0),
    )


NOTIFIERS = tuple(
    Notifier(
        scheme=f"webhook+{protocol}",
        description=f"a JSON POST per notification over {protocol.upper()} "
        "(format=slack for Slack), signed when a secret is set",
        open=open_webhook,
        example=f"webhook+{protocol}://hooks.example.com/okra?format=slack",
    )
    for protocol in ("https", "http")
)
"""The webhook notifiers, as the built-in plugin registers them."""
