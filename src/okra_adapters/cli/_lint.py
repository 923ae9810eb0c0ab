"""``okra lint``, ``okra sync`` and ``okra kr bind`` / ``unbind``.

``okra lint`` runs okra's lint rules and the plugins' (``--strict`` makes errors
fail the command, for the CI of an OKR repository); ``okra sync`` reads the
metric sources key results are bound to and checks in what changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

import click
from rich.text import Text

from okra_adapters.sync import SyncOutcome, sync
from okra_core import LintFinding, LintReport, When, to_data

from ._base import (
    ExitCode,
    OkraCommand,
    Session,
    as_of_options,
    dumps,
    json_option,
    with_session,
)
from ._render import Renderable

__all__ = ["lint_lines", "register"]

_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def lint_lines(findings: Sequence[LintFinding]) -> Iterator[Renderable]:
    """One line per finding: severity, the entity's short id, the rule, the message."""
    for finding in findings:
        severity = finding.severity or "warning"
        where = finding.entity_id.hex[:8] if finding.entity_id else "-"
        yield Text.assemble(
            (f"{severity:<7}", _SEVERITY_STYLE.get(severity, "")),
            f" {where}  {finding.rule}: {finding.message}",
        )


def _render_report(report: LintReport) -> Iterator[Renderable]:
    cycles = ", ".join(report.cycles) or "no open cycle"
    yield from lint_lines(report.findings)
    for problem in report.problems:
        yield Text(f"problem: {problem}", style="red")
    infos = len(report.findings) - report.errors - report.warnings
    yield Text(
        f"{report.errors} error(s), {report.warnings} warning(s), {infos} note(s) in {cycles} "
        f"({len(report.rules)} rules)"
    )


@click.command("lint", cls=OkraCommand)
@click.argument("cycle_ref", metavar="[CYCLE]", required=False)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="CODE",
    help="Only this rule (repeat for more) [default: all the playbook enables].",
)
@click.option("--strict", is_flag=True, help="Exit with status 10 if any finding is an error.")
@as_of_options
@json_option
@with_session
def lint(
    sess: Session,
    cycle_ref: str | None,
    rules: tuple[str, ...],
    strict: bool,
    as_of: When,
    as_known_at: When,
    as_json: bool,
) -> None:
    """Check how the OKRs are written: outcomes not tasks, focus, measurable, owned.

    CYCLE defaults to every cycle that is not closed. See docs/lint-and-sync.md
    for the rules and how a playbook configures them.
    """
    report = sess.okra.lint(
        cycle_ref, rules=list(rules) or None, as_of=as_of, as_known_at=as_known_at
    )
    if as_json:
        click.echo(dumps(to_data(report)))
    else:
        for item in _render_report(report):
            sess.console.print(item)
    if strict and report.errors:
        raise SystemExit(int(ExitCode.CHECKS))


def _render_sync(outcomes: Sequence[SyncOutcome]) -> Iterator[Renderable]:
    styles = {"checked_in": "green", "failed": "red", "would_check_in": "cyan"}
    for outcome in outcomes:
        yield Text.assemble(
            (f"{outcome.status.replace('_', ' '):<14}", styles.get(outcome.status, "dim")),
            f" {outcome.key_result_id.hex[:8]}  {outcome.key_result}: {outcome.message}",
        )
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
    yield Text(f"{len(outcomes)} bound key result(s)" + (f": {summary}" if summary else ""))


@click.command("sync", cls=OkraCommand)
@click.option("--once", "mode", flag_value="once", default=True, help="Read every source once.")
@click.option("--watch", "mode", flag_value="watch", help="Read again every --interval.")
@click.option(
    "--interval", type=click.FloatRange(min=1), default=300.0, show_default=True,
    help="Seconds between runs with --watch.",
)  # fmt: skip
@click.option(
    "--runs", type=click.IntRange(min=1), default=None,
    help="With --watch, stop after this many runs [default: until interrupted].",
)  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Read the sources; record nothing.")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
    help="Seconds to wait for a source (a URL's own timeout= wins).",
)  # fmt: skip
@json_option
@with_session
def sync_command(
    sess: Session,
    mode: str,
    interval: float,
    runs: int | None,
    dry_run: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Check in key results bound to a metric source (okra kr bind), when the value changed.

    A source that fails, times out or returns a non-number is reported and read
    again on the next run; it never stops the others. The exit status is 10
    when a source failed in the (last) run.
    """
    done = 0
    failed = False
    while True:
        outcomes = sync(sess.okra, actor=sess.actor, dry_run=dry_run, timeout=timeout)
        failed = any(o.status == "failed" for o in outcomes)
        if as_json:
            click.echo(dumps(to_data(outcomes)))
        else:
            for item in _render_sync(outcomes):
                sess.console.print(item)
        done += 1
        if mode != "watch" or (runs is not None and done >= runs):
            break
        try:
            time.sleep(interval)
        except KeyboardInterrupt:  # pragma: no cover - a person pressing Ctrl-C
            break
    if failed:
        raise SystemExit(int(ExitCode.CHECKS))


@click.command("bind", cls=OkraCommand)
@click.argument("kr_ref", metavar="KR")
@click.argument("source", metavar="SOURCE-URL")
@json_option
@with_session
def kr_bind(sess: Session, kr_ref: str, source: str, as_json: bool) -> None:
    r"""Read KR's value from a metric source: okra sync checks in what it reads.

    \b
    SOURCE-URL, one of (see `okra plugins` for more):
      sql+sqlite:///data.db?query=SELECT count(*) FROM signups
      sql+postgresql://okra@db:5432/app?secret=APPDB&query=SELECT ...
      json+https://stats.example.com/api#/signups/total
      csv:///reports/weekly.csv?column=mrr
    No passwords in it: secret=NAME reads $OKRA_SOURCE_SECRET_NAME.
    """
    bound = sess.okra.bind_key_result(kr_ref, source=source, actor=sess.actor)
    if as_json:
        click.echo(dumps(to_data(bound)))
    else:
        click.echo(f"bound: {bound.title} reads {bound.source}")


@click.command("unbind", cls=OkraCommand)
@click.argument("kr_ref", metavar="KR")
@json_option
@with_session
def kr_unbind(sess: Session, kr_ref: str, as_json: bool) -> None:
    """Stop reading KR from its metric source."""
    unbound = sess.okra.unbind_key_result(kr_ref, actor=sess.actor)
    if as_json:
        click.echo(dumps(to_data(unbound)))
    else:
        click.echo(f"unbound: {unbound.title}")


def register(group: click.Group, key_result: click.Group) -> None:
    """Add ``lint`` and ``sync`` to ``group``, ``bind`` and ``unbind`` to ``key_result``."""
    group.add_command(lint)
    group.add_command(sync_command)
    key_result.add_command(kr_bind)
    key_result.add_command(kr_unbind)
