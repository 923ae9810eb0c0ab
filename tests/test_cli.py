"""The okra command, driven as a user would through click's runner.

Each test works on its own SQLite file. Cycles are placed around the real
present (the command uses the system clock), and check-ins are backdated with
``--at``, so the figures asserted do not depend on the day the tests run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from okra_adapters.cli import ExitCode, cli
from okra_adapters.demo import CYCLE, QUARTER_START, build_demo
from okra_core import KeyResult, ManualClock, Okra, Plugins, load_plugins

TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(days=60)
END = TODAY + timedelta(days=30)


def day(offset: int) -> str:
    """The date ``offset`` days after the cycle's start, as typed on the command line."""
    return (START + timedelta(days=offset)).isoformat()


Run = Callable[..., Result]


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return load_plugins()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "okra.sqlite"


@pytest.fixture
def run(store: Path, plugins: Plugins) -> Run:
    """Run ``okra --store FILE --actor ana ARGS``; check the exit status."""

    def invoke(*args: str, code: int = 0, actor: str = "ana", stdin: str | None = None) -> Result:
        result = CliRunner(env={"COLUMNS": "200", "OKRA_STORE": None}).invoke(
            cli, ["--store", str(store), "--actor", actor, *args], obj=plugins, input=stdin
        )
        assert result.exit_code == code, (result.output, result.stderr, result.exception)
        return result

    invoke("init")
    return invoke


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)


def events(store: Path) -> int:
    with Okra(f"sqlite:///{store}") as okra:
        return sum(1 for _ in okra.history())


@pytest.fixture
def quarter(run: Run) -> dict[str, str]:
    """A started cycle, an active objective with two key results, one bet with a task."""
    ids = {
        "cycle": as_json(
            run(
                "cycle",
                "plan",
                "Q",
                "--start",
                START.isoformat(),
                "--end",
                END.isoformat(),
                "--json",
            )
        )["id"]
    }
    run("cycle", "start", "Q")
    ids["objective"] = as_json(
        run("objective", "draft", "Delight customers", "--cycle", "Q", "--owner", "ana", "--json")
    )["id"]
    ids["frt"] = as_json(
        run(
            "kr",
            "add",
            "Delight customers",
            "First response",
            "--baseline",
            "24",
            "--target",
            "4",
            "--unit",
            "h",
            "--json",
        )
    )["id"]
    ids["nps"] = as_json(
        run(
            "kr",
            "add",
            "Delight customers",
            "NPS",
            "--metric",
            "stay_above",
            "--threshold",
            "40",
            "--owner",
            "bo",
            "--json",
        )
    )["id"]
    run("objective", "activate", "Delight customers")
    run("checkin", "First response", "20", "-c", "7", "-m", "hired two", "--at", day(7))
    run("checkin", "First response", "14", "-c", "6", "--at", day(40))
    run("checkin", "NPS", "45", "-c", "8", "--at", day(20))
    ids["bet"] = as_json(
        run(
            "action",
            "propose",
            "Chat widget",
            "--kr",
            "First response",
            "--hypothesis",
            "chat answers faster",
            "--owner",
            "ana",
            "--effort",
            "5",
            "--expect",
            "First response=-6:fewer mails",
            "--odds",
            "0.6",
            "--json",
        )
    )["id"]
    run("action", "place", "Chat widget")
    return ids


# --- writing ----------------------------------------------------------------------------


def test_init_creates_the_store_and_can_run_again(run: Run, store: Path) -> None:
    assert "ready and empty" in run("init").stdout
    assert store.exists()
    run("cycle", "plan", "Q", "--start", "2026-01-01", "--end", "2026-03-31")
    assert as_json(run("init", "--json")) == {
        "store": f"sqlite:///{store}",
        "events": 1,
        "cycles": 1,
    }


def test_a_quarter_through_the_commands(run: Run, store: Path, quarter: dict[str, str]) -> None:
    with Okra(f"sqlite:///{store}") as okra:
        kr = okra.key_result(quarter["frt"])
        assert [c.value for c in kr.check_ins] == [20, 14]
        assert kr.check_ins[0].narrative == "hired two"
        assert kr.check_ins[0].effective_at.date().isoformat() == day(7)
        assert str(kr.check_ins[1].confidence) == "6/10"
        assert okra.key_result(quarter["nps"]).owner == "bo"
        bet = okra.action(quarter["bet"])
        assert bet.status.value == "placed"
        assert bet.expected_effects[0].change == -6
        assert {e.actor for e in okra.history()} == {"ana"}


def test_every_metric_kind_can_be_added(run: Run, quarter: dict[str, str]) -> None:
    shapes = {
        "range": ["--metric", "range", "--low", "1", "--high", "3"],
        "stay_below": ["--metric", "stay_below", "--threshold", "2", "--exclusive"],
        "milestone": ["--metric", "milestone"],
        "change": ["--target", "10", "--commit", "7", "--stretch", "12"],
    }
    for kind, options in shapes.items():
        added = as_json(
            run("kr", "add", quarter["objective"][:8], f"KR {kind}", *options, "--json")
        )
        assert added["metric"]["kind"] == kind
    assert as_json(run("kr", "baseline", "KR change", "3", "--json"))["metric"]["baseline"] == 3


def test_metric_options_are_checked_by_name(run: Run, store: Path, quarter: dict[str, str]) -> None:
    before = events(store)
    result = run(
        "kr",
        "add",
        "Delight customers",
        "K",
        "--metric",
        "range",
        "--low",
        "1",
        "--target",
        "3",
        code=ExitCode.INVALID,
    )
    assert "--high: required for a range metric" in result.stderr
    assert "--target: not used by a range metric" in result.stderr
    result = run(
        "kr",
        "add",
        "Delight customers",
        "K",
        "--metric",
        "range",
        "--low",
        "5",
        "--high",
        "1",
        code=ExitCode.INVALID,
    )
    assert "--high" in result.stderr
    assert events(store) == before


def test_checkin_errors_name_the_options_and_write_nothing(
    run: Run, store: Path, quarter: dict[str, str]
) -> None:
    before = events(store)
    future = (TODAY + timedelta(days=3)).isoformat()
    result = run("checkin", "NPS", "3", "-c", "11", "--at", future, code=ExitCode.INVALID)
    assert "--confidence: expected a number from 0 to 10" in result.stderr
    assert "--at: expected a time no later than now" in result.stderr
    assert result.stderr.startswith("error: invalid input:")
    assert events(store) == before


def test_references_by_prefix_title_and_the_ambiguous_ones(
    run: Run, quarter: dict[str, str]
) -> None:
    run("checkin", quarter["nps"][:6], "50", "--at", day(21))
    run("objective", "draft", "Grow", "--cycle", "Q", "--owner", "ana")
    run("objective", "draft", "Grow", "--cycle", "Q", "--owner", "bo")
    result = run("objective", "activate", "Grow", code=ExitCode.AMBIGUOUS)
    assert "objective 'Grow' is ambiguous; choose one by its id:" in result.stderr
    assert "Grow (objective, in Q, owner ana)" in result.stderr
    assert "Grow (objective, in Q, owner bo)" in result.stderr
    assert "hint: use one of those ids" in result.stderr
    result = run("checkin", "Nope", "1", code=ExitCode.NOT_FOUND)
    assert "no key result matches 'Nope'" in result.stderr


def test_rules_refuse_with_their_own_exit_status(
    run: Run, store: Path, quarter: dict[str, str]
) -> None:
    run("objective", "draft", "Later", "--cycle", "Q", "--owner", "ana")
    run("kr", "add", "Later", "Signups", "--target", "10", "--baseline", "0")
    before = events(store)
    result = run("checkin", "Signups", "3", code=ExitCode.REFUSED)
    assert "draft" in result.stderr
    assert events(store) == before


def test_corrections_retractions_and_retargets(
    run: Run, store: Path, quarter: dict[str, str]
) -> None:
    first = as_json(run("show", "First response", "--json"))["check_ins"][0]["id"]
    run("correct", first[:8], "--value", "19", "--reason", "typo")
    run("correct", first[:8], "--reason", "nothing", code=ExitCode.INVALID)
    run("retract", first[:8], "--reason", "duplicate")
    moved = as_json(
        run("kr", "retarget", "First response", "--target", "2", "--reason", "ambition", "--json")
    )
    assert moved["metric"]["target"] == 2
    run("kr", "reweight", "NPS", "2", "--reason", "matters more")
    run("kr", "retarget", "NPS", "--reason", "x", code=ExitCode.INVALID)
    with Okra(f"sqlite:///{store}") as okra:
        kr = okra.key_result("First response")
        assert [c.value for c in kr.check_ins] == [14]
        assert okra.key_result("NPS").weight == 2


def test_quick_capture_of_tasks(run: Run, quarter: dict[str, str]) -> None:
    added = as_json(run("task", "add", "Chat widget", "Pick a vendor", "--json"))
    assert run("task", "done", "Pick a vendor").stdout == "done: Pick a vendor\n"
    listed = as_json(run("list", "tasks", "--json"))
    assert [(t["id"], t["done"]) for t in listed] == [(added["id"], True)]
    run("task", "reopen", added["id"][:8])
    assert "[ ] " in run("list", "tasks", "--open").stdout


def test_bets_are_resolved_with_their_learning(run: Run, quarter: dict[str, str]) -> None:
    run(
        "action",
        "resolve",
        "Chat widget",
        "validated",
        "--learning",
        "people like chat",
        "--evidence",
        "survey",
    )
    ledger = as_json(run("bets", "--json"))
    assert ledger["entries"][0]["outcome"] == "validated"
    assert ledger["entries"][0]["learning"] == "people like chat"
    assert "people like chat" in run("bets").stdout


def test_alignment_and_continuation(run: Run, quarter: dict[str, str]) -> None:
    run("objective", "draft", "Faster support", "--cycle", "Q", "--owner", "bo")
    run("kr", "add", "Faster support", "Tickets", "--baseline", "0", "--target", "100")
    run("objective", "activate", "Faster support")
    run("objective", "align", "Faster support", "--to", "First response", "--weight", "2")
    tree = as_json(run("tree", "--json"))
    assert tree["links"] == 1
    assert "Faster support" in run("tree").stdout
    run("objective", "unalign", "Faster support", "--from", "First response")
    assert as_json(run("tree", "--json"))["links"] == 0
    assert {o["title"] for o in as_json(run("orphans", "--json"))} == {
        "Delight customers",
        "Faster support",
    }
    run(
        "cycle",
        "plan",
        "Next",
        "--start",
        (END + timedelta(days=1)).isoformat(),
        "--end",
        (END + timedelta(days=90)).isoformat(),
    )
    new = as_json(
        run(
            "objective", "continue", "Faster support", "--into", "Next", "--mode", "clone", "--json"
        )
    )
    assert new["status"] == "draft"
    assert new["continues"]["mode"] == "clone"


def test_closing_a_cycle_with_an_overridden_grade(run: Run, quarter: dict[str, str]) -> None:
    run("cycle", "close", "Q", "--grade", "NPS=0.8", code=ExitCode.INVALID)  # no reason given
    run("cycle", "close", "Q", "--grade", "NPS", code=ExitCode.INVALID)
    run("cycle", "close", "Q", "--grade", "NPS=0.8:survey was small")
    card = as_json(run("scorecard", "Q", "--json"))
    assert card["provisional"] is False
    scores = {k["title"]: k for k in card["objectives"][0]["key_results"]}
    assert scores["NPS"]["score"] == 0.8
    assert scores["NPS"]["rationale"] == "survey was small"
    assert scores["First response"]["score"] == 0.5  # (24 - 14) / 20
    assert "survey was small" in run("scorecard", "Q").stdout
    review = as_json(run("review", "Q", "--json"))
    assert review["provisional"] is False


def test_the_playbook_can_be_shown_and_changed(run: Run) -> None:
    assert "check_in_cadence_days = 7" in run("playbook", "show").stdout
    run(
        "playbook",
        "set",
        "check_in_cadence_days=14",
        "pace_bands.at_risk=0.5",
        "confidence_scale=percent",
        "--reason",
        "fortnightly",
    )
    shown = as_json(run("playbook", "show", "--json"))
    assert shown["check_in_cadence_days"] == 14
    assert shown["pace_bands"]["at_risk"] == 0.5
    assert shown["confidence_scale"] == "percent"
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    before = as_json(run("playbook", "show", "--as-known-at", yesterday, "--json"))
    assert before["check_in_cadence_days"] == 7
    result = run("playbook", "set", "nope=1", "--reason", "x", code=ExitCode.INVALID)
    assert "not a playbook setting" in result.stderr
    run("playbook", "set", "pace_bands.nope=1", "--reason", "x", code=ExitCode.INVALID)


# --- queries -------------------------------------------------------------------------------
#
# Queries about the past run on the demo quarter, built with a manual clock in
# 2026-Q3, so there is a past to ask about.


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    clock = ManualClock(QUARTER_START)
    with Okra(f"sqlite:///{path}", clock=clock) as okra:
        build_demo(okra, clock)
    return path


@pytest.fixture(scope="module")
def demo_ids(demo_store: Path) -> dict[str, str]:
    """Short ids of the demo's Q3 objective and key result (Q4 has namesakes)."""
    with Okra(f"sqlite:///{demo_store}") as okra:
        q3 = okra.cycle(CYCLE)
        objective = next(o for o in okra.objectives(cycle=q3) if o.title == OBJECTIVE)
        kr = next(k for k in okra.key_results(objective) if k.title == KR)
        return {"{objective}": objective.short_id, "{kr}": kr.short_id}


@pytest.fixture
def ask(demo_store: Path, plugins: Plugins) -> Run:
    """Run a query on the demo store (never a command that writes)."""

    def invoke(*args: str, code: int = 0) -> Result:
        result = CliRunner(env={"COLUMNS": "200"}).invoke(
            cli, ["--store", str(demo_store), *args], obj=plugins
        )
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return invoke


KR = "Median first response time"
OBJECTIVE = "Answer every customer fast"
QUERIES = [
    ["dashboard", CYCLE],
    ["dashboard", CYCLE, "--owner", "sam"],
    ["focus", "--cycle", CYCLE],
    ["focus", "sam", "--cycle", CYCLE],
    ["progress", "{kr}"],
    ["progress", "{objective}"],
    ["progress", CYCLE],
    ["tree", "--cycle", CYCLE],
    ["orphans"],
    ["scorecard", CYCLE],
    ["review", CYCLE],
    ["bets"],
    ["bets", "--owner", "sam"],
    ["calibration"],
    ["show", "{kr}"],
    ["explain", "{kr}"],
    ["explain", "{objective}"],
    ["explain", CYCLE],
    ["history", "{kr}"],
    ["audit", "--actor", "sam"],
    ["lineage", "{kr}"],
    ["list", "cycles"],
    ["list", "objectives", "--owner", "sam"],
    ["list", "krs", "--cycle", CYCLE],
    ["list", "actions"],
    ["list", "tasks"],
]
MID_QUARTER = "2026-08-15"


@pytest.mark.parametrize("query", QUERIES, ids=" ".join)
def test_every_query_prints_tables_and_json_as_of_any_instant(
    ask: Run, demo_ids: dict[str, str], query: list[str]
) -> None:
    query = [demo_ids.get(arg, arg) for arg in query]
    assert ask(*query).stdout.strip()
    now = json.loads(ask(*query, "--json").stdout)
    json.loads(ask(*query, "--as-of", MID_QUARTER, "--json").stdout)
    then = json.loads(ask(*query, "--as-known-at", MID_QUARTER, "--json").stdout)
    assert then != now, "the answer as known at mid-quarter should differ from now"


def test_as_of_and_as_known_at_answer_about_the_past(
    ask: Run, demo_store: Path, demo_ids: dict[str, str]
) -> None:
    ref = demo_ids["{kr}"]
    now = as_json(ask("progress", ref, "--json"))
    as_of = as_json(ask("progress", ref, "--as-of", MID_QUARTER, "--json"))
    known = as_json(ask("progress", ref, "--as-known-at", MID_QUARTER, "--json"))
    with Okra(f"sqlite:///{demo_store}") as okra:
        kr = okra.state(ref, as_of=date(2026, 8, 15))
        assert isinstance(kr, KeyResult)
        assert as_of["value"] == kr.current_value
        assert as_of["check_in_count"] == len(kr.check_ins)
    assert known["check_in_count"] <= as_of["check_in_count"] < now["check_in_count"]


def test_dashboard_shows_bars_sparklines_and_pace(run: Run, quarter: dict[str, str]) -> None:
    out = run("dashboard").stdout
    assert "First response" in out
    assert "▁" in out
    assert "█" in out
    assert "6/10" in out
    board = as_json(run("dashboard", "--json"))
    assert board["objectives"][0]["key_results"][0]["attainment"] == pytest.approx(0.5)
    only_bo = as_json(run("dashboard", "--owner", "bo", "--json"))
    assert [o["title"] for o in only_bo["objectives"]] == ["Delight customers"]
    assert as_json(run("dashboard", "--owner", "nobody", "--json"))["objectives"] == []


def test_the_cycle_defaults_to_the_only_active_one(run: Run) -> None:
    result = run("dashboard", code=ExitCode.NOT_FOUND)
    assert "plan one with `okra cycle plan`" in result.stderr
    run("cycle", "plan", "A", "--start", "2026-01-01", "--end", "2026-03-31")
    run("cycle", "plan", "B", "--start", "2026-04-01", "--end", "2026-06-30")
    result = run("scorecard", code=ExitCode.AMBIGUOUS)
    assert "no cycle is active or closed; name one:" in result.stderr
    run("cycle", "start", "A")
    run("cycle", "start", "B")
    result = run("scorecard", code=ExitCode.AMBIGUOUS)
    assert "more than one cycle is active" in result.stderr
    run("cycle", "close", "A")
    assert as_json(run("scorecard", "--json"))["cycle_name"] == "B"
    run("cycle", "close", "B")
    assert as_json(run("scorecard", "--json"))["cycle_name"] == "B"  # closed last


def test_history_audit_and_diff(run: Run, quarter: dict[str, str]) -> None:
    entries = as_json(run("history", "First response", "--json"))
    assert [e["summary"].split(":")[0] for e in entries][:2] == ["defined", "checked in"]
    assert (
        as_json(run("history", "First response", "--as-known-at", START.isoformat(), "--json"))
        == []
    )
    log = as_json(run("audit", "--actor", "ana", "--json"))
    assert [e["position"] for e in log] == list(range(1, len(log) + 1))
    assert as_json(run("audit", "--actor", "nobody", "--json")) == []
    run("history", "NPS", "--as-of", day(1), "--as-known-at", day(1), code=ExitCode.INVALID)
    changed = as_json(run("diff", "First response", "--from", START.isoformat(), "--json"))
    assert changed["existed_at_start"] is False
    assert "check_ins" in {c["field"] for c in changed["changes"]}
    assert "First response" in run("lineage", "First response").stdout


def test_user_written_text_is_never_read_as_markup(run: Run, quarter: dict[str, str]) -> None:
    run("objective", "draft", "[bold red]Loud[/] objective", "--cycle", "Q", "--owner", "[b]x[/b]")
    out = run("list", "objectives").stdout
    assert "[bold red]Loud[/] objective" in out
    assert "[b]x[/b]" in out


# --- export, import, reports ------------------------------------------------------------


def test_export_then_import_into_a_fresh_store(
    run: Run, store: Path, plugins: Plugins, quarter: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    run("export", "-o", str(log))
    lines = log.read_text().splitlines()
    assert len(lines) == events(store)
    assert json.loads(lines[0])["type"].startswith("okra.")
    other = tmp_path / "other.sqlite"
    result = CliRunner().invoke(cli, ["--store", str(other), "import", str(log)], obj=plugins)
    assert result.exit_code == 0, result.output
    assert f"imported {len(lines)} events" in result.stdout
    again = CliRunner().invoke(cli, ["--store", str(other), "export"], obj=plugins)
    assert again.stdout.splitlines() == lines


def test_an_import_with_bad_lines_reports_each_and_writes_nothing(
    run: Run, store: Path, quarter: dict[str, str], tmp_path: Path
) -> None:
    lines = run("export").stdout.splitlines()
    record = json.loads(lines[2])
    record["owner"] = 7
    lines[2] = json.dumps(record)
    lines.insert(4, "{not json")
    lines.insert(6, "")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    fresh = tmp_path / "fresh.sqlite"
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", str(fresh), "import", str(bad)])
    assert result.exit_code == ExitCode.INVALID
    assert "line 5: not JSON" in result.stderr
    del lines[4]  # the JSON error first; then the field errors
    bad.write_text("\n".join(lines) + "\n")
    result = runner.invoke(cli, ["--store", str(fresh), "import", "-"], input=bad.read_text())
    assert result.exit_code == ExitCode.INVALID
    assert "line 3: owner: expected text, got int" in result.stderr
    # Records that depend on the bad one are not reported again.
    assert "line 4" not in result.stderr
    assert events(fresh) == 0


def test_reports_as_markdown_and_csv(run: Run, quarter: dict[str, str], tmp_path: Path) -> None:
    run("kr", "add", "Delight customers", "=HYPERLINK(1)", "--target", "1", "--baseline", "0")
    markdown = run("report").stdout
    assert markdown.startswith("# Q\n")
    assert "| First response | ana | 14 h | 50% |" in markdown
    assert "## Needs attention" in markdown
    assert "## Scores (provisional)" in markdown
    out = tmp_path / "q.csv"
    run("report", "Q", "--format", "csv", "-o", str(out))
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["key_result"] for r in rows} == {"First response", "NPS", "'=HYPERLINK(1)"}
    assert next(r for r in rows if r["key_result"] == "NPS")["confidence"] == "8"
    result = run("report", "--format", "pdf", code=ExitCode.INVALID)
    assert "expected one of markdown, csv" in result.stderr


def test_reports_about_the_past(ask: Run) -> None:
    now = list(csv.DictReader(io.StringIO(ask("report", CYCLE, "--format", "csv").stdout)))
    then = ask("report", CYCLE, "--format", "csv", "--as-known-at", MID_QUARTER).stdout
    earlier = list(csv.DictReader(io.StringIO(then)))
    assert [r["key_result"] for r in earlier] == [r["key_result"] for r in now]
    assert sum(int(r["check_ins"]) for r in earlier) < sum(int(r["check_ins"]) for r in now)
    assert "as of 2026-08-15" in ask("report", CYCLE, "--as-of", MID_QUARTER).stdout.lower()


def test_reports_from_an_exporter_plugin(
    run: Run, quarter: dict[str, str], plugins: Plugins
) -> None:
    if "example.titles" not in plugins.exporters():
        pytest.skip("the example plugin is not installed")  # pragma: no cover
    assert "Delight customers" in run("report", "--format", "example.titles").stdout
    run("report", "Q", "--format", "example.titles", code=ExitCode.INVALID)


def test_rebuild_folds_the_log_again(run: Run, store: Path, quarter: dict[str, str]) -> None:
    assert run("rebuild").stdout == f"rebuilt from {events(store)} events\n"


# --- the command itself ---------------------------------------------------------------------


def test_help_lists_every_command(run: Run) -> None:
    out = run("--help").stdout
    for name in (
        "cycle",
        "objective",
        "kr",
        "checkin",
        "dashboard",
        "focus",
        "export",
        "import",
        "report",
        "demo",
        "plugins",
    ):
        assert f"  {name} " in out


def test_the_actor_comes_from_the_environment(store: Path, plugins: Plugins) -> None:
    runner = CliRunner(env={"OKRA_ACTOR": "cy", "OKRA_STORE": str(store)})
    assert runner.invoke(cli, ["init"], obj=plugins).exit_code == 0
    result = runner.invoke(
        cli, ["cycle", "plan", "Q", "--start", "2026-01-01", "--end", "2026-03-31"], obj=plugins
    )
    assert result.exit_code == 0, result.output
    with Okra(f"sqlite:///{store}") as okra:
        assert [e.actor for e in okra.history()] == ["cy"]


def test_a_store_that_cannot_be_opened_says_so(tmp_path: Path, plugins: Plugins) -> None:
    result = CliRunner().invoke(cli, ["--store", "nosuch://x", "list", "cycles"], obj=plugins)
    assert result.exit_code == ExitCode.INVALID
    assert "nosuch" in result.stderr
    assert "Traceback" not in result.output


def test_the_dashboard_keeps_its_titles_on_a_narrow_terminal(
    demo_store: Path, plugins: Plugins
) -> None:
    narrow = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["--store", str(demo_store), "dashboard", CYCLE], obj=plugins
    )
    assert narrow.exit_code == 0
    assert "Median first response" in narrow.stdout
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    assert "▁" not in narrow.stdout  # the trend is the first column to go


def test_user_text_is_shown_as_typed_in_every_listing(run: Run, quarter: dict[str, str]) -> None:
    run("task", "add", "Chat widget", "[b]bold[/b] :fire: \\")
    run("action", "resolve", "Chat widget", "validated", "--learning", ":smile: [i]x[/i]")
    assert "[b]bold[/b] :fire: \\" in run("list", "tasks").stdout
    assert ":smile: [i]x[/i]" in run("bets").stdout
    run("cycle", "close", "Q")
    assert ":smile: [i]x[/i]" in run("review").stdout


def test_control_characters_are_refused(run: Run, store: Path) -> None:
    before = events(store)
    result = run(
        "cycle",
        "plan",
        "a\x1b[31mRED",
        "--start",
        "2026-01-01",
        "--end",
        "2026-03-31",
        code=ExitCode.INVALID,
    )
    assert "NAME: expected printable text; it holds the control character U+001B" in result.stderr
    assert events(store) == before


def test_negative_values_are_values(run: Run, quarter: dict[str, str]) -> None:
    run("kr", "add", "Delight customers", "Net margin", "--baseline=-5", "--target", "5")
    assert as_json(run("checkin", "Net margin", "-3", "--at", day(30), "--json"))["value"] == -3


def test_a_missing_store_is_not_created_by_a_typo(tmp_path: Path, plugins: Plugins) -> None:
    typo = tmp_path / "nodir" / "tpyo.sqlite"
    result = CliRunner().invoke(cli, ["--store", str(typo), "dashboard"], obj=plugins)
    assert result.exit_code == ExitCode.SETUP
    assert f"there is no okra store at {typo}" in result.stderr
    assert "okra init" in result.stderr
    assert not typo.parent.exists()


def test_file_problems_are_messages_not_tracebacks(
    run: Run, quarter: dict[str, str], tmp_path: Path
) -> None:
    result = run("report", "-o", str(tmp_path / "missing" / "r.md"), code=ExitCode.INVALID)
    assert "--output: cannot write" in result.stderr
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00junk\n")
    result = run("import", str(binary), code=ExitCode.INVALID)
    assert "line 1: not UTF-8 text" in result.stderr


def test_an_export_with_a_bom_imports_and_an_empty_export_writes_a_file(
    run: Run, quarter: dict[str, str], tmp_path: Path, plugins: Plugins
) -> None:
    log = tmp_path / "log.jsonl"
    run("export", "-o", str(log))
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + log.read_bytes())
    result = CliRunner().invoke(
        cli, ["--store", str(tmp_path / "b.sqlite"), "import", str(bom)], obj=plugins
    )
    assert result.exit_code == 0, result.output
    empty = tmp_path / "e.sqlite"
    assert CliRunner().invoke(cli, ["--store", str(empty), "init"], obj=plugins).exit_code == 0
    out = tmp_path / "e.jsonl"
    assert (
        CliRunner()
        .invoke(cli, ["--store", str(empty), "export", "-o", str(out)], obj=plugins)
        .exit_code
        == 0
    )
    assert out.read_text() == ""


def test_dates_that_are_not_dates_are_bad_values(run: Run) -> None:
    # A bad value is a bad value (exit 3), whether click or okra reads it.
    result = run(
        "cycle", "plan", "Q", "--start", "soon", "--end", "2026-03-31", code=ExitCode.INVALID
    )
    assert "--start: expected a date such as today, yesterday" in result.stderr
