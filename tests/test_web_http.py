"""The web UI and JSON API over real HTTP: every route, good and bad input, tokens, CSRF.

One uvicorn server on loopback serves the demo quarter (week 10, an SQLite
file) for the module; tests that write count what changed rather than assume a
fresh store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from okra_adapters.web import TokenStore, create_app
from okra_adapters.web._api import ENDPOINTS
from okra_adapters.web._openapi import SCHEMAS
from okra_core import (
    Action,
    ActionStatus,
    KeyResult,
    Okra,
    PluginError,
    WebRoute,
    hookimpl,
    to_data,
)
from okra_core.testing import plugin_registered

from .web_server import Served, run_app, serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("web")) as running:
        yield running


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, follow_redirects=False) as c:
        yield c


def _kr(okra: Okra, title: str) -> KeyResult:
    return next(k for k in okra.key_results() if k.title == title)


def _placed_action(okra: Okra) -> Action:
    return next(a for a in okra.actions() if a.status is ActionStatus.PLACED)


def _csrf(client: httpx.Client, page: str = "/bets") -> str:
    html = client.get(page).text
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


# --- pages -----------------------------------------------------------------------------


def test_every_page_answers(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    objective = okra.objectives()[0]
    kr = okra.key_results(objective)[0]
    pages = [
        "/",
        "/?owner=sam",
        f"/?cycle={okra.cycles()[0].name}",
        f"/objectives/{objective.id}",
        f"/objectives/{objective.id.hex[:8]}",
        "/tree",
        "/focus",
        "/focus?owner=sam",
        "/bets",
        "/scorecard",
        f"/history/{objective.id}",
        f"/history/{kr.id}",
        "/?as_of=2026-08-01",
        "/?as_known_at=2026-08-01",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response.headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    css = client.get("/static/okra.css")
    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]


def test_dashboard_shows_progress_pace_confidence_and_filters(
    served: Served, client: httpx.Client
) -> None:
    html = client.get("/").text
    for objective in served.okra.objectives(cycle=served.okra.cycles()[0]):
        assert objective.title in html
    assert 'class="pace pace-' in html
    assert 'class="bar"' in html
    only_lee = client.get("/?owner=lee").text
    lee_titles = [o.title for o in served.okra.objectives() if o.owner == "lee"]
    assert all(t in only_lee for t in lee_titles)
    others = {o.title for o in served.okra.objectives() if o.owner != "lee"} - {
        served.okra.objective(k.objective_id).title
        for k in served.okra.key_results()
        if k.owner == "lee"
    }
    assert not any(f">{t}</a>" in only_lee for t in others)


def test_objective_page_draws_a_chart_per_key_result(served: Served, client: httpx.Client) -> None:
    objective = served.okra.objectives()[0]
    html = client.get(f"/objectives/{objective.id}").text
    for kr in served.okra.key_results(objective):
        chart = re.search(rf'<svg[^>]*id="chart-{kr.id}"[^>]*data-points="(\d+)"', html)
        assert chart, kr.title
        assert int(chart.group(1)) == len(kr.check_ins)
        assert f'id="confidence-{kr.id}"' in html
    assert 'class="target-line"' in html


def test_unknown_things_and_bad_instants(served: Served, client: httpx.Client) -> None:
    missing = client.get("/objectives/no-such-objective")
    assert missing.status_code == 404
    assert "no objective matches" in missing.text
    assert client.get("/history/ffffffff").status_code == 404
    bad = client.get("/?as_of=yesterday-ish")
    assert bad.status_code == 400
    assert "as_of: expected a date" in bad.text
    objective = served.okra.objectives()[0]
    before = client.get(f"/objectives/{objective.id}?as_of=2026-01-01")
    assert before.status_code == 404
    assert "Not there yet at that date" in before.text


def test_user_text_is_escaped(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    cycle = okra.cycles()[0]
    evil = '<script>alert("x")</script>'
    objective = okra.draft_objective(evil, cycle=cycle, owner="<b>eve</b>", actor="maria")
    for page in ("/", f"/objectives/{objective.id}", "/tree", f"/history/{objective.id}"):
        html = client.get(page).text
        assert "<script>" not in html, page
        assert "&lt;script&gt;" in html, page
    okra.abandon_objective(objective, reason="a test of escaping", actor="maria")


def test_instants_beyond_the_calendar_are_bad_input_not_a_crash(client: httpx.Client) -> None:
    for instant in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"):
        answer = client.get("/api/cycles", params={"as_of": instant})
        assert answer.status_code in (400, 422), instant
        assert answer.json()["fields"][0]["path"] == "as_of"


def test_a_foreign_host_name_is_refused(client: httpx.Client) -> None:
    """DNS rebinding: a page from elsewhere, re-bound to 127.0.0.1, gets nothing."""
    for path in ("/", "/bets", "/api/cycles"):
        answer = client.get(path, headers={"Host": "rebind.attacker.example:8000"})
        assert answer.status_code == 400, path
        assert "csrf" not in answer.text.lower()
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200


# --- forms -----------------------------------------------------------------------------


def test_a_check_in_form_records_and_redirects(served: Served, client: httpx.Client) -> None:
    kr = _kr(served.okra, "Monthly churn")
    before = len(served.okra.key_result(kr.id).check_ins)
    token = _csrf(client, f"/objectives/{kr.objective_id}")
    response = client.post(
        f"/key-results/{kr.id}/check-ins",
        data={"csrf_token": token, "value": "2.1", "confidence": "7", "narrative": "fine <b>"},
    )
    assert response.status_code == 303
    after = served.okra.key_result(kr.id).check_ins
    assert len(after) == before + 1
    latest = next(c for c in after if c.narrative == "fine <b>")
    assert response.headers["location"] == (
        f"/objectives/{kr.objective_id}?checked={latest.id}#kr-{kr.id}"
    )
    assert (latest.value, latest.actor, latest.narrative) == (2.1, "maria", "fine <b>")
    # Nothing odd about it: the page after the redirect says nothing.
    assert 'id="notice"' not in client.get(response.headers["location"]).text


def test_a_form_check_in_reads_values_as_typed_and_warns_of_odd_ones(
    served: Served, client: httpx.Client
) -> None:
    kr = _kr(served.okra, "Monthly churn")  # stay below 3 %
    token = _csrf(client, f"/objectives/{kr.objective_id}")
    response = client.post(
        f"/key-results/{kr.id}/check-ins", data={"csrf_token": token, "value": "-1.5%"}
    )
    assert response.status_code == 303
    checked = response.headers["location"].split("?checked=")[1].split("#")[0]
    assert served.okra.get_check_in(checked).value == -1.5  # recorded: warned, not refused
    page = client.get(response.headers["location"]).text
    notice = page.split('id="notice">')[1].split("</p>")[0]
    assert "Recorded, but note: -1.5 % is below 0%" in notice


def test_the_api_takes_json_numbers_and_returns_warnings(
    served: Served, client: httpx.Client
) -> None:
    kr = _kr(served.okra, "Monthly churn")
    auth = {"Authorization": f"Bearer {served.secret}"}
    path = f"/api/key-results/{kr.id}/check-ins"
    fine = client.post(path, json={"value": 2.5}, headers=auth)
    assert fine.status_code == 201, fine.text
    assert (fine.json()["value"], fine.json()["warnings"]) == (2.5, [])
    odd = client.post(
        path, json={"value": -4, "effective_at": "2020-01-01T00:00:00Z"}, headers=auth
    )
    assert odd.status_code == 201, odd.text
    warnings = odd.json()["warnings"]
    assert len(warnings) == 2
    assert warnings[0].startswith("it is dated 2020-01-01, before its cycle")
    assert "-4 % is below 0%" in warnings[1]
    before = len(served.okra.key_result(kr.id).check_ins)
    for typed in ("lots", "2.5%", "12"):  # text is a form's way, not JSON's
        bad = client.post(path, json={"value": typed}, headers=auth)
        assert bad.status_code == 422
        assert bad.json()["fields"] == [
            {"path": "value", "message": f'expected a finite number, got the string "{typed}"'}
        ]
    assert len(served.okra.key_result(kr.id).check_ins) == before


def test_a_refused_form_shows_each_error_by_its_field(served: Served, client: httpx.Client) -> None:
    kr = _kr(served.okra, "Monthly churn")
    before = len(served.okra.key_result(kr.id).check_ins)
    token = _csrf(client, f"/objectives/{kr.objective_id}")
    response = client.post(
        f"/key-results/{kr.id}/check-ins",
        data={"csrf_token": token, "value": "lots", "confidence": "11"},
    )
    assert response.status_code == 422
    form = response.text.split(f'id="checkin-{kr.id}"')[1].split("</form>")[0]
    assert re.search(r'data-field="value">expected a number', form)
    assert 'value="lots"' in form  # what was typed is kept
    assert len(served.okra.key_result(kr.id).check_ins) == before


def test_forms_without_the_csrf_token_are_refused(served: Served, client: httpx.Client) -> None:
    kr = _kr(served.okra, "Monthly churn")
    before = len(served.okra.key_result(kr.id).check_ins)
    _csrf(client)  # the cookie is set, but the field is missing or wrong
    for data in ({"value": "2"}, {"value": "2", "csrf_token": "forged"}):
        response = client.post(f"/key-results/{kr.id}/check-ins", data=data)
        assert response.status_code == 403
        assert "The form has expired" in response.text
    with httpx.Client(base_url=served.url) as fresh:  # a field but no cookie
        token = _csrf(client)
        refused = fresh.post(f"/key-results/{kr.id}/check-ins", data={"csrf_token": token})
        assert refused.status_code == 403
    assert len(served.okra.key_result(kr.id).check_ins) == before


def test_a_correction_form(served: Served, client: httpx.Client) -> None:
    kr = served.okra.key_result(_kr(served.okra, "Monthly churn").id)
    check_in = kr.check_ins[0]
    token = _csrf(client, f"/objectives/{kr.objective_id}")
    missing_reason = client.post(
        f"/check-ins/{check_in.id}/correction", data={"csrf_token": token, "value": "2.9"}
    )
    assert missing_reason.status_code == 422
    assert 'data-field="reason"' in missing_reason.text
    assert f'id="kr-{kr.id}"' in missing_reason.text
    section = missing_reason.text.split(f'id="kr-{kr.id}"')[1]
    assert '<details class="check-ins" open>' in section.split("</details>")[0]
    done = client.post(
        f"/check-ins/{check_in.id}/correction",
        data={"csrf_token": token, "value": "2.9", "reason": "typo in the export"},
    )
    assert done.status_code == 303
    assert served.okra.get_check_in(check_in.id).value == 2.9


def test_action_and_task_forms(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    kr = _kr(okra, "Monthly churn")
    token = _csrf(client, "/bets")
    empty = client.post("/actions", data={"csrf_token": token, "key_results": str(kr.id)})
    assert empty.status_code == 422
    assert 'data-field="title"' in empty.text
    assert 'data-field="hypothesis"' in empty.text
    proposed = client.post(
        "/actions",
        data={
            "csrf_token": token,
            "title": "Exit survey",
            "key_results": str(kr.id),
            "hypothesis": "asking why people leave shows what to fix",
            "effort": "3",
        },
    )
    assert proposed.status_code == 303
    action = next(a for a in okra.actions() if a.title == "Exit survey")
    added = client.post(
        f"/actions/{action.id}/tasks", data={"csrf_token": token, "title": "Draft questions"}
    )
    assert added.status_code == 303
    task = okra.action(action.id).tasks[0]
    assert (
        client.post(f"/tasks/{task.id}/completion", data={"csrf_token": token}).status_code == 303
    )
    assert okra.action(action.id).tasks[0].done
    no_title = client.post(f"/actions/{action.id}/tasks", data={"csrf_token": token})
    assert no_title.status_code == 422
    bad_outcome = client.post(
        f"/actions/{action.id}/resolution",
        data={"csrf_token": token, "outcome": "great", "learning": "x"},
    )
    assert bad_outcome.status_code == 422
    assert "form-error" in bad_outcome.text or 'data-field="outcome"' in bad_outcome.text
    resolved = client.post(
        f"/actions/{action.id}/resolution",
        data={"csrf_token": token, "outcome": "abandoned", "learning": "no time"},
    )
    assert resolved.status_code == 303
    assert okra.action(action.id).status is ActionStatus.ABANDONED
    again = client.post(
        f"/actions/{action.id}/resolution",
        data={"csrf_token": token, "outcome": "abandoned", "learning": "no time"},
    )
    assert again.status_code == 409
    assert client.post("/tasks/nope/completion", data={"csrf_token": token}).status_code == 404


# --- the JSON API ----------------------------------------------------------------------


def _check(schema: dict[str, Any], data: Any, where: str = "$") -> None:
    """A structural check of ``data`` against the subset of JSON Schema the document uses."""
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[1]]
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}
    kind = schema.get("type")
    if kind == "number":
        assert isinstance(data, int | float), where
        assert not isinstance(data, bool), where
    elif kind is not None:
        assert isinstance(data, kinds[kind]), f"{where}: expected {kind}"
    if isinstance(data, dict):
        for key in schema.get("required", ()):
            assert key in data, f"{where}: {key} missing"
        for key, sub in schema.get("properties", {}).items():
            if key in data:
                _check(sub, data[key], f"{where}.{key}")
    if isinstance(data, list) and "items" in schema:
        for i, item in enumerate(data):
            _check(schema["items"], item, f"{where}[{i}]")


def _response_schema(doc: dict[str, Any], method: str, path: str, status: int) -> dict[str, Any]:
    operation = doc["paths"][path][method.lower()]
    schema: dict[str, Any] = operation["responses"][str(status)]["content"]["application/json"][
        "schema"
    ]
    return schema


@pytest.fixture(scope="module")
def openapi(served: Served) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"{served.url}/api/openapi.json").json()
    return doc


def test_openapi_lists_every_api_route(served: Served, openapi: dict[str, Any]) -> None:
    app = create_app(served.okra, served.tokens, actor="maria")
    api_routes = {
        (method.lower(), route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/")
        for method in route.methods or ()
        if method != "HEAD" and route.path != "/api/openapi.json"
    }
    documented = {(m, p) for p, ops in openapi["paths"].items() for m in ops}
    assert api_routes == documented
    assert openapi["openapi"].startswith("3.")
    assert len(documented) == len(ENDPOINTS)


def test_every_read_answers_as_documented(
    served: Served, client: httpx.Client, openapi: dict[str, Any]
) -> None:
    okra = served.okra
    cycle = okra.cycles()[0]
    objective = okra.objectives()[0]
    kr = okra.key_results(objective)[0]
    refs = {
        "/api/cycles/{ref}/progress": cycle.name,
        "/api/cycles/{ref}/scorecard": str(cycle.id),
        "/api/objectives/{ref}/progress": str(objective.id),
        "/api/key-results/{ref}/progress": kr.title,
        "/api/entities/{ref}": str(kr.id),
        "/api/entities/{ref}/timeline": str(kr.id),
    }
    for spec in ENDPOINTS:
        if spec.writes:
            continue
        path = spec.path.replace("{ref}", refs.get(spec.path, ""))
        for query in ("", "?as_of=2026-08-15"):
            response = client.get(path + query)
            assert response.status_code == 200, (path, response.text)
            _check(_response_schema(openapi, "GET", spec.path, 200), response.json(), path)
    progress = client.get(f"/api/cycles/{cycle.id}/progress?as_known_at=2026-07-31").json()
    now = client.get(f"/api/cycles/{cycle.id}/progress").json()
    assert progress["at"] < now["at"]
    open_tasks = client.get("/api/tasks?done=false").json()
    assert all(not t["done"] and t["action_title"] for t in open_tasks)
    placed = client.get("/api/actions?status=placed").json()
    assert placed
    assert all(a["status"] == "placed" for a in placed)


def test_read_errors_are_json_with_field_paths(client: httpx.Client) -> None:
    missing = client.get("/api/objectives/nothing-like-this/progress")
    assert missing.status_code == 404
    assert missing.json()["error"].startswith("no objective matches")
    bad = client.get("/api/cycles?as_of=soon&as_known_at=later")
    assert bad.status_code == 422
    assert [f["path"] for f in bad.json()["fields"]] == ["as_of", "as_known_at"]
    for query in ("/api/tasks?done=maybe", "/api/actions?status=won"):
        refused = client.get(query)
        assert refused.status_code == 422
        assert refused.json()["fields"][0]["path"] == query.split("?")[1].split("=")[0]


def test_writes_need_a_valid_token(served: Served, client: httpx.Client) -> None:
    kr = _kr(served.okra, "Monthly churn")
    before = len(served.okra.key_result(kr.id).check_ins)
    path = f"/api/key-results/{kr.id}/check-ins"
    none = client.post(path, json={"value": 2})
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    assert none.json()["fields"][0]["path"] == "authorization"
    wrong = client.post(path, json={"value": 2}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    basic = client.post(path, json={"value": 2}, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    issued = served.tokens.issue("short-lived", actor="lee", issued_by="maria")
    served.tokens.revoke(issued.token.id, revoked_by="maria")
    revoked = client.post(
        path, json={"value": 2}, headers={"Authorization": f"Bearer {issued.secret}"}
    )
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["error"]
    # a cookie from the pages opens nothing in the API
    _csrf(client)
    assert client.post(path, json={"value": 2}).status_code == 401
    assert len(served.okra.key_result(kr.id).check_ins) == before


def test_api_writes_act_as_the_tokens_actor(
    served: Served, client: httpx.Client, openapi: dict[str, Any]
) -> None:
    okra = served.okra
    auth = {"Authorization": f"Bearer {served.secret}"}
    kr = _kr(okra, "Median first response time")

    def call(path: str, body: Any, status: int, template: str) -> Any:
        response = client.post(path, json=body, headers=auth)
        assert response.status_code == status, response.text
        _check(_response_schema(openapi, "POST", template, status), response.json(), path)
        return response.json()

    check_in = call(
        f"/api/key-results/{kr.id}/check-ins",
        {"value": 7.5, "confidence": 6, "narrative": "from the API"},
        201,
        "/api/key-results/{ref}/check-ins",
    )
    assert check_in["actor"] == "sam"
    assert check_in["source"] == "api"
    corrected = call(
        f"/api/check-ins/{check_in['id']}/correction",
        {"value": 7.0, "reason": "rounding"},
        200,
        "/api/check-ins/{ref}/correction",
    )
    assert corrected["value"] == 7.0
    action = call(
        "/api/actions",
        {
            "title": "Macros for replies",
            "key_results": [str(kr.id)],
            "hypothesis": "h",
            "effort": 2,
        },
        201,
        "/api/actions",
    )
    assert action["created_by"] == "sam"
    task = call(
        f"/api/actions/{action['id']}/tasks",
        {"title": "List the top 10"},
        201,
        "/api/actions/{ref}/tasks",
    )
    assert task["done"] is False
    assert task["added_by"] == "sam"
    done = call(f"/api/tasks/{task['id']}/completion", None, 200, "/api/tasks/{ref}/completion")
    assert done["done"] is True
    assert done["completed_by"] == "sam"
    resolved = call(
        f"/api/actions/{action['id']}/resolution",
        {"outcome": "abandoned", "learning": "too early"},
        200,
        "/api/actions/{ref}/resolution",
    )
    assert resolved["status"] == "abandoned"


def test_bad_api_input_is_refused_with_field_paths(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    auth = {"Authorization": f"Bearer {served.secret}"}
    kr = _kr(okra, "Median first response time")
    before = sum(1 for _ in okra.history())
    path = f"/api/key-results/{kr.id}/check-ins"
    not_json = client.post(path, content=b"{value: 1", headers=auth)
    assert not_json.status_code == 400
    assert not_json.json()["fields"][0]["path"] == "body"
    not_object = client.post(path, json=[1], headers=auth)
    assert not_object.status_code == 422
    bad = client.post(
        path,
        json={"value": 1, "confidence": 42, "effective_at": "someday", "colour": "red"},
        headers=auth,
    )
    assert bad.status_code == 422
    assert {f["path"] for f in bad.json()["fields"]} == {"colour", "effective_at"}
    mistyped = client.post(path, json={"value": "high", "colour": "red"}, headers=auth)
    assert mistyped.status_code == 422  # a wrong JSON type, and the unknown field too
    assert {f["path"] for f in mistyped.json()["fields"]} == {"colour", "value"}
    off_scale = client.post(path, json={"value": 3, "confidence": 42}, headers=auth)
    assert off_scale.status_code == 422
    assert [f["path"] for f in off_scale.json()["fields"]] == ["confidence"]
    unknown = client.post("/api/key-results/zzzz/check-ins", json={"value": 1}, headers=auth)
    assert unknown.status_code == 404
    action = _placed_action(okra)
    no_title = client.post(f"/api/actions/{action.id}/tasks", json={"title": " "}, headers=auth)
    assert no_title.status_code == 422
    assert no_title.json()["fields"] == [{"path": "title", "message": "expected a non-empty text"}]
    wrong_type = client.post(f"/api/actions/{action.id}/tasks", json={"title": 5}, headers=auth)
    assert wrong_type.json()["fields"][0]["path"] == "title"
    assert sum(1 for _ in okra.history()) == before


def test_conflicts_are_409(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    auth = {"Authorization": f"Bearer {served.secret}"}
    resolved = next(a for a in okra.actions() if a.resolved_at is not None)
    again = client.post(
        f"/api/actions/{resolved.id}/resolution",
        json={"outcome": "validated", "learning": "again"},
        headers=auth,
    )
    assert again.status_code == 409
    assert again.json()["fields"] == []


# --- plugins' routes --------------------------------------------------------------------


class _Hello:
    @hookimpl
    def okra_web_routes(self) -> list[WebRoute]:
        async def hello(request: Any) -> Any:
            from starlette.responses import PlainTextResponse

            okra: Okra = request.app.state.okra
            return PlainTextResponse(f"{len(okra.cycles())} cycles")

        return [WebRoute(name="hello.page", path="/hello", handler=hello)]


class _Clash:
    @hookimpl
    def okra_web_routes(self) -> list[WebRoute]:
        return [WebRoute(name="clash.page", path="/bets", handler=lambda request: None)]


def test_plugins_routes_are_mounted_and_listed() -> None:
    with plugin_registered(_Hello()) as plugins, Okra("memory://", plugins=plugins) as okra:
        app = create_app(okra, TokenStore(":memory:", okra.url), actor="ana")
        with run_app(app) as url:
            assert httpx.get(f"{url}/hello").text == "0 cycles"
            assert 'href="/hello"' in httpx.get(f"{url}/").text
    with (
        plugin_registered(_Clash()) as plugins,
        Okra("memory://", plugins=plugins) as okra,
        pytest.raises(PluginError, match="GET /bets"),
    ):
        create_app(okra, TokenStore(":memory:", okra.url), actor="ana")


def test_the_lint_endpoint(served: Served, client: httpx.Client) -> None:
    okra = served.okra
    expected = to_data(okra.lint())
    answer = client.get("/api/lint").json()
    assert answer["findings"] == expected["findings"]
    assert answer["rules"] == expected["rules"]
    cycle = okra.cycles()[0]
    one = client.get(f"/api/lint?cycle={cycle.id}&rule=okra.stale-check-in").json()
    assert one["rules"] == ["okra.stale-check-in"]
    assert one["cycles"] == [cycle.name]
    bad = client.get("/api/lint?rule=okra.nope")
    assert bad.status_code == 422
    assert "rules" in bad.text
