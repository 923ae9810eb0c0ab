"""The tamper-evident log from the shell: verify, checkpoint, proof, keygen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import click

from okra_core import LogReport, create_signing_key, redact_url, to_data

from ._base import (
    ExitCode,
    FilePath,
    OkraCommand,
    Session,
    dumps,
    fail,
    json_option,
    with_session,
)

__all__ = ["register"]

# Problems listed in full; --json has them all.
_SHOWN = 10


def _describe(problem: Any) -> str:
    where = f"position {problem.position}" if problem.position is not None else "the tree"
    if problem.entity_id is not None:
        where += f" (entity {problem.entity_id.hex[:8]}, version {problem.version})"
    return f"{where}: {problem.kind}: {problem.message}"


def _report_text(store: str, report: LogReport) -> list[str]:
    if not report.sealed:
        return [
            f"the log of {store} has no hash tree: it was made before okra kept one "
            f"({report.records} records)",
            "  start one from the log as it is now: okra verify --seal",
        ]
    if report.sound:
        signed = f", {report.signed} signed" if report.signed else ""
        return [
            f"the log of {store} is sound: {report.records} records, each as written; "
            f"{report.heads} tree heads checked{signed}"
        ]
    first = report.problems[0]
    lines = [f"the log of {store} differs from what was written, first at {_describe(first)}"]
    lines += [f"  {_describe(problem)}" for problem in report.problems[1:_SHOWN]]
    if len(report.problems) > _SHOWN:
        lines.append(f"  ... and {len(report.problems) - _SHOWN} more (--json lists them)")
    return lines


def _public_key(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"--public-key: cannot read {path}: {exc.strerror}")


@click.command("verify", cls=OkraCommand)
@click.option(
    "--since",
    type=click.IntRange(min=0),
    default=0,
    metavar="SIZE",
    help="Trust the tree up to the tree head of this size; check what came after.",
)
@click.option(
    "--public-key",
    type=FilePath(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="An Ed25519 public key (PEM): every tree head must be signed by it.",
)
@click.option(
    "--seal", is_flag=True, help="Start the hash tree of a store made before okra kept one."
)
@json_option
@with_session
def verify(sess: Session, since: int, public_key: Path | None, seal: bool, as_json: bool) -> None:
    """Check every stored event against the log's hash tree and its tree heads.

    Exit status 0: the log is as okra wrote it. Status 10: a record was edited,
    deleted, inserted or appended behind okra's back (the first bad position is
    named), a tree head does not match or is not signed by --public-key, or the
    store has no tree yet (see --seal).
    """
    okra = sess.okra
    store = redact_url(sess.url)
    if seal:
        head = okra.seal(actor=sess.actor)
        click.echo(f"sealed the log of {store}: its tree covers the {head.size} records stored")
    report = okra.verify(since=since, public_key=_public_key(public_key))
    if as_json:
        click.echo(dumps({**to_data(report), "sound": report.sound}))
    else:
        for line in _report_text(store, report):
            click.echo(line)
    if not report.sound:
        click.get_current_context().exit(int(ExitCode.CHECKS))


@click.command("checkpoint", cls=OkraCommand)
@json_option
@with_session
def checkpoint(sess: Session, as_json: bool) -> None:
    """Show the latest tree head: how many events the log's tree covers, and its root.

    Keep the --json output somewhere else (it is signed if OKRA_SIGNING_KEY is
    set): a later `okra verify` or `okra proof --consistency` shows the log was
    only appended to since.
    """
    head = sess.okra.checkpoint()
    if as_json:
        click.echo(dumps(head.to_json()))
        return
    signed = f", signed by key {head.key_id}" if head.key_id else ", unsigned"
    click.echo(f"{head.size} events, root {head.root.hex()}, at {head.at.isoformat()}{signed}")


@click.command("proof", cls=OkraCommand)
@click.argument("position", type=click.IntRange(min=1), required=False, metavar="[POSITION]")
@click.option(
    "--size",
    type=click.IntRange(min=0),
    default=None,
    metavar="SIZE",
    help="Prove against the tree head of this size [default: the latest].",
)
@click.option(
    "--consistency",
    "old_size",
    type=click.IntRange(min=1),
    default=None,
    metavar="OLD_SIZE",
    help="Instead: prove that the tree only appended to the one of OLD_SIZE.",
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8", lazy=False),
    default="-",
    help="File to write [default: standard output].",
)
@with_session
def proof(
    sess: Session, position: int | None, size: int | None, old_size: int | None, output: IO[str]
) -> None:
    """Write a proof that a third party checks with `python -m okra_core.verify`.

    With POSITION (a log position, as `okra audit` shows it): an inclusion proof
    of that event against a tree head. With --consistency OLD_SIZE: a proof that
    the log of the later head only appended to the log of the earlier one.
    """
    okra = sess.okra
    if (position is None) == (old_size is None):
        fail("give a POSITION, or --consistency OLD_SIZE (one of them)", ExitCode.USAGE)
    if old_size is not None:
        document = okra.prove_consistency(old_size, size)
    else:
        assert position is not None
        document = okra.prove(position, size=size)
    output.write(json.dumps(document, indent=2) + "\n")


@click.command("keygen", cls=OkraCommand)
@click.argument("path", type=FilePath(dir_okay=False, path_type=Path), metavar="FILE")
def keygen(path: Path) -> None:
    """Make an Ed25519 key pair for signing tree heads: FILE (private) and FILE.pub.

    Keep FILE away from the store (OKRA_SIGNING_KEY=FILE when writing); give
    FILE.pub to whoever checks the log or its proofs.
    """
    from okra_core import OkraError

    try:
        public = create_signing_key(path)
    except OkraError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    except ValueError as exc:  # a NUL byte in the name, say
        fail(f"cannot write {path!r}: {exc}")
    click.echo(f"wrote {path} (private: keep it away from the store) and {public}")


def register(group: click.Group) -> None:
    """Add the commands of the tamper-evident log to ``group``."""
    for command in (verify, checkpoint, proof, keygen):
        group.add_command(command)
