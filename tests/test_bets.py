from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import (
    ActionStatus,
    Change,
    ExpectedEffect,
    Investment,
    KeyResult,
    ManualClock,
    Okra,
    Outcome,
)
from okra_core.codec._data import to_data
from okra_core.domain._key_result import Grade
from okra_core.read._bets import (
    BetsLedger,
    ConfidenceForecast,
    brier_score,
    calibrate,
    final_outcome,
    next_cycle,
)

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


class Shop:
    """Q1 (100 days, active) with objective "Support" (support-team) and two key results."""

    def __init__(self, okra: Okra, clock: ManualClock) -> None:
        self.okra = okra
        self.clock = clock
        self.q1 = okra.plan_cycle("Q1", start=DAY0, end=day(100), actor="ana")
        okra.start_cycle(self.q1, actor="ana")
        objective = okra.draft_objective(
            "Support", cycle=self.q1, owner="support-team", actor="ana"
        )
        self.speed = okra.add_key_result(
            objective,
            "Response time",
            metric=Change(baseline=24, target=4),
            owner="bob",
            actor="ana",
        )
        self.nps = okra.add_key_result(
            objective, "NPS", metric=Change(baseline=10, target=40), owner="dana", actor="ana"
        )
        okra.activate_objective(objective, actor="ana")

    def at(self, n: float) -> None:
        self.clock.set(day(n))

    def bet(self, title: str, owner: str = "carl", **kwargs: object) -> str:
        args: dict[str, object] = {
            "key_results": [self.speed],
            "hypothesis": "h",
            "investment": 5,
        } | kwargs
        self.okra.propose_action(title, owner=owner, actor=owner, **args)  # type: ignore[arg-type]
        return title


@pytest.fixture
def shop() -> Iterator[Shop]:
    clock = ManualClock(DAY0)
    with Okra("memory://", clock=clock) as okra:
        yield Shop(okra, clock)


# --- observed effect -------------------------------------------------------------------------


def test_entry_with_expected_and_observed_effect(shop: Shop) -> None:
    okra = shop.okra
    okra.check_in(shop.speed, value=20, actor="bob")
    okra.check_in(shop.nps, value=12, actor="dana")
    shop.bet(
        "Chatbot",
        key_results=[shop.speed, shop.nps],
        hypothesis="bots answer at once",
        investment=Investment(effort=10, cost=500, currency="EUR"),
        expected_effects=[ExpectedEffect(key_result_id=shop.speed.id, change=-8, note="-8 h")],
        odds=0.6,
        kill_criteria="no change in 4 weeks",
    )
    shop.at(1)
    okra.place_action("Chatbot", actor="carl")
    shop.at(10)
    okra.check_in(shop.speed, value=16, actor="bob")
    okra.check_in(shop.nps, value=11, actor="dana")
    shop.at(20)
    okra.resolve_action(
        "Chatbot", outcome="validated", learning="bots help", evidence=["dash/1"], actor="carl"
    )
    shop.at(25)
    okra.check_in(shop.speed, value=10, actor="bob")  # after the bet: not its effect
    (entry,) = okra.bets().entries
    assert (entry.title, entry.owner, entry.status, entry.outcome) == (
        "Chatbot",
        "carl",
        ActionStatus.VALIDATED,
        Outcome.VALIDATED,
    )
    assert entry.hypothesis == "bots answer at once"
    assert entry.investment == Investment(effort=10, cost=500, currency="EUR")
    assert (entry.odds, entry.kill_criteria) == (0.6, "no change in 4 weeks")
    assert (entry.placed_at, entry.resolved_at) == (day(1), day(20))
    assert (entry.learning, entry.evidence) == ("bots help", ("dash/1",))
    speed, nps = entry.effects
    assert (speed.key_result_title, speed.unit, speed.expected_change, speed.note) == (
        "Response time",
        "",
        -8.0,
        "-8 h",
    )
    assert (speed.start_value, speed.end_value, speed.observed_change) == (20, 16, -4)
    assert speed.as_expected is True
    assert (nps.expected_change, nps.observed_change, nps.as_expected) == (None, -1, None)


def test_open_bet_runs_to_now_and_wrong_direction(shop: Shop) -> None:
    shop.okra.check_in(shop.speed, value=20, actor="bob")
    shop.bet("Chatbot", expected_effects=[ExpectedEffect(key_result_id=shop.speed.id, change=-8)])
    shop.okra.place_action("Chatbot", actor="carl")
    shop.at(30)
    shop.okra.check_in(shop.speed, value=22, actor="bob")
    (effect,) = shop.okra.bets().entries[0].effects
    assert (effect.start_value, effect.end_value, effect.observed_change) == (20, 22, 2)
    assert effect.as_expected is False
    # as of day 29 the check-in of day 30 had not happened
    (then,) = shop.okra.bets(as_of=day(29)).entries[0].effects
    assert (then.end_value, then.observed_change, then.as_expected) == (20, 0, False)


def test_never_placed_bet_has_no_observed_effect(shop: Shop) -> None:
    shop.okra.check_in(shop.speed, value=20, actor="bob")
    shop.bet("Idea", expected_effects=[ExpectedEffect(key_result_id=shop.speed.id, change=-8)])
    shop.at(1)
    shop.bet("Dropped")
    shop.okra.resolve_action("Dropped", outcome="abandoned", learning="no time", actor="carl")
    for entry in shop.okra.bets().entries:
        (effect,) = entry.effects
        assert (effect.start_value, effect.end_value, effect.observed_change) == (None, None, None)
        assert effect.as_expected is None
    assert [e.status for e in shop.okra.bets().entries] == [
        ActionStatus.PROPOSED,
        ActionStatus.ABANDONED,
    ]
    assert shop.okra.bets().entries[0].outcome is None


def test_no_check_in_by_the_start_leaves_the_change_undefined(shop: Shop) -> None:
    shop.bet("Chatbot", expected_effects=[ExpectedEffect(key_result_id=shop.speed.id, change=-8)])
    shop.okra.place_action("Chatbot", actor="carl")
    shop.at(5)
    shop.okra.check_in(shop.speed, value=15, actor="bob")
    (effect,) = shop.okra.bets().entries[0].effects
    assert (effect.start_value, effect.end_value, effect.observed_change) == (None, 15, None)
    assert effect.as_expected is None


def test_value_at_uses_the_latest_check_in_effective_by_then(shop: Shop) -> None:
    shop.at(10)
    shop.okra.check_in(shop.speed, value=18, actor="bob")
    shop.okra.check_in(shop.speed, value=21, effective_at=day(2), actor="bob")  # backdated
    kr = shop.okra.key_result(shop.speed)
    assert kr.value_at(day(1)) is None
    assert kr.value_at(day(2)) == 21
    assert kr.value_at(day(9)) == 21
    assert kr.value_at(day(10)) == 18


# --- hit rates and learnings ------------------------------------------------------------------


def _settle(shop: Shop, title: str, owner: str, outcome: str | None) -> None:
    shop.bet(title, owner=owner)
    if outcome is None:
        return
    if outcome != "abandoned":
        shop.okra.place_action(title, actor=owner)
    shop.okra.resolve_action(title, outcome=outcome, learning=f"learnt from {title}", actor=owner)


def test_hit_rate_per_owner(shop: Shop) -> None:
    for i, outcome in enumerate(["validated", "validated", "invalidated", "inconclusive"]):
        _settle(shop, f"c{i}", "carl", outcome)
    _settle(shop, "c-abandoned", "carl", "abandoned")
    _settle(shop, "c-open", "carl", None)
    _settle(shop, "e-unsure", "erin", "inconclusive")
    ledger = shop.okra.bets()
    carl, erin = ledger.owners
    assert (carl.owner, carl.bets, carl.open) == ("carl", 6, 1)
    assert (carl.validated, carl.invalidated, carl.inconclusive, carl.abandoned) == (2, 1, 1, 1)
    assert carl.hit_rate == pytest.approx(2 / 3)
    assert (erin.owner, erin.inconclusive, erin.hit_rate) == ("erin", 1, None)  # nothing settled
    assert ledger.hit_rate == pytest.approx(2 / 3)
    assert [e.owner for e in shop.okra.bets(owner="erin").entries] == ["erin"]
    assert shop.okra.bets(owner="erin").hit_rate is None


def test_empty_ledger(shop: Shop) -> None:
    ledger = shop.okra.bets()
    assert (ledger.entries, ledger.owners, ledger.learnings, ledger.hit_rate) == ((), (), (), None)


def test_cycle_filter_and_learnings_carry_to_the_next_cycle(shop: Shop) -> None:
    okra = shop.okra
    year = okra.plan_cycle("2026", start=DAY0, end=day(365), actor="ana")
    q2 = okra.plan_cycle("Q2", start=day(100), end=day(200), actor="ana")
    _settle(shop, "Chatbot", "carl", "invalidated")
    shop.at(1)
    _settle(shop, "FAQ", "carl", "validated")
    other = okra.draft_objective("Later", cycle=q2, owner="erin", actor="ana")
    later_kr = okra.add_key_result(
        other, "Later KR", metric=Change(baseline=0, target=1), actor="ana"
    )
    okra.propose_action(
        "Q2 bet", key_results=[later_kr], hypothesis="h", owner="erin", actor="erin", investment=1
    )
    q1 = okra.bets(cycle="Q1")
    assert (q1.cycle_id, q1.cycle_name) == (shop.q1.id, "Q1")
    assert [e.title for e in q1.entries] == ["Chatbot", "FAQ"]
    assert [e.title for e in okra.bets(cycle="Q2").entries] == ["Q2 bet"]
    assert okra.bets(cycle=year).entries == ()
    assert [(c.action_title, c.outcome, c.learning) for c in q1.learnings] == [
        ("Chatbot", Outcome.INVALIDATED, "learnt from Chatbot"),
        ("FAQ", Outcome.VALIDATED, "learnt from FAQ"),
    ]
    first = q1.learnings[0]
    assert first.key_result_titles == ("Response time",)
    assert first.key_result_ids == (shop.speed.id,)
    assert (first.from_cycle_name, first.to_cycle_name) == ("Q1", "Q2")
    assert first.to_cycle_id == q2.id
    # Without a cycle asked for, each learning comes from its own bet's cycle.
    assert [c.to_cycle_name for c in okra.bets().learnings] == ["Q2", "Q2"]
    assert okra.bets(cycle=q2).learnings == ()


def test_next_cycle_prefers_a_sibling() -> None:
    with Okra("memory://", clock=ManualClock(DAY0)) as okra:
        year = okra.plan_cycle("2026", start=DAY0, end=day(365), actor="ana")
        q1 = okra.plan_cycle("Q1", start=DAY0, end=day(90), parent=year, actor="ana")
        q2 = okra.plan_cycle("Q2", start=day(90), end=day(180), parent=year, actor="ana")
        next_year = okra.plan_cycle("2027", start=day(365), end=day(730), actor="ana")
        world = okra.world()
        assert next_cycle(world, world.cycle(q1.id)) == world.cycle(q2.id)
        # Q2 starts sooner, but a year's learnings go to the next year
        assert next_cycle(world, world.cycle(year.id)) == world.cycle(next_year.id)
        assert next_cycle(world, world.cycle(next_year.id)) is None


def test_learning_without_a_later_cycle(shop: Shop) -> None:
    _settle(shop, "Chatbot", "carl", "validated")
    (learning,) = shop.okra.bets().learnings
    assert (learning.from_cycle_name, learning.to_cycle_id, learning.to_cycle_name) == (
        "Q1",
        None,
        None,
    )


def test_ledger_as_of_before_resolution(shop: Shop) -> None:
    _settle(shop, "Chatbot", "carl", None)
    shop.okra.place_action("Chatbot", actor="carl")
    shop.at(10)
    shop.okra.resolve_action("Chatbot", outcome="validated", learning="yes", actor="carl")
    before = shop.okra.bets(as_of=day(5))
    assert [e.status for e in before.entries] == [ActionStatus.PLACED]
    assert before.learnings == ()
    assert before.owners[0].hit_rate is None
    assert shop.okra.bets().owners[0].hit_rate == 1.0


def test_ledger_to_data_is_json(shop: Shop) -> None:
    shop.okra.check_in(shop.speed, value=20, actor="bob")
    shop.bet("Chatbot", expected_effects=[ExpectedEffect(key_result_id=shop.speed.id, change=-8)])
    shop.okra.place_action("Chatbot", actor="carl")
    shop.okra.resolve_action("Chatbot", outcome="validated", learning="yes", actor="carl")
    ledger = shop.okra.bets()
    assert isinstance(ledger, BetsLedger)
    data = json.loads(json.dumps(to_data(ledger)))
    assert data["entries"][0]["status"] == "validated"
    assert data["entries"][0]["effects"][0]["expected_change"] == -8.0
    assert data["learnings"][0]["learning"] == "yes"


# --- calibration: the pure parts -----------------------------------------------------------------


def _graded(kr: KeyResult, attainment: float | None) -> KeyResult:
    grade = Grade(
        score=0.0,
        suggested=0.0,
        attainment=attainment,
        original_attainment=attainment,
        rationale="",
        graded_at=DAY0,
        graded_by="ana",
    )
    return attrs.evolve(kr, grade=grade)


def test_final_outcome(shop: Shop) -> None:
    kr = shop.okra.key_result(shop.speed)
    assert final_outcome(kr) is None
    assert final_outcome(_graded(kr, 1.0)) == 1
    assert final_outcome(_graded(kr, 1.3)) == 1
    assert final_outcome(_graded(kr, 0.99)) == 0
    assert final_outcome(_graded(kr, None)) == 0


def test_brier_score_examples() -> None:
    assert brier_score([]) is None
    assert brier_score([(0.8, 1), (0.3, 0)]) == pytest.approx(0.065)
    assert brier_score([(0.5, 1), (0.5, 0)]) == 0.25
    assert brier_score([(1.0, 0)]) == 1.0


def _forecast(p: float, o: int, kr: uuid.UUID | None = None) -> ConfidenceForecast:
    return ConfidenceForecast(
        key_result_id=kr or uuid.uuid4(),
        key_result_title="kr",
        owner="bob",
        check_in_id=uuid.uuid4(),
        effective_at=DAY0,
        probability=p,
        outcome=o,
    )


def test_calibrate_bins_and_means() -> None:
    kr = uuid.uuid4()
    forecasts = [_forecast(p, o, kr) for p, o in [(0.0, 0), (0.2, 0), (0.6, 1), (0.7, 0), (1.0, 1)]]
    result = calibrate("bob", forecasts)
    assert (result.forecasts, result.key_results) == (5, 1)
    assert result.brier == pytest.approx((0 + 0.04 + 0.16 + 0.49 + 0) / 5)
    assert result.mean_probability == pytest.approx(0.5)
    assert result.hit_frequency == pytest.approx(0.4)
    assert [(b.lower, b.upper, b.forecasts) for b in result.bins] == [
        (0.0, 0.2, 1),
        (0.2, 0.4, 1),
        (0.4, 0.6, 0),
        (0.6, 0.8, 2),
        (0.8, 1.0, 1),  # the last bin includes 1.0
    ]
    assert (result.bins[2].mean_probability, result.bins[2].hit_frequency) == (None, None)
    assert result.bins[3].mean_probability == pytest.approx(0.65)
    assert result.bins[3].hit_frequency == 0.5
    with pytest.raises(ValueError, match="at least one"):
        calibrate("bob", [])


probabilities = st.floats(min_value=0, max_value=1, allow_nan=False)


@given(st.lists(st.tuples(probabilities, st.integers(0, 1)), min_size=1))
def test_brier_is_between_0_and_1(pairs: list[tuple[float, int]]) -> None:
    score = brier_score(pairs)
    assert score is not None
    assert 0 <= score <= 1
    result = calibrate("x", [_forecast(p, o) for p, o in pairs])
    assert sum(b.forecasts for b in result.bins) == len(pairs)


@given(st.lists(st.integers(0, 1), min_size=1))
def test_perfect_forecasts_score_0_and_certain_misses_score_1(outcomes: list[int]) -> None:
    assert brier_score([(float(o), o) for o in outcomes]) == 0
    assert brier_score([(float(1 - o), o) for o in outcomes]) == 1


# --- calibration end to end ----------------------------------------------------------------------


def test_calibration_after_close(shop: Shop) -> None:
    okra = shop.okra
    okra.check_in(shop.speed, value=20, confidence=8, actor="bob")
    okra.check_in(shop.speed, value=4, confidence=9, actor="bob")  # met: p = 1
    okra.check_in(shop.nps, value=12, confidence=6, actor="dana")
    okra.check_in(shop.nps, value=13, actor="dana")  # no confidence: no forecast
    okra.check_in(shop.nps, value=14, confidence=3, actor="dana")  # not met
    assert okra.calibration().owners == ()  # nothing graded yet
    assert okra.calibration().overall is None
    shop.at(100)
    okra.close_cycle("Q1", actor="ana")
    result = okra.calibration()
    bob, dana = result.owners
    assert (bob.owner, bob.forecasts, bob.key_results) == ("bob", 2, 1)
    assert bob.brier == pytest.approx(((0.8 - 1) ** 2 + (0.9 - 1) ** 2) / 2)  # 0.025
    assert bob.mean_probability == pytest.approx(0.85)
    assert bob.hit_frequency == 1.0
    assert (dana.owner, dana.forecasts) == ("dana", 2)
    assert dana.brier == pytest.approx((0.6**2 + 0.3**2) / 2)  # 0.225
    assert dana.hit_frequency == 0.0
    assert result.overall is not None
    assert result.overall.brier == pytest.approx((0.04 + 0.01 + 0.36 + 0.09) / 4)
    assert [(f.owner, f.probability, f.outcome) for f in result.forecasts] == [
        ("bob", 0.8, 1),
        ("bob", 0.9, 1),
        ("dana", 0.6, 0),
        ("dana", 0.3, 0),
    ]
    only = okra.calibration(owner="dana")
    assert [o.owner for o in only.owners] == ["dana"]
    assert only.overall is not None
    assert only.overall.owner == "dana"
    assert okra.calibration(cycle="Q1").cycle_name == "Q1"
    # before the close there was nothing to calibrate against
    assert okra.calibration(as_of=day(50)).forecasts == ()
    assert json.dumps(to_data(result))


def test_undefined_attainment_at_close_counts_as_missed(shop: Shop) -> None:
    okra = shop.okra
    objective = okra.draft_objective("Measure", cycle=shop.q1, owner="fay", actor="ana")
    kr = okra.add_key_result(
        objective, "Churn", metric=Change(baseline=None, target=2), actor="ana"
    )
    okra.activate_objective(objective, actor="ana")
    okra.check_in(kr, value=3, confidence=7, actor="fay")
    okra.close_cycle("Q1", actor="ana")
    (fay,) = okra.calibration(owner="fay").owners
    assert (fay.forecasts, fay.hit_frequency) == (1, 0.0)
    assert fay.brier == pytest.approx(0.49)


def test_calibration_of_another_cycle_is_empty(shop: Shop) -> None:
    shop.okra.check_in(shop.speed, value=4, confidence=9, actor="bob")
    shop.okra.close_cycle("Q1", actor="ana")
    q2 = shop.okra.plan_cycle("Q2", start=day(100), end=day(200), actor="ana")
    empty = shop.okra.calibration(cycle=q2)
    assert (empty.owners, empty.overall, empty.forecasts) == ((), None, ())
    assert len(shop.okra.calibration().forecasts) == 1
