"""The data every benchmark uses: a large quarter as okra events, made without I/O.

A quarter has one cycle; each objective has ``key_results`` key results (change
metrics, with a mix of milestones) and every key result gets ``weeks`` weekly
check-ins. Ids and times are deterministic, so runs are comparable.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from okra_core import (
    Change,
    CheckInRecorded,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    CyclePlanned,
    CycleStarted,
    Event,
    KeyResultDefined,
    Milestone,
    ObjectiveActivated,
    ObjectiveDrafted,
    ObjectiveKind,
    RollupPolicy,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
WEEK = timedelta(days=7)
CYCLE_ID = UUID(int=1)
OWNERS = ("ana", "ben", "chen", "dina", "emil", "farah", "gus", "hana")
_CONFIDENCES = tuple(Confidence.on(ConfidenceScale.ZERO_TO_TEN, n) for n in range(11))


def objective_id(number: int) -> UUID:
    return UUID(int=(1 << 64) + number)


def key_result_id(objective: int, number: int) -> UUID:
    return UUID(int=(2 << 64) + (objective << 16) + number)


def quarter_events(
    objectives: int, key_results: int = 5, weeks: int = 13, *, seed: int = 6
) -> list[Event]:
    """Every event of the quarter, in the order a team would record them."""
    return list(iter_quarter(objectives, key_results, weeks, seed=seed))


def iter_quarter(
    objectives: int, key_results: int = 5, weeks: int = 13, *, seed: int = 6
) -> Iterator[Event]:
    rng = random.Random(seed)
    yield CyclePlanned(
        originator_id=CYCLE_ID,
        originator_version=1,
        recorded_at=START - WEEK,
        actor="maria",
        name="2026-Q1",
        starts_at=START,
        ends_at=END,
    )
    yield CycleStarted(
        originator_id=CYCLE_ID, originator_version=2, recorded_at=START, actor="maria"
    )
    planned = START + timedelta(hours=1)
    for o in range(objectives):
        oid = objective_id(o)
        owner = OWNERS[o % len(OWNERS)]
        yield ObjectiveDrafted(
            originator_id=oid,
            originator_version=1,
            recorded_at=planned,
            actor=owner,
            title=f"Objective {o}: delight customers in segment {o % 97}",
            description="A realistic sentence or two about why this matters this quarter.",
            owner=owner,
            cycle_id=CYCLE_ID,
            kind=ObjectiveKind.COMMITTED if o % 3 else ObjectiveKind.ASPIRATIONAL,
            rollup=RollupPolicy.MEAN,
        )
        for k in range(key_results):
            yield KeyResultDefined(
                originator_id=key_result_id(o, k),
                originator_version=1,
                recorded_at=planned,
                actor=owner,
                objective_id=oid,
                title=f"Key result {o}.{k}",
                metric=Milestone() if k == 4 else Change(baseline=10.0 * k, target=100.0 + k),
                unit="" if k == 4 else "points",
                weight=1.0,
                owner=owner,
            )
        yield ObjectiveActivated(
            originator_id=oid, originator_version=2, recorded_at=planned, actor=owner
        )
    for week in range(weeks):
        at = START + week * WEEK + timedelta(days=4)
        for o in range(objectives):
            owner = OWNERS[o % len(OWNERS)]
            for k in range(key_results):
                yield check_in(o, k, week, at, owner, rng)


def check_in(
    o: int, k: int, week: int, at: datetime, owner: str, rng: random.Random
) -> CheckInRecorded:
    value = float(week >= 10) if k == 4 else 10.0 * k + (90.0 + k) * week / 12 * rng.random()
    return CheckInRecorded(
        originator_id=key_result_id(o, k),
        originator_version=week + 2,
        recorded_at=at,
        actor=owner,
        check_in_id=UUID(int=(3 << 64) + (o << 24) + (k << 16) + week),
        value=round(value, 2),
        confidence=_CONFIDENCES[rng.randrange(3, 10)],
        narrative=rng.choice(("on track", "slipping; hiring", "shipped the beta", "")),
        effective_at=at,
        source=CheckInSource.MANUAL,
    )


def long_key_result(check_ins: int) -> list[Event]:
    """One objective with one key result that has ``check_ins`` check-ins, an hour apart."""
    events = list(iter_quarter(1, 1, 0))
    rng = random.Random(7)
    first = START + timedelta(days=1)
    for n in range(check_ins):
        at = first + timedelta(minutes=n)
        event = check_in(0, 0, n, at, "ana", rng)
        events.append(event)
    return events
