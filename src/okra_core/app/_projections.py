"""The query side of the read models: progress, alignment, focus, scores, bets, time travel.

Each query builds the World it is asked about (now by default; *as of* an
instant; *as known at* an instant) and hands it to a pure projection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from uuid import UUID

from ..domain._action import Action
from ..domain._checks import check_text, raise_if
from ..domain._cycle import Cycle
from ..domain._errors import (
    FieldError,
    NotFoundError,
    ValidationError,
)
from ..domain._events import (
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    Event,
)
from ..domain._fold import AnyEntity
from ..domain._key_result import KeyResult
from ..domain._objective import Objective
from ..read._alignment import AlignmentTree, alignment_tree, orphans
from ..read._bets import BetsLedger, Calibration, bets_ledger, calibration
from ..read._explain import Explanation, explain_cycle, explain_key_result, explain_objective
from ..read._focus import FocusList, focus
from ..read._history import as_of as _as_of
from ..read._lint import LintReport, lint_store
from ..read._progress import (
    CycleProgress,
    KeyResultProgress,
    ObjectiveProgress,
    OwnerProgress,
    cycle_progress,
    key_result_progress,
    objective_progress,
    owner_progress,
)
from ..read._review import BusinessReview, business_review, lineage
from ..read._scores import Scorecard, scorecard
from ..read._world import World
from ._context import Collaborator
from ._inputs import When, collect, instant
from ._refs import Ref, kind_name, named_id

__all__ = ["Projections"]


class Projections(Collaborator):
    """Answers questions about progress, alignment, focus, scores and bets, now or then."""

    def key_result_progress(
        self, key_result: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> KeyResultProgress:
        """Attainment, pace, confidence and forecast of one key result."""
        with self.reading(as_of, as_known_at) as world:
            return key_result_progress(world, self._refs.in_world(world, KeyResult, key_result))

    def objective_progress(
        self, objective: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> ObjectiveProgress:
        """An objective's progress rolled up from its key results and contributors."""
        with self.reading(as_of, as_known_at) as world:
            return objective_progress(world, self._refs.in_world(world, Objective, objective))

    def cycle_progress(
        self, cycle: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> CycleProgress:
        """The dashboard of a cycle: every objective's progress, per owner and overall."""
        with self.reading(as_of, as_known_at) as world:
            return cycle_progress(world, self._refs.in_world(world, Cycle, cycle))

    def owner_progress(
        self,
        owner: str,
        *,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> OwnerProgress:
        """Progress of everything one person owns (in one cycle, or in open cycles)."""
        raise_if(check_text("owner", owner))
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return owner_progress(world, owner.strip(), in_cycle)

    def alignment_tree(
        self, *, cycle: Ref | None = None, as_of: When = None, as_known_at: When = None
    ) -> AlignmentTree:
        """Objectives as a tree, from those aligned to nothing down through their links."""
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return alignment_tree(world, in_cycle)

    def orphans(
        self, *, cycle: Ref | None = None, as_of: When = None, as_known_at: When = None
    ) -> list[Objective]:
        """Objectives aligned to nothing, with nothing aligned to them."""
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return orphans(world, in_cycle)

    def focus(
        self,
        *,
        owner: str | None = None,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> FocusList:
        """What needs attention this week, ranked, each item with its reason."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return focus(world, owner=owner.strip() if owner else None, cycle=in_cycle)

    def lint(
        self,
        cycle: Ref | None = None,
        *,
        rules: Sequence[str] | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> LintReport:
        """Check how the OKRs are written: okra's lint rules and the plugins'.

        Args:
            cycle: the cycle to lint (default: every cycle not closed).
            rules: only these rule codes (default: every rule the playbook's
                ``lint`` settings do not switch off).
            as_of: lint the OKRs as they were at that instant.
            as_known_at: only what had been recorded by then.

        Returns:
            The findings, errors first; rules that failed are in ``problems``.

        Example:
            >>> from datetime import date
            >>> with Okra("memory://") as okra:
            ...     q = okra.plan_cycle("Q1", start=date(2026, 1, 1),
            ...                         end=date(2026, 3, 31), actor="ana")
            ...     goal = okra.draft_objective("Launch the new website", cycle=q,
            ...                                 owner="ana", actor="ana")
            ...     [f.rule for f in okra.lint(q).findings]
            ['okra.no-key-results', 'okra.objective-task']
        """
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return lint_store(self._ctx.okra, world, in_cycle, rules)

    def scorecard(self, cycle: Ref, *, as_of: When = None, as_known_at: When = None) -> Scorecard:
        """Grades of a cycle's key results and objectives, read by kind."""
        with self.reading(as_of, as_known_at) as world:
            return scorecard(world, self._refs.in_world(world, Cycle, cycle))

    def business_review(
        self, cycle: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> BusinessReview:
        """A cycle's review per owner: scores, committed objectives missed, learnings."""
        with self.reading(as_of, as_known_at) as world:
            return business_review(world, self._refs.in_world(world, Cycle, cycle))

    def bets(
        self,
        *,
        cycle: Ref | None = None,
        owner: str | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> BetsLedger:
        """The ledger of actions: investment, expected and observed effect, outcome."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return bets_ledger(world, cycle=in_cycle, owner=owner.strip() if owner else None)

    def calibration(
        self,
        *,
        owner: str | None = None,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> Calibration:
        """Stated confidence against final outcomes, per owner (Brier scores)."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self.reading(as_of, as_known_at) as world:
            in_cycle = self._refs.in_world(world, Cycle, cycle) if cycle is not None else None
            return calibration(world, owner=owner.strip() if owner else None, cycle=in_cycle)

    def world(self, *, as_of: When = None, as_known_at: When = None) -> World:
        """Every entity at one instant, for your own projections (see :class:`World`).

        The world is a snapshot: later commands do not change it.
        """
        with self.reading(as_of, as_known_at) as world:
            if world.known_at is None and world.at == self._ctx.now():
                return World(dict(self._ctx.state.states), at=world.at)
            return world

    def state(self, ref: Ref, *, as_of: When = None, as_known_at: When = None) -> AnyEntity:
        """One entity as it was: *as of* an instant and/or *as known at* an instant.

        ``as_of`` gives what was true then, with everything known now (a check-in
        backdated to before ``as_of`` counts, even if recorded after it);
        ``as_known_at`` gives only what had been recorded by then, so a report
        made that day can be reproduced exactly. A date means the end of that day.
        """
        with self._ctx.lock:
            direct = named_id(ref)
            past = as_of is not None or as_known_at is not None
            if past and direct is not None and not self._ctx.state.restored:
                # Nothing folded yet (a fresh instance): read that entity's rows only.
                found = self._from_stream(direct, as_of, as_known_at)
                if found is not None:
                    return found
            self._ctx.state.refresh()
            entity_id = self._refs.resolve_any(ref)
            at, known = self.instants(as_of, as_known_at)
            current = self._ctx.state.current(entity_id)
            if at is None:
                return current
            return _past(current, self._ctx.state.past(entity_id, at, known), at)

    def _from_stream(self, entity_id: UUID, as_of: When, as_known_at: When) -> AnyEntity | None:
        """:meth:`state` in the past from the entity's own stream; None to take the usual path.

        The usual path also answers anything wrong with the question, in its order.
        """
        try:
            at, known = self.instants(as_of, as_known_at)
        except ValidationError:
            return None
        if at is None:
            return None
        indexed = self._ctx.state.indexed(entity_id, at, known)
        if indexed is not None:
            return _past(indexed[0], indexed[1], at)
        history = self._ctx.state.from_stream(entity_id)
        if history is None or not isinstance(history.latest, _QUERIED):
            return None  # not there (the usual path says so), or the playbook, or not queried
        return _past(history.latest, _as_of(history, at, known), at)

    def explain(self, ref: Ref, *, as_of: When = None, as_known_at: When = None) -> Explanation:
        """Why a key result's attainment, an objective's or a cycle's progress is what it is.

        The answer gives the formula with the numbers filled in, each term (baseline,
        target, latest value; or each rolled-up item with its weight) and the events
        that set them.
        """
        with self.reading(as_of, as_known_at) as world:
            found = self._refs.find_any((Objective, KeyResult, Cycle), ref, "ref")
            state = self._refs.in_world(world, type(found), found.id)
            if isinstance(state, Cycle):
                return explain_cycle(world, state)
            definitions_by = world.at if world.known_at is None else min(world.at, world.known_at)

            def events_of(entity_id: UUID) -> list[Event]:
                history = self._ctx.state.history_of(entity_id)
                events = history.events
                if world.known_at is not None:
                    events = events[: history.count_known_at(world.known_at)]
                defined = history.count_known_at(definitions_by)
                return [e for i, e in enumerate(events) if i < defined or _about_check_ins(e)]

            if isinstance(state, KeyResult):
                return explain_key_result(world, state, events_of)
            assert isinstance(state, Objective)
            return explain_objective(world, state, events_of)

    def lineage(self, key_result: Ref) -> list[KeyResult]:
        """A key result's story across cycles: those it continues and those continuing it.

        Oldest first (see :meth:`continue_objective`).
        """
        with self.reading(None, None) as world:
            return list(lineage(world, self._refs.in_world(world, KeyResult, key_result)))

    @contextlib.contextmanager
    def reading(self, as_of: When, as_known_at: When) -> Iterator[World]:
        """The world a query is about: now, *as of* an instant, or *as known at* one."""
        with self._ctx.lock:
            self._ctx.state.refresh()
            at, known = self.instants(as_of, as_known_at)
            if at is None:
                yield World(self._ctx.state.states, at=self._ctx.now())
                return
            yield self._ctx.state.world_at(at, known)

    def instants(self, as_of: When, as_known_at: When) -> tuple[datetime | None, datetime | None]:
        """``(at, known_at)`` for a query; ``(None, None)`` for the present."""
        if as_of is None and as_known_at is None:
            return None, None
        now = self._ctx.now()
        errors: list[FieldError] = []
        at = collect(errors, lambda: instant("as_of", as_of, now)) if as_of is not None else None
        known = (
            collect(errors, lambda: instant("as_known_at", as_known_at, now))
            if as_known_at is not None
            else None
        )
        raise_if(errors)
        return (at if at is not None else known), known


# --- helpers ---------------------------------------------------------------------------

# The entities state() answers about by their own streams (the playbook has defaults).
_QUERIED = (Cycle, Objective, KeyResult, Action)


def _past(current: AnyEntity, state: AnyEntity | None, at: datetime) -> AnyEntity:
    """``state``, the entity as of ``at``; or the error for one created after ``at``."""
    if state is None:
        raise NotFoundError(
            kind_name(type(current)),
            current.label,
            f"it was created at {current.created_at.isoformat()}, after {at.isoformat()}",
        )
    return state


def _about_check_ins(event: Event) -> bool:
    return isinstance(event, CheckInRecorded | CheckInCorrected | CheckInRetracted)
