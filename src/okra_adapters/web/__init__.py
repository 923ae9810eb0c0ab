"""okra's web UI, JSON API and API tokens, as a built-in plugin.

It adds ``okra serve``, ``okra token create|list|revoke`` and ``okra user`` to the
command line (``okra_cli_commands``), mounts every plugin's ``okra_web_routes`` in
the app, and gives okra the team's roles as an access policy
(``okra_access_policies``): once a store has users, every ``Okra`` opened on it,
here or in Python, refuses what the actor's role does not allow.
The commands load without the ``web`` extra; ``okra serve`` says how to install
it when Starlette, Jinja2 or uvicorn are missing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from okra_adapters.cli._base import FilePath
from okra_core import (
    AccessPolicy,
    Authorizer,
    CliCommand,
    PluginError,
    StorageError,
    hookimpl,
    redact_url,
)

from ._defaults import default_users_path
from ._user_cli import open_users, user

if TYPE_CHECKING:
    from ._tokens import IssuedToken, Token, TokenStore, default_tokens_path

__all__ = [
    "IssuedToken",
    "Token",
    "TokenStore",
    "create_app",
    "default_tokens_path",
    "okra_cli_commands",
]

_TOKEN_NAMES = frozenset({"IssuedToken", "Token", "TokenStore", "default_tokens_path"})


def __getattr__(name: str) -> Any:
    # The tokens' store is imported on first use (PEP 562): every `okra` command
    # loads this plugin, only `okra serve` and `okra token` need it.
    if name not in _TOKEN_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _tokens

    value = getattr(_tokens, name)
    globals()[name] = value
    return value


INSTALL_HINT = "okra serve needs the web extra: pip install 'okra[web]'"


def create_app(*args: Any, **kwargs: Any) -> Any:
    """Make the web app (see :func:`okra_adapters.web._app.create_app`).

    Raises:
        PluginError: the ``web`` extra is not installed.
    """
    try:
        from ._app import create_app as make
    except ImportError as exc:
        raise PluginError(f"{INSTALL_HINT} ({exc})") from exc
    return make(*args, **kwargs)


def _session() -> Any:
    from okra_adapters.cli._base import session

    found = session(click.get_current_context())
    found.require_store()  # a mistyped --store gets no team, nor tokens, of its own
    return found


def _token_store(path: str | None) -> TokenStore:
    from ._tokens import TokenStore, default_tokens_path

    sess = _session()
    where = Path(path) if path else default_tokens_path()
    try:
        return TokenStore(where, sess.url)
    except (sqlite3.Error, OSError, ValueError) as exc:
        shown = str(where) if len(str(where)) <= 200 else str(where)[:200] + "..."
        raise StorageError(f"cannot open the tokens file {shown}: {exc}") from None


def _check_team(sess: Any, doing: str, acting_as: str) -> None:
    """Once the store has users: refuse unless the actor is an admin or ``acting_as``."""
    if not default_users_path().is_file():
        return  # no team anywhere: the store is single-person
    users = open_users(sess.url)
    try:
        users.require_admin(sess.actor, doing, or_self=acting_as)
    finally:
        users.close()


_TOKENS_OPTION = click.option(
    "--tokens",
    "tokens_path",
    type=FilePath(dir_okay=False),
    default=None,
    help="the tokens file (default $OKRA_WEB_TOKENS, else web-tokens.sqlite in okra's data folder)",
)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="the address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--allow-host",
    "allowed",
    multiple=True,
    help="another Host name to answer besides 127.0.0.1, localhost and --host (repeatable)",
)
@click.option(
    "--trust-header",
    "trust_header",
    metavar="HEADER",
    default=None,
    help="take the signed-in user's name from this header (e.g. X-Forwarded-User), "
    "only from a reverse proxy on loopback",
)
@_TOKENS_OPTION
def serve(
    host: str,
    port: int,
    allowed: tuple[str, ...],
    trust_header: str | None,
    tokens_path: str | None,
) -> None:
    """Serve the web UI and the JSON API of the store.

    Without users (`okra user add`), forms record changes as --actor (or
    $OKRA_ACTOR); with users, everyone signs in at /login and forms act as them.
    The API's writes need a token from `okra token create`. The API's description
    is at /api/openapi.json.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise PluginError(f"{INSTALL_HINT} ({exc})") from exc
    sess = _session()
    from ._app import LOCAL_HOSTS

    hosts = [*LOCAL_HOSTS, *allowed, *([host] if host not in ("0.0.0.0", "::") else [])]
    users = open_users(sess.url)  # before the store opens, so its access policy sees the file
    app = create_app(
        sess.okra,
        _token_store(tokens_path),
        actor=sess.actor,
        hosts=hosts,
        users=users,
        trust_header=trust_header,
    )
    who = "signed-in users" if users.has_users() else sess.actor
    click.echo(
        f"okra serves {redact_url(sess.url)} at http://{host}:{port}/ as {who}; Ctrl+C stops it"
    )
    # The app reads X-Forwarded-* itself, from loopback peers only: uvicorn's own
    # reading would replace the peer's address, which --trust-header must see.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


@click.group("token")
def token() -> None:
    """API tokens: create, list and revoke them (kept only as hashes)."""


@token.command("create")
@click.argument("name")
@click.option(
    "--as",
    "acting_as",
    metavar="WHO",
    default=None,
    help="who the token's writes are recorded as (default: --actor)",
)
@_TOKENS_OPTION
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def create(name: str, acting_as: str | None, tokens_path: str | None, as_json: bool) -> None:
    """Create a token NAME; it is shown this once, so copy it now.

    Once the store has users, an admin may create a token acting as anyone, any
    other user only one acting as themself.
    """
    sess = _session()
    actor = (acting_as or sess.actor).strip()
    doing = "create tokens" if actor == sess.actor else f"create tokens acting as {actor!r}"
    _check_team(sess, doing, actor)
    store = _token_store(tokens_path)
    try:
        issued = store.issue(name, actor=actor, issued_by=sess.actor)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({**_token_data(issued.token), "token": issued.secret}))
        return
    click.echo(
        f"created token {issued.token.id} {issued.token.name!r}, acting as {issued.token.actor}"
    )
    click.echo(issued.secret)
    click.echo("keep it now: okra stores only its hash and cannot show it again", err=True)


def _token_data(t: Token) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "actor": t.actor,
        "issued_at": t.issued_at.isoformat(),
        "issued_by": t.issued_by,
        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
        "revoked_by": t.revoked_by,
    }


@token.command("list")
@_TOKENS_OPTION
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_tokens(tokens_path: str | None, as_json: bool) -> None:
    """List the store's tokens, active and revoked."""
    store = _token_store(tokens_path)
    try:
        found = store.tokens()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_token_data(t) for t in found]))
        return
    if not found:
        click.echo("no tokens; create one with `okra token create NAME`")
    for t in found:
        state = (
            "active"
            if t.active
            else f"revoked {t.revoked_at:%Y-%m-%d} by {t.revoked_by}"
            if t.revoked_at
            else ""
        )
        click.echo(
            f"{t.id}  {t.name}  as {t.actor}  issued {t.issued_at:%Y-%m-%d} by {t.issued_by}"
            f"  {state}"
        )


@token.command("revoke")
@click.argument("token_id", metavar="ID")
@_TOKENS_OPTION
def revoke(token_id: str, tokens_path: str | None) -> None:
    """Revoke a token by its id (or name); it stops working at once.

    Once the store has users, an admin may revoke any token, any other user only
    one acting as themself.
    """
    sess = _session()
    store = _token_store(tokens_path)
    try:
        revoked = store.revoke(
            token_id,
            revoked_by=sess.actor,
            check=lambda t: _check_team(sess, f"revoke the token {t.name!r} of {t.actor}", t.actor),
        )
    finally:
        store.close()
    click.echo(f"revoked token {revoked.id} {revoked.name!r}")


@hookimpl
def okra_cli_commands() -> list[CliCommand]:
    """``okra serve``, ``okra token`` and ``okra user``."""
    return [
        CliCommand(name="serve", command=serve),
        CliCommand(name="token", command=token),
        CliCommand(name="user", command=user),
    ]


def _team_authorizer(url: str) -> Authorizer | None:
    """The roles of the store's team, when a users file exists (never made here)."""
    where = default_users_path()
    if not where.is_file():
        return None
    from ._users import UserStore

    return UserStore(where, url).authorizer()


@hookimpl
def okra_access_policies() -> list[AccessPolicy]:
    """The team's roles (see :mod:`okra_adapters.web._roles`)."""
    return [AccessPolicy(name="web.roles", authorizer_for=_team_authorizer)]
