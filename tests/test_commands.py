"""Commands: what they record, the lifecycle rules, and refusals that write nothing."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from okra_core import (
    Action,
    ActionStatus,
    AlignmentLink,
    AmbiguousReferenceError,
    AnyEntity,
    Change,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    CycleStatus,
    Entity,
    ExpectedEffect,
    InvalidTransitionError,
    ManualClock,
    Milestone,
    NotFoundError,
    ObjectiveStatus,
    Okra,
    PermissionDeniedError,
    StayAbove,
    StorageError,
    ValidationError,
)
from okra_core.domain._fold import project

from .conftest import Quarter
from .helpers import paths, refused


def bet(okra: Okra, quarter: Quarter, title: str) -> Action:
    """Propose a minimal action on the quarter's key result."""
    return okra.propose_action(
        title,
        key_results=[quarter.key_result],
        hypothesis="h",
        owner="bo",
        investment=1,
        actor="bo",
    )


# --- what commands record -------------------------------------------------------------


def test_every_event_carries_actor_and_recorded_time(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=3))
    okra.check_in(quarter.key_result, value=20, actor="bo")
    events = list(okra.history())
    assert all(e.actor for e in events)
    assert all(e.recorded_at.tzinfo is not None for e in events)
    last = events[-1]
    assert (last.actor, last.recorded_at) == ("bo", clock.now())


def test_check_in_with_confidence_on_the_playbook_scale(okra: Okra, quarter: Quarter) -> None:
    check_in = okra.check_in(
        quarter.key_result, value=14, confidence=7, narrative="chatbot live", actor="bo"
    )
    assert check_in.confidence == Confidence.on(ConfidenceScale.ZERO_TO_TEN, 7)
    assert check_in.confidence is not None
    assert check_in.confidence.probability == pytest.approx(0.7)
    assert check_in.source is CheckInSource.MANUAL
    kr = okra.key_result(quarter.key_result)
    assert kr.current_value == 14
    assert okra.attainment(kr).value == pytest.approx(0.5)


def test_confidence_follows_the_playbook_scale(okra: Okra, quarter: Quarter) -> None:
    okra.revise_playbook(confidence_scale="red_amber_green", reason="simpler", actor="ana")
    check_in = okra.check_in(quarter.key_result, value=14, confidence="Amber", actor="bo")
    assert check_in.confidence is not None
    assert (check_in.confidence.given, check_in.confidence.probability) == ("amber", 0.5)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.check_in(quarter.key_result, value=14, confidence=7, actor="bo"),
    )
    assert paths(error) == ("confidence",)


def test_backdated_check_in_counts_at_its_effective_time(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=14))
    okra.check_in(quarter.key_result, value=10, actor="bo")
    late = okra.check_in(
        quarter.key_result,
        value=16,
        effective_at=clock.now() - timedelta(days=7),
        actor="bo",
    )
    assert late.recorded_at == clock.now()
    assert late.effective_at == clock.now() - timedelta(days=7)
    kr = okra.key_result(quarter.key_result)
    assert [c.value for c in kr.check_ins] == [16, 10]
    assert kr.current_value == 10  # the latest *effective* observation


def test_correction_and_retraction_are_new_events(okra: Okra, quarter: Quarter) -> None:
    first = okra.check_in(quarter.key_result, value=20, actor="bo")
    second = okra.check_in(quarter.key_result, value=14, actor="bo")
    corrected = okra.correct_check_in(second.short_id, value=15, reason="typo", actor="bo")
    assert (corrected.value, corrected.corrected) == (15, True)
    okra.retract_check_in(corrected, reason="wrong ticket queue", actor="bo")
    kr = okra.key_result(quarter.key_result)
    assert [c.id for c in kr.check_ins] == [first.id]
    names = [e.wire_name for e in okra.history(kr)]
    assert names[-2:] == [
        "okra.key_result.check_in_corrected",
        "okra.key_result.check_in_retracted",
    ]
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.retract_check_in(second.id, reason="again", actor="bo"),
    )


def test_retarget_keeps_the_original_metric(okra: Okra, quarter: Quarter) -> None:
    kr = okra.retarget(quarter.key_result, target=8, reason="hiring freeze", actor="ana")
    assert kr.metric == Change(baseline=24, target=8)
    assert kr.original_metric == Change(baseline=24, target=4)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.retarget(
            quarter.key_result, metric=StayAbove(threshold=3), reason="x", actor="ana"
        ),
    )
    assert paths(error) == ("metric.kind",)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.retarget(quarter.key_result, target=24, reason="x", actor="ana"),
    )
    assert paths(error) == ("metric.target",)


def test_baseline_to_be_measured(okra: Okra, quarter: Quarter) -> None:
    kr = okra.add_key_result(
        quarter.objective,
        "One-touch resolution",
        metric=Change(baseline=None, target=70),
        unit="%",
        actor="ana",
    )
    okra.check_in(kr, value=55, actor="ana")
    assert okra.attainment(kr).value is None
    assert "baseline" in okra.attainment(kr).reason
    kr = okra.measure_baseline(kr, baseline=50, actor="ana")
    assert okra.attainment(kr).value == pytest.approx(0.25)
    assert kr.original_metric == Change(baseline=50, target=70)
    refused(okra, InvalidTransitionError, lambda: okra.measure_baseline(kr, baseline=1, actor="a"))
    kr = okra.rebaseline(kr, baseline=40, reason="recount", actor="ana")
    assert kr.metric == Change(baseline=40, target=70)
    assert kr.original_metric == Change(baseline=50, target=70)


def test_actions_lifecycle_and_single_resolution(okra: Okra, quarter: Quarter) -> None:
    kr = quarter.key_result
    action = okra.propose_action(
        "Chatbot triage",
        key_results=[kr],
        hypothesis="bots answer resets at once",
        owner="bo",
        investment=5,
        odds=0.6,
        kill_criteria="no change in 4 weeks",
        expected_effects=[ExpectedEffect(key_result_id=kr.id, change=-6)],
        actor="bo",
    )
    assert action.status is ActionStatus.PROPOSED
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.resolve_action(action, outcome="validated", learning="x", actor="bo"),
    )
    okra.place_action(action, actor="bo")
    done = okra.resolve_action(
        action,
        outcome="validated",
        learning="resets answered in minutes",
        evidence=["dashboard"],
        actor="bo",
    )
    assert (done.status, done.learning, done.evidence) == (
        ActionStatus.VALIDATED,
        "resets answered in minutes",
        ("dashboard",),
    )
    error = refused(
        okra,
        InvalidTransitionError,
        lambda: okra.resolve_action(
            action, outcome="invalidated", learning="changed my mind", actor="bo"
        ),
    )
    assert "already validated" in str(error)


def test_a_proposed_bet_can_be_abandoned(okra: Okra, quarter: Quarter) -> None:
    action = bet(okra, quarter, "Videos")
    assert (
        okra.resolve_action(action, outcome="abandoned", learning="no time", actor="bo").status
        is ActionStatus.ABANDONED
    )


def test_tasks(okra: Okra, quarter: Quarter) -> None:
    action = bet(okra, quarter, "Chatbot")
    task = okra.add_task(action, "Pick a vendor", actor="bo")
    assert not task.done
    task = okra.complete_task("pick a vendor", actor="bo")
    assert (task.done, task.completed_by) == (True, "bo")
    refused(okra, InvalidTransitionError, lambda: okra.complete_task(task, actor="bo"))
    task = okra.reopen_task(task.short_id, actor="bo")
    assert not task.done
    okra.resolve_action(action, outcome="abandoned", learning="l", actor="bo")
    refused(okra, InvalidTransitionError, lambda: okra.add_task(action, "More", actor="bo"))
    refused(okra, InvalidTransitionError, lambda: okra.complete_task(task, actor="bo"))


def test_cycle_and_objective_lifecycles(okra: Okra, quarter: Quarter) -> None:
    refused(okra, InvalidTransitionError, lambda: okra.start_cycle(quarter.cycle, actor="ana"))
    draft = okra.draft_objective("Hire", cycle=quarter.cycle, owner="ana", actor="ana")
    error = refused(
        okra, InvalidTransitionError, lambda: okra.activate_objective(draft, actor="ana")
    )
    assert "add a key result" in str(error)
    kr = okra.add_key_result(draft, "Hires made", metric=Milestone(), actor="ana")
    error = refused(okra, InvalidTransitionError, lambda: okra.check_in(kr, value=1, actor="ana"))
    assert "draft" in str(error)
    assert "activate it first" in str(error)
    okra.abandon_objective(draft, reason="budget cut", actor="ana")
    assert okra.objective(draft).status is ObjectiveStatus.ABANDONED
    refused(okra, InvalidTransitionError, lambda: okra.check_in(kr, value=1, actor="ana"))

    okra.close_objective(quarter.objective, actor="ana")
    error = refused(
        okra,
        InvalidTransitionError,
        lambda: okra.check_in(quarter.key_result, value=3, actor="ana"),
    )
    assert "closed" in str(error)
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.add_key_result(quarter.objective, "x", metric=Milestone(), actor="a"),
    )

    assert okra.close_cycle(quarter.cycle, actor="ana").status is CycleStatus.CLOSED
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.draft_objective("Late", cycle=quarter.cycle, owner="ana", actor="ana"),
    )


def test_no_check_in_once_the_cycle_is_closed(okra: Okra, quarter: Quarter) -> None:
    okra.close_cycle(quarter.cycle, actor="ana")
    error = refused(
        okra,
        InvalidTransitionError,
        lambda: okra.check_in(quarter.key_result, value=3, actor="ana"),
    )
    assert "closed" in str(error)


def test_alignment(okra: Okra, quarter: Quarter) -> None:
    team = okra.draft_objective("Fast answers", cycle=quarter.cycle, owner="sam", actor="sam")
    sub = okra.draft_objective("Bot", cycle=quarter.cycle, owner="sam", actor="sam")
    team = okra.align(team, parent=quarter.objective, weight=0.6, actor="ana")
    sub = okra.align(sub, parent=team, link="supports", actor="sam")
    assert [(a.parent_id, a.link, a.weight) for a in team.alignments] == [
        (quarter.objective.id, AlignmentLink.CONTRIBUTES, 0.6)
    ]
    assert sub.alignments[0].link is AlignmentLink.SUPPORTS
    # Loops are refused: directly, through a key result, and to itself.
    refused(okra, ValidationError, lambda: okra.align(quarter.objective, parent=sub, actor="a"))
    refused(okra, ValidationError, lambda: okra.align(team, parent=team, actor="a"))
    refused(
        okra, InvalidTransitionError, lambda: okra.align(team, parent=quarter.objective, actor="a")
    )  # linked already
    team = okra.unalign(team, parent=quarter.objective, actor="ana")
    assert team.alignments == ()
    okra.align(team, parent=quarter.key_result, actor="ana")
    refused(
        okra, ValidationError, lambda: okra.align(quarter.objective, parent=sub, actor="a")
    )  # loop via a KR


# --- invalid input: refused, nothing written --------------------------------------------


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (math.nan, "value"),
        (math.inf, "value"),
        (-math.inf, "value"),
        ("14", "value"),
        (True, "value"),
        (None, "value"),
    ],
)
def test_bad_check_in_values(okra: Okra, quarter: Quarter, value: Any, path: str) -> None:
    error = refused(
        okra, ValidationError, lambda: okra.check_in(quarter.key_result, value=value, actor="bo")
    )
    assert paths(error) == (path,)


@pytest.mark.parametrize("confidence", [11, -1, math.nan, "high", True, 10.5])
def test_confidence_outside_its_scale(okra: Okra, quarter: Quarter, confidence: Any) -> None:
    error = refused(
        okra,
        ValidationError,
        lambda: okra.check_in(quarter.key_result, value=10, confidence=confidence, actor="bo"),
    )
    assert paths(error) == ("confidence",)
    assert "0 to 10" in str(error) or "expected" in str(error)


def test_several_bad_fields_are_reported_together(okra: Okra, quarter: Quarter) -> None:
    error = refused(
        okra,
        ValidationError,
        lambda: okra.check_in(
            quarter.key_result,
            value=math.nan,
            confidence=12,
            narrative=3,  # type: ignore[arg-type]
            source="fax",
            actor="bo",
        ),
    )
    assert set(paths(error)) == {"value", "confidence", "narrative", "source"}


def test_milestone_takes_zero_or_one(okra: Okra, quarter: Quarter) -> None:
    kr = okra.add_key_result(quarter.objective, "Launched", metric=Milestone(), actor="ana")
    error = refused(okra, ValidationError, lambda: okra.check_in(kr, value=0.5, actor="ana"))
    assert paths(error) == ("value",)


def test_naive_and_future_datetimes_are_refused(
    okra: Okra, quarter: Quarter, clock: ManualClock
) -> None:
    naive = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the point of the test
    error = refused(
        okra,
        ValidationError,
        lambda: okra.check_in(quarter.key_result, value=10, effective_at=naive, actor="bo"),
    )
    assert paths(error) == ("effective_at",)
    assert "timezone-aware" in str(error)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.check_in(
            quarter.key_result, value=10, effective_at=clock.now() + timedelta(hours=1), actor="bo"
        ),
    )
    assert paths(error) == ("effective_at",)
    error = refused(
        okra,
        ValidationError,
        lambda: okra.plan_cycle(
            "Q2", start=naive, end=datetime(2026, 6, 30, tzinfo=UTC), actor="ana"
        ),
    )
    assert paths(error) == ("start",)


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (lambda o, q: o.draft_objective("  ", cycle=q.cycle, owner="ana", actor="ana"), "title"),
        (lambda o, q: o.draft_objective("T", cycle=q.cycle, owner="", actor="ana"), "owner"),
        (
            lambda o, q: o.draft_objective("T", cycle=q.cycle, owner="a", kind="bold", actor="a"),
            "kind",
        ),
        (lambda o, q: o.add_key_result(q.objective, "", metric=Milestone(), actor="a"), "title"),
        (
            lambda o, q: o.add_key_result(
                q.objective, "K", metric=Milestone(), weight=0, actor="a"
            ),
            "weight",
        ),
        (lambda o, q: o.add_key_result(q.objective, "K", metric=24, actor="a"), "metric"),
        (
            lambda o, q: o.plan_cycle("", start=q.cycle.starts_at, end=q.cycle.ends_at, actor="a"),
            "name",
        ),
        (
            lambda o, q: o.plan_cycle("Q", start=q.cycle.ends_at, end=q.cycle.starts_at, actor="a"),
            "end",
        ),
        (lambda o, q: o.abandon_objective(q.objective, reason=" ", actor="a"), "reason"),
        (lambda o, q: o.retarget(q.key_result, target=8, reason="", actor="a"), "reason"),
        (lambda o, q: o.retarget(q.key_result, target=math.nan, reason="r", actor="a"), "target"),
        (lambda o, q: o.measure_baseline(q.key_result, baseline=math.inf, actor="a"), "baseline"),
        (lambda o, q: o.align(q.objective, parent=q.objective, weight=-1, actor="a"), "weight"),
        (
            lambda o, q: o.propose_action(
                "A", key_results=[], hypothesis="h", owner="o", investment=1, actor="a"
            ),
            "key_results",
        ),
        (
            lambda o, q: o.propose_action(
                "A",
                key_results=[q.key_result],
                hypothesis="h",
                owner="o",
                investment=1,
                odds=1.5,
                actor="a",
            ),
            "odds",
        ),
        (
            lambda o, q: o.propose_action(
                "A", key_results=[q.key_result], hypothesis="h", owner="o", investment=-3, actor="a"
            ),
            "investment",
        ),
        (
            lambda o, q: o.propose_action(
                "A",
                key_results=[q.key_result],
                hypothesis="h",
                owner="o",
                investment=1,
                actor="a",
                expected_effects=[ExpectedEffect(key_result_id=uuid4(), change=1)],
            ),
            "expected_effects[0].key_result_id",
        ),
        (
            lambda o, q: o.revise_playbook(check_in_cadence_days=0, reason="r", actor="a"),
            "settings.check_in_cadence_days",
        ),
        (lambda o, q: o.revise_playbook(cadence=3, reason="r", actor="a"), "cadence"),
        (lambda o, q: o.check_in(q.key_result, value=1, actor=""), "actor"),
    ],
)
def test_invalid_input_names_the_field(
    okra: Okra, quarter: Quarter, command: Callable[[Okra, Quarter], Any], path: str
) -> None:
    error = refused(okra, ValidationError, lambda: command(okra, quarter))
    assert path in paths(error)


@pytest.mark.parametrize(
    "command",
    [
        lambda o, q: o.check_in(uuid4(), value=1, actor="a"),
        lambda o, q: o.check_in("no such key result", value=1, actor="a"),
        lambda o, q: o.draft_objective("T", cycle="2031-Q9", owner="a", actor="a"),
        lambda o, q: o.complete_task(uuid4(), actor="a"),
        lambda o, q: o.correct_check_in(uuid4(), value=1, reason="r", actor="a"),
        lambda o, q: o.start_cycle(q.objective.id, actor="a"),  # an objective is not a cycle
    ],
)
def test_unknown_ids_are_refused(
    okra: Okra, quarter: Quarter, command: Callable[[Okra, Quarter], Any]
) -> None:
    refused(okra, NotFoundError, lambda: command(okra, quarter))


# --- references ---------------------------------------------------------------------


def test_references_by_prefix_title_and_object(okra: Okra, quarter: Quarter) -> None:
    kr = quarter.key_result
    assert okra.key_result(kr.id.hex[:6]).id == kr.id
    assert okra.key_result(str(kr.id)).id == kr.id
    assert okra.key_result("FIRST response time").id == kr.id
    assert okra.key_result(kr).id == kr.id
    with pytest.raises(NotFoundError, match="at least 4"):
        okra.key_result("nothing like it")


def test_ambiguous_titles_list_the_candidates(okra: Okra, quarter: Quarter) -> None:
    a = okra.draft_objective("Hire", cycle=quarter.cycle, owner="ana", actor="ana")
    b = okra.draft_objective("hire", cycle=quarter.cycle, owner="bo", actor="bo")
    with pytest.raises(AmbiguousReferenceError) as info:
        okra.objective("Hire")
    assert {c for c, _ in info.value.candidates} == {a.id, b.id}
    assert a.short_id in str(info.value)
    assert b.short_id in str(info.value)


# --- permissions ------------------------------------------------------------------------


def test_authorizer_refuses_and_nothing_is_written(store_url: str, clock: ManualClock) -> None:
    def only_owners_check_in(actor: str, command: str, target: Entity | None) -> bool:
        if command == "check_in":
            return target is not None and getattr(target, "owner", None) == actor
        return True

    with Okra(store_url, clock=clock, authorizer=only_owners_check_in) as okra:
        cycle = okra.plan_cycle(
            "Q", start=clock.now(), end=clock.now() + timedelta(days=90), actor="ana"
        )
        okra.start_cycle(cycle, actor="ana")
        objective = okra.draft_objective("O", cycle=cycle, owner="ana", actor="ana")
        kr = okra.add_key_result(objective, "K", metric=Milestone(), actor="ana")
        okra.activate_objective(objective, actor="ana")
        okra.check_in(kr, value=0, actor="ana")
        error = refused(
            okra, PermissionDeniedError, lambda: okra.check_in(kr, value=1, actor="mallory")
        )
        assert "'mallory' may not check_in" in str(error)


def test_goalposts_do_not_move_after_the_cycle_closed(okra: Okra, quarter: Quarter) -> None:
    okra.close_cycle(quarter.cycle, actor="ana")
    error = refused(
        okra,
        InvalidTransitionError,
        lambda: okra.retarget(quarter.key_result, target=8, reason="late", actor="ana"),
    )
    assert "it is closed" in str(error)
    refused(
        okra,
        InvalidTransitionError,
        lambda: okra.reweight(quarter.key_result, weight=2, actor="ana"),
    )


def test_a_task_title_finds_the_one_still_open(okra: Okra, quarter: Quarter) -> None:
    action = bet(okra, quarter, "Weekly")
    first = okra.add_task(action, "Send the digest", actor="bo")
    okra.complete_task(first, actor="bo")
    second = okra.add_task(action, "Send the digest", actor="bo")
    assert okra.complete_task("send the digest", actor="bo").id == second.id
    with pytest.raises(AmbiguousReferenceError):
        okra.task("Send the digest")


def test_history_of_one_entity_and_of_the_untouched_playbook(okra: Okra, quarter: Quarter) -> None:
    assert list(okra.history(okra.playbook)) == []
    names = [e.wire_name for e in okra.history(quarter.objective.short_id)]
    assert names == ["okra.objective.drafted", "okra.objective.activated"]


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (lambda o, q: o.get([1]), "ref"),
        (lambda o, q: o.objective([]), "objective"),
        (lambda o, q: bet_with(o, q, key_results=5), "key_results"),
        (lambda o, q: bet_with(o, q, expected_effects=None), "expected_effects"),
        (lambda o, q: o.retarget(q.key_result, metric=5, reason="r", actor="a"), "metric"),
        (lambda o, q: o.retarget(q.key_result, reason="r", actor="a"), "target"),
        (lambda o, q: o.check_in(q.key_result, value=10**400, actor="a"), "value"),
        (
            lambda o, q: o.revise_playbook(check_in_cadence_days=10**400, reason="r", actor="a"),
            "settings.check_in_cadence_days",
        ),
        (lambda o, q: o.draft_objective("x\udcff", cycle=q.cycle, owner="a", actor="a"), "title"),
        (lambda o, q: o.check_in(q.key_result, value=1, actor="\ud800"), "actor"),
        (lambda o, q: Okra(5), "url"),  # type: ignore[arg-type]
        (
            lambda o, q: o.plan_cycle("Forever", start=date(2026, 1, 1), end=date.max, actor="a"),
            "end",
        ),
    ],
)
def test_wrong_types_are_validation_errors_not_crashes(
    okra: Okra, quarter: Quarter, command: Callable[[Okra, Quarter], Any], path: str
) -> None:
    error = refused(okra, ValidationError, lambda: command(okra, quarter))
    assert path in paths(error)


def bet_with(okra: Okra, quarter: Quarter, **overrides: Any) -> Action:
    fields: dict[str, Any] = {
        "key_results": [quarter.key_result],
        "hypothesis": "h",
        "owner": "bo",
        "investment": 1,
        "actor": "bo",
    }
    return okra.propose_action("A", **{**fields, **overrides})


def test_a_correction_cannot_drop_the_effective_time(okra: Okra, quarter: Quarter) -> None:
    check_in = okra.check_in(quarter.key_result, value=10, actor="bo")
    error = refused(
        okra,
        ValidationError,
        lambda: okra.correct_check_in(
            check_in,
            effective_at=None,  # type: ignore[arg-type]
            reason="r",
            actor="bo",
        ),
    )
    assert paths(error) == ("effective_at",)


def test_precise_confidence_is_kept_exactly(okra: Okra, quarter: Quarter) -> None:
    stated = Confidence.on(ConfidenceScale.PROBABILITY, 1 / 3)
    check_in = okra.check_in(quarter.key_result, value=10, confidence=stated, actor="bo")
    assert check_in.confidence == stated
    assert Confidence.on("zero_to_ten", 7).given == "7"


def test_a_closed_instance_says_so(store_url: str) -> None:
    okra = Okra(store_url)
    okra.close()
    with pytest.raises(StorageError, match="closed"):
        okra.cycles()


def test_an_unopenable_store_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="cannot open store"):
        Okra(f"sqlite:///{blocker / 'okra.sqlite'}")


def test_measuring_after_a_retarget_keeps_the_original_when_it_no_longer_fits(
    okra: Okra, quarter: Quarter
) -> None:
    kr = okra.add_key_result(
        quarter.objective,
        "Backlog",
        metric=Change(baseline=None, target=0, stretch=-10),
        actor="ana",
    )
    okra.retarget(kr, metric=Change(baseline=None, target=0), reason="no stretch", actor="ana")
    kr = okra.measure_baseline(kr, baseline=-50, actor="ana")  # an increase after all
    assert kr.metric == Change(baseline=-50, target=0)
    assert kr.original_metric == Change(baseline=None, target=0, stretch=-10)
    state: AnyEntity | None = None
    for event in okra.history(kr):
        state = project(state, event)
    assert state == kr
