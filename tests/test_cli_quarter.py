"""A whole quarter run from the shell: the real ``okra`` script in subprocesses.

Plan, start, draft, add key results, check in every week (backdated), bet and
resolve, close with a grade override, carry over, export, import into a fresh
store and compare. Nothing but the command line is used to write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# The installed console script, as a user runs it (beside the interpreter in a venv).
_SCRIPT = Path(sys.executable).with_name("okra")
OKRA = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from okra_adapters.cli import main; main()"]
)
TODAY = datetime.now(UTC).date()
START = TODAY - timedelta(weeks=13)


def run(store: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKRA_STORE": str(store), "OKRA_ACTOR": "lead", "COLUMNS": "160"}
    env.pop("OKRA_PLUGINS", None)
    done = subprocess.run(
        [*OKRA, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == code, (args, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done


def okra(store: Path, *args: str) -> str:
    return run(store, *args).stdout


def week(n: int) -> str:
    return (START + timedelta(weeks=n)).isoformat()


def data(store: Path, *args: str) -> Any:
    return json.loads(okra(store, *args, "--json"))


def test_a_quarter_from_the_shell_survives_export_and_import(tmp_path: Path) -> None:
    store = tmp_path / "team.sqlite"
    okra(store, "init")
    okra(store, "cycle", "plan", "Q", "--start", START.isoformat(), "--end", TODAY.isoformat())
    okra(store, "cycle", "start", "Q")
    okra(store, "objective", "draft", "Happy customers", "--cycle", "Q", "--owner", "lead")
    okra(
        store,
        "kr",
        "add",
        "Happy customers",
        "Reply time",
        "--baseline",
        "24",
        "--target",
        "4",
        "--unit",
        "h",
    )
    okra(
        store,
        "kr",
        "add",
        "Happy customers",
        "Help centre live",
        "--metric",
        "milestone",
        "--owner",
        "kim",
    )
    okra(store, "objective", "activate", "Happy customers")
    okra(
        store,
        "action",
        "propose",
        "Chat widget",
        "--kr",
        "Reply time",
        "--hypothesis",
        "chat answers faster than mail",
        "--owner",
        "kim",
        "--effort",
        "8",
        "--expect",
        "Reply time=-10",
    )
    okra(store, "action", "place", "Chat widget")
    okra(store, "task", "add", "Chat widget", "Pick a vendor")
    okra(store, "task", "done", "Pick a vendor")

    values = [22, 21, 19, 18, 16, 15, 13, 12, 11, 10, 9, 8]
    for n, value in enumerate(values, start=1):
        okra(
            store,
            "checkin",
            "Reply time",
            str(value),
            "-c",
            str(max(3, 8 - n // 3)),
            "-m",
            f"week {n}",
            "--at",
            week(n),
        )
    okra(store, "checkin", "Help centre live", "1", "--at", week(11), "-m", "launched")
    okra(
        store, "action", "resolve", "Chat widget", "validated", "--learning", "chat halves replies"
    )

    board = data(store, "dashboard")
    reply = board["objectives"][0]["key_results"][0]
    assert reply["value"] == 8
    assert reply["check_in_count"] == 12
    assert reply["attainment"] == 0.8  # (24 - 8) / 20
    trend = data(store, "show", "Reply time")
    assert [c["value"] for c in trend["check_ins"]] == values

    okra(store, "cycle", "close", "Q", "--grade", "Reply time=0.7:the last weeks were luck")
    card = data(store, "scorecard", "Q")
    grades = {k["title"]: k["score"] for k in card["objectives"][0]["key_results"]}
    assert grades == {"Reply time": 0.7, "Help centre live": 1.0}
    okra(
        store,
        "cycle",
        "plan",
        "Next",
        "--start",
        (TODAY + timedelta(days=1)).isoformat(),
        "--end",
        (TODAY + timedelta(weeks=13)).isoformat(),
    )
    okra(store, "objective", "continue", "Happy customers", "--into", "Next")
    review = data(store, "review", "Q")
    assert review["owners"][0]["carry_overs"][0]["to_cycle_name"] == "Next"

    log = tmp_path / "log.jsonl"
    okra(store, "export", "-o", str(log))
    copy = tmp_path / "copy.sqlite"
    assert "imported" in okra(copy, "import", str(log))
    assert okra(copy, "export") == log.read_text()
    # The carried-over key result has the same title: the error lists both.
    ambiguous = run(store, "history", "Reply time", code=5).stderr
    assert "(key result, in Q, owner lead)" in ambiguous
    assert "(key result, in Next, owner lead)" in ambiguous
    reply_id = reply["key_result_id"][:8]
    for query in (["scorecard", "Q"], ["bets"], ["history", reply_id], ["review", "Q"]):
        assert _without_now(data(copy, *query)) == _without_now(data(store, *query))
    again = run(copy, "import", str(log), code=3)
    assert "line 1: its events are already in this store" in again.stderr
    assert "hint: nothing to do" in again.stderr


def _without_now(value: Any) -> Any:
    """``value`` without the instant the query ran at (it differs between runs)."""
    if isinstance(value, dict):
        return {k: _without_now(v) for k, v in value.items() if k != "at"}
    if isinstance(value, list):
        return [_without_now(v) for v in value]
    return value
