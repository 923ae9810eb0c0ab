"""One writer of the contention workload, in a process of its own.

``python -m bench._contend URL NAME COUNT KEY_RESULT_ID GO_FILE``: waits for
GO_FILE, checks in COUNT times to the key result, then prints one JSON line with
the retries okra made inside (counted from the ``okra.retry`` log) and the
check-ins given up.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from okra_core import ConcurrencyError, Okra


class _Count(logging.Handler):
    retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            _Count.retries += 1


def main() -> None:
    url, name, count, key_result, go = sys.argv[1:]
    retry_log = logging.getLogger("okra.retry")
    retry_log.addHandler(_Count())
    retry_log.setLevel(logging.DEBUG)
    retry_log.propagate = False
    given_up = 0
    with Okra(url) as okra:
        okra.key_result(key_result)  # caught up before the start
        with open(f"{go}.ready-{name}", "w"):
            pass
        while not os.path.exists(go):
            time.sleep(0.005)
        for i in range(int(count)):
            try:
                okra.check_in(key_result, value=i, narrative=f"{name}-{i}", actor=name)
            except ConcurrencyError:
                given_up += 1
    print(json.dumps({"retries": _Count.retries, "given_up": given_up}))


if __name__ == "__main__":
    main()
