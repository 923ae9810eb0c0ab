"""An example okra plugin: a command, a lint rule, an exporter and a metric source.

okra finds it through the ``example`` entry point of the ``okra`` group declared
in this distribution's ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click

from okra_core import (
    CliCommand,
    Exporter,
    LintContext,
    LintFinding,
    LintRule,
    MetricSource,
    Okra,
    ValidationError,
    hookimpl,
)

__all__ = [
    "MAX_KEY_RESULTS",
    "few_key_results",
    "okra_cli_commands",
    "okra_exporters",
    "okra_lint_rules",
    "okra_metric_sources",
    "read_number_file",
    "titles",
]

MAX_KEY_RESULTS = 5
"""More key results than this dilute an objective's focus."""


def few_key_results(okra: Okra, context: LintContext | None = None) -> Iterator[LintFinding]:
    """Objectives with more than :data:`MAX_KEY_RESULTS` key results.

    ``okra lint`` passes the context (the objectives as of the instant linted,
    indexed); ``okra example-lint`` calls it with the store alone.
    """
    if context is not None:
        counted = [(o, len(context.key_results(o))) for o in context.objectives()]
    else:
        counted = [(o, len(okra.key_results(o))) for o in okra.objectives()]
    for objective, count in counted:
        if count > MAX_KEY_RESULTS:
            yield LintFinding(
                rule="example.few-krs",
                entity_id=objective.id,
                message=f"{objective.title!r} has {count} key results; keep the "
                f"{MAX_KEY_RESULTS} that matter most",
            )


def titles(okra: Okra) -> str:
    """The titles of all objectives, one per line."""
    return "".join(f"{objective.title}\n" for objective in okra.objectives())


@click.command("example-lint")
@click.argument("url", required=False)
def example_lint(url: str | None) -> None:
    """Check that no objective has too many key results."""
    with Okra(url) as okra:
        findings = list(few_key_results(okra))
    for finding in findings:
        click.echo(f"{finding.rule}: {finding.message}")
    click.echo(f"{len(findings)} finding(s)")


@hookimpl
def okra_cli_commands() -> list[CliCommand]:
    """``okra example-lint``."""
    return [CliCommand(name="example-lint", command=example_lint)]


@hookimpl
def okra_lint_rules() -> list[LintRule]:
    """The rule ``example.few-krs``."""
    return [
        LintRule(
            code="example.few-krs",
            description=f"at most {MAX_KEY_RESULTS} key results per objective",
            check=few_key_results,
        )
    ]


@hookimpl
def okra_exporters() -> list[Exporter]:
    """The exporter ``example.titles``."""
    return [
        Exporter(
            name="example.titles",
            description="the objectives' titles, one per line",
            media_type="text/plain",
            export=titles,
        )
    ]


def _number_file(url: str) -> Path:
    path = unquote(urlsplit(url).path)
    if not path.startswith("/") or path == "/":
        raise ValidationError.single("url", "expected example+file:///absolute/path")
    return Path(path)


def _check(url: str) -> None:
    _number_file(url)


def read_number_file(url: str, secret: str | None) -> float:
    """The number written in a text file (``example+file:///abs/path``); a script writes it."""
    text = _number_file(url).read_text(encoding="utf-8").strip()
    return float(text)  # a ValueError for anything else: okra reports it, writes nothing


@hookimpl
def okra_metric_sources() -> list[MetricSource]:
    """The metric source ``example+file``."""
    return [
        MetricSource(
            scheme="example+file",
            description="a number in a text file",
            read=read_number_file,
            check=_check,
            example="example+file:///var/lib/metrics/signups.txt",
        )
    ]
