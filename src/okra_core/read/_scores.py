"""The scorecard and the business review of a cycle (read side).

A *score* is not *progress*. Progress moves with every check-in; a score is the
immutable grade (0.0 to 1.0, one decimal) each key result gets when its cycle
closes. Before the close, the scorecard shows *provisional* scores: the grade the
close would suggest from the attainment at the instant described.

Rules (see ``docs/scores.md`` for the worked examples):

- A key result's score is its grade when it has one; otherwise it is provisional,
  ``suggest_grade(p)`` with ``p`` its attainment now (``clamp(p, 0, 1)`` rounded
  half up; 0.0 when undefined), exactly the suggestion the close would record.
- An objective is scored when it is active or closed and has key results. Its
  score rolls up its key results' scores with its rollup policy (``mean``: mean
  weighted by key-result weight; ``min``: the lowest; ``sum``: the weighted sum,
  capped at 1.0), then :func:`round_score`. Drafts are listed as not scored,
  abandoned objectives separately with their reason.
- Bands come from the playbook's scoring policy: below ``yellow_from`` red, below
  ``green_from`` yellow, else green.
- The reading depends on the objective's kind (see :class:`Reading`).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ..domain._cycle import Cycle
from ..domain._key_result import KeyResult, round_score, suggest_grade
from ..domain._objective import Objective
from ..domain._values import (
    CycleStatus,
    ObjectiveKind,
    ObjectiveStatus,
    RollupPolicy,
    ScoringPolicy,
)
from ._progress import combine
from ._world import World

__all__ = [
    "AbandonedObjective",
    "BandCounts",
    "KeyResultScore",
    "ObjectiveScore",
    "Reading",
    "ReadingCounts",
    "ScoreBand",
    "Scorecard",
    "UnscoredObjective",
    "expectation",
    "key_result_score",
    "mean_score",
    "objective_score",
    "rollup_scores",
    "round_score",
    "score_band",
    "score_reading",
    "scorecard",
]

# --- enumerations and rules ---------------------------------------------------------


class ScoreBand(enum.StrEnum):
    """The colour of a score, from the playbook's scoring policy.

    Below ``yellow_from`` (default 0.4) red, below ``green_from`` (default 0.7)
    yellow, else green: with one-decimal scores and the defaults, 0.0-0.3 red,
    0.4-0.6 yellow, 0.7-1.0 green.
    """

    RED = "red"
    YELLOW = "yellow"
    GREEN = "green"


class Reading(enum.StrEnum):
    """What an objective's score means, given its kind.

    Committed objectives (expected to score ``committed_expectation``, 1.0 by
    default) are ``met`` at or above it, else ``missed``.

    Aspirational objectives (expected about ``aspirational_expectation``, 0.7 by
    default), checked in this order:

    - ``too_easy``: 1.0 while less was expected; perhaps not ambitious enough.
    - ``on_target``: at or above the expectation: a good stretch.
    - ``missed``: below ``yellow_from`` (in the red band): far from it.
    - ``below_target``: the rest, real progress short of the expectation.
    """

    MET = "met"
    ON_TARGET = "on_target"
    TOO_EASY = "too_easy"
    BELOW_TARGET = "below_target"
    MISSED = "missed"


def score_band(score: float, policy: ScoringPolicy) -> ScoreBand:
    """The band of a score under a scoring policy (see :class:`ScoreBand`)."""
    if score < policy.yellow_from:
        return ScoreBand.RED
    if score < policy.green_from:
        return ScoreBand.YELLOW
    return ScoreBand.GREEN


def expectation(kind: ObjectiveKind, policy: ScoringPolicy) -> float:
    """The score an objective of this kind is expected to reach."""
    if kind is ObjectiveKind.COMMITTED:
        return policy.committed_expectation
    return policy.aspirational_expectation


def score_reading(score: float, kind: ObjectiveKind, policy: ScoringPolicy) -> Reading:
    """How a score reads for an objective of ``kind`` (see :class:`Reading`)."""
    expected = expectation(kind, policy)
    if kind is ObjectiveKind.COMMITTED:
        return Reading.MET if score >= expected else Reading.MISSED
    if score >= 1.0 and expected < 1.0:
        return Reading.TOO_EASY
    if score >= expected:
        return Reading.ON_TARGET
    if score < policy.yellow_from:
        return Reading.MISSED
    return Reading.BELOW_TARGET


def rollup_scores(policy: RollupPolicy, scores: Sequence[tuple[float, float]]) -> float:
    """Roll ``(score, weight)`` pairs up into one score, rounded with :func:`round_score`.

    ``mean``: ``Σ wᵢ·sᵢ / Σ wᵢ``; ``min``: the lowest score (weights ignored);
    ``sum``: ``Σ wᵢ·sᵢ`` capped at 1.0.

    Raises:
        ValueError: if there is nothing to roll up.
    """
    rolled = combine(policy, [(weight, score) for score, weight in scores])
    if rolled is None:
        raise ValueError("no scores to roll up")
    return round_score(rolled)


def mean_score(scores: Iterable[float]) -> float | None:
    values = list(scores)
    return round_score(math.fsum(values) / len(values)) if values else None


# --- the scorecard -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class KeyResultScore:
    """A key result's score: its grade, or a provisional one before it is graded.

    Attributes:
        key_result_id, title, owner: the key result.
        weight: its weight in a ``mean`` or ``sum`` rollup.
        score: the grade given (or, when provisional, the suggestion).
        suggested: ``suggest_grade(p)`` from the attainment at close (or now).
        overridden: whether the score differs from the suggestion.
        rationale: why it differs (empty when it does not).
        attainment: uncapped attainment at close (or now) against the current
            target; ``None`` if undefined.
        original_attainment: the same against the target first set.
        original_suggested: the grade the original target would have suggested.
        goalposts_moved: whether the target or baseline was changed since it was
            defined (a retarget or re-baseline).
        provisional: not graded yet: read from the attainment at the instant
            described.
        graded_at, graded_by: when and by whom it was graded (``None`` if provisional).
    """

    key_result_id: UUID
    title: str
    owner: str
    weight: float
    score: float
    suggested: float
    overridden: bool
    rationale: str
    attainment: float | None
    original_attainment: float | None
    original_suggested: float
    goalposts_moved: bool
    provisional: bool
    graded_at: datetime | None
    graded_by: str | None


@attrs.frozen(kw_only=True)
class ObjectiveScore:
    """An objective's score, rolled up from its key results' scores, and its reading.

    Attributes:
        objective_id, title, owner, kind, status: the objective.
        rollup: the policy its key results' scores were rolled up with.
        key_results: the score of each key result, in the order they were defined.
        score: the rollup, rounded to one decimal (halves up).
        original_score: the same rollup of the key results' ``original_suggested``:
            the score against the targets first set.
        band: red, yellow or green.
        expectation: the score its kind is expected to reach.
        reading: what the score means for its kind.
        provisional: at least one key result is not graded yet.
    """

    objective_id: UUID
    title: str
    owner: str
    kind: ObjectiveKind
    status: ObjectiveStatus
    rollup: RollupPolicy
    key_results: tuple[KeyResultScore, ...]
    score: float
    original_score: float
    band: ScoreBand
    expectation: float
    reading: Reading
    provisional: bool


@attrs.frozen(kw_only=True)
class UnscoredObjective:
    """An objective of the cycle left out of the scores (a draft, or one with no key results).

    Attributes:
        objective_id, title, owner, kind, status: the objective.
        reason: why it is not scored.
    """

    objective_id: UUID
    title: str
    owner: str
    kind: ObjectiveKind
    status: ObjectiveStatus
    reason: str


@attrs.frozen(kw_only=True)
class AbandonedObjective:
    """An abandoned objective: listed, never scored.

    Attributes:
        objective_id, title, owner, kind: the objective.
        reason: why it was abandoned.
    """

    objective_id: UUID
    title: str
    owner: str
    kind: ObjectiveKind
    reason: str


@attrs.frozen(kw_only=True)
class BandCounts:
    """How many scored objectives fall in each band.

    Attributes:
        red, yellow, green: the counts.
    """

    red: int = 0
    yellow: int = 0
    green: int = 0


@attrs.frozen(kw_only=True)
class ReadingCounts:
    """How many scored objectives got each reading.

    Attributes:
        met, on_target, too_easy, below_target, missed: the counts.
    """

    met: int = 0
    on_target: int = 0
    too_easy: int = 0
    below_target: int = 0
    missed: int = 0


@attrs.frozen(kw_only=True)
class Scorecard:
    """The scores of a cycle's objectives and key results, read by kind.

    Attributes:
        cycle_id, cycle_name, cycle_status: the cycle.
        at: the instant described.
        provisional: the cycle is not closed, or some key result is not graded:
            the scores may still change.
        policy: the scoring policy the bands and readings come from.
        objectives: the scored objectives (active or closed), in creation order.
        not_scored: drafts and objectives without key results.
        abandoned: abandoned objectives, with their reasons.
        score: the mean of the objectives' scores (equal weights), rounded to one
            decimal; ``None`` when no objective is scored.
        band: the band of ``score`` (``None`` with it).
        bands: how many objectives fall in each band.
        readings: how many objectives got each reading.
        committed_met, committed_total: "committed met: n of m".
    """

    cycle_id: UUID
    cycle_name: str
    cycle_status: CycleStatus
    at: datetime
    provisional: bool
    policy: ScoringPolicy
    objectives: tuple[ObjectiveScore, ...]
    not_scored: tuple[UnscoredObjective, ...]
    abandoned: tuple[AbandonedObjective, ...]
    score: float | None
    band: ScoreBand | None
    bands: BandCounts
    readings: ReadingCounts
    committed_met: int
    committed_total: int


def key_result_score(key_result: KeyResult) -> KeyResultScore:
    """The score of one key result: its grade, or the provisional suggestion from now."""
    grade = key_result.grade
    if grade is not None:
        score, suggested, rationale = grade.score, grade.suggested, grade.rationale
        attainment, original = grade.attainment, grade.original_attainment
        graded_at, graded_by = grade.graded_at, grade.graded_by
    else:
        attainment = key_result.attainment().value
        original = key_result.attainment(original=True).value
        score = suggested = suggest_grade(attainment)
        rationale, graded_at, graded_by = "", None, None
    return KeyResultScore(
        key_result_id=key_result.id,
        title=key_result.title,
        owner=key_result.owner,
        weight=key_result.weight,
        score=score,
        suggested=suggested,
        overridden=score != suggested,
        rationale=rationale,
        attainment=attainment,
        original_attainment=original,
        original_suggested=suggest_grade(original),
        goalposts_moved=key_result.metric != key_result.original_metric,
        provisional=grade is None,
        graded_at=graded_at,
        graded_by=graded_by,
    )


def objective_score(
    objective: Objective, key_results: Sequence[KeyResult], policy: ScoringPolicy
) -> ObjectiveScore:
    """Score one objective from its key results (there must be at least one)."""
    scores = tuple(key_result_score(kr) for kr in key_results)
    score = rollup_scores(objective.rollup, [(s.score, s.weight) for s in scores])
    original = rollup_scores(objective.rollup, [(s.original_suggested, s.weight) for s in scores])
    return ObjectiveScore(
        objective_id=objective.id,
        title=objective.title,
        owner=objective.owner,
        kind=objective.kind,
        status=objective.status,
        rollup=objective.rollup,
        key_results=scores,
        score=score,
        original_score=original,
        band=score_band(score, policy),
        expectation=expectation(objective.kind, policy),
        reading=score_reading(score, objective.kind, policy),
        provisional=any(s.provisional for s in scores),
    )


def _unscored_reason(objective: Objective, cycle: Cycle) -> str:
    if objective.status is ObjectiveStatus.DRAFT:
        if cycle.status is CycleStatus.CLOSED:
            return "it was still a draft when the cycle closed: drafts are not graded"
        return "it is a draft: only active and closed objectives are scored"
    return "it has no key results"


def scorecard(world: World, cycle: Cycle) -> Scorecard:
    """The scorecard of a cycle at ``world.at``.

    After the close every key result of an active or closed objective carries its
    grade, and the scorecard reads the grades (never the progress). Before it, the
    scores are provisional: the suggestion from the attainment at ``world.at``.
    """
    policy = world.playbook.settings.scoring
    scored: list[ObjectiveScore] = []
    not_scored: list[UnscoredObjective] = []
    abandoned: list[AbandonedObjective] = []
    for objective in world.objectives(cycle_id=cycle.id):
        key_results = world.key_results(objective.id)
        if objective.status is ObjectiveStatus.ABANDONED:
            abandoned.append(
                AbandonedObjective(
                    objective_id=objective.id,
                    title=objective.title,
                    owner=objective.owner,
                    kind=objective.kind,
                    reason=objective.abandon_reason,
                )
            )
        elif objective.status is ObjectiveStatus.DRAFT or not key_results:
            not_scored.append(
                UnscoredObjective(
                    objective_id=objective.id,
                    title=objective.title,
                    owner=objective.owner,
                    kind=objective.kind,
                    status=objective.status,
                    reason=_unscored_reason(objective, cycle),
                )
            )
        else:
            scored.append(objective_score(objective, key_results, policy))
    overall = mean_score(o.score for o in scored)
    committed = [o for o in scored if o.kind is ObjectiveKind.COMMITTED]
    return Scorecard(
        cycle_id=cycle.id,
        cycle_name=cycle.name,
        cycle_status=cycle.status,
        at=world.at,
        provisional=cycle.status is not CycleStatus.CLOSED or any(o.provisional for o in scored),
        policy=policy,
        objectives=tuple(scored),
        not_scored=tuple(not_scored),
        abandoned=tuple(abandoned),
        score=overall,
        band=score_band(overall, policy) if overall is not None else None,
        bands=BandCounts(**{b.value: sum(o.band is b for o in scored) for b in ScoreBand}),
        readings=ReadingCounts(**{r.value: sum(o.reading is r for o in scored) for r in Reading}),
        committed_met=sum(o.reading is Reading.MET for o in committed),
        committed_total=len(committed),
    )
