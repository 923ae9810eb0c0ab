"""The command side of cycles: plan, start, and close with a grade for every key result."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import cast
from uuid import UUID, uuid4

from ..domain._checks import check_number, check_text, raise_if
from ..domain._clock import as_utc
from ..domain._cycle import Cycle
from ..domain._errors import (
    FieldError,
    NotFoundError,
    ValidationError,
)
from ..domain._events import (
    Event,
)
from ..domain._key_result import KeyResult, suggest_grade
from ..domain._objective import Objective
from ..domain._values import (
    ObjectiveStatus,
)
from ._context import Collaborator
from ._inputs import collect
from ._refs import Ref, match

__all__ = ["CycleCommands"]


class CycleCommands(Collaborator):
    """Plans, starts and closes cycles."""

    def plan_cycle(
        self,
        name: str,
        *,
        start: datetime | date,
        end: datetime | date,
        actor: str,
        parent: Ref | None = None,
    ) -> Cycle:
        """Plan a cycle, a time box such as a quarter, optionally inside a parent cycle.

        A ``date`` for ``end`` includes that whole day (UTC); a datetime is exact.
        """
        with self._ctx.command(actor) as stamp:
            errors = check_text("name", name)
            starts_at = collect(errors, lambda: as_utc("start", start))
            ends_at = collect(errors, lambda: as_utc("end", end, end_of_day=True))
            if starts_at and ends_at and ends_at <= starts_at:
                errors.append(FieldError("end", "expected an end after the start"))
            parent_cycle = self._refs.find(Cycle, parent, "parent") if parent is not None else None
            if (
                parent_cycle
                and starts_at
                and ends_at
                and not (parent_cycle.starts_at <= starts_at and ends_at <= parent_cycle.ends_at)
            ):
                errors.append(
                    FieldError("parent", f"expected the cycle to lie within {parent_cycle.name!r}")
                )
            raise_if(errors)
            self._ctx.authorize(actor, "plan_cycle", parent_cycle)
            assert starts_at is not None
            assert ends_at is not None
            event = Cycle.plan(
                stamp,
                uuid4(),
                name=name.strip(),
                starts_at=starts_at,
                ends_at=ends_at,
                parent_id=parent_cycle.id if parent_cycle else None,
            )
            return self._ctx.save_one(Cycle, event)

    def start_cycle(self, cycle: Ref, *, actor: str) -> Cycle:
        """Move a cycle from planning to active."""
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Cycle, cycle, actor, "start_cycle")
            return self._ctx.save_one(Cycle, state.start(stamp))

    def close_cycle(
        self,
        cycle: Ref,
        *,
        actor: str,
        grades: Mapping[Ref, float | tuple[float, str]] | None = None,
    ) -> Cycle:
        """Close an active cycle, grade its key results and close its active objectives.

        Every key result of the cycle's active and closed objectives gets an
        immutable grade from 0.0 to 1.0 in steps of 0.1. The suggestion is
        ``clamp(p, 0, 1)`` rounded half up (see :func:`suggest_grade`), with ``p``
        the attainment now. ``grades`` overrides it per key result, as
        ``{key_result: (score, rationale)}``; a score other than the suggestion
        needs a rationale. Draft objectives are left ungraded; abandoned ones too.
        It all happens in one write, or not at all.
        """
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Cycle, cycle, actor, "close_cycle")
            events: list[Event] = [state.close(stamp)]
            objectives = [
                self._ctx.note(o)
                for o in self._refs.all(Objective)
                if o.cycle_id == state.id
                and o.status in (ObjectiveStatus.ACTIVE, ObjectiveStatus.CLOSED)
            ]
            key_results = [kr for o in objectives for kr in self._refs.key_results_of(o.id)]
            overrides = self._grade_overrides(grades, key_results)
            events += [o.close(stamp) for o in objectives if o.status is ObjectiveStatus.ACTIVE]
            for key_result in key_results:
                attainment = key_result.attainment().value
                suggested = suggest_grade(attainment)
                score, rationale = overrides.get(key_result.id, (suggested, ""))
                events.append(
                    key_result.grade_at_close(
                        stamp,
                        score=score,
                        suggested=suggested,
                        attainment=attainment,
                        original_attainment=key_result.attainment(original=True).value,
                        rationale=rationale,
                    )
                )
            self._ctx.save(*events, nothing_added=True)
            return self._refs.get(Cycle, state.id)

    def _grade_overrides(
        self,
        grades: Mapping[Ref, float | tuple[float, str]] | None,
        key_results: Sequence[KeyResult],
    ) -> dict[UUID, tuple[float, str]]:
        if grades is None:
            return {}
        if not isinstance(cast(object, grades), Mapping):
            raise ValidationError.single(
                "grades", "expected a mapping {key_result: (score, rationale)}"
            )
        in_cycle = {kr.id: kr for kr in key_results}
        errors: list[FieldError] = []
        overrides: dict[UUID, tuple[float, str]] = {}
        for ref, given in grades.items():
            path = f"grades[{ref if isinstance(ref, str) else getattr(ref, 'short_id', ref)}]"
            try:
                found = self._graded_key_result(ref, path, key_results)
            except (ValidationError, NotFoundError) as exc:
                errors += (
                    exc.errors if isinstance(exc, ValidationError) else [FieldError(path, str(exc))]
                )
                continue
            if found.id not in in_cycle:
                errors.append(FieldError(path, f"{found.title!r} is not graded in this cycle"))
                continue
            if found.id in overrides:
                errors.append(FieldError(path, f"{found.title!r} is given more than once"))
                continue
            if isinstance(given, tuple) and len(cast(tuple[object, ...], given)) != 2:
                errors.append(FieldError(path, "expected a score or a (score, rationale) pair"))
                continue
            score, rationale = given if isinstance(given, tuple) else (given, "")
            problems = _check_grade(path, score, rationale)
            if not problems:
                score = round(float(score), 1)  # 0.1 + 0.2 is the grade 0.3
                suggested = suggest_grade(found.attainment().value)
                if score != suggested and not str(rationale).strip():
                    problems.append(
                        FieldError(
                            f"{path}.rationale",
                            f"expected a rationale for a score of {score:g} "
                            f"instead of the suggested {suggested:g}",
                        )
                    )
            errors += problems
            if not problems:
                overrides[found.id] = (score, str(rationale).strip())
        raise_if(errors)
        return overrides

    def _graded_key_result(
        self, ref: Ref, path: str, key_results: Sequence[KeyResult]
    ) -> KeyResult:
        """The key result ``ref`` names: among the cycle's own first, then anywhere.

        A title may recur in other cycles once an objective was continued.
        """
        if isinstance(ref, str) and ref.strip():
            with contextlib.suppress(NotFoundError):
                return match("key result", ref, key_results, lambda k: (k.id, k.label))
        return self._refs.find(KeyResult, ref, path)


# --- helpers ---------------------------------------------------------------------------


def _check_grade(path: str, score: object, rationale: object) -> list[FieldError]:
    errors = check_number(f"{path}.score", score, minimum=0)
    if not errors and score > 1:  # type: ignore[operator]
        errors.append(FieldError(f"{path}.score", f"expected a score from 0.0 to 1.0, got {score}"))
    if not errors and abs(score * 10 - round(score * 10)) > 1e-9:  # type: ignore[operator]
        errors.append(
            FieldError(f"{path}.score", f"expected one decimal (0.0, 0.1, ... 1.0), got {score}")
        )
    if not isinstance(rationale, str):
        errors.append(FieldError(f"{path}.rationale", "expected text"))
    return errors
