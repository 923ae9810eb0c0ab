"""The workloads, each timed on okra and on its baselines."""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from okra_core import JSONBytes, Okra, OkraMapper

from . import baselines as base
from .workload import CYCLE_ID, START, key_result_id, long_key_result, objective_id, quarter_events

# Sizes per mode. quick: seconds, only proves the suite runs; full: the real figures.
SIZES: dict[str, dict[str, Any]] = {
    "quick": {
        "codec_objectives": 20,
        "ingest_objectives": 20,
        "batch": 500,
        "commands": 20,
        "long_check_ins": 2_000,
        "travel_queries": 20,
        "dashboard_objectives": 20,
        "dashboard_runs": 3,
        "scale_events": [2_000, 8_000],
        "contention_writers": 3,
        "contention_each": 20,
        "rounds": 3,
        "cli_rounds": 3,
    },
    "full": {
        "codec_objectives": 1_000,
        "ingest_objectives": 1_000,
        "batch": 1_000,
        "commands": 300,
        "long_check_ins": 100_000,
        "travel_queries": 50,
        "dashboard_objectives": 1_000,
        "dashboard_runs": 10,
        "scale_events": [10_000, 100_000, 1_000_000],
        "contention_writers": 8,
        "contention_each": 200,
        "rounds": 3,
        "cli_rounds": 5,
    },
}
EVENTS_PER_OBJECTIVE = 2 + 5 + 5 * 13  # drafted, activated, 5 key results, 13 check-ins each


def clock(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``fn`` takes (with the garbage collector's pauses, as users get them)."""
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """The median seconds of each contender, run in turn (A B A B ...) ``rounds`` times.

    Each contender does its own setup and returns the seconds of the part it
    times, so setup is not counted. Running them alternately rather than one
    after the other keeps a change in the machine's load (it is shared) from
    favouring whichever ran first.
    """
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            samples[name].append(run())
    return {name: statistics.median(times) for name, times in samples.items()}


def timed(fn: Callable[[], Any]) -> float:
    """The seconds ``fn`` takes (:func:`clock` without the result)."""
    return clock(fn)[0]


def measure(
    name: str,
    unit: str,
    okra: float,
    baselines: dict[str, float] | None = None,
    *,
    higher_is_better: bool,
    target: float | None = None,
    ratio_targets: dict[str, float] | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One figure, its baselines and okra's speed relative to each (>1: okra is faster).

    ``target`` bounds the figure itself; ``ratio_targets`` bounds okra's ratio to
    a baseline from below (``{"eventsourcing": 1.5}``: at least 1.5x as fast).
    """
    baselines = baselines or {}
    ratios = {
        key: (okra / value if higher_is_better else value / okra) if okra and value else None
        for key, value in baselines.items()
    }
    row: dict[str, Any] = {
        "name": name,
        "unit": unit,
        "okra": okra,
        "baselines": baselines,
        "ratios": ratios,
        "higher_is_better": higher_is_better,
        "note": note,
    }
    met = []
    if target is not None:
        row["target"] = target
        met.append(okra >= target if higher_is_better else okra <= target)
    if ratio_targets:
        row["ratio_targets"] = ratio_targets
        met.extend((ratios[key] or 0) >= bound for key, bound in ratio_targets.items())
    if met:
        row["met"] = all(met)
    return row


def _sqlite(directory: Path, name: str) -> tuple[str, str]:
    path = directory / f"{name}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(path), f"sqlite:///{path}"


# --- codec ----------------------------------------------------------------------------


def codec(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    events = quarter_events(sizes["codec_objectives"])
    with Okra("memory://", persist_read_model=False) as okra:
        mapper = OkraMapper(JSONBytes(), codec=okra._codec)
    es_events = [base.to_es(e) for e in events]
    es_mapper = base.es_app(None).mapper

    stored = [mapper.to_stored_event(e) for e in events]
    es_stored = [es_mapper.to_stored_event(e) for e in es_events]
    rows = base.raw_rows(events)
    texts = [json.dumps(r[3]).encode() for r in rows]
    rounds = sizes["rounds"]
    encode = alternate(
        {
            "okra": lambda: timed(lambda: [mapper.to_stored_event(e) for e in events]),
            "eventsourcing": lambda: timed(
                lambda: [es_mapper.to_stored_event(e) for e in es_events]
            ),
            "json": lambda: timed(lambda: [json.dumps(r[3]).encode() for r in rows]),
        },
        rounds,
    )
    decode = alternate(
        {
            "okra": lambda: timed(lambda: [mapper.to_domain_event(s) for s in stored]),
            "eventsourcing": lambda: timed(
                lambda: [es_mapper.to_domain_event(s) for s in es_stored]
            ),
            "json": lambda: timed(lambda: [json.loads(t) for t in texts]),
        },
        rounds,
    )
    okra_encode, es_encode, raw_encode = encode["okra"], encode["eventsourcing"], encode["json"]
    okra_decode, es_decode, raw_decode = decode["okra"], decode["eventsourcing"], decode["json"]
    n = len(events)
    note = f"{n} events: the quarter's mix (objectives, key results, check-ins)"
    return [
        measure(
            "encode",
            "events/s",
            n / okra_encode,
            {"eventsourcing": n / es_encode, "json": n / raw_encode},
            higher_is_better=True,
            note=note,
        ),
        measure(
            "decode",
            "events/s",
            n / okra_decode,
            {"eventsourcing": n / es_decode, "json": n / raw_decode},
            higher_is_better=True,
            note=note,
        ),
    ]


# --- ingest and rebuild -----------------------------------------------------------------


def ingest_and_rebuild(
    sizes: dict[str, Any], directory: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    events = quarter_events(sizes["ingest_objectives"])
    batch = sizes["batch"]
    n = len(events)
    rounds = sizes["rounds"]
    es_events = [base.to_es(e) for e in events]
    rows = base.raw_rows(events)
    # Each round ingests into a new file; the last round's files are the ones rebuilt.
    files: dict[str, str] = {}

    def okra_ingest() -> float:
        _path, files["okra"] = _sqlite(directory, "okra-quarter")
        okra = Okra(files["okra"], persist_read_model=False)
        seconds = timed(lambda: okra.import_events(events, actor="bench", batch_size=batch))
        okra.close()
        return seconds

    def es_ingest() -> float:
        files["es"], _ = _sqlite(directory, "es-quarter")
        app = base.es_app(files["es"])
        return timed(lambda: [app.save(*chunk) for chunk in base.chunks(es_events, batch)])

    def raw_ingest() -> float:
        files["raw"], _ = _sqlite(directory, "raw-quarter")
        db = base.raw_connect(files["raw"])
        seconds = timed(lambda: [base.raw_insert(db, chunk) for chunk in base.chunks(rows, batch)])
        db.close()
        return seconds

    ingested = alternate(
        {"okra": okra_ingest, "eventsourcing": es_ingest, "sqlite3": raw_ingest}, rounds
    )
    url = files["okra"]

    def okra_rebuild() -> float:
        fresh = Okra(url, persist_read_model=False)
        seconds, count = clock(fresh.rebuild)
        assert count == n, (count, n)
        fresh.close()
        return seconds

    def es_rebuild() -> float:
        app = base.es_app(files["es"])
        seconds, count = clock(lambda: base.es_read_all(app))
        assert count == n
        return seconds

    def raw_rebuild() -> float:
        db = base.raw_connect(files["raw"])
        seconds, count = clock(lambda: base.raw_read_all(db))
        assert count == n
        db.close()
        return seconds

    rebuilt = alternate(
        {"okra": okra_rebuild, "eventsourcing": es_rebuild, "sqlite3": raw_rebuild}, rounds
    )

    def okra_index() -> float:
        # What the writer's checkpoints do as the log grows, all at once: every
        # key result's rows, from the log. It leaves the store as okra keeps it
        # for the queries measured next (time travel, the past dashboard).
        fresh = Okra(url)
        indexer = fresh._state._indexer
        assert indexer is not None, "SQLite stores keep a key result index"
        indexer.drop()
        seconds, position = clock(indexer.catch_up)
        assert position == n, (position, n)
        fresh.close()
        return seconds

    indexed = alternate({"okra": okra_index, "eventsourcing": es_rebuild}, rounds)
    okra_ingest_s, es_ingest_s, raw_ingest_s = (
        ingested["okra"],
        ingested["eventsourcing"],
        ingested["sqlite3"],
    )
    okra_rebuild_s, es_rebuild_s, raw_rebuild_s = (
        rebuilt["okra"],
        rebuilt["eventsourcing"],
        rebuilt["sqlite3"],
    )

    note = (
        f"{sizes['ingest_objectives']} objectives, {5 * sizes['ingest_objectives']} key results, "
        f"13 check-ins each: {n} events, {batch} per transaction, SQLite file"
    )
    ingest = [
        measure(
            "batched ingest",
            "events/s",
            n / okra_ingest_s,
            {"eventsourcing": n / es_ingest_s, "sqlite3": n / raw_ingest_s},
            higher_is_better=True,
            ratio_targets={"eventsourcing": 1.5},
            note=note + " (okra: Okra.import_events, every record checked first)",
        )
    ]
    rebuild = [
        measure(
            "rebuild",
            "events/s",
            n / okra_rebuild_s,
            {"eventsourcing": n / es_rebuild_s, "sqlite3": n / raw_rebuild_s},
            higher_is_better=True,
            ratio_targets={"eventsourcing": 1.5, "sqlite3": 0.5},
            note=f"{n} events; okra: Okra.rebuild() folds every entity (read model not saved); "
            "eventsourcing: select + decode; sqlite3: select + json.loads",
        ),
        measure(
            "key result index, built from the log",
            "events/s",
            n / indexed["okra"],
            {"eventsourcing": n / indexed["eventsourcing"]},
            higher_is_better=True,
            note=f"{n} events; okra: the key result index dropped and built again (rows of "
            f"{5 * sizes['ingest_objectives']} key results); eventsourcing: select + decode",
        ),
    ]
    return ingest, rebuild, url


# --- single command ---------------------------------------------------------------------


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def single_command(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    count = sizes["commands"]
    setup = quarter_events(2)
    rows: list[dict[str, Any]] = []
    for store in ("memory", "sqlite"):
        if store == "memory":
            url, es_path, raw_path = "memory://", None, ":memory:"
        else:
            _, url = _sqlite(directory, "okra-command")
            es_path, _ = _sqlite(directory, "es-command")
            raw_path, _ = _sqlite(directory, "raw-command")
        okra = Okra(url)
        okra.import_events(setup, actor="bench")
        kr = key_result_id(0, 0)
        app = base.es_app(es_path)
        app.save(*[base.to_es(e) for e in setup])
        template = base.to_es(setup[-1])
        db = base.raw_connect(raw_path)
        raw = base.raw_rows(setup[-1:])[0]
        okra_times, es_times, raw_times = [], [], []
        # One check-in of each in turn (A B C A B C ...), so a change in the
        # machine's load falls on all three alike.
        for n in range(count):
            started = time.perf_counter()
            okra.check_in(kr, value=float(n), confidence=7, actor="ana")
            assert okra.key_result(kr).current_value == float(n)
            okra_times.append(time.perf_counter() - started)

            event = type(template)(
                **{**template.__dict__, "originator_version": template.originator_version + n + 1}
            )
            started = time.perf_counter()
            app.save(event)
            last = app.recorder.select_events(template.originator_id, desc=True, limit=1)
            app.mapper.to_domain_event(last[0])
            es_times.append(time.perf_counter() - started)

            row = (raw[0], raw[1] + n + 1, raw[2], raw[3])
            started = time.perf_counter()
            base.raw_insert(db, [row])
            found = db.execute(
                "SELECT state FROM events WHERE originator_id=? ORDER BY originator_version DESC "
                "LIMIT 1",
                (raw[0],),
            ).fetchone()
            json.loads(found[0])
            raw_times.append(time.perf_counter() - started)
        okra.close()
        db.close()

        okra_median, okra_p99 = _percentiles(okra_times)
        es_median, es_p99 = _percentiles(es_times)
        raw_median, raw_p99 = _percentiles(raw_times)
        note = (
            f"{count} check-ins, each committed and read back: okra check_in + key_result; "
            "eventsourcing save + select; sqlite3 insert + commit + select"
        )
        rows.append(
            measure(
                f"check-in, {store}, median",
                "ms",
                okra_median,
                {"eventsourcing": es_median, "sqlite3": raw_median},
                higher_is_better=False,
                note=note,
            )
        )
        rows.append(
            measure(
                f"check-in, {store}, p99",
                "ms",
                okra_p99,
                {"eventsourcing": es_p99, "sqlite3": raw_p99},
                higher_is_better=False,
                note=note,
            )
        )
    return rows


# --- time travel ------------------------------------------------------------------------


def time_travel(
    sizes: dict[str, Any], directory: Path, quarter_url: str | None
) -> list[dict[str, Any]]:
    n = sizes["long_check_ins"]
    rounds = sizes["rounds"]
    events = long_key_result(n)
    _, url = _sqlite(directory, "okra-long")
    with Okra(url) as okra:
        okra.import_events(events, actor="bench", batch_size=sizes["batch"])
    es_path, _ = _sqlite(directory, "es-long")
    app = base.es_app(es_path)
    for chunk in base.chunks([base.to_es(e) for e in events], sizes["batch"]):
        app.save(*chunk)
    kr, objective = key_result_id(0, 0), objective_id(0)
    first = START + timedelta(days=1)
    mid = first + timedelta(minutes=n // 2)
    mid_version = 1 + n // 2 + 1

    def okra_cold() -> float:
        fresh = Okra(url)
        seconds, state = clock(lambda: fresh.state(kr, as_of=mid))
        assert len(state.check_ins) == n // 2 + 1, len(state.check_ins)
        fresh.close()
        return seconds

    def es_read() -> float:
        def read() -> int:
            stored = app.recorder.select_events(kr, lte=mid_version)
            return len([app.mapper.to_domain_event(s) for s in stored])

        return timed(read)

    def okra_fresh_process() -> float:
        return float(_as_of_child(url, kr.hex, mid.isoformat())["query"])

    cold = alternate(
        {"okra": okra_cold, "eventsourcing": es_read, "okra process": okra_fresh_process},
        rounds,
    )
    es_time = cold["eventsourcing"]

    if quarter_url is None:
        _, quarter_url = _sqlite(directory, "okra-travel-quarter")
        with Okra(quarter_url) as okra:  # its checkpoint on close builds the index
            okra.import_events(
                quarter_events(sizes["ingest_objectives"]),
                actor="bench",
                batch_size=sizes["batch"],
            )
    quarter_kr = key_result_id(sizes["ingest_objectives"] // 2, 2)
    quarter_at = START + timedelta(days=40)
    quarter = statistics.median(
        _as_of_child(quarter_url, quarter_kr.hex, quarter_at.isoformat())["query"]
        for _ in range(rounds)
    )

    okra = Okra(url)
    okra.state(kr, as_of=mid)
    queries = sizes["travel_queries"]
    instants = [first + timedelta(minutes=n * (q + 1) // (queries + 2)) for q in range(queries)]
    kr_times = [timed(lambda at=at: okra.state(kr, as_of=at)) for at in instants]
    objective_times = [timed(lambda at=at: okra.state(objective, as_of=at)) for at in instants]
    progress_cold = timed(lambda: okra.objective_progress(objective, as_of=mid))
    progress_times = [
        timed(lambda at=at: okra.objective_progress(objective, as_of=at)) for at in instants
    ]
    okra.close()

    note = (
        f"one key result with {n} check-ins (SQLite file); as of mid-history; "
        "eventsourcing: select and decode the stream up to that version"
    )
    return [
        measure(
            "key result as of, first query (loads its history)",
            "ms",
            cold["okra"] * 1000,
            {"eventsourcing": es_time * 1000},
            higher_is_better=False,
            note=note + "; okra: a new Okra on the store, opened before the clock starts",
        ),
        measure(
            "key result as of, first query in a fresh process",
            "ms",
            cold["okra process"] * 1000,
            {"eventsourcing": es_time * 1000},
            higher_is_better=False,
            target=50,
            note=note + "; okra: python -m bench._child as_of, the query after Okra(url)",
        ),
        measure(
            "quarter key result as of, first query in a fresh process",
            "ms",
            quarter * 1000,
            higher_is_better=False,
            target=20,
            note=f"one key result of the quarter of {sizes['ingest_objectives']} objectives "
            "(the ingest's store), as of day 40; the query after Okra(url)",
        ),
        measure(
            "key result as of, median of later queries",
            "ms",
            statistics.median(kr_times) * 1000,
            {"eventsourcing": es_time * 1000},
            higher_is_better=False,
            target=5,
            note=f"{queries} instants across the history",
        ),
        measure(
            "objective as of, median",
            "ms",
            statistics.median(objective_times) * 1000,
            higher_is_better=False,
            target=5,
            note="Okra.state(objective, as_of=...)",
        ),
        measure(
            "objective progress as of, first query (loads every history)",
            "ms",
            progress_cold * 1000,
            higher_is_better=False,
            note="Okra.objective_progress(objective, as_of=...): a past World",
        ),
        measure(
            "objective progress as of, median",
            "ms",
            statistics.median(progress_times) * 1000,
            higher_is_better=False,
            note="includes the forecast, a least-squares fit over every check-in by then",
        ),
    ]


def _as_of_child(url: str, entity: str, at: str) -> dict[str, float]:
    """Open ``url`` in a fresh process and time its first ``state(entity, as_of=at)``."""
    return _run_child(["as_of", url, entity, at])


# --- dashboard --------------------------------------------------------------------------


def dashboard(sizes: dict[str, Any], directory: Path, url: str | None) -> list[dict[str, Any]]:
    objectives = sizes["dashboard_objectives"]
    if url is None or objectives != sizes["ingest_objectives"]:
        _, url = _sqlite(directory, "okra-dashboard")
        with Okra(url) as okra:
            okra.import_events(quarter_events(objectives), actor="bench", batch_size=sizes["batch"])
    with Okra(url) as okra:
        okra.cycle_progress(CYCLE_ID)  # the first query catches up with the log
        times = [
            clock(lambda: okra.cycle_progress(CYCLE_ID))[0] for _ in range(sizes["dashboard_runs"])
        ]
        past = START + timedelta(days=40)
        past_cold, _ = clock(lambda: okra.cycle_progress(CYCLE_ID, as_of=past))
        past_times = [
            clock(lambda: okra.cycle_progress(CYCLE_ID, as_of=past))[0]
            for _ in range(sizes["dashboard_runs"])
        ]
        # okra dashboard (CLI and web) lints the cycle too, to mark what has findings.
        lint_times = [clock(lambda: okra.lint(CYCLE_ID))[0] for _ in range(sizes["dashboard_runs"])]
        lint_past = [
            clock(lambda: okra.lint(CYCLE_ID, as_of=past))[0]
            for _ in range(sizes["dashboard_runs"])
        ]
    note = (
        f"Okra.cycle_progress: {objectives} objectives, {5 * objectives} key results, "
        "13 check-ins each"
    )
    return [
        measure(
            "cycle dashboard, median",
            "ms",
            statistics.median(times) * 1000,
            higher_is_better=False,
            target=100,
            note=note,
        ),
        measure(
            "cycle dashboard as of day 40, first query",
            "ms",
            past_cold * 1000,
            higher_is_better=False,
            target=1000,
            note=note,
        ),
        measure(
            "cycle dashboard as of day 40, median",
            "ms",
            statistics.median(past_times) * 1000,
            higher_is_better=False,
            target=200,
            note=note,
        ),
        measure(
            "lint the cycle (every rule), median",
            "ms",
            statistics.median(lint_times) * 1000,
            higher_is_better=False,
            note=note.replace("Okra.cycle_progress", "Okra.lint"),
        ),
        measure(
            "lint the cycle as of day 40, median",
            "ms",
            statistics.median(lint_past) * 1000,
            higher_is_better=False,
            note=note.replace("Okra.cycle_progress", "Okra.lint"),
        ),
    ]


# --- scale ------------------------------------------------------------------------------


def scale(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    """Ingest and rebuild at growing sizes, each in a fresh process (for its peak memory)."""
    points = []
    for target_events in sizes["scale_events"]:
        objectives = max(1, round((target_events - 2) / EVENTS_PER_OBJECTIVE))
        _, url = _sqlite(directory, f"okra-scale-{target_events}")
        ingest = _child("ingest", url, objectives, sizes["batch"])
        rebuild = _child("rebuild", url, objectives, sizes["batch"])
        points.append({"events": ingest["events"], "ingest": ingest, "rebuild": rebuild})
    rows = []
    smallest, largest = points[0], points[-1]
    for phase in ("ingest", "rebuild"):
        for point in points:
            rows.append(
                measure(
                    f"{phase}, {point['events']} events",
                    "events/s",
                    point["events"] / point[phase]["seconds"],
                    higher_is_better=True,
                    note=f"peak memory {point[phase]['peak_mib']:.0f} MiB (fresh process)",
                )
            )
        # Linear growth: time per event stays the same (1.0); above 1, it grows.
        per_event = [p[phase]["seconds"] / p["events"] for p in (smallest, largest)]
        rows.append(
            measure(
                f"{phase}: time per event, {largest['events']} vs {smallest['events']} events",
                "x",
                per_event[1] / per_event[0],
                higher_is_better=False,
                target=1.3,
                note="1.0 is linear growth",
            )
        )
    peak = max(p[phase]["peak_mib"] for p in (largest,) for phase in ("ingest", "rebuild"))
    rows.append(
        measure(
            f"peak memory at {largest['events']} events",
            "MiB",
            peak,
            higher_is_better=False,
            target=512,
            note="the larger of ingest and rebuild, each in a fresh process (ru_maxrss)",
        )
    )
    return rows


# --- contention -------------------------------------------------------------------------


def _busy_key_result(url: str) -> str:
    from datetime import UTC, datetime

    from okra_core import StayAbove

    now = datetime.now(UTC)
    with Okra(url) as okra:
        cycle = okra.plan_cycle(
            "Busy", start=now - timedelta(days=1), end=now + timedelta(days=90), actor="bench"
        )
        okra.start_cycle(cycle, actor="bench")
        goal = okra.draft_objective("Busy", cycle=cycle, owner="bench", actor="bench")
        kr = okra.add_key_result(goal, "Busy", metric=StayAbove(threshold=0), actor="bench")
        okra.activate_objective(goal, actor="bench")
        return kr.id.hex


def _writers(url: str, writers: int, each: int, directory: Path) -> tuple[float, int, int, int]:
    """``writers`` processes x ``each`` check-ins on one key result, started together.

    Returns the seconds from the start signal to the last exit, the retries made
    inside okra, the check-ins given up and the check-ins found afterwards.
    """
    root = Path(__file__).resolve().parent.parent
    kr = _busy_key_result(url)
    go = directory / f"go-{kr}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench._contend", url, f"w{w}", str(each), kr, str(go)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(root)},
        )
        for w in range(writers)
    ]
    # Every writer has opened the store and caught up: the figure is about writing.
    while not all(Path(f"{go}.ready-w{w}").exists() for w in range(writers)):
        time.sleep(0.01)
    started = time.perf_counter()
    go.touch()
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in processes]
    seconds = time.perf_counter() - started
    with Okra(url) as okra:
        found = len(okra.key_result(kr).check_ins)
    return seconds, sum(o["retries"] for o in outs), sum(o["given_up"] for o in outs), found


def contention(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    """Many processes checking in to one key result: throughput, retries, none given up.

    On SQLite always; on PostgreSQL too when ``OKRA_BENCH_POSTGRES_URL`` names a
    server (a fresh schema is used).
    """
    writers, each = sizes["contention_writers"], sizes["contention_each"]
    urls = {"SQLite": _sqlite(directory, "okra-contention")[1]}
    pg = os.environ.get("OKRA_BENCH_POSTGRES_URL", "").strip()
    if pg:
        urls["PostgreSQL"] = f"{pg}{'&' if '?' in pg else '?'}schema=bench_{os.getpid()}"
    rows = []
    for backend, url in urls.items():
        one, *_ = _writers(url, 1, writers * each, directory)
        seconds, retries, given_up, found = _writers(url, writers, each, directory)
        rows.append(
            measure(
                f"{backend}: {writers} writers x {each} check-ins on one key result",
                "check-ins/s",
                writers * each / seconds,
                {"one writer, the same check-ins": writers * each / one},
                higher_is_better=True,
                note=(
                    f"{retries} retries inside okra, {given_up} given up, "
                    f"{writers * each - found} lost; one writer alone: {writers * each / one:.0f}/s"
                ),
            )
        )
    return rows


def _child(phase: str, url: str, objectives: int, batch: int) -> dict[str, Any]:
    return _run_child([phase, url, str(objectives), str(batch)])


def _run_child(arguments: list[str]) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    output = subprocess.run(
        [sys.executable, "-m", "bench._child", *arguments],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *_pythonpath()])},
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


# --- cli --------------------------------------------------------------------------------


def _okra_command() -> list[str]:
    """The ``okra`` console script beside this Python, as users run it."""
    script = Path(sys.executable).with_name("okra")
    return [str(script)] if script.exists() else [sys.executable, "-m", "okra_adapters.cli"]


def _wall(command: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of ``command`` in a fresh process (its output discarded)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def cli(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    """``okra --help`` and ``okra dashboard`` on the demo store vs ``python -c pass``."""
    okra = _okra_command()
    path = directory / "demo.sqlite"
    env = {**os.environ, "OKRA_ACTOR": "bench", "OKRA_STORE": str(path)}
    # Users' installs have their bytecode compiled; so does this one, before timing.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([*okra, "demo", "--path", str(path)], check=True, capture_output=True, env=env)
    for command in ([*okra, "dashboard"], [*okra, "--help"]):
        _wall(command, env)
    rounds = sizes["cli_rounds"]
    walls = alternate(
        {
            "okra dashboard": lambda: _wall([*okra, "dashboard"], env),
            "python": lambda: _wall([sys.executable, "-c", "pass"], env),
            "okra --help": lambda: _wall([*okra, "--help"], env),
        },
        rounds,
    )
    python = walls["python"] * 1000
    note = (
        f"fresh processes, median of {rounds} rounds run in turn; the demo store "
        "(okra demo), on SQLite"
    )
    return [
        measure(
            "okra dashboard, demo store",
            "ms",
            walls["okra dashboard"] * 1000,
            {"python": python},
            higher_is_better=False,
            ratio_targets={"python": 1 / 12},
            note=note + "; target: at most 12x the time of python -c pass",
        ),
        measure(
            "okra --help",
            "ms",
            walls["okra --help"] * 1000,
            {"python": python},
            higher_is_better=False,
            note=note,
        ),
    ]


def _pythonpath() -> list[str]:
    """The ``PYTHONPATH`` this process was given, kept for its children."""
    given = os.environ.get("PYTHONPATH", "")
    return [entry for entry in given.split(os.pathsep) if entry]


def scratch_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="okra-bench-")
