"""The weekly routine's forms over real HTTP: each writes exactly its event, or nothing.

uvicorn on loopback serves an SQLite store that each test fills through the
Python API with what it needs (a cycle of its own), then posts one form: an
accepted form writes exactly the expected event and redirects (303); a form
with a bad field answers 422 with that field's error next to it, keeps what was
typed, and leaves the log as long as it was.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest

from okra_adapters.web import TokenStore, create_app
from okra_core import Change, Cycle, KeyResult, ManualClock, Objective, Okra, StayAbove, StayBelow

from .web_server import run_app

ACTOR = "maria"
_names = itertools.count(1)


@attrs.frozen
class Site:
    url: str
    okra: Okra


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp: Path = tmp_path_factory.mktemp("routine-http")
    url = f"sqlite:///{tmp / 'okra.sqlite'}"
    clock = ManualClock(datetime(2026, 10, 12, 9, 0, tzinfo=UTC))
    with Okra(url, clock=clock) as okra:
        tokens = TokenStore(tmp / "tokens.sqlite", url)
        try:
            with run_app(create_app(okra, tokens, actor=ACTOR)) as base:
                yield Site(base, okra)
        finally:
            tokens.close()


@pytest.fixture
def client(site: Site) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.url, follow_redirects=False) as c:
        yield c


def _cycle(okra: Okra, *, start: bool = True) -> Cycle:
    cycle = okra.plan_cycle(
        f"Q-{next(_names)}", start=date(2026, 10, 1), end=date(2026, 12, 31), actor=ACTOR
    )
    return okra.start_cycle(cycle, actor=ACTOR) if start else cycle


def _objective(okra: Okra, cycle: Cycle, *, key_result: bool = True) -> Objective:
    objective = okra.draft_objective(
        f"Objective {next(_names)}", cycle=cycle, owner="lee", actor=ACTOR
    )
    if key_result:
        okra.add_key_result(
            objective, "Signups", metric=Change(baseline=10, target=20), actor=ACTOR
        )
    return objective


def _records(okra: Okra) -> list[dict[str, Any]]:
    return list(okra.export_records())


def _post(
    site: Site, client: httpx.Client, page: str, action: str, data: dict[str, str]
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    """Post a form from ``page``; the answer and the records it added to the log."""
    html = client.get(page)
    assert html.status_code == 200, html.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html.text)
    assert token, f"{page} carries no CSRF token"
    before = len(_records(site.okra))
    response = client.post(action, data={"csrf_token": token.group(1), **data})
    return response, _records(site.okra)[before:]


def _refused(response: httpx.Response, form_id: str, field: str, message: str) -> str:
    """The refused form's HTML, once it is shown with ``message`` by ``field``.

    A field the form has no input for (an unknown one) is named in the list
    above the form's fields.
    """
    assert response.status_code == 422, response.text
    form = html.unescape(response.text.split(f'id="{form_id}"')[1].split("</form>")[0])
    # In the list at the top too: by name, or (a grade's path is not for people) alone.
    listed = re.findall(r"<li>([^<]*)</li>", form)
    assert any(
        item.startswith(f"{field}: ") if "[" not in field else message in item for item in listed
    )
    if f'name="{field}"' not in form:
        assert f"<li>{field}: {message}" in form
        return form
    found = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', form)
    assert found, f"no error by {field} in {form}"
    assert message in found.group(1)
    return form


# --- cycles --------------------------------------------------------------------------


def test_plan_a_cycle(site: Site, client: httpx.Client) -> None:
    name = f"Plan-{next(_names)}"
    bad, written = _post(
        site, client, "/cycles", "/cycles", {"name": name, "start": "2026-10-01", "end": "soon"}
    )
    form = _refused(bad, "plan", "end", "expected a date (YYYY-MM-DD), got 'soon'")
    assert f'value="{name}"' in form
    assert written == []
    late, written = _post(
        site,
        client,
        "/cycles",
        "/cycles",
        {"name": name, "start": "2026-10-01", "end": "2026-09-30"},
    )
    _refused(late, "plan", "end", "expected an end after the start")
    assert written == []
    done, written = _post(
        site,
        client,
        "/cycles",
        "/cycles",
        {"name": name, "start": "2026-10-01", "end": "2026-12-31", "parent": ""},
    )
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.cycle.planned"]
    cycle = site.okra.cycle(name)
    assert done.headers["location"] == f"/cycles/{cycle.id}"
    assert (cycle.starts_at.date(), cycle.ends_at.date()) == (date(2026, 10, 1), date(2027, 1, 1))
    assert written[0]["actor"] == ACTOR
    assert "2026-10-01 to 2026-12-31" in client.get(f"/cycles/{cycle.id}").text  # the last day


def test_start_a_cycle(site: Site, client: httpx.Client) -> None:
    cycle = _cycle(site.okra, start=False)
    page = f"/cycles/{cycle.id}"
    assert "Start the cycle" in client.get(page).text
    odd, written = _post(site, client, page, f"/cycles/{cycle.id}/start", {"when": "now"})
    _refused(odd, "start", "when", "unknown field")
    assert written == []
    done, written = _post(site, client, page, f"/cycles/{cycle.id}/start", {})
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.cycle.started"]
    assert "Start the cycle" not in client.get(page).text


def test_close_a_cycle_with_a_grade_override(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    cycle = _cycle(okra)
    objective = okra.activate_objective(_objective(okra, cycle), actor=ACTOR)
    kr = okra.key_results(objective)[0]
    okra.check_in(kr, value=15, actor=ACTOR)  # attainment 0.5: suggested 0.5
    page = f"/cycles/{cycle.id}/close"
    shown = client.get(page).text
    assert f'name="grades[{kr.id}].score"' in shown
    assert 'value="0.5"' in shown
    action = f"/cycles/{cycle.id}/close"
    score, rationale = f"grades[{kr.id}].score", f"grades[{kr.id}].rationale"
    bad, written = _post(site, client, page, action, {score: "0.8", rationale: ""})
    form = _refused(bad, "close", rationale, "expected a rationale for a score of 0.8")
    assert 'value="0.8"' in form
    assert written == []
    odd, written = _post(site, client, page, action, {score: "lots"})
    _refused(odd, "close", score, "got 'lots'")
    assert written == []
    done, written = _post(
        site, client, page, action, {score: "0.8", rationale: "the big deal signed on the 30th"}
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/scorecard?cycle={cycle.id}"
    assert [r["type"] for r in written] == [
        "okra.cycle.closed",
        "okra.objective.closed",
        "okra.key_result.graded",
    ]
    grade = okra.key_result(kr.id).grade
    assert grade is not None
    assert (grade.score, grade.suggested) == (0.8, 0.5)


# --- objectives ----------------------------------------------------------------------


def test_draft_an_objective(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    cycle = _cycle(okra)
    page = f"/cycles/{cycle.id}"
    assert 'id="no-objectives"' in client.get(page).text  # the empty state says what next
    action = f"/cycles/{cycle.id}/objectives"
    bad, written = _post(
        site, client, page, action, {"title": "  ", "owner": "lee", "kind": "committed"}
    )
    _refused(bad, "draft", "title", "expected")
    assert written == []
    odd, written = _post(site, client, page, action, {"title": "Delight", "kind": "maybe"})
    form = _refused(odd, "draft", "kind", "maybe")
    assert 'value="Delight"' in form
    assert 'data-field="owner"' in form  # every bad field at once
    assert written == []
    done, written = _post(
        site,
        client,
        page,
        action,
        {
            "title": "Delight new teams",
            "owner": "onboarding",
            "kind": "aspirational",
            "rollup": "min",
            "description": "value in a week",
        },
    )
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.objective.drafted"]
    objective = okra.objective("Delight new teams")
    assert done.headers["location"] == f"/objectives/{objective.id}/setup#add-kr"
    assert (objective.owner, objective.kind.value, objective.rollup.value) == (
        "onboarding",
        "aspirational",
        "min",
    )


def test_revise_and_reassign_an_objective(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    objective = _objective(okra, _cycle(okra))
    page = f"/objectives/{objective.id}/setup"
    same, written = _post(
        site,
        client,
        page,
        f"/objectives/{objective.id}/revision",
        {"title": objective.title, "description": ""},
    )
    _refused(same, "revise", "title", "expected a new title or description")
    assert written == []
    done, written = _post(
        site,
        client,
        page,
        f"/objectives/{objective.id}/revision",
        {"title": "Sharper words", "description": "why"},
    )
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.objective.revised"]
    assert okra.objective(objective.id).title == "Sharper words"
    nobody, written = _post(
        site, client, page, f"/objectives/{objective.id}/owner", {"owner": "lee"}
    )
    _refused(nobody, "reassign", "owner", "expected someone other than 'lee'")
    assert written == []
    done, written = _post(site, client, page, f"/objectives/{objective.id}/owner", {"owner": "sam"})
    assert [r["type"] for r in written] == ["okra.objective.reassigned"]
    assert okra.objective(objective.id).owner == "sam"


def test_activate_close_and_abandon(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    cycle = _cycle(okra)
    empty = _objective(okra, cycle, key_result=False)
    page = f"/objectives/{empty.id}/setup"
    refused, written = _post(site, client, page, f"/objectives/{empty.id}/activation", {})
    assert refused.status_code == 409  # the rules, not a field: said above the form
    assert "key result" in refused.text.split('id="activate"')[1].split("</form>")[0]
    assert written == []
    no_reason, written = _post(
        site, client, page, f"/objectives/{empty.id}/abandonment", {"reason": " "}
    )
    _refused(no_reason, "abandon", "reason", "expected")
    assert written == []
    done, written = _post(
        site, client, page, f"/objectives/{empty.id}/abandonment", {"reason": "merged"}
    )
    assert [r["type"] for r in written] == ["okra.objective.abandoned"]

    objective = _objective(okra, cycle)
    page = f"/objectives/{objective.id}/setup"
    done, written = _post(site, client, page, f"/objectives/{objective.id}/activation", {})
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.objective.activated"]
    done, written = _post(site, client, page, f"/objectives/{objective.id}/closing", {})
    assert [r["type"] for r in written] == ["okra.objective.closed"]


def test_align_under_a_parent_picked_from_the_list(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    cycle = _cycle(okra)
    parent, child = _objective(okra, cycle), _objective(okra, cycle)
    page = f"/objectives/{child.id}/setup"
    listed = client.get(page).text.split('id="align"')[1].split("</form>")[0]
    assert f'<option value="{parent.id}">{cycle.name}: {parent.title}</option>' in listed
    assert f'value="{child.id}"' not in listed  # not under itself
    action = f"/objectives/{child.id}/alignment"
    bad, written = _post(site, client, page, action, {"parent": str(parent.id), "weight": "-1"})
    _refused(bad, "align", "weight", "expected")
    assert written == []
    done, written = _post(
        site, client, page, action, {"parent": str(parent.id), "link": "contributes"}
    )
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.objective.aligned"]
    assert [a.parent_id for a in okra.objective(child.id).alignments] == [parent.id]
    above = f"/objectives/{parent.id}"
    loop, written = _post(
        site, client, f"{above}/setup", f"{above}/alignment", {"parent": str(child.id)}
    )
    _refused(loop, "align", "parent", "")
    assert written == []
    missing, written = _post(site, client, page, f"/objectives/{child.id}/unalignment", {})
    assert missing.status_code == 422
    assert "<li>parent: expected the parent to unlink from</li>" in missing.text
    assert written == []
    done, written = _post(
        site, client, page, f"/objectives/{child.id}/unalignment", {"parent": str(parent.id)}
    )
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.objective.unaligned"]
    assert okra.objective(child.id).alignments == ()


# --- key results ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "metric"),
    [
        ({"metric": "change", "baseline": "40", "target": "60", "unit": "%"}, "change"),
        ({"metric": "change", "target": "4", "commit": "6"}, "change"),
        ({"metric": "stay_below", "threshold": "50", "inclusive": "on"}, "stay_below"),
        ({"metric": "stay_above", "threshold": "3"}, "stay_above"),
        ({"metric": "range", "low": "4.2", "high": "5"}, "range"),
        ({"metric": "milestone"}, "milestone"),
    ],
)
def test_add_a_key_result_of_each_kind(
    site: Site, client: httpx.Client, fields: dict[str, str], metric: str
) -> None:
    okra = site.okra
    objective = _objective(okra, _cycle(okra), key_result=False)
    page = f"/objectives/{objective.id}/setup"
    action = f"/objectives/{objective.id}/key-results"
    done, written = _post(site, client, page, action, {"title": f"KR {metric}", **fields})
    assert done.status_code == 303, done.text
    assert [r["type"] for r in written] == ["okra.key_result.defined"]
    kr = okra.key_results(objective)[0]
    assert kr.metric.kind == metric
    assert done.headers["location"] == f"/objectives/{objective.id}/setup#kr-{kr.id}"
    if metric == "stay_above":  # an unticked box: equal does not count as met
        assert kr.metric == StayAbove(threshold=3, inclusive=False)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"metric": "change", "baseline": "40", "target": "40"}, "target", "different"),
        ({"metric": "change", "baseline": "forty", "target": "60"}, "baseline", "number"),
        ({"metric": "change"}, "target", "expected a number"),
        ({"metric": "range", "low": "5", "high": "4"}, "high", "expected at least low"),
        ({"metric": "stay_below"}, "threshold", "expected a number"),
        ({"metric": "gauge"}, "metric", "expected one of change"),
        ({"metric": "milestone", "weight": "-2"}, "weight", "expected"),
        ({"metric": "milestone", "colour": "red"}, "colour", "unknown field"),
    ],
)
def test_a_bad_key_result_writes_nothing(
    site: Site, client: httpx.Client, fields: dict[str, str], field: str, message: str
) -> None:
    okra = site.okra
    objective = _objective(okra, _cycle(okra), key_result=False)
    page = f"/objectives/{objective.id}/setup"
    response, written = _post(
        site, client, page, f"/objectives/{objective.id}/key-results", {"title": "KR", **fields}
    )
    _refused(response, "add-kr", field, message)
    assert written == []
    assert okra.key_results(objective) == []


def _key_result(okra: Okra, metric: Any = None) -> KeyResult:
    objective = _objective(okra, _cycle(okra), key_result=False)
    return okra.add_key_result(
        objective, "Churn", metric=metric or Change(baseline=5, target=3), unit="%", actor=ACTOR
    )


def test_retarget_a_key_result(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    kr = _key_result(okra)
    page = f"/objectives/{kr.objective_id}/setup"
    action = f"/key-results/{kr.id}/target"
    no_reason, written = _post(site, client, page, action, {"target": "2", "reason": ""})
    form = _refused(no_reason, f"target-{kr.id}", "reason", "expected")
    assert 'value="2"' in form
    assert written == []
    done, written = _post(site, client, page, action, {"target": "2", "reason": "a new tool"})
    assert done.status_code == 303
    assert done.headers["location"] == f"/objectives/{kr.objective_id}/setup#kr-{kr.id}"
    assert [r["type"] for r in written] == ["okra.key_result.retargeted"]
    assert okra.key_result(kr.id).metric == Change(baseline=5, target=2)

    guardrail = _key_result(okra, StayBelow(threshold=50))
    page = f"/objectives/{guardrail.objective_id}/setup"
    done, written = _post(
        site,
        client,
        page,
        f"/key-results/{guardrail.id}/target",
        {"threshold": "40", "inclusive": "on", "reason": "we grew"},
    )
    assert [r["type"] for r in written] == ["okra.key_result.retargeted"]
    assert okra.key_result(guardrail.id).metric == StayBelow(threshold=40)


def test_measure_and_replace_a_baseline(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    kr = _key_result(okra, Change(baseline=None, target=3))
    page = f"/objectives/{kr.objective_id}/setup"
    action = f"/key-results/{kr.id}/baseline"
    assert "Set the baseline" in client.get(page).text
    bad, written = _post(site, client, page, action, {"baseline": "five"})
    _refused(bad, f"baseline-{kr.id}", "baseline", "got 'five'")
    assert written == []
    done, written = _post(site, client, page, action, {"baseline": "5"})
    assert [r["type"] for r in written] == ["okra.key_result.baseline_measured"]
    no_reason, written = _post(site, client, page, action, {"baseline": "6"})
    _refused(no_reason, f"baseline-{kr.id}", "reason", "expected")
    assert written == []
    done, written = _post(site, client, page, action, {"baseline": "6", "reason": "recounted"})
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.key_result.rebaselined"]
    assert okra.key_result(kr.id).metric == Change(baseline=6, target=3)


def test_the_check_in_form_shows_the_last_value_and_confidence(
    site: Site, client: httpx.Client
) -> None:
    okra = site.okra
    kr = _key_result(okra)
    page = f"/objectives/{kr.objective_id}"
    okra.activate_objective(kr.objective_id, actor=ACTOR)
    assert "No check-in yet" in client.get(page).text
    okra.check_in(kr, value=4.5, confidence=7, narrative="slow week", actor=ACTOR)
    form = client.get(page).text.split(f'id="checkin-{kr.id}"')[1].split("</form>")[0]
    assert "4.5 %, confidence 7" in form
    assert "slow week" in form


def test_the_routine_pages_answer_and_link_each_other(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    objective = _objective(okra, _cycle(okra))
    assert "/cycles" in client.get("/").text
    cycles = client.get("/cycles").text
    assert f'href="/cycles/{objective.cycle_id}"' in cycles
    assert f"/objectives/{objective.id}/setup" in client.get(f"/cycles/{objective.cycle_id}").text
    assert f"/objectives/{objective.id}/setup" in client.get(f"/objectives/{objective.id}").text
    for missing in ("/cycles/nothing-here", "/objectives/nothing-here/setup"):
        assert client.get(missing).status_code == 404
    past = client.get(f"/objectives/{objective.id}/setup?as_of=2026-10-13").text
    assert 'id="add-kr"' not in past  # no forms while looking back
    for early in (f"/objectives/{objective.id}/setup", f"/cycles/{objective.cycle_id}"):
        before = client.get(f"{early}?as_of=2026-09-01")
        assert before.status_code == 404
        assert "Not there yet at that date" in before.text


def test_reweight_a_key_result(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    kr = _key_result(okra)
    page = f"/objectives/{kr.objective_id}/setup"
    action = f"/key-results/{kr.id}/weight"
    bad, written = _post(site, client, page, action, {"weight": "heavy"})
    section = bad.text.split(f'id="kr-{kr.id}"')[1]
    assert '<details class="goalposts" open>' in section.split("</details>")[0]  # shown open
    _refused(bad, f"weight-{kr.id}", "weight", "got 'heavy'")
    assert written == []
    done, written = _post(site, client, page, action, {"weight": "2", "reason": "it matters more"})
    assert done.status_code == 303
    assert [r["type"] for r in written] == ["okra.key_result.reweighted"]
    assert okra.key_result(kr.id).weight == 2.0


def test_continue_an_objective_in_a_later_cycle(site: Site, client: httpx.Client) -> None:
    okra = site.okra
    cycle = _cycle(okra)
    objective = _objective(okra, cycle)
    later = okra.plan_cycle(
        f"Q-{next(_names)}", start=date(2027, 1, 1), end=date(2027, 3, 31), actor=ACTOR
    )
    page = f"/objectives/{objective.id}/setup"
    offered = client.get(page).text.split('id="continue"')[1].split("</form>")[0]
    assert f'<option value="{later.id}">{later.name}</option>' in offered
    assert f'value="{cycle.id}"' not in offered  # not into its own cycle
    action = f"/objectives/{objective.id}/continuation"
    bad, written = _post(site, client, page, action, {"cycle": str(later.id), "mode": "copy"})
    _refused(bad, "continue", "mode", "copy")
    assert written == []
    done, written = _post(site, client, page, action, {"cycle": str(later.id), "mode": "clone"})
    assert done.status_code == 303
    assert [r["type"] for r in written] == [
        "okra.objective.drafted",
        "okra.objective.continued",
        "okra.key_result.defined",
        "okra.key_result.continued",
    ]
    copy = next(o for o in okra.objectives(cycle=later) if o.title == objective.title)
    assert copy.continues is not None
    assert copy.continues.from_objective_id == objective.id
    assert done.headers["location"] == f"/objectives/{copy.id}/setup"
