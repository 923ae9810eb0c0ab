"""Stateful property test: random commands, valid and invalid, and replay from the log.

A hypothesis state machine drives an :class:`okra_core.Okra` store with commands
of every kind while a manual clock moves on. Each command's arguments are either
all valid or (one time in four) have exactly one invalid argument: blank text, a
non-finite number, an unknown reference, a future or naive time, an unknown enum
value, a confidence off the playbook's scale. Valid arguments may still make a
command the lifecycle forbids (closing a cycle twice, checking in on a draft).

After every command:

* a refused command raised an :class:`OkraError` and changed nothing;
* an accepted command wrote exactly one event, and returned what it recorded;
* the command was accepted exactly when the rules (restated here, independently
  of okra's code) say it should be.

After every step, folding the store's log with ``project`` (and, for SQLite,
opening a fresh ``Okra`` on the same file) rebuilds exactly the states that the
live instance's queries return.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import attrs
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from okra_core import (
    PLAYBOOK_ID,
    Action,
    ActionStatus,
    AlignmentLink,
    AnyEntity,
    Change,
    CheckIn,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    ContinuationMode,
    Cycle,
    CycleStatus,
    Event,
    ExpectedEffect,
    Investment,
    KeyResult,
    ManualClock,
    Metric,
    Milestone,
    NotFoundError,
    Objective,
    ObjectiveKind,
    ObjectiveStatus,
    Okra,
    OkraError,
    Outcome,
    Playbook,
    PlaybookSettings,
    Ref,
    RollupPolicy,
    Task,
    ValidationError,
    to_data,
)
from okra_core.domain._fold import Replay, project
from tests.strategies import (
    changes,
    confidences,
    investments,
    metrics,
    metrics_by_kind,
    moderate_floats,
    pace_bands,
    scoring_policies,
    texts,
    titles,
    zones,
)

T = TypeVar("T")
R = TypeVar("R")

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# --- arguments ------------------------------------------------------------------------

blanks = st.sampled_from(["", " ", "\t\n"])
good_actors = st.sampled_from(["ana", "bo", " Čeněk ", "李"])
bad_numbers = st.sampled_from([math.nan, math.inf, -math.inf])
good_weights = st.floats(min_value=0.1, max_value=10.0)
bad_weights = st.sampled_from([0.0, -1.0, math.nan, math.inf])
all_metrics = metrics(numbers=moderate_floats)
metric_of_kind = metrics_by_kind(numbers=moderate_floats)


def enum_arguments(cls: Any) -> st.SearchStrategy[Any]:
    """A member of ``cls``, or its value in another case and with spaces around."""
    member = st.sampled_from(list(cls))
    spelled = member.flatmap(
        lambda m: st.sampled_from([m.value, m.value.upper(), f" {m.value.title()} "])
    )
    return st.one_of(member, spelled)


def member_of(cls: Any, value: object) -> Any:
    """The member okra reads ``value`` as, or None."""
    if isinstance(value, cls):
        return value
    for member in cls:
        if isinstance(value, str) and value.strip().lower() == member.value:
            return member
    return None


def utc_start(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


def utc_end(value: datetime | date) -> datetime:
    """A date as an end means the whole day: up to the next midnight (UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=UTC) + timedelta(days=1)


def change_with(metric: Change, **changes: Any) -> Change | None:
    """``metric`` with ``changes``, or None if that is not a valid metric."""
    try:
        return attrs.evolve(metric, **changes)
    except ValidationError:
        return None


class Args:
    """Draws one command's arguments: all valid, or (one time in four) one of them not."""

    def __init__(self, data: st.DataObject, *aspects: str) -> None:
        self.data = data
        spoil = data.draw(st.sampled_from([False, False, False, True]), label="spoil one")
        self.spoilt = data.draw(st.sampled_from(aspects), label="spoilt") if spoil else None

    @property
    def valid(self) -> bool:
        return self.spoilt is None

    def __call__(
        self, aspect: str, good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]
    ) -> Any:
        return self.data.draw(bad if aspect == self.spoilt else good, label=aspect)

    def text(self, aspect: str) -> str:
        text: str = self(aspect, titles, blanks)
        return text

    def actor(self) -> str:
        actor: str = self("actor", good_actors, blanks)
        return actor

    def weight(self) -> float:
        weight: float = self("weight", good_weights, bad_weights)
        return weight

    def number(self, aspect: str) -> float:
        number: float = self(aspect, moderate_floats, bad_numbers)
        return number

    def enum(self, aspect: str, cls: Any, unknown: str) -> Any:
        return self(aspect, enum_arguments(cls), st.just(unknown))

    def plain(self, strategy: st.SearchStrategy[T], label: str) -> T:
        return self.data.draw(strategy, label=label)


# --- the machine --------------------------------------------------------------------


def has_check_ins(machine: OkraMachine) -> bool:
    return bool(machine.check_ins)


def has_actions(machine: OkraMachine) -> bool:
    return bool(machine.actions)


def has_tasks(machine: OkraMachine) -> bool:
    return bool(machine.tasks)


def has_alignments(machine: OkraMachine) -> bool:
    return any(o.alignments for o in machine.okra.objectives())


class OkraMachine(RuleBasedStateMachine):
    """Commands against one okra store (in memory; see SQLiteMachine)."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.okra = Okra(self.store_url(), clock=self.clock)
        self.cycles: list[UUID] = []
        self.objectives: list[UUID] = []
        self.key_results: list[UUID] = []
        self.actions: list[UUID] = []
        self.tasks: list[UUID] = []
        self.check_ins: list[UUID] = []

    def store_url(self) -> str:
        return "memory://"

    def teardown(self) -> None:
        self.okra.close()

    # --- running a command ------------------------------------------------------------

    def count_events(self) -> int:
        return sum(1 for _ in self.okra.history())

    def snapshot(self) -> tuple[object, ...]:
        okra = self.okra
        return (okra.cycles(), okra.objectives(), okra.key_results(), okra.actions(), okra.playbook)

    def run(self, name: str, command: Callable[[], R], ok: bool, events: int = 1) -> R | None:
        """Run ``command``, which must succeed if ``ok`` and be refused otherwise.

        An accepted command must write exactly ``events`` events.
        """
        count, before = self.count_events(), self.snapshot()
        try:
            result = command()
        except OkraError as exc:
            event(f"{name}: refused ({type(exc).__name__})")
            if ok:
                raise AssertionError(f"{name} was refused, but is valid: {exc!r}") from exc
            assert self.count_events() == count, f"the refused {name} wrote events"
            assert self.snapshot() == before, f"the refused {name} changed the state"
            return None
        event(f"{name}: accepted")
        assert ok, f"{name} was accepted, but should be refused: {result!r}"
        written = self.count_events() - count
        assert written == events, f"{name} wrote {written} events, expected {events}"
        return result

    # --- references and lookups -----------------------------------------------------------

    def ref(
        self, args: Args, aspect: str, ids: list[UUID], fits: list[UUID] | None = None
    ) -> UUID | str:
        """A known entity, by id or by id prefix; an unknown id if that argument is spoilt.

        Half the time the entity is one of ``fits`` (if any), those in a state that
        lets the command succeed: lifecycles then get further than by chance.
        """
        if args.spoilt == aspect or not ids:
            return args.plain(st.uuids(), f"unknown {aspect}")
        if fits and args.plain(st.sampled_from([True, False]), f"{aspect} fits"):
            ids = fits
        chosen = args.plain(st.sampled_from(ids), aspect)
        return chosen if args.plain(st.booleans(), f"{aspect} by id") else chosen.hex[:8]

    def find(self, query: Callable[[Ref], T], ref: Ref) -> T | None:
        try:
            return query(ref)
        except NotFoundError:
            return None

    def find_check_in(self, ref: UUID | str) -> CheckIn | None:
        """The check-in in effect with this id (or id prefix), found without okra's lookup."""
        for key_result in self.okra.key_results():
            for check_in in key_result.check_ins:
                if check_in.id == ref or (isinstance(ref, str) and check_in.id.hex.startswith(ref)):
                    return check_in
        return None

    def find_task(self, ref: UUID | str) -> tuple[Task, Action] | None:
        for action in self.okra.actions():
            for task in action.tasks:
                if task.id == ref or (isinstance(ref, str) and task.id.hex.startswith(ref)):
                    return task, action
        return None

    def key_results_where(self, wanted: Callable[[Metric], bool]) -> list[UUID]:
        """Key results whose metric is ``wanted``; all of them if there are none such."""
        return [k.id for k in self.okra.key_results() if wanted(k.metric)] or self.key_results

    def objective_of(self, key_result: KeyResult) -> Objective:
        return self.okra.objective(key_result.objective_id)

    def cycle_of(self, objective: Objective) -> Cycle:
        return self.okra.cycle(objective.cycle_id)

    def takes_check_ins(self, key_result: KeyResult) -> bool:
        objective = self.objective_of(key_result)
        return (
            objective.status is ObjectiveStatus.ACTIVE
            and self.cycle_of(objective).status is not CycleStatus.CLOSED
        )

    def changeable(self, key_result: KeyResult | None) -> bool:
        """Whether a key result's definition may change: objective open, cycle not closed."""
        if key_result is None:
            return False
        objective = self.objective_of(key_result)
        return objective.is_open and self.cycle_of(objective).status is not CycleStatus.CLOSED

    # --- check-in arguments -------------------------------------------------------------

    def value(self, args: Args, metric: Metric | None) -> float:
        if isinstance(metric, Milestone):
            value: float = args("value", st.sampled_from([0, 1]), st.sampled_from([0.5, 2, -1]))
            return value
        return args.number("value")

    def confidence(self, args: Args, *, allow_none: bool = True) -> object:
        """None, a Confidence, or a value on the playbook's scale; or something off it."""
        scale = self.okra.playbook.settings.confidence_scale
        labels, top = scale.labels, scale.maximum
        on_scale: st.SearchStrategy[object]
        if labels is not None:
            on_scale = st.sampled_from(sorted(labels)).flatmap(
                lambda label: st.sampled_from([label, label.upper(), f" {label.title()} "])
            )
        else:
            assert top is not None
            on_scale = st.one_of(
                st.integers(0, int(top)),
                st.integers(0, int(top * 10)).map(lambda n: n / 10),
                st.floats(0, top),
            )
        good = st.one_of(confidences(), on_scale)
        if allow_none:
            good = st.none() | good
        # Off every scale: negative, above every maximum, no label, a bool.
        bad = st.sampled_from([-1, 101, "purple", True])
        return args("confidence", good, bad)

    def resolved_confidence(self, given: object) -> Confidence | None:
        """What okra stores for a valid confidence argument."""
        if given is None or isinstance(given, Confidence):
            return given
        assert isinstance(given, int | float | str)
        return Confidence.on(self.okra.playbook.settings.confidence_scale, given)

    def effective_at(self, args: Args, *, allow_none: bool = True) -> datetime | None:
        """None (now) or a backdated time in some zone; a future or naive time if spoilt."""
        now = self.clock.now()
        back = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))
        past = st.builds(lambda b, z: (now - b).astimezone(z), back, zones)
        future = back.map(lambda b: now + b + timedelta(microseconds=1))
        naive = back.map(lambda b: (now - b).replace(tzinfo=None))
        good = st.one_of(st.none(), past) if allow_none else past
        when: datetime | None = args("effective_at", good, st.one_of(future, naive))
        return when

    # --- a quarter under way, to start from ---------------------------------------------

    @initialize(data=st.data())
    def two_cycles_under_way(self, data: st.DataObject) -> None:
        """A quarter and a half-year, both active, with objectives of every state.

        Two active cycles, so that closing one still leaves work in the other.
        """
        okra, now = self.okra, self.clock.now()
        for name, days in (("Q1", 90), ("H1", 180)):
            start, end = now - timedelta(days=20), now + timedelta(days=days - 20)
            cycle = self.run(
                "plan_cycle",
                partial(okra.plan_cycle, name, start=start, end=end, actor="ana"),
                True,
            )
            assert cycle is not None
            self.cycles.append(cycle.id)
            self.run("start_cycle", partial(okra.start_cycle, cycle.id, actor="ana"), ok=True)
        q1, h1 = self.cycles
        # Two active objectives with key results, and a draft without.
        measured = changes(numbers=moderate_floats, measured=True)
        unmeasured = changes(numbers=moderate_floats, measured=False)
        plans: list[tuple[str, UUID, str, st.SearchStrategy[list[Metric]]]] = [
            # Delight always has a measured Change and one still to be measured.
            (
                "Delight",
                q1,
                "ana",
                st.tuples(measured, unmeasured, st.lists(all_metrics, max_size=2)).map(
                    lambda t: [t[0], t[1], *t[2]]
                ),
            ),
            ("Retain", h1, "bo", st.lists(all_metrics, min_size=1, max_size=3)),
            ("Grow", q1, "bo", st.just([])),
        ]
        for title, cycle_id, owner, metrics_of in plans:
            draft = partial(okra.draft_objective, title, cycle=cycle_id, owner=owner, actor=owner)
            objective = self.run("draft_objective", draft, ok=True)
            assert objective is not None
            self.objectives.append(objective.id)
            for metric in data.draw(metrics_of, label=f"metrics of {title}"):
                add = partial(okra.add_key_result, objective.id, "KR", metric=metric, actor=owner)
                key_result = self.run("add_key_result", add, ok=True)
                assert key_result is not None
                self.key_results.append(key_result.id)
            if title != "Grow":
                activate = partial(okra.activate_objective, objective.id, actor=owner)
                self.run("activate_objective", activate, ok=True)

    # --- the clock ----------------------------------------------------------------------

    @rule()
    def a_day_passes(self) -> None:
        # Hypothesis tries rules with fewer arguments first: this one is harmless.
        self.clock.advance(timedelta(days=1))

    @rule(delta=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=15)))
    def time_passes(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    # --- cycles -----------------------------------------------------------------------

    @rule(data=st.data())
    def plan_cycle(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "name", "span", "parent")
        actor, name = args.actor(), args.text("name")
        start = self.clock.now() + args.plain(st.integers(-90, 30), "offset") * timedelta(days=1)
        start = start.astimezone(args.plain(zones, "zone"))
        days = args("span", st.integers(1, 120), st.integers(-3, 0))
        as_dates = args.plain(st.booleans(), "as dates")
        # A date as the end includes that day: a day less makes a spoilt span empty.
        end = start + timedelta(days=days - (1 if as_dates and days <= 0 else 0))
        if not as_dates and days > 0:
            end += timedelta(hours=args.plain(st.integers(0, 23), "hours"))
        start_arg: datetime | date = start.date() if as_dates else start
        end_arg: datetime | date = end.date() if as_dates else end
        with_parent = args.spoilt == "parent" or args.plain(st.booleans(), "with parent")
        parent_ref = self.ref(args, "parent", self.cycles) if with_parent else None
        starts_at, ends_at = utc_start(start_arg), utc_end(end_arg)
        parent = self.find(self.okra.cycle, parent_ref) if parent_ref is not None else None
        ok = (
            args.valid
            and ends_at > starts_at
            and (parent is None or (parent.starts_at <= starts_at and ends_at <= parent.ends_at))
        )
        cycle = self.run(
            "plan_cycle",
            partial(
                self.okra.plan_cycle,
                name,
                start=start_arg,
                end=end_arg,
                actor=actor,
                parent=parent_ref,
            ),
            ok,
        )
        if cycle is not None:
            self.cycles.append(cycle.id)
            assert (cycle.name, cycle.starts_at, cycle.ends_at) == (
                name.strip(),
                starts_at,
                ends_at,
            )
            assert cycle.parent_id == (parent.id if parent is not None else None)
            assert (cycle.status, cycle.created_at) == (CycleStatus.PLANNING, self.clock.now())
            assert cycle.created_by == actor.strip()

    @rule(data=st.data())
    def start_cycle(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "cycle")
        fits = [c.id for c in self.okra.cycles(status=CycleStatus.PLANNING)]
        actor, ref = args.actor(), self.ref(args, "cycle", self.cycles, fits)
        state = self.find(self.okra.cycle, ref)
        ok = args.valid and state is not None and state.status is CycleStatus.PLANNING
        cycle = self.run("start_cycle", partial(self.okra.start_cycle, ref, actor=actor), ok)
        assert cycle is None or cycle.status is CycleStatus.ACTIVE

    @rule(data=st.data())
    def close_cycle(self, data: st.DataObject) -> None:
        """Closing grades the key results of active and closed objectives, closes the active."""
        args = Args(data, "actor", "cycle")
        actor, ref = args.actor(), self.ref(args, "cycle", self.cycles)
        state = self.find(self.okra.cycle, ref)
        ok = args.valid and state is not None and state.status is CycleStatus.ACTIVE
        graded_states = (ObjectiveStatus.ACTIVE, ObjectiveStatus.CLOSED)
        objectives = [o for o in self.okra.objectives() if state and o.cycle_id == state.id]
        active = [o for o in objectives if o.status is ObjectiveStatus.ACTIVE]
        graded = [
            (kr, kr.attainment().value)
            for o in objectives
            if o.status in graded_states
            for kr in self.okra.key_results(o.id)
        ]
        close = partial(self.okra.close_cycle, ref, actor=actor)
        cycle = self.run("close_cycle", close, ok, events=1 + len(active) + len(graded))
        if cycle is None:
            return
        assert cycle.status is CycleStatus.CLOSED
        for objective in active:
            assert self.okra.objective(objective.id).status is ObjectiveStatus.CLOSED
        for key_result, attainment in graded:
            grade = self.okra.key_result(key_result.id).grade
            assert grade is not None
            clamped = 0.0 if attainment is None else min(1.0, max(0.0, attainment))
            assert abs(grade.suggested - clamped) <= 0.05 + 1e-9
            assert grade.score == grade.suggested
            assert grade.attainment == attainment

    @rule(data=st.data())
    def continue_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "objective", "cycle", "mode")
        actor = args.actor()
        ref = self.ref(args, "objective", self.objectives)
        cycle_ref = self.ref(args, "cycle", self.cycles)
        mode = args.enum("mode", ContinuationMode, "copy")
        source = self.find(self.okra.objective, ref)
        target = self.find(self.okra.cycle, cycle_ref)
        how = member_of(ContinuationMode, mode)
        taken = []
        if source is not None:
            taken = [
                kr
                for kr in self.okra.key_results(source.id)
                if how is not ContinuationMode.CARRY_OVER
                or kr.attainment().value is None
                or kr.attainment().value < 1  # type: ignore[operator]
            ]
        ok = (
            args.valid
            and source is not None
            and target is not None
            and target.id != source.cycle_id
            and target.starts_at >= self.okra.cycle(source.cycle_id).starts_at
            and target.status is not CycleStatus.CLOSED
            # Once per cycle (unless that continuation was abandoned)...
            and not any(
                o.continues is not None
                and o.continues.from_objective_id == source.id
                and o.status is not ObjectiveStatus.ABANDONED
                for o in self.okra.objectives(cycle=target.id)
            )
            # ...and a carry-over needs something to carry.
            and (how is not ContinuationMode.CARRY_OVER or bool(taken))
        )
        go = partial(self.okra.continue_objective, ref, cycle=cycle_ref, mode=mode, actor=actor)
        new = self.run("continue_objective", go, ok, events=2 + 2 * len(taken))
        if new is None:
            return
        assert source is not None
        assert target is not None
        self.objectives.append(new.id)
        assert (new.cycle_id, new.status, new.title) == (
            target.id,
            ObjectiveStatus.DRAFT,
            source.title,
        )
        assert new.continues is not None
        assert (new.continues.from_objective_id, new.continues.mode) == (source.id, how)
        copies = self.okra.key_results(new.id)
        assert [k.continues_id for k in copies] == [k.id for k in taken]
        for copy, original in zip(copies, taken, strict=True):
            self.key_results.append(copy.id)
            assert copy.metric.kind == original.metric.kind
            if how is ContinuationMode.EXTEND or not isinstance(original.metric, Change):
                assert copy.metric == original.metric

    # --- objectives ---------------------------------------------------------------------

    @rule(data=st.data())
    def draft_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "title", "owner", "kind", "rollup", "cycle")
        actor, title, owner = args.actor(), args.text("title"), args.text("owner")
        kind = args.enum("kind", ObjectiveKind, "bold")
        rollup = args.enum("rollup", RollupPolicy, "median")
        description = args.plain(texts, "description")
        ref = self.ref(args, "cycle", self.cycles)
        cycle = self.find(self.okra.cycle, ref)
        ok = args.valid and cycle is not None and cycle.status is not CycleStatus.CLOSED
        objective = self.run(
            "draft_objective",
            partial(
                self.okra.draft_objective,
                title,
                cycle=ref,
                owner=owner,
                actor=actor,
                kind=kind,
                description=description,
                rollup=rollup,
            ),
            ok,
        )
        if objective is not None:
            self.objectives.append(objective.id)
            assert objective.status is ObjectiveStatus.DRAFT
            assert (objective.title, objective.owner) == (title.strip(), owner.strip())
            assert objective.description == description.strip()
            assert objective.kind is member_of(ObjectiveKind, kind)
            assert objective.rollup is member_of(RollupPolicy, rollup)

    @rule(data=st.data())
    def revise_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "title", "objective")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        title = args("title", st.none() | titles, blanks)
        description = args.plain(st.none() | texts, "description")
        state = self.find(self.okra.objective, ref)
        ok = args.valid and state is not None and state.is_open
        if ok and state is not None:
            new_title = state.title if title is None else title.strip()
            new_description = state.description if description is None else description.strip()
            ok = (new_title, new_description) != (state.title, state.description)
        revise = partial(
            self.okra.revise_objective, ref, actor=actor, title=title, description=description
        )
        self.run("revise_objective", revise, ok)

    @rule(data=st.data())
    def reassign_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "owner", "objective")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        owner: str = args("owner", st.sampled_from(["ana", "bo", " cy "]), blanks)
        state = self.find(self.okra.objective, ref)
        ok = args.valid and state is not None and state.is_open and owner.strip() != state.owner
        reassign = partial(self.okra.reassign_objective, ref, owner=owner, actor=actor)
        objective = self.run("reassign_objective", reassign, ok)
        assert objective is None or objective.owner == owner.strip()

    @rule(data=st.data())
    def activate_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "objective")
        fits = [o.id for o in self.okra.objectives(status=ObjectiveStatus.DRAFT)]
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives, fits)
        state = self.find(self.okra.objective, ref)
        ok = (
            args.valid
            and state is not None
            and state.status is ObjectiveStatus.DRAFT
            and self.cycle_of(state).status is not CycleStatus.CLOSED
            and any(k.objective_id == state.id for k in self.okra.key_results())
        )
        activate = partial(self.okra.activate_objective, ref, actor=actor)
        objective = self.run("activate_objective", activate, ok)
        assert objective is None or objective.status is ObjectiveStatus.ACTIVE

    @rule(data=st.data())
    def close_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "objective")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        state = self.find(self.okra.objective, ref)
        ok = args.valid and state is not None and state.status is ObjectiveStatus.ACTIVE
        objective = self.run(
            "close_objective", partial(self.okra.close_objective, ref, actor=actor), ok
        )
        assert objective is None or objective.status is ObjectiveStatus.CLOSED

    @rule(data=st.data())
    def abandon_objective(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "reason", "objective")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        reason = args.text("reason")
        state = self.find(self.okra.objective, ref)
        ok = args.valid and state is not None and state.is_open
        abandon = partial(self.okra.abandon_objective, ref, reason=reason, actor=actor)
        objective = self.run("abandon_objective", abandon, ok)
        if objective is not None:
            assert objective.status is ObjectiveStatus.ABANDONED
            assert objective.abandon_reason == reason.strip()

    def is_above(self, objective_id: UUID, start_id: UUID) -> bool:
        """Whether ``objective_id`` is reached going up the alignments from ``start_id``."""
        seen: set[UUID] = set()
        todo = [start_id]
        while todo:
            current = todo.pop()
            if current == objective_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            for link in self.okra.objective(current).alignments:
                parent = self.find(self.okra.key_result, link.parent_id)
                todo.append(parent.objective_id if parent is not None else link.parent_id)
        return False

    @rule(data=st.data())
    def align(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "link", "weight", "objective", "parent")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        parent_ref = self.ref(args, "parent", self.objectives + self.key_results)
        link = args.enum("link", AlignmentLink, "blocks")
        weight = args.weight()
        state = self.find(self.okra.objective, ref)
        parent_kr = self.find(self.okra.key_result, parent_ref)
        parent_objective = (
            self.objective_of(parent_kr)
            if parent_kr is not None
            else self.find(self.okra.objective, parent_ref)
        )
        parent_id = parent_kr.id if parent_kr is not None else getattr(parent_objective, "id", None)
        ok = (
            args.valid
            and state is not None
            and parent_objective is not None
            and parent_objective.id != state.id
            and not self.is_above(state.id, parent_objective.id)
            and state.is_open
            and all(a.parent_id != parent_id for a in state.alignments)
        )
        align = partial(
            self.okra.align, ref, parent=parent_ref, actor=actor, link=link, weight=weight
        )
        objective = self.run("align", align, ok)
        if objective is not None:
            latest = objective.alignments[-1]
            assert (latest.parent_id, latest.weight) == (parent_id, weight)
            assert latest.link is member_of(AlignmentLink, link)

    @precondition(has_alignments)
    @rule(data=st.data())
    def unalign(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "objective", "parent")
        aligned = [o.id for o in self.okra.objectives() if o.alignments]
        actor, ref = args.actor(), self.ref(args, "objective", aligned)
        state = self.find(self.okra.objective, ref)
        linked = [a.parent_id for a in state.alignments] if state is not None else []
        parent_ref = self.ref(args, "parent", linked or self.objectives)
        parent = self.find(self.okra.key_result, parent_ref) or self.find(
            self.okra.objective, parent_ref
        )
        ok = (
            args.valid
            and state is not None
            and parent is not None
            and state.is_open
            and any(a.parent_id == parent.id for a in state.alignments)
        )
        unalign = partial(self.okra.unalign, ref, parent=parent_ref, actor=actor)
        objective = self.run("unalign", unalign, ok)
        if objective is not None:
            assert parent is not None
            assert all(a.parent_id != parent.id for a in objective.alignments)

    # --- key results --------------------------------------------------------------------

    @rule(data=st.data())
    def add_key_result(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "title", "weight", "owner", "objective")
        actor, ref = args.actor(), self.ref(args, "objective", self.objectives)
        title, weight = args.text("title"), args.weight()
        owner: str | None = args("owner", st.none() | titles, blanks)
        metric, unit = args.plain(all_metrics, "metric"), args.plain(texts, "unit")
        state = self.find(self.okra.objective, ref)
        ok = (
            args.valid
            and state is not None
            and state.is_open
            and self.cycle_of(state).status is not CycleStatus.CLOSED
        )
        add = partial(
            self.okra.add_key_result,
            ref,
            title,
            metric=metric,
            actor=actor,
            unit=unit,
            weight=weight,
            owner=owner,
        )
        key_result = self.run("add_key_result", add, ok)
        if key_result is not None:
            assert state is not None
            self.key_results.append(key_result.id)
            assert key_result.metric == key_result.original_metric == metric
            assert key_result.owner == (owner.strip() if owner is not None else state.owner)
            assert (key_result.title, key_result.unit) == (title.strip(), unit.strip())

    @rule(data=st.data())
    def measure_baseline(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "baseline", "key_result")
        unmeasured = self.key_results_where(lambda m: isinstance(m, Change) and m.baseline is None)
        actor, ref = args.actor(), self.ref(args, "key_result", unmeasured)
        baseline = args.number("baseline")
        state = self.find(self.okra.key_result, ref)
        metric = state.metric if state is not None else None
        ok = (
            args.valid
            and self.changeable(state)
            and isinstance(metric, Change)
            and metric.baseline is None
            and change_with(metric, baseline=baseline) is not None
        )
        measure = partial(self.okra.measure_baseline, ref, baseline=baseline, actor=actor)
        key_result = self.run("measure_baseline", measure, ok)
        if key_result is not None:
            assert isinstance(key_result.metric, Change)
            assert key_result.metric.baseline == baseline

    @rule(data=st.data())
    def rebaseline(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "baseline", "reason", "key_result")
        measured = self.key_results_where(
            lambda m: isinstance(m, Change) and m.baseline is not None
        )
        actor, ref = args.actor(), self.ref(args, "key_result", measured)
        baseline, reason = args.number("baseline"), args.text("reason")
        state = self.find(self.okra.key_result, ref)
        metric = state.metric if state is not None else None
        ok = (
            args.valid
            and self.changeable(state)
            and isinstance(metric, Change)
            and metric.baseline is not None
            and change_with(metric, baseline=baseline) is not None
        )
        rebaseline = partial(
            self.okra.rebaseline, ref, baseline=baseline, reason=reason, actor=actor
        )
        self.run("rebaseline", rebaseline, ok)

    @rule(data=st.data())
    def retarget(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "reason", "target", "key_result")
        movable = self.key_results_where(lambda m: not isinstance(m, Milestone))
        actor, ref = args.actor(), self.ref(args, "key_result", self.key_results, movable)
        reason = args.text("reason")
        state = self.find(self.okra.key_result, ref)
        how = args.plain(st.sampled_from(["target", "same kind", "any metric", "both"]), "how")
        target: float | None = None
        metric: Metric | None = None
        if how in ("target", "both") or args.spoilt == "target":
            target = args.number("target")
        if how == "same kind" and state is not None:
            metric = args.plain(metric_of_kind[state.metric.kind], "metric")
            if isinstance(state.metric, Change) and isinstance(metric, Change):
                # Keep the baseline, as a retarget must; the levels may then be out of order.
                metric = change_with(metric, baseline=state.metric.baseline) or metric
        elif how != "target":
            metric = args.plain(all_metrics, "metric")
        ok = args.valid and self.changeable(state) and (target is None) != (metric is None)
        if ok and state is not None:
            current = state.metric
            if target is not None:
                new = change_with(current, target=target) if isinstance(current, Change) else None
                ok = new is not None and new != current
            else:
                assert metric is not None
                ok = (
                    metric.kind == current.kind
                    and not isinstance(metric, Milestone)
                    and not (
                        isinstance(metric, Change)
                        and isinstance(current, Change)
                        and metric.baseline != current.baseline
                    )
                    and metric != current
                )
        retarget = partial(
            self.okra.retarget, ref, reason=reason, actor=actor, target=target, metric=metric
        )
        key_result = self.run("retarget", retarget, ok)
        if key_result is not None and state is not None:
            assert key_result.original_metric == state.original_metric
            assert key_result.metric != state.metric

    @rule(data=st.data())
    def reweight(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "weight", "key_result")
        actor, ref = args.actor(), self.ref(args, "key_result", self.key_results)
        weight, reason = args.weight(), args.plain(texts, "reason")
        state = self.find(self.okra.key_result, ref)
        ok = args.valid and self.changeable(state) and state is not None and weight != state.weight
        reweight = partial(self.okra.reweight, ref, weight=weight, actor=actor, reason=reason)
        key_result = self.run("reweight", reweight, ok)
        assert key_result is None or key_result.weight == weight

    # --- check-ins ----------------------------------------------------------------------

    @rule(data=st.data())
    def check_in(self, data: st.DataObject) -> None:
        self.record_check_in(data, backdated=False)

    @rule(data=st.data())
    def backdated_check_in(self, data: st.DataObject) -> None:
        """A check-in true at some time in the past, always with a confidence."""
        self.record_check_in(data, backdated=True)

    def record_check_in(self, data: st.DataObject, *, backdated: bool) -> None:
        aspects = ("actor", "value", "confidence", "effective_at", "source", "key_result")
        args = Args(data, *aspects)
        fits = [k.id for k in self.okra.key_results() if self.takes_check_ins(k)]
        actor, ref = args.actor(), self.ref(args, "key_result", self.key_results, fits)
        state = self.find(self.okra.key_result, ref)
        value = self.value(args, state.metric if state is not None else None)
        confidence = self.confidence(args, allow_none=not backdated)
        effective_at = self.effective_at(args, allow_none=not backdated)
        source = args.enum("source", CheckInSource, "fax")
        narrative = args.plain(texts, "narrative")
        ok = args.valid and state is not None and self.takes_check_ins(state)
        expected_confidence = self.resolved_confidence(confidence) if ok else None
        check_in = self.run(
            "check_in",
            partial(
                self.okra.check_in,
                ref,
                value=value,
                actor=actor,
                confidence=confidence,  # type: ignore[arg-type]
                narrative=narrative,
                effective_at=effective_at,
                source=source,
            ),
            ok,
        )
        if check_in is not None:
            self.check_ins.append(check_in.id)
            assert check_in.value == value
            assert check_in.confidence == expected_confidence
            assert check_in.narrative == narrative.strip()
            assert check_in.effective_at == (effective_at or self.clock.now())
            assert check_in.effective_at.tzinfo is UTC
            assert check_in.recorded_at == self.clock.now()
            assert check_in.source is member_of(CheckInSource, source)
            assert check_in in self.okra.key_result(check_in.key_result_id).check_ins

    @precondition(has_check_ins)
    @rule(data=st.data())
    def correct_check_in(self, data: st.DataObject) -> None:
        aspects = ("actor", "reason", "check_in", "value", "confidence", "effective_at")
        args = Args(data, *aspects)
        in_effect = [c.id for k in self.okra.key_results() for c in k.check_ins]
        actor, ref = args.actor(), self.ref(args, "check_in", self.check_ins, in_effect)
        reason = args.text("reason")
        old = self.find_check_in(ref)
        state = self.okra.key_result(old.key_result_id) if old is not None else None
        fields = {"value", "confidence", "narrative", "effective_at"}
        chosen = args.plain(st.sets(st.sampled_from(sorted(fields))), "fields")
        if args.spoilt in fields:
            chosen.add(args.spoilt)
        changes: dict[str, Any] = {}
        if "value" in chosen:
            changes["value"] = self.value(args, state.metric if state is not None else None)
        if "confidence" in chosen:
            changes["confidence"] = self.confidence(args)
        if "narrative" in chosen:
            changes["narrative"] = args.plain(texts, "narrative")
        if "effective_at" in chosen:
            changes["effective_at"] = self.effective_at(args, allow_none=False)
        ok = args.valid and old is not None and state is not None and self.takes_check_ins(state)
        if ok and old is not None:
            new = (
                changes.get("value", old.value),
                self.resolved_confidence(changes.get("confidence", old.confidence)),
                changes.get("narrative", old.narrative).strip(),
                changes.get("effective_at", old.effective_at),
            )
            ok = new != (old.value, old.confidence, old.narrative, old.effective_at)
        correct = partial(self.okra.correct_check_in, ref, reason=reason, actor=actor, **changes)
        corrected = self.run("correct_check_in", correct, ok)
        if corrected is not None:
            assert old is not None
            assert (corrected.id, corrected.recorded_at, corrected.corrected) == (
                old.id,
                old.recorded_at,
                True,
            )
            if "value" in changes:
                assert corrected.value == changes["value"]

    @precondition(has_check_ins)
    @rule(data=st.data())
    def retract_check_in(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "reason", "check_in")
        in_effect = [c.id for k in self.okra.key_results() for c in k.check_ins]
        actor, ref = args.actor(), self.ref(args, "check_in", self.check_ins, in_effect)
        reason = args.text("reason")
        old = self.find_check_in(ref)
        state = self.okra.key_result(old.key_result_id) if old is not None else None
        ok = args.valid and state is not None and self.takes_check_ins(state)
        retract = partial(self.okra.retract_check_in, ref, reason=reason, actor=actor)
        key_result = self.run("retract_check_in", retract, ok)
        if key_result is not None:
            assert old is not None
            assert old.id in key_result.retracted_ids
            assert all(c.id != old.id for c in key_result.check_ins)

    # --- actions and tasks --------------------------------------------------------------

    @rule(data=st.data())
    def propose_action(self, data: st.DataObject) -> None:
        aspects = ("actor", "title", "hypothesis", "owner", "odds", "investment")
        args = Args(data, *aspects, "key_results", "no key_results", "expected_effects")
        actor, title = args.actor(), args.text("title")
        hypothesis, owner = args.text("hypothesis"), args.text("owner")
        kill_criteria = args.plain(texts, "kill_criteria")
        count = 0 if args.spoilt == "no key_results" else args.plain(st.integers(1, 3), "count")
        refs = [self.ref(args, "key_results", self.key_results) for _ in range(count)]
        linked = [self.find(self.okra.key_result, r) for r in refs]
        known = [k.id for k in linked if k is not None]
        effect_ids = args(
            "expected_effects",
            st.lists(st.sampled_from(known), max_size=2) if known else st.just([]),
            st.lists(st.uuids(), min_size=1, max_size=2),
        )
        effects = [
            ExpectedEffect(key_result_id=i, change=args.plain(moderate_floats, "change"))
            for i in effect_ids
        ]
        investment: Investment | float = args(
            "investment",
            st.one_of(investments, st.floats(0, 100)),
            st.sampled_from([-1.0, math.nan, math.inf]),
        )
        bad_odds = st.sampled_from([1.5, -0.1, math.nan, math.inf])
        odds: float | None = args("odds", st.none() | st.floats(0, 1), bad_odds)
        ok = args.valid and all(k is not None and self.objective_of(k).is_open for k in linked)
        propose = partial(
            self.okra.propose_action,
            title,
            key_results=refs,
            hypothesis=hypothesis,
            owner=owner,
            actor=actor,
            investment=investment,
            expected_effects=effects,
            odds=odds,
            kill_criteria=kill_criteria,
        )
        action = self.run("propose_action", propose, ok)
        if action is not None:
            self.actions.append(action.id)
            assert action.status is ActionStatus.PROPOSED
            assert action.key_result_ids == tuple(dict.fromkeys(known))
            assert action.expected_effects == tuple(effects)
            assert action.odds == odds

    @precondition(has_actions)
    @rule(data=st.data())
    def place_action(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "action")
        fits = [a.id for a in self.okra.actions() if a.status is ActionStatus.PROPOSED]
        actor, ref = args.actor(), self.ref(args, "action", self.actions, fits)
        state = self.find(self.okra.action, ref)
        ok = args.valid and state is not None and state.status is ActionStatus.PROPOSED
        action = self.run("place_action", partial(self.okra.place_action, ref, actor=actor), ok)
        if action is not None:
            assert (action.status, action.placed_at) == (ActionStatus.PLACED, self.clock.now())

    @precondition(has_actions)
    @rule(data=st.data())
    def resolve_action(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "outcome", "learning", "evidence", "action")
        fits = [a.id for a in self.okra.actions() if not a.status.is_resolved]
        actor, ref = args.actor(), self.ref(args, "action", self.actions, fits)
        outcome = args.enum("outcome", Outcome, "won")
        learning = args.text("learning")
        evidence: list[str] = args(
            "evidence", st.lists(titles, max_size=2), st.lists(blanks, min_size=1, max_size=2)
        )
        state = self.find(self.okra.action, ref)
        member = member_of(Outcome, outcome)
        ok = (
            args.valid
            and state is not None
            and not state.status.is_resolved
            and (state.status is ActionStatus.PLACED or member is Outcome.ABANDONED)
        )
        resolve = partial(
            self.okra.resolve_action,
            ref,
            outcome=outcome,
            learning=learning,
            actor=actor,
            evidence=evidence,
        )
        action = self.run("resolve_action", resolve, ok)
        if action is not None:
            assert action.status is ActionStatus(member.value)
            assert action.evidence == tuple(e.strip() for e in evidence)
            assert (action.learning, action.resolved_at) == (learning.strip(), self.clock.now())

    @precondition(has_actions)
    @rule(data=st.data())
    def add_task(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "title", "action")
        actor, ref = args.actor(), self.ref(args, "action", self.actions)
        title = args.text("title")
        state = self.find(self.okra.action, ref)
        ok = args.valid and state is not None and not state.status.is_resolved
        task = self.run("add_task", partial(self.okra.add_task, ref, title, actor=actor), ok)
        if task is not None:
            self.tasks.append(task.id)
            assert (task.title, task.done) == (title.strip(), False)

    @precondition(has_tasks)
    @rule(data=st.data())
    def complete_task(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "task")
        fits = [t.id for a in self.okra.actions() for t in a.tasks if not t.done]
        actor, ref = args.actor(), self.ref(args, "task", self.tasks, fits)
        found = self.find_task(ref)
        ok = (
            args.valid
            and found is not None
            and not found[0].done
            and not found[1].status.is_resolved
        )
        task = self.run("complete_task", partial(self.okra.complete_task, ref, actor=actor), ok)
        if task is not None:
            assert (task.done, task.completed_at) == (True, self.clock.now())
            assert task.completed_by == actor.strip()

    @precondition(has_tasks)
    @rule(data=st.data())
    def reopen_task(self, data: st.DataObject) -> None:
        args = Args(data, "actor", "task")
        fits = [t.id for a in self.okra.actions() for t in a.tasks if t.done]
        actor, ref = args.actor(), self.ref(args, "task", self.tasks, fits)
        found = self.find_task(ref)
        ok = args.valid and found is not None and found[0].done and not found[1].status.is_resolved
        task = self.run("reopen_task", partial(self.okra.reopen_task, ref, actor=actor), ok)
        if task is not None:
            assert (task.done, task.completed_at, task.completed_by) == (False, None, None)

    # --- the playbook -------------------------------------------------------------------

    @rule(data=st.data())
    def revise_playbook(self, data: st.DataObject) -> None:
        settings_ = (
            "check_in_cadence_days",
            "confidence_scale",
            "pace_bands",
            "scoring",
            "max_objectives_per_owner",
        )
        args = Args(data, "actor", "reason", *settings_, "unknown setting")
        actor, reason = args.actor(), args.text("reason")
        whole, not_whole = st.integers(1, 60), st.sampled_from([0, -7, 7.0, True])
        candidates: dict[str, Any] = {
            "check_in_cadence_days": args("check_in_cadence_days", whole, not_whole),
            "confidence_scale": args.enum("confidence_scale", ConfidenceScale, "one_to_five"),
            "pace_bands": args("pace_bands", pace_bands(), st.just({"on_track": 0.9})),
            "scoring": args("scoring", scoring_policies(), st.just(0.5)),
            "max_objectives_per_owner": args("max_objectives_per_owner", whole, not_whole),
        }
        names = args.plain(st.sets(st.sampled_from(settings_), min_size=1, max_size=3), "names")
        if args.spoilt in settings_:
            names.add(args.spoilt)
        changes = {name: candidates[name] for name in sorted(names)}
        if args.spoilt == "unknown setting":
            changes["cadence"] = 14
        current = self.okra.playbook.settings
        expected = current
        if args.valid:
            scale = member_of(ConfidenceScale, changes.get("confidence_scale"))
            clean = {**changes, **({"confidence_scale": scale} if scale is not None else {})}
            expected = attrs.evolve(current, **clean)
        ok = args.valid and expected != current
        revise = partial(self.okra.revise_playbook, reason=reason, actor=actor, **changes)
        playbook = self.run("revise_playbook", revise, ok)
        if playbook is not None:
            assert playbook.id == PLAYBOOK_ID
            assert playbook.settings == expected

    # --- time travel ----------------------------------------------------------------------

    @rule(data=st.data())
    def travel_in_time(self, data: st.DataObject) -> None:
        """*Known at* t is the fold of the events recorded by t; *as of* t adds the
        check-ins known now that were effective by t."""
        span = self.clock.now() - START
        at = START + data.draw(st.timedeltas(min_value=timedelta(0), max_value=span), label="back")
        known: dict[UUID, AnyEntity] = {}
        for recorded in self.okra.history():
            if recorded.recorded_at <= at:
                known[recorded.originator_id] = project(known.get(recorded.originator_id), recorded)
        ids = self.cycles + self.objectives + self.key_results + self.actions
        for entity_id in ids:
            expected = known.get(entity_id)
            if expected is None:
                try:
                    self.okra.state(entity_id, as_known_at=at)
                except NotFoundError:
                    continue
                raise AssertionError(f"{entity_id} found before it was created")
            assert self.okra.state(entity_id, as_known_at=at) == expected
            then = self.okra.state(entity_id, as_of=at)
            if isinstance(expected, KeyResult):
                current = self.okra.key_result(entity_id)
                effective = tuple(c for c in current.check_ins if c.effective_at <= at)
                expected = attrs.evolve(
                    expected, check_ins=effective, retracted_ids=current.retracted_ids
                )
            assert then == expected

    # --- the invariant: the log rebuilds the live state -----------------------------

    def assert_serves(self, okra: Okra, rebuilt: dict[UUID, AnyEntity]) -> None:
        """``okra``'s queries return exactly the states in ``rebuilt``, in order."""

        def of(cls: type[T]) -> list[T]:
            return [s for s in rebuilt.values() if isinstance(s, cls)]

        assert okra.cycles() == sorted(of(Cycle), key=lambda c: (c.starts_at, c.name))
        assert okra.objectives() == of(Objective)
        assert okra.key_results() == of(KeyResult)
        assert okra.actions() == of(Action)
        playbook = rebuilt.get(PLAYBOOK_ID)
        if playbook is None:
            assert okra.playbook == Playbook.default()
            assert okra.playbook.settings == PlaybookSettings()
        else:
            assert okra.playbook == playbook
        # Every accepted creation is there, in order, and nothing else.
        assert [c.id for c in of(Cycle)] == self.cycles
        assert [o.id for o in of(Objective)] == self.objectives
        assert [k.id for k in of(KeyResult)] == self.key_results
        assert [a.id for a in of(Action)] == self.actions
        tasks = [t.id for a in of(Action) for t in a.tasks]
        assert sorted(tasks) == sorted(self.tasks)

    @invariant()
    def the_log_rebuilds_the_live_state(self) -> None:
        log: list[Event] = list(self.okra.history())
        rebuilt: dict[UUID, AnyEntity] = {}
        for recorded in log:
            rebuilt[recorded.originator_id] = project(rebuilt.get(recorded.originator_id), recorded)
        # The log is in the order things happened.
        assert [e.recorded_at for e in log] == sorted(e.recorded_at for e in log)
        self.assert_serves(self.okra, rebuilt)
        # A replay's folding (check-ins gathered, folded at once) gives the same.
        replayed: dict[UUID, AnyEntity] = {}
        replay = Replay(replayed)
        for recorded in log:
            assert replay.add(recorded)
        replay.finish()
        assert replayed == rebuilt
        assert list(replayed) == list(rebuilt)

    @invariant()
    def every_query_answers(self) -> None:
        """Every projection answers on whatever state the commands reached, in JSON."""
        okra = self.okra
        results: list[object] = [
            okra.focus(),
            okra.bets(),
            okra.calibration(),
            okra.alignment_tree(),
            okra.orphans(),
        ]
        for cycle in okra.cycles():
            dashboard = okra.cycle_progress(cycle)
            assert dashboard.progress is None or 0 <= dashboard.progress <= 1
            scores = okra.scorecard(cycle)
            assert scores.score is None or 0 <= scores.score <= 1
            results += [dashboard, scores, okra.business_review(cycle), okra.focus(cycle=cycle)]
            results.append(okra.explain(cycle))
        for objective in okra.objectives():
            progress = okra.objective_progress(objective)
            assert progress.progress is None or 0 <= progress.progress <= 1
            results += [progress, okra.explain(objective), okra.owner_progress(objective.owner)]
        for key_result in okra.key_results():
            results += [okra.key_result_progress(key_result), okra.explain(key_result)]
        json.dumps(to_data(results))

    @invariant()
    def check_ins_are_in_effective_order(self) -> None:
        for key_result in self.okra.key_results():
            order = [(c.effective_at, c.recorded_at) for c in key_result.check_ins]
            assert order == sorted(order)
            ids = [c.id for c in key_result.check_ins]
            assert len(set(ids)) == len(ids)
            assert not set(ids) & key_result.retracted_ids


class SQLiteMachine(OkraMachine):
    """The same commands on an SQLite file; a fresh ``Okra`` on it must see the same."""

    def __init__(self) -> None:
        self.folder = tempfile.TemporaryDirectory(prefix="okra-replay-")
        super().__init__()

    def store_url(self) -> str:
        return "sqlite:///" + str(Path(self.folder.name) / "okra.sqlite")

    def teardown(self) -> None:
        try:
            self.assert_same(persisted=False)
            super().teardown()
        finally:
            self.folder.cleanup()

    @rule()
    def restart(self) -> None:
        """Close (saving the read model) and open again: it continues from where it was."""
        self.okra.close()
        self.okra = Okra(self.store_url(), clock=self.clock)
        self.assert_same(persisted=False)

    @invariant()
    def a_fresh_instance_sees_the_same(self) -> None:
        """A fresh instance starts from the saved read model (saved when the previous
        fresh instance closed, so usually some events behind) and catches up."""
        self.assert_same(persisted=True)

    def assert_same(self, *, persisted: bool) -> None:
        """A fresh instance (from the saved read model, or rebuilt from the whole log)
        agrees with the live one."""
        with Okra(self.store_url(), clock=self.clock, persist_read_model=persisted) as fresh:
            assert list(fresh.history()) == list(self.okra.history())
            assert fresh.cycles() == self.okra.cycles()
            assert fresh.objectives() == self.okra.objectives()
            assert fresh.key_results() == self.okra.key_results()
            assert fresh.actions() == self.okra.actions()
            assert fresh.playbook == self.okra.playbook


# Budgets: about 10 s in memory and 20 s on SQLite (where every step also opens a
# fresh instance, which builds its codec anew) on one core.
replay_settings = settings(
    max_examples=75,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
sqlite_settings = settings(replay_settings, max_examples=20)


def test_replay_in_memory() -> None:
    run_state_machine_as_test(OkraMachine, settings=replay_settings)


def test_replay_on_sqlite() -> None:
    run_state_machine_as_test(SQLiteMachine, settings=sqlite_settings)
