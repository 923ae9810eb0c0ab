"""The weekly routine's forms: from the text a form sends to okra's commands.

Each function reads what only a form can get wrong (a number or a date that is
not one, a field it does not know) and then calls okra's Python API, which
checks everything else: a required title, an end after the start, a grade's
rationale. Either way the error is a :class:`okra_core.ValidationError` whose
paths are the form's field names, so the page shows each next to its field;
nothing is written until every field is clean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from okra_core import (
    Change,
    Cycle,
    FieldError,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    Okra,
    Range,
    Ref,
    StayAbove,
    StayBelow,
    ValidationError,
)

from ._commands import _Fields

__all__ = [
    "METRIC_FIELDS",
    "METRIC_KINDS",
    "abandon_objective",
    "activate_objective",
    "add_key_result",
    "align",
    "close_cycle",
    "close_objective",
    "continue_objective",
    "draft_objective",
    "plan_cycle",
    "reassign_objective",
    "rebaseline",
    "retarget",
    "revise_objective",
    "reweight",
    "start_cycle",
    "unalign",
]

METRIC_KINDS: tuple[str, ...] = ("change", "stay_above", "stay_below", "range", "milestone")
"""The metric kinds a form offers, as okra names them."""

METRIC_FIELDS: dict[str, tuple[str, ...]] = {
    "change": ("baseline", "target", "commit", "stretch"),
    "stay_above": ("threshold", "inclusive"),
    "stay_below": ("threshold", "inclusive"),
    "range": ("low", "high"),
    "milestone": (),
}
"""The fields of each metric kind, named as the metric's own errors name them."""

_ALL_METRIC_FIELDS = {name for names in METRIC_FIELDS.values() for name in names}


def _text(data: Mapping[str, Any], name: str) -> str:
    """The text as sent (empty if absent), for okra to judge."""
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def _day(f: _Fields, name: str) -> date | None:
    raw = f.text(name)
    if raw is None:
        f.errors.append(FieldError(name, "expected a date (YYYY-MM-DD)"))
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        f.errors.append(FieldError(name, f"expected a date (YYYY-MM-DD), got {raw!r}"))
        return None


# --- cycles ------------------------------------------------------------------------


def plan_cycle(okra: Okra, data: Mapping[str, Any], *, actor: str) -> Cycle:
    """Plan a cycle from ``name``, ``start``, ``end`` (dates) and an optional ``parent``."""
    f = _Fields(data, {"name", "start", "end", "parent"}, okra)
    start, end = _day(f, "start"), _day(f, "end")
    parent = f.text("parent")
    f.done()
    assert start is not None  # else done() raised
    assert end is not None
    return okra.plan_cycle(_text(data, "name"), start=start, end=end, parent=parent, actor=actor)


def start_cycle(okra: Okra, cycle: str, data: Mapping[str, Any], *, actor: str) -> Cycle:
    """Start a planned cycle (no fields)."""
    _Fields(data, set(), okra).done()
    return okra.start_cycle(cycle, actor=actor)


_GRADE = re.compile(r"grades\[(?P<ref>[^\]]+)\]\.(?P<part>score|rationale)")


def close_cycle(okra: Okra, cycle: str, data: Mapping[str, Any], *, actor: str) -> Cycle:
    """Close a cycle with ``grades[KR].score`` and ``grades[KR].rationale`` per key result.

    A key result whose score is left empty gets the suggested grade; a score
    other than the suggestion needs a rationale (okra says so, by that field).
    """
    known = {key for key in data if _GRADE.fullmatch(key)}
    f = _Fields(data, known, okra)
    grades: dict[Ref, float | tuple[float, str]] = {}
    for key in sorted(known):
        found = _GRADE.fullmatch(key)
        assert found is not None
        if found["part"] != "score":
            continue
        ref = found["ref"]
        score = f.number(key)
        if score is not None:
            grades[ref] = (score, _text(data, f"grades[{ref}].rationale"))
    f.done()
    return okra.close_cycle(cycle, grades=grades, actor=actor)


# --- objectives --------------------------------------------------------------------


def draft_objective(okra: Okra, cycle: str, data: Mapping[str, Any], *, actor: str) -> Objective:
    """Draft an objective in ``cycle``: ``title``, ``owner``, ``kind``, ``rollup``, ``description``.

    okra checks each of them.
    """
    f = _Fields(data, {"title", "owner", "kind", "rollup", "description"}, okra)
    f.done()
    return okra.draft_objective(
        _text(data, "title"),
        cycle=cycle,
        owner=_text(data, "owner"),
        kind=f.text("kind") or "committed",
        rollup=f.text("rollup") or "mean",
        description=_text(data, "description"),
        actor=actor,
    )


def revise_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Reword an objective: ``title`` and ``description`` as they should read now."""
    f = _Fields(data, {"title", "description"}, okra)
    f.done()
    return okra.revise_objective(
        objective,
        title=_text(data, "title"),
        description=_text(data, "description"),
        actor=actor,
    )


def reassign_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Give an objective to a new ``owner``."""
    f = _Fields(data, {"owner"}, okra)
    f.done()
    return okra.reassign_objective(objective, owner=_text(data, "owner"), actor=actor)


def activate_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Commit to a draft objective (no fields)."""
    f = _Fields(data, set(), okra)
    f.done()
    return okra.activate_objective(objective, actor=actor)


def close_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Close an active objective (no fields)."""
    _Fields(data, set(), okra).done()
    return okra.close_objective(objective, actor=actor)


def abandon_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Give up on a draft or active objective, with a ``reason``."""
    _Fields(data, {"reason"}, okra).done()
    return okra.abandon_objective(objective, reason=_text(data, "reason"), actor=actor)


def align(okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str) -> Objective:
    """Align an objective under a ``parent`` (an objective or key result): ``link``, ``weight``."""
    f = _Fields(data, {"parent", "link", "weight"}, okra)
    parent = f.text("parent")
    if parent is None:
        f.errors.append(FieldError("parent", "expected a parent objective or key result"))
    weight = f.number("weight")
    f.done()
    return okra.align(
        objective,
        parent=parent or "",
        link=f.text("link") or "contributes",
        weight=1.0 if weight is None else weight,
        actor=actor,
    )


def unalign(okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str) -> Objective:
    """Remove an objective's link to a ``parent``."""
    f = _Fields(data, {"parent"}, okra)
    parent = f.text("parent")
    if parent is None:
        f.errors.append(FieldError("parent", "expected the parent to unlink from"))
    f.done()
    return okra.unalign(objective, parent=parent or "", actor=actor)


def continue_objective(
    okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str
) -> Objective:
    """Continue an objective into a later ``cycle`` as a new draft: ``mode`` says how."""
    f = _Fields(data, {"cycle", "mode"}, okra)
    cycle = f.text("cycle")
    if cycle is None:
        f.errors.append(FieldError("cycle", "expected the cycle to continue it in"))
    f.done()
    return okra.continue_objective(
        objective, cycle=cycle or "", mode=f.text("mode") or "carry_over", actor=actor
    )


# --- key results -------------------------------------------------------------------


def _metric(f: _Fields, kind: str | None) -> Metric | None:
    """A metric of ``kind`` from its fields, or None with the problems noted in ``f``."""
    if kind not in METRIC_FIELDS:
        f.errors.append(
            FieldError("metric", f"expected one of {', '.join(METRIC_KINDS)}, got {kind!r}")
        )
        return None
    numbers = {
        name: f.number(name, required=name not in ("baseline", "commit", "stretch"))
        for name in METRIC_FIELDS[kind]
        if name != "inclusive"
    }
    if f.errors:
        return None
    try:
        if kind == "change":
            return Change(**numbers)  # type: ignore[arg-type]
        if kind in ("stay_above", "stay_below"):
            guardrail = StayAbove if kind == "stay_above" else StayBelow
            return guardrail(
                threshold=numbers["threshold"],  # type: ignore[arg-type]
                inclusive=f.data.get("inclusive") is not None,
            )
        if kind == "range":
            return Range(**numbers)  # type: ignore[arg-type]
        return Milestone()
    except ValidationError as exc:  # the metric's own checks, by the same field names
        f.errors.extend(exc.errors)
        return None


def add_key_result(okra: Okra, objective: str, data: Mapping[str, Any], *, actor: str) -> KeyResult:
    """Add a key result: ``title``, ``metric`` (a kind) and its fields.

    Also ``unit``, ``weight`` (1 by default) and ``owner`` (the objective's by default).
    """
    f = _Fields(data, {"title", "metric", "unit", "weight", "owner", *_ALL_METRIC_FIELDS}, okra)
    metric = _metric(f, f.text("metric"))
    weight = f.number("weight")
    owner = f.text("owner")
    f.done()
    assert metric is not None  # else done() raised
    return okra.add_key_result(
        objective,
        _text(data, "title"),
        metric=metric,
        unit=_text(data, "unit"),
        weight=1.0 if weight is None else weight,
        owner=owner,
        actor=actor,
    )


def retarget(okra: Okra, key_result: str, data: Mapping[str, Any], *, actor: str) -> KeyResult:
    """Move a key result's goalposts, with a ``reason``.

    For a ``change`` key result, the new ``target``; for the other kinds, the new
    fields of a metric of the same kind (``threshold``, ``low`` and ``high``).
    """
    current = okra.key_result(key_result)
    f = _Fields(data, {"reason", *METRIC_FIELDS[current.metric.kind]}, okra)
    reason = _text(data, "reason")
    if isinstance(current.metric, Change):
        target = f.number("target", required=True)
        f.done()
        return okra.retarget(key_result, target=target, reason=reason, actor=actor)
    metric = _metric(f, current.metric.kind)
    f.done()
    assert metric is not None
    return okra.retarget(key_result, metric=metric, reason=reason, actor=actor)


def rebaseline(okra: Okra, key_result: str, data: Mapping[str, Any], *, actor: str) -> KeyResult:
    """Set a ``change`` key result's ``baseline``: measured at last, or replaced.

    Replacing a measured baseline needs a ``reason``.
    """
    current = okra.key_result(key_result)
    f = _Fields(data, {"baseline", "reason"}, okra)
    baseline = f.number("baseline", required=True)
    f.done()
    assert baseline is not None
    if isinstance(current.metric, Change) and current.metric.baseline is None:
        return okra.measure_baseline(key_result, baseline=baseline, actor=actor)
    return okra.rebaseline(key_result, baseline=baseline, reason=_text(data, "reason"), actor=actor)


def reweight(okra: Okra, key_result: str, data: Mapping[str, Any], *, actor: str) -> KeyResult:
    """Give a key result a new ``weight`` in its objective's rollup, with an optional ``reason``."""
    f = _Fields(data, {"weight", "reason"}, okra)
    weight = f.number("weight", required=True)
    f.done()
    assert weight is not None
    return okra.reweight(key_result, weight=weight, reason=_text(data, "reason"), actor=actor)
