"""A busy key result: many processes check in to it at once, and none gives up.

Commands retry inside okra (jittered backoff) after a conflict, and the retry
holds the entity's lock (PostgreSQL advisory lock, SQLite lock-file byte), so
writers queue instead of colliding. The target from the hardening issue: 8
writers x 200 check-ins on one key result, 0 given up and 0 lost, on SQLite and
PostgreSQL. The retries are counted and printed (not asserted: they depend on
timing); the throughput goes in ``bench/``.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from okra_core import KeyResult, Okra, RetryPolicy, StayAbove, ValidationError
from okra_core.app._retry import COMMANDS


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'busy.sqlite'}"


def _busy_key_result(url: str) -> KeyResult:
    now = datetime.now(UTC)
    with Okra(url) as okra:
        cycle = okra.plan_cycle(
            "Q", start=now - timedelta(days=1), end=now + timedelta(days=90), actor="ana"
        )
        okra.start_cycle(cycle, actor="ana")
        objective = okra.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(objective, "Busy", metric=StayAbove(threshold=0), actor="ana")
        okra.activate_objective(objective, actor="ana")
        return kr


# One writer process: check in `count` times, never retrying itself; print how
# many retries okra made inside (from its "okra.retry" log) and how many gave up.
WRITER = """
import logging, sys
from okra_core import ConcurrencyError, Okra

class Count(logging.Handler):
    retries = given_up = 0
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            Count.given_up += 1
        else:
            Count.retries += 1

retry_log = logging.getLogger("okra.retry")
retry_log.addHandler(Count())
retry_log.setLevel(logging.DEBUG)
retry_log.propagate = False
url, name, count, kr = sys.argv[1:]
raised = 0
with Okra(url) as okra:
    for i in range(int(count)):
        try:
            okra.check_in(kr, value=i, narrative=f"{name}-{i}", actor=name)
        except ConcurrencyError:
            raised += 1
print(Count.retries, Count.given_up, raised)
"""


def test_eight_writers_on_one_key_result_none_gives_up_none_lost(shared_url: str) -> None:
    kr = _busy_key_result(shared_url)
    writers, each = 8, 200
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, shared_url, f"w{w}", str(each), kr.id.hex],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    retries = given_up = raised = 0
    try:
        for process in processes:
            out, err = process.communicate(timeout=600)
            assert process.returncode == 0, err
            r, g, x = (int(n) for n in out.split())
            retries, given_up, raised = retries + r, given_up + g, raised + x
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert (given_up, raised) == (0, 0)
    with Okra(shared_url) as okra:
        narratives = sorted(c.narrative for c in okra.key_result(kr).check_ins)
        events = list(okra.history(kr))
    assert narratives == sorted(f"w{w}-{i}" for w in range(writers) for i in range(each))
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    print(f"{writers}x{each} check-ins, {retries} retries inside okra, 0 given up")


def test_every_command_is_retried() -> None:
    """COMMANDS names exactly the methods of Okra that run as a command."""
    methods = {
        name
        for name, member in vars(Okra).items()
        if callable(member)
        and "with self._ctx.command(" in inspect.getsource(inspect.unwrap(member))
    }
    # A seal starts the log's tree once: a second try would meet the tree the first made.
    assert methods - {"seal"} == set(COMMANDS)
    assert all(getattr(Okra, name).__wrapped__ for name in COMMANDS)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"attempts": 0}, "attempts"),
        ({"attempts": 2.5}, "attempts"),
        ({"attempts": True}, "attempts"),
        ({"base": -1}, "base"),
        ({"cap": float("nan")}, "cap"),
        ({"cap": "1"}, "cap"),
    ],
)
def test_a_bad_retry_policy_is_refused(changes: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        RetryPolicy(**changes)  # type: ignore[arg-type]
    assert [e.path for e in info.value.errors] == [path]


def test_the_backoff_grows_to_its_cap_and_the_sleep_stays_under_it() -> None:
    policy = RetryPolicy(attempts=10, base=0.01, cap=0.05)
    assert [policy.backoff(n) for n in range(1, 5)] == [0.01, 0.02, 0.04, 0.05]
    assert all(0 <= policy.sleep_after(n) <= policy.backoff(n) for n in range(1, 20))
