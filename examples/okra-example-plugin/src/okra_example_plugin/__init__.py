"""An example okra plugin: one command, one lint rule and one exporter.

okra finds it through the ``example`` entry point of the ``okra`` group declared
in this distribution's ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from okra_core import CliCommand, Exporter, LintFinding, LintRule, Okra, hookimpl

__all__ = [
    "MAX_KEY_RESULTS",
    "few_key_results",
    "okra_cli_commands",
    "okra_exporters",
    "okra_lint_rules",
    "titles",
]

MAX_KEY_RESULTS = 5
"""More key results than this dilute an objective's focus."""


def few_key_results(okra: Okra) -> Iterator[LintFinding]:
    """Objectives with more than :data:`MAX_KEY_RESULTS` key results."""
    for objective in okra.objectives():
        count = len(okra.key_results(objective))
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
