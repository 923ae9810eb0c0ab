"""The ``okra`` command line: run a quarter from the terminal, or drive it from scripts.

Commands that record something live in :mod:`._write`, queries in
:mod:`._read`, store keeping (init, export, import, report, rebuild, demo,
plugins) in :mod:`._admin`. Plugins add commands through the
``okra_cli_commands`` hook; the plugins come from ``ctx.obj`` when it is a
:class:`okra_core.Plugins` (tests pass one), else they are loaded once per
invocation.

Exit statuses are listed in :class:`ExitCode`.
"""

from __future__ import annotations

import importlib
import sys

import click

from okra_core import PluginError

from ._base import ExitCode, OkraGroup, plugins_of, start_session, user_error

__all__ = ["ExitCode", "cli", "load_commands", "main"]

# The module of each of okra's own commands, imported when the command is asked for:
# `okra dashboard` needs none of the writing, store-keeping or integrity commands.
# `lint` and `sync` come with the writing commands: they add `kr bind` and `unbind`.
# tests/test_startup.py checks this table against what the modules register.
_HOMES: dict[str, str] = {
    name: home
    for home, names in (
        ("_write", "action checkin correct cycle kr objective playbook retract task lint sync"),
        ("_read", "audit bets calibration dashboard diff explain focus history lineage list"),
        ("_read", "orphans progress review scorecard show tree"),
        ("_admin", "demo export import init plugins rebuild report"),
        ("_integrity", "checkpoint keygen proof verify"),
    )
    for name in names.split()
}


_HELP = """okra: Objectives, Key Results and Actions, recorded as events.

\b
Start:     okra init; okra cycle plan Q3 --start 2026-07-01 --end 2026-09-30
Each week: okra checkin KR VALUE -c 7 -m "what happened"; okra dashboard; okra focus
Close:     okra cycle close Q3; okra scorecard Q3; okra review Q3

Things are named by their exact title or by id (its first 4+ hex digits).
See docs/cli.md, and `okra COMMAND --help`.
"""


class _RootGroup(OkraGroup):
    """okra's own commands (their modules imported on first use), then the plugins'."""

    def own_command(self, name: str) -> click.Command | None:
        """Okra's own command of that name, its module imported (and registered) if need be."""
        home = _HOMES.get(name)
        if home is not None and name not in self.commands:
            module = importlib.import_module(f"{__name__}.{home}")
            module.register(self)
            if home == "_write":
                from . import _lint

                _lint.register(self, module.key_result)
        return self.commands.get(name)

    def plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        """The commands plugins add, reporting those that cannot be used."""
        plugins = plugins_of(ctx)
        try:
            declared = plugins.cli_commands()
        except PluginError as exc:
            raise user_error(exc) from exc
        commands: dict[str, click.Command] = {}
        for name, declared_command in declared.items():
            command = declared_command.command
            owner = plugins.claimed_by("okra_cli_commands", name) or "?"
            if name in self.commands or name in _HOMES:
                plugins.report(
                    owner, f"command {name!r} is one of okra's own; the plugin's is ignored"
                )
            elif not isinstance(command, click.Command):
                plugins.report(
                    owner,
                    f"command {name!r}: expected a click.Command, got {type(command).__name__}",
                )
            else:
                commands[name] = command
        return commands

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse, taking ``--store``/``--actor`` after the command as if given before it.

        ``okra checkin KR 5 --actor sam`` then works like ``okra --actor sam checkin
        KR 5``, unless the command has an option of that name itself (``okra log
        --actor`` filters by actor).
        """
        return super().parse_args(ctx, _global_options_first(self, ctx, args))

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Okra's commands and the plugins', sorted."""
        return sorted({*super().list_commands(ctx), *_HOMES, *self.plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Okra's own command of that name, else a plugin's."""
        own = self.own_command(cmd_name)
        if own is not None:
            return own
        return self.plugin_commands(ctx).get(cmd_name)


_GLOBAL = ("--store", "--actor")


def _global_options_first(group: click.Group, ctx: click.Context, args: list[str]) -> list[str]:
    """``args`` with the root's ``--store``/``--actor`` moved before the command."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in _GLOBAL else 1
    command: click.Command | None = group
    depth = i
    own: set[str] = set()
    # Follow the command path (okra cycle plan ...) to the command that runs.
    while isinstance(command, click.Group) and depth < len(args):
        found = command.get_command(ctx, args[depth])
        if found is None:
            return args
        command, depth = found, depth + 1
        own |= {o for p in found.params if isinstance(p, click.Option) for o in p.opts}
    moved: list[str] = []
    rest: list[str] = []
    j = depth
    while j < len(args):
        arg = args[j]
        if arg == "--":
            rest += args[j:]
            break
        name = arg.partition("=")[0]
        if name in _GLOBAL and name not in own:
            if "=" in arg:
                moved.append(arg)
            elif j + 1 < len(args):
                moved += [arg, args[j + 1]]
                j += 1
            else:
                rest.append(arg)  # no value: let click say so
        else:
            rest.append(arg)
        j += 1
    if not moved:
        return args
    return [*moved, *args[:depth], *rest]


@click.group(cls=_RootGroup, help=_HELP)
@click.option(
    "--store",
    envvar="OKRA_STORE",
    default=None,
    metavar="URL|PATH",
    help="Where the events are: sqlite:///file, postgresql://..., memory://, or a file "
    "path [env OKRA_STORE; default: okra.sqlite in the data folder].",
)
@click.option(
    "--actor",
    envvar="OKRA_ACTOR",
    default=None,
    help="Who you are, recorded on every change [env OKRA_ACTOR; default: your login].",
)
@click.version_option(package_name="okra")
@click.pass_context
def cli(ctx: click.Context, store: str | None, actor: str | None) -> None:
    """okra: Objectives, Key Results and Actions, recorded as events."""
    start_session(ctx, store, actor)


def load_commands() -> dict[str, click.Command]:
    """Every one of okra's own commands by name, all their modules imported."""
    commands = {name: cli.own_command(name) for name in _HOMES}
    return {name: command for name, command in commands.items() if command is not None}


def main() -> None:
    """Entry point of the ``okra`` console script."""
    sys.exit(cli.main(standalone_mode=True))
