"""CSRF protection for the forms and bearer tokens for the API.

Forms use a double-submit token: the first page a browser gets sets a cookie
``okra_csrf`` holding a random nonce and its HMAC under the app's secret; every
form carries the nonce in a hidden field. A POST is accepted only when the
cookie's signature is valid and the field equals the cookie's nonce. Another
site can make a browser send the cookie, but cannot read it to fill in the
field. The cookie is ``SameSite=Strict`` and ``HttpOnly`` as well.

The API takes no cookies at all: a write needs ``Authorization: Bearer TOKEN``,
so CSRF does not apply to it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "Csrf", "bearer"]

CSRF_COOKIE = "okra_csrf"
CSRF_FIELD = "csrf_token"


class Csrf:
    """Makes and checks double-submit CSRF tokens signed with ``secret``."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode("ascii"), hashlib.sha256).hexdigest()

    def nonce(self, request: Request) -> tuple[str, str | None]:
        """The request's nonce, and the cookie to set if it had no valid one."""
        found = self._valid_nonce(request.cookies.get(CSRF_COOKIE, ""))
        if found is not None:
            return found, None
        nonce = secrets.token_urlsafe(24)
        return nonce, f"{nonce}.{self._sign(nonce)}"

    def _valid_nonce(self, cookie: str) -> str | None:
        nonce, _, signature = cookie.partition(".")
        if not nonce or not nonce.isascii() or not signature:
            return None
        if not hmac.compare_digest(self._sign(nonce), signature):
            return None
        return nonce

    def check(self, request: Request, submitted: str) -> bool:
        """Whether a submitted form's token matches the request's signed cookie."""
        nonce = self._valid_nonce(request.cookies.get(CSRF_COOKIE, ""))
        return nonce is not None and hmac.compare_digest(nonce, submitted)


def bearer(request: Request) -> str | None:
    """The bearer token of the ``Authorization`` header, if it has one."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
