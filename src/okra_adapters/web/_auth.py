"""Signing in: sessions, the sign-in and invitation pages, and who a request is.

When the store has users (see :mod:`okra_adapters.web._users`), every page asks
for a signed-in person and the API for a token; with none, ``okra serve`` is for
one person and acts as the actor it was started as, as it always did.

- A session is a random id kept server-side as its hash, sent in the cookie
  ``okra_session`` with an HMAC-SHA256 of it under the install's key (the key
  beside the users file). The signature turns a forged or mangled cookie away
  without a look-up; the server-side row is what makes signing out final. The
  cookie is ``HttpOnly``, ``SameSite=Lax`` (a link from a chat into the
  dashboard still finds you signed in; every form carries a CSRF token anyway),
  ``Secure`` over https (or behind a loopback proxy that says
  ``X-Forwarded-Proto: https``), and lasts :data:`~okra_adapters.web._users.SESSION_LIFETIME`
  from the last request.
- Failed sign-ins are counted per name and per client address: after
  :data:`FREE_FAILURES` the next try must wait, longer after each failure (429
  with ``Retry-After``).
- With ``trust_header`` (``okra serve --trust-header X-Forwarded-User``), a
  request from a loopback peer (a reverse proxy on the same machine that has
  authenticated the person) is signed in as the user that header names; the
  header from any other peer is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from okra_core import OkraError, ValidationError

from ._common import USER_KEY, signed_in
from ._security import CSRF_COOKIE, CSRF_FIELD, bearer
from ._tokens import TokenStore
from ._users import SESSION_LIFETIME, User, UserStore

__all__ = [
    "FREE_FAILURES",
    "SESSION_COOKIE",
    "SignIn",
    "Throttle",
    "auth_routes",
]

SESSION_COOKIE = "okra_session"

FREE_FAILURES = 5
"""Failed sign-ins taken before each further try must wait."""

_RENEW_AFTER = 300.0  # seconds: a session is renewed at most this often
_OPEN_PREFIXES = ("/static/", "/invite/")
_OPEN_PATHS = frozenset({"/login", "/logout"})


class Throttle:
    """Counts failed sign-ins per key; past :data:`FREE_FAILURES`, makes each try wait.

    The wait after the n-th failure beyond the free ones is ``base * 2**(n-1)``
    seconds, at most ``ceiling``. Counts live in memory (one ``okra serve``
    process) and are forgotten after ``ceiling`` seconds without a failure.
    """

    def __init__(
        self,
        *,
        base: float = 15.0,
        ceiling: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base = base
        self.ceiling = ceiling
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (count, last failure)

    def _wait(self, key: str, now: float) -> float:
        count, last = self._failures.get(key, (0, now))
        if count < FREE_FAILURES:
            return 0.0
        delay = min(self.base * 2.0 ** (count - FREE_FAILURES), self.ceiling)
        return max(0.0, last + delay - now)

    def wait(self, *keys: str) -> float:
        """How many seconds a try for ``keys`` must still wait (0: it may go ahead)."""
        now = self.clock()
        with self._lock:
            return max(self._wait(key, now) for key in keys)

    def failed(self, *keys: str) -> None:
        """Count a failed try against each key."""
        now = self.clock()
        with self._lock:
            for key, (_, last) in list(self._failures.items()):
                if now - last > self.ceiling:
                    del self._failures[key]
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of ``key`` (a name that has just signed in)."""
        with self._lock:
            self._failures.pop(key, None)


def _sign(key: bytes, session: str) -> str:
    return hmac.new(key, session.encode("ascii"), hashlib.sha256).hexdigest()


def _cookie_session(users: UserStore, cookie: str) -> str | None:
    """The session id of a cookie whose signature holds, else None (constant time)."""
    session, _, signature = cookie.partition(".")
    if not session or not signature or not session.isascii():
        return None
    expected = _sign(users.signing_key(), session)
    return session if hmac.compare_digest(expected, signature) else None


def _loopback(scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


def _forwarded(request: Request, header: str) -> str:
    """A proxy's ``X-Forwarded-*`` header, believed only from a loopback peer."""
    if not _loopback(request.scope):
        return ""
    return request.headers.get(header, "").split(",")[-1].strip()


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or _forwarded(request, "x-forwarded-proto") == "https"


def _session_cookie(request: Request, value: str, max_age: int) -> str:
    parts = [
        f"{SESSION_COOKIE}={value}",
        "Path=/",
        f"Max-Age={max_age}",
        "HttpOnly",
        "SameSite=Lax",
    ]
    if _https(request):
        parts.append("Secure")
    return "; ".join(parts)


def _lifetime() -> int:
    return int(SESSION_LIFETIME.total_seconds())


class SignIn:
    """ASGI middleware: who the request is, and sign-in required when the store has users.

    Args:
        app: the app behind it.
        users: the store's team.
        tokens: the store's API tokens (the API takes them in place of a session).
        trust_header: a header naming the signed-in user, believed from loopback only.
    """

    def __init__(
        self, app: ASGIApp, users: UserStore, tokens: TokenStore, trust_header: str | None = None
    ) -> None:
        self.app = app
        self.users = users
        self.tokens = tokens
        self.trust_header = trust_header.lower() if trust_header else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its user, or send it to sign in."""
        if scope["type"] != "http" or not await run_in_threadpool(self.users.has_users):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user, renewed = await run_in_threadpool(self._identify, request)
        scope[USER_KEY] = user
        path: str = scope["path"]
        if user is None and not (path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES)):
            if path.startswith("/api/"):
                if not await run_in_threadpool(self._token_holds, request):
                    await self._unauthorized(scope, receive, send, bearer(request) is not None)
                    return
            else:
                query = scope["query_string"].decode("latin-1")
                target = path + (f"?{query}" if query else "")
                response = RedirectResponse(
                    f"/login?next={quote(target, safe='')}", status_code=303
                )
                await response(scope, receive, send)
                return
        if renewed is None or path == "/logout":  # renewing a session being ended: no
            await self.app(scope, receive, send)
            return

        async def send_renewed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("set-cookie", renewed)
            await send(message)

        await self.app(scope, receive, send_renewed)

    def _identify(self, request: Request) -> tuple[User | None, str | None]:
        """The request's user, and a renewed session cookie to send back, if any."""
        if self.trust_header and _loopback(request.scope):
            named = request.headers.get(self.trust_header, "").strip()
            if named:
                return self.users.user(named), None
        cookie = request.cookies.get(SESSION_COOKIE, "")
        session = _cookie_session(self.users, cookie) if cookie else None
        if session is None:
            return None, None
        found = self.users.session(session)
        if found is None:
            return None, None
        user, expires = found
        left = (expires - self.users.now()).total_seconds()
        if left > _lifetime() - _RENEW_AFTER:
            return user, None
        self.users.renew_session(session)
        return user, _session_cookie(request, cookie, _lifetime())

    def _token_holds(self, request: Request) -> bool:
        secret = bearer(request)
        return secret is not None and self.tokens.verify(secret) is not None

    async def _unauthorized(
        self, scope: Scope, receive: Receive, send: Send, token_sent: bool
    ) -> None:
        if token_sent:
            message = "unknown or revoked token: make one with `okra token create`"
            challenge = 'Bearer error="invalid_token"'
        else:
            message = (
                "this store has a team: send Authorization: Bearer TOKEN "
                "(make one with `okra token create`), or sign in at /login"
            )
            challenge = "Bearer"
        response = JSONResponse(
            {"error": message, "fields": [{"path": "authorization", "message": message}]},
            status_code=401,
            headers={"WWW-Authenticate": challenge},
        )
        await response(scope, receive, send)


# --- the pages -----------------------------------------------------------------------


def _state(request: Request) -> Any:
    return request.app.state.okra_web


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    st = _state(request)
    nonce, cookie = st.csrf.nonce(request)
    html = st.templates.get_template(template).render(
        request=request,
        csrf_token=nonce,
        link=lambda path: path,
        static=lambda name: f"/static/{name}",
        reading=None,
        keep_params=[],
        plugin_pages=[],
        notice=None,
        refused=None,
        bare=True,
        **{"error": None, **context},
    )
    response = HTMLResponse(html, status_code=status)
    if cookie is not None:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict", path="/")
    return response


def _next(raw: object) -> str:
    """Where to go after signing in: a path of this site only (never ``//elsewhere``)."""
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith(("//", "/\\")):
        return raw
    return "/"


async def _form(request: Request) -> dict[str, str] | None:
    """The form's text fields, or None when its CSRF token does not hold."""
    form = await request.form()
    data = {k: v for k, v in form.items() if isinstance(v, str)}
    submitted = data.pop(CSRF_FIELD, "")
    return data if _state(request).csrf.check(request, submitted) else None


def _expired(request: Request, template: str, **context: Any) -> HTMLResponse:
    return _render(
        request,
        template,
        403,
        error="The page's security token was missing or wrong: reload the page and try again.",
        **context,
    )


def _client(request: Request) -> str:
    """The client's address: a loopback proxy's ``X-Forwarded-For``, else the peer's."""
    forwarded = _forwarded(request, "x-forwarded-for")
    return forwarded or (request.client.host if request.client else "unknown")


def _signed_in_response(request: Request, users: UserStore, user: User, to: str) -> Response:
    session = users.start_session(user)
    value = f"{session}.{_sign(users.signing_key(), session)}"
    response = RedirectResponse(to, status_code=303)
    response.headers.append("set-cookie", _session_cookie(request, value, _lifetime()))
    return response


async def login_page(request: Request) -> Response:
    """The sign-in form."""
    to = _next(request.query_params.get("next"))
    users: UserStore | None = _state(request).users
    if signed_in(request) is not None or users is None or not users.has_users():
        return RedirectResponse(to, status_code=303)
    return _render(request, "login.html", next=to, name="")


async def login(request: Request) -> Response:
    """Sign in with a name and a password; counted, and slowed after repeated failures."""
    st = _state(request)
    users: UserStore | None = st.users
    if users is None:
        return RedirectResponse("/", status_code=303)
    data = await _form(request)
    if data is None:
        return _expired(request, "login.html", next="/", name="")
    name = data.get("name", "").strip()
    to = _next(data.get("next"))
    keys = (f"name:{name.lower()}", f"address:{_client(request)}")
    wait = st.throttle.wait(*keys)
    if wait > 0:
        seconds = math.ceil(wait)
        response = _render(
            request,
            "login.html",
            429,
            error=f"Too many failed sign-ins: try again in {seconds} seconds.",
            next=to,
            name=name,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await run_in_threadpool(users.sign_in, name, data.get("password", ""))
    if user is None:
        st.throttle.failed(*keys)
        return _render(
            request, "login.html", 401, error="Wrong name or password.", next=to, name=name
        )
    st.throttle.succeeded(keys[0])
    return await run_in_threadpool(_signed_in_response, request, users, user, to)


async def logout(request: Request) -> Response:
    """Sign out: the session ends on the server, the cookie is cleared."""
    users: UserStore | None = _state(request).users
    data = await _form(request)
    if data is None:
        return _expired(request, "login.html", next="/", name="")
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if users is not None and cookie:
        session = _cookie_session(users, cookie)
        if session is not None:
            await run_in_threadpool(users.end_session, session)
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", _session_cookie(request, "", 0))
    return response


def _invitation_or_404(request: Request) -> tuple[UserStore, Any] | HTMLResponse:
    users: UserStore | None = _state(request).users
    secret: str = request.path_params["secret"]
    found = users.invitation(secret) if users is not None else None
    if users is None or found is None:
        return _render(
            request,
            "invite.html",
            404,
            error="This invitation is unknown, used or expired: ask for a new one.",
            invitation=None,
        )
    return users, found


async def invite_page(request: Request) -> Response:
    """The invitation's form: choose a password."""
    found = await run_in_threadpool(_invitation_or_404, request)
    if isinstance(found, HTMLResponse):
        return found
    return _render(request, "invite.html", invitation=found[1])


async def accept_invitation(request: Request) -> Response:
    """Join with the invitation and a password, and be signed in."""
    found = await run_in_threadpool(_invitation_or_404, request)
    if isinstance(found, HTMLResponse):
        return found
    users, invitation = found
    data = await _form(request)
    if data is None:
        return _expired(request, "invite.html", invitation=invitation)
    password = data.get("password", "")
    try:
        if password != data.get("confirm", ""):
            raise ValidationError.single("confirm", "expected the same password twice")
        user = await run_in_threadpool(users.accept, invitation.secret, password)
    except OkraError as exc:
        fields = {e.path: e.message for e in exc.errors} if isinstance(exc, ValidationError) else {}
        message = "Check the fields marked below." if fields else str(exc)
        return _render(
            request, "invite.html", 422, error=message, errors=fields, invitation=invitation
        )
    return await run_in_threadpool(_signed_in_response, request, users, user, "/")


def auth_routes() -> list[BaseRoute]:
    """``/login``, ``/logout`` and ``/invite/{secret}``."""
    return [
        Route("/login", login_page, methods=["GET"], name="login"),
        Route("/login", login, methods=["POST"], name="login.post"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/invite/{secret}", invite_page, methods=["GET"], name="invite"),
        Route("/invite/{secret}", accept_invitation, methods=["POST"], name="invite.post"),
    ]
