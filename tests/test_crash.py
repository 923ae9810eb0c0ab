"""Crash safety: writers killed with SIGKILL at random moments damage nothing and lose
nothing they acknowledged.

Three kinds of ingest run in real subprocesses on one SQLite file: a check-in loop
(each check-in acknowledged on stdout once ``check_in`` returned), a batched
import (each batch acknowledged once ``import_events`` returned) and ``okra
import`` from the shell (acknowledged by its exit status). Each is killed twice at
a random moment (the seed is in the failure message); after every kill the store
opens, SQLite finds the file sound, every stream is gapless, and every
acknowledged event is there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from okra_core import KeyResult, Okra, StayAbove

_SCRIPT = Path(sys.executable).with_name("okra")
OKRA = (
    [str(_SCRIPT)]
    if _SCRIPT.exists()
    else [sys.executable, "-c", "from okra_adapters.cli import main; main()"]
)
KILLS_PER_KIND = 2
SEED = int.from_bytes(os.urandom(4), "big")


def _key_result(url: str, name: str = "K") -> KeyResult:
    now = datetime.now(UTC)
    with Okra(url) as okra:
        cycle = okra.plan_cycle(
            name, start=now - timedelta(days=1), end=now + timedelta(days=90), actor="ana"
        )
        okra.start_cycle(cycle, actor="ana")
        goal = okra.draft_objective(f"O {name}", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(goal, name, metric=StayAbove(threshold=0), actor="ana")
        okra.activate_objective(goal, actor="ana")
        return kr


def _kill_at_random(command: list[str], rng: random.Random) -> list[str]:
    """Start ``command``; once it says ``ready``, SIGKILL it after a random wait.

    Returns the lines it printed (its acknowledgements) before it died.
    """
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.strip() == "ready", first
            time.sleep(rng.uniform(0.02, 0.5))
            process.send_signal(signal.SIGKILL)
            # Read through the same buffered stream as readline (communicate() would
            # read the pipe beneath it and miss what readline had buffered).
            out = process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
    return out.splitlines()


def _sound(path: Path) -> None:
    """SQLite finds the file sound, and every stream's versions run 1, 2, 3, ..."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT originator_id, COUNT(*), MAX(originator_version) FROM stored_events "
            "GROUP BY originator_id"
        ).fetchall()
    assert all(count == top for _, count, top in rows)


CHECK_IN_LOOP = """
import sys
from okra_core import Okra
url, kr, name = sys.argv[1:]
with Okra(url) as okra:
    okra.key_result(kr)
    print("ready", flush=True)
    for i in range(100_000):
        okra.check_in(kr, value=i, narrative=f"{name}-{i}", actor="ana")
        print(f"{name}-{i}", flush=True)
"""


def test_a_check_in_loop_killed_at_random_loses_no_acknowledged_check_in(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    path = tmp_path / "okra.sqlite"
    url = f"sqlite:///{path}"
    kr = _key_result(url)
    acknowledged: list[str] = []
    for kill in range(KILLS_PER_KIND):
        lines = _kill_at_random(
            [sys.executable, "-c", CHECK_IN_LOOP, url, kr.id.hex, f"run{kill}"], rng
        )
        acknowledged += lines
        _sound(path)
        with Okra(url) as okra:
            stored = {c.narrative for c in okra.key_result(kr).check_ins}
        missing = [n for n in acknowledged if n not in stored]
        assert missing == [], f"seed {SEED}: acknowledged but lost: {missing[:5]}"
        # Of each run, at most the check-in in flight when the kill came is there
        # unacknowledged (written, killed before it could say so).
        extra = sorted(stored - set(acknowledged))
        runs = [n.partition("-")[0] for n in extra]
        assert len(runs) == len(set(runs)), f"seed {SEED}: {extra}"


def _records(tmp_path: Path, count: int) -> tuple[Path, list[dict[str, object]]]:
    """An export of a store with ``count`` check-ins, and its records."""
    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    kr = _key_result(source)
    with Okra(source) as okra:
        for i in range(count):
            okra.check_in(kr, value=i, narrative=f"c{i}", actor="ana")
        records = list(okra.export_records())
    file = tmp_path / "export.jsonl"
    file.write_text("".join(json.dumps(r) + "\n" for r in records))
    return file, records


BATCHED_IMPORT = """
import json, sys
from okra_core import Okra
url, file, size = sys.argv[1:]
records = [json.loads(line) for line in open(file)]
with Okra(url) as okra:
    done = sum(1 for _ in okra.history())
    print("ready", flush=True)
    for start in range(done, len(records), int(size)):
        okra.import_events(records[start : start + int(size)], actor="importer")
        print(start + len(records[start : start + int(size)]), flush=True)
"""


def test_a_batched_import_killed_at_random_keeps_every_acknowledged_batch(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED + 1)
    file, records = _records(tmp_path, 600)
    path = tmp_path / "okra.sqlite"
    url = f"sqlite:///{path}"
    size = 20
    acknowledged = 0
    for _ in range(KILLS_PER_KIND):
        lines = _kill_at_random(
            [sys.executable, "-c", BATCHED_IMPORT, url, str(file), str(size)], rng
        )
        acknowledged = max([acknowledged, *(int(n) for n in lines)])
        _sound(path)
        with Okra(url) as okra:
            exported = list(okra.export_records())
        # Exactly a prefix of the records, in whole batches, at least what was acknowledged.
        assert exported == records[: len(exported)], f"seed {SEED}"
        assert len(exported) >= acknowledged, f"seed {SEED}"
        assert len(exported) - acknowledged in (0, size), f"seed {SEED}"


def test_okra_import_killed_at_random_writes_all_or_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED + 2)
    file, records = _records(tmp_path, 2_000)
    path = tmp_path / "okra.sqlite"
    env = {**os.environ, "OKRA_STORE": str(path), "OKRA_ACTOR": "importer"}
    env.pop("OKRA_PLUGINS", None)
    for _ in range(KILLS_PER_KIND):
        with subprocess.Popen(
            [*OKRA, "import", str(file)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as process:
            time.sleep(rng.uniform(0.3, 2.0))
            process.send_signal(signal.SIGKILL)
        finished = process.returncode == 0
        if path.exists():
            _sound(path)
        with Okra(f"sqlite:///{path}") as okra:
            exported = list(okra.export_records())
        if finished:
            assert exported == records, f"seed {SEED}"
            break
        assert exported in ([], records), f"seed {SEED}: {len(exported)} of {len(records)}"
        if exported:
            break
