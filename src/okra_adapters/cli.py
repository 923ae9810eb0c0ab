"""The ``okra`` command line.

Plugins add subcommands through the ``okra_cli_commands`` hook. The plugins come
from ``ctx.obj`` when it is a :class:`okra_core.Plugins` (tests pass one), else
they are loaded once per invocation.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from okra_core import OkraError, PluginError, Plugins, default_data_dir, load_plugins

from .demo import DemoError, run_demo

__all__ = ["cli", "main"]

_PLUGINS_KEY = "okra.plugins"


def _plugins(ctx: click.Context) -> Plugins:
    root = ctx.find_root()
    if isinstance(root.obj, Plugins):
        return root.obj
    if _PLUGINS_KEY not in root.meta:
        try:
            root.meta[_PLUGINS_KEY] = load_plugins()
        except PluginError as exc:
            raise click.ClickException(str(exc)) from exc
    plugins: Plugins = root.meta[_PLUGINS_KEY]
    return plugins


class _OkraGroup(click.Group):
    """okra's own commands, then those of the plugins."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        plugins = _plugins(ctx)
        try:
            declared = plugins.cli_commands()
        except PluginError as exc:
            raise click.ClickException(str(exc)) from exc
        commands: dict[str, click.Command] = {}
        for name, declared_command in declared.items():
            command = declared_command.command
            owner = plugins.claimed_by("okra_cli_commands", name) or "?"
            if name in self.commands:
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

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        own = super().get_command(ctx, cmd_name)
        if own is not None:
            return own
        return self._plugin_commands(ctx).get(cmd_name)


@click.group(cls=_OkraGroup)
@click.version_option(package_name="okra")
def cli() -> None:
    """okra: Objectives, Key Results and Actions, recorded as events."""


@cli.command()
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file to build the demo in [default: demo.sqlite in okra's data folder].",
)
def demo(path: Path | None) -> None:
    """Build a realistic quarter in an SQLite file and print a summary.

    Running it again rebuilds the same demo file from scratch.
    """
    target = path if path is not None else default_data_dir() / "demo.sqlite"
    try:
        run_demo(target, echo=click.echo)
    except (DemoError, OkraError) as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List the installed plugins with their version and hooks.

    Problems with plugins (one that fails to import, returns something invalid
    or claims a name another already has) are printed to standard error.
    """
    plugins = _plugins(ctx)
    plugins.check()
    cli_group = ctx.parent.command if ctx.parent is not None else None
    if isinstance(cli_group, _OkraGroup) and ctx.parent is not None:
        cli_group._plugin_commands(ctx.parent)  # reports commands it cannot use
    infos = plugins.info()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {"name": i.name, "package": i.package, "version": i.version, "hooks": i.hooks}
                    for i in infos
                ],
                indent=2,
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


def main() -> None:
    """Entry point of the ``okra`` console script."""
    sys.exit(cli.main(standalone_mode=True))
