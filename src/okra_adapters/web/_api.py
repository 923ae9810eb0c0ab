"""The JSON API: the pages' data for integrations, and writes with a bearer token.

One table, :data:`ENDPOINTS`, declares every endpoint: its route, whether it
writes, and what it takes and answers. The routes and the OpenAPI document are
both made from it, so the document cannot leave an endpoint out.

Reads are open, like the pages (unless the store has a team: then they need a
token or a signed-in session, see ``_auth``). Writes need ``Authorization: Bearer TOKEN``
(a token from ``okra token create``) and are recorded as the token's actor. The
API reads no cookies, so a page on another site cannot make a browser write
through it. A write's fields must have the JSON types their schemas name
(``_strict``): ``{"value": "12"}`` is refused, as the Python API refuses it.
Errors are ``{"error": ..., "fields": [{"path": ..., "message": ...}]}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from okra_core import ActionStatus, CheckInSource, Okra, OkraError, ValidationError, to_data

from . import _commands as commands
from ._common import Reading, error_body, error_status, pick_cycle, reading, web_state
from ._security import bearer
from ._strict import check_body

__all__ = ["ENDPOINTS", "Endpoint", "api_routes"]

Handler = Callable[[Okra, Request, Reading, dict[str, Any], str], Any]
"""``handler(okra, request, reading, body, actor) -> data``."""


@attrs.frozen(kw_only=True)
class Endpoint:
    """One API endpoint, for its route and its OpenAPI entry.

    Attributes:
        method, path: the route (``{ref}`` is an id, an id prefix or a title).
        name: the OpenAPI operationId.
        summary: one line.
        handler: what it does.
        writes: whether it needs a token (and answers 201 when it creates).
        body: the request body's properties (name -> JSON schema), if any.
        required: which of those are required.
        query: the query parameters it reads, besides ``as_of``/``as_known_at``.
        answer: the response's schema name in ``components.schemas``.
        status: the success status.
    """

    method: str
    path: str
    name: str
    summary: str
    handler: Handler
    writes: bool = False
    body: Mapping[str, Any] = attrs.field(factory=dict)
    required: tuple[str, ...] = ()
    query: tuple[str, ...] = ()
    answer: str = "Object"
    status: int = 200


def _ref(request: Request) -> str:
    ref: str = request.path_params["ref"]
    return ref


def _checked_in(okra: Okra, check_in: Any) -> Any:
    """A recorded check-in, with ``warnings``: what looks wrong about it, in words."""
    data = to_data(check_in)
    data["warnings"] = commands.warnings_about(okra, check_in)
    return data


def _param(request: Request, name: str) -> str | None:
    return request.query_params.get(name, "").strip() or None


def _cycle_param(okra: Okra, request: Request) -> Any:
    return pick_cycle(okra, _param(request, "cycle"))


def _by_ref(query: Callable[..., Any]) -> Handler:
    """A read of the thing the path names: ``query(okra, ref, as_of=, as_known_at=)``."""

    def handler(okra: Okra, request: Request, read: Reading, body: Any, actor: str) -> Any:
        return to_data(query(okra, _ref(request), **read.kwargs))

    return handler


def _filtered(query: Callable[..., Any], *, owner: bool) -> Handler:
    """A read filtered by ``?cycle=`` (and ``?owner=``)."""

    def handler(okra: Okra, request: Request, read: Reading, body: Any, actor: str) -> Any:
        extra = {"owner": _param(request, "owner")} if owner else {}
        return to_data(query(okra, cycle=_cycle_param(okra, request), **extra, **read.kwargs))

    return handler


def _choice(request: Request, name: str, allowed: list[str]) -> str | None:
    """A query parameter that must be one of ``allowed``, if given."""
    value = _param(request, name)
    if value is not None and value not in allowed:
        raise ValidationError.single(name, f"expected one of {', '.join(allowed)}, got {value!r}")
    return value


def _tasks(okra: Okra, request: Request, read: Reading, body: Any, actor: str) -> Any:
    done = _choice(request, "done", ["true", "false"])
    world = okra.world(**read.kwargs)
    rows = []
    for action in world.actions():
        for task in action.tasks:
            if done is None or task.done == (done == "true"):
                rows.append({**to_data(task), "action_title": action.title})
    return rows


def _actions(okra: Okra, request: Request, read: Reading, body: Any, actor: str) -> Any:
    status = _choice(request, "status", [s.value for s in ActionStatus])
    actions = okra.world(**read.kwargs).actions()
    return [to_data(a) for a in actions if status is None or a.status.value == status]


def _lint(okra: Okra, request: Request, read: Reading, body: Any, actor: str) -> Any:
    rules = request.query_params.getlist("rule")
    return to_data(okra.lint(_param(request, "cycle"), rules=rules or None, **read.kwargs))


_STRING = {"type": "string"}
_NUMBER_OR_STRING = {"oneOf": [{"type": "number"}, {"type": "string"}]}

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        method="GET",
        path="/api/cycles",
        name="listCycles",
        summary="Every cycle",
        handler=lambda okra, request, read, body, actor: to_data(
            okra.world(**read.kwargs).cycles()
        ),
        answer="List",
    ),
    Endpoint(
        method="GET",
        path="/api/cycles/{ref}/progress",
        name="cycleProgress",
        summary="A cycle's dashboard: objectives, key results, pace and confidence",
        handler=_by_ref(Okra.cycle_progress),
    ),
    Endpoint(
        method="GET",
        path="/api/cycles/{ref}/scorecard",
        name="scorecard",
        summary="A cycle's scorecard",
        handler=_by_ref(Okra.scorecard),
    ),
    Endpoint(
        method="GET",
        path="/api/objectives/{ref}/progress",
        name="objectiveProgress",
        summary="One objective's progress, with each key result's",
        handler=_by_ref(Okra.objective_progress),
    ),
    Endpoint(
        method="GET",
        path="/api/key-results/{ref}/progress",
        name="keyResultProgress",
        summary="One key result's progress",
        handler=_by_ref(Okra.key_result_progress),
    ),
    Endpoint(
        method="GET",
        path="/api/entities/{ref}",
        name="entity",
        summary="Any entity's state (a key result with its check-ins, an action with its tasks)",
        handler=_by_ref(Okra.state),
        answer="Entity",
    ),
    Endpoint(
        method="GET",
        path="/api/entities/{ref}/timeline",
        name="timeline",
        summary="Who changed an entity, when and why",
        handler=lambda okra, request, read, body, actor: to_data(okra.timeline(_ref(request))),
        answer="List",
    ),
    Endpoint(
        method="GET",
        path="/api/tree",
        name="alignmentTree",
        summary="The alignment tree",
        handler=_filtered(Okra.alignment_tree, owner=False),
        query=("cycle",),
    ),
    Endpoint(
        method="GET",
        path="/api/focus",
        name="focus",
        summary="What needs attention, for one owner or everyone",
        handler=_filtered(Okra.focus, owner=True),
        query=("owner", "cycle"),
    ),
    Endpoint(
        method="GET",
        path="/api/lint",
        name="lint",
        summary="How the OKRs are written: lint findings, errors first (?cycle=, ?rule=)",
        handler=_lint,
        query=("cycle", "rule"),
    ),
    Endpoint(
        method="GET",
        path="/api/bets",
        name="bets",
        summary="The bets ledger",
        handler=_filtered(Okra.bets, owner=True),
        query=("owner", "cycle"),
    ),
    Endpoint(
        method="GET",
        path="/api/actions",
        name="listActions",
        summary="Actions (bets), with their tasks; ?status=placed for the ones under way",
        handler=_actions,
        query=("status",),
        answer="List",
    ),
    Endpoint(
        method="GET",
        path="/api/tasks",
        name="listTasks",
        summary="Tasks of every action, with the action's title; ?done=false for open ones",
        handler=_tasks,
        query=("done",),
        answer="List",
    ),
    Endpoint(
        method="POST",
        path="/api/key-results/{ref}/check-ins",
        name="checkIn",
        summary="Record a check-in",
        handler=lambda okra, request, read, body, actor: _checked_in(
            okra,
            commands.check_in(okra, _ref(request), body, actor=actor, source=CheckInSource.API),
        ),
        writes=True,
        body={
            "value": {"type": "number"},
            "confidence": _NUMBER_OR_STRING,
            "narrative": _STRING,
            "effective_at": {"type": "string", "format": "date-time"},
        },
        required=("value",),
        answer="CheckIn",
        status=201,
    ),
    Endpoint(
        method="POST",
        path="/api/check-ins/{ref}/correction",
        name="correctCheckIn",
        summary="Correct a check-in (the original stays in the log)",
        handler=lambda okra, request, read, body, actor: to_data(
            commands.correct(okra, _ref(request), body, actor=actor)
        ),
        writes=True,
        body={
            "reason": _STRING,
            "value": {"type": "number"},
            "confidence": _NUMBER_OR_STRING,
            "narrative": _STRING,
            "effective_at": {"type": "string", "format": "date-time"},
        },
        required=("reason",),
        answer="CheckIn",
    ),
    Endpoint(
        method="POST",
        path="/api/actions",
        name="proposeAction",
        summary="Propose an action: a bet on moving key results",
        handler=lambda okra, request, read, body, actor: to_data(
            commands.propose_action(okra, body, actor=actor)
        ),
        writes=True,
        body={
            "title": _STRING,
            "key_results": {"type": "array", "items": _STRING},
            "hypothesis": _STRING,
            "owner": _STRING,
            "effort": {"type": "number"},
        },
        required=("title", "key_results", "hypothesis"),
        answer="Entity",
        status=201,
    ),
    Endpoint(
        method="POST",
        path="/api/actions/{ref}/resolution",
        name="resolveAction",
        summary="Settle an action with its outcome and what was learned",
        handler=lambda okra, request, read, body, actor: to_data(
            commands.resolve_action(okra, _ref(request), body, actor=actor)
        ),
        writes=True,
        body={
            "outcome": {
                "type": "string",
                "enum": ["validated", "invalidated", "inconclusive", "abandoned"],
            },
            "learning": _STRING,
        },
        required=("outcome", "learning"),
        answer="Entity",
    ),
    Endpoint(
        method="POST",
        path="/api/actions/{ref}/tasks",
        name="addTask",
        summary="Add a task under an action",
        handler=lambda okra, request, read, body, actor: to_data(
            commands.add_task(okra, _ref(request), body, actor=actor)
        ),
        writes=True,
        body={"title": _STRING},
        required=("title",),
        answer="Task",
        status=201,
    ),
    Endpoint(
        method="POST",
        path="/api/tasks/{ref}/completion",
        name="completeTask",
        summary="Mark a task done",
        handler=lambda okra, request, read, body, actor: to_data(
            commands.complete_task(okra, _ref(request), body, actor=actor)
        ),
        writes=True,
        answer="Task",
    ),
)


def _error(status: int, message: str, path: str = "", **headers: str) -> JSONResponse:
    fields = [{"path": path, "message": message}] if path else []
    return JSONResponse({"error": message, "fields": fields}, status_code=status, headers=headers)


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"the body is not valid JSON: {exc}", "body")
    if not isinstance(data, dict):
        return _error(422, f"expected a JSON object, got {type(data).__name__}", "body")
    return data


def _endpoint(spec: Endpoint) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        st = web_state(request)
        actor = ""
        body: dict[str, Any] = {}
        if spec.writes:
            secret = bearer(request)
            if secret is None:
                return _error(
                    401,
                    "this call writes: send Authorization: Bearer TOKEN "
                    "(make one with `okra token create`)",
                    "authorization",
                    **{"WWW-Authenticate": "Bearer"},
                )
            token = st.tokens.verify(secret)
            if token is None:
                return _error(
                    401,
                    "the token is unknown or revoked",
                    "authorization",
                    **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            actor = token.actor
            parsed = await _body(request)
            if isinstance(parsed, JSONResponse):
                return parsed
            body = parsed
        try:
            check_body(body, spec.body)
            read = reading(request, st.okra)
            data = await run_in_threadpool(spec.handler, st.okra, request, read, body, actor)
        except OkraError as exc:
            return JSONResponse(error_body(exc), status_code=error_status(exc))
        return JSONResponse(data, status_code=spec.status)

    endpoint.__name__ = spec.name
    endpoint.__doc__ = spec.summary
    return endpoint


def api_routes() -> list[BaseRoute]:
    """The API's routes, from :data:`ENDPOINTS`, and ``/api/openapi.json``."""
    from ._openapi import openapi_endpoint

    routes: list[BaseRoute] = [
        Route(spec.path, _endpoint(spec), methods=[spec.method], name=f"api.{spec.name}")
        for spec in ENDPOINTS
    ]
    routes.append(Route("/api/openapi.json", openapi_endpoint, name="api.openapi"))
    return routes
