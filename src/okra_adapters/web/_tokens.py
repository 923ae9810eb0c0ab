"""API tokens: issued and revoked from the command line, kept only as hashes.

A token is ``secrets.token_urlsafe(32)`` (256 random bits), shown once when it is
issued. The file keeps its SHA-256 hash, its name, the actor it acts as, who
issued it and when, and who revoked it and when: revoking marks the row, it never
deletes it, so the file is its own audit trail. Rows belong to one store (its
canonical form, :func:`store_key`), so one tokens file can serve several stores
without a token of one opening another.

Why not okra's own log: tokens are credentials of the web adapter, not facts of
the OKR domain; the domain log is exported, imported and shared, and a token's
hash has no business travelling with it. okra_core also offers plugins no public
way to record their own events.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from okra_core import FieldError, NotFoundError, ValidationError, redact_url

from ._defaults import default_tokens_path

__all__ = [
    "IssuedToken",
    "StoreFile",
    "Token",
    "TokenStore",
    "default_tokens_path",
    "store_key",
]

_SCHEMA = """
create table if not exists okra_web_tokens (
    id text primary key,
    store text not null,
    name text not null,
    actor text not null,
    hash text not null unique,
    issued_at text not null,
    issued_by text not null,
    revoked_at text,
    revoked_by text
)
"""


def store_key(url: str) -> str:
    """The one spelling of the store at ``url`` that its rows are kept under.

    However a URL names a store, its team and tokens must be the same: an SQLite
    store is the real path of its file (``//``, ``./``, ``..`` and symlinks
    resolved); a PostgreSQL store is its host, port, database and schema (no user
    or password); any other URL is kept as it is, password hidden.
    """
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite":
        from okra_adapters.storage.sqlite import sqlite_path

        try:
            path = sqlite_path(url)
        except ValidationError:
            return redact_url(url)
        return url if path is None else f"sqlite:///{os.path.realpath(path)}"
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(url)
        try:
            port = parts.port or 5432
        except ValueError:
            return redact_url(url)
        host = (parts.hostname or "").lower()
        database = unquote(parts.path.lstrip("/"))
        schema = parse_qs(parts.query).get("schema", [""])[-1]
        return f"postgresql://{host}:{port}/{database}" + (f"?schema={schema}" if schema else "")
    return redact_url(url)


def _owner_only(path: str) -> None:
    """Make the file readable by its owner only (0600), as its hashes are credentials.

    A new file is made so; an existing one of ours that others could read is
    narrowed (SQLite gives its journal the file's mode).
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        info = os.stat(path)
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # sqlite3 says what is wrong with the path when it opens it


class StoreFile:
    """An SQLite file of the web adapter's own, whose rows belong to one okra store.

    Rows are kept under :func:`store_key`. Rows a former version kept under the URL
    as it was spelled (password hidden) move to that key when the store is opened
    by that spelling, unless the key has rows of its own in that table already.

    Args:
        path: the SQLite file (made if missing), or ``":memory:"``.
        store_url: the okra store whose rows these are.
        schema: the statements that make its tables, if missing.
        tables: the tables whose rows have a ``store`` column.
    """

    def __init__(
        self, path: Path | str, store_url: str, schema: Sequence[str], tables: Sequence[str]
    ) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _owner_only(self.path)
        self.store = store_key(store_url)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("pragma busy_timeout = 5000")
            for statement in schema:
                self._db.execute(statement)
        old = redact_url(store_url)
        if old != self.store:
            self._move_rows(old, tables)

    def _move_rows(self, old: str, tables: Sequence[str]) -> None:
        with self._transaction() as db:
            for table in tables:
                if db.execute(f"select 1 from {table} where store = ?", (self.store,)).fetchone():
                    continue
                db.execute(f"update {table} set store = ? where store = ?", (self.store, old))

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("begin immediate")
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            self._db.execute("commit")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class Token:
    """What is known about an API token (never the token itself).

    Attributes:
        id: a short public id, to revoke it by.
        name: what it is for (``browser-extension``).
        actor: who the API's writes are recorded as.
        issued_at, issued_by: when and by whom it was issued.
        revoked_at, revoked_by: when and by whom it was revoked, if it was.
    """

    id: str
    name: str
    actor: str
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether it still opens the API."""
        return self.revoked_at is None


@attrs.frozen(kw_only=True)
class IssuedToken:
    """A token just issued: the secret is shown this once and never again.

    Attributes:
        token: what is known about it.
        secret: the bearer token to give to the client.
    """

    token: Token
    secret: str


class TokenStore(StoreFile):
    """The API tokens of one okra store, in an SQLite file.

    Args:
        path: the SQLite file (made if missing), or ``":memory:"``.
        store_url: the okra store the tokens open.
    """

    def __init__(self, path: Path | str, store_url: str) -> None:
        super().__init__(path, store_url, [_SCHEMA], ["okra_web_tokens"])

    def issue(self, name: str, *, actor: str, issued_by: str) -> IssuedToken:
        """Issue a token named ``name`` that acts as ``actor``.

        Raises:
            ValidationError: an empty name or actor, or a name already in use.
        """
        errors = [
            FieldError(field, "expected a non-empty text")
            for field, value in (("name", name), ("actor", actor), ("issued_by", issued_by))
            if not value.strip()
        ]
        if errors:
            raise ValidationError(errors)
        secret = secrets.token_urlsafe(32)
        token = Token(
            id=secrets.token_hex(4),
            name=name.strip(),
            actor=actor.strip(),
            issued_at=datetime.now(UTC),
            issued_by=issued_by.strip(),
        )
        with self._transaction() as db:
            if any(t.name == token.name and t.active for t in self._rows(db)):
                raise ValidationError.single(
                    "name", f"a token named {token.name!r} is active already; revoke it first"
                )
            db.execute(
                "insert into okra_web_tokens (id, store, name, actor, hash, issued_at, issued_by)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                (
                    token.id,
                    self.store,
                    token.name,
                    token.actor,
                    _hash(secret),
                    token.issued_at.isoformat(),
                    token.issued_by,
                ),
            )
        return IssuedToken(token=token, secret=secret)

    def revoke(
        self, ref: str, *, revoked_by: str, check: Callable[[Token], None] | None = None
    ) -> Token:
        """Revoke the active token with id (or name) ``ref``.

        Args:
            ref: the token's id or name.
            revoked_by: who revokes it.
            check: called with the token before it is revoked; what it raises stops it.

        Raises:
            NotFoundError: no active token has that id or name.
        """
        with self._transaction() as db:
            found = [t for t in self._rows(db) if t.active and ref.strip() in (t.id, t.name)]
            if not found:
                raise NotFoundError("active token", ref, "see `okra token list`")
            if check is not None:
                check(found[0])
            token = attrs.evolve(found[0], revoked_at=datetime.now(UTC), revoked_by=revoked_by)
            db.execute(
                "update okra_web_tokens set revoked_at = ?, revoked_by = ? where id = ?",
                (token.revoked_at.isoformat() if token.revoked_at else None, revoked_by, token.id),
            )
        return token

    def tokens(self) -> list[Token]:
        """Every token of the store, active or revoked, oldest first."""
        with self._lock:
            return self._rows(self._db)

    def verify(self, secret: str) -> Token | None:
        """The active token whose secret this is, else ``None``.

        Every active hash is compared in constant time, so the answer's timing
        tells nothing about how close a guess came.
        """
        wanted = _hash(secret)
        with self._lock:
            rows = self._db.execute(
                "select id, hash from okra_web_tokens where store = ? and revoked_at is null",
                (self.store,),
            ).fetchall()
        match = None
        for token_id, stored in rows:
            if hmac.compare_digest(stored, wanted):
                match = token_id
        if match is None:
            return None
        # Read again: a revocation between the two reads must win.
        token = next((t for t in self.tokens() if t.id == match), None)
        return token if token is not None and token.active else None

    def _rows(self, db: sqlite3.Connection) -> list[Token]:
        rows = db.execute(
            "select id, name, actor, issued_at, issued_by, revoked_at, revoked_by"
            " from okra_web_tokens where store = ? order by issued_at, id",
            (self.store,),
        ).fetchall()
        return [
            Token(
                id=row[0],
                name=row[1],
                actor=row[2],
                issued_at=datetime.fromisoformat(row[3]),
                issued_by=row[4],
                revoked_at=datetime.fromisoformat(row[5]) if row[5] else None,
                revoked_by=row[6],
            )
            for row in rows
        ]
