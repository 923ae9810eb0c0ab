"""CheckIns reads like a tuple, and states sharing its list never see each other's check-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import attrs
from hypothesis import given
from hypothesis import strategies as st

from okra_core import Change, CheckIn, CheckIns, CheckInSource, KeyResult, ManualClock, Okra
from okra_core.read._history import EntityHistory, as_of

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


def test_a_replay_folds_runs_of_check_ins_to_the_state_folded_one_by_one(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.sqlite'}"
    with Okra(url, clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(cycle, actor="ana")
        goal = okra.draft_objective("Goal", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(goal, "KR", metric=Change(baseline=0, target=100), actor="ana")
        other = okra.add_key_result(goal, "Other", metric=Change(baseline=0, target=9), actor="ana")
        okra.activate_objective(goal, actor="ana")
        for n in range(40):
            clock.advance(timedelta(hours=1))
            # Mostly in order, some backdated, now and then another key result between.
            back = timedelta(hours=5) if n % 7 == 3 else timedelta(0)
            okra.check_in(kr, value=n, actor="ana", effective_at=clock.now() - back)
            if n % 9 == 0:
                okra.check_in(other, value=n % 9, actor="bo")
            if n == 20:
                okra.reweight(kr, weight=2, actor="ana")
        live = [okra.key_result(kr), okra.key_result(other)]
    with Okra(url, persist_read_model=False) as replayed:
        assert [replayed.key_result(kr), replayed.key_result(other)] == live


def test_time_travel_takes_the_definition_as_folding_would(clock: ManualClock) -> None:
    with Okra("memory://", clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(cycle, actor="ana")
        goal = okra.draft_objective("Goal", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(goal, "KR", metric=Change(baseline=0, target=100), actor="ana")
        okra.activate_objective(goal, actor="ana")
        for n in range(30):
            clock.advance(timedelta(hours=1))
            okra.check_in(
                kr, value=n, actor="ana", effective_at=clock.now() - timedelta(hours=n % 3)
            )
            if n == 10:
                okra.retarget(kr, target=80, reason="scope", actor="bo")
            if n == 20:
                first = okra.key_result(kr).check_ins[0]
                okra.correct_check_in(first, value=1.5, reason="typo", actor="ana")
                okra.retract_check_in(okra.key_result(kr).check_ins[2], reason="dup", actor="ana")
                okra.reweight(kr, weight=3, actor="ana")
        events = list(okra.history(kr))
    history = EntityHistory()
    for event in events:
        history.append(event)
    instants = sorted({e.recorded_at for e in events})
    for at in [
        instants[0] - timedelta(hours=1),
        *instants,
        *(t + timedelta(minutes=30) for t in instants),
    ]:
        for known in (None, at, at + timedelta(hours=5)):
            # as_of without the definition index: fold the events known by then.
            defined_by = at if known is None else min(at, known)
            state = history.known_at(defined_by)
            found = as_of(history, at, known)
            if state is None:
                assert found is None
                continue
            assert isinstance(state, KeyResult)
            latest = history.latest if known is None else history.known_at(known)
            assert isinstance(latest, KeyResult)
            expected = attrs.evolve(
                state, check_ins=latest.check_ins_by(at), retracted_ids=latest.retracted_ids
            )
            assert found == expected
