"""``okra user``: the team of a store, for ``okra serve`` and for okra's authorizer.

Users live in the users file (``$OKRA_WEB_USERS``, else ``web-users.sqlite`` in
okra's data folder), beside the tokens. Once a store has users, only an admin
(the ``--actor`` okra runs as) may change them; the first user must be an admin.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from okra_core import StorageError

from ._defaults import INVITATION_LIFETIME, default_users_path
from ._roles import Role, parse_role

if TYPE_CHECKING:
    from ._users import User, UserStore

__all__ = ["open_users", "user"]

_ROLES = click.Choice([r.value for r in Role])


def _session() -> Any:
    from okra_adapters.cli._base import session

    found = session(click.get_current_context())
    found.require_store()  # a mistyped --store gets no team, nor tokens, of its own
    return found


def open_users(url: str) -> UserStore:
    """The users file of the store at ``url``.

    Raises:
        StorageError: it cannot be opened.
    """
    from ._users import UserStore  # only the commands that open the file load it

    where = default_users_path()
    try:
        return UserStore(where, url)
    except (sqlite3.Error, OSError) as exc:
        shown = str(where) if len(str(where)) <= 200 else str(where)[:200] + "..."
        raise StorageError(f"cannot open the users file {shown}: {exc}") from None


def _admin_store(doing: str) -> tuple[Any, UserStore]:
    sess = _session()
    store = open_users(sess.url)
    try:
        store.require_admin(sess.actor, doing)
    except BaseException:
        store.close()
        raise
    return sess, store


@click.group("user")
def user() -> None:
    """The team that signs in to `okra serve`: users, roles and invitations.

    Roles: viewer (reads), contributor (checks in, changes what they own), admin
    (everything). They apply to the web UI, the API's tokens, and to `okra` and
    Python on this machine, through okra's authorizer.
    """


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("password", hide_input=True, confirmation_prompt=True)
    return password


@user.command("add")
@click.argument("name")
@click.option("--role", type=_ROLES, required=True, help="what they may do")
@click.option(
    "--password-stdin", is_flag=True, help="read the password from the first line of stdin"
)
def add(name: str, role: str, password_stdin: bool) -> None:
    """Add NAME with a password (asked for, unless --password-stdin)."""
    sess, store = _admin_store("add users")
    try:
        added = store.add(
            name,
            role=parse_role(role),
            password=_read_password(password_stdin),
            added_by=sess.actor,
        )
    finally:
        store.close()
    click.echo(f"added {added.name} as {added.role.value}")


def _user_data(u: User) -> dict[str, Any]:
    return {
        "name": u.name,
        "role": u.role.value,
        "added_at": u.added_at.isoformat(),
        "added_by": u.added_by,
        "removed_at": u.removed_at.isoformat() if u.removed_at else None,
        "removed_by": u.removed_by,
    }


@user.command("list")
@click.option("--pending", is_flag=True, help="list the invitations not used yet instead")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def list_users(pending: bool, as_json: bool) -> None:
    """List the store's users, active and removed (or, with --pending, the invitations)."""
    store = open_users(_session().url)
    try:
        if pending:
            _list_pending(store, as_json)
            return
        found = store.users()
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([_user_data(u) for u in found]))
        return
    if not found:
        click.echo("no users: okra serve is for one person; add one with `okra user add`")
    for u in found:
        state = "active" if u.active else f"removed {u.removed_at:%Y-%m-%d} by {u.removed_by}"
        click.echo(
            f"{u.name}  {u.role.value}  added {u.added_at:%Y-%m-%d} by {u.added_by}  {state}"
        )


def _list_pending(store: UserStore, as_json: bool) -> None:
    found = store.pending()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "name": p.name,
                        "role": p.role.value,
                        "invited_at": p.invited_at.isoformat(),
                        "invited_by": p.invited_by,
                        "expires_at": p.expires_at.isoformat(),
                    }
                    for p in found
                ]
            )
        )
        return
    if not found:
        click.echo("no pending invitations")
    for p in found:
        click.echo(
            f"{p.name}  {p.role.value}  invited {p.invited_at:%Y-%m-%d} by {p.invited_by}"
            f"  until {p.expires_at:%Y-%m-%d %H:%M} UTC"
        )


@user.command("uninvite")
@click.argument("name")
def uninvite(name: str) -> None:
    """Cancel NAME's pending invitation: the link opens nothing from now on."""
    sess, store = _admin_store("cancel invitations")
    try:
        store.uninvite(name, by=sess.actor)
    finally:
        store.close()
    click.echo(f"cancelled the invitation of {name.strip()}")


@user.command("role")
@click.argument("name")
@click.argument("role", type=_ROLES)
def set_role(name: str, role: str) -> None:
    """Give NAME the role ROLE (viewer, contributor or admin)."""
    sess, store = _admin_store("change roles")
    try:
        changed = store.set_role(name, parse_role(role), by=sess.actor)
    finally:
        store.close()
    click.echo(f"{changed.name} is {changed.role.value} now")


@user.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Remove NAME: they can no longer sign in (the row stays, marked)."""
    sess, store = _admin_store("remove users")
    try:
        removed = store.remove(name, by=sess.actor)
    finally:
        store.close()
    click.echo(f"removed {removed.name}; their sessions have ended")


@user.command("invite")
@click.argument("name")
@click.option("--role", type=_ROLES, required=True, help="what they may do")
@click.option(
    "--hours",
    type=click.IntRange(1, 24 * 30),
    default=int(INVITATION_LIFETIME.total_seconds() // 3600),
    show_default=True,
    help="how long the link works",
)
@click.option(
    "--base-url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="where okra serve is reached, for the link",
)
def invite(name: str, role: str, hours: int, base_url: str) -> None:
    """Invite NAME: prints a one-time link where they choose their password."""
    sess, store = _admin_store("invite users")
    try:
        made = store.invite(
            name, role=parse_role(role), invited_by=sess.actor, lifetime=timedelta(hours=hours)
        )
    finally:
        store.close()
    click.echo(f"{base_url.rstrip('/')}/invite/{made.secret}")
    click.echo(
        f"send it to {made.name}: it works once, until {made.expires_at:%Y-%m-%d %H:%M} UTC; "
        "okra keeps only its hash",
        err=True,
    )


@user.command("refusals")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def refusals(as_json: bool) -> None:
    """The commands the roles refused: when, who, as what, what."""
    store = open_users(_session().url)
    try:
        found = store.refusals()
    finally:
        store.close()
    rows = [
        {
            "at": r.at.isoformat(),
            "actor": r.actor,
            "role": r.role.value if r.role else None,
            "command": r.command,
            "target": r.target,
        }
        for r in found
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("nothing refused")
    for r in found:
        role = r.role.value if r.role else "not a user"
        on = f" on {r.target}" if r.target else ""
        click.echo(f"{r.at:%Y-%m-%d %H:%M:%S}  {r.actor} ({role})  {r.command}{on}")
