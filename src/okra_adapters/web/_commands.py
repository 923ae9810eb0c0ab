"""The writes the forms and the API share, from loosely typed input to okra's commands.

A form sends text and JSON sends numbers; both arrive here as a mapping. Each
function checks every field it knows, refuses fields it does not, and raises one
:class:`okra_core.ValidationError` naming each bad field, before okra writes
anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from okra_core import (
    Action,
    CheckIn,
    CheckInSource,
    Cycle,
    FieldError,
    KeyResult,
    Okra,
    OkraError,
    Task,
    ValidationError,
    check_in_warnings,
    parse_value,
)

from ._common import parse_instant

__all__ = [
    "add_task",
    "check_in",
    "complete_task",
    "correct",
    "propose_action",
    "resolve_action",
    "warnings_about",
]

_MISSING = object()


class _Fields:
    """Reads fields out of one input, collecting every problem."""

    def __init__(self, data: Mapping[str, Any], known: set[str], okra: Okra) -> None:
        self.data = data
        self.okra = okra
        self.errors = [
            FieldError(key, f"unknown field; expected one of {', '.join(sorted(known))}")
            for key in data
            if key not in known
        ]

    def _raw(self, name: str) -> Any:
        value = self.data.get(name, _MISSING)
        if isinstance(value, str) and not value.strip():
            return _MISSING
        return value

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self._raw(name)
        if value is _MISSING:
            if required:
                self.errors.append(FieldError(name, "expected a non-empty text"))
            return None
        if not isinstance(value, str):
            self.errors.append(FieldError(name, f"expected a text, got {type(value).__name__}"))
            return None
        return value

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self._raw(name)
        if value is _MISSING:
            if required:
                self.errors.append(FieldError(name, "expected a number"))
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.errors.append(FieldError(name, f"expected a number, got {type(value).__name__}"))
            return None
        try:
            number = float(value)
        except (ValueError, OverflowError):
            number = math.nan
        if not math.isfinite(number):  # "nan", "inf" and 1e309 are no measurements
            self.errors.append(FieldError(name, f"expected a finite number, got {value!r}"))
            return None
        return number

    def value(self, name: str, key_result: KeyResult | None) -> float | None:
        """A key result's value: a number, or text as typed (``42%``, ``done``, ``1,250``)."""
        value = self._raw(name)
        if not isinstance(value, str) or key_result is None:
            return self.number(name, required=True)
        try:
            return parse_value(value, metric=key_result.metric, unit=key_result.unit, path=name)
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    def confidence(self, name: str) -> float | str | None:
        """A number on a numeric scale, or a word (``amber``) on a named one."""
        value = self._raw(name)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return value.strip()
            if math.isfinite(number):
                return number
        return self.number(name)

    def instant(self, name: str) -> Any:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_instant(name, value, self.okra.clock.now())
        except ValidationError as exc:
            self.errors.extend(exc.errors)
            return None

    def texts(self, name: str, *, required: bool = False) -> list[str]:
        """A list of texts (JSON) or one text of comma-separated items (a form)."""
        value = self._raw(name)
        if value is _MISSING:
            if required:
                self.errors.append(FieldError(name, "expected at least one item"))
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        self.errors.append(FieldError(name, "expected a list of texts"))
        return []

    def done(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def _run(fields: _Fields, command: Callable[[], Any]) -> Any:
    """Run ``command`` once the input is clean; okra's own errors pass through."""
    fields.done()
    return command()


def check_in(
    okra: Okra,
    key_result: str,
    data: Mapping[str, Any],
    *,
    actor: str,
    source: CheckInSource = CheckInSource.MANUAL,
) -> CheckIn:
    """Record a check-in from ``value``, ``confidence``, ``narrative``, ``effective_at``."""
    f = _Fields(data, {"value", "confidence", "narrative", "effective_at"}, okra)
    target: KeyResult | None = None
    if isinstance(data.get("value"), str):
        target = okra.key_result(key_result)  # to read "42%" or "done" for its metric
    value = f.value("value", target)
    confidence = f.confidence("confidence")
    narrative = f.text("narrative") or ""
    effective_at = f.instant("effective_at")
    result: CheckIn = _run(
        f,
        lambda: okra.check_in(
            key_result,
            value=value if value is not None else 0.0,
            confidence=confidence,
            narrative=narrative,
            effective_at=effective_at,
            actor=actor,
            source=source,
        ),
    )
    return result


def warnings_about(okra: Okra, check_in: CheckIn) -> list[str]:
    """What looks wrong about a recorded check-in (dated outside its cycle, an odd value)."""
    try:
        key_result = okra.key_result(check_in.key_result_id)
        cycle = okra.cycle(okra.objective(key_result.objective_id).cycle_id)
    except OkraError:  # recorded; only the second look is missing
        return []
    assert isinstance(cycle, Cycle)
    return check_in_warnings(key_result, cycle, check_in)


def correct(okra: Okra, check_in_ref: str, data: Mapping[str, Any], *, actor: str) -> CheckIn:
    """Correct a check-in: ``reason`` and any of ``value``, ``confidence``, ``narrative``."""
    f = _Fields(data, {"reason", "value", "confidence", "narrative", "effective_at"}, okra)
    reason = f.text("reason", required=True) or ""
    changes: dict[str, Any] = {}
    value = f.number("value")
    if value is not None:
        changes["value"] = value
    confidence = f.confidence("confidence")
    if confidence is not None:
        changes["confidence"] = confidence
    narrative = f.text("narrative")
    if narrative is not None:
        changes["narrative"] = narrative
    effective_at = f.instant("effective_at")
    if effective_at is not None:
        changes["effective_at"] = effective_at
    result: CheckIn = _run(
        f, lambda: okra.correct_check_in(check_in_ref, reason=reason, actor=actor, **changes)
    )
    return result


def propose_action(okra: Okra, data: Mapping[str, Any], *, actor: str) -> Action:
    """Propose an action from ``title``, ``key_results``, ``hypothesis``, ``owner``, ``effort``."""
    f = _Fields(data, {"title", "key_results", "hypothesis", "owner", "effort"}, okra)
    title = f.text("title", required=True) or ""
    key_results = f.texts("key_results", required=True)
    hypothesis = f.text("hypothesis", required=True) or ""
    owner = f.text("owner") or actor
    effort = f.number("effort")
    result: Action = _run(
        f,
        lambda: okra.propose_action(
            title,
            key_results=key_results,
            hypothesis=hypothesis,
            owner=owner,
            investment=effort if effort is not None else 0.0,
            actor=actor,
        ),
    )
    return result


def resolve_action(okra: Okra, action: str, data: Mapping[str, Any], *, actor: str) -> Action:
    """Settle an action with ``outcome`` and ``learning``."""
    f = _Fields(data, {"outcome", "learning"}, okra)
    outcome = f.text("outcome", required=True) or ""
    learning = f.text("learning", required=True) or ""
    result: Action = _run(
        f, lambda: okra.resolve_action(action, outcome=outcome, learning=learning, actor=actor)
    )
    return result


def add_task(okra: Okra, action: str, data: Mapping[str, Any], *, actor: str) -> Task:
    """Add a task ``title`` under an action."""
    f = _Fields(data, {"title"}, okra)
    title = f.text("title", required=True) or ""
    result: Task = _run(f, lambda: okra.add_task(action, title, actor=actor))
    return result


def complete_task(okra: Okra, task: str, data: Mapping[str, Any], *, actor: str) -> Task:
    """Mark a task done (no fields)."""
    f = _Fields(data, set(), okra)
    result: Task = _run(f, lambda: okra.complete_task(task, actor=actor))
    return result
