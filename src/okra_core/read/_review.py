"""The business review of a cycle, and a key result's story across cycles.

The review gives, per owner, the scores, the committed objectives missed, the
learnings of resolved bets and what carries over into the next cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ..domain._cycle import Cycle
from ..domain._key_result import KeyResult
from ..domain._objective import Objective
from ..domain._values import (
    ContinuationMode,
    CycleStatus,
    ObjectiveKind,
    ObjectiveStatus,
    Outcome,
)
from ._scores import (
    AbandonedObjective,
    KeyResultScore,
    ObjectiveScore,
    Reading,
    mean_score,
    scorecard,
)
from ._world import World

__all__ = [
    "BusinessReview",
    "CarryOver",
    "CommittedMiss",
    "KeyResultLink",
    "Learning",
    "OwnerReview",
    "business_review",
    "lineage",
]


@attrs.frozen(kw_only=True)
class CommittedMiss:
    """A committed objective that scored below the committed expectation.

    Attributes:
        objective_id, title: the objective.
        score, expectation: what it scored and what was expected.
        short_key_results: its key results that scored below the expectation.
    """

    objective_id: UUID
    title: str
    score: float
    expectation: float
    short_key_results: tuple[KeyResultScore, ...]


@attrs.frozen(kw_only=True)
class Learning:
    """What a resolved action (bet) taught.

    Attributes:
        action_id, title, owner: the action.
        outcome: how it resolved.
        learning: what the team found out.
        key_result_ids, key_result_titles: the key results of the owner's
            objectives in the cycle that it served.
        resolved_at: when it was resolved.
    """

    action_id: UUID
    title: str
    owner: str
    outcome: Outcome
    learning: str
    key_result_ids: tuple[UUID, ...]
    key_result_titles: tuple[str, ...]
    resolved_at: datetime | None


@attrs.frozen(kw_only=True)
class KeyResultLink:
    """A key result that continues one of an earlier cycle.

    Attributes:
        from_key_result_id, from_title: the earlier key result.
        to_key_result_id, to_title: the one that continues it.
    """

    from_key_result_id: UUID
    from_title: str
    to_key_result_id: UUID
    to_title: str


@attrs.frozen(kw_only=True)
class CarryOver:
    """An objective of another cycle that continues one of this cycle.

    Attributes:
        from_objective_id, from_title: the objective of this cycle.
        mode: carried over, cloned or extended.
        to_objective_id, to_title, to_owner, to_status: the objective continuing it.
        to_cycle_id, to_cycle_name: the cycle it was continued into.
        key_results: which key results continue which.
    """

    from_objective_id: UUID
    from_title: str
    mode: ContinuationMode
    to_objective_id: UUID
    to_title: str
    to_owner: str
    to_status: ObjectiveStatus
    to_cycle_id: UUID
    to_cycle_name: str
    key_results: tuple[KeyResultLink, ...]


@attrs.frozen(kw_only=True)
class OwnerReview:
    """One owner's part of a business review.

    Attributes:
        owner: who owns the objectives.
        objectives: the scores of their scored objectives (as in the scorecard).
        score: the mean of those scores, rounded; ``None`` if none is scored.
        committed_met, committed_total: their committed objectives met, of all.
        misses: their committed objectives scored below the committed expectation.
        abandoned: their abandoned objectives, with reasons.
        learnings: resolved actions serving key results of their objectives.
        carry_overs: objectives of other cycles that continue theirs.
    """

    owner: str
    objectives: tuple[ObjectiveScore, ...]
    score: float | None
    committed_met: int
    committed_total: int
    misses: tuple[CommittedMiss, ...]
    abandoned: tuple[AbandonedObjective, ...]
    learnings: tuple[Learning, ...]
    carry_overs: tuple[CarryOver, ...]


@attrs.frozen(kw_only=True)
class BusinessReview:
    """A cycle's review, per owner: scores, committed misses, learnings, carry-overs.

    Attributes:
        cycle_id, cycle_name, cycle_status: the cycle.
        at: the instant described.
        provisional: as in the scorecard: the scores may still change.
        score: the cycle's overall score (as in the scorecard).
        committed_met, committed_total: committed objectives met, of all.
        owners: one review per owner of an objective of the cycle, by name.
    """

    cycle_id: UUID
    cycle_name: str
    cycle_status: CycleStatus
    at: datetime
    provisional: bool
    score: float | None
    committed_met: int
    committed_total: int
    owners: tuple[OwnerReview, ...]


def _miss(objective: ObjectiveScore) -> CommittedMiss:
    return CommittedMiss(
        objective_id=objective.objective_id,
        title=objective.title,
        score=objective.score,
        expectation=objective.expectation,
        short_key_results=tuple(
            kr for kr in objective.key_results if kr.score < objective.expectation
        ),
    )


def _learnings(world: World, objectives: Sequence[Objective]) -> tuple[Learning, ...]:
    served: dict[UUID, KeyResult] = {
        kr.id: kr for objective in objectives for kr in world.key_results(objective.id)
    }
    found: dict[UUID, Learning] = {}
    for key_result_id in served:
        for action in world.actions(key_result_id):
            if action.id in found or not action.status.is_resolved:
                continue
            mine = [served[i] for i in action.key_result_ids if i in served]
            found[action.id] = Learning(
                action_id=action.id,
                title=action.title,
                owner=action.owner,
                outcome=Outcome(action.status.value),
                learning=action.learning,
                key_result_ids=tuple(kr.id for kr in mine),
                key_result_titles=tuple(kr.title for kr in mine),
                resolved_at=action.resolved_at,
            )
    order = {a.id: (a.resolved_at, a.created_at) for a in world.actions() if a.id in found}
    return tuple(sorted(found.values(), key=lambda item: order[item.action_id]))


def _carry_overs(world: World, objectives: Sequence[Objective]) -> tuple[CarryOver, ...]:
    mine = {o.id: o for o in objectives}
    found: list[CarryOver] = []
    for successor in world.objectives():
        continues = successor.continues
        if continues is None or continues.from_objective_id not in mine:
            continue
        source = mine[continues.from_objective_id]
        earlier = {kr.id: kr for kr in world.key_results(source.id)}
        links = tuple(
            KeyResultLink(
                from_key_result_id=kr.continues_id,
                from_title=earlier[kr.continues_id].title,
                to_key_result_id=kr.id,
                to_title=kr.title,
            )
            for kr in world.key_results(successor.id)
            if kr.continues_id is not None and kr.continues_id in earlier
        )
        target = world.cycle_of(successor)
        found.append(
            CarryOver(
                from_objective_id=source.id,
                from_title=source.title,
                mode=continues.mode,
                to_objective_id=successor.id,
                to_title=successor.title,
                to_owner=successor.owner,
                to_status=successor.status,
                to_cycle_id=target.id,
                to_cycle_name=target.name,
                key_results=links,
            )
        )
    return tuple(found)


def business_review(world: World, cycle: Cycle) -> BusinessReview:
    """The business review of a cycle at ``world.at``, one part per objective owner.

    Owners are the owners of the cycle's objectives (of any status), sorted by name.
    """
    card = scorecard(world, cycle)
    objectives = world.objectives(cycle_id=cycle.id)
    reviews: list[OwnerReview] = []
    for owner in sorted({o.owner for o in objectives}):
        theirs = [o for o in objectives if o.owner == owner]
        scored = tuple(s for s in card.objectives if s.owner == owner)
        committed = [s for s in scored if s.kind is ObjectiveKind.COMMITTED]
        reviews.append(
            OwnerReview(
                owner=owner,
                objectives=scored,
                score=mean_score(s.score for s in scored),
                committed_met=sum(s.reading is Reading.MET for s in committed),
                committed_total=len(committed),
                misses=tuple(_miss(s) for s in committed if s.reading is Reading.MISSED),
                abandoned=tuple(a for a in card.abandoned if a.owner == owner),
                learnings=_learnings(world, theirs),
                carry_overs=_carry_overs(world, theirs),
            )
        )
    return BusinessReview(
        cycle_id=cycle.id,
        cycle_name=cycle.name,
        cycle_status=cycle.status,
        at=world.at,
        provisional=card.provisional,
        score=card.score,
        committed_met=card.committed_met,
        committed_total=card.committed_total,
        owners=tuple(reviews),
    )


# --- a key result's story across cycles ------------------------------------------------------


def lineage(world: World, key_result: KeyResult) -> tuple[KeyResult, ...]:
    """A key result's story across cycles, oldest first.

    Follows ``continues_id`` back to the key result it all started from, then
    forward to every key result that continues it (directly or through others;
    one may be continued more than once). The earlier ones come first, then the
    key result itself, then its successors ordered by their cycle's start and
    their creation.
    """
    earlier: list[KeyResult] = []
    seen = {key_result.id}
    current = key_result
    while current.continues_id is not None and current.continues_id not in seen:
        found = world.get(current.continues_id)
        if not isinstance(found, KeyResult):
            break
        earlier.append(found)
        seen.add(found.id)
        current = found
    successors: dict[UUID, list[KeyResult]] = {}
    for kr in world.key_results():
        if kr.continues_id is not None:
            successors.setdefault(kr.continues_id, []).append(kr)
    later: list[KeyResult] = []
    frontier = [key_result.id]
    while frontier:
        nxt: list[UUID] = []
        for kr_id in frontier:
            for kr in successors.get(kr_id, []):
                if kr.id not in seen:
                    seen.add(kr.id)
                    later.append(kr)
                    nxt.append(kr.id)
        frontier = nxt

    def when(kr: KeyResult) -> tuple[datetime, datetime]:
        return (world.cycle_of(world.objective_of(kr)).starts_at, kr.created_at)

    return (*reversed(earlier), key_result, *sorted(later, key=when))
