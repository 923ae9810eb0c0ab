"""The demo: one realistic quarter in an embedded SQLite file, read and closed, runnable twice."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from okra_adapters.cli import ExitCode, cli
from okra_adapters.demo import (
    CYCLE,
    NEXT_CYCLE,
    QUARTER_START,
    THIS_WEEK,
    TIME_TRAVELLER,
    WEEKS,
    build_demo,
    run_demo,
    week_time,
)
from okra_core import (
    ActionStatus,
    Change,
    ContinuationMode,
    CycleStatus,
    FocusKind,
    ManualClock,
    ObjectiveStatus,
    Okra,
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo built once for the module, through the command line: its file and output."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    result = CliRunner().invoke(cli, ["demo", "--path", str(path)])
    assert result.exit_code == 0, result.output
    return path, result.output


def _section(output: str, heading: str) -> str:
    """The lines from the ``== heading`` line to the next ``==`` heading."""
    start = output.index("== " + heading)
    end = output.find("\n== ", start + 1)
    return output[start : end if end != -1 else len(output)]


def test_demo_runs_twice_with_the_same_output(demo: tuple[Path, str]) -> None:
    path, first = demo
    second = CliRunner().invoke(cli, ["demo", "--path", str(path)])
    assert second.exit_code == 0, second.output
    assert second.output == first
    assert f"Database: {path}" in first


def test_the_event_count_is_what_the_file_holds(demo: tuple[Path, str]) -> None:
    path, output = demo
    match = re.search(r"Database: .* \((\d+) events\)", output)
    assert match is not None
    with Okra(f"sqlite:///{path}") as okra:
        assert int(match.group(1)) == sum(1 for _ in okra.history())
    with sqlite3.connect(path) as db:
        (rows,) = db.execute("SELECT count(*) FROM stored_events").fetchone()
    assert int(match.group(1)) == rows


def test_the_store_holds_the_quarter_closed_and_carried_over(demo: tuple[Path, str]) -> None:
    path, _ = demo
    with Okra(f"sqlite:///{path}") as okra:
        q3, q4 = okra.cycle(CYCLE), okra.cycle(NEXT_CYCLE)
        assert q3.status is CycleStatus.CLOSED
        assert q4.status is CycleStatus.PLANNING
        objectives = okra.objectives(cycle=q3)
        assert len(objectives) == 3
        assert all(o.status is ObjectiveStatus.CLOSED for o in objectives)
        assert sum(1 for o in objectives if o.alignments) == 2
        response = okra.key_results(objectives[1])[0]
        assert response.metric == Change(baseline=24, target=4)
        assert len(response.check_ins) == WEEKS
        assert len({c.confidence for c in response.check_ins}) > 1
        assert all(kr.grade is not None for o in objectives for kr in okra.key_results(o))
        outcomes = {a.status for a in okra.actions()}
        assert {ActionStatus.VALIDATED, ActionStatus.INVALIDATED} <= outcomes
        assert any(t.done for a in okra.actions() for t in a.tasks)
        kinds = {kr.metric.kind for kr in okra.key_results()}
        assert kinds == {"change", "stay_below", "range", "milestone"}
        (carried,) = okra.objectives(cycle=q4)
        assert carried.status is ObjectiveStatus.DRAFT
        assert carried.continues is not None
        assert carried.continues.from_objective_id == objectives[1].id
        assert carried.continues.mode is ContinuationMode.CARRY_OVER


def test_the_dashboard_shows_the_quarter_in_week_ten(demo: tuple[Path, str]) -> None:
    path, output = demo
    now = week_time(THIS_WEEK)
    section = _section(output, f"{CYCLE}, Wed 9 Sep 2026 (week {THIS_WEEK} of {WEEKS})")
    with Okra(f"sqlite:///{path}") as okra:
        board = okra.cycle_progress(CYCLE, as_known_at=now)
    assert f"{board.expected_pace:.0%} of the quarter has gone" in section
    for objective in board.objectives:
        status = objective.pace_status.value.replace("_", " ")
        assert re.search(
            rf"{objective.progress:.0%}\s+{status}\s+{re.escape(objective.title)}", section
        ), objective.title
    assert "Net promoter score: 32 -> 45 (retargeted), now 41.2, confidence 4/10" in section
    assert "Median first response time: 24 h -> 4 h" in section


def test_the_focus_list_gives_ranked_items_with_reasons(demo: tuple[Path, str]) -> None:
    path, output = demo
    section = _section(output, "Focus this week")
    with Okra(f"sqlite:///{path}") as okra:
        # The list the team saw in week 10, rebuilt from the file.
        focus = okra.focus(cycle=CYCLE, as_known_at=week_time(THIS_WEEK))
    kinds = {item.kind for item in focus.items}
    assert {
        FocusKind.OFF_TRACK,
        FocusKind.FALLING_CONFIDENCE,
        FocusKind.STALE,
        FocusKind.IDLE_ACTION,
    } <= kinds
    positions = []
    for item in focus.items:
        assert f"{item.rank}. {item.kind.value.replace('_', ' ')}" in section
        assert f"{item.title} ({item.owner})" in section
        assert item.reason in section
        positions.append(section.index(item.reason))
    assert positions == sorted(positions)
    assert "Tickets resolved in one contact (sam)" in section
    assert "confidence fell from 60% (6/10) to 40% (4/10)" in section
    assert "Monthly churn (maria)" in section
    assert "placed bet with no activity" in section


def test_time_travel_shows_mid_quarter_as_reported_as_known_and_now(
    demo: tuple[Path, str],
) -> None:
    path, output = demo
    section = _section(output, "Time travel")
    row = re.search(r"^Progress\s+(\d+)%\s+(\d+)%\s+(\d+)%$", section, re.MULTILINE)
    assert row is not None, section
    reported, known, now = (int(x) for x in row.groups())
    assert len({reported, known, now}) == 3
    mid = datetime(2026, 8, 16, tzinfo=UTC)
    assert "Mid-quarter: Sun 16 Aug 2026 00:00." in section
    with Okra(f"sqlite:///{path}") as okra:
        objective = okra.objectives(cycle=CYCLE)[1]
        assert objective.title == TIME_TRAVELLER
        then = okra.objective_progress(objective, as_known_at=mid)
        since = okra.objective_progress(objective, as_of=mid)
        current = okra.objective_progress(objective, as_of=week_time(THIS_WEEK))
    assert then.progress is not None
    assert since.progress is not None
    assert current.progress is not None
    assert (reported, known, now) == tuple(
        round(100 * p) for p in (then.progress, since.progress, current.progress)
    )
    # The late CSAT batch drops it out of its range; the correction lowers one-contact.
    assert re.search(r"^CSAT\s+4\.22 /5 \(100%\)\s+4\.15 /5 \(0%\)", section, re.MULTILINE)
    assert re.search(r"^Tickets resolved in one contact\s+59\.7 %.*57\.9 %", section, re.M)
    assert "CSAT checked in 4.15 /5 as of Fri 14 Aug: Late survey batch" in section
    assert "corrected to 57.9 % as of Wed 12 Aug: Reopened tickets" in section


def test_the_scorecard_shows_the_overridden_grade_and_the_review(
    demo: tuple[Path, str],
) -> None:
    path, output = demo
    section = _section(output, f"End of quarter: {CYCLE} closed")
    assert "committed met 0 of 1; aspirational: 1 on target, 1 too easy." in section
    assert "Answer every customer fast  [sam, committed: missed, expected 1.0]" in section
    assert "overridden by maria: suggested 0.9, graded 0.7: 0.9 only against" in section
    assert "goalposts moved: against the original target it would suggest 0.6" in section
    with Okra(f"sqlite:///{path}") as okra:
        nps = okra.key_result("Net promoter score")
        assert nps.grade is not None
        assert (nps.grade.score, nps.grade.suggested) == (0.7, 0.9)
        assert nps.grade.rationale in section
        card = okra.scorecard(CYCLE)
    assert not card.provisional
    for objective in card.objectives:
        assert f"{objective.score:.1f}  {objective.band.value:<6} {objective.title}" in section
    review = _section(output, f"Business review {CYCLE}")
    assert "sam: score 0.8, committed met 0 of 1" in review
    assert "learned (invalidated) Weekend on-call rota" in review
    assert (
        f"carry over into {NEXT_CYCLE}: 'Answer every customer fast' (draft) with "
        "Median first response time, Tickets resolved in one contact"
    ) in review
    assert "hit rate 67%" in review


def test_build_demo_calls_back_in_every_week() -> None:
    clock = ManualClock(QUARTER_START - timedelta(days=7))
    seen: list[tuple[int, datetime]] = []
    with Okra("memory://", clock=clock) as okra:
        build_demo(okra, clock, at_week=lambda week: seen.append((week, clock.now())))
        assert okra.cycle(CYCLE).status is CycleStatus.CLOSED
    assert seen == [(week, week_time(week)) for week in range(1, WEEKS + 1)]


def test_demo_refuses_to_overwrite_other_files(tmp_path: Path) -> None:
    path = tmp_path / "precious.sqlite"
    with Okra(f"sqlite:///{path}") as okra:
        okra.revise_playbook(check_in_cadence_days=14, reason="mine", actor="ana")
    result = CliRunner().invoke(cli, ["demo", "--path", str(path)])
    assert result.exit_code == ExitCode.REFUSED
    assert "not an okra demo file" in result.output
    with Okra(f"sqlite:///{path}") as okra:
        assert okra.playbook.settings.check_in_cadence_days == 14


def test_demo_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes")
    result = CliRunner().invoke(cli, ["demo", "--path", str(path)])
    assert result.exit_code == ExitCode.REFUSED
    assert "not an okra demo file" in result.output
    assert path.read_text() == "my notes"


def test_run_demo_echoes_through_the_given_function(tmp_path: Path) -> None:
    lines: list[str] = []
    path = run_demo(tmp_path / "d.sqlite", echo=lines.append)
    assert path == (tmp_path / "d.sqlite").resolve()
    headings = [line for line in lines if line.startswith("== ")]
    assert [h.split(":")[0] for h in headings] == [
        f"== {CYCLE}, Wed 9 Sep 2026 (week {THIS_WEEK} of {WEEKS})",
        "== Focus this week",
        "== Time travel",
        "== End of quarter",
        f"== Business review {CYCLE} ==",
    ]


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
    assert "== Focus this week" in result.stdout


def test_the_demo_says_how_to_reach_okra_and_its_hints_work_as_printed(tmp_path: Path) -> None:
    """After ``make demo``, ``okra`` is not on the PATH: the demo's last lines say how
    to reach it, and each printed command runs in a shell exactly as printed."""
    script = Path(sys.executable).parent / "okra"
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "160"}
    result = subprocess.run(
        [str(script), "demo", "--path", str(tmp_path / "d.sqlite")],
        capture_output=True,
        text=True,
        check=False,
        env=bare,
    )
    assert result.returncode == 0, result.stderr
    explore, activate = result.stdout.splitlines()[-2:]
    assert explore.startswith("Explore it: ")
    assert str(script) in explore
    first = explore.removeprefix("Explore it: ")
    assert activate.startswith("or put okra on your PATH first: source ")
    source, then = activate.removeprefix("or put okra on your PATH first: ").split(
        " (or make shell), then: "
    )
    for command in (first, f". {source.removeprefix('source ')} && {then}"):
        shown = subprocess.run(
            ["/bin/sh", "-c", command], capture_output=True, text=True, check=False, env=bare
        )
        assert shown.returncode == 0, (command, shown.stderr)
        assert "Answer every customer fast" in shown.stdout
