"""Looking after a store: init, export, import, report, rebuild; demo and plugins."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import click

from okra_core import ValidationError, When, default_data_dir, redact_url

from ._base import (
    ExitCode,
    File,
    FilePath,
    OkraCommand,
    Session,
    as_of_options,
    dumps,
    fail,
    json_option,
    plugins_of,
    with_session,
)
from ._read import resolve_cycle

if TYPE_CHECKING:
    from rich.progress import Progress

# The demo, the reports and rich's progress bars are imported by the commands that
# use them, so that `okra --help` and the everyday commands start without them.

__all__ = ["register"]


@click.command("init", cls=OkraCommand)
@json_option
@with_session
def init(sess: Session, as_json: bool) -> None:
    """Create the store (--store, $OKRA_STORE, or the default SQLite file) if needed.

    Safe to run again: an existing store is opened and described, never emptied.
    """
    url = sess.url
    okra = sess.okra
    events = sum(1 for _ in okra.audit())
    info = {"store": redact_url(url), "events": events, "cycles": len(okra.cycles())}
    if as_json:
        click.echo(dumps(info))
    elif events:
        click.echo(f"{info['store']} is ready: {events} events, {info['cycles']} cycles")
    else:
        click.echo(f"{info['store']} is ready and empty; next: okra cycle plan NAME --start --end")


def _progress(label: str) -> Progress:
    """A progress bar on standard error, shown only on a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@click.command("export", cls=OkraCommand)
@click.option(
    "-o",
    "--output",
    type=File("w", encoding="utf-8", lazy=False),
    default="-",
    help="File to write [default: standard output].",
)
@with_session
def export(sess: Session, output: IO[str]) -> None:
    """Write the whole event log as JSON Lines: one event per line, oldest first.

    `okra import` reads it back into another store; the events keep their ids,
    times and actors.
    """
    count = 0
    for record in sess.okra.export_records():
        output.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    if getattr(output, "name", "-") not in ("-", "<stdout>"):
        click.echo(f"exported {count} events", err=True)


_INDEX = re.compile(r"^events\[(\d+)\]\.?")


def _read_lines(source: IO[str]) -> tuple[list[Any], list[int], list[str]]:
    records: list[Any] = []
    lines: list[int] = []
    problems: list[str] = []
    number = 0
    lines_read = iter(source)
    while True:
        try:
            text = next(lines_read)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            problems.append(f"line {number + 1}: not UTF-8 text ({exc.reason})")
            break
        number += 1
        if not text.strip():
            continue
        try:
            records.append(json.loads(text))
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON: {exc.msg} (column {exc.colno})")
            continue
        lines.append(number)
    return records, lines, problems


def _on_lines(exc: ValidationError, lines: list[int]) -> list[str]:
    """Core's ``[index].path`` errors as ``line N: path: message``."""
    shown = []
    for error in exc.errors:
        match = _INDEX.match(error.path)
        if match is None:
            shown.append(str(error))
            continue
        path = error.path[match.end() :]
        where = f"line {lines[int(match.group(1))]}" + (f": {path}" if path else "")
        shown.append(f"{where}: {error.message}")
    return shown


@click.command("import", cls=OkraCommand)
@click.argument("source", type=File("r", encoding="utf-8-sig"), metavar="FILE")
@json_option
@with_session
def import_command(sess: Session, source: IO[str], as_json: bool) -> None:
    """Append the events of a JSON Lines FILE (from `okra export`; `-` for stdin).

    Every record is checked first: it must be valid JSON, a known event with
    valid fields, the next version of its entity, and refer to things that
    exist. If any is bad, each is reported with its line and field, and nothing
    is written.
    """
    records, lines, problems = _read_lines(source)
    if problems:
        fail("nothing was imported:\n  " + "\n  ".join(problems), ExitCode.INVALID)
    with _progress("checking") as bar:
        task = bar.add_task("check", total=len(records))
        try:
            count = sess.okra.import_events(
                records, actor=sess.actor, progress=lambda n: bar.update(task, completed=n)
            )
        except ValidationError as exc:
            detail = "\n  ".join(_on_lines(exc, lines))
            already = "already in this store" in detail
            hint = "nothing to do" if already else "fix those lines and import again"
            fail(f"{exc.summary}:\n  {detail}", ExitCode.INVALID, hint)
    if as_json:
        click.echo(dumps({"imported": count}))
    else:
        click.echo(f"imported {count} events into {redact_url(sess.url)}")


@click.command("report", cls=OkraCommand)
@click.argument("cycle_ref", metavar="[CYCLE]", required=False)
@click.option(
    "--format",
    "fmt",
    default="markdown",
    show_default=True,
    help="markdown, csv, or the name of an exporter plugin (see `okra plugins`).",
)
@click.option(
    "-o", "--output", default="-", metavar="FILE", help="File to write [default: standard output]."
)
@as_of_options
@with_session
def report(
    sess: Session, cycle_ref: str | None, fmt: str, output: str, as_of: When, as_known_at: When
) -> None:
    """A report of a cycle as Markdown (progress, focus, scores) or CSV (one row per key result).

    Other formats come from exporter plugins; they describe the whole store.
    """
    okra = sess.okra
    produced: str | bytes
    if fmt in ("markdown", "csv"):
        from ..reports import csv_report, markdown_report

        cycle = resolve_cycle(okra, cycle_ref, as_of=as_of, as_known_at=as_known_at)
        board = okra.cycle_progress(cycle, as_of=as_of, as_known_at=as_known_at)
        if fmt == "csv":
            produced = csv_report(board)
        else:
            focus = okra.focus(cycle=cycle, as_of=as_of, as_known_at=as_known_at)
            card = okra.scorecard(cycle, as_of=as_of, as_known_at=as_known_at)
            produced = markdown_report(board, focus, card)
    else:
        exporters = sess.plugins.exporters()
        if fmt not in exporters:
            known = ", ".join(["markdown", "csv", *sorted(exporters)])
            fail(f"--format: no report format {fmt!r}; expected one of {known}")
        if as_of is not None or as_known_at is not None or cycle_ref is not None:
            fail(
                f"--format {fmt}: an exporter plugin describes the whole store as it is; "
                "drop CYCLE, --as-of and --as-known-at"
            )
        export_with: Any = exporters[fmt].export  # typed loosely: okra_core cannot name Okra there
        produced = export_with(okra)
    data = produced.encode() if isinstance(produced, str) else produced
    if output == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        fail(f"--output: cannot write {output}: {exc.strerror}")


@click.command("rebuild", cls=OkraCommand)
@with_session
def rebuild(sess: Session) -> None:
    """Fold the whole log again into fresh read models (after an upgrade, or to check).

    The events are not touched; only what is kept beside them (the saved current
    state, the key result index) is made anew.
    """
    with _progress("rebuilding") as bar:
        task = bar.add_task("rebuild", total=None)
        count = sess.okra.rebuild(
            progress=lambda done, last: bar.update(task, completed=done, total=last)
        )
    click.echo(f"rebuilt from {count} events")


@click.command(cls=OkraCommand)
@click.option(
    "--path",
    type=FilePath(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to build the demo in [default: demo.sqlite in okra's data folder].",
)
def demo(path: Path | None) -> None:
    """Build a realistic quarter in an SQLite file and print a summary.

    Running it again rebuilds the same demo file from scratch. Explore it with
    `okra --store PATH dashboard` and the other queries.
    """
    from ..demo import DemoError, run_demo

    target = path if path is not None else default_data_dir() / "demo.sqlite"
    try:
        run_demo(target, echo=click.echo)
    except DemoError as exc:
        fail(str(exc), ExitCode.REFUSED)
    click.echo("")
    for line in _how_to_reach_okra(target):
        click.echo(line)


def _how_to_reach_okra(target: Path) -> list[str]:
    """The demo's last lines: how to run ``okra`` on it, from wherever this shell is.

    ``make demo`` runs ``.venv/bin/okra``, which the shell does not find by name
    until the virtual environment is activated; then the hint says so, and gives
    the full path that works as it is.
    """
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("okra")
    explore = f"okra --store {shlex.quote(str(target))} dashboard"
    if script is None or script.name != "okra" or (found and Path(found).resolve() == script):
        return [f"Explore it: {explore}"]
    activate = script.parent / "activate"
    lines = [f"Explore it: {shlex.quote(str(script))} --store {shlex.quote(str(target))} dashboard"]
    if activate.exists():
        lines.append(
            f"or put okra on your PATH first: source {shlex.quote(str(activate))} "
            f"(or make shell), then: {explore}"
        )
    return lines


@click.command("plugins", cls=OkraCommand)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List the installed plugins with their version and hooks.

    Problems with plugins (one that fails to import, returns something invalid
    or claims a name another already has) are printed to standard error, and
    the exit status is then 9 (``ExitCode.SETUP``).
    """
    plugins = plugins_of(ctx)
    plugins.check()
    root = ctx.find_root()
    group = root.command
    if hasattr(group, "plugin_commands"):
        cast(Any, group).plugin_commands(root)  # reports the commands it cannot use
    infos = plugins.info()
    if as_json:
        click.echo(
            dumps(
                [
                    {"name": i.name, "package": i.package, "version": i.version, "hooks": i.hooks}
                    for i in infos
                ]
            )
        )
    else:
        width = max((len(i.name) for i in infos), default=0)
        for i in infos:
            origin = f"{i.package} {i.version}" if i.package else "registered by code"
            click.echo(f"{i.name:<{width}}  {origin}  {', '.join(i.hooks)}")
        if not infos:
            click.echo("no plugins")
    for problem in plugins.problems:
        click.echo(f"problem: {problem}", err=True)
    if plugins.problems:
        ctx.exit(int(ExitCode.SETUP))


def register(group: click.Group) -> None:
    """Add the store-keeping commands to ``group``."""
    for command in (init, export, import_command, report, rebuild, demo, plugins_command):
        group.add_command(command)
