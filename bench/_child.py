"""One scale point in a fresh process.

``python -m bench._child ingest|rebuild URL OBJECTIVES BATCH``.

Prints one JSON line: the events handled, the seconds taken and the process's peak
resident memory in MiB.
"""

from __future__ import annotations

import gc
import itertools
import json
import resource
import sys
import time

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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
