"""The weekly routine in the browser: cycles, objectives, key results and grades.

Plan and start cycles, draft and shape objectives, add key results and move
their goalposts, and close a cycle with its grades.

The pages and forms work as the others do (see :mod:`._pages`): every form acts
as :func:`request_actor`, posts, and redirects (303) on success; refused, its
page is shown again with each error by its field and what was typed (422), and
nothing is written. The form readers are in :mod:`._routine_forms`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from okra_core import (
    AlignmentLink,
    ContinuationMode,
    Cycle,
    CycleStatus,
    KeyResult,
    Objective,
    ObjectiveKind,
    ObjectiveStatus,
    Okra,
    RollupPolicy,
    World,
)

from . import _routine_forms as forms
from ._common import Reading, WebState, request_actor
from ._pages import Builder, Context, _form, _page, _ref, _with_ref, entity_form_id

__all__ = ["routine_routes"]


# --- pages -------------------------------------------------------------------------


def last_day(cycle: Cycle) -> date:
    """The last day a cycle includes (it ends at the start of the next day, UTC)."""
    return (cycle.ends_at - timedelta(microseconds=1)).date()


def cycles_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """Every cycle, with the form to plan the next one."""
    world = st.okra.world(**read.kwargs)
    cycles = world.cycles()
    counts = {c.id: len(world.objectives(cycle_id=c.id)) for c in cycles}
    return "cycles.html", {
        "cycles": cycles,
        "counts": counts,
        "cycle_options": [(str(c.id), c.name) for c in cycles],
        "last_day": last_day,
    }


def _cycle_in(read: Reading, st: WebState, ref: str) -> Cycle:
    """The cycle ``ref`` names, as of the request's instant (NotFoundError before it was)."""
    cycle = st.okra.state(st.okra.cycle(ref).id, **read.kwargs)
    assert isinstance(cycle, Cycle)
    return cycle


_ROLLUPS = {
    RollupPolicy.MEAN: "the weighted mean",
    RollupPolicy.MIN: "the weakest one",
    RollupPolicy.SUM: "the weighted sum",
}


def cycle_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """One cycle: its objectives, the form to draft one, and starting or closing it."""
    world = st.okra.world(**read.kwargs)
    cycle = _cycle_in(read, st, _ref(request))
    objectives = world.objectives(cycle_id=cycle.id)
    return "cycle.html", {
        "cycle": cycle,
        "parent": world.cycle(cycle.parent_id) if cycle.parent_id else None,
        "objectives": objectives,
        "key_results": {o.id: world.key_results(o.id) for o in objectives},
        "owners": world.owners(),
        "kinds": [(k.value, k.value) for k in ObjectiveKind],
        "rollups": [(r.value, _ROLLUPS[r]) for r in RollupPolicy],
        "default_owner": request_actor(request),
        "last_day": last_day,
    }


def close_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """The grades a cycle would close with, each open to an override with a rationale."""
    cycle = _cycle_in(read, st, _ref(request))
    card = st.okra.scorecard(cycle.id, **read.kwargs)
    return "cycle_close.html", {"cycle": cycle, "card": card, "last_day": last_day}


def _parents(world: World, objective: Objective) -> list[tuple[str, str]]:
    """What an objective may align under: other objectives and their key results."""
    options = []
    for cycle in world.cycles():
        for other in world.objectives(cycle_id=cycle.id):
            if other.id == objective.id or other.status is ObjectiveStatus.ABANDONED:
                continue
            options.append((str(other.id), f"{cycle.name}: {other.title}"))
            options += [
                (str(k.id), f"{cycle.name}: {other.title} / {k.title}")
                for k in world.key_results(other.id)
            ]
    return options


_LINKS = {
    AlignmentLink.CONTRIBUTES: "contributes (counts in its progress)",
    AlignmentLink.SUPPORTS: "supports (shown, not counted)",
}
_MODES = {
    ContinuationMode.CARRY_OVER: "carry over: the key results not met, from where they are",
    ContinuationMode.CLONE: "clone: every key result, baselines measured afresh",
    ContinuationMode.EXTEND: "extend: every key result, unchanged",
}
_METRICS = {
    "change": "change: from a baseline to a target",
    "stay_above": "stay above a threshold",
    "stay_below": "stay below a threshold",
    "range": "stay within a range",
    "milestone": "milestone: done or not",
}


def objective_setup_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """An objective's set-up: wording, owner, status, alignment and key results."""
    return _setup_view(st, read, _ref(request))


def _setup_view(st: WebState, read: Reading, ref: str) -> tuple[str, Context]:
    world = st.okra.world(**read.kwargs)
    objective = st.okra.state(st.okra.objective(ref).id, **read.kwargs)
    assert isinstance(objective, Objective)
    cycle = world.cycle_of(objective)
    labels: dict[UUID, str] = {}
    for parent in (world.get(a.parent_id) for a in objective.alignments):
        if isinstance(parent, Objective):
            labels[parent.id] = parent.title
        elif isinstance(parent, KeyResult):
            labels[parent.id] = f"{world.objective_of(parent).title} / {parent.title}"
    return "objective_setup.html", {
        "objective": objective,
        "cycle": cycle,
        "key_results": world.key_results(objective.id),
        "parents": _parents(world, objective),
        "labels": labels,
        "links": [(link.value, _LINKS[link]) for link in AlignmentLink],
        "metric_kinds": [(kind, _METRICS[kind]) for kind in forms.METRIC_KINDS],
        "metric_fields": forms.METRIC_FIELDS,
        "owners": world.owners(),
        "later_cycles": [
            (str(c.id), c.name)
            for c in world.cycles()
            if c.id != cycle.id
            and c.starts_at >= cycle.starts_at
            and c.status is not CycleStatus.CLOSED
        ],
        "modes": [(mode.value, _MODES[mode]) for mode in ContinuationMode],
        "open": objective.status in (ObjectiveStatus.DRAFT, ObjectiveStatus.ACTIVE)
        and cycle.status is not CycleStatus.CLOSED,
    }


# --- forms -------------------------------------------------------------------------

Command = Callable[..., Any]


def _always(builder: Builder) -> Callable[[Request, WebState], Builder]:
    return lambda request, st: builder


def _write(
    command: Command, where: Callable[[Any], str]
) -> Callable[[Request, WebState, dict[str, Any], str], str]:
    """A form's write: run ``command`` on the path's reference as the request's actor."""

    def write(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
        return where(command(st.okra, ref, data, actor=request_actor(request)))

    return write


def _plan(request: Request, st: WebState, data: dict[str, Any]) -> str:
    cycle = forms.plan_cycle(st.okra, data, actor=request_actor(request))
    return f"/cycles/{cycle.id}"


def _setup_of_key_result(request: Request, st: WebState) -> Builder:
    objective_id = str(st.okra.key_result(_ref(request)).objective_id)

    def builder(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
        return _setup_view(st, read, objective_id)

    return builder


def _static(form_id: str) -> Callable[[Request], str]:
    return lambda request: form_id


def _to_cycle(cycle: Cycle) -> str:
    return f"/cycles/{cycle.id}"


def _to_setup(anchor: str) -> Callable[[Objective], str]:
    return lambda objective: f"/objectives/{objective.id}/setup#{anchor}"


def _to_key_result(key_result: KeyResult) -> str:
    return f"/objectives/{key_result.objective_id}/setup#kr-{key_result.id}"


def routine_routes() -> list[BaseRoute]:
    """The routine's pages and form endpoints."""
    on_cycle = _always(cycle_page)
    on_setup = _always(objective_setup_page)

    def post(path: str, name: str, endpoint: Callable[[Request], Any]) -> Route:
        return Route(path, endpoint, methods=["POST"], name=f"form.{name}")

    def objective_form(
        path: str,
        name: str,
        command: Command,
        anchor: str,
        where: Callable[[Any], str] | None = None,
    ) -> Route:
        return post(
            f"/objectives/{{ref}}/{path}",
            name,
            _with_ref(
                _write(command, where or _to_setup(anchor)), form_id=_static(anchor), page=on_setup
            ),
        )

    def key_result_form(path: str, name: str, command: Command) -> Route:
        return post(
            f"/key-results/{{ref}}/{path}",
            name,
            _with_ref(
                _write(command, _to_key_result),
                form_id=entity_form_id(path, Okra.key_result),
                page=_setup_of_key_result,
            ),
        )

    return [
        Route("/cycles", _page(cycles_page), name="cycles"),
        Route("/cycles/{ref}", _page(cycle_page), name="cycle"),
        Route("/cycles/{ref}/close", _page(close_page), name="cycle.close"),
        Route("/objectives/{ref}/setup", _page(objective_setup_page), name="objective.setup"),
        post(
            "/cycles",
            "plan_cycle",
            _form(_plan, form_id=_static("plan"), page=_always(cycles_page)),
        ),
        post(
            "/cycles/{ref}/start",
            "start_cycle",
            _with_ref(
                _write(forms.start_cycle, _to_cycle), form_id=_static("start"), page=on_cycle
            ),
        ),
        post(
            "/cycles/{ref}/close",
            "close_cycle",
            _with_ref(
                _write(forms.close_cycle, lambda c: f"/scorecard?cycle={c.id}"),
                form_id=_static("close"),
                page=_always(close_page),
            ),
        ),
        post(
            "/cycles/{ref}/objectives",
            "draft_objective",
            _with_ref(
                _write(forms.draft_objective, _to_setup("add-kr")),
                form_id=_static("draft"),
                page=on_cycle,
            ),
        ),
        objective_form("revision", "revise_objective", forms.revise_objective, "revise"),
        objective_form("owner", "reassign_objective", forms.reassign_objective, "reassign"),
        objective_form("activation", "activate_objective", forms.activate_objective, "activate"),
        objective_form("closing", "close_objective", forms.close_objective, "close-objective"),
        objective_form("abandonment", "abandon_objective", forms.abandon_objective, "abandon"),
        objective_form("alignment", "align", forms.align, "align"),
        objective_form("unalignment", "unalign", forms.unalign, "unalign"),
        objective_form(
            "continuation",
            "continue_objective",
            forms.continue_objective,
            "continue",
            lambda objective: f"/objectives/{objective.id}/setup",
        ),
        objective_form(
            "key-results", "add_key_result", forms.add_key_result, "add-kr", _to_key_result
        ),
        key_result_form("target", "retarget", forms.retarget),
        key_result_form("baseline", "rebaseline", forms.rebaseline),
        key_result_form("weight", "reweight", forms.reweight),
    ]
