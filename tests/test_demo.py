"""The demo: one realistic quarter in an embedded SQLite file, runnable twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from okra_adapters.cli import cli
from okra_core import ActionStatus, Change, ObjectiveStatus, Okra


def test_demo_builds_a_quarter_and_runs_twice(tmp_path: Path) -> None:
    path = tmp_path / "demo.sqlite"
    runner = CliRunner()
    first = runner.invoke(cli, ["demo", "--path", str(path)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["demo", "--path", str(path)])
    assert second.exit_code == 0, second.output
    assert first.output == second.output
    assert f"Database: {path}" in first.output
    assert "Median first response time: 24 h -> 4 h" in first.output

    with Okra(f"sqlite:///{path}") as okra:
        objectives = okra.objectives()
        assert len(objectives) == 3
        assert all(o.status is ObjectiveStatus.CLOSED for o in objectives)
        assert sum(1 for o in objectives if o.alignments) == 2
        response = okra.key_result("Median first response time")
        assert response.metric == Change(baseline=24, target=4)
        assert len(response.check_ins) == 13
        assert len({c.confidence for c in response.check_ins}) > 1
        attainment = response.attainment().value
        assert attainment is not None
        assert 0 < attainment <= 1.2
        outcomes = {a.status for a in okra.actions()}
        assert {ActionStatus.VALIDATED, ActionStatus.INVALIDATED} <= outcomes
        assert any(t.done for a in okra.actions() for t in a.tasks)
        kinds = {kr.metric.kind for kr in okra.key_results()}
        assert kinds == {"change", "stay_below", "range", "milestone"}


def test_demo_refuses_to_overwrite_other_files(tmp_path: Path) -> None:
    path = tmp_path / "precious.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        okra.revise_playbook(check_in_cadence_days=14, reason="mine", actor="ana")
    result = CliRunner().invoke(cli, ["demo", "--path", str(path)])
    assert result.exit_code == 1
    assert "not an okra demo file" in result.output
    with Okra(f"sqlite:///{path}") as okra:
        assert okra.playbook.settings.check_in_cadence_days == 14


def test_okra_demo_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "okra"
    result = subprocess.run(
        [str(script), "demo", "--path", str(tmp_path / "d.sqlite")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Answer every customer fast" in result.stdout
