"""Bad input to every ``okra`` command: hypothesis fills arguments and options with bad text.

Every command the ``okra`` group has (its own and the example plugin's) is run
with its arguments and one option taken from a list of bad values (not numbers,
NaN, 1 MB strings, control characters, far dates, unknown ids). Whatever the
input, okra answers with one of its exit statuses and a message: never an
unexpected failure (exit 1) or a traceback, and a refused command writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.cli import ExitCode, cli
from okra_core import Change, Okra, Plugins, load_plugins

BAD_TEXT = [
    "",
    " ",
    "abc",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "42%",
    "x" * 1_000_000,
    "\x1b[31mred",
    "\x00",
    "\u202eevil",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "yesterday",
    "ffffffff",
    "00000000-0000-0000-0000-000000000000",
    "--",
    "-5",
    "Team",
]

# Commands that serve, watch or open things until stopped: not for a sweep.
SKIP = {"serve", "demo", "notify watch"}


def _commands(
    group: click.Group, ctx: click.Context, prefix: str = ""
) -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, path + " ")
        elif path not in SKIP:
            yield path, command


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return load_plugins()


@pytest.fixture(scope="module")
def commands(plugins: Plugins) -> list[tuple[str, click.Command]]:
    with click.Context(cli, obj=plugins) as ctx:
        return sorted(_commands(cli, ctx), key=lambda pair: pair[0])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bad-cli") / "okra.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        q = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 12, 31), actor="lee")
        okra.start_cycle(q, actor="lee")
        goal = okra.draft_objective("Team", cycle=q, owner="lee", actor="lee")
        okra.add_key_result(goal, "Reply", metric=Change(baseline=24, target=4), actor="lee")
        okra.activate_objective(goal, actor="lee")
    return path


def _events(store: Path) -> int:
    with Okra(f"sqlite:///{store}") as okra:
        return sum(1 for _ in okra.history())


def test_the_sweep_covers_every_command(commands: list[tuple[str, click.Command]]) -> None:
    names = {name for name, _ in commands}
    assert {"checkin", "cycle plan", "kr add", "import", "export", "notify run"} <= names
    assert len(names) > 30


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_command_answers_bad_input_with_an_exit_status_and_a_message(
    commands: list[tuple[str, click.Command]],
    store: Path,
    plugins: Plugins,
    tmp_path_factory: pytest.TempPathFactory,
    data: st.DataObject,
) -> None:
    name, command = data.draw(st.sampled_from(commands), label="command")
    args: list[str] = name.split()
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs in (1, -1) else param.nargs
            args += [
                data.draw(st.sampled_from(BAD_TEXT), label=param.name or "") for _ in range(count)
            ]
    options = [p for p in command.params if isinstance(p, click.Option) and not p.is_flag]
    if options:
        option = data.draw(st.sampled_from(options), label="option")
        if option.name not in ("output", "outbox", "path", "store"):  # no files written about
            args += [max(option.opts, key=len), data.draw(st.sampled_from(BAD_TEXT), label="value")]
    before = _events(store)
    # In a folder of its own: keygen, --tokens, a report or an export may write a file
    # named by a bad value; the tokens and users files go there too, not in okra's data
    # folder (a users file there would give every later store an access policy to read).
    cwd = tmp_path_factory.mktemp("cwd")
    files = {"OKRA_WEB_TOKENS": str(cwd / "tokens.sqlite"), "OKRA_WEB_USERS": str(cwd / "u.sqlite")}
    runner = CliRunner(env={"COLUMNS": "120", "OKRA_STORE": None, **files})
    with contextlib.chdir(cwd):
        result = runner.invoke(cli, ["--store", str(store), "--actor", "lee", *args], obj=plugins)
    assert result.exit_code != ExitCode.FAILED, (args, result.output, result.exception)
    assert result.exit_code in {int(code) for code in ExitCode}, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.stderr.strip(), args  # it says why
        assert _events(store) == before, args
