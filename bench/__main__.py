"""``python -m bench [--quick] [--only NAME ...] [--output PATH]``: run, table, JSON."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import integrity, suite

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


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "okra": importlib.metadata.version("okra"),
        "eventsourcing": importlib.metadata.version("eventsourcing"),
        "sqlite": __import__("sqlite3").sqlite_version,
    }


def run(mode: str, only: set[str], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    sizes = {**suite.SIZES[mode], **(overrides or {})}
    results: dict[str, Any] = {}
    wanted = [w for w in WORKLOADS if not only or w in only]
    with suite.scratch_directory() as scratch:
        directory = Path(scratch)
        quarter_url = None

        def record(name: str, rows: list[dict[str, Any]], seconds: float) -> None:
            results[name] = {"measures": rows, "seconds": round(seconds, 2)}
            print(f"  {name}: done in {seconds:.1f} s", file=sys.stderr, flush=True)

        for name in wanted:
            started = time.perf_counter()
            if name == "codec":
                record(name, suite.codec(sizes, directory), time.perf_counter() - started)
            elif name in ("ingest", "rebuild"):
                if name in results:
                    continue
                ingest, rebuild, quarter_url = suite.ingest_and_rebuild(sizes, directory)
                seconds = time.perf_counter() - started
                record("ingest", ingest, seconds)
                record("rebuild", rebuild, seconds)
            elif name == "single_command":
                record(name, suite.single_command(sizes, directory), time.perf_counter() - started)
            elif name == "time_travel":
                rows = suite.time_travel(sizes, directory, quarter_url)
                record(name, rows, time.perf_counter() - started)
            elif name == "dashboard":
                rows = suite.dashboard(sizes, directory, quarter_url)
                record(name, rows, time.perf_counter() - started)
            elif name == "verify":
                record(name, integrity.verify(sizes, directory), time.perf_counter() - started)
            elif name == "cli":
                record(name, suite.cli(sizes, directory), time.perf_counter() - started)
            elif name == "scale":
                record(name, suite.scale(sizes, directory), time.perf_counter() - started)
            elif name == "contention":
                record(name, suite.contention(sizes, directory), time.perf_counter() - started)
    return {
        "mode": mode,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": sizes,
        "workloads": {w: results[w] for w in WORKLOADS if w in results},
    }


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "events/s":
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"


def table(report: dict[str, Any]) -> str:
    """The results as a Markdown table (okra's speed relative to each baseline: >1 is faster)."""
    lines = [
        "| workload | measure | unit | okra | eventsourcing | vs es | sqlite3/json | vs raw "
        "| target |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for workload, result in report["workloads"].items():
        for row in result["measures"]:
            unit = row["unit"]
            es = row["baselines"].get("eventsourcing")
            raw = _raw(row["baselines"])
            es_ratio = row["ratios"].get("eventsourcing")
            raw_ratio = _raw(row["ratios"])
            bounds = []
            if "target" in row:
                sign = ">=" if row["higher_is_better"] else "<="
                bounds.append(f"{sign} {_figure(row['target'], unit)}")
            for key, bound in row.get("ratio_targets", {}).items():
                name = _SHORT.get(key, key)
                # A bound below 1 reads better as "at most N times the baseline's time".
                bounds.append(
                    f">= {bound:g}x {name}" if bound >= 1 else f"<= {1 / bound:g}x {name}'s time"
                )
            target = ""
            if bounds:
                target = f"{', '.join(bounds)} {'met' if row['met'] else 'NOT met'}"
            lines.append(
                f"| {workload} | {row['name']} | {unit} | {_figure(row['okra'], unit)} "
                f"| {_figure(es, unit)} | {_ratio(es_ratio)} | {_figure(raw, unit)} "
                f"| {_ratio(raw_ratio)} | {target} |"
            )
    return "\n".join(lines)


def _raw(values: dict[str, Any]) -> Any:
    """The figure of the raw baseline: sqlite3, plain json or a bare python process."""
    return values.get("sqlite3", values.get("json", values.get("python")))


_SHORT = {"eventsourcing": "es", "sqlite3": "raw", "json": "raw", "python": "python"}


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: proves the suite runs")
    parser.add_argument("--only", nargs="*", choices=WORKLOADS, default=[], help="run only these")
    parser.add_argument(
        "--output", default="bench-results.json", help="where to write the JSON results"
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="SIZE=N",
        help=f"override sizes of the mode: {', '.join(suite.SIZES['full'])}",
    )
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in suite.SIZES[mode]:
            parser.error(f"unknown size {key!r}")
        overrides[key] = json.loads(value)
    if overrides:
        mode += " (sizes changed: " + ", ".join(args.set) + ")"
    print(f"okra benchmarks, {mode} mode", file=sys.stderr, flush=True)
    report = run("quick" if args.quick else "full", set(args.only), overrides)
    report["mode"] = mode
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    m = report["machine"]
    print(f"\n{mode} mode, {m['cpus']} CPUs, Python {m['python']}, {m['platform']}\n")
    print(table(report))
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
