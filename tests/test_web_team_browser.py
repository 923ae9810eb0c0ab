"""A team's quarter in a real headless Chromium: four people, signed in, through the forms.

The store starts empty (an SQLite file) with a users file beside it: maria is
an admin, lee and sam contributors, vic a viewer. uvicorn serves it on loopback
through a :class:`ManualClock` the test moves week by week. Each person signs in
on ``/login`` in a browser context of their own (their own cookies). maria plans
and starts the cycle and drafts the company's objective; lee drafts his under
hers, sam his under lee's; both check in for four weeks; vic is offered no
check-in form, and one posted from her page anyway is
refused and writes nothing; maria closes the cycle with a grade overridden. The
store's log then names each person for what they did, and the users file holds
vic's refusal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from okra_adapters.web import TokenStore, create_app
from okra_adapters.web._roles import Role
from okra_adapters.web._users import UserStore
from okra_core import CycleStatus, ManualClock, Objective, ObjectiveStatus, Okra

from .test_web_browser import ARTIFACTS, CHROMIUM, _args
from .test_web_browser import playwright as playwright  # the fixture
from .test_web_routine_browser import DESKTOP, _add_key_result, _shoot
from .web_server import run_app

PASSWORD = "correct horse battery"
TEAM = {"maria": Role.ADMIN, "lee": Role.CONTRIBUTOR, "sam": Role.CONTRIBUTOR, "vic": Role.VIEWER}
WEEKS = 4


@attrs.frozen
class Team:
    """An empty team store served on loopback, its users and the clock it reads."""

    url: str
    okra: Okra
    users: UserStore
    clock: ManualClock


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    tmp: Path = tmp_path_factory.mktemp("team-browser")
    clock = ManualClock(datetime(2026, 9, 28, 9, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp / 'okra.sqlite'}"
    users_path = tmp / "users.sqlite"
    users = UserStore(users_path, url)
    for name, role in TEAM.items():
        users.add(name, role=role, password=PASSWORD, added_by="maria")
    tokens = TokenStore(tmp / "tokens.sqlite", url)
    try:
        with pytest.MonkeyPatch.context() as env:
            # Every Okra opened on the store gets the team's roles, as okra serve's does.
            env.setenv("OKRA_WEB_USERS", str(users_path))
            with Okra(url, clock=clock) as okra:
                app = create_app(okra, tokens, actor="serve-actor", users=users)
                with run_app(app) as base:
                    yield Team(base, okra, users, clock)
    finally:
        tokens.close()
        users.close()


def _sign_in(browser: Any, team: Team, name: str) -> Any:
    """A page in a browser context of its own, signed in as ``name`` on /login."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(f"{team.url}/")
    expect(page).to_have_url(f"{team.url}/login?next=%2F")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-go")
    expect(page.locator("#signed-in-name")).to_have_text(name)
    return page


def _draft(page: Any, team: Team, cycle_id: object, title: str, owner: str) -> None:
    """Draft an objective on the cycle's page; the owner field starts as the signed-in person."""
    from playwright.sync_api import expect

    page.goto(f"{team.url}/cycles/{cycle_id}")
    draft = page.locator("#draft")
    expect(draft.locator("input[name=owner]")).to_have_value(owner)
    draft.locator("input[name=title]").fill(title)
    draft.locator("button[type=submit]").click()
    expect(page.locator("#objective-title")).to_have_text(title)


def _align_and_activate(page: Any, parent: str) -> None:
    from playwright.sync_api import expect

    page.select_option("#align select[name=parent]", label=f"2026-Q4: {parent}")
    page.click("#align button[type=submit]")
    expect(page.locator("#aligned-under")).to_contain_text(f"contributes to {parent}")
    page.click("#activate button[type=submit]")
    expect(page.locator("#objective-status")).to_have_text("active")


def _check_in(page: Any, team: Team, objective: Objective, kr: object, value: str) -> None:
    page.goto(f"{team.url}/objectives/{objective.id}")
    form = page.locator(f"#checkin-{kr}")
    form.locator("input[name=value]").fill(value)
    form.locator("input[name=confidence]").fill("7")
    form.locator("input[name=narrative]").press("Enter")
    page.wait_for_url(f"**/objectives/{objective.id}*")


def _objective(okra: Okra, title: str) -> Objective:
    return next(o for o in okra.objectives() if o.title == title)


def _log(okra: Okra) -> int:
    return sum(1 for _ in okra.history())


def test_a_team_quarter_signed_in(playwright: Any, team: Team) -> None:
    from playwright.sync_api import expect

    okra, clock = team.okra, team.clock
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_args())
    try:
        people = {name: _sign_in(browser, team, name) for name in TEAM}
        maria, lee, sam, vic = (people[n] for n in TEAM)
        expect(lee.locator("#signed-in .role")).to_have_text("(contributor)")
        expect(vic.locator("#signed-in .role")).to_have_text("(viewer)")

        # maria plans and starts the quarter, and drafts the company's objective.
        maria.goto(f"{team.url}/cycles")
        plan = maria.locator("#plan")
        plan.locator("input[name=name]").fill("2026-Q4")
        plan.locator("input[name=start]").fill("2026-10-01")
        plan.locator("input[name=end]").fill("2026-12-31")
        plan.locator("input[name=name]").press("Enter")
        expect(maria.locator("#cycle-name")).to_have_text("2026-Q4")
        maria.click("#start button[type=submit]")
        expect(maria.locator("#cycle-status")).to_have_text("active")
        (cycle,) = okra.cycles()
        assert cycle.status is CycleStatus.ACTIVE

        clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
        _draft(maria, team, cycle.id, "Grow the business", "maria")
        _add_key_result(maria, "Revenue", "change", {"baseline": "100", "target": "150"})
        maria.click("#activate button[type=submit]")
        expect(maria.locator("#objective-status")).to_have_text("active")

        # lee's objective under maria's, sam's under lee's, each with a key result.
        _draft(lee, team, cycle.id, "Make onboarding effortless", "lee")
        _add_key_result(lee, "Activation rate", "change", {"baseline": "40", "target": "60"})
        _align_and_activate(lee, "Grow the business")
        _draft(sam, team, cycle.id, "Answer support fast", "sam")
        _add_key_result(sam, "Support tickets", "stay_below", {"threshold": "50"})
        _align_and_activate(sam, "Make onboarding effortless")

        company = _objective(okra, "Grow the business")
        onboarding = _objective(okra, "Make onboarding effortless")
        support = _objective(okra, "Answer support fast")
        assert [(o.owner, o.status) for o in (company, onboarding, support)] == [
            ("maria", ObjectiveStatus.ACTIVE),
            ("lee", ObjectiveStatus.ACTIVE),
            ("sam", ObjectiveStatus.ACTIVE),
        ]
        assert [a.parent_id for a in onboarding.alignments] == [company.id]
        assert [a.parent_id for a in support.alignments] == [onboarding.id]
        (activation,) = okra.key_results(onboarding)
        (tickets,) = okra.key_results(support)
        (revenue,) = okra.key_results(company)

        # Four weeks of check-ins, the clock moved between them.
        for week in range(WEEKS):
            clock.set(datetime(2026, 10, 5, 9, 0, tzinfo=UTC) + timedelta(weeks=week))
            _check_in(lee, team, onboarding, activation.id, str(42 + 3 * week))
            _check_in(sam, team, support, tickets.id, str(48 - 2 * week))
        lee_values = [(c.value, c.actor) for c in okra.key_result(activation.id).check_ins]
        sam_values = [(c.value, c.actor) for c in okra.key_result(tickets.id).check_ins]
        assert lee_values == [(42.0 + 3 * w, "lee") for w in range(WEEKS)]
        assert sam_values == [(48.0 - 2 * w, "sam") for w in range(WEEKS)]
        weeks = [c.effective_at.date() for c in okra.key_result(tickets.id).check_ins]
        assert weeks == [date(2026, 10, 5) + timedelta(weeks=w) for w in range(WEEKS)]

        # vic reads lee's page, which offers her no check-in form; one posted from the
        # page anyway (with the page's own form token) is refused.
        before, refused = _log(okra), len(team.users.refusals())
        vic.goto(f"{team.url}/objectives/{onboarding.id}")
        expect(vic.locator(f"#checkin-{activation.id}")).to_have_count(0)
        with vic.expect_response(f"**/key-results/{activation.id}/check-ins") as answer:
            vic.evaluate(
                """action => {
                    const form = document.createElement("form");
                    form.method = "post";
                    form.action = action;
                    for (const [name, value] of [
                        ["value", "99"],
                        ["csrf_token", document.querySelector("input[name=csrf_token]").value],
                    ]) {
                        const input = document.createElement("input");
                        input.name = name;
                        input.value = value;
                        form.append(input);
                    }
                    document.body.append(form);
                    form.submit();
                }""",
                f"/key-results/{activation.id}/check-ins",
            )
        assert answer.value.status == 403
        expect(vic.locator("#refused")).to_contain_text("'vic' may not check_in")
        assert _log(okra) == before
        assert len(okra.key_result(activation.id).check_ins) == WEEKS
        found = team.users.refusals()[refused:]
        assert [(r.actor, r.role, r.command, r.target) for r in found] == [
            ("vic", Role.VIEWER, "check_in", "key_result Activation rate")
        ]

        maria.goto(f"{team.url}/")
        expect(maria.locator("tr.objective")).to_have_count(3)
        # The last day the cycle includes, as maria typed it (not the instant after it).
        expect(maria.locator("#cycle-name + p.meta")).to_contain_text("2026-10-01 to 2026-12-31")
        _shoot(maria, "team-dashboard")

        # maria closes the quarter, overriding the revenue grade with a rationale.
        clock.set(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
        maria.goto(f"{team.url}/cycles/{cycle.id}/close")
        maria.fill(f'input[name="grades[{revenue.id}].score"]', "0.3")
        maria.fill(f'input[name="grades[{revenue.id}].rationale"]', "deals signed, not yet billed")
        maria.click("#close button[type=submit]")
        expect(maria.locator("#score")).to_contain_text("final")
        expect(maria.locator("#scorecard")).to_contain_text("deals signed, not yet billed")
        assert okra.cycle(cycle.id).status is CycleStatus.CLOSED
        grade = okra.key_result(revenue.id).grade
        assert grade is not None
        assert (grade.score, grade.rationale) == (0.3, "deals signed, not yet billed")
        assert okra.objective(support.id).status is ObjectiveStatus.CLOSED
        _shoot(maria, "team-scorecard")
    finally:
        browser.close()

    # The log names each person for what they did, and no one else.
    did = Counter((e.actor, e.type, e.entity_id) for e in okra.audit())
    assert {actor for actor, _, _ in did} == {"maria", "lee", "sam"}

    def by(actor: str, entity: object) -> set[str]:
        return {t for a, t, e in did if a == actor and e == entity}

    assert by("maria", cycle.id) == {
        "okra.cycle.planned",
        "okra.cycle.started",
        "okra.cycle.closed",
    }
    for actor, objective, kr in (("lee", onboarding, activation), ("sam", support, tickets)):
        assert by(actor, objective.id) == {
            "okra.objective.drafted",
            "okra.objective.aligned",
            "okra.objective.activated",
        }
        assert by(actor, kr.id) == {"okra.key_result.defined", "okra.key_result.checked_in"}
        assert did[(actor, "okra.key_result.checked_in", kr.id)] == WEEKS
        assert by("maria", kr.id) == {"okra.key_result.graded"}
        assert by("maria", objective.id) == {"okra.objective.closed"}
    assert okra.audit(actor="vic") == []
    assert okra.audit(actor="serve-actor") == []
    graded = okra.audit(ref=revenue.id)[-1]
    assert (graded.actor, graded.type, graded.why) == (
        "maria",
        "okra.key_result.graded",
        "deals signed, not yet billed",
    )
    assert (ARTIFACTS / "team-dashboard-375.png").stat().st_size > 0
