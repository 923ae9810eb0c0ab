"""The JSON API reads its writes strictly: each field the JSON type its schema names.

Every write endpoint of :data:`ENDPOINTS`, every field of its body, every JSON type
that field does not take: 422 naming the field, and nothing written. The cases
come from the route table, so a new endpoint or field is tried without a new test.
What a field takes is read here from the schema's plain ``type`` words, not from
the module under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_adapters.web._api import ENDPOINTS, Endpoint
from okra_core import ActionStatus, Okra

from .web_server import Served, serve

# One value of each JSON type, and numbers JSON allows that are no measurement.
SAMPLES: dict[str, list[Any]] = {
    "null": [None],
    "boolean": [True, False],
    "number": [12, 1.5],
    "string": ["12", "nan", "text"],
    "array": [[], ["x"], [1]],
    "object": [{}, {"value": 1}],
}
NOT_FINITE = [b"NaN", b"Infinity", b"-Infinity", b"1e309"]


def _types(schema: dict[str, Any]) -> set[str]:
    if "oneOf" in schema:
        return set().union(*(_types(s) for s in schema["oneOf"]))
    return {schema["type"]}


def _wrong(schema: dict[str, Any]) -> list[Any]:
    """Values of the JSON types the field does not take (and arrays of wrong items)."""
    takes = _types(schema)
    values = [v for kind, vs in SAMPLES.items() if kind not in takes for v in vs]
    if "array" in takes:
        item_types = _types(schema["items"])
        values += [[v] for kind, vs in SAMPLES.items() if kind not in item_types for v in vs]
    return values


WRITES = [e for e in ENDPOINTS if e.writes]
CASES = [
    pytest.param(spec, field, value, id=f"{spec.name}-{field}-{json.dumps(value)}")
    for spec in WRITES
    for field, schema in spec.body.items()
    for value in _wrong(dict(schema))
]
NUMBER_FIELDS = [
    pytest.param(spec, field, id=f"{spec.name}-{field}")
    for spec in WRITES
    for field, schema in spec.body.items()
    if "number" in _types(dict(schema))
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("strict")) as running:
        yield running


@pytest.fixture(scope="module")
def client(served: Served) -> Iterator[httpx.Client]:
    auth = {"Authorization": f"Bearer {served.secret}"}
    with httpx.Client(base_url=served.url, headers=auth) as c:
        yield c


def _path(okra: Okra, spec: Endpoint) -> str:
    """The endpoint's path with a real thing of the kind it names (a write would land)."""
    if "{ref}" not in spec.path:
        return spec.path
    action = next(a for a in okra.actions() if a.status is ActionStatus.PLACED)
    key_result = next(k for k in okra.key_results() if k.check_ins)
    refs = {
        "/api/key-results/": key_result.id,
        "/api/check-ins/": key_result.check_ins[-1].id,
        "/api/actions/": action.id,
        "/api/tasks/": next((t.id for t in action.tasks if not t.done), "nothing"),
    }
    ref = next((r for prefix, r in refs.items() if spec.path.startswith(prefix)), "nothing")
    return spec.path.replace("{ref}", str(ref))


def _log(okra: Okra) -> int:
    return sum(1 for _ in okra.history())


def _refused(served: Served, client: httpx.Client, spec: Endpoint, body: bytes, field: str) -> None:
    before = _log(served.okra)
    response = client.post(
        _path(served.okra, spec), content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, (body, response.text)
    assert field in [f["path"] for f in response.json()["fields"]], response.text
    assert _log(served.okra) == before


def test_every_write_endpoint_has_fields_to_try() -> None:
    assert {e.name for e in WRITES} >= {"checkIn", "correctCheckIn", "proposeAction"}
    assert len(CASES) > 50


@pytest.mark.parametrize(("spec", "field", "value"), CASES)
def test_a_wrong_json_type_is_422_naming_the_field(
    served: Served, client: httpx.Client, spec: Endpoint, field: str, value: Any
) -> None:
    _refused(served, client, spec, json.dumps({field: value}).encode(), field)


@pytest.mark.parametrize(("spec", "field"), NUMBER_FIELDS)
@pytest.mark.parametrize("raw", NOT_FINITE, ids=lambda r: r.decode())
def test_a_number_that_is_not_finite_is_422(
    served: Served, client: httpx.Client, spec: Endpoint, field: str, raw: bytes
) -> None:
    _refused(served, client, spec, b'{"' + field.encode() + b'": ' + raw + b"}", field)


def test_a_check_in_sent_as_text_is_refused_as_python_refuses_it(
    served: Served, client: httpx.Client
) -> None:
    okra = served.okra
    spec = next(e for e in WRITES if e.name == "checkIn")
    before = _log(okra)
    response = client.post(_path(okra, spec), json={"value": "12"})
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"path": "value", "message": 'expected a finite number, got the string "12"'}
    ]
    assert _log(okra) == before
    fine = client.post(_path(okra, spec), json={"value": 12})
    assert fine.status_code == 201, fine.text
    assert fine.json()["value"] == 12.0


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"null", "null"),
        (b"true", "true"),
        (b"false", "false"),
        (b'{"a": 1}', "an object"),
        (b"[1, 2]", "an array"),
        (b'"x\\u00e9"', 'the string "x\u00e9"'),
        (b"NaN", "NaN"),
        (b"1e309", "a number out of range (Infinity)"),
    ],
    ids=lambda v: v.decode() if isinstance(v, bytes) else None,
)
def test_a_refusal_names_the_value_in_json_words(
    served: Served, client: httpx.Client, raw: bytes, shown: str
) -> None:
    okra = served.okra
    spec = next(e for e in WRITES if e.name == "checkIn")
    response = client.post(
        _path(okra, spec),
        content=b'{"value": ' + raw + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["fields"] == [
        {"path": "value", "message": f"expected a finite number, got {shown}"}
    ]


def test_forms_still_read_text_but_refuse_nan_and_infinity(
    served: Served, client: httpx.Client
) -> None:
    okra = served.okra
    key_result = next(k for k in okra.key_results() if k.title == "CSAT")
    page = client.get(f"/objectives/{key_result.objective_id}").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    path = f"/key-results/{key_result.id}/check-ins"
    for field, typed in (("value", "nan"), ("value", "inf"), ("confidence", "nan")):
        before = _log(okra)
        data = {"csrf_token": token, "value": "4.1", field: typed}
        response = client.post(path, data=data)
        assert response.status_code == 422, (field, typed)
        assert _log(okra) == before
    assert client.post(path, data={"csrf_token": token, "value": "4.2"}).status_code == 303


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from([(s, f) for s in WRITES for f in s.body]),
    value=JSON_VALUES,
)
def test_any_json_value_of_a_type_the_field_does_not_take_is_refused(
    served: Served, client: httpx.Client, case: tuple[Endpoint, str], value: Any
) -> None:
    spec, field = case
    schema = dict(spec.body[field])
    kind = _json_kind(value)
    takes = _types(schema)
    if kind in takes and kind != "array":
        return  # a type it takes: whether the value is good is the command's business
    if kind == "array" and "array" in takes:
        items = _types(schema["items"])
        if all(_json_kind(v) in items for v in value):
            return
    _refused(served, client, spec, json.dumps({field: value}).encode(), field)
