"""Several dispatchers on one outbox: each notification is sent once while all are alive.

Three real processes run dispatchers at once on one store (an SQLite file, a
PostgreSQL database) and post to one real webhook receiver on loopback; each
claims a few due notifications at a time (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, a ``BEGIN IMMEDIATE`` claim with a lease on SQLite) and sends only
those. Every key arrives exactly once.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from okra_adapters.notify import Dispatcher, MemoryOutbox, open_outbox
from okra_core import Change, ManualClock, Okra, ValidationError

from .servers import receiver

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def durable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'okra.sqlite'}"


def _retargets(url: str, clock: ManualClock, count: int) -> None:
    """A key result retargeted ``count`` times, each a notification for ana's webhook."""
    with Okra(url, clock=clock) as okra:
        _retargets_in(okra, clock, count)


def _retargets_in(okra: Okra, clock: ManualClock, count: int) -> None:
    cycle = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    okra.start_cycle(cycle, actor="ana")
    goal = okra.draft_objective("Delight", cycle=cycle, owner="ana", actor="ana")
    kr = okra.add_key_result(
        goal, "Response", metric=Change(baseline=24, target=4), unit="h", actor="ana"
    )
    okra.activate_objective(goal, actor="ana")
    okra.subscribe(
        channel="hook",
        recipient="ana@example.com",
        kinds=["target_changed"],
        owners=["ana"],
        actor="ana",
    )
    for i in range(count):
        clock.advance(timedelta(seconds=1))
        okra.retarget(kr, target=100 + i, reason=f"step {i}", actor="ana")


# One dispatcher process: wait for the start signal, then run until nothing is left.
DISPATCHER = """
import os, sys, time
from datetime import datetime
from okra_core import ManualClock, Okra
from okra_adapters.notify import Dispatcher

url, hook, now, go = sys.argv[1:]
while not os.path.exists(go):
    time.sleep(0.005)
delivered = 0
with Okra(url, clock=ManualClock(datetime.fromisoformat(now))) as okra:
    with Dispatcher(okra, channels={"hook": hook}) as dispatcher:
        while True:
            report = dispatcher.run_once()
            delivered += report.delivered
            if report.pending == 0:
                break
print(delivered)
"""


def test_three_dispatchers_at_once_send_each_notification_once(
    durable_url: str, tmp_path: Path
) -> None:
    clock = ManualClock(START)
    count = 60
    _retargets(durable_url, clock, count)
    go = tmp_path / "go"
    with receiver() as server:
        hook = "webhook+" + server.url()
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    DISPATCHER,
                    durable_url,
                    hook,
                    clock.now().isoformat(),
                    str(go),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        go.touch()  # all three start together
        shares = []
        try:
            for process in processes:
                out, err = process.communicate(timeout=300)
                assert process.returncode == 0, err
                shares.append(int(out))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.communicate()
        keys = [r.headers["idempotency-key"] for r in server.requests]
    assert len(keys) == count
    assert len(set(keys)) == count  # none twice
    assert sum(shares) == count
    with open_outbox(durable_url) as outbox:
        assert {p.key for p in outbox.items("delivered")} == set(keys)
        assert outbox.items("pending") == []
    print(f"3 dispatchers shared {count} notifications as {sorted(shares)}")


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_claim_is_held_until_its_lease_ends(kind: str, tmp_path: Path) -> None:
    """Another dispatcher cannot claim what one holds; after the lease it can."""
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}" if kind == "sqlite" else "memory://"
    clock = ManualClock(START)
    shared = MemoryOutbox() if kind == "memory" else None
    with (
        Okra(url, clock=clock) as okra,
        Dispatcher(okra, channels={}, outbox=shared) as first,
        Dispatcher(okra, channels={}, outbox=shared) as second,
    ):
        _retargets_in(okra, clock, 3)
        first.derive()
        now = clock.now()
        lease = timedelta(minutes=5)
        held = first.outbox.claim(now, first.owner, lease, 2)
        assert len(held) == 2
        rest = second.outbox.claim(now, second.owner, lease, 10)
        assert len(rest) == 1
        assert {p.key for p in held + rest} == {p.key for p in first.outbox.due(now)}
        assert second.outbox.claim(now, second.owner, lease, 10) == []
        again = second.outbox.claim(now + lease, second.owner, lease, 10)
        assert len(again) == 3  # every lease ran out


def test_a_bad_lease_is_refused() -> None:
    with Okra("memory://") as okra, pytest.raises(ValidationError) as info:
        Dispatcher(okra, lease=timedelta(0))
    assert info.value.paths == ("lease",)
