"""The scorecard and the business review of a cycle, and a key result's lineage."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import (
    Change,
    Cycle,
    CycleStatus,
    KeyResult,
    ManualClock,
    Milestone,
    Objective,
    ObjectiveKind,
    ObjectiveStatus,
    Okra,
    RollupPolicy,
    ScoringPolicy,
    to_data,
)
from okra_core.domain._fold import AnyEntity
from okra_core.domain._key_result import Grade, suggest_grade
from okra_core.read._review import business_review, lineage
from okra_core.read._scores import (
    BandCounts,
    Reading,
    ScoreBand,
    rollup_scores,
    round_score,
    score_band,
    score_reading,
    scorecard,
)
from okra_core.read._world import World

from .conftest import Quarter

POLICY = ScoringPolicy()
CLOSE = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


# --- rounding, rollups, bands and readings ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, 0.0),
        (0.04, 0.0),
        (0.05, 0.1),
        (0.25, 0.3),
        (0.35, 0.4),
        (0.649, 0.6),
        (0.65, 0.7),
        ((0.6 + 0.7) / 2, 0.7),  # 0.6499999999999999 in binary: still a half
        (0.95, 1.0),
        (1.0, 1.0),
    ],
)
def test_round_score_rounds_halves_up(value: float, expected: float) -> None:
    assert round_score(value) == expected


@given(st.floats(min_value=0, max_value=1))
def test_round_score_is_the_rule_of_suggest_grade(value: float) -> None:
    assert round_score(value) == suggest_grade(value)


def test_mean_is_weighted_by_key_result_weight() -> None:
    assert rollup_scores(RollupPolicy.MEAN, [(0.4, 1), (1.0, 1)]) == 0.7
    # (0.4·1 + 1.0·3) / 4 = 0.85 -> 0.9
    assert rollup_scores(RollupPolicy.MEAN, [(0.4, 1), (1.0, 3)]) == 0.9
    # (0.2 + 0.3 + 0.3) / 3 = 0.2666... -> 0.3
    assert rollup_scores(RollupPolicy.MEAN, [(0.2, 1), (0.3, 1), (0.3, 1)]) == 0.3
    # (0.6 + 0.7) / 2 = 0.65 -> 0.7 (half up), (0.6 + 0.6 + 0.7) / 3 = 0.633 -> 0.6
    assert rollup_scores(RollupPolicy.MEAN, [(0.6, 1), (0.7, 1)]) == 0.7
    assert rollup_scores(RollupPolicy.MEAN, [(0.6, 1), (0.6, 1), (0.7, 1)]) == 0.6


def test_min_is_the_weakest_key_result_whatever_the_weights() -> None:
    assert rollup_scores(RollupPolicy.MIN, [(0.9, 1), (0.3, 0.1), (0.6, 5)]) == 0.3


def test_sum_is_the_weighted_sum_capped_at_one() -> None:
    assert rollup_scores(RollupPolicy.SUM, [(0.2, 1), (0.3, 1)]) == 0.5
    assert rollup_scores(RollupPolicy.SUM, [(0.5, 0.5), (0.4, 0.5)]) == 0.5  # 0.45 -> 0.5
    assert rollup_scores(RollupPolicy.SUM, [(0.6, 1), (0.7, 1)]) == 1.0


def test_nothing_to_roll_up_is_an_error() -> None:
    with pytest.raises(ValueError, match="no scores"):
        rollup_scores(RollupPolicy.MEAN, [])


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.0, ScoreBand.RED),
        (0.3, ScoreBand.RED),
        (0.4, ScoreBand.YELLOW),
        (0.6, ScoreBand.YELLOW),
        (0.7, ScoreBand.GREEN),
        (1.0, ScoreBand.GREEN),
    ],
)
def test_default_bands_at_their_boundaries(score: float, band: ScoreBand) -> None:
    assert score_band(score, POLICY) is band


def test_bands_follow_the_playbook() -> None:
    strict = ScoringPolicy(yellow_from=0.5, green_from=0.9)
    assert [score_band(s, strict) for s in (0.4, 0.5, 0.8, 0.9)] == [
        ScoreBand.RED,
        ScoreBand.YELLOW,
        ScoreBand.YELLOW,
        ScoreBand.GREEN,
    ]


@pytest.mark.parametrize(
    ("score", "committed", "aspirational"),
    [
        (0.0, Reading.MISSED, Reading.MISSED),
        (0.3, Reading.MISSED, Reading.MISSED),
        (0.4, Reading.MISSED, Reading.BELOW_TARGET),
        (0.6, Reading.MISSED, Reading.BELOW_TARGET),
        (0.7, Reading.MISSED, Reading.ON_TARGET),
        (0.9, Reading.MISSED, Reading.ON_TARGET),
        (1.0, Reading.MET, Reading.TOO_EASY),
    ],
)
def test_readings_by_kind(score: float, committed: Reading, aspirational: Reading) -> None:
    assert score_reading(score, ObjectiveKind.COMMITTED, POLICY) is committed
    assert score_reading(score, ObjectiveKind.ASPIRATIONAL, POLICY) is aspirational


def test_readings_follow_the_playbook_expectations() -> None:
    policy = ScoringPolicy(committed_expectation=0.9, aspirational_expectation=1.0)
    assert score_reading(0.9, ObjectiveKind.COMMITTED, policy) is Reading.MET
    assert score_reading(0.8, ObjectiveKind.COMMITTED, policy) is Reading.MISSED
    # When 1.0 is what an aspirational objective is expected to reach, 1.0 is on target.
    assert score_reading(1.0, ObjectiveKind.ASPIRATIONAL, policy) is Reading.ON_TARGET
    assert score_reading(0.9, ObjectiveKind.ASPIRATIONAL, policy) is Reading.BELOW_TARGET


# --- invariants ----------------------------------------------------------------------------

tenths = st.integers(0, 10).map(lambda n: n / 10)
weights = st.sampled_from([0.1, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0])
pairs = st.lists(st.tuples(tenths, weights), min_size=1, max_size=8)


@given(st.sampled_from(list(RollupPolicy)), pairs)
def test_objective_score_is_a_score(
    policy: RollupPolicy, scores: list[tuple[float, float]]
) -> None:
    score = rollup_scores(policy, scores)
    assert 0.0 <= score <= 1.0
    assert score == round_score(score)


@given(pairs)
def test_min_le_mean_le_max(scores: list[tuple[float, float]]) -> None:
    values = [s for s, _ in scores]
    assert (
        min(values)
        == rollup_scores(RollupPolicy.MIN, scores)
        <= rollup_scores(RollupPolicy.MEAN, scores)
        <= max(values)
    )


@given(tenths, st.lists(weights, min_size=1, max_size=8))
def test_mean_of_equal_scores_is_that_score(score: float, ws: list[float]) -> None:
    assert rollup_scores(RollupPolicy.MEAN, [(score, w) for w in ws]) == score
    assert rollup_scores(RollupPolicy.MIN, [(score, w) for w in ws]) == score


@given(tenths, st.sampled_from(list(ObjectiveKind)))
def test_every_score_has_one_band_and_reading(score: float, kind: ObjectiveKind) -> None:
    assert score_band(score, POLICY) in ScoreBand
    assert score_reading(score, kind, POLICY) in Reading


# --- scorecards of hand-built states ------------------------------------------------------


def states_of(world: World) -> dict[UUID, AnyEntity]:
    found: list[AnyEntity] = [*world.cycles(), *world.objectives(), *world.key_results()]
    found += world.actions()
    return {entity.id: entity for entity in found}


def graded(key_result: KeyResult, score: float, suggested: float | None = None) -> KeyResult:
    grade = Grade(
        score=score,
        suggested=score if suggested is None else suggested,
        attainment=score,
        original_attainment=score,
        rationale="" if suggested is None else "judgement",
        graded_at=CLOSE,
        graded_by="ana",
    )
    return attrs.evolve(key_result, grade=grade)


def closed_world(
    clock: ManualClock,
    scores: dict[str, float],
    *,
    rollup: str = "mean",
    kind: str = "committed",
) -> World:
    """A closed cycle, one objective with one graded key result per entry of ``scores``."""
    with Okra("memory://", clock=clock) as okra:
        cycle = okra.plan_cycle("Q", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(cycle, actor="ana")
        obj = okra.draft_objective(
            "Grow", cycle=cycle, owner="ana", actor="ana", rollup=rollup, kind=kind
        )
        added = []
        for title in scores:
            added.append(okra.add_key_result(obj, title, metric=Milestone(), actor="ana"))
            clock.advance(timedelta(minutes=1))
        okra.activate_objective(obj, actor="ana")
        for kr in added:
            okra.check_in(kr, value=1, actor="ana")  # done: progress 1.0, whatever the grade
        world = okra.world()
    states = states_of(world)
    for state in list(states.values()):
        if isinstance(state, KeyResult):
            states[state.id] = graded(state, scores[state.title])
        elif isinstance(state, Objective):
            states[state.id] = attrs.evolve(state, status=ObjectiveStatus.CLOSED)
        elif isinstance(state, Cycle):
            states[state.id] = attrs.evolve(state, status=CycleStatus.CLOSED)
    return World(states, at=CLOSE)


@pytest.mark.parametrize(
    ("rollup", "expected", "reading"),
    [
        ("mean", 0.6, Reading.BELOW_TARGET),
        ("min", 0.2, Reading.MISSED),
        ("sum", 1.0, Reading.TOO_EASY),
    ],
)
def test_graded_cycle_scores_each_policy(
    clock: ManualClock, rollup: str, expected: float, reading: Reading
) -> None:
    world = closed_world(clock, {"a": 0.2, "b": 0.9, "c": 0.7}, rollup=rollup, kind="aspirational")
    card = scorecard(world, world.cycles()[0])
    (objective,) = card.objectives
    assert [kr.score for kr in objective.key_results] == [0.2, 0.9, 0.7]
    assert (objective.score, objective.reading, objective.expectation) == (expected, reading, 0.7)
    assert not card.provisional
    assert card.score == expected


def test_a_grade_is_used_not_the_progress(clock: ManualClock) -> None:
    world = closed_world(clock, {"done": 0.4})
    (state,) = world.key_results()
    assert state.attainment().value == 1.0  # the milestone is done: progress says 1.0
    card = scorecard(world, world.cycles()[0])
    (kr,) = card.objectives[0].key_results
    assert (kr.score, kr.provisional, kr.graded_by, kr.graded_at) == (0.4, False, "ana", CLOSE)


def test_overridden_grade_keeps_the_suggestion_and_rationale(clock: ManualClock) -> None:
    world = closed_world(clock, {"a": 0.5})
    (kr,) = world.key_results()
    states = states_of(world)
    states[kr.id] = graded(kr, 0.8, suggested=0.5)
    card = scorecard(World(states, at=CLOSE), world.cycles()[0])
    (score,) = card.objectives[0].key_results
    assert (score.score, score.suggested, score.overridden, score.rationale) == (
        0.8,
        0.5,
        True,
        "judgement",
    )
    assert card.objectives[0].score == 0.8


# --- end to end through Okra ----------------------------------------------------------------


def test_open_cycle_gives_a_provisional_scorecard(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="ana")  # p = 0.5
    card = okra.scorecard(quarter.cycle)
    assert card.provisional
    (objective,) = card.objectives
    (kr,) = objective.key_results
    assert (kr.score, kr.suggested, kr.attainment, kr.provisional) == (0.5, 0.5, 0.5, True)
    assert (kr.graded_at, kr.graded_by, kr.overridden) == (None, None, False)
    assert (objective.score, objective.band, objective.reading) == (
        0.5,
        ScoreBand.YELLOW,
        Reading.MISSED,
    )
    assert objective.provisional
    assert (card.score, card.committed_met, card.committed_total) == (0.5, 0, 1)


def test_undefined_attainment_scores_zero_provisionally(okra: Okra, quarter: Quarter) -> None:
    (kr,) = okra.scorecard(quarter.cycle).objectives[0].key_results
    assert (kr.attainment, kr.score) == (None, 0.0)


def test_an_empty_cycle(okra: Okra, clock: ManualClock) -> None:
    cycle = okra.plan_cycle("Empty", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    card = okra.scorecard(cycle)
    assert (card.objectives, card.not_scored, card.abandoned) == ((), (), ())
    assert (card.score, card.band, card.committed_met, card.committed_total) == (None, None, 0, 0)
    assert card.provisional  # not closed: nothing is final
    okra.start_cycle(cycle, actor="ana")
    okra.close_cycle(cycle, actor="ana")
    card = okra.scorecard(cycle)
    assert not card.provisional
    assert card.score is None
    review = okra.business_review(cycle)
    assert review.owners == ()
    assert review.score is None


@attrs.frozen
class Plan:
    q1: Cycle
    ship: Objective
    grow: Objective
    beta: KeyResult
    docs: KeyResult
    stars: KeyResult


def plan(okra: Okra, clock: ManualClock) -> Plan:
    """A quarter with one committed and one aspirational objective, a draft and an abandoned one."""

    def tick() -> None:
        clock.advance(timedelta(minutes=1))

    q1 = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    okra.start_cycle(q1, actor="ana")
    ship = okra.draft_objective("Ship v2", cycle=q1, owner="ana", actor="ana")
    beta = okra.add_key_result(
        ship, "Beta users", metric=Change(baseline=0, target=100), actor="ana"
    )
    tick()
    docs = okra.add_key_result(ship, "Docs done", metric=Milestone(), actor="ana", owner="bo")
    okra.activate_objective(ship, actor="ana")
    tick()
    grow = okra.draft_objective(
        "Grow the community", cycle=q1, owner="bo", actor="bo", kind="aspirational"
    )
    tick()
    stars = okra.add_key_result(grow, "Stars", metric=Change(baseline=100, target=1100), actor="bo")
    okra.activate_objective(grow, actor="bo")
    tick()
    draft = okra.draft_objective("Someday", cycle=q1, owner="bo", actor="bo")
    okra.add_key_result(draft, "Idea", metric=Milestone(), actor="bo")
    tick()
    gone = okra.draft_objective("Rewrite", cycle=q1, owner="ana", actor="ana")
    okra.abandon_objective(gone, reason="no longer needed", actor="ana")
    clock.set(datetime(2026, 2, 1, 9, 0, tzinfo=UTC))
    okra.check_in(beta, value=60, actor="ana")
    okra.check_in(docs, value=1, actor="bo")
    okra.check_in(stars, value=750, actor="bo")  # p = 0.65
    return Plan(q1, ship, grow, beta, docs, stars)


def test_scorecard_before_and_after_close(okra: Okra, clock: ManualClock) -> None:
    it = plan(okra, clock)
    before = okra.scorecard(it.q1)
    assert before.provisional
    ship, grow = before.objectives
    assert [kr.score for kr in ship.key_results] == [0.6, 1.0]
    assert (ship.score, ship.reading, grow.score, grow.reading) == (
        0.8,
        Reading.MISSED,
        0.7,  # 0.65 half up
        Reading.ON_TARGET,
    )
    assert [(o.title, o.status) for o in before.not_scored] == [("Someday", ObjectiveStatus.DRAFT)]
    assert "draft" in before.not_scored[0].reason
    assert [(a.title, a.reason) for a in before.abandoned] == [("Rewrite", "no longer needed")]

    clock.set(CLOSE)
    okra.close_cycle(
        it.q1,
        actor="ana",
        grades={it.beta: (1.0, "the last 40 signed up the day after")},
    )
    after = okra.scorecard(it.q1)
    assert not after.provisional
    ship, grow = after.objectives
    assert (ship.status, grow.status) == (ObjectiveStatus.CLOSED, ObjectiveStatus.CLOSED)
    beta = ship.key_results[0]
    assert (beta.score, beta.suggested, beta.overridden) == (1.0, 0.6, True)
    assert beta.rationale == "the last 40 signed up the day after"
    assert (ship.score, ship.band, ship.reading) == (1.0, ScoreBand.GREEN, Reading.MET)
    assert (grow.score, grow.reading) == (0.7, Reading.ON_TARGET)
    assert grow.key_results[0].attainment == 0.65
    assert "still a draft when the cycle closed" in after.not_scored[0].reason
    assert (after.score, after.band) == (0.9, ScoreBand.GREEN)  # (1.0 + 0.7) / 2 = 0.85
    assert after.bands == BandCounts(green=2)
    assert (after.readings.met, after.readings.on_target, after.readings.missed) == (1, 1, 0)
    assert (after.committed_met, after.committed_total) == (1, 1)

    # As of a day before the close, the same cycle reads as it did then: provisional.
    then = okra.scorecard(it.q1, as_of=date(2026, 3, 1))
    assert then.provisional
    assert [o.score for o in then.objectives] == [0.8, 0.7]
    assert then.objectives[0].key_results[0].graded_at is None
    # As of after the close: the grades.
    assert okra.scorecard(it.q1, as_of=CLOSE) == attrs.evolve(after, at=CLOSE)


def test_sandbagging_reads_as_too_easy(okra: Okra, quarter: Quarter, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=1))
    moon = okra.draft_objective(
        "Moonshot", cycle=quarter.cycle, owner="cy", actor="cy", kind="aspirational"
    )
    kr = okra.add_key_result(moon, "Launch", metric=Milestone(), actor="cy")
    okra.activate_objective(moon, actor="cy")
    okra.check_in(kr, value=1, actor="cy")
    okra.check_in(quarter.key_result, value=4, actor="ana")
    okra.close_cycle(quarter.cycle, actor="ana")
    card = okra.scorecard(quarter.cycle)
    assert [(o.title, o.score, o.reading) for o in card.objectives] == [
        ("Delight customers", 1.0, Reading.MET),
        ("Moonshot", 1.0, Reading.TOO_EASY),
    ]
    assert card.readings.too_easy == 1


def test_scores_against_the_original_target(okra: Okra, quarter: Quarter) -> None:
    okra.retarget(quarter.key_result, target=14, reason="halve the goal", actor="ana")
    okra.check_in(quarter.key_result, value=14, actor="ana")
    okra.close_cycle(quarter.cycle, actor="ana")
    (objective,) = okra.scorecard(quarter.cycle).objectives
    (kr,) = objective.key_results
    assert (kr.attainment, kr.original_attainment) == (1.0, 0.5)
    assert (kr.score, kr.original_suggested, kr.goalposts_moved) == (1.0, 0.5, True)
    assert (objective.score, objective.original_score) == (1.0, 0.5)


def test_business_review_per_owner(okra: Okra, clock: ManualClock) -> None:
    it = plan(okra, clock)
    bet = okra.propose_action(
        "Launch webinar",
        key_results=[it.beta],
        hypothesis="a webinar brings beta users",
        owner="ana",
        actor="ana",
        investment=3,
    )
    okra.place_action(bet, actor="ana")
    okra.resolve_action(
        bet, outcome="invalidated", learning="users want a demo, not a talk", actor="ana"
    )
    okra.propose_action(
        "Still open",
        key_results=[it.beta],
        hypothesis="h",
        owner="ana",
        actor="ana",
        investment=1,
    )
    clock.set(CLOSE)
    okra.close_cycle(it.q1, actor="ana")
    q2 = okra.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    later = okra.continue_objective(it.ship, cycle=q2, mode="carry_over", actor="ana")

    review = okra.business_review(it.q1)
    assert [o.owner for o in review.owners] == ["ana", "bo"]
    ana, bo = review.owners
    assert [o.title for o in ana.objectives] == ["Ship v2"]
    assert (ana.score, ana.committed_met, ana.committed_total) == (0.8, 0, 1)
    (miss,) = ana.misses
    assert (miss.title, miss.score, miss.expectation) == ("Ship v2", 0.8, 1.0)
    assert [(kr.title, kr.score) for kr in miss.short_key_results] == [("Beta users", 0.6)]
    assert [a.title for a in ana.abandoned] == ["Rewrite"]
    (learning,) = ana.learnings
    assert (learning.title, learning.outcome.value, learning.learning) == (
        "Launch webinar",
        "invalidated",
        "users want a demo, not a talk",
    )
    assert learning.key_result_titles == ("Beta users",)
    (carry,) = ana.carry_overs
    assert (carry.from_title, carry.mode.value, carry.to_cycle_name) == (
        "Ship v2",
        "carry_over",
        "2026-Q2",
    )
    assert carry.to_objective_id == later.id
    # Carried over: only the key result not met goes on.
    assert [(k.from_title, k.to_title) for k in carry.key_results] == [("Beta users", "Beta users")]
    # bo owns the aspirational objective (on target: no miss) and a draft.
    assert [o.title for o in bo.objectives] == ["Grow the community"]
    assert (bo.misses, bo.learnings, bo.carry_overs, bo.committed_total) == ((), (), (), 0)
    assert (review.score, review.committed_met, review.committed_total) == (0.8, 0, 1)
    assert not review.provisional


def test_lineage_follows_a_key_result_across_cycles(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    clock.advance(timedelta(hours=1))
    q2 = okra.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    q3 = okra.plan_cycle("2026-Q3", start=date(2026, 7, 1), end=date(2026, 9, 30), actor="ana")
    second = okra.continue_objective(quarter.objective, cycle=q2, mode="extend", actor="ana")
    clock.advance(timedelta(hours=1))
    third = okra.continue_objective(second, cycle=q3, mode="clone", actor="ana")
    (kr2,) = okra.world().key_results(second.id)
    (kr3,) = okra.world().key_results(third.id)
    world = okra.world()
    expected = [quarter.key_result.id, kr2.id, kr3.id]
    for kr in (quarter.key_result, kr2, kr3):
        assert [k.id for k in lineage(world, world.key_result(kr.id))] == expected
    # Before the continuations existed, the story was one key result long.
    past = okra.world(as_of=quarter.key_result.created_at)
    assert [k.id for k in lineage(past, past.key_result(quarter.key_result.id))] == expected[:1]


def test_results_are_plain_json(okra: Okra, clock: ManualClock) -> None:
    it = plan(okra, clock)
    clock.set(CLOSE)
    okra.close_cycle(it.q1, actor="ana")
    for result in (okra.scorecard(it.q1), okra.business_review(it.q1)):
        data = json.loads(json.dumps(to_data(result)))
        assert data["cycle_name"] == "2026-Q1"
    data = to_data(okra.scorecard(it.q1))
    assert data["objectives"][1]["reading"] == "on_target"
    assert data["bands"] == {"red": 0, "yellow": 0, "green": 2}


def test_pure_functions_match_the_okra_methods(okra: Okra, clock: ManualClock) -> None:
    it = plan(okra, clock)
    world = okra.world()
    cycle = world.cycle(it.q1.id)
    assert scorecard(world, cycle) == okra.scorecard(cycle)
    assert business_review(world, cycle) == okra.business_review(cycle)


def test_an_objective_closed_early_stays_provisional_until_the_cycle_closes(
    okra: Okra, quarter: Quarter
) -> None:
    okra.check_in(quarter.key_result, value=4, actor="ana")
    okra.close_objective(quarter.objective, actor="ana")
    card = okra.scorecard(quarter.cycle)
    (objective,) = card.objectives
    assert (objective.status, objective.score, objective.provisional) == (
        ObjectiveStatus.CLOSED,
        1.0,
        True,
    )
    okra.close_cycle(quarter.cycle, actor="ana")
    (objective,) = okra.scorecard(quarter.cycle).objectives
    assert not objective.provisional  # a closed objective's key results are graded too


def test_an_active_objective_without_key_results_is_not_scored(clock: ManualClock) -> None:
    world = closed_world(clock, {"a": 0.5})
    states = states_of(world)
    lonely = attrs.evolve(
        world.objectives()[0],
        id=UUID(int=1),
        title="Lonely",
        status=ObjectiveStatus.ACTIVE,
        created_at=CLOSE,
    )
    states[lonely.id] = lonely
    card = scorecard(World(states, at=CLOSE), world.cycles()[0])
    assert [o.title for o in card.objectives] == ["Grow"]
    assert [(o.title, o.reason) for o in card.not_scored] == [("Lonely", "it has no key results")]


def test_as_known_at_reproduces_the_preview(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    okra.check_in(quarter.key_result, value=14, actor="ana")
    preview = clock.advance(timedelta(days=1))
    okra.check_in(
        quarter.key_result, value=9, effective_at=preview - timedelta(days=2), actor="ana"
    )
    okra.check_in(quarter.key_result, value=4, actor="ana")
    clock.set(CLOSE)
    okra.close_cycle(quarter.cycle, actor="ana")
    assert okra.scorecard(quarter.cycle).score == 1.0
    known = okra.scorecard(quarter.cycle, as_known_at=preview - timedelta(hours=1))
    assert (known.provisional, known.score) == (True, 0.5)


def test_min_and_sum_through_okra(okra: Okra, quarter: Quarter, clock: ManualClock) -> None:
    clock.advance(timedelta(hours=1))
    for rollup in ("min", "sum"):
        objective = okra.draft_objective(
            f"By {rollup}", cycle=quarter.cycle, owner="cy", actor="cy", rollup=rollup
        )
        first = okra.add_key_result(
            objective, f"{rollup} a", metric=Change(baseline=0, target=10), actor="cy", weight=0.5
        )
        clock.advance(timedelta(minutes=1))
        second = okra.add_key_result(
            objective, f"{rollup} b", metric=Change(baseline=0, target=10), actor="cy", weight=0.5
        )
        okra.activate_objective(objective, actor="cy")
        okra.check_in(first, value=2, actor="cy")
        okra.check_in(second, value=12, actor="cy")  # p = 1.2, clamped to 1.0
        clock.advance(timedelta(minutes=1))
    okra.close_cycle(quarter.cycle, actor="ana")
    scores = {o.title: o.score for o in okra.scorecard(quarter.cycle).objectives}
    # min: 0.2; sum: 0.5 * 0.2 + 0.5 * 1.0 = 0.6
    assert (scores["By min"], scores["By sum"]) == (0.2, 0.6)


def test_lineage_with_a_key_result_continued_twice(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    q3 = okra.plan_cycle("2026-Q3", start=date(2026, 7, 1), end=date(2026, 9, 30), actor="ana")
    q2 = okra.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    clock.advance(timedelta(hours=1))
    in_q3 = okra.continue_objective(quarter.objective, cycle=q3, mode="clone", actor="ana")
    clock.advance(timedelta(hours=1))
    in_q2 = okra.continue_objective(quarter.objective, cycle=q2, mode="clone", actor="ana")
    world = okra.world()
    (kr3,) = world.key_results(in_q3.id)
    (kr2,) = world.key_results(in_q2.id)
    story = lineage(world, world.key_result(quarter.key_result.id))
    assert [k.id for k in story] == [quarter.key_result.id, kr2.id, kr3.id]  # by cycle start
    assert [k.id for k in lineage(world, kr3)] == [quarter.key_result.id, kr3.id]
