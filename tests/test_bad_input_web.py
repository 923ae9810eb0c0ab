"""Bad input to every write route of the JSON API, over real HTTP on loopback.

hypothesis picks the route, the field and the bad value (wrong types, NaN and
infinities, 1 MB strings, control characters, naive and far-future datetimes,
unknown ids). Each answer is a 4xx with a JSON error naming a field, never a
500, and the log has as many events after as before. Bodies over the size
limit get 413 before they are read: a request that only *declares* 10 GB is
answered at once.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.web._api import ENDPOINTS
from okra_adapters.web._limits import DEFAULT_MAX_BODY
from okra_core import ActionStatus, Okra

from .web_server import Served, serve

BAD_JSON: list[Any] = [
    None,
    True,
    -1,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "x" * 200_000,
    "\x00\x1b[31m",
    "\u202eevil",
    [],
    {},
    [1, "a"],
    {"nested": {"deep": [None]}},
    "2026-09-01T09:00:00",  # naive
    "9999-12-31T23:59:59+00:00",
    "0001-01-01",
    str(uuid4()),
    "zzzz-unknown",
]

WRITES = [e for e in ENDPOINTS if e.writes]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("bad-web")) as running:
        yield running


def _events(okra: Okra) -> int:
    return sum(1 for _ in okra.history())


def _path(served: Served, template: str, *, unknown: bool) -> str:
    """The route with a real entity of its kind (while one is left), or an unknown id."""
    okra = served.okra
    found: object = None
    if unknown:
        found = None
    elif "/key-results/" in template:
        found = okra.key_results()[0].id
    elif "/check-ins/" in template:
        found = next((c.id for kr in okra.key_results() for c in kr.check_ins), None)
    elif "/tasks/" in template:
        found = next((t.id for a in okra.actions() for t in a.tasks if not t.done), None)
    else:
        found = next((a.id for a in okra.actions() if a.status is ActionStatus.PLACED), None)
    return template.replace("{ref}", str(found if found is not None else uuid4()))


def _valid_body(served: Served, template: str) -> dict[str, Any]:
    kr = served.okra.key_results()[0]
    bodies: dict[str, dict[str, Any]] = {
        "/api/key-results/{ref}/check-ins": {"value": 3},
        "/api/check-ins/{ref}/correction": {"reason": "typo", "value": 3},
        "/api/actions": {
            "title": "Try",
            "key_results": [str(kr.id)],
            "hypothesis": "h",
            "effort": 1,
        },
        "/api/actions/{ref}/resolution": {"outcome": "validated", "learning": "l"},
        "/api/actions/{ref}/tasks": {"title": "t"},
        "/api/tasks/{ref}/completion": {},
    }
    return bodies[template]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_every_write_route_refuses_bad_input_with_a_4xx_and_writes_nothing(
    served: Served, data: st.DataObject
) -> None:
    endpoint = data.draw(st.sampled_from(WRITES), label="route")
    body = _valid_body(served, endpoint.path)
    fields = [*endpoint.body, "unknown_field"]
    field = data.draw(st.sampled_from(fields), label="field")
    body[field] = data.draw(st.sampled_from(BAD_JSON), label="bad")
    unknown = data.draw(st.booleans(), label="unknown id in the path")
    path = _path(served, endpoint.path, unknown=unknown)
    before = _events(served.okra)
    with httpx.Client(base_url=served.url) as client:
        response = client.post(
            path,
            content=json.dumps(body),  # NaN and Infinity as Python writes them
            headers={
                "Authorization": f"Bearer {served.secret}",
                "Content-Type": "application/json",
            },
        )
    assert response.status_code < 500, (path, body, response.text)
    if response.status_code >= 400:
        assert 400 <= response.status_code < 500
        answer = response.json()
        assert answer["error"]
        if response.status_code == 422:
            assert answer["fields"], answer
            assert all(f["path"] and f["message"] for f in answer["fields"])
        assert _events(served.okra) == before, (path, body)


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"text"', b"\xff\xfe", b"null"])
def test_a_body_that_is_not_a_json_object_is_refused(served: Served, raw: bytes) -> None:
    kr = served.okra.key_results()[0]
    before = _events(served.okra)
    response = httpx.post(
        f"{served.url}/api/key-results/{kr.id}/check-ins",
        content=raw,
        headers={"Authorization": f"Bearer {served.secret}"},
    )
    assert response.status_code in (400, 422)
    assert response.json()["fields"][0]["path"] == "body"
    assert _events(served.okra) == before


def test_a_body_over_the_limit_gets_413(served: Served) -> None:
    kr = served.okra.key_results()[0]
    before = _events(served.okra)
    big = json.dumps({"value": 1, "narrative": "x" * (DEFAULT_MAX_BODY + 1)})
    path = f"{served.url}/api/key-results/{kr.id}/check-ins"
    auth = {"Authorization": f"Bearer {served.secret}"}
    declared = httpx.post(path, content=big, headers=auth)
    assert declared.status_code == 413
    assert declared.json()["fields"][0]["path"] == "body"

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536].encode()

    streamed = httpx.post(path, content=chunks(), headers=auth)
    assert streamed.status_code == 413
    form = httpx.post(f"{served.url}/key-results/{kr.id}/check-ins", content=big.encode())
    assert form.status_code == 413
    assert _events(served.okra) == before


def test_a_declared_10_gb_body_is_refused_before_any_of_it_is_read(served: Served) -> None:
    """Only the headers are sent: an answer at all shows nothing waited for the body."""
    kr = served.okra.key_results()[0]
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            f"POST /api/key-results/{kr.id}/check-ins HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {served.secret}\r\n"
            "Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n".encode()
        )
        answer = conn.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")
