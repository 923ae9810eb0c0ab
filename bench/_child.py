"""One scale point in a fresh process.

``python -m bench._child ingest|rebuild URL OBJECTIVES BATCH``: prints one JSON
line, the events handled, the seconds taken and the process's peak resident
memory in MiB.

``python -m bench._child as_of URL ENTITY_HEX INSTANT``: prints the seconds of
``Okra(url)`` and of the first ``state(entity, as_of=instant)`` after it.
"""

from __future__ import annotations

import gc
import itertools
import json
import resource
import sys
import time
from datetime import datetime
from uuid import UUID

from okra_core import Okra

from .workload import iter_quarter

# Events are generated and imported this many at a time, so the generator's
# own lists do not count in the peak memory of the store.
_CHUNK = 100_000


def main(phase: str, url: str, objectives: int, batch: int) -> None:
    okra = Okra(url, persist_read_model=False)
    gc.collect()
    started = time.perf_counter()
    if phase == "ingest":
        count = 0
        events = iter_quarter(objectives)
        while chunk := list(itertools.islice(events, _CHUNK)):
            count += okra.import_events(chunk, actor="bench", batch_size=batch)
    else:
        count = okra.rebuild()
    seconds = time.perf_counter() - started
    okra.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"events": count, "seconds": seconds, "peak_mib": peak}))


def as_of(url: str, entity: str, at: str) -> None:
    """Time opening ``url`` and the first ``state(entity, as_of=at)`` in this process.

    The store is opened as okra opens it by default: with what it keeps beside
    the log (the saved read model, the key result index).
    """
    started = time.perf_counter()
    okra = Okra(url)
    opened = time.perf_counter()
    okra.state(UUID(entity), as_of=datetime.fromisoformat(at))
    queried = time.perf_counter()
    okra.close()
    print(json.dumps({"open": opened - started, "query": queried - opened}))


if __name__ == "__main__":
    if sys.argv[1] == "as_of":
        as_of(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
