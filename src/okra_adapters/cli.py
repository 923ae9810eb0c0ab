"""The ``okra`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from okra_core import OkraError, default_data_dir

from .demo import DemoError, run_demo

__all__ = ["cli", "main"]


@click.group()
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


def main() -> None:
    """Entry point of the ``okra`` console script."""
    sys.exit(cli.main(standalone_mode=True))
