"""The command side of objectives: draft, revise, reassign, lifecycle, alignment, continuation."""

from __future__ import annotations

import contextlib
from typing import Any
from uuid import uuid4

import attrs

from ..domain._checks import check_text, raise_if
from ..domain._cycle import Cycle
from ..domain._errors import (
    FieldError,
    ValidationError,
)
from ..domain._events import (
    Event,
    KeyResultContinued,
    KeyResultDefined,
    ObjectiveContinued,
    ObjectiveDrafted,
)
from ..domain._key_result import KeyResult
from ..domain._metrics import Change, Metric
from ..domain._objective import Objective
from ..domain._values import (
    AlignmentLink,
    ContinuationMode,
    ObjectiveKind,
    ObjectiveStatus,
    RollupPolicy,
)
from ._context import Collaborator
from ._inputs import check_weight, enum_value
from ._refs import Ref

__all__ = ["ObjectiveCommands"]


class ObjectiveCommands(Collaborator):
    """Drafts objectives and moves them through their lifecycle and links."""

    def draft_objective(
        self,
        title: str,
        *,
        cycle: Ref,
        owner: str,
        actor: str,
        kind: ObjectiveKind | str = ObjectiveKind.COMMITTED,
        description: str = "",
        rollup: RollupPolicy | str = RollupPolicy.MEAN,
    ) -> Objective:
        """Draft an objective in a cycle that is not closed."""
        with self._ctx.command(actor) as stamp:
            errors = check_text("title", title) + check_text("owner", owner)
            errors += check_text("description", description, required=False)
            objective_kind = enum_value(errors, "kind", ObjectiveKind, kind)
            rollup_policy = enum_value(errors, "rollup", RollupPolicy, rollup)
            cycle_state = self._refs.find(Cycle, cycle, "cycle")
            raise_if(errors)
            self._ctx.require_cycle_open(cycle_state, "draft an objective in")
            self._ctx.authorize(actor, "draft_objective", cycle_state)
            event = ObjectiveDrafted(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                title=title.strip(),
                description=description.strip(),
                owner=owner.strip(),
                cycle_id=cycle_state.id,
                kind=objective_kind,
                rollup=rollup_policy,
            )
            return self._ctx.save_one(Objective, event)

    def revise_objective(
        self,
        objective: Ref,
        *,
        actor: str,
        title: str | None = None,
        description: str | None = None,
    ) -> Objective:
        """Reword an objective's title and/or description."""
        with self._ctx.command(actor) as stamp:
            errors = check_text("title", title) if title is not None else []
            if description is not None:
                errors += check_text("description", description, required=False)
            raise_if(errors)
            state = self._ctx.target(Objective, objective, actor, "revise_objective")
            new_title = title.strip() if title is not None else state.title
            new_description = description.strip() if description is not None else state.description
            if (new_title, new_description) == (state.title, state.description):
                raise ValidationError.single("title", "expected a new title or description")
            event = state.revise(stamp, title=new_title, description=new_description)
            return self._ctx.save_one(Objective, event)

    def reassign_objective(self, objective: Ref, *, owner: str, actor: str) -> Objective:
        """Give an objective a new owner."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_text("owner", owner))
            state = self._ctx.target(Objective, objective, actor, "reassign_objective")
            if owner.strip() == state.owner:
                raise ValidationError.single(
                    "owner", f"expected someone other than {state.owner!r}"
                )
            return self._ctx.save_one(Objective, state.reassign(stamp, owner=owner.strip()))

    def activate_objective(self, objective: Ref, *, actor: str) -> Objective:
        """Commit to a draft objective; it needs at least one key result."""
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Objective, objective, actor, "activate_objective")
            self._ctx.require_cycle_open(self._refs.cycle_of(state), "activate an objective in")
            count = len(self._refs.key_results_of(state.id))
            return self._ctx.save_one(Objective, state.activate(stamp, key_result_count=count))

    def close_objective(self, objective: Ref, *, actor: str) -> Objective:
        """Close an active objective."""
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Objective, objective, actor, "close_objective")
            return self._ctx.save_one(Objective, state.close(stamp))

    def abandon_objective(self, objective: Ref, *, reason: str, actor: str) -> Objective:
        """Give up on a draft or active objective, saying why."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_text("reason", reason))
            state = self._ctx.target(Objective, objective, actor, "abandon_objective")
            return self._ctx.save_one(Objective, state.abandon(stamp, reason=reason.strip()))

    def align(
        self,
        objective: Ref,
        *,
        parent: Ref,
        actor: str,
        link: AlignmentLink | str = AlignmentLink.CONTRIBUTES,
        weight: float = 1.0,
    ) -> Objective:
        """Link an objective to a parent objective or key result.

        ``contributes`` links count in the parent's rollup with ``weight``;
        ``supports`` links are shown but not counted. Links that would make a loop
        (an objective above itself) are refused.
        """
        with self._ctx.command(actor) as stamp:
            errors: list[FieldError] = []
            link_type = enum_value(errors, "link", AlignmentLink, link)
            errors += check_weight("weight", weight)
            raise_if(errors)
            state = self._ctx.target(Objective, objective, actor, "align")
            target = self._ctx.note(self._refs.find_any((Objective, KeyResult), parent, "parent"))
            parent_objective = (
                self._refs.objective_of(target) if isinstance(target, KeyResult) else target
            )
            assert isinstance(parent_objective, Objective)
            if parent_objective.id == state.id:
                raise ValidationError.single(
                    "parent", f"expected another objective than {state.title!r} or its key results"
                )
            if self._refs.is_above(state.id, parent_objective.id):
                raise ValidationError.single(
                    "parent",
                    f"{target.label!r} is aligned (directly or not) to {state.title!r}; "
                    "this link would make a loop",
                )
            event = state.align(
                stamp,
                parent_id=target.id,
                parent_kind=target.entity_kind,
                link=link_type,
                weight=float(weight),
            )
            return self._ctx.save_one(Objective, event)

    def unalign(self, objective: Ref, *, parent: Ref, actor: str) -> Objective:
        """Remove an objective's link to a parent."""
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Objective, objective, actor, "unalign")
            target = self._refs.find_any((Objective, KeyResult), parent, "parent")
            return self._ctx.save_one(Objective, state.unalign(stamp, parent_id=target.id))

    def continue_objective(
        self,
        objective: Ref,
        *,
        cycle: Ref,
        actor: str,
        mode: ContinuationMode | str = ContinuationMode.CARRY_OVER,
    ) -> Objective:
        """Continue an objective into another cycle, as a new draft linked to it.

        ``carry_over`` takes only the key results not yet met, with a change
        metric's baseline moved to its latest value (the rest of the way is the new
        goal, dropping a commit or stretch level already passed); ``clone`` takes
        every key result as defined now, with change
        baselines to be measured afresh (a recurring objective); ``extend`` takes
        every key result unchanged, so progress keeps counting from the original
        baseline. Alignment links are not copied. Each new key result records the
        one it continues, so its story can be followed across cycles.
        """
        with self._ctx.command(actor) as stamp:
            errors: list[FieldError] = []
            how = enum_value(errors, "mode", ContinuationMode, mode)
            raise_if(errors)
            source = self._refs.find(Objective, objective, "objective")
            target = self._refs.find(Cycle, cycle, "cycle")
            own = self._refs.cycle_of(source)
            if target.id == own.id:
                raise ValidationError.single(
                    "cycle", f"expected another cycle than {target.name!r}, the objective's own"
                )
            if target.starts_at < own.starts_at:
                raise ValidationError.single(
                    "cycle",
                    f"expected a cycle starting no earlier than {own.name!r}; "
                    f"{target.name!r} starts before it",
                )
            for other in self._refs.all(Objective):
                if (
                    other.cycle_id == target.id
                    and other.continues is not None
                    and other.continues.from_objective_id == source.id
                    and other.status is not ObjectiveStatus.ABANDONED
                ):
                    raise ValidationError.single(
                        "cycle",
                        f"{source.title!r} is already continued in {target.name!r} "
                        f"(objective {other.short_id}); abandon that one first",
                    )
            self._ctx.require_cycle_open(target, "continue an objective into")
            self._ctx.authorize(actor, "continue_objective", target)
            key_results = [self._ctx.note(kr) for kr in self._refs.key_results_of(source.id)]
            if how is ContinuationMode.CARRY_OVER:
                key_results = [kr for kr in key_results if not _met(kr)]
                if not key_results:
                    raise ValidationError.single(
                        "mode",
                        f"every key result of {source.title!r} is met: nothing to carry over; "
                        "use clone or extend to go on with it",
                    )
            new_id = uuid4()
            events: list[Event] = [
                ObjectiveDrafted(
                    originator_id=new_id,
                    originator_version=1,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    title=source.title,
                    description=source.description,
                    owner=source.owner,
                    cycle_id=target.id,
                    kind=source.kind,
                    rollup=source.rollup,
                ),
                ObjectiveContinued(
                    originator_id=new_id,
                    originator_version=2,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    from_objective_id=source.id,
                    mode=how,
                ),
            ]
            for key_result in key_results:
                kr_id = uuid4()
                events += [
                    KeyResultDefined(
                        originator_id=kr_id,
                        originator_version=1,
                        recorded_at=stamp.at,
                        actor=stamp.actor,
                        objective_id=new_id,
                        title=key_result.title,
                        metric=_continued_metric(key_result, how),
                        unit=key_result.unit,
                        weight=key_result.weight,
                        owner=key_result.owner,
                    ),
                    KeyResultContinued(
                        originator_id=kr_id,
                        originator_version=2,
                        recorded_at=stamp.at,
                        actor=stamp.actor,
                        from_key_result_id=key_result.id,
                    ),
                ]
            self._ctx.save(*events)
            return self._refs.get(Objective, new_id)


# --- helpers ---------------------------------------------------------------------------


def _met(key_result: KeyResult) -> bool:
    attainment = key_result.attainment().value
    return attainment is not None and attainment >= 1


def _continued_metric(key_result: KeyResult, mode: ContinuationMode) -> Metric:
    """The metric a continued key result starts with (see ``continue_objective``)."""
    metric = key_result.metric
    if not isinstance(metric, Change) or mode is ContinuationMode.EXTEND:
        return metric
    if mode is ContinuationMode.CLONE:
        return attrs.evolve(metric, baseline=None)
    latest = key_result.current_value
    if latest is None:
        return metric  # nothing newer than the baseline: it still stands
    # A level the latest value already passed (the commit level, say) means
    # nothing for the rest of the way: it is dropped, the other levels kept.
    dropped: tuple[dict[str, Any], ...] = ({}, {"commit": None}, {"commit": None, "stretch": None})
    for levels in dropped:
        with contextlib.suppress(ValidationError):
            return attrs.evolve(metric, baseline=latest, **levels)
    # It equals the target: nothing left to go; measure the baseline afresh.
    return attrs.evolve(metric, baseline=None, commit=None, stretch=None)
