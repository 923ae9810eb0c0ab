"""What every okra command shares: the session, options, errors and output."""

from __future__ import annotations

import enum
import functools
import getpass
import json
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from uuid import UUID

import click
from rich.console import Console

from okra_adapters.storage.sqlite import sqlite_path
from okra_core import (
    AmbiguousReferenceError,
    ConcurrencyError,
    DamagedLogError,
    EventDecodeError,
    InvalidTransitionError,
    KeyResult,
    NotFoundError,
    Objective,
    Okra,
    OkraError,
    PermissionDeniedError,
    PluginError,
    Plugins,
    StorageError,
    ValidationError,
    default_store_url,
    load_plugins,
    parse_instant,
    parse_value,
    to_data,
)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

_PLUGINS_KEY = "okra.plugins"
_SESSION_KEY = "okra.session"


class ExitCode(enum.IntEnum):
    """The exit status of the ``okra`` command, one per kind of failure.

    Scripts can tell a typo (``INVALID``) from a conflict worth retrying
    (``CONFLICT``) without reading the message.
    """

    OK = 0
    FAILED = 1  #: an unexpected failure (a bug: please report it)
    USAGE = 2  #: unknown command or option, missing argument (click's own)
    INVALID = 3  #: a value was refused; the message names the option or field
    NOT_FOUND = 4  #: nothing matches the id, prefix or title given
    AMBIGUOUS = 5  #: several things match; the message lists them
    REFUSED = 6  #: the rules forbid it now (e.g. checking in on a closed objective)
    CONFLICT = 7  #: another writer changed the same thing first; nothing was written
    DENIED = 8  #: the actor may not do this
    SETUP = 9  #: the store cannot be opened, read or written, or a plugin is broken
    CHECKS = 10  #: a check found problems: okra verify, okra lint --strict, okra sync


class OkraCliError(click.ClickException):
    """A user error, shown as ``error: ...`` plus a hint, without a traceback."""

    def __init__(self, message: str, code: ExitCode, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint
        vars(self)["exit_code"] = int(code)  # click exits with it (a ClassVar there)

    def show(self, file: Any = None) -> None:
        """Print the message (and the hint, if any) to standard error."""
        click.echo(f"error: {self.format_message()}", err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)


_HINTS: dict[type[OkraError], tuple[ExitCode, str]] = {
    AmbiguousReferenceError: (
        ExitCode.AMBIGUOUS,
        "use one of those ids (its first 4 or more hex digits are enough)",
    ),
    NotFoundError: (
        ExitCode.NOT_FOUND,
        "see what there is with `okra list cycles|objectives|krs|actions|tasks`",
    ),
    EventDecodeError: (
        ExitCode.SETUP,
        "the store holds an event this okra cannot read: install the plugin that defines "
        "it, upgrade okra, or open the store with its CIPHER_KEY",
    ),
    ValidationError: (ExitCode.INVALID, ""),
    InvalidTransitionError: (ExitCode.REFUSED, ""),
    ConcurrencyError: (ExitCode.CONFLICT, "run the command again; it sees the other change now"),
    PermissionDeniedError: (ExitCode.DENIED, "run it as someone allowed to, with --actor"),
    DamagedLogError: (ExitCode.SETUP, ""),
    StorageError: (ExitCode.SETUP, "check --store (or $OKRA_STORE) and the database"),
    PluginError: (ExitCode.SETUP, "see `okra plugins` for the installed plugins"),
}


def _option_label(command: click.Command | None, field: str) -> str:
    """``effective_at`` shown as the option that sets it (``--at``), if any."""
    head, sep, rest = field.partition(".")
    name, bracket, index = head.partition("[")
    if command is not None:
        for param in command.params:
            if param.name == name:
                shown = (
                    max(param.opts, key=len)
                    if isinstance(param, click.Option)
                    else (param.human_readable_name)
                )
                return shown + bracket + index + sep + rest
    return field


def user_error(exc: OkraError, command: click.Command | None = None) -> OkraCliError:
    """The :class:`OkraCliError` for one of okra's errors."""
    code, hint = next(
        (v for cls, v in _HINTS.items() if isinstance(exc, cls)), (ExitCode.FAILED, "")
    )
    if isinstance(exc, ValidationError) and not isinstance(exc, EventDecodeError):
        lines = [exc.summary + ":"] + [
            f"  {_option_label(command, e.path)}: {e.message}" for e in exc.errors
        ]
        return OkraCliError("\n".join(lines), code, hint)
    return OkraCliError(str(exc), code, hint)


def fail(message: str, code: ExitCode = ExitCode.INVALID, hint: str = "") -> NoReturn:
    """Stop the command with a user error."""
    raise OkraCliError(message, code, hint)


class OkraCommand(click.Command):
    """A command whose okra errors become messages naming its own options."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command, translating okra's errors."""
        try:
            return super().invoke(ctx)
        except AmbiguousReferenceError as exc:
            raise _ambiguous(exc, session(ctx)) from exc
        except OkraError as exc:
            raise user_error(exc, self) from exc


def _ambiguous(exc: AmbiguousReferenceError, sess: Session) -> OkraCliError:
    """The candidates of an ambiguous reference, each with its kind and cycle."""
    lines = [f"{exc.kind} {exc.ref!r} is ambiguous; choose one by its id:"]
    where = sess.whereabouts([candidate for candidate, _ in exc.candidates])
    for candidate, label in exc.candidates:
        lines.append(f"  {candidate.hex[:8]}  {label}{where.get(candidate, '')}")
    return OkraCliError("\n".join(lines), ExitCode.AMBIGUOUS, _HINTS[AmbiguousReferenceError][1])


class OkraGroup(click.Group):
    """A group of okra commands; its subcommands translate okra's errors."""

    command_class = OkraCommand
    group_class = type  # subgroups are OkraGroups too

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen subcommand, translating okra's errors raised outside it."""
        try:
            return super().invoke(ctx)
        except OkraError as exc:
            raise user_error(exc) from exc


# --- the session: store, actor, console -------------------------------------------


def plugins_of(ctx: click.Context) -> Plugins:
    """The plugins: ``ctx.obj`` of the root if it is one (tests), else loaded once."""
    root = ctx.find_root()
    if isinstance(root.obj, Plugins):
        return root.obj
    if _PLUGINS_KEY not in root.meta:
        try:
            root.meta[_PLUGINS_KEY] = load_plugins()
        except PluginError as exc:
            raise user_error(exc) from exc
    plugins: Plugins = root.meta[_PLUGINS_KEY]
    return plugins


_CREATES = frozenset({"init", "import"})


def store_url(value: str | None) -> str:
    """A ``--store`` value as a store URL: a plain path means an SQLite file."""
    if value is None or not value.strip():
        return default_store_url()
    value = value.strip()
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


class Session:
    """One invocation's store, actor and console; the store opens on first use."""

    def __init__(self, ctx: click.Context, store: str | None, actor: str | None) -> None:
        self._ctx = ctx
        self.url = store_url(store)
        self._actor = actor
        # Output is built from Text, tables and trees; markup and emoji codes stay off
        # so that nothing a user typed is ever interpreted.
        self.console = Console(markup=False, emoji=False, highlight=False, soft_wrap=False)
        self._okra: Okra | None = None

    @property
    def plugins(self) -> Plugins:
        """The plugins of this invocation."""
        return plugins_of(self._ctx)

    @property
    def okra(self) -> Okra:
        """The open store (opened now if it was not).

        An SQLite file that does not exist yet is created only by the commands
        that start a store (``init``, ``import``); any other command
        refuses it, so that a mistyped ``--store`` path is not taken for a new,
        empty store.
        """
        if self._okra is None:
            self.require_store()
            self._okra = Okra(self.url, plugins=self.plugins)
            self._ctx.find_root().call_on_close(self.close)
        return self._okra

    def require_store(self) -> None:
        """Refuse (exit 3) an SQLite file that does not exist, unless the command starts one.

        Commands that keep things of a store beside it (``okra user``, ``okra token``)
        call it too, so that a mistyped path does not get a team of its own.
        """
        path = sqlite_path(self.url) if self.url.startswith("sqlite:") else None
        command = self._ctx.find_root().invoked_subcommand
        if path is not None and not path.exists() and command not in _CREATES:
            fail(
                f"there is no okra store at {path}",
                ExitCode.SETUP,
                "create one with `okra init`, or check --store (or $OKRA_STORE)",
            )

    @property
    def actor(self) -> str:
        """Who issues the commands: ``--actor``, ``$OKRA_ACTOR`` or the login name."""
        if self._actor and self._actor.strip():
            return self._actor.strip()
        try:
            return getpass.getuser()
        except (KeyError, OSError):  # no login name, e.g. in some containers
            fail(
                "cannot tell who you are",
                ExitCode.INVALID,
                "pass --actor NAME or set OKRA_ACTOR",
            )

    def whereabouts(self, entity_ids: Sequence[UUID]) -> dict[UUID, str]:
        """`` (key result, in 2026-Q3, owner sam)`` per id: to tell namesakes apart."""
        if self._okra is None:
            return {}
        try:
            world = self._okra.world()
            found = {i: world.get(i) for i in entity_ids}
            shown: dict[UUID, str] = {}
            for entity_id, entity in found.items():
                if entity is None:
                    continue
                parts = [entity.entity_kind.value.replace("_", " ")]
                if isinstance(entity, KeyResult):
                    parts.append(f"in {world.cycle_of(world.objective_of(entity)).name}")
                elif isinstance(entity, Objective):
                    parts.append(f"in {world.cycle_of(entity).name}")
                owner = getattr(entity, "owner", None)
                if owner:
                    parts.append(f"owner {owner}")
                shown[entity_id] = f" ({', '.join(parts)})"
        except OkraError:
            return {}
        return shown

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._okra is not None:
            self._okra.close()
            self._okra = None


def session(ctx: click.Context) -> Session:
    """The invocation's :class:`Session` (made by the root command)."""
    found = ctx.find_root().meta.get(_SESSION_KEY)
    if not isinstance(found, Session):
        found = Session(ctx, os.environ.get("OKRA_STORE"), os.environ.get("OKRA_ACTOR"))
        ctx.find_root().meta[_SESSION_KEY] = found
    return found


def start_session(ctx: click.Context, store: str | None, actor: str | None) -> None:
    """Set up the invocation's session from the root options."""
    ctx.find_root().meta[_SESSION_KEY] = Session(ctx, store, actor)


def with_session(f: F) -> F:
    """Pass the :class:`Session` as the first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(session(click.get_current_context()), *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- values on the command line ------------------------------------------------------


def _param_label(param: click.Parameter | None) -> str:
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    return param.human_readable_name if param is not None else "value"


class WhenType(click.ParamType):  # type: ignore[type-arg]
    """An instant: ``today``, ``yesterday``, ``3 days ago``, ``2026-07-14``, or ISO 8601.

    A date means that whole day. A time without an offset is the local time of
    this machine. A value it cannot read is refused like any other bad value
    (exit status 3), in plain words.
    """

    name = "DATE|DATETIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse ``value`` into a ``date`` or an aware ``datetime``."""
        if isinstance(value, date):
            return value
        try:
            return parse_instant(str(value), now=datetime.now().astimezone())
        except ValidationError as exc:
            fail(f"{_param_label(param)}: {exc.errors[0].message}")


class NumberType(click.ParamType):  # type: ignore[type-arg]
    """A number as people type it: ``42``, ``-3.5``, ``1,250``, ``42%`` (the number 42).

    A value it cannot read is refused with exit status 3, in plain words (not
    Python's "not a valid float").
    """

    name = "NUMBER"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Parse ``value`` into a float."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        try:
            return parse_value(text.removesuffix("%"), path=_param_label(param))
        except ValidationError as exc:
            fail(f"{_param_label(param)}: {exc.errors[0].message}")


NUMBER = NumberType()


class File(click.File):
    """``click.File`` that refuses a file name with a NUL byte by name (see :class:`FilePath`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Open ``value`` as ``click.File`` does, after refusing NUL bytes."""
        if isinstance(value, str) and "\x00" in value:
            fail(f"{_param_label(param)}: expected a file name, got one with a NUL byte")
        return super().convert(value, param, ctx)


class FilePath(click.Path):
    """``click.Path`` that refuses a path the system cannot take (a NUL byte) by name.

    click's own lets ``os.stat`` raise ``ValueError`` for it: a crash, not a message.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Check ``value`` as ``click.Path`` does, after refusing NUL bytes."""
        if isinstance(value, str) and "\x00" in value:
            fail(f"{_param_label(param)}: expected a file path, got one with a NUL byte")
        return super().convert(value, param, ctx)


WHEN = WhenType()


def instant(value: date | datetime, now: datetime) -> datetime:
    """A ``--at`` value as an instant: a date is the end of that day (now, if today).

    A future date stays in the future, so that okra refuses it by name.
    """
    if isinstance(value, datetime):
        return value
    if value in (now.astimezone(UTC).date(), now.astimezone().date()):
        return now  # today, in UTC or here: its end is still to come
    return datetime.combine(value, time.max, tzinfo=UTC)


def as_of_options(f: F) -> F:
    """Add ``--as-of`` and ``--as-known-at`` to a query."""
    f = click.option(
        "--as-known-at",
        "as_known_at",
        type=WHEN,
        default=None,
        help="Only what had been recorded by then: the report as it could be read then.",
    )(f)
    return click.option(
        "--as-of",
        "as_of",
        type=WHEN,
        default=None,
        help="The state at that instant, with what is known now (late check-ins count).",
    )(f)


def json_option(f: F) -> F:
    """Add ``--json``: print plain JSON instead of tables, for scripts."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(f)


def dumps(data: Any) -> str:
    """Plain data as indented JSON text."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def emit(sess: Session, as_json: bool, result: Any, render: Callable[[Any], Iterable[Any]]) -> None:
    """Print ``result`` as JSON, or as what ``render`` makes of it."""
    if as_json:
        click.echo(dumps(to_data(result)))
        return
    for item in render(result):
        sess.console.print(item)


def number(text: str, field: str) -> float:
    """A number given as text (``42``, ``1,250``, ``42%``), or a user error naming ``field``."""
    try:
        return parse_value(text.strip().removesuffix("%"), path=field)
    except ValidationError as exc:
        fail(f"{field}: {exc.errors[0].message}")


def confidence_value(text: str | None) -> float | str | None:
    """A confidence as typed: a number (``7``, ``70``, ``0.7``) or a label (``amber``)."""
    if text is None:
        return None
    try:
        return float(text.strip().removesuffix("%"))
    except ValueError:
        return text
