"""The ``okra`` command starts without the code it does not use.

Each case runs the real console entry point in a fresh interpreter and lists the
modules it imported: ``okra --help`` and ``okra dashboard`` on a small store must
not import the web UI, the notifiers and their dispatcher, the demo, the reports
or rich's progress bars; the commands that need them still work (the CLI, web and
notify tests run them). No timing is asserted: `make bench` measures it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import click
import pytest

from okra_adapters.cli import _HOMES, _admin, _integrity, _lint, _read, _write, load_commands
from okra_core import Change, CycleStarted, EventCodec, Okra

# Modules the everyday commands must leave alone.
UNUSED = (
    "okra_adapters.demo",
    "okra_adapters.reports",
    "okra_adapters.web._tokens",
    "okra_adapters.web._users",
    "okra_adapters.web._auth",
    "okra_adapters.web._app",
    "okra_adapters.notify._dispatch",
    "okra_adapters.notify._outbox",
    "okra_adapters.notify._rules",
    "okra_adapters.notify.smtp",
    "okra_adapters.notify.webhook",
    "okra_adapters.notify.console",
    "rich.progress",
    "starlette",
    "jinja2",
    "smtplib",
    # okra reads the plugins' entry points itself; importlib.metadata brings email,
    # zipfile and more. The metric sources' HTTP client waits for `okra sync`.
    "importlib.metadata",
    "email",
    "urllib.request",
    "http.client",
    "ssl",
    # The Postgres adapter's driver, for a store on SQLite.
    "eventsourcing.postgres",
    "psycopg",
)

# What `okra dashboard` leaves alone besides: the other commands' modules.
NOT_FOR_THE_DASHBOARD = (
    "okra_adapters.cli._write",
    "okra_adapters.cli._admin",
    "okra_adapters.cli._integrity",
)

_PROBE = """
import json, sys
from okra_adapters.cli import cli
try:
    cli.main(sys.argv[1:], prog_name="okra", standalone_mode=False)
finally:
    print("\\n" + json.dumps(sorted(sys.modules)))
"""


def _run(*args: str) -> tuple[str, set[str]]:
    # No users file (whatever okra's data folder holds): a team's would rightly be read.
    no_team = Path(__file__).parent / "no-such-folder" / "web-users.sqlite"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "OKRA_WEB_USERS": str(no_team)},
    )
    assert done.returncode == 0, done.stderr
    output, _, modules = done.stdout.rstrip().rpartition("\n")
    return output, set(json.loads(modules))


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    path = tmp_path / "small.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        today = datetime.now(UTC).date()
        q = okra.plan_cycle(
            "Q", start=today - timedelta(days=30), end=today + timedelta(days=60), actor="ana"
        )
        okra.start_cycle(q, actor="ana")
        objective = okra.draft_objective("Delight customers", cycle=q, owner="ana", actor="ana")
        okra.add_key_result(
            objective, "NPS", metric=Change(baseline=20, target=50), unit="points", actor="ana"
        )
        okra.activate_objective(objective, actor="ana")
    return path


def test_help_lists_plugin_commands_without_importing_them() -> None:
    output, modules = _run("--help")
    # The plugins' commands are listed: okra's own plugins and the example plugin.
    for command in ("serve", "token", "notify", "example-lint", *_HOMES):
        assert f"  {command} " in output, output
    assert sorted(m for m in UNUSED if m in modules) == []


def test_dashboard_on_a_small_store_imports_only_what_it_uses(small_store: Path) -> None:
    output, modules = _run("--store", str(small_store), "--actor", "ana", "dashboard")
    assert "Delight customers" in output
    assert "NPS" in output
    assert sorted(m for m in (*UNUSED, *NOT_FOR_THE_DASHBOARD) if m in modules) == []


def test_each_command_lives_where_the_cli_looks_for_it() -> None:
    # The root group imports a command's module when the command is asked for.
    found: dict[str, str] = {}
    for home, module in (
        ("_write", _write),
        ("_read", _read),
        ("_admin", _admin),
        ("_integrity", _integrity),
    ):
        group = click.Group()
        module.register(group)
        if module is _write:
            _lint.register(group, click.Group())
        found.update(dict.fromkeys(group.commands, home))
    assert found == _HOMES
    assert sorted(load_commands()) == sorted(_HOMES)


def test_the_lazy_names_of_the_adapter_packages_still_import() -> None:
    import okra_adapters.notify as notify
    import okra_adapters.web as web

    for name in notify.__all__:
        assert getattr(notify, name) is not None, name
    for name in web.__all__:
        assert getattr(web, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = notify.nothing
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = web.nothing


def test_a_codec_builds_its_converter_on_first_use() -> None:
    # Every Okra makes a codec; many never encode or decode through the converter.
    codec = EventCodec()
    assert "converter" not in vars(codec)
    event = CycleStarted(
        originator_id=UUID(int=1),
        originator_version=2,
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="ana",
    )
    name, data = codec.encode(event)
    assert "converter" in vars(codec)
    assert codec.decode(name, UUID(int=1), 2, data) == event
