"""The team of a store: its users and roles, invitations, sessions and refusals.

Like the API tokens (see :mod:`okra_adapters.web._tokens`), these are the web
adapter's credentials, not facts of the OKR domain, so they live in an SQLite
file of their own (``$OKRA_WEB_USERS``, else ``web-users.sqlite`` in okra's data
folder), never in the log that is exported and shared. Rows belong to one store
(its canonical form, however its URL is spelled: see
:func:`okra_adapters.web._tokens.store_key`), so one file can hold the teams of
several stores.

- A password is kept only as its Argon2id hash (argon2-cffi's defaults: 64 MiB,
  three passes), which is memory-hard, so a stolen file is slow to guess from.
- An invitation and a session are random secrets (256 bits) kept only as their
  SHA-256: they are long and random, so a fast hash suffices, and a copy of the
  file opens nothing.
- Removing a user, using an invitation or ending a session marks the row; no row
  is ever deleted, so the file is the team's own audit trail. Refused commands
  are written to it too (:meth:`UserStore.refusals`), since a refused command
  writes nothing to the store's log.
- The key that signs the session cookies is kept beside the file
  (``web-users.sqlite.key``, readable by its owner only), made on first use.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from okra_core import (
    Authorizer,
    Entity,
    FieldError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

from ._defaults import INVITATION_LIFETIME, SESSION_LIFETIME, default_users_path
from ._roles import Role, allowed
from ._tokens import StoreFile

__all__ = [
    "INVITATION_LIFETIME",
    "SESSION_LIFETIME",
    "Invitation",
    "Pending",
    "Refusal",
    "User",
    "UserStore",
    "default_users_path",
]

MIN_PASSWORD = 10
"""The shortest password taken."""

_SCHEMA = (
    """create table if not exists okra_web_users (
        store text not null, name text not null, role text not null, hash text not null,
        added_at text not null, added_by text not null,
        removed_at text, removed_by text
    )""",
    """create table if not exists okra_web_invitations (
        store text not null, hash text primary key, name text not null, role text not null,
        invited_at text not null, invited_by text not null, expires_at text not null,
        used_at text, cancelled_at text, cancelled_by text
    )""",
    """create table if not exists okra_web_sessions (
        store text not null, hash text primary key, name text not null,
        started_at text not null, expires_at text not null, ended_at text
    )""",
    """create table if not exists okra_web_refusals (
        store text not null, at text not null, actor text not null, role text,
        command text not null, target text not null
    )""",
)

_TABLES = ("okra_web_users", "okra_web_invitations", "okra_web_sessions", "okra_web_refusals")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _hasher() -> Any:
    from argon2 import PasswordHasher  # the web extra; reading roles does not need it

    return PasswordHasher()


@attrs.frozen(kw_only=True)
class User:
    """A member of the team (never their password).

    Attributes:
        name: their name, the actor their changes are recorded as.
        role: what they may do.
        added_at, added_by: when and by whom they were added.
        removed_at, removed_by: when and by whom they were removed, if they were.
    """

    name: str
    role: Role
    added_at: datetime
    added_by: str
    removed_at: datetime | None = None
    removed_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether they may still sign in."""
        return self.removed_at is None


@attrs.frozen(kw_only=True)
class Invitation:
    """An invitation to join: the link's secret is shown once, when it is made."""

    name: str
    role: Role
    invited_by: str
    expires_at: datetime
    secret: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class Pending:
    """An invitation not used yet (its link's secret is not kept, so not shown)."""

    name: str
    role: Role
    invited_at: datetime
    invited_by: str
    expires_at: datetime


@attrs.frozen(kw_only=True)
class Refusal:
    """A command the rules refused: who asked, as what, for what."""

    at: datetime
    actor: str
    role: Role | None
    command: str
    target: str


def _check_name(errors: list[FieldError], field: str, name: str) -> str:
    stripped = name.strip()
    if not stripped or len(stripped) > 200 or not stripped.isprintable():
        errors.append(FieldError(field, "expected a name of 1 to 200 printable characters"))
    return stripped


def check_password(password: str, field: str = "password") -> list[FieldError]:
    """What is wrong with a new password: at least 10 characters, at most 1024."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= 1024:
        return [FieldError(field, f"expected a password of {MIN_PASSWORD} to 1024 characters")]
    return []


class _TeamFile(StoreFile):
    """The users file of one store: its connection, who is on the team, the sessions."""

    def __init__(
        self,
        path: Path | str,
        store_url: str,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(path, store_url, _SCHEMA, _TABLES)
        with self._lock:  # a file from before invitations could be cancelled
            columns = {
                row[1] for row in self._db.execute("pragma table_info(okra_web_invitations)")
            }
            for column in ("cancelled_at", "cancelled_by"):
                if column not in columns:
                    self._db.execute(f"alter table okra_web_invitations add column {column} text")
        self.now = now
        self._key: bytes | None = None
        self._dummy: str | None = None

    # --- users ---------------------------------------------------------------------

    def users(self) -> list[User]:
        """Every user of the store, active or removed, in the order they were added."""
        with self._lock:
            return self._users(self._db)

    def _users(self, db: sqlite3.Connection) -> list[User]:
        rows = db.execute(
            "select name, role, added_at, added_by, removed_at, removed_by from okra_web_users"
            " where store = ? order by added_at, rowid",
            (self.store,),
        ).fetchall()
        return [
            User(
                name=row[0],
                role=Role(row[1]),
                added_at=datetime.fromisoformat(row[2]),
                added_by=row[3],
                removed_at=datetime.fromisoformat(row[4]) if row[4] else None,
                removed_by=row[5],
            )
            for row in rows
        ]

    def _active(self, db: sqlite3.Connection) -> dict[str, User]:
        return {u.name: u for u in self._users(db) if u.active}

    def has_users(self) -> bool:
        """Whether the store has a team at all (else ``okra serve`` is single-person)."""
        with self._lock:
            row = self._db.execute(
                "select 1 from okra_web_users where store = ? and removed_at is null limit 1",
                (self.store,),
            ).fetchone()
        return row is not None

    def user(self, name: str) -> User | None:
        """The active user called ``name``, if there is one."""
        with self._lock:
            return self._active(self._db).get(name.strip())

    # --- sessions ------------------------------------------------------------------

    def signing_key(self) -> bytes:
        """The key that signs session cookies, from the file beside this one (made once)."""
        if self._key is not None:
            return self._key
        if self.path == ":memory:":
            self._key = secrets.token_bytes(32)
            return self._key
        where = Path(self.path + ".key")
        try:
            fd = os.open(where, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            self._key = bytes.fromhex(where.read_text().strip())
            return self._key
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        self._key = bytes.fromhex(where.read_text().strip())
        return self._key

    def start_session(self, user: User) -> str:
        """A new session for ``user``: its secret (only the hash is kept)."""
        secret = secrets.token_urlsafe(32)
        now = self.now()
        with self._transaction() as db:
            db.execute(
                "insert into okra_web_sessions (store, hash, name, started_at, expires_at)"
                " values (?, ?, ?, ?, ?)",
                (
                    self.store,
                    _digest(secret),
                    user.name,
                    now.isoformat(),
                    (now + SESSION_LIFETIME).isoformat(),
                ),
            )
        return secret

    def session(self, secret: str) -> tuple[User, datetime] | None:
        """The user of a live session and when it expires, else None."""
        with self._lock:
            row = self._db.execute(
                "select name, expires_at from okra_web_sessions"
                " where store = ? and hash = ? and ended_at is null",
                (self.store, _digest(secret)),
            ).fetchone()
            if row is None or datetime.fromisoformat(row[1]) <= self.now():
                return None
            user = self._active(self._db).get(row[0])
        return (user, datetime.fromisoformat(row[1])) if user is not None else None

    def renew_session(self, secret: str) -> datetime:
        """Push a live session's expiry to a full lifetime from now; the new expiry."""
        expires = self.now() + SESSION_LIFETIME
        with self._transaction() as db:
            db.execute(
                "update okra_web_sessions set expires_at = ?"
                " where store = ? and hash = ? and ended_at is null",
                (expires.isoformat(), self.store, _digest(secret)),
            )
        return expires

    def end_session(self, secret: str) -> None:
        """End a session (sign out): its cookie opens nothing from now on."""
        with self._transaction() as db:
            db.execute(
                "update okra_web_sessions set ended_at = ?"
                " where store = ? and hash = ? and ended_at is null",
                (self.now().isoformat(), self.store, _digest(secret)),
            )

    def _end_sessions(self, db: sqlite3.Connection, name: str) -> None:
        db.execute(
            "update okra_web_sessions set ended_at = ?"
            " where store = ? and name = ? and ended_at is null",
            (self.now().isoformat(), self.store, name),
        )


class UserStore(_TeamFile):
    """The team of one okra store, in an SQLite file: users, invitations, the rules.

    Args:
        path: the SQLite file (made if missing), or ``":memory:"``.
        store_url: the okra store the users work on.
        now: where "now" comes from (the system clock by default).
    """

    def add(self, name: str, *, role: Role, password: str, added_by: str) -> User:
        """Add a user with a password.

        Raises:
            ValidationError: a bad name or password, a name in use, or a first user
                who is not an admin (someone must be able to manage the team).
        """
        errors: list[FieldError] = []
        name = _check_name(errors, "name", name)
        errors += check_password(password)
        if errors:
            raise ValidationError(errors)
        hashed = _hasher().hash(password)
        with self._transaction() as db:
            self._check_new(db, name, role)
            return self._insert(db, name, role, hashed, added_by)

    def _check_new(self, db: sqlite3.Connection, name: str, role: Role) -> None:
        active = self._active(db)
        if name in active:
            raise ValidationError.single("name", f"{name!r} is a user already")
        if not active and role is not Role.ADMIN:
            raise ValidationError.single(
                "role", "expected admin for the first user: someone must manage the team"
            )

    def _insert(
        self, db: sqlite3.Connection, name: str, role: Role, hashed: str, added_by: str
    ) -> User:
        user = User(name=name, role=role, added_at=self.now(), added_by=added_by.strip())
        db.execute(
            "insert into okra_web_users (store, name, role, hash, added_at, added_by)"
            " values (?, ?, ?, ?, ?, ?)",
            (self.store, name, role.value, hashed, user.added_at.isoformat(), user.added_by),
        )
        return user

    def _change(self, name: str, by: str, change: Callable[[User], User]) -> User:
        with self._transaction() as db:
            active = self._active(db)
            found = active.get(name.strip())
            if found is None:
                raise NotFoundError("user", name, "see `okra user list`")
            changed = change(found)
            after = {**active, found.name: changed}
            if not any(u.active and u.role is Role.ADMIN for u in after.values()):
                raise ValidationError.single(
                    "name", f"{found.name!r} is the last admin; make someone else admin first"
                )
            db.execute(
                "update okra_web_users set role = ?, removed_at = ?, removed_by = ?"
                " where store = ? and name = ? and removed_at is null",
                (
                    changed.role.value,
                    changed.removed_at.isoformat() if changed.removed_at else None,
                    changed.removed_by,
                    self.store,
                    found.name,
                ),
            )
            if not changed.active:
                self._end_sessions(db, found.name)
            return changed

    def set_role(self, name: str, role: Role, *, by: str) -> User:
        """Give a user another role (it applies to their next command).

        Raises:
            NotFoundError: no active user has that name.
            ValidationError: it would leave the team without an admin.
        """
        return self._change(name, by, lambda u: attrs.evolve(u, role=role))

    def remove(self, name: str, *, by: str) -> User:
        """Remove a user: marked, never deleted; their sessions end at once.

        Raises:
            NotFoundError: no active user has that name.
            ValidationError: they are the last admin.
        """
        return self._change(
            name, by, lambda u: attrs.evolve(u, removed_at=self.now(), removed_by=by.strip())
        )

    def sign_in(self, name: str, password: str) -> User | None:
        """The active user if the password is theirs, else None.

        An unknown name costs the same hash as a known one, so the answer's timing
        does not tell who is on the team; argon2 compares in constant time.
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._lock:
            row = self._db.execute(
                "select hash from okra_web_users where store = ? and name = ?"
                " and removed_at is null",
                (self.store, name.strip()),
            ).fetchone()
        hasher = _hasher()
        if row is None:
            if self._dummy is None:
                self._dummy = hasher.hash(secrets.token_urlsafe(16))
            stored, known = self._dummy, False
        else:
            stored, known = row[0], True
        try:
            hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.user(name) if known else None

    # --- invitations ---------------------------------------------------------------

    def invite(
        self, name: str, *, role: Role, invited_by: str, lifetime: timedelta = INVITATION_LIFETIME
    ) -> Invitation:
        """An invitation for ``name`` to join as ``role``; only its hash is kept.

        Raises:
            ValidationError: a bad name, one in use, or a lifetime not above zero.
        """
        errors: list[FieldError] = []
        name = _check_name(errors, "name", name)
        if lifetime <= timedelta(0):
            errors.append(FieldError("expires", "expected a lifetime above zero"))
        if errors:
            raise ValidationError(errors)
        secret = secrets.token_urlsafe(32)
        now = self.now()
        invitation = Invitation(
            name=name,
            role=role,
            invited_by=invited_by.strip(),
            expires_at=now + lifetime,
            secret=secret,
        )
        with self._transaction() as db:
            self._check_new(db, name, role)
            db.execute(
                "insert into okra_web_invitations"
                " (store, hash, name, role, invited_at, invited_by, expires_at)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                (
                    self.store,
                    _digest(secret),
                    name,
                    role.value,
                    now.isoformat(),
                    invitation.invited_by,
                    invitation.expires_at.isoformat(),
                ),
            )
        return invitation

    def invitation(self, secret: str) -> Invitation | None:
        """The unused, unexpired invitation whose secret this is, else None."""
        with self._lock:
            return self._invitation(self._db, secret)

    def _invitation(self, db: sqlite3.Connection, secret: str) -> Invitation | None:
        row = db.execute(
            "select name, role, invited_by, expires_at from okra_web_invitations"
            " where store = ? and hash = ? and used_at is null and cancelled_at is null",
            (self.store, _digest(secret)),
        ).fetchone()
        if row is None or datetime.fromisoformat(row[3]) <= self.now():
            return None
        return Invitation(
            name=row[0],
            role=Role(row[1]),
            invited_by=row[2],
            expires_at=datetime.fromisoformat(row[3]),
            secret=secret,
        )

    def pending(self) -> list[Pending]:
        """The invitations not used, cancelled or expired yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "select name, role, invited_at, invited_by, expires_at from okra_web_invitations"
                " where store = ? and used_at is null and cancelled_at is null"
                " order by invited_at, rowid",
                (self.store,),
            ).fetchall()
        found = [
            Pending(
                name=r[0],
                role=Role(r[1]),
                invited_at=datetime.fromisoformat(r[2]),
                invited_by=r[3],
                expires_at=datetime.fromisoformat(r[4]),
            )
            for r in rows
        ]
        return [p for p in found if p.expires_at > self.now()]

    def uninvite(self, name: str, *, by: str) -> int:
        """Cancel every pending invitation for ``name``: their links open nothing from now on.

        Returns how many were cancelled (the rows stay, marked).

        Raises:
            NotFoundError: ``name`` has no pending invitation.
        """
        wanted = name.strip()
        with self._transaction() as db:
            if not any(p.name == wanted for p in self.pending()):
                raise NotFoundError(
                    "pending invitation for", name, "see `okra user list --pending`"
                )
            done = db.execute(
                "update okra_web_invitations set cancelled_at = ?, cancelled_by = ?"
                " where store = ? and name = ? and used_at is null and cancelled_at is null",
                (self.now().isoformat(), by.strip(), self.store, wanted),
            )
            return done.rowcount

    def accept(self, secret: str, password: str) -> User:
        """Join the team by an invitation, with a password of one's own; it works once.

        Raises:
            NotFoundError: the invitation is unknown, used or expired.
            ValidationError: a bad password, or the name was taken meanwhile.
        """
        errors = check_password(password)
        if errors:
            raise ValidationError(errors)
        hashed = _hasher().hash(password)
        with self._transaction() as db:
            found = self._invitation(db, secret)
            if found is None:
                raise NotFoundError("invitation", "this link", "ask for a new one")
            self._check_new(db, found.name, found.role)
            db.execute(
                "update okra_web_invitations set used_at = ? where store = ? and hash = ?",
                (self.now().isoformat(), self.store, _digest(secret)),
            )
            return self._insert(db, found.name, found.role, hashed, found.invited_by)

    # --- the rules -----------------------------------------------------------------

    def authorizer(self) -> Authorizer:
        """The authorizer for this team: the roles' rules, refusals recorded.

        With no users the store is single-person and everyone may do everything.
        """

        def authorize(actor: str, command: str, target: Entity | None) -> bool:
            with self._lock:
                active = self._active(self._db)
                if not active:
                    return True
                user = active.get(actor.strip())
                role = user.role if user is not None else None
                if allowed(role, actor, command, target):
                    return True
                self._refuse(actor, role, command, target)
            return False

        return authorize

    def _refuse(self, actor: str, role: Role | None, command: str, target: Entity | None) -> None:
        what = f"{target.entity_kind.value} {target.label}" if target is not None else ""
        with self._transaction() as db:
            db.execute(
                "insert into okra_web_refusals (store, at, actor, role, command, target)"
                " values (?, ?, ?, ?, ?, ?)",
                (
                    self.store,
                    self.now().isoformat(),
                    actor.strip(),
                    role.value if role else None,
                    command,
                    what,
                ),
            )

    def refusals(self) -> list[Refusal]:
        """The commands the rules refused, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "select at, actor, role, command, target from okra_web_refusals"
                " where store = ? order by at, rowid",
                (self.store,),
            ).fetchall()
        return [
            Refusal(
                at=datetime.fromisoformat(r[0]),
                actor=r[1],
                role=Role(r[2]) if r[2] else None,
                command=r[3],
                target=r[4],
            )
            for r in rows
        ]

    def require_admin(self, actor: str, doing: str, *, or_self: str | None = None) -> None:
        """Refuse ``doing`` unless the team is empty or ``actor`` is one of its admins.

        With ``or_self``, a user whose name it is may do it too (a token of their own).

        Raises:
            PermissionDeniedError: the store has users and ``actor`` is not an admin
                (nor, with ``or_self``, the user named by it).
        """
        with self._lock:
            active = self._active(self._db)
        user = active.get(actor.strip())
        if not active or (user is not None and user.role is Role.ADMIN):
            return
        if user is not None and or_self is not None and or_self.strip() == user.name:
            return
        self._refuse(actor, user.role if user else None, doing, None)
        mine = " or a user for themself" if or_self is not None else ""
        raise PermissionDeniedError(f"{actor.strip()!r} may not {doing}: only an admin may{mine}")
