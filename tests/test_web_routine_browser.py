"""A whole quarter's routine in a real headless Chromium, through the forms only.

The store starts empty (an SQLite file) behind uvicorn on loopback, read through
a :class:`ManualClock` the test moves week by week. In the browser: plan and
start the cycle, draft a company objective and a team objective with key
results, activate them, align the team's under the company's, check in over
several weeks, have a form refused (nothing written), and close the cycle with
a grade override. Every main page is shot at 375 px and 1280 px wide into
``test-artifacts/`` and must not scroll sideways on a phone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from okra_adapters.web import TokenStore, create_app
from okra_core import CycleStatus, ManualClock, Objective, ObjectiveStatus, Okra

from .test_web_browser import ARTIFACTS, CHROMIUM, _args
from .test_web_browser import playwright as playwright  # the fixture
from .web_server import run_app

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@attrs.frozen
class Fresh:
    """An empty store served on loopback, and the clock it reads."""

    url: str
    okra: Okra
    clock: ManualClock


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fresh]:
    tmp: Path = tmp_path_factory.mktemp("routine")
    clock = ManualClock(datetime(2026, 9, 28, 9, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp / 'okra.sqlite'}"
    with Okra(url, clock=clock) as okra:
        tokens = TokenStore(tmp / "tokens.sqlite", url)
        try:
            with run_app(create_app(okra, tokens, actor="maria")) as base:
                yield Fresh(base, okra, clock)
        finally:
            tokens.close()


def _events(okra: Okra) -> int:
    return len(list(okra.history()))


def _no_sideways_scroll(page: Any, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width} px wide at 375 px"


def _shoot(page: Any, name: str) -> None:
    """Shoot the page at 1280 px and at 375 px, where it must fit the screen's width."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=ARTIFACTS / f"{name}-1280.png")
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page, name)
    page.screenshot(path=ARTIFACTS / f"{name}-375.png")
    page.set_viewport_size(DESKTOP)


def _objective(okra: Okra, title: str) -> Objective:
    return next(o for o in okra.objectives() if o.title == title)


def _add_key_result(page: Any, title: str, kind: str, fields: dict[str, str]) -> None:
    form = page.locator("#add-kr")
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=metric]").select_option(kind)
    for name, value in fields.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"section.kr h3:has-text('{title}')")


def test_a_quarter_in_the_browser(playwright: Any, fresh: Fresh) -> None:
    from playwright.sync_api import expect

    okra, clock = fresh.okra, fresh.clock
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_args())
    try:
        page = browser.new_page(viewport=DESKTOP)

        # No cycle yet: the dashboard says what to do next.
        page.goto(f"{fresh.url}/")
        expect(page.locator("#no-cycle")).to_contain_text("Plan a cycle")
        _shoot(page, "routine-empty")
        page.click("#plan-link")

        # A refused form: the end before the start. Shown by its field, nothing written.
        before = _events(okra)
        plan = page.locator("#plan")
        plan.locator("input[name=name]").fill("2026-Q4")
        plan.locator("input[name=start]").fill("2026-10-01")
        plan.locator("input[name=end]").fill("2026-09-01")
        plan.locator("input[name=name]").press("Enter")  # forms submit by keyboard
        error = page.locator('#plan .error[data-field="end"]')
        expect(error).to_have_text("expected an end after the start")
        expect(page.locator("#plan input[name=name]")).to_have_value("2026-Q4")  # kept
        assert _events(okra) == before
        assert okra.cycles() == []
        page.locator("#plan").screenshot(path=ARTIFACTS / "routine-form-error.png")

        page.locator("#plan input[name=end]").fill("2026-12-31")
        page.locator("#plan input[name=name]").press("Enter")
        expect(page.locator("#cycle-name")).to_have_text("2026-Q4")
        expect(page.locator("#no-objectives")).to_contain_text("Draft the first objective")
        page.click("#start button[type=submit]")
        expect(page.locator("#cycle-status")).to_have_text("active")
        assert [c.status for c in okra.cycles()] == [CycleStatus.ACTIVE]

        # The company's objective, then the team's, each with key results.
        clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
        draft = page.locator("#draft")
        draft.locator("input[name=title]").fill("Grow the business")
        draft.locator("input[name=owner]").fill("exec")
        draft.locator("button[type=submit]").click()
        expect(page.locator("#objective-title")).to_have_text("Grow the business")
        expect(page.locator("#no-key-results")).to_be_visible()
        _add_key_result(page, "Revenue", "change", {"baseline": "100", "target": "150"})
        page.click("#activate button[type=submit]")
        expect(page.locator("#objective-status")).to_have_text("active")

        page.click("text=2026-Q4")
        draft = page.locator("#draft")
        draft.locator("input[name=title]").fill("Make onboarding effortless")
        draft.locator("input[name=owner]").fill("onboarding")
        draft.locator("select[name=kind]").select_option("aspirational")
        draft.locator("textarea[name=description]").fill("new teams reach value in a week")
        draft.locator("button[type=submit]").click()
        expect(page.locator("#objective-title")).to_have_text("Make onboarding effortless")
        _add_key_result(
            page, "Activation rate", "change", {"baseline": "40", "target": "60", "unit": "%"}
        )
        _add_key_result(page, "Support tickets", "stay_below", {"threshold": "50"})
        page.select_option("#align select[name=parent]", label="2026-Q4: Grow the business")
        page.click("#align button[type=submit]")
        expect(page.locator("#aligned-under")).to_contain_text("contributes to Grow the business")
        page.click("#activate button[type=submit]")
        expect(page.locator("#objective-status")).to_have_text("active")
        team = _objective(okra, "Make onboarding effortless")
        company = _objective(okra, "Grow the business")
        assert team.status is ObjectiveStatus.ACTIVE
        assert [a.parent_id for a in team.alignments] == [company.id]
        _shoot(page, "routine-setup")

        # Eight weekly check-ins, each through the form on its week.
        activation = next(k for k in okra.key_results(team) if k.title == "Activation rate")
        for week in range(8):
            clock.set(datetime(2026, 10, 5, 9, 0, tzinfo=UTC) + timedelta(weeks=week))
            page.goto(f"{fresh.url}/objectives/{team.id}")
            form = page.locator(f"#checkin-{activation.id}")
            if week:
                expect(page.locator(f"#previous-{activation.id}")).to_contain_text(
                    f"{40 + 2 * (week - 1)} %"
                )
            form.locator("input[name=value]").fill(f"{40 + 2 * week}%")
            form.locator("input[name=confidence]").fill(str(6 + week % 3))
            form.locator("input[name=narrative]").fill(f"week {week + 1}")
            form.locator("input[name=narrative]").press("Enter")
            expect(page.locator(f"#chart-{activation.id} .value-point")).to_have_count(week + 1)
        values = [c.value for c in okra.key_result(activation.id).check_ins]
        assert values == [40.0 + 2 * w for w in range(8)]
        expect(page.locator(f"#previous-{activation.id}")).to_contain_text("54 %, confidence 7")
        _shoot(page, "routine-check-in")

        page.goto(f"{fresh.url}/")
        expect(page.locator("tr.objective")).to_have_count(2)
        _shoot(page, "routine-dashboard")

        # Close the quarter; one grade overridden needs a rationale first.
        clock.set(datetime(2026, 12, 21, 9, 0, tzinfo=UTC))
        page.goto(f"{fresh.url}/cycles/{team.cycle_id}")
        _shoot(page, "routine-cycle")
        page.click("#close-link")
        revenue = okra.key_results(company)[0]
        score = page.locator(f'input[name="grades[{revenue.id}].score"]')
        expect(score).to_have_value("0")  # no check-in: attainment 0
        score.fill("0.3")
        before = _events(okra)
        page.click("#close button[type=submit]")
        rationale = page.locator(f'#close .error[data-field="grades[{revenue.id}].rationale"]')
        expect(rationale).to_contain_text("expected a rationale for a score of 0.3")
        expect(page.locator(f'input[name="grades[{revenue.id}].score"]')).to_have_value("0.3")
        assert _events(okra) == before
        _shoot(page, "routine-close")
        page.fill(
            f'input[name="grades[{revenue.id}].rationale"]', "signed deals not yet in the books"
        )
        page.click("#close button[type=submit]")
        expect(page.locator("#score")).to_contain_text("final")
        assert okra.cycle(team.cycle_id).status is CycleStatus.CLOSED
        grade = okra.key_result(revenue.id).grade
        assert grade is not None
        assert (grade.score, grade.rationale) == (0.3, "signed deals not yet in the books")
        expect(page.locator("#scorecard")).to_contain_text("signed deals not yet in the books")

        # Every main page fits a phone's width.
        for path in (
            "/",
            "/cycles",
            f"/cycles/{team.cycle_id}",
            f"/objectives/{team.id}",
            f"/objectives/{team.id}/setup",
            "/tree",
            "/focus",
            "/bets",
            f"/scorecard?cycle={team.cycle_id}",
            f"/history/{team.id}",
        ):
            page.set_viewport_size(PHONE)
            page.goto(f"{fresh.url}{path}")
            _no_sideways_scroll(page, path)
    finally:
        browser.close()


def test_the_forms_are_reachable_by_keyboard(playwright: Any, fresh: Fresh) -> None:
    """Every input has a label, and tabbing reaches the fields with a visible outline."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_args())
    try:
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{fresh.url}/cycles")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(e => !e.closest('label') && !(e.id && document.querySelector(
                     `label[for="${e.id}"]`))).map(e => e.name)"""
        )
        assert unlabelled == []
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.name") == "name":
                break
        else:
            pytest.fail("tabbing never reached the plan form's name field")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
    finally:
        browser.close()
