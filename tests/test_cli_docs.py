"""docs/cli.md is tested like code: every ```console example runs, in order.

Each ``$ okra ...`` line runs through click's runner in one empty folder, with
``OKRA_STORE=team.sqlite``, ``OKRA_ACTOR=maria`` and 120 columns; what it prints
(standard output, then standard error, then ``[exit N]`` if it failed) must
match the lines below it, as a doctest with ``...`` and normalised whitespace.
Blank lines in the output are dropped (rich pads its tables with them).
"""

from __future__ import annotations

import doctest
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from okra_adapters.cli import cli, load_commands
from okra_core import load_plugins
from tests.test_docs import DOCS, run_doctest

PAGE = DOCS / "cli.md"


def console_source(text: str) -> str:
    """The ```console blocks as doctest source: ``$ okra x`` becomes ``>>> sh('x')``."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if not inside and line.strip() == "```console":
            inside = True
            kept.append("")
        elif inside and line.strip() == "```":
            inside = False
            kept.append("")
        elif inside and line.startswith("$ okra "):
            kept.append(f">>> sh({line.removeprefix('$ okra ')!r})")
        else:
            kept.append(line if inside else "")
    assert not inside, "a ```console block is not closed"
    return "\n".join(kept) + "\n"


def run_console_page(page: Path, minimum: int) -> None:
    """Run the ```console examples of ``page`` in the current folder, in order."""
    plugins = load_plugins()
    runner = CliRunner(env={"OKRA_STORE": "team.sqlite", "OKRA_ACTOR": "maria", "COLUMNS": "120"})

    def sh(command: str) -> None:
        result = runner.invoke(cli, shlex.split(command), obj=plugins)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        text = result.stdout + result.stderr
        for line in text.splitlines():
            if line.strip():
                print(line.rstrip())
        if result.exit_code:
            print(f"[exit {result.exit_code}]")

    source = console_source(page.read_text(encoding="utf-8"))
    test = doctest.DocTestParser().get_doctest(source, {"sh": sh}, page.name, str(page), 0)
    assert len(test.examples) >= minimum
    run_doctest(test)


def test_console_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run_console_page(PAGE, 20)


def test_lint_and_sync_console_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/lint-and-sync.md: its ```csv block is the weekly.csv its examples read."""
    page = DOCS / "lint-and-sync.md"
    text = page.read_text(encoding="utf-8")
    csv_block = text.split("```csv\n", 1)[1].split("```", 1)[0]
    (tmp_path / "weekly.csv").write_text(csv_block, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run_console_page(page, 10)


def _command_paths(group: click.Group, prefix: str = "okra") -> list[str]:
    paths: list[str] = []
    commands = load_commands() if group is cli else group.commands  # the root's are lazy
    for name, command in sorted(commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths += _command_paths(command, path)
        else:
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", _command_paths(cli))
def test_every_command_is_in_the_reference(path: str) -> None:
    text = PAGE.read_text(encoding="utf-8")
    group, _, name = path.rpartition(" ")
    # "okra objective revise / reassign / ..." lists several of a group at once.
    word = re.compile(rf"(?<![\w-]){re.escape(name)}\b")
    listed = path in text or any(
        line.startswith(f"| `{group} ") and word.search(line) for line in text.splitlines()
    )
    assert listed, f"`{path}` is missing from docs/cli.md"
