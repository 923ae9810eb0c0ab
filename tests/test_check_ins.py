"""CheckIns reads like a tuple, and states sharing its list never see each other's check-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from okra_core import CheckIn, CheckIns, CheckInSource

START = datetime(2026, 1, 1, tzinfo=UTC)


def _check_in(n: int, day: int) -> CheckIn:
    return CheckIn(
        id=UUID(int=n + 1),
        key_result_id=UUID(int=0),
        value=float(n),
        confidence=None,
        narrative="",
        effective_at=START + timedelta(days=day),
        recorded_at=START + timedelta(days=100, seconds=n),
        actor="ana",
        source=CheckInSource.MANUAL,
    )


def _sorted(items: list[CheckIn]) -> tuple[CheckIn, ...]:
    return tuple(sorted(items, key=lambda c: (c.effective_at, c.recorded_at)))


# Each step: (day of a new check-in, which earlier version to extend).
steps = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 1000)), max_size=40)


@given(steps)
def test_every_version_keeps_its_own_check_ins_in_order(plan: list[tuple[int, int]]) -> None:
    versions: list[tuple[CheckIns, tuple[CheckIn, ...]]] = [(CheckIns(), ())]
    for n, (day, pick) in enumerate(plan):
        check_ins, expected = versions[pick % len(versions)]
        new = _check_in(n, day)
        versions.append((check_ins.inserted(new), _sorted([*expected, new])))
    for check_ins, expected in versions:
        assert check_ins == expected
        assert tuple(check_ins) == expected
        assert len(check_ins) == len(expected)
        assert list(reversed(check_ins)) == list(reversed(expected))
        assert check_ins[::-1] == expected[::-1]
        assert check_ins[1:] == expected[1:]
        if expected:
            assert check_ins[-1] == expected[-1]
            assert check_ins[0] == expected[0]
            first = expected[0]
            assert check_ins.without(first.id) == expected[1:]
        for day in (0, 15, 31):
            at = START + timedelta(days=day)
            cut = sum(1 for c in expected if c.effective_at <= at)
            assert check_ins.effective_by(at) == cut
            assert check_ins.prefix(cut) == expected[:cut]
        assert hash(check_ins) == hash(expected)
