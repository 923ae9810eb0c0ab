"""Grading at cycle close (``close_cycle``) and continuing objectives (``continue_objective``)."""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okra_core import (
    Change,
    Continuation,
    ContinuationMode,
    Cycle,
    CycleClosed,
    CycleStatus,
    Grade,
    InvalidTransitionError,
    KeyResult,
    KeyResultContinued,
    KeyResultDefined,
    KeyResultGraded,
    ManualClock,
    Metric,
    Milestone,
    NotFoundError,
    Objective,
    ObjectiveClosed,
    ObjectiveContinued,
    ObjectiveDrafted,
    ObjectiveKind,
    ObjectiveStatus,
    Okra,
    Range,
    RollupPolicy,
    StayAbove,
    StayBelow,
    ValidationError,
    suggest_grade,
)
from okra_core.domain._entity import Stamp

from .conftest import Quarter
from .helpers import count, paths, refused

# --- helpers ----------------------------------------------------------------------------


def second_quarter(okra: Okra) -> Cycle:
    """A planned (not started) cycle after the fixture's 2026-Q1."""
    return okra.plan_cycle("2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")


def objective_with(
    okra: Okra,
    cycle: Cycle,
    title: str,
    metrics: dict[str, Metric],
    *,
    activate: bool = True,
    **fields: Any,
) -> tuple[Objective, dict[str, KeyResult]]:
    """Draft an objective with one key result per ``metrics`` entry; activate it."""
    objective = okra.draft_objective(title, cycle=cycle, owner="ana", actor="ana", **fields)
    key_results = {
        name: okra.add_key_result(objective, name, metric=metric, actor="ana")
        for name, metric in metrics.items()
    }
    if activate:
        objective = okra.activate_objective(objective, actor="ana")
    return objective, key_results


def grade_of(okra: Okra, key_result: KeyResult) -> Grade:
    grade = okra.key_result(key_result).grade
    assert grade is not None, f"{key_result.title!r} was not graded"
    return grade


def events_since(okra: Okra, before: int) -> list[Any]:
    return list(okra.history())[before:]


# --- suggest_grade ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attainment", "suggested"),
    [
        (None, 0.0),
        (0.0, 0.0),
        (0.04, 0.0),
        (0.05, 0.1),
        (0.25, 0.3),
        (0.35, 0.4),
        (0.45, 0.5),
        (0.649, 0.6),
        (0.65, 0.7),
        (0.94, 0.9),
        (0.95, 1.0),
        (1.0, 1.0),
        (1.3, 1.0),
        (-0.2, 0.0),
        (-5.0, 0.0),
    ],
)
def test_suggest_grade_clamps_and_rounds_half_up(
    attainment: float | None, suggested: float
) -> None:
    assert suggest_grade(attainment) == suggested


@given(st.floats(min_value=-10, max_value=10, allow_nan=False))
def test_suggest_grade_is_the_nearest_tenth_of_the_clamped_attainment(p: float) -> None:
    grade = suggest_grade(p)
    clamped = min(1.0, max(0.0, p))
    assert 0.0 <= grade <= 1.0
    assert grade == round(grade * 10) / 10
    assert abs(grade - clamped) <= 0.05 + 1e-9


@given(
    st.floats(min_value=-2, max_value=2, allow_nan=False),
    st.floats(min_value=-2, max_value=2, allow_nan=False),
)
def test_suggest_grade_is_monotonic(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert suggest_grade(low) <= suggest_grade(high)


# --- close_cycle: suggested grades ---------------------------------------------------------


def test_close_grades_each_key_result_with_the_suggested_grade(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    values = {
        "p=0.649": (649, 0.649, 0.6),
        "p=0.25": (250, 0.25, 0.3),
        "p=0.35": (350, 0.35, 0.4),
        "p=1.3": (1300, 1.3, 1.0),
        "p<0": (-50, -0.05, 0.0),
        "p=1": (1000, 1.0, 1.0),
    }
    _, key_results = objective_with(
        okra,
        quarter.cycle,
        "Grow",
        {name: Change(baseline=0, target=1000) for name in values},
    )
    clock.advance(timedelta(days=30))
    for name, (value, _, _) in values.items():
        okra.check_in(key_results[name], value=value, actor="bo")
    okra.check_in(quarter.key_result, value=14, actor="bo")
    clock.advance(timedelta(days=60))

    okra.close_cycle(quarter.cycle, actor="ana")

    for name, (_, attainment, suggested) in values.items():
        grade = grade_of(okra, key_results[name])
        assert grade.attainment == pytest.approx(attainment), name
        assert grade.original_attainment == pytest.approx(attainment), name
        assert (grade.suggested, grade.score, grade.rationale) == (suggested, suggested, ""), name
        assert (grade.graded_at, grade.graded_by) == (clock.now(), "ana")
    quarter_grade = grade_of(okra, quarter.key_result)
    assert quarter_grade.attainment == pytest.approx(0.5)
    assert quarter_grade.score == 0.5


def test_undefined_attainment_suggests_zero_and_keeps_attainment_undefined(
    okra: Okra, quarter: Quarter
) -> None:
    _, key_results = objective_with(
        okra,
        quarter.cycle,
        "Measure first",
        {"unmeasured": Change(baseline=None, target=10), "silent": Milestone()},
    )
    okra.check_in(key_results["unmeasured"], value=7, actor="bo")
    # The fixture's key result has no check-ins at all.
    okra.close_cycle(quarter.cycle, actor="ana")

    for key_result in (quarter.key_result, key_results["unmeasured"], key_results["silent"]):
        grade = grade_of(okra, key_result)
        assert (grade.attainment, grade.original_attainment) == (None, None)
        assert (grade.suggested, grade.score, grade.rationale) == (0.0, 0.0, "")


def test_guardrails_ranges_and_milestones_are_graded_from_their_latest_check_in(
    okra: Okra, quarter: Quarter
) -> None:
    _, key_results = objective_with(
        okra,
        quarter.cycle,
        "Keep it up",
        {
            "uptime": StayAbove(threshold=99.5),
            "errors": StayBelow(threshold=1),
            "nps": Range(low=30, high=50),
            "launch": Milestone(),
        },
    )
    for name, value in (("uptime", 99.9), ("errors", 3), ("nps", 40), ("launch", 1)):
        okra.check_in(key_results[name], value=value, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana")
    scores = {name: grade_of(okra, kr).score for name, kr in key_results.items()}
    assert scores == {"uptime": 1.0, "errors": 0.0, "nps": 1.0, "launch": 1.0}


def test_original_attainment_reads_the_target_first_set(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.retarget(quarter.key_result, target=14, reason="too ambitious", actor="ana")
    okra.close_cycle(quarter.cycle, actor="ana")
    grade = grade_of(okra, quarter.key_result)
    assert grade.attainment == pytest.approx(1.0)
    assert grade.original_attainment == pytest.approx(0.5)
    assert (grade.suggested, grade.score) == (1.0, 1.0)


# --- close_cycle: overrides -----------------------------------------------------------------


def test_override_with_rationale_is_recorded(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    clock.advance(timedelta(days=80))
    okra.close_cycle(
        quarter.cycle,
        actor="cy",
        grades={quarter.key_result: (0.8, "  the last fix landed a day after close  ")},
    )
    grade = grade_of(okra, quarter.key_result)
    assert grade == Grade(
        score=0.8,
        suggested=0.5,
        attainment=pytest.approx(0.5),  # type: ignore[arg-type]
        original_attainment=pytest.approx(0.5),  # type: ignore[arg-type]
        rationale="the last fix landed a day after close",
        graded_at=clock.now(),
        graded_by="cy",
    )


@pytest.mark.parametrize("how", ["entity", "uuid", "title", "prefix"])
def test_overrides_accept_any_reference_to_the_key_result(
    okra: Okra, quarter: Quarter, how: str
) -> None:
    kr = quarter.key_result
    ref: Any = {"entity": kr, "uuid": kr.id, "title": "first RESPONSE time", "prefix": kr.short_id}[
        how
    ]
    okra.check_in(kr, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana", grades={ref: (0.0, "measured wrongly")})
    assert grade_of(okra, kr).score == 0.0


@pytest.mark.parametrize("given_grade", [0.5, (0.5, ""), 1 / 2])
def test_override_equal_to_the_suggestion_needs_no_rationale(
    okra: Okra, quarter: Quarter, given_grade: Any
) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana", grades={quarter.key_result.title: given_grade})
    grade = grade_of(okra, quarter.key_result)
    assert (grade.score, grade.suggested, grade.rationale) == (0.5, 0.5, "")


def test_whole_number_scores_are_accepted(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana", grades={quarter.key_result: (1, "done anyway")})
    grade = grade_of(okra, quarter.key_result)
    assert grade.score == 1.0
    assert isinstance(grade.score, float)


def test_a_score_with_floating_point_noise_counts_as_its_tenth(
    okra: Okra, quarter: Quarter
) -> None:
    # 0.1 + 0.2 is 0.30000000000000004: accepted as one decimal, so it is 0.3, the
    # suggestion here, and needs no rationale; the grade records 0.3 exactly.
    okra.check_in(quarter.key_result, value=18, actor="bo")  # p = 0.3
    okra.close_cycle(quarter.cycle, actor="ana", grades={quarter.key_result: 0.1 + 0.2})
    grade = grade_of(okra, quarter.key_result)
    assert (grade.score, grade.suggested, grade.rationale) == (0.3, 0.3, "")


INVALID = [
    pytest.param(1.5, ".score", id="above-one"),
    pytest.param(-0.1, ".score", id="negative"),
    pytest.param(0.55, ".score", id="two-decimals"),
    pytest.param(math.nan, ".score", id="nan"),
    pytest.param(math.inf, ".score", id="inf"),
    pytest.param(True, ".score", id="bool"),
    pytest.param("0.5", ".score", id="text"),
    pytest.param(None, ".score", id="none"),
    pytest.param((1.5, "why not"), ".score", id="above-one-with-rationale"),
    pytest.param(0.8, ".rationale", id="no-rationale"),
    pytest.param((0.8, ""), ".rationale", id="empty-rationale"),
    pytest.param((0.8, "  \n "), ".rationale", id="blank-rationale"),
    pytest.param((0.5, None), ".rationale", id="rationale-not-text"),
    pytest.param((0.8, 42), ".rationale", id="rationale-a-number"),
]


def assert_nothing_closed(okra: Okra, quarter: Quarter) -> None:
    assert okra.cycle(quarter.cycle).status is CycleStatus.ACTIVE
    assert okra.objective(quarter.objective).status is ObjectiveStatus.ACTIVE
    assert okra.key_result(quarter.key_result).grade is None


@pytest.mark.parametrize(("given_grade", "suffix"), INVALID)
def test_invalid_override_is_refused_and_nothing_is_written(
    okra: Okra, quarter: Quarter, given_grade: Any, suffix: str
) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")  # suggests 0.5
    error = refused(
        okra,
        ValidationError,
        lambda: okra.close_cycle(
            quarter.cycle, actor="ana", grades={"First response time": given_grade}
        ),
    )
    assert paths(error) == (f"grades[First response time]{suffix}",)
    assert_nothing_closed(okra, quarter)


def test_override_that_is_a_tuple_of_the_wrong_length_is_a_validation_error(
    okra: Okra, quarter: Quarter
) -> None:
    wrong: list[Any] = [(0.5,), (0.8, "why", "extra"), ()]
    for given_grade in wrong:
        error = refused(
            okra,
            ValidationError,
            functools.partial(
                okra.close_cycle,
                quarter.cycle,
                actor="ana",
                grades={"First response time": given_grade},
            ),
        )
        assert all(p.startswith("grades[First response time]") for p in paths(error))
        assert_nothing_closed(okra, quarter)


def test_override_of_a_key_result_not_graded_in_the_cycle_is_refused(
    okra: Okra, quarter: Quarter
) -> None:
    q2 = second_quarter(okra)
    _, elsewhere = objective_with(
        okra, q2, "Next quarter", {"Other cycle KR": Milestone()}, activate=False
    )
    _, drafted = objective_with(
        okra, quarter.cycle, "Still a draft", {"Draft KR": Milestone()}, activate=False
    )
    cases: list[tuple[Any, str | None]] = [
        ("Other cycle KR", "grades[Other cycle KR]"),
        (elsewhere["Other cycle KR"], f"grades[{elsewhere['Other cycle KR'].short_id}]"),
        ("Draft KR", "grades[Draft KR]"),
        (drafted["Draft KR"].id, f"grades[{drafted['Draft KR'].id}]"),
        ("No such key result", "grades[No such key result]"),
        (uuid4().hex, None),
        (42, "grades[42]"),
        ("", "grades[]"),
    ]
    for ref, path in cases:
        error = refused(
            okra,
            ValidationError,
            functools.partial(okra.close_cycle, quarter.cycle, actor="ana", grades={ref: 0.0}),
        )
        assert len(paths(error)) == 1, ref
        if path is not None:
            assert paths(error) == (path,), ref
        else:
            assert paths(error)[0].startswith("grades["), ref
        assert_nothing_closed(okra, quarter)


def test_a_uuid_reference_is_reported_as_given(okra: Okra, quarter: Quarter) -> None:
    unknown = uuid4()
    error = refused(
        okra,
        ValidationError,
        lambda: okra.close_cycle(quarter.cycle, actor="ana", grades={unknown: 0.0}),
    )
    assert paths(error) == (f"grades[{unknown}]",)


@pytest.mark.parametrize("grades", [[("First response time", 0.5)], 0.5, "0.5", ("x", 0.5)])
def test_grades_that_are_not_a_mapping_are_refused(
    okra: Okra, quarter: Quarter, grades: Any
) -> None:
    error = refused(
        okra, ValidationError, lambda: okra.close_cycle(quarter.cycle, actor="ana", grades=grades)
    )
    assert paths(error) == ("grades",)
    assert_nothing_closed(okra, quarter)


def test_every_bad_override_is_reported_at_once(okra: Okra, quarter: Quarter) -> None:
    _, key_results = objective_with(
        okra,
        quarter.cycle,
        "Grow",
        {name: Change(baseline=0, target=10) for name in ("A", "B", "C", "D", "E")},
    )
    for kr in key_results.values():
        okra.check_in(kr, value=5, actor="bo")  # all suggest 0.5
    grades: dict[Any, Any] = {
        "A": 1.5,
        "B": (0.9, " "),
        "C": (0.8, "fine: a good reason"),
        "D": 0.5,
        "E": (0.55, None),
        "nope": 0.1,
    }
    error = refused(
        okra,
        ValidationError,
        lambda: okra.close_cycle(quarter.cycle, actor="ana", grades=grades),
    )
    assert sorted(paths(error)) == sorted(
        [
            "grades[A].score",
            "grades[B].rationale",
            "grades[E].score",
            "grades[E].rationale",
            "grades[nope]",
        ]
    )
    assert okra.cycle(quarter.cycle).status is CycleStatus.ACTIVE
    assert all(okra.key_result(kr).grade is None for kr in key_results.values())


# --- close_cycle: lifecycle -------------------------------------------------------------


def test_close_closes_active_objectives_and_grades_only_active_and_closed_ones(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    closed, closed_krs = objective_with(
        okra, quarter.cycle, "Closed early", {"c1": Milestone(), "c2": Milestone()}
    )
    okra.check_in(closed_krs["c1"], value=1, actor="bo")
    okra.close_objective(closed, actor="ana")
    draft, draft_krs = objective_with(
        okra, quarter.cycle, "Draft", {"d1": Milestone()}, activate=False
    )
    abandoned, abandoned_krs = objective_with(okra, quarter.cycle, "Abandoned", {"a1": Milestone()})
    okra.check_in(abandoned_krs["a1"], value=1, actor="bo")
    okra.abandon_objective(abandoned, reason="no longer relevant", actor="ana")
    second, second_krs = objective_with(
        okra, quarter.cycle, "Second", {"s1": Change(baseline=0, target=4)}
    )
    okra.check_in(second_krs["s1"], value=1, actor="bo")
    # Another cycle's objective is untouched.
    q2 = second_quarter(okra)
    other, other_krs = objective_with(okra, q2, "Elsewhere", {"o1": Milestone()})

    clock.advance(timedelta(days=85))
    before = count(okra)
    cycle = okra.close_cycle(quarter.cycle, actor="ana")

    assert cycle.status is CycleStatus.CLOSED
    assert okra.cycle(quarter.cycle).status is CycleStatus.CLOSED
    statuses = {o.title: o.status for o in (quarter.objective, closed, draft, abandoned, second)}
    assert {t: okra.objective(t).status for t in statuses} == {
        "Delight customers": ObjectiveStatus.CLOSED,
        "Closed early": ObjectiveStatus.CLOSED,
        "Draft": ObjectiveStatus.DRAFT,
        "Abandoned": ObjectiveStatus.ABANDONED,
        "Second": ObjectiveStatus.CLOSED,
    }
    assert okra.objective(other).status is ObjectiveStatus.ACTIVE
    assert okra.cycle(q2).status is CycleStatus.PLANNING

    assert grade_of(okra, closed_krs["c1"]).score == 1.0
    assert grade_of(okra, closed_krs["c2"]).score == 0.0
    assert grade_of(okra, second_krs["s1"]).score == 0.3  # 1/4 = 0.25 rounds up
    assert grade_of(okra, quarter.key_result).score == 0.0
    assert okra.key_result(draft_krs["d1"]).grade is None
    assert okra.key_result(abandoned_krs["a1"]).grade is None
    assert okra.key_result(other_krs["o1"]).grade is None

    # 1 cycle closed + 2 objectives closed (the fixture's and "Second") + 4 grades.
    written = events_since(okra, before)
    assert len(written) == 1 + 2 + 4
    assert isinstance(written[0], CycleClosed)
    assert sorted(type(e).__name__ for e in written[1:3]) == ["ObjectiveClosed"] * 2
    assert {e.originator_id for e in written if isinstance(e, ObjectiveClosed)} == {
        quarter.objective.id,
        second.id,
    }
    graded = [e for e in written if isinstance(e, KeyResultGraded)]
    assert {e.originator_id for e in graded} == {
        closed_krs["c1"].id,
        closed_krs["c2"].id,
        second_krs["s1"].id,
        quarter.key_result.id,
    }
    assert all((e.actor, e.recorded_at) == ("ana", clock.now()) for e in written)


def test_graded_events_are_in_the_history(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana", grades={quarter.key_result: (0.6, "close")})
    graded = [e for e in okra.history() if e.wire_name == "okra.key_result.graded"]
    assert len(graded) == 1
    event = graded[0]
    assert isinstance(event, KeyResultGraded)
    assert event.originator_id == quarter.key_result.id
    assert (event.score, event.suggested, event.rationale) == (0.6, 0.5, "close")
    assert event.attainment == pytest.approx(0.5)
    own = list(okra.history(quarter.key_result))
    assert own[-1] == event


def test_close_of_an_empty_cycle_writes_only_the_close(okra: Okra) -> None:
    cycle = okra.plan_cycle("Empty", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    okra.start_cycle(cycle, actor="ana")
    before = count(okra)
    okra.close_cycle(cycle, actor="ana", grades={})
    assert [type(e) for e in events_since(okra, before)] == [CycleClosed]


def test_only_an_active_cycle_can_be_closed(okra: Okra, quarter: Quarter) -> None:
    planned = second_quarter(okra)
    refused(okra, InvalidTransitionError, lambda: okra.close_cycle(planned, actor="ana"))
    okra.close_cycle(quarter.cycle, actor="ana")
    refused(okra, InvalidTransitionError, lambda: okra.close_cycle(quarter.cycle, actor="ana"))
    refused(okra, NotFoundError, lambda: okra.close_cycle("No such cycle", actor="ana"))


def test_a_grade_cannot_be_given_twice(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana")
    graded = okra.key_result(quarter.key_result)
    assert graded.grade is not None
    with pytest.raises(InvalidTransitionError, match=r"already graded 0\.5"):
        graded.grade_at_close(
            Stamp("ana", datetime(2026, 4, 1, tzinfo=UTC)),
            score=1.0,
            suggested=0.5,
            attainment=0.5,
            original_attainment=0.5,
            rationale="regrade",
        )
    # A second close cannot regrade either: the cycle is closed.
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.close_cycle(
            quarter.cycle, actor="ana", grades={quarter.key_result: (1.0, "regrade")}
        ),
    )
    assert okra.key_result(quarter.key_result).grade == graded.grade


def test_after_close_check_ins_and_changes_are_refused(okra: Okra, quarter: Quarter) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.close_cycle(quarter.cycle, actor="ana")
    kr = quarter.key_result
    refused(okra, InvalidTransitionError, lambda: okra.check_in(kr, value=4, actor="bo"))
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.retarget(kr, target=10, reason="late", actor="ana"),
    )
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.draft_objective("Late", cycle=quarter.cycle, owner="ana", actor="ana"),
    )
    assert okra.attainment(kr).value == pytest.approx(0.5)


def test_grades_are_time_travelled(okra: Okra, quarter: Quarter, clock: ManualClock) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    clock.advance(timedelta(days=1))
    before_close = clock.now()
    clock.advance(timedelta(days=1))
    okra.close_cycle(quarter.cycle, actor="ana")
    then = okra.state(quarter.key_result, as_known_at=before_close)
    assert isinstance(then, KeyResult)
    assert then.grade is None
    now = okra.state(quarter.key_result)
    assert isinstance(now, KeyResult)
    assert now.grade is not None


def test_grades_survive_reopening_an_sqlite_store(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'close.sqlite'}"
    with Okra(url, clock=clock) as okra:
        cycle = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
        okra.start_cycle(cycle, actor="ana")
        _, key_results = objective_with(
            okra,
            cycle,
            "Grow",
            {"arr": Change(baseline=0, target=100), "ship": Milestone()},
        )
        okra.check_in(key_results["arr"], value=64.9, actor="bo")
        clock.advance(timedelta(days=80))
        okra.close_cycle(cycle, actor="ana", grades={"ship": (0.5, "half shipped")})
        grades = {name: grade_of(okra, kr) for name, kr in key_results.items()}
        events = count(okra)
    with Okra(url, clock=clock) as reopened:
        assert {name: grade_of(reopened, kr) for name, kr in key_results.items()} == grades
        assert count(reopened) == events
        assert reopened.cycle(cycle).status is CycleStatus.CLOSED
    assert grades["arr"].score == 0.6
    assert (grades["ship"].score, grades["ship"].suggested) == (0.5, 0.0)
    assert grades["ship"].rationale == "half shipped"


# --- continue_objective ---------------------------------------------------------------------

LEVELS = {"baseline": 0, "commit": 60, "target": 100, "stretch": 150}


def year_one(okra: Okra, clock: ManualClock) -> tuple[Cycle, Objective, dict[str, KeyResult]]:
    """A Q1 objective with key results met and not met, of every kind of metric."""
    cycle = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    okra.start_cycle(cycle, actor="ana")
    objective = okra.draft_objective(
        "Grow revenue",
        cycle=cycle,
        owner="bo",
        actor="ana",
        kind=ObjectiveKind.ASPIRATIONAL,
        description="More paying customers",
        rollup=RollupPolicy.MIN,
    )
    specs: list[tuple[str, Metric, str, float, str | None, float]] = [
        ("ARR", Change(baseline=100, target=200), "k€", 2.0, "cy", 150),
        ("Churn", Change(baseline=5, target=2), "%", 1.0, None, 2),  # met
        ("Launch", Milestone(), "", 1.0, None, 1),  # met
        ("Beta", Milestone(), "", 0.5, None, 0),
        ("Uptime", StayAbove(threshold=99.5), "%", 1.0, "dee", 99.0),
        ("NPS", Range(low=30, high=50), "", 1.0, None, 40),  # met
        ("Leads", Change(**LEVELS), "", 1.0, None, 70),  # past commit
        ("Signups", Change(**LEVELS), "", 1.0, None, 40),  # before commit
        ("Over", Change(baseline=10, target=20), "", 1.0, None, 26),  # met, over-achieved
    ]
    key_results: dict[str, KeyResult] = {}
    for title, metric, unit, weight, owner, _ in specs:
        key_results[title] = okra.add_key_result(
            objective, title, metric=metric, unit=unit, weight=weight, owner=owner, actor="ana"
        )
    okra.activate_objective(objective, actor="ana")
    clock.advance(timedelta(days=30))
    for title, *_, value in specs:
        okra.check_in(key_results[title], value=value, actor="bo")
    return cycle, okra.objective(objective), {t: okra.key_result(k) for t, k in key_results.items()}


def new_key_results(okra: Okra, objective: Objective) -> dict[str, KeyResult]:
    return {kr.title: kr for kr in okra.key_results(objective)}


def test_carry_over_takes_unmet_key_results_rebaselined_at_their_latest_value(
    okra: Okra, clock: ManualClock
) -> None:
    _, source, old = year_one(okra, clock)
    q2 = second_quarter(okra)
    before = count(okra)
    new = okra.continue_objective(source, cycle=q2, mode="carry_over", actor="cy")

    assert new.id != source.id
    assert (new.title, new.description, new.owner) == (
        "Grow revenue",
        "More paying customers",
        "bo",
    )
    assert (new.kind, new.rollup, new.cycle_id) == (
        ObjectiveKind.ASPIRATIONAL,
        RollupPolicy.MIN,
        q2.id,
    )
    assert new.status is ObjectiveStatus.DRAFT
    assert new.continues == Continuation(
        from_objective_id=source.id, mode=ContinuationMode.CARRY_OVER
    )
    assert new.alignments == ()

    krs = okra.key_results(new)
    assert [kr.title for kr in krs] == ["ARR", "Beta", "Uptime", "Leads", "Signups"]
    by_title = {kr.title: kr for kr in krs}
    assert by_title["ARR"].metric == Change(baseline=150, target=200)
    assert by_title["Beta"].metric == Milestone()
    assert by_title["Uptime"].metric == StayAbove(threshold=99.5)
    # 70 lies past the commit level (60): the rest of the way runs from 70, and the
    # commit level it passed is dropped.
    assert by_title["Leads"].metric == Change(baseline=70, target=100, stretch=150)
    assert by_title["Signups"].metric == Change(baseline=40, commit=60, target=100, stretch=150)
    for kr in krs:
        source_kr = old[kr.title]
        assert kr.id != source_kr.id
        assert kr.continues_id == source_kr.id
        assert kr.objective_id == new.id
        assert (kr.unit, kr.weight, kr.owner) == (source_kr.unit, source_kr.weight, source_kr.owner)
        assert kr.original_metric == kr.metric
        assert (tuple(kr.check_ins), kr.grade) == ((), None)
    assert by_title["ARR"].owner == "cy"
    assert by_title["Beta"].weight == 0.5

    written = events_since(okra, before)
    assert len(written) == 2 + 2 * 5
    assert [type(e) for e in written[:2]] == [ObjectiveDrafted, ObjectiveContinued]
    assert [type(e) for e in written[2:]] == [KeyResultDefined, KeyResultContinued] * 5
    assert all((e.actor, e.recorded_at) == ("cy", clock.now()) for e in written)
    # The source is left as it was.
    assert okra.objective(source) == source
    assert [okra.key_result(kr) for kr in old.values()] == list(old.values())


def test_carry_over_of_a_key_result_without_check_ins_keeps_its_baseline(
    okra: Okra, quarter: Quarter
) -> None:
    # No latest value: the known baseline is still where the key result stands.
    q2 = second_quarter(okra)
    new = okra.continue_objective(quarter.objective, cycle=q2, actor="ana")
    (kr,) = okra.key_results(new)
    assert kr.metric == Change(baseline=24, target=4)


def test_carry_over_of_an_unmeasured_baseline_takes_the_latest_value(
    okra: Okra, quarter: Quarter
) -> None:
    _, key_results = objective_with(
        okra,
        quarter.cycle,
        "Measure",
        {
            "measured later": Change(baseline=None, target=10),
            "at target": Change(baseline=None, target=10),
            "never": Change(baseline=None, target=10),
        },
    )
    okra.check_in(key_results["measured later"], value=3, actor="bo")
    okra.check_in(key_results["at target"], value=10, actor="bo")
    source = okra.objective("Measure")
    new = okra.continue_objective(source, cycle=second_quarter(okra), actor="ana")
    by_title = new_key_results(okra, new)
    assert by_title["measured later"].metric == Change(baseline=3, target=10)
    # A baseline equal to the target is not valid: to be measured afresh.
    assert by_title["at target"].metric == Change(baseline=None, target=10)
    assert by_title["never"].metric == Change(baseline=None, target=10)


@pytest.mark.parametrize(
    ("latest", "commit"),
    [
        (-10, 60),  # worse than the baseline: still a valid start
        (0, 60),
        (59, 60),
        (60, None),  # at the commit level: the level is dropped
        (61, None),
        (99, None),
    ],
)
def test_carry_over_drops_the_levels_the_latest_value_passed(
    okra: Okra, quarter: Quarter, latest: float, commit: float | None
) -> None:
    _, key_results = objective_with(okra, quarter.cycle, "Levels", {"kr": Change(**LEVELS)})
    okra.check_in(key_results["kr"], value=latest, actor="bo")
    new = okra.continue_objective("Levels", cycle=second_quarter(okra), actor="ana")
    (kr,) = okra.key_results(new)
    assert kr.metric == Change(baseline=latest, commit=commit, target=100, stretch=150)


def test_carry_over_of_decreasing_levels(okra: Okra, quarter: Quarter) -> None:
    levels = Change(baseline=100, commit=50, target=20, stretch=10)
    _, key_results = objective_with(
        okra, quarter.cycle, "Down", {"fast": levels, "slow": levels, "done": levels}
    )
    okra.check_in(key_results["fast"], value=30, actor="bo")  # past commit
    okra.check_in(key_results["slow"], value=70, actor="bo")
    okra.check_in(key_results["done"], value=15, actor="bo")  # met
    new = okra.continue_objective("Down", cycle=second_quarter(okra), actor="ana")
    by_title = new_key_results(okra, new)
    assert set(by_title) == {"fast", "slow"}
    assert by_title["fast"].metric == Change(baseline=30, target=20, stretch=10)
    assert by_title["slow"].metric == Change(baseline=70, commit=50, target=20, stretch=10)


def test_carry_over_of_an_objective_with_every_key_result_met_is_refused(
    okra: Okra, quarter: Quarter
) -> None:
    okra.check_in(quarter.key_result, value=4, actor="bo")
    q2 = second_quarter(okra)
    before = count(okra)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=q2, actor="ana"),
    )
    assert paths(error) == ("mode",)
    assert "nothing to carry over" in str(error)
    assert count(okra) == before
    # Cloning or extending it is still possible.
    assert okra.continue_objective(quarter.objective, cycle=q2, mode="extend", actor="ana")


def test_an_objective_is_continued_into_a_cycle_once(okra: Okra, quarter: Quarter) -> None:
    q2 = second_quarter(okra)
    first = okra.continue_objective(quarter.objective, cycle=q2, mode="clone", actor="ana")
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=q2, mode="extend", actor="ana"),
    )
    assert paths(error) == ("cycle",)
    assert "already continued" in str(error)
    okra.abandon_objective(first, reason="wrong mode", actor="ana")
    assert okra.continue_objective(quarter.objective, cycle=q2, mode="extend", actor="ana")


def test_an_objective_is_not_continued_into_an_earlier_cycle(okra: Okra, quarter: Quarter) -> None:
    q4 = okra.plan_cycle("2025-Q4", start=date(2025, 10, 1), end=date(2025, 12, 31), actor="ana")
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=q4, actor="ana"),
    )
    assert paths(error) == ("cycle",)


def test_clone_takes_every_key_result_with_baselines_to_measure(
    okra: Okra, clock: ManualClock
) -> None:
    _, source, old = year_one(okra, clock)
    q2 = second_quarter(okra)
    before = count(okra)
    new = okra.continue_objective(source, cycle=q2, mode="clone", actor="ana")
    assert new.continues == Continuation(from_objective_id=source.id, mode=ContinuationMode.CLONE)
    krs = okra.key_results(new)
    assert [kr.title for kr in krs] == list(old)
    for kr in krs:
        source_kr = old[kr.title]
        expected = source_kr.metric
        if isinstance(expected, Change):
            assert kr.metric == Change(
                baseline=None,
                target=expected.target,
                commit=expected.commit,
                stretch=expected.stretch,
            )
        else:
            assert kr.metric == expected
        assert kr.continues_id == source_kr.id
        assert (kr.unit, kr.weight, kr.owner) == (source_kr.unit, source_kr.weight, source_kr.owner)
        assert okra.attainment(kr).value is None
    assert count(okra) - before == 2 + 2 * len(old)


def test_extend_takes_every_key_result_unchanged(okra: Okra, clock: ManualClock) -> None:
    _, source, old = year_one(okra, clock)
    new = okra.continue_objective(
        source, cycle=second_quarter(okra), mode=ContinuationMode.EXTEND, actor="ana"
    )
    assert new.continues == Continuation(from_objective_id=source.id, mode=ContinuationMode.EXTEND)
    krs = okra.key_results(new)
    assert [kr.title for kr in krs] == list(old)
    for kr in krs:
        source_kr = old[kr.title]
        assert kr.metric == source_kr.metric
        assert kr.continues_id == source_kr.id
        assert (kr.unit, kr.weight, kr.owner) == (source_kr.unit, source_kr.weight, source_kr.owner)


@pytest.mark.parametrize("mode", ["carry_over", "clone", "extend"])
def test_continued_key_results_start_from_the_current_metric_after_a_retarget(
    okra: Okra, quarter: Quarter, mode: str
) -> None:
    okra.check_in(quarter.key_result, value=14, actor="bo")
    okra.retarget(quarter.key_result, target=8, reason="more realistic", actor="ana")
    new = okra.continue_objective(
        quarter.objective, cycle=second_quarter(okra), mode=mode, actor="ana"
    )
    (kr,) = okra.key_results(new)
    expected = {
        "carry_over": Change(baseline=14, target=8),
        "clone": Change(baseline=None, target=8),
        "extend": Change(baseline=24, target=8),
    }[mode]
    assert (kr.metric, kr.original_metric) == (expected, expected)


@pytest.mark.parametrize("mode", [" Clone ", "EXTEND", "carry_over"])
def test_mode_is_read_case_insensitively(okra: Okra, quarter: Quarter, mode: str) -> None:
    new = okra.continue_objective(
        quarter.objective, cycle=second_quarter(okra), mode=mode, actor="a"
    )
    assert new.continues is not None
    assert new.continues.mode.value == mode.strip().lower()


def test_alignment_links_are_not_copied(okra: Okra, quarter: Quarter) -> None:
    company, _ = objective_with(okra, quarter.cycle, "Company goal", {"g": Milestone()})
    okra.align(quarter.objective, parent=company, actor="ana")
    new = okra.continue_objective(quarter.objective, cycle=second_quarter(okra), actor="ana")
    assert new.alignments == ()
    assert len(okra.objective(quarter.objective).alignments) == 1


def test_continue_is_refused_into_its_own_cycle_or_a_closed_one(
    okra: Okra, quarter: Quarter
) -> None:
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=quarter.cycle, actor="ana"),
    )
    assert paths(error) == ("cycle",)
    other = okra.plan_cycle("Later", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana")
    okra.start_cycle(other, actor="ana")
    okra.close_cycle(other, actor="ana")
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.continue_objective(quarter.objective, cycle=other, actor="ana"),
    )


@pytest.mark.parametrize("mode", ["copy", "", None, 3, "carry over"])
def test_continue_is_refused_with_an_unknown_mode(okra: Okra, quarter: Quarter, mode: Any) -> None:
    q2 = second_quarter(okra)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=q2, mode=mode, actor="ana"),
    )
    assert paths(error) == ("mode",)


def test_continue_is_refused_for_unknown_objective_or_cycle(okra: Okra, quarter: Quarter) -> None:
    q2 = second_quarter(okra)
    refused(
        okra,
        NotFoundError,
        lambda: okra.continue_objective("No such objective", cycle=q2, actor="ana"),
    )
    refused(
        okra,
        NotFoundError,
        lambda: okra.continue_objective(quarter.objective, cycle=uuid4(), actor="ana"),
    )
    refused(
        okra,
        NotFoundError,
        lambda: okra.continue_objective(quarter.objective, cycle="2027-Q9", actor="ana"),
    )
    error = refused(
        okra,
        ValidationError,
        lambda: okra.continue_objective(quarter.objective, cycle=q2, actor=" "),
    )
    assert paths(error) == ("actor",)
    assert okra.objectives(cycle=q2) == []


def test_close_q1_then_carry_over_into_q2_and_work_on_it(okra: Okra, clock: ManualClock) -> None:
    q1, source, old = year_one(okra, clock)
    q2 = second_quarter(okra)
    clock.advance(timedelta(days=60))
    okra.close_cycle(q1, actor="ana", grades={"Beta": (0.3, "private beta ran")})
    assert okra.objective(source).status is ObjectiveStatus.CLOSED
    assert grade_of(okra, old["ARR"]).score == 0.5

    new = okra.continue_objective(source, cycle=q2, actor="ana")
    by_title = new_key_results(okra, new)
    assert set(by_title) == {"ARR", "Beta", "Uptime", "Leads", "Signups"}
    assert by_title["ARR"].metric == Change(baseline=150, target=200)

    clock.advance(timedelta(days=5))  # 2026-04-04 or so
    okra.start_cycle(q2, actor="ana")
    okra.activate_objective(new, actor="ana")
    # "Leads" stood at 70, past its commit level (60): it starts from 70, without
    # the commit level it passed.
    leads = by_title["Leads"]
    assert leads.metric == Change(baseline=70, target=100, stretch=150)
    clock.advance(timedelta(days=10))
    okra.check_in(by_title["ARR"], value=175, actor="cy")
    okra.check_in(leads, value=85, actor="bo")
    assert okra.attainment(by_title["ARR"]).value == pytest.approx(0.5)
    assert okra.attainment(leads).value == pytest.approx(0.5)  # 70 -> 85 of 70 -> 100
    # The closed source is still graded and untouched.
    assert okra.key_result(old["ARR"]).grade == grade_of(okra, old["ARR"])
    assert okra.key_result(old["ARR"]).current_value == 150


def test_an_objective_can_be_continued_into_several_cycles(okra: Okra, quarter: Quarter) -> None:
    q2 = second_quarter(okra)
    q3 = okra.plan_cycle("2026-Q3", start=date(2026, 7, 1), end=date(2026, 9, 30), actor="ana")
    a = okra.continue_objective(quarter.objective, cycle=q2, mode="clone", actor="ana")
    b = okra.continue_objective(quarter.objective, cycle=q3, mode="extend", actor="ana")
    c = okra.continue_objective(a, cycle=q3, mode="extend", actor="ana")
    assert a.continues is not None
    assert b.continues is not None
    assert c.continues is not None
    assert a.continues.from_objective_id == quarter.objective.id
    assert b.continues.from_objective_id == quarter.objective.id
    assert c.continues.from_objective_id == a.id
    (a_kr,) = okra.key_results(a)
    (c_kr,) = okra.key_results(c)
    assert c_kr.continues_id == a_kr.id
    assert a_kr.continues_id == quarter.key_result.id
    assert [o.title for o in okra.objectives(cycle=q3)] == ["Delight customers"] * 2


def test_a_key_result_given_twice_is_refused(okra: Okra, quarter: Quarter) -> None:
    before = count(okra)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.close_cycle(
            quarter.cycle,
            actor="ana",
            grades={"First response time": 0.0, quarter.key_result: 0.0},
        ),
    )
    assert "given more than once" in str(error)
    assert count(okra) == before


def test_titles_are_looked_up_in_the_closing_cycle_first(okra: Okra, quarter: Quarter) -> None:
    # Continued before the close: the title now exists in two cycles.
    okra.continue_objective(quarter.objective, cycle=second_quarter(okra), actor="ana")
    okra.close_cycle(quarter.cycle, actor="ana", grades={"First response time": (0.2, "late")})
    assert grade_of(okra, quarter.key_result).score == 0.2
