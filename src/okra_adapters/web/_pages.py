"""The HTML pages and their forms.

Every page reads at the request's instant (``?as_of=``, ``?as_known_at=``) and
keeps it in its links. okra's calls run in Starlette's thread pool (an ``Okra``
is thread-safe), so a slow query does not hold up the server's event loop.
Forms post, then redirect back (303) on success; a refused form is shown again
with each error next to its field (422).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from okra_core import (
    Action,
    Cycle,
    KeyResult,
    LintFinding,
    NotFoundError,
    Objective,
    Okra,
    OkraError,
    Outcome,
    ValidationError,
)

from . import _commands as commands
from ._charts import confidence_chart, value_chart
from ._common import (
    Reading,
    WebState,
    error_status,
    pick_cycle,
    reading,
    request_actor,
    signed_in,
    web_state,
)
from ._roles import Role
from ._security import CSRF_COOKIE, CSRF_FIELD

__all__ = ["page_routes"]

Context = dict[str, Any]
Builder = Callable[[Request, WebState, Reading], tuple[str, Context]]


def _may_change(request: Request) -> bool:
    """Whether the pages offer their forms: to anyone but a signed-in viewer."""
    user = signed_in(request)
    return user is None or user.role is not Role.VIEWER


def _render(
    request: Request,
    template: str,
    context: Context,
    *,
    status: int = 200,
    read: Reading | None = None,
) -> Response:
    st = web_state(request)
    nonce, cookie = st.csrf.nonce(request)
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in _READ_KEYS]
    reading_params = (
        [(k, getattr(read, f"raw_{k}")) for k in _READ_KEYS if getattr(read, f"raw_{k}")]
        if read
        else []
    )

    def link(path: str) -> str:
        if not reading_params:
            return path
        return path + ("&" if "?" in path else "?") + urlencode(reading_params)

    may_change = _may_change(request)
    html = st.templates.get_template(template).render(
        request=request,
        csrf_token=nonce,
        link=link,
        static=lambda name: f"/static/{name}",
        reading=read,
        keep_params=params,
        reading_params=reading_params,
        writable=read is not None and not read.past and may_change,
        may_change=may_change,
        plugin_pages=request.app.state.okra_plugin_pages,
        actor=request_actor(request),
        **{"form": None, "notice": None, "refused": None, **context},
    )
    response = HTMLResponse(html, status_code=status)
    if cookie is not None:
        response.set_cookie(CSRF_COOKIE, cookie, httponly=True, samesite="strict", path="/")
    return response


_READ_KEYS = ("as_of", "as_known_at")


def _error_page(
    request: Request, exc: OkraError, read: Reading | None, *, status: int | None = None
) -> Response:
    fields = exc.errors if isinstance(exc, ValidationError) else ()
    message = exc.summary if isinstance(exc, ValidationError) else str(exc)
    heading = "That cannot be shown"
    if isinstance(exc, NotFoundError):
        heading = "Not found"
        if read is not None and read.past:
            heading = "Not there yet at that date"
            message = f"{message}. Pick a later date, or look at it now."
    code = status or (400 if isinstance(exc, ValidationError) else error_status(exc))
    return _render(
        request,
        "error.html",
        {"heading": heading, "message": message, "fields": fields},
        status=code,
        read=read,
    )


def _page(builder: Builder) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        st = web_state(request)
        read: Reading | None = None
        try:
            read = reading(request, st.okra)
            template, context = await run_in_threadpool(builder, request, st, read)
        except OkraError as exc:
            return _error_page(request, exc, read)
        return _render(request, template, context, read=read)

    endpoint.__name__ = builder.__name__
    endpoint.__doc__ = builder.__doc__
    return endpoint


def _cycle(request: Request, st: WebState) -> Cycle | None:
    return pick_cycle(st.okra, request.query_params.get("cycle", "").strip() or None)


def _owner(request: Request) -> str | None:
    return request.query_params.get("owner", "").strip() or None


def dashboard(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """A cycle's objectives with progress, pace, confidence and owners."""
    cycle = _cycle(request, st)
    if cycle is None:
        return "dashboard.html", {"board": None}
    board = st.okra.cycle_progress(cycle, **read.kwargs)
    owner = _owner(request)
    owners = sorted(
        {o.owner for o in board.objectives}
        | {k.owner for o in board.objectives for k in o.key_results}
    )
    objectives = [
        o
        for o in board.objectives
        if owner is None or o.owner == owner or any(k.owner == owner for k in o.key_results)
    ]
    report = st.okra.lint(cycle, as_of=read.as_of, as_known_at=read.as_known_at)
    return "dashboard.html", {
        "board": board,
        "objectives": objectives,
        "owners": owners,
        "owner": owner,
        "cycles": st.okra.cycles(),
        "lint": report.by_entity(),
        "findings": report.findings,
    }


def objective_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """One objective: each key result's chart, confidence and check-ins, with forms.

    After a check-in (``?checked=ID``), a notice says what looks wrong about it.
    """
    template, context = _objective_view(st, read, _ref(request))
    checked = request.query_params.get("checked", "").strip()
    if checked and not read.past:
        try:
            warnings = commands.warnings_about(st.okra, st.okra.get_check_in(checked))
        except OkraError:
            warnings = []
        if warnings:
            context["notice"] = "Recorded, but note: " + "; ".join(warnings) + "."
    return template, context


def _objective_view(st: WebState, read: Reading, ref: str) -> tuple[str, Context]:
    progress = st.okra.objective_progress(ref, **read.kwargs)
    objective = st.okra.state(progress.objective_id, **read.kwargs)
    cycle = st.okra.state(progress.cycle_id, **read.kwargs)
    assert isinstance(objective, Objective)
    assert isinstance(cycle, Cycle)
    now = read.as_of or read.as_known_at or st.okra.clock.now()
    items = []
    for k in progress.key_results:
        kr = st.okra.state(k.key_result_id, **read.kwargs)
        assert isinstance(kr, KeyResult)
        chart = value_chart(
            chart_id=f"chart-{k.key_result_id}",
            title=k.title,
            unit=k.unit,
            metric=kr.metric,
            check_ins=kr.check_ins,
            start=cycle.starts_at,
            end=cycle.ends_at,
            now=now,
        )
        confidence = confidence_chart(
            chart_id=f"confidence-{k.key_result_id}",
            check_ins=kr.check_ins,
            start=cycle.starts_at,
            end=cycle.ends_at,
        )
        items.append(
            {
                "progress": k,
                "check_ins": kr.check_ins,
                "chart": Markup(chart),
                "confidence_chart": Markup(confidence),
            }
        )
    own = {objective.id, *(k.key_result_id for k in progress.key_results)}
    findings = [
        f
        for f in st.okra.lint(cycle, as_of=read.as_of, as_known_at=read.as_known_at).findings
        if f.entity_id in own
    ]
    lint: dict[UUID, list[LintFinding]] = {}
    for finding in findings:
        assert finding.entity_id is not None
        lint.setdefault(finding.entity_id, []).append(finding)
    return "objective.html", {
        "progress": progress,
        "objective": objective,
        "key_results": items,
        "lint": lint,
        "findings": findings,
    }


def tree_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """The alignment tree of a cycle."""
    cycle = _cycle(request, st)
    return "tree.html", {"tree": st.okra.alignment_tree(cycle=cycle, **read.kwargs)}


def focus_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """What needs attention, per owner."""
    owner = _owner(request)
    cycle = _cycle(request, st)
    shown = st.okra.focus(owner=owner, cycle=cycle, as_of=read.as_of, as_known_at=read.as_known_at)
    owners = sorted({o.owner for o in st.okra.world(**read.kwargs).objectives()})
    return "focus.html", {"focus": shown, "owner": owner, "owners": owners}


def bets_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """The bets ledger, with the forms for actions and tasks."""
    cycle = _cycle(request, st)
    ledger = st.okra.bets(cycle=cycle, owner=_owner(request), **read.kwargs)
    world = st.okra.world(**read.kwargs)
    actions: dict[UUID, Action] = {a.id: a for a in world.actions()}
    key_results = world.key_results_in(cycle.id) if cycle is not None else world.key_results()
    return "bets.html", {
        "ledger": ledger,
        "actions": actions,
        "key_results": key_results,
        "outcomes": [o.value for o in Outcome],
    }


def scorecard_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """A cycle's scores, provisional until it closes."""
    cycle = _cycle(request, st)
    if cycle is None:
        raise NotFoundError("cycle", request.query_params.get("cycle", ""), "plan one first")
    return "scorecard.html", {"card": st.okra.scorecard(cycle, **read.kwargs)}


def history_page(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
    """Who changed a thing, when and why."""
    entity = st.okra.get(request.path_params["ref"])
    entries = st.okra.timeline(entity.id)
    label = getattr(entity, "title", None) or getattr(entity, "name", None) or str(entity.id)
    return "history.html", {"entries": entries, "label": label}


# --- forms --------------------------------------------------------------------------


def _form_data(form: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in form.items() if k != CSRF_FIELD and not isinstance(v, UploadFile)}


Write = Callable[[Request, WebState, dict[str, Any]], str]
"""A form's command: runs it and answers where to go next."""


def _form(
    write: Write, *, form_id: Callable[[Request], str], page: Callable[[Request, WebState], Builder]
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        st = web_state(request)
        form = await request.form()
        submitted = form.get(CSRF_FIELD)
        if not isinstance(submitted, str) or not st.csrf.check(request, submitted):
            return _render(
                request,
                "error.html",
                {
                    "heading": "The form has expired",
                    "message": "The page's security token was missing or wrong. "
                    "Go back, reload the page and send it again.",
                    "fields": (),
                },
                status=403,
            )
        data = _form_data(form)
        try:
            location = await run_in_threadpool(write, request, st, data)
            return RedirectResponse(location, status_code=303)
        except OkraError as exc:
            refused = exc
        read = Reading(None, None, "", "")
        try:
            builder = page(request, st)
            template, context = await run_in_threadpool(builder, request, st, read)
        except OkraError as exc:
            return _error_page(request, exc, read)
        errors = (
            {e.path: e.message for e in refused.errors}
            if isinstance(refused, ValidationError)
            else {}
        )
        message = refused.summary if isinstance(refused, ValidationError) else str(refused)
        context["form"] = {
            "id": form_id(request),
            "errors": errors,
            "typed": data,
            "message": message,
        }
        if not _may_change(request):  # the page shows a viewer no form to say it in
            context["refused"] = message
        return _render(request, template, context, status=error_status(refused), read=read)

    return endpoint


def _ref(request: Request) -> str:
    ref: str = request.path_params["ref"]
    return ref


def _objective_of(key_result: UUID) -> Builder:
    def builder(request: Request, st: WebState, read: Reading) -> tuple[str, Context]:
        return _objective_view(st, read, str(st.okra.key_result(key_result).objective_id))

    return builder


def _objective_of_key_result(request: Request, st: WebState) -> Builder:
    return _objective_of(st.okra.key_result(_ref(request)).id)


def _objective_of_check_in(request: Request, st: WebState) -> Builder:
    return _objective_of(st.okra.get_check_in(_ref(request)).key_result_id)


def _bets(request: Request, st: WebState) -> Builder:
    return bets_page


def _check_in(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
    check_in = commands.check_in(st.okra, ref, data, actor=request_actor(request))
    kr = st.okra.key_result(check_in.key_result_id)
    # The page after the redirect says what looks wrong about it, if anything.
    return f"/objectives/{kr.objective_id}?checked={check_in.id}#kr-{kr.id}"


def _correct(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
    check_in = commands.correct(st.okra, ref, data, actor=request_actor(request))
    kr = st.okra.key_result(check_in.key_result_id)
    return f"/objectives/{kr.objective_id}#kr-{kr.id}"


def _with_ref(
    write: Callable[[Request, WebState, dict[str, Any], str], str],
    *,
    form_id: Callable[[Request], str],
    page: Callable[[Request, WebState], Builder],
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        ref = _ref(request)
        inner = _form(lambda rq, st, data: write(rq, st, data, ref), form_id=form_id, page=page)
        response: Response = await inner(request)
        return response

    return endpoint


def entity_form_id(prefix: str, find: Callable[[Okra, str], Any]) -> Callable[[Request], str]:
    """The id of a form about the thing ``find`` finds by the request's ref: ``prefix-ID``.

    By its full id when it is found (so the page shows the refused form in its
    place), else by the ref as given.
    """

    def form_id(request: Request) -> str:
        try:
            return f"{prefix}-{find(web_state(request).okra, _ref(request)).id}"
        except OkraError:
            return f"{prefix}-{_ref(request)}"

    return form_id


def _action_form_id(prefix: str) -> Callable[[Request], str]:
    return entity_form_id(prefix, Okra.action)


_kr_form_id = entity_form_id("checkin", Okra.key_result)
_correct_form_id = entity_form_id("correct", Okra.get_check_in)


def _propose(request: Request, st: WebState, data: dict[str, Any]) -> str:
    action = commands.propose_action(st.okra, data, actor=request_actor(request))
    return f"/bets#bet-{action.id}"


def _resolve(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
    action = commands.resolve_action(st.okra, ref, data, actor=request_actor(request))
    return f"/bets#bet-{action.id}"


def _add_task(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
    task = commands.add_task(st.okra, ref, data, actor=request_actor(request))
    return f"/bets#bet-{task.action_id}"


def _complete(request: Request, st: WebState, data: dict[str, Any], ref: str) -> str:
    task = commands.complete_task(st.okra, ref, data, actor=request_actor(request))
    return f"/bets#bet-{task.action_id}"


def page_routes() -> list[BaseRoute]:
    """The pages and form endpoints."""
    return [
        Route("/", _page(dashboard), name="dashboard"),
        Route("/objectives/{ref}", _page(objective_page), name="objective"),
        Route("/tree", _page(tree_page), name="tree"),
        Route("/focus", _page(focus_page), name="focus"),
        Route("/bets", _page(bets_page), name="bets"),
        Route("/scorecard", _page(scorecard_page), name="scorecard"),
        Route("/history/{ref}", _page(history_page), name="history"),
        Route(
            "/key-results/{ref}/check-ins",
            _with_ref(_check_in, form_id=_kr_form_id, page=_objective_of_key_result),
            methods=["POST"],
            name="form.check_in",
        ),
        Route(
            "/check-ins/{ref}/correction",
            _with_ref(_correct, form_id=_correct_form_id, page=_objective_of_check_in),
            methods=["POST"],
            name="form.correct",
        ),
        Route(
            "/actions",
            _form(_propose, form_id=lambda request: "propose", page=_bets),
            methods=["POST"],
            name="form.propose_action",
        ),
        Route(
            "/actions/{ref}/resolution",
            _with_ref(_resolve, form_id=_action_form_id("resolve"), page=_bets),
            methods=["POST"],
            name="form.resolve_action",
        ),
        Route(
            "/actions/{ref}/tasks",
            _with_ref(_add_task, form_id=_action_form_id("task"), page=_bets),
            methods=["POST"],
            name="form.add_task",
        ),
        Route(
            "/tasks/{ref}/completion",
            _with_ref(_complete, form_id=lambda request: "", page=_bets),
            methods=["POST"],
            name="form.complete_task",
        ),
    ]
