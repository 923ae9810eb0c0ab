"""The command side of actions (bets) and their tasks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast
from uuid import uuid4

from ..domain._action import Action, Task
from ..domain._checks import check_number, check_probability, check_text, raise_if
from ..domain._errors import (
    FieldError,
)
from ..domain._events import (
    ActionProposed,
)
from ..domain._key_result import KeyResult
from ..domain._values import (
    ExpectedEffect,
    Investment,
    Outcome,
)
from ._context import Collaborator
from ._inputs import collect, enum_value, sequence
from ._refs import Ref

__all__ = ["ActionCommands"]


class ActionCommands(Collaborator):
    """Proposes, places and resolves actions; adds, completes and reopens tasks."""

    def propose_action(
        self,
        title: str,
        *,
        key_results: Sequence[Ref],
        hypothesis: str,
        owner: str,
        actor: str,
        investment: Investment | float,
        expected_effects: Sequence[ExpectedEffect] = (),
        odds: float | None = None,
        kill_criteria: str = "",
    ) -> Action:
        """Propose an action: a bet on moving one or more key results.

        Args:
            title: what the team will try.
            key_results: the key results it serves (at least one).
            hypothesis: why it should work ("we believe X will cause Y").
            owner: who drives it.
            actor: who proposes it.
            investment: what it costs; a number means that many person-days.
            expected_effects: the expected movement of each linked key result.
            odds: the probability, in [0, 1], that it pays off.
            kill_criteria: when to stop, in words.
        """
        with self._ctx.command(actor) as stamp:
            errors = check_text("title", title) + check_text("hypothesis", hypothesis)
            errors += check_text("owner", owner) + check_text(
                "kill_criteria", kill_criteria, required=False
            )
            if odds is not None:
                errors += check_probability("odds", odds)
            cost = collect(errors, lambda: _investment(investment))
            refs = sequence(errors, "key_results", key_results)
            effects = tuple(sequence(errors, "expected_effects", expected_effects))
            if not refs:
                raise_if([*errors, FieldError("key_results", "expected at least one key result")])
            linked = [
                self._refs.find(KeyResult, ref, f"key_results[{i}]") for i, ref in enumerate(refs)
            ]
            linked_ids = tuple(dict.fromkeys(k.id for k in linked))
            for i, effect in enumerate(effects):
                if not isinstance(cast(object, effect), ExpectedEffect):
                    errors.append(
                        FieldError(f"expected_effects[{i}]", "expected an ExpectedEffect")
                    )
                elif effect.key_result_id not in linked_ids:
                    errors.append(
                        FieldError(
                            f"expected_effects[{i}].key_result_id",
                            "expected one of the action's key results",
                        )
                    )
            raise_if(errors)
            for kr in linked:
                self._refs.objective_of(kr).require_open("propose an action for")
            self._ctx.authorize(actor, "propose_action", None)
            assert cost is not None
            event = ActionProposed(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                title=title.strip(),
                key_result_ids=linked_ids,
                hypothesis=hypothesis.strip(),
                investment=cost,
                expected_effects=effects,
                odds=None if odds is None else float(odds),
                kill_criteria=kill_criteria.strip(),
                owner=owner.strip(),
            )
            return self._ctx.save_one(Action, event)

    def place_action(self, action: Ref, *, actor: str) -> Action:
        """Place a proposed bet: the team starts investing in it."""
        with self._ctx.command(actor) as stamp:
            state = self._ctx.target(Action, action, actor, "place_action")
            return self._ctx.save_one(Action, state.place(stamp))

    def resolve_action(
        self,
        action: Ref,
        *,
        outcome: Outcome | str,
        learning: str,
        actor: str,
        evidence: Sequence[str] = (),
    ) -> Action:
        """Settle a bet, once: validated, invalidated, inconclusive or abandoned.

        A learning is required: what did the team find out?
        """
        with self._ctx.command(actor) as stamp:
            errors = check_text("learning", learning)
            result = enum_value(errors, "outcome", Outcome, outcome)
            items = sequence(errors, "evidence", evidence)
            for i, item in enumerate(items):
                errors += check_text(f"evidence[{i}]", item)
            raise_if(errors)
            state = self._ctx.target(Action, action, actor, "resolve_action")
            event = state.resolve(
                stamp,
                outcome=result,
                learning=learning.strip(),
                evidence=tuple(e.strip() for e in items),
            )
            return self._ctx.save_one(Action, event)

    def add_task(self, action: Ref, title: str, *, actor: str) -> Task:
        """Add a small step under an action."""
        with self._ctx.command(actor) as stamp:
            raise_if(check_text("title", title, max_length=500))
            state = self._ctx.target(Action, action, actor, "add_task")
            event = state.add_task(stamp, task_id=uuid4(), title=title.strip())
            self._ctx.save(event)
            return self._refs.find_task(event.task_id)

    def complete_task(self, task: Ref, *, actor: str) -> Task:
        """Mark a task done."""
        with self._ctx.command(actor) as stamp:
            found = self._refs.find_task(task)
            state = self._ctx.target(Action, found.action_id, actor, "complete_task")
            self._ctx.save(state.complete_task(stamp, task_id=found.id))
            return self._refs.find_task(found.id)

    def reopen_task(self, task: Ref, *, actor: str) -> Task:
        """Open a done task again."""
        with self._ctx.command(actor) as stamp:
            found = self._refs.find_task(task)
            state = self._ctx.target(Action, found.action_id, actor, "reopen_task")
            self._ctx.save(state.reopen_task(stamp, task_id=found.id))
            return self._refs.find_task(found.id)


# --- helpers ---------------------------------------------------------------------------


def _investment(value: object) -> Investment:
    if isinstance(value, Investment):
        return value
    errors = check_number("investment", value, minimum=0)
    raise_if(errors)
    return Investment(effort=float(value))  # type: ignore[arg-type]
