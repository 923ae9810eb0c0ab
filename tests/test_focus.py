from __future__ import annotations

import itertools
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import Change, EntityKind, KeyResult, ManualClock, Objective, Okra, PaceBands
from okra_core.codec._data import to_data
from okra_core.read._focus import FocusItem, FocusKind, FocusList, rank

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


class Team:
    """A 100-day active cycle: the expected pace on day ``n`` is ``n / 100``."""

    def __init__(self, okra: Okra, clock: ManualClock) -> None:
        self.okra = okra
        self.clock = clock
        self.cycle = okra.plan_cycle("Q1", start=DAY0, end=day(100), actor="ana")
        okra.start_cycle(self.cycle, actor="ana")

    def objective(
        self, title: str, owner: str = "support-team", *, active: bool = True
    ) -> Objective:
        objective = self.okra.draft_objective(title, cycle=self.cycle, owner=owner, actor="ana")
        if active:
            self.okra.add_key_result(
                objective, f"{title} KR", metric=Change(baseline=0, target=100), actor="ana"
            )
            self.okra.activate_objective(objective, actor="ana")
        return self.okra.objective(objective)

    def key_result(
        self, title: str, *, owner: str = "bob", objective: str = "Support"
    ) -> KeyResult:
        """A key result (0 -> 100) under ``objective``, drafted and activated if new."""
        existing = [o for o in self.okra.objectives() if o.title == objective]
        parent = existing[0] if existing else self.objective(objective, active=False)
        kr = self.okra.add_key_result(
            parent, title, metric=Change(baseline=0, target=100), owner=owner, actor="ana"
        )
        if not existing:
            self.okra.activate_objective(parent, actor="ana")
        return kr

    def at(self, n: float) -> None:
        self.clock.set(day(n))

    def focus(self, **kwargs: object) -> FocusList:
        return self.okra.focus(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def team() -> Iterator[Team]:
    clock = ManualClock(DAY0)
    with Okra("memory://", clock=clock) as okra:
        yield Team(okra, clock)


def kinds(result: FocusList) -> list[tuple[FocusKind, str]]:
    return [(item.kind, item.title) for item in result.items]


# --- behind pace ----------------------------------------------------------------------


def test_pace_bands_with_exact_boundaries(team: Team) -> None:
    for title, value in [("on", 50), ("edge-on", 45), ("risk", 40), ("edge-risk", 30), ("off", 20)]:
        kr = team.key_result(title)
        team.okra.check_in(kr, value=value, actor="bob")
    team.at(50)  # e = 0.5: on track needs p >= 0.45, at risk p >= 0.30
    for kr in team.okra.key_results():
        team.okra.check_in(kr, value=team.okra.key_result(kr).current_value or 0, actor="bob")
    result = team.focus()
    pace = [(i.kind, i.title, i.attainment, i.expected_pace) for i in result.items]
    assert pace == [
        (FocusKind.OFF_TRACK, "off", 0.2, 0.5),
        (FocusKind.AT_RISK, "edge-risk", 0.3, 0.5),
        (FocusKind.AT_RISK, "risk", 0.4, 0.5),
    ]
    off = result.items[0]
    assert off.severity == pytest.approx(0.3)
    assert off.reason == (
        "off track: 20% attained against 50% of the cycle gone (on track needs 45%, at risk 30%)"
    )
    assert off.entity_kind is EntityKind.KEY_RESULT
    assert off.objective_title == "Support"
    assert off.cycle_name == "Q1"
    assert off.owner == "bob"
    # larger shortfall first within at risk: 0.5 - 0.3 = 0.2 before 0.5 - 0.4 = 0.1
    assert [i.rank for i in result.items] == [1, 2, 3]


def test_pace_uses_the_playbook_bands(team: Team) -> None:
    kr = team.key_result("kr")
    team.at(50)
    team.okra.check_in(kr, value=40, actor="bob")
    assert kinds(team.focus()) == [(FocusKind.AT_RISK, "kr")]
    team.okra.revise_playbook(
        pace_bands=PaceBands(on_track=0.8, at_risk=0.5),
        reason="looser",
        actor="ana",
    )
    assert kinds(team.focus()) == []  # 0.4 >= 0.8 * 0.5


def test_attainment_undefined_is_not_behind_pace(team: Team) -> None:
    parent = team.objective("Support")
    kr = team.okra.add_key_result(
        parent, "unmeasured", metric=Change(baseline=None, target=10), owner="bob", actor="ana"
    )
    team.okra.check_in(kr, value=3, actor="bob")
    team.at(60)
    team.okra.check_in(kr, value=3, actor="bob")
    assert [i.kind for i in team.focus().items if i.title == "unmeasured"] == []


def test_cycle_not_started_has_nothing_behind_pace_nor_stale() -> None:
    clock = ManualClock(DAY0)
    with Okra("memory://", clock=clock) as okra:
        later = okra.plan_cycle("Q2", start=day(30), end=day(130), actor="ana")
        okra.start_cycle(later, actor="ana")
        objective = okra.draft_objective("Grow", cycle=later, owner="ana", actor="ana")
        kr = okra.add_key_result(
            objective, "Signups", metric=Change(baseline=0, target=9), actor="ana"
        )
        okra.activate_objective(objective, actor="ana")
        okra.check_in(kr, value=0, actor="ana")
        clock.set(day(20))  # the cycle starts on day 30: e = 0
        assert okra.focus().items == ()
        clock.set(day(40))  # started 10 days ago; the check-in was before the start
        (off, stale) = okra.focus().items
        assert off.kind is FocusKind.OFF_TRACK
        assert off.expected_pace == pytest.approx(0.1)
        assert stale.kind is FocusKind.STALE
        assert stale.days_overdue == pytest.approx(3)
        assert stale.last_activity_at == DAY0
        assert stale.reason == (
            "no check-in in 10 days since the cycle started on 2026-01-31; "
            "due every 7 days: 3 days overdue"
        )


# --- stale -----------------------------------------------------------------------------


def test_stale_without_check_ins_counts_from_cycle_start(team: Team) -> None:
    team.key_result("kr")  # created on day 0, the cycle's start
    team.at(7)
    assert team.focus().items == ()  # exactly the cadence: not yet stale
    team.at(10)
    (item,) = team.focus().items
    assert item.kind is FocusKind.STALE
    assert item.days_since == 10
    assert item.days_overdue == 3
    assert item.severity == 3
    assert item.last_activity_at is None
    assert item.reason == (
        "no check-in in 10 days since the cycle started on 2026-01-01; "
        "due every 7 days: 3 days overdue"
    )


def test_stale_without_check_ins_counts_from_key_result_creation(team: Team) -> None:
    team.objective("Support")
    team.at(20)
    team.key_result("late")
    team.at(27)
    assert [i for i in team.focus().items if i.title == "late"] == []
    team.at(27.5)
    (item,) = [i for i in team.focus().items if i.title == "late"]
    assert item.days_overdue == pytest.approx(0.5)
    assert "less than a day overdue" in item.reason


def test_stale_counts_from_the_latest_recorded_check_in(team: Team) -> None:
    kr = team.key_result("kr")
    team.at(2)
    team.okra.check_in(kr, value=10, actor="bob")
    team.at(4)
    # recorded on day 4 but effective on day 1: recording time is what counts
    team.okra.check_in(kr, value=5, effective_at=day(1), actor="bob")
    team.at(12)
    (item,) = [i for i in team.focus().items if i.kind is FocusKind.STALE]
    assert item.last_activity_at == day(4)
    assert item.days_since == 8
    assert item.days_overdue == 1
    assert item.reason == (
        "no check-in for 8 days (last recorded 2026-01-05); due every 7 days: 1 day overdue"
    )


def test_stale_follows_the_playbook_cadence(team: Team) -> None:
    team.key_result("kr")
    team.at(10)
    assert [i.kind for i in team.focus().items] == [FocusKind.STALE]
    team.okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly", actor="ana")
    assert team.focus().items == ()
    assert team.focus().check_in_cadence_days == 14


def test_draft_objective_key_results_are_never_stale(team: Team) -> None:
    draft = team.objective("Someday", active=False)
    team.okra.add_key_result(draft, "draft kr", metric=Change(baseline=0, target=1), actor="ana")
    team.at(30)
    assert team.focus().items == ()


# --- falling confidence --------------------------------------------------------------------


def test_falling_confidence_compares_the_last_two_stated(team: Team) -> None:
    kr = team.key_result("kr")
    team.okra.check_in(kr, value=0, confidence=7, actor="bob")
    team.okra.check_in(kr, value=0, confidence=8, actor="bob")
    assert [i.kind for i in team.focus().items] == []  # rising
    team.okra.check_in(kr, value=0, confidence=5, actor="bob")
    team.okra.check_in(kr, value=0, actor="bob")  # no confidence: ignored
    (item,) = team.focus().items
    assert item.kind is FocusKind.FALLING_CONFIDENCE
    assert (item.confidence_from, item.confidence_to) == (0.8, 0.5)
    assert item.severity == pytest.approx(0.3)
    assert (
        item.reason == "confidence fell from 80% (8/10) to 50% (5/10) at the check-in of 2026-01-01"
    )


def test_falling_confidence_orders_by_effective_time(team: Team) -> None:
    kr = team.key_result("kr")
    team.at(5)
    team.okra.check_in(kr, value=5, confidence=4, actor="bob")
    team.okra.check_in(kr, value=5, confidence=8, effective_at=day(3), actor="bob")
    # in effective order: 0.8 on day 3, then 0.4 on day 5
    (item,) = team.focus().items
    assert (item.confidence_from, item.confidence_to) == (0.8, 0.4)


def test_no_confidence_or_a_single_one_is_not_falling(team: Team) -> None:
    a = team.key_result("a")
    b = team.key_result("b")
    team.okra.check_in(a, value=0, actor="bob")
    team.okra.check_in(a, value=0, actor="bob")
    team.okra.check_in(b, value=0, confidence=2, actor="bob")
    assert team.focus().items == ()


def test_larger_drops_rank_first(team: Team) -> None:
    small = team.key_result("small drop")
    big = team.key_result("big drop")
    for kr, (was, now) in [(small, (7, 6)), (big, (9, 4))]:
        team.okra.check_in(kr, value=0, confidence=was, actor="bob")
        team.okra.check_in(kr, value=0, confidence=now, actor="bob")
    assert kinds(team.focus()) == [
        (FocusKind.FALLING_CONFIDENCE, "big drop"),
        (FocusKind.FALLING_CONFIDENCE, "small drop"),
    ]


# --- idle actions -----------------------------------------------------------------------


def test_idle_action_uses_its_latest_activity(team: Team) -> None:
    kr = team.key_result("kr")
    team.okra.check_in(kr, value=0, actor="bob")
    placed = team.okra.propose_action(
        "Chatbot", key_results=[kr], hypothesis="h", owner="carl", actor="carl", investment=3
    )
    team.okra.place_action(placed, actor="carl")
    team.okra.propose_action(  # proposed, never placed: never idle
        "Someday", key_results=[kr], hypothesis="h", owner="carl", actor="carl", investment=1
    )
    team.at(5)
    team.okra.add_task(placed, "write the intents", actor="carl")
    team.at(12)
    assert [i for i in team.focus().items if i.kind is FocusKind.IDLE_ACTION] == []
    team.at(13)
    (item,) = [i for i in team.focus().items if i.kind is FocusKind.IDLE_ACTION]
    assert item.title == "Chatbot"
    assert item.entity_kind is EntityKind.ACTION
    assert item.owner == "carl"
    assert item.objective_title == "Support"
    assert item.last_activity_at == day(5)
    assert (item.days_since, item.days_overdue) == (8, 1)
    assert item.reason == (
        "placed bet with no activity for 8 days (last on 2026-01-06); "
        "expected every 7 days: 1 day overdue"
    )
    team.okra.resolve_action(placed, outcome="inconclusive", learning="unclear", actor="carl")
    assert [i for i in team.focus().items if i.kind is FocusKind.IDLE_ACTION] == []


# --- overload ------------------------------------------------------------------------------


def test_overload_counts_draft_and_active_objectives(team: Team) -> None:
    team.okra.revise_playbook(max_objectives_per_owner=2, reason="focus", actor="ana")
    team.objective("One", owner="dana")
    team.objective("Two", owner="dana", active=False)
    gone = team.objective("Three", owner="dana", active=False)
    team.okra.abandon_objective(gone, reason="no", actor="ana")
    assert [i for i in team.focus().items if i.kind is FocusKind.OVERLOAD] == []
    team.objective("Four", owner="dana", active=False)
    later = team.okra.plan_cycle("Q2", start=day(100), end=day(200), actor="ana")
    team.okra.draft_objective("Elsewhere", cycle=later, owner="dana", actor="ana")  # not active
    (item,) = [i for i in team.focus().items if i.kind is FocusKind.OVERLOAD]
    assert item.owner == item.title == "dana"
    assert item.entity_id is None
    assert (item.objective_count, item.objective_limit, item.severity) == (3, 2, 1.0)
    assert item.reason == "dana owns 3 draft or active objectives; the playbook allows 2 per owner"


# --- scope, owners and ranking ---------------------------------------------------------------


def test_owner_filter_is_a_team_view(team: Team) -> None:
    kr = team.key_result("bob's kr", owner="bob")  # under support-team's objective
    other = team.objective("Ops", owner="ops-team")
    team.okra.add_key_result(other, "ops kr", metric=Change(baseline=0, target=1), actor="ana")
    action = team.okra.propose_action(
        "Bot", key_results=[kr], hypothesis="h", owner="carl", actor="carl", investment=1
    )
    team.okra.place_action(action, actor="carl")
    team.at(10)
    everyone = team.focus()
    assert {i.title for i in everyone.items} == {"bob's kr", "Ops KR", "ops kr", "Bot"}
    team_view = team.focus(owner="support-team")
    assert [(i.title, i.owner) for i in team_view.items] == [("bob's kr", "bob"), ("Bot", "carl")]
    assert [(g.owner, [i.title for i in g.items]) for g in team_view.by_owner()] == [
        ("bob", ["bob's kr"]),
        ("carl", ["Bot"]),
    ]
    assert {i.title for i in team.focus(owner="bob").items} == {"bob's kr"}
    assert {i.title for i in team.focus(owner="carl").items} == {"Bot"}
    assert team.focus(owner="zed").items == ()
    assert team.focus(owner="zed").owner == "zed"


def test_scope_is_active_cycles_or_the_one_asked_for(team: Team) -> None:
    team.key_result("kr")
    planning = team.okra.plan_cycle("Q2", start=day(-10), end=day(90), actor="ana")
    objective = team.okra.draft_objective("Later", cycle=planning, owner="eve", actor="ana")
    team.okra.add_key_result(
        objective, "later kr", metric=Change(baseline=0, target=1), actor="ana"
    )
    team.okra.revise_playbook(max_objectives_per_owner=1, reason="x", actor="ana")
    team.okra.draft_objective("Later 2", cycle=planning, owner="eve", actor="ana")
    team.at(10)
    assert [i.title for i in team.focus().items] == ["kr"]
    assert team.focus().cycle_names == ("Q1",)
    only = team.focus(cycle=planning)
    assert only.cycle_names == ("Q2",)
    assert [(i.kind, i.title) for i in only.items] == [(FocusKind.OVERLOAD, "eve")]


def test_closed_objectives_need_no_attention(team: Team) -> None:
    team.key_result("kr")
    team.okra.close_objective("Support", actor="ana")
    team.at(30)
    assert team.focus().items == ()


def test_ranking_across_kinds(team: Team) -> None:
    team.okra.revise_playbook(max_objectives_per_owner=1, reason="x", actor="ana")
    off = team.key_result("off")
    risk = team.key_result("risk")
    falling = team.key_result("falling")
    team.key_result("stale")
    action = team.okra.propose_action(
        "idle", key_results=[off], hypothesis="h", owner="carl", actor="carl", investment=1
    )
    team.okra.place_action(action, actor="carl")
    team.okra.draft_objective("Second", cycle=team.cycle, owner="support-team", actor="ana")
    team.at(10)
    team.key_result("a stale")
    team.at(50)
    team.okra.check_in(off, value=10, actor="bob")
    team.okra.check_in(risk, value=40, actor="bob")
    team.okra.check_in(falling, value=50, confidence=8, actor="bob")
    team.okra.check_in(falling, value=50, confidence=6, actor="bob")
    result = team.focus()
    assert kinds(result) == [
        (FocusKind.OFF_TRACK, "off"),
        (FocusKind.FALLING_CONFIDENCE, "falling"),
        (FocusKind.AT_RISK, "risk"),
        (FocusKind.OVERLOAD, "support-team"),
        (FocusKind.STALE, "stale"),  # 43 days overdue
        (FocusKind.STALE, "a stale"),  # 33 days overdue: magnitude before title
        (FocusKind.IDLE_ACTION, "idle"),
    ]
    assert [i.rank for i in result.items] == list(range(1, 8))


def test_focus_as_of_mid_quarter_differs_from_now(team: Team) -> None:
    kr = team.key_result("kr")
    team.okra.check_in(kr, value=30, confidence=8, actor="bob")
    team.at(30)
    team.okra.check_in(kr, value=32, confidence=5, actor="bob")
    team.at(60)
    team.okra.check_in(kr, value=70, confidence=9, actor="bob")
    now = team.focus()
    assert kinds(now) == []  # 0.70 >= 0.9 * 0.6, confidence rose, checked in today
    then = team.focus(as_of=day(45))
    assert then.at == day(45)
    assert [(i.kind, i.severity) for i in then.items] == [
        (FocusKind.FALLING_CONFIDENCE, pytest.approx(0.3)),
        (FocusKind.AT_RISK, pytest.approx(0.45 - 0.32)),
        (FocusKind.STALE, 8.0),
    ]
    assert then.items[1].attainment == pytest.approx(0.32)
    assert then.items[1].expected_pace == pytest.approx(0.45)


def test_focus_to_data_is_json(team: Team) -> None:
    kr = team.key_result("kr")
    team.okra.check_in(kr, value=1, confidence=8, actor="bob")
    team.okra.check_in(kr, value=1, confidence=2, actor="bob")
    team.at(40)
    result = team.focus()
    data = to_data(result)
    text = json.dumps(data)
    assert data["items"][0]["kind"] == "off_track"
    assert data["items"][0]["entity_kind"] == "key_result"
    assert "confidence fell" in text
    assert json.dumps(to_data(result.by_owner()))


# --- properties of the ranking -----------------------------------------------------------------


def _item(kind: FocusKind, severity: float, title: str, owner: str) -> FocusItem:
    return FocusItem(
        kind=kind,
        severity=severity,
        entity_kind=EntityKind.KEY_RESULT,
        entity_id=uuid.uuid4(),
        title=title,
        owner=owner,
        reason="r",
    )


items_strategy = st.lists(
    st.builds(
        _item,
        st.sampled_from(FocusKind),
        st.floats(min_value=0, max_value=100, allow_nan=False),
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["x", "y"]),
    ),
    max_size=12,
)


@given(items_strategy, st.randoms())
def test_ranking_is_a_total_order_independent_of_input_order(
    items: list[FocusItem], rnd: random.Random
) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    ranked = rank(items)
    assert rank(shuffled) == ranked
    assert [i.rank for i in ranked] == list(range(1, len(items) + 1))
    for first, second in itertools.pairwise(ranked):
        assert first.kind.priority <= second.kind.priority
        if first.kind is second.kind:
            assert first.severity >= second.severity
        assert first.sort_key < second.sort_key  # strictly: no ties


def test_kind_priority_is_the_documented_order() -> None:
    assert [k.value for k in sorted(FocusKind, key=lambda k: k.priority)] == [
        "off_track",
        "falling_confidence",
        "at_risk",
        "overload",
        "stale",
        "idle_action",
    ]


def test_by_owner_and_of_kind() -> None:
    a = _item(FocusKind.STALE, 1, "a", "x")
    b = _item(FocusKind.OFF_TRACK, 1, "b", "y")
    c = _item(FocusKind.STALE, 2, "c", "x")
    result = FocusList(
        at=DAY0,
        owner=None,
        cycle_ids=(),
        cycle_names=(),
        check_in_cadence_days=7,
        max_objectives_per_owner=5,
        items=rank([a, b, c]),
    )
    assert [(g.owner, [i.title for i in g.items]) for g in result.by_owner()] == [
        ("y", ["b"]),
        ("x", ["c", "a"]),
    ]
    assert [i.title for i in result.of_kind("stale")] == ["c", "a"]


def test_focus_on_every_backend(okra: Okra, clock: ManualClock, quarter: object) -> None:
    # the shared quarter: first response time, created 2026-01-05 09:00, no check-ins
    clock.advance(timedelta(days=9))
    (item,) = okra.focus(owner="ana").items
    assert item.kind is FocusKind.STALE
    assert item.title == "First response time"
    assert item.days_overdue == 2
    assert "since the key result was defined on 2026-01-05" in item.reason
    assert okra.focus(owner="ana", as_of=clock.now() - timedelta(days=3)).items == ()
