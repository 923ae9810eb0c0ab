"""The tamper-evident log's workload: ``okra verify`` on the quarter, against its floor.

The baseline reads the same SQLite rows with the sqlite3 module and hashes each
with SHA-256, the least any check of every stored record must do. okra and the
baseline run alternately (A B A B, three rounds) and the medians are compared.
"""

from __future__ import annotations

import hashlib
import sqlite3
import statistics
from pathlib import Path
from typing import Any

from okra_core import Okra

from .suite import _sqlite, clock, measure
from .workload import quarter_events

ROUNDS = 3


def _hash_all(path: str) -> int:
    db = sqlite3.connect(path)
    try:
        count = 0
        for row in db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
        ):
            hashlib.sha256(b"\x00" + repr(row[:4]).encode() + bytes(row[4])).digest()
            count += 1
        return count
    finally:
        db.close()


def verify(sizes: dict[str, Any], directory: Path) -> list[dict[str, Any]]:
    events = quarter_events(sizes["ingest_objectives"])
    path, url = _sqlite(directory, "okra-verify")
    with Okra(url, persist_read_model=False) as okra:
        okra.import_events(events, actor="bench", batch_size=sizes["batch"])
    n = len(events)
    ours: list[float] = []
    floor: list[float] = []
    for _ in range(ROUNDS):
        with Okra(url, persist_read_model=False) as okra:
            seconds, report = clock(okra.verify)
        assert report.sound, report
        assert report.records == n, report
        ours.append(seconds)
        seconds, count = clock(lambda: _hash_all(path))
        assert count == n
        floor.append(seconds)
    return [
        measure(
            "verify",
            "events/s",
            n / statistics.median(ours),
            {"sqlite3": n / statistics.median(floor)},
            higher_is_better=True,
            target=100_000,
            note=f"{n} events in {n // sizes['batch'] + 1} writes, SQLite file; "
            "okra: Okra.verify() (every record against its leaf, every head recomputed); "
            "baseline: select + one SHA-256 per row; median of "
            f"{ROUNDS} alternating rounds",
        )
    ]
