"""The benchmark suite runs (quick mode) and reports every workload with its ratios.

No timing is asserted: the machine running the tests is shared and noisy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = (
    "codec",
    "ingest",
    "single_command",
    "rebuild",
    "time_travel",
    "dashboard",
    "verify",
    "cli",
    "scale",
    "contention",
)


def test_quick_mode_reports_every_workload_with_figures_and_ratios(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    assert report["mode"] == "quick"
    assert report["machine"]["cpus"] >= 1
    assert report["machine"]["python"].count(".") == 2
    assert tuple(report["workloads"]) == WORKLOADS
    for name, workload in report["workloads"].items():
        assert workload["measures"], name
        for row in workload["measures"]:
            assert row["okra"] > 0, (name, row)
            assert set(row["ratios"]) == set(row["baselines"]), (name, row)
            assert all(r is not None and r > 0 for r in row["ratios"].values()), (name, row)
    with_baselines = {
        name
        for name, w in report["workloads"].items()
        if any(r["baselines"] for r in w["measures"])
    }
    assert {"codec", "ingest", "single_command", "rebuild", "time_travel"} <= with_baselines
    assert "| rebuild |" in done.stdout
