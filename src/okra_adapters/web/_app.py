"""The web application: pages, forms, the JSON API, static files and plugins' routes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from okra_core import Okra, PluginError, WebRoute

from ._api import api_routes
from ._auth import SignIn, Throttle, auth_routes
from ._common import WebState, signed_in
from ._limits import DEFAULT_MAX_BODY, BodyLimit
from ._pages import page_routes
from ._routine import routine_routes
from ._security import Csrf
from ._tokens import TokenStore
from ._users import UserStore

__all__ = ["create_app"]

_HERE = Path(__file__).parent


def _pct(value: float | None) -> str:
    return "\u2013" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.4g}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_HERE / "templates"),
        autoescape=True,  # every template is HTML; user text is escaped on output
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["clamp"] = lambda v: max(0.0, min(100.0, float(v)))
    env.filters["day"] = lambda at: f"{at:%Y-%m-%d}"
    # A cycle's end is the first instant after it: show the last day it includes.
    env.filters["last_day"] = lambda end: f"{end - timedelta(microseconds=1):%Y-%m-%d}"
    env.filters["when"] = lambda at: f"{at:%Y-%m-%d %H:%M} UTC"
    env.globals["signed_in"] = signed_in  # base.html's header: who, and the sign-out form
    return env


class _SecurityHeaders:
    """Headers that keep pages from being framed or loading anything from elsewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))  # type: ignore[call-overload]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (
                        b"content-security-policy",
                        b"default-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                        b"img-src 'self' data:; "
                        b"frame-ancestors 'none'",
                    ),
                    (b"referrer-policy", b"same-origin"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]


def _plugin_routes(okra: Okra, taken: set[tuple[str, str]]) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for route in okra.plugins.web_routes().values():
        for method in route.methods:
            if (method.upper(), route.path) in taken:
                owner = okra.plugins.claimed_by("okra_web_routes", route.name) or "?"
                raise PluginError(
                    f"plugin {owner!r}: web route {route.name!r} wants {method} {route.path}, "
                    "which okra's web UI answers already"
                )
        routes.append(
            Route(route.path, route.handler, methods=list(route.methods), name=route.name)
        )
    return routes


def _plugin_pages(okra: Okra) -> list[WebRoute]:
    return [
        r
        for r in okra.plugins.web_routes().values()
        if "GET" in r.methods and "{" not in r.path and not r.path.startswith("/api/")
    ]


LOCAL_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost")
"""The host names the app answers by default: a page from elsewhere whose name is
re-bound to 127.0.0.1 (DNS rebinding) is refused, since it would otherwise be
"same origin" and could read the pages and their CSRF tokens."""


def create_app(
    okra: Okra,
    tokens: TokenStore,
    *,
    actor: str,
    secret: bytes | None = None,
    hosts: Sequence[str] = LOCAL_HOSTS,
    max_body: int = DEFAULT_MAX_BODY,
    users: UserStore | None = None,
    trust_header: str | None = None,
    throttle: Throttle | None = None,
) -> Starlette:
    """The web app for ``okra``.

    Args:
        okra: the open store; the app shares it between requests (it is thread-safe).
        tokens: the API tokens of that store.
        actor: who the forms' changes are recorded as.
        secret: the key that signs the forms' CSRF cookies; a random one by default
            (forms opened before a restart must then be reloaded).
        hosts: the ``Host`` names it answers (others get 400): loopback by default.
        max_body: the largest request body taken, in bytes; a larger one gets 413
            before it is read.
        users: the store's team: once it has users, every page needs a signed-in
            person (``/login``), the API a token, and forms act as the person.
            The roles themselves are okra's authorizer's (see ``okra_access_policies``).
        trust_header: a request header naming the signed-in user, believed only
            from a loopback peer (a reverse proxy on the same machine).
        throttle: counts failed sign-ins (a fresh one by default).

    Raises:
        PluginError: a plugin's web route takes a method and path the UI answers.
    """
    routes: list[BaseRoute] = [*page_routes(), *routine_routes(), *api_routes(), *auth_routes()]
    taken = {
        (method, route.path)
        for route in routes
        if isinstance(route, Route)
        for method in (route.methods or ())
    }
    routes += _plugin_routes(okra, taken)
    routes.append(
        Mount(
            "/static", StaticFiles(directory=_HERE / "static", follow_symlink=False), name="static"
        )
    )
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts)),
            Middleware(_SecurityHeaders),
            Middleware(BodyLimit, max_bytes=max_body),
            *(
                [Middleware(SignIn, users=users, tokens=tokens, trust_header=trust_header)]
                if users is not None
                else []
            ),
        ],
    )
    app.state.okra = okra  # for plugins' handlers: request.app.state.okra
    app.state.okra_web = WebState(
        okra=okra,
        tokens=tokens,
        actor=actor,
        csrf=Csrf(secret if secret is not None else secrets.token_bytes(32)),
        templates=_environment(),
        users=users,
        throttle=throttle if throttle is not None else Throttle(),
    )
    app.state.okra_plugin_pages = _plugin_pages(okra)
    return app
