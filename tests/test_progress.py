"""Progress: attainment, pace status, forecast and rollups, with exact numbers.

The quarter used throughout runs from 2026-01-01 00:00 to 2026-04-01 00:00 UTC
(90 days), so on 2026-02-15 00:00 the expected pace is exactly 0.5.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import (
    Change,
    Cycle,
    KeyResult,
    ManualClock,
    Milestone,
    Objective,
    ObjectiveStatus,
    Okra,
    PaceBands,
    RollupPolicy,
    StayAbove,
)
from okra_core.codec._data import to_data
from okra_core.read._progress import PaceStatus, combine, pace_status, weakest

MID = datetime(2026, 2, 15, tzinfo=UTC)  # e = 45 / 90 = 0.5
JAN = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[Okra]:
    # Things are created shortly before MID, one second apart (so that creation
    # order is unambiguous); the first check-in moves the clock to MID.
    with Okra("memory://", clock=ManualClock(MID - timedelta(hours=1))) as okra:
        yield okra


def clock_of(okra: Okra) -> ManualClock:
    assert isinstance(okra.clock, ManualClock)
    return okra.clock


def tick(okra: Okra) -> None:
    clock_of(okra).advance(timedelta(seconds=1))


def quarter_of(okra: Okra) -> Cycle:
    cycle = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    tick(okra)
    return okra.start_cycle(cycle, actor="ana")


def objective_with(
    okra: Okra,
    cycle: Cycle,
    *weights: float,
    title: str = "Grow",
    owner: str = "ana",
    rollup: str = "mean",
) -> tuple[Objective, list[KeyResult]]:
    """An active objective with one ``0 -> 100`` key result per weight (p = value / 100)."""
    objective = okra.draft_objective(title, cycle=cycle, owner=owner, actor=owner, rollup=rollup)
    krs = []
    for i, w in enumerate(weights, 1):
        tick(okra)
        metric = Change(baseline=0, target=100)
        krs.append(
            okra.add_key_result(objective, f"{title} KR{i}", metric=metric, weight=w, actor=owner)
        )
    tick(okra)
    return okra.activate_objective(objective, actor=owner), krs


def check(okra: Okra, kr: KeyResult, value: float, **kwargs: object) -> None:
    """Check in at MID (moving the clock there if it is earlier)."""
    clock = clock_of(okra)
    if clock.now() < MID:
        clock.set(MID)
    okra.check_in(kr, value=value, actor="ana", **kwargs)  # type: ignore[arg-type]


# --- key results ------------------------------------------------------------------------


def test_key_result_progress_at_mid_quarter(app: Okra) -> None:
    cycle = quarter_of(app)
    objective = app.draft_objective("Delight", cycle=cycle, owner="ana", actor="ana")
    kr = app.add_key_result(
        objective, "First response", metric=Change(baseline=24, target=4), unit="h", actor="ana"
    )
    app.activate_objective(objective, actor="ana")
    check(app, kr, 14, confidence=7)
    progress = app.key_result_progress(kr)
    assert progress.attainment == 0.5
    assert progress.clamped == 0.5
    assert progress.original_attainment == 0.5
    assert not progress.goalposts_moved
    assert progress.expected_pace == 0.5
    assert progress.pace_status is PaceStatus.ON_TRACK  # 0.5 >= 0.9 * 0.5
    assert (progress.value, progress.value_at, progress.unit) == (14, MID, "h")
    assert progress.metric == "24 h -> 4 h"
    assert progress.check_in_count == 1
    assert progress.confidence is not None
    assert progress.confidence.probability == 0.7
    assert (progress.objective_title, progress.owner, progress.cycle_id) == (
        "Delight",
        "ana",
        cycle.id,
    )


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (100, PaceStatus.ON_TRACK),
        (45, PaceStatus.ON_TRACK),  # exactly 0.9 * 0.5
        (44.9, PaceStatus.AT_RISK),
        (30, PaceStatus.AT_RISK),  # exactly 0.6 * 0.5
        (29.9, PaceStatus.OFF_TRACK),
        (-10, PaceStatus.OFF_TRACK),
    ],
)
def test_pace_bands(app: Okra, value: float, status: PaceStatus) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    check(app, kr, value)
    assert app.key_result_progress(kr).pace_status is status


def test_pace_bands_come_from_the_playbook(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    check(app, kr, 20)  # p = 0.2, e = 0.5
    assert app.key_result_progress(kr).pace_status is PaceStatus.OFF_TRACK
    app.revise_playbook(
        pace_bands=PaceBands(on_track=0.5, at_risk=0.4), reason="looser", actor="ana"
    )
    assert app.key_result_progress(kr).pace_status is PaceStatus.AT_RISK  # 0.2 >= 0.4 * 0.5
    app.revise_playbook(
        pace_bands=PaceBands(on_track=0.4, at_risk=0.1), reason="looser", actor="ana"
    )
    assert app.key_result_progress(kr).pace_status is PaceStatus.ON_TRACK  # 0.2 >= 0.4 * 0.5


def test_pace_status_uses_clamped_attainment() -> None:
    bands = PaceBands()
    assert pace_status(None, 0.5, bands) is PaceStatus.UNKNOWN
    assert pace_status(0.0, 0.0, bands) is PaceStatus.ON_TRACK  # cycle not started
    assert pace_status(0.89, 1.0, bands) is PaceStatus.AT_RISK
    assert pace_status(0.59, 1.0, bands) is PaceStatus.OFF_TRACK


def test_attainment_is_kept_uncapped_and_clamped(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    check(app, kr, 120)
    progress = app.key_result_progress(kr)
    assert (progress.attainment, progress.clamped) == (1.2, 1.0)
    check(app, kr, -30)
    progress = app.key_result_progress(kr)
    assert (progress.attainment, progress.clamped) == (-0.3, 0.0)
    assert progress.pace_status is PaceStatus.OFF_TRACK


def test_no_check_ins_is_undefined_not_zero(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    progress = app.key_result_progress(kr)
    assert progress.attainment is None
    assert progress.clamped is None
    assert progress.attainment_reason == "no check-ins yet"
    assert progress.pace_status is PaceStatus.UNKNOWN
    assert progress.value is None
    assert progress.value_at is None
    assert progress.confidence is None
    assert progress.forecast.value is None
    assert progress.forecast.reason == "needs 2 check-ins at distinct times, has 0"


def test_baseline_to_be_measured_is_undefined(app: Okra) -> None:
    cycle = quarter_of(app)
    objective = app.draft_objective("Learn", cycle=cycle, owner="ana", actor="ana")
    kr = app.add_key_result(objective, "NPS", metric=Change(baseline=None, target=50), actor="ana")
    app.activate_objective(objective, actor="ana")
    check(app, kr, 10, effective_at=JAN)
    check(app, kr, 20)
    progress = app.key_result_progress(kr)
    assert progress.attainment is None
    assert progress.attainment_reason == "the baseline is still to be measured"
    assert progress.pace_status is PaceStatus.UNKNOWN
    assert progress.value == 20
    # The trend exists, but its attainment does not.
    assert progress.forecast.value == pytest.approx(30.0)  # +10 over 45 days, 45 days to go
    assert progress.forecast.attainment is None
    app.measure_baseline(kr, baseline=0, actor="ana")
    progress = app.key_result_progress(kr)
    assert progress.attainment == 0.4
    assert progress.forecast.attainment == pytest.approx(0.6)


def test_cycle_not_started_has_pace_zero(app: Okra) -> None:
    cycle = app.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    _, (kr,) = objective_with(app, cycle, 1)
    check(app, kr, 0)
    progress = app.key_result_progress(kr)
    assert progress.expected_pace == 0.0
    assert progress.attainment == 0.0
    assert progress.pace_status is PaceStatus.ON_TRACK


def test_after_the_cycle_ends_pace_is_one(app: Okra) -> None:
    cycle = app.plan_cycle("2025-Q4", start=date(2025, 10, 1), end=date(2025, 12, 31), actor="a")
    app.start_cycle(cycle, actor="ana")
    _, (kr,) = objective_with(app, cycle, 1)
    check(app, kr, 89)
    progress = app.key_result_progress(kr)
    assert progress.expected_pace == 1.0
    assert progress.pace_status is PaceStatus.AT_RISK  # 0.89 < 0.9


def test_original_attainment_after_a_retarget(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    app.retarget(kr, target=50, reason="too ambitious", actor="ana")
    check(app, kr, 40)
    progress = app.key_result_progress(kr)
    assert progress.attainment == 0.8
    assert progress.original_attainment == 0.4
    assert progress.goalposts_moved
    assert progress.metric == "0 -> 50"


# --- forecast ---------------------------------------------------------------------------


def test_forecast_two_check_ins(app: Okra) -> None:
    cycle = quarter_of(app)
    objective = app.draft_objective("Delight", cycle=cycle, owner="ana", actor="ana")
    kr = app.add_key_result(
        objective, "First response", metric=Change(baseline=24, target=4), unit="h", actor="ana"
    )
    app.activate_objective(objective, actor="ana")
    check(app, kr, 24, effective_at=JAN)
    check(app, kr, 18, effective_at=datetime(2026, 1, 31, tzinfo=UTC))  # -0.2 h per day
    forecast = app.key_result_progress(kr).forecast
    assert forecast.at == cycle.ends_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert forecast.based_on == 2
    assert forecast.slope_per_day == pytest.approx(-0.2)
    assert forecast.value == pytest.approx(6.0)  # 24 - 0.2 * 90
    assert forecast.attainment == pytest.approx(0.9)  # (6 - 24) / (4 - 24)
    assert "least-squares trend of 2 check-ins" in forecast.reason


def test_forecast_is_a_least_squares_line(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    for day, value in [(0, 0), (30, 40), (45, 35)]:
        check(app, kr, value, effective_at=JAN + timedelta(days=day))
    # x = 0, 30, 45 (mean 25); y = 0, 40, 35 (mean 25)
    # slope = (-25 * -25 + 5 * 15 + 20 * 10) / (625 + 25 + 400) = 900 / 1050
    forecast = app.key_result_progress(kr).forecast
    slope = 900 / 1050
    assert forecast.slope_per_day == pytest.approx(slope)
    assert forecast.value == pytest.approx(25 + slope * (90 - 25))
    assert forecast.attainment == pytest.approx((25 + slope * 65) / 100)  # uncapped
    assert forecast.based_on == 3


def test_forecast_needs_distinct_times(app: Okra) -> None:
    _, (kr,) = objective_with(app, quarter_of(app), 1)
    check(app, kr, 10)
    assert app.key_result_progress(kr).forecast.reason == (
        "needs 2 check-ins at distinct times, has 1"
    )
    check(app, kr, 20)  # same effective time
    forecast = app.key_result_progress(kr).forecast
    assert (forecast.value, forecast.attainment, forecast.slope_per_day) == (None, None, None)
    assert forecast.based_on == 2
    assert "all are at the same time" in forecast.reason


def test_milestones_have_no_forecast_and_guardrails_apply_their_rule(app: Okra) -> None:
    cycle = quarter_of(app)
    objective = app.draft_objective("Ship", cycle=cycle, owner="ana", actor="ana")
    launch = app.add_key_result(objective, "Launch", metric=Milestone(), actor="ana")
    uptime = app.add_key_result(objective, "Uptime", metric=StayAbove(threshold=99), actor="ana")
    app.activate_objective(objective, actor="ana")
    check(app, launch, 0, effective_at=JAN)
    check(app, launch, 1)
    check(app, uptime, 99.9, effective_at=JAN)
    check(app, uptime, 99.6)  # falling 0.3 in 45 days: 99.3 at the end, still above 99
    launch_forecast = app.key_result_progress(launch).forecast
    assert launch_forecast.value is None
    assert "milestone" in launch_forecast.reason
    uptime_forecast = app.key_result_progress(uptime).forecast
    assert uptime_forecast.value == pytest.approx(99.3)
    assert uptime_forecast.attainment == 1.0


# --- objectives -------------------------------------------------------------------------


def test_weighted_mean(app: Okra) -> None:
    objective, (a, b) = objective_with(app, quarter_of(app), 1, 3)
    check(app, a, 50)
    check(app, b, 120)  # clamped to 1.0 in the rollup
    progress = app.objective_progress(objective)
    assert progress.progress == pytest.approx((1 * 0.5 + 3 * 1.0) / 4)  # 0.875
    assert (progress.measured, progress.total) == (2, 2)
    assert progress.rollup is RollupPolicy.MEAN
    assert [c.value for c in progress.contributions] == [0.5, 1.0]
    assert [c.weight for c in progress.contributions] == [1.0, 3.0]
    assert [kr.key_result_id for kr in progress.key_results] == [a.id, b.id]


def test_min_policy(app: Okra) -> None:
    objective, (a, b, c) = objective_with(app, quarter_of(app), 1, 3, 1, rollup="min")
    check(app, a, 50)
    check(app, b, 90)
    progress = app.objective_progress(objective)
    assert progress.progress == 0.5  # the weakest defined; c has no check-in
    assert (progress.measured, progress.total) == (2, 3)
    check(app, c, -20)
    assert app.objective_progress(objective).progress == 0.0  # clamped


def test_sum_policy_is_capped_at_one(app: Okra) -> None:
    objective, (a, b) = objective_with(app, quarter_of(app), 0.25, 0.5, rollup="sum")
    check(app, a, 50)
    check(app, b, 80)
    assert app.objective_progress(objective).progress == pytest.approx(0.25 * 0.5 + 0.5 * 0.8)
    check(app, a, 100)
    check(app, b, 100)
    assert app.objective_progress(objective).progress == pytest.approx(0.75)
    app.reweight(a, weight=1, actor="ana")
    assert app.objective_progress(objective).progress == 1.0  # 1.5 capped


def test_undefined_key_results_are_left_out(app: Okra) -> None:
    objective, (a, _) = objective_with(app, quarter_of(app), 1, 1)
    progress = app.objective_progress(objective)
    assert progress.progress is None
    assert (progress.measured, progress.total) == (0, 2)
    assert progress.pace_status is PaceStatus.UNKNOWN
    check(app, a, 30)
    progress = app.objective_progress(objective)
    assert progress.progress == 0.3  # not 0.15: the undefined one does not count as 0
    assert (progress.measured, progress.total) == (1, 2)
    assert [c.counted for c in progress.contributions] == [True, False]


def test_objective_without_key_results(app: Okra) -> None:
    cycle = quarter_of(app)
    draft = app.draft_objective("Idea", cycle=cycle, owner="ana", actor="ana")
    progress = app.objective_progress(draft)
    assert (progress.progress, progress.measured, progress.total) == (None, 0, 0)
    assert progress.status is ObjectiveStatus.DRAFT
    assert progress.pace_status is PaceStatus.UNKNOWN


def test_objective_status_is_the_weakest_known_key_result_status(app: Okra) -> None:
    objective, (a, b, _) = objective_with(app, quarter_of(app), 1, 1, 1)
    check(app, a, 80)  # on track
    assert app.objective_progress(objective).pace_status is PaceStatus.ON_TRACK  # unknown ignored
    check(app, b, 40)  # at risk (0.4 < 0.45, >= 0.3)
    assert app.objective_progress(objective).pace_status is PaceStatus.AT_RISK
    check(app, b, 10)  # off track
    assert app.objective_progress(objective).pace_status is PaceStatus.OFF_TRACK


def test_weakest() -> None:
    assert weakest([]) is PaceStatus.UNKNOWN
    assert weakest([PaceStatus.UNKNOWN]) is PaceStatus.UNKNOWN
    assert weakest([PaceStatus.UNKNOWN, PaceStatus.AT_RISK]) is PaceStatus.AT_RISK
    assert weakest([PaceStatus.ON_TRACK, PaceStatus.OFF_TRACK]) is PaceStatus.OFF_TRACK


def test_contributes_counts_and_supports_is_only_shown(app: Okra) -> None:
    cycle = quarter_of(app)
    parent, (kr,) = objective_with(app, cycle, 1, title="Company")
    child, (child_kr,) = objective_with(app, cycle, 1, title="Team", owner="sam")
    helper, (helper_kr,) = objective_with(app, cycle, 1, title="Helper", owner="bo")
    app.align(child, parent=parent, weight=3, actor="sam")
    app.align(helper, parent=parent, link="supports", actor="bo")
    check(app, kr, 20)
    check(app, child_kr, 60)
    check(app, helper_kr, 100)
    progress = app.objective_progress(parent)
    assert progress.progress == pytest.approx((1 * 0.2 + 3 * 0.6) / 4)  # 0.5
    assert (progress.measured, progress.total) == (2, 2)
    team = progress.contributions[1]
    assert (team.kind, team.id, team.title, team.owner) == ("objective", child.id, "Team", "sam")
    assert (team.link, team.weight, team.value, team.counted) == ("contributes", 3.0, 0.6, True)
    assert team.via_key_result_id is None
    (shown,) = progress.supporters
    assert (shown.id, shown.link, shown.value, shown.counted) == (helper.id, "supports", 1.0, False)
    # The objective's status is its own key results' only.
    assert progress.pace_status is PaceStatus.OFF_TRACK


def test_contribution_through_a_key_result_and_nesting(app: Okra) -> None:
    cycle = quarter_of(app)
    top, (top_kr,) = objective_with(app, cycle, 1, title="Top")
    middle, (middle_kr,) = objective_with(app, cycle, 1, title="Middle")
    bottom, (bottom_kr,) = objective_with(app, cycle, 1, title="Bottom")
    app.align(middle, parent=top_kr, weight=1, actor="ana")
    app.align(bottom, parent=middle, weight=2, actor="ana")
    check(app, top_kr, 0)
    check(app, middle_kr, 30)
    check(app, bottom_kr, 90)
    middle_progress = (1 * 0.3 + 2 * 0.9) / 3  # 0.7
    progress = app.objective_progress(top)
    assert progress.progress == pytest.approx((0.0 + middle_progress) / 2)  # 0.35
    via = progress.contributions[1]
    assert (via.id, via.via_key_result_id, via.via_key_result_title) == (
        middle.id,
        top_kr.id,
        "Top KR1",
    )
    assert via.value == pytest.approx(middle_progress)


def test_undefined_child_is_left_out_and_counted(app: Okra) -> None:
    cycle = quarter_of(app)
    parent, (kr,) = objective_with(app, cycle, 1, title="Parent")
    child, _ = objective_with(app, cycle, 1, title="Child")
    app.align(child, parent=parent, actor="ana")
    check(app, kr, 40)
    progress = app.objective_progress(parent)
    assert progress.progress == 0.4
    assert (progress.measured, progress.total) == (1, 2)


def test_abandoned_objectives(app: Okra) -> None:
    cycle = quarter_of(app)
    parent, (kr,) = objective_with(app, cycle, 1, title="Parent")
    child, (child_kr,) = objective_with(app, cycle, 1, title="Child")
    app.align(child, parent=parent, actor="ana")
    check(app, kr, 20)
    check(app, child_kr, 80)
    assert app.objective_progress(parent).progress == pytest.approx(0.5)
    app.abandon_objective(child, reason="deprioritised", actor="ana")
    progress = app.objective_progress(parent)
    assert progress.progress == pytest.approx(0.2)
    assert progress.total == 1
    # Still computable when asked directly ...
    abandoned = app.objective_progress(child)
    assert abandoned.status is ObjectiveStatus.ABANDONED
    assert abandoned.progress == 0.8
    # ... but left out of the cycle's and the owner's rollups.
    dashboard = app.cycle_progress(cycle)
    assert [o.objective_id for o in dashboard.objectives] == [parent.id]
    assert dashboard.progress == pytest.approx(0.2)
    assert [o.objective_id for o in app.owner_progress("ana").objectives] == [parent.id]


# --- cycles and owners ------------------------------------------------------------------


def test_cycle_dashboard(app: Okra) -> None:
    cycle = quarter_of(app)
    growth, (a, b) = objective_with(app, cycle, 1, 1, title="Growth")
    quality, (c,) = objective_with(app, cycle, 1, title="Quality", owner="sam")
    idea = app.draft_objective("Idea", cycle=cycle, owner="sam", actor="sam")
    check(app, a, 60)
    check(app, b, 20)
    check(app, c, 90)
    dashboard = app.cycle_progress(cycle)
    assert (dashboard.cycle_id, dashboard.name, dashboard.status) == (cycle.id, "2026-Q1", "active")
    assert (dashboard.starts_at, dashboard.ends_at, dashboard.at) == (
        JAN,
        datetime(2026, 4, 1, tzinfo=UTC),
        MID,
    )
    assert dashboard.expected_pace == 0.5
    assert [o.objective_id for o in dashboard.objectives] == [growth.id, quality.id, idea.id]
    assert [o.progress for o in dashboard.objectives] == [pytest.approx(0.4), 0.9, None]
    assert dashboard.progress == pytest.approx((0.4 + 0.9) / 2)  # the idea is left out
    assert (dashboard.measured, dashboard.total) == (2, 3)
    assert [(o.owner, o.objectives, o.measured, o.progress) for o in dashboard.owners] == [
        ("ana", 1, 1, pytest.approx(0.4)),
        ("sam", 2, 1, 0.9),
    ]
    # Growth is off track (b: 0.2 < 0.3), quality on track, the idea unknown.
    assert [(s.status, s.count) for s in dashboard.objectives_by_status] == [
        ("on_track", 1),
        ("at_risk", 0),
        ("off_track", 1),
        ("unknown", 1),
    ]
    assert [(s.status, s.count) for s in dashboard.key_results_by_status] == [
        ("on_track", 2),
        ("at_risk", 0),
        ("off_track", 1),
        ("unknown", 0),
    ]


def test_empty_cycle(app: Okra) -> None:
    cycle = quarter_of(app)
    dashboard = app.cycle_progress(cycle)
    assert dashboard.objectives == ()
    assert dashboard.owners == ()
    assert (dashboard.progress, dashboard.measured, dashboard.total) == (None, 0, 0)
    assert all(s.count == 0 for s in dashboard.objectives_by_status)
    assert len(dashboard.objectives_by_status) == len(PaceStatus)


def test_owner_progress(app: Okra) -> None:
    cycle = quarter_of(app)
    mine, (a,) = objective_with(app, cycle, 1, title="Mine", owner="bo")
    theirs = app.draft_objective("Theirs", cycle=cycle, owner="ana", actor="ana")
    helped = app.add_key_result(
        theirs, "Bo helps", metric=Change(baseline=0, target=10), owner="bo", actor="ana"
    )
    app.add_key_result(theirs, "Ana's own", metric=Change(baseline=0, target=10), actor="ana")
    app.activate_objective(theirs, actor="ana")
    check(app, a, 70)
    check(app, helped, 1)
    progress = app.owner_progress("bo", cycle=cycle)
    assert (progress.owner, progress.cycle_id, progress.cycle_name) == ("bo", cycle.id, "2026-Q1")
    assert [o.objective_id for o in progress.objectives] == [mine.id]
    assert [kr.key_result_id for kr in progress.key_results] == [helped.id]
    assert (progress.progress, progress.measured) == (0.7, 1)
    assert [(s.status, s.count) for s in progress.key_results_by_status] == [
        ("on_track", 1),
        ("at_risk", 0),
        ("off_track", 1),  # 0.1 < 0.3
        ("unknown", 0),
    ]
    nobody = app.owner_progress("nobody")
    assert (nobody.objectives, nobody.key_results, nobody.progress) == ((), (), None)


def test_owner_progress_without_a_cycle_skips_closed_cycles(app: Okra) -> None:
    old = app.plan_cycle("2025-Q4", start=date(2025, 10, 1), end=date(2025, 12, 31), actor="ana")
    app.start_cycle(old, actor="ana")
    past, _ = objective_with(app, old, 1, title="Past")
    app.close_cycle(old, actor="ana")
    now, _ = objective_with(app, quarter_of(app), 1, title="Now")
    later = app.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    next_, _ = objective_with(app, later, 1, title="Next")
    progress = app.owner_progress("ana")
    assert progress.cycle_id is None
    assert [o.objective_id for o in progress.objectives] == [now.id, next_.id]
    assert [o.objective_id for o in app.owner_progress("ana", cycle=old).objectives] == [past.id]


# --- time travel --------------------------------------------------------------------------


def test_as_of_mid_quarter_with_a_backdated_check_in(okra: Okra) -> None:
    # Created on 2026-01-05 (the fixture's clock); checked in on MID.
    cycle = quarter_of(okra)
    objective, (kr,) = objective_with(okra, cycle, 1)
    # Recorded now, true on 2026-01-19 (day 18 of 90, e = 0.2).
    check(okra, kr, 15, effective_at=datetime(2026, 1, 19, tzinfo=UTC))
    check(okra, kr, 50)
    then = okra.key_result_progress(kr, as_of=datetime(2026, 1, 19, tzinfo=UTC))
    assert then.expected_pace == pytest.approx(0.2)
    assert then.attainment == 0.15
    assert then.pace_status is PaceStatus.AT_RISK  # 0.15 < 0.18, >= 0.12
    now = okra.key_result_progress(kr)
    assert (now.attainment, now.expected_pace, now.pace_status) == (0.5, 0.5, "on_track")
    # The dashboard reads the same world.
    dashboard = okra.cycle_progress(cycle, as_of=datetime(2026, 1, 19, tzinfo=UTC))
    assert dashboard.progress == 0.15
    assert dashboard.expected_pace == pytest.approx(0.2)
    assert okra.objective_progress(objective, as_of=datetime(2026, 1, 19, tzinfo=UTC)).progress == (
        0.15
    )
    assert okra.objective_progress(objective).progress == 0.5


# --- JSON -------------------------------------------------------------------------------


def test_results_are_json_data(app: Okra) -> None:
    cycle = quarter_of(app)
    parent, (kr,) = objective_with(app, cycle, 1, title="Parent")
    child, _ = objective_with(app, cycle, 1, title="Child", owner="sam")
    app.align(child, parent=kr, actor="sam")
    check(app, kr, 20, confidence=6, effective_at=JAN)
    check(app, kr, 40)
    results = [
        app.key_result_progress(kr),
        app.objective_progress(parent),
        app.cycle_progress(cycle),
        app.owner_progress("sam"),
    ]
    for result in results:
        data = to_data(result)
        assert json.loads(json.dumps(data)) == data
    data = to_data(results[1])
    assert data["pace_status"] == "at_risk"  # 0.4 < 0.9 * 0.5
    assert data["key_results"][0]["confidence"]["probability"] == 0.6
    assert data["key_results"][0]["forecast"]["at"] == "2026-04-01T00:00:00+00:00"
    assert data["contributions"][1]["via_key_result_id"] == str(kr.id)


# --- invariants ---------------------------------------------------------------------------

values = st.floats(min_value=0, max_value=1, allow_nan=False)
weights = st.floats(min_value=0.01, max_value=100, allow_nan=False)
items = st.lists(st.tuples(weights, st.none() | values), max_size=12)


@given(items, st.sampled_from(list(RollupPolicy)))
def test_rollup_stays_in_zero_one(found: list[tuple[float, float | None]], policy: str) -> None:
    result = combine(RollupPolicy(policy), found)
    if all(v is None for _, v in found):
        assert result is None
    else:
        assert result is not None
        assert 0.0 <= result <= 1.0 + 1e-9


@given(st.lists(weights, min_size=1, max_size=12), values, st.integers(0, 5))
def test_rollup_of_equal_values_is_that_value(ws: list[float], value: float, gaps: int) -> None:
    found: list[tuple[float, float | None]] = [(w, value) for w in ws]
    found += [(1.0, None)] * gaps
    assert combine(RollupPolicy.MEAN, found) == pytest.approx(value)
    assert combine(RollupPolicy.MIN, found) == value


@given(st.lists(st.tuples(weights, values), min_size=1, max_size=12))
def test_min_is_at_most_mean_at_most_max(found: list[tuple[float, float]]) -> None:
    lowest = combine(RollupPolicy.MIN, found)
    mean = combine(RollupPolicy.MEAN, found)
    assert lowest is not None
    assert mean is not None
    assert lowest <= mean + 1e-9
    assert mean <= max(v for _, v in found) + 1e-9


@given(st.lists(st.tuples(weights, values), min_size=1, max_size=12))
def test_sum_is_the_weighted_sum_capped(found: list[tuple[float, float]]) -> None:
    assert combine(RollupPolicy.SUM, found) == pytest.approx(min(1.0, sum(w * v for w, v in found)))


@given(st.floats(-2, 3, allow_nan=False), st.floats(0, 1, allow_nan=False))
def test_pace_status_is_monotonic_in_attainment(p: float, e: float) -> None:
    bands = PaceBands()
    clamped = min(1.0, max(0.0, p))
    status = pace_status(clamped, e, bands)
    better = pace_status(min(1.0, clamped + 0.1), e, bands)
    order = [PaceStatus.OFF_TRACK, PaceStatus.AT_RISK, PaceStatus.ON_TRACK]
    assert order.index(better) >= order.index(status)
