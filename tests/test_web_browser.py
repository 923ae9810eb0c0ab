"""The web UI and the quick-capture extension in a real headless Chromium.

Playwright drives Debian's ``chromium`` (``executable_path``; nothing is
downloaded). The server is uvicorn on loopback over the demo quarter in an
SQLite file. Screenshots go to ``test-artifacts/`` (ignored by git).

Without chromium the tests skip, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from okra_core import ActionStatus, KeyResult

from .web_server import Served, serve

ROOT = Path(__file__).resolve().parents[1]
EXTENSION = ROOT / "extension"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("OKRA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {reason}: .ci/run installs it")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed")
    if not Path(CHROMIUM).exists():
        _skip_or_fail(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("browser")) as running:
        yield running


def _args() -> list[str]:
    # Chromium's sandbox needs user namespaces that a root container lacks.
    return ["--no-sandbox"] if os.geteuid() == 0 else []


def _kr(served: Served, title: str) -> KeyResult:
    return next(k for k in served.okra.key_results() if k.title == title)


def test_dashboard_check_in_chart_and_as_of(playwright: Any, served: Served) -> None:
    from playwright.sync_api import expect

    kr = _kr(served, "Monthly churn")
    objective = served.okra.objective(kr.objective_id)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_args())
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{served.url}/")
        expect(page.locator("#dashboard")).to_contain_text(objective.title)
        expect(page.locator("tr.objective")).to_have_count(
            len([o for o in served.okra.objectives() if o.cycle_id == objective.cycle_id])
        )
        page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)

        page.select_option("#owner-filter", "lee")
        page.click("form.filters button")
        expect(page).to_have_url(re.compile(r"owner=lee"))

        page.goto(f"{served.url}/")
        page.click(f"text={objective.title}")
        expect(page.locator("#objective-title")).to_have_text(objective.title)
        points = page.locator(f"#chart-{kr.id} .value-point")
        before = points.count()
        assert before == len(kr.check_ins) > 0

        form = page.locator(f"#checkin-{kr.id}")
        form.locator("input[name=value]").fill("1.7")
        form.locator("input[name=confidence]").fill("8")
        form.locator("input[name=narrative]").fill("win-back campaign <landed>")
        form.locator("button[type=submit]").click()
        expect(points).to_have_count(before + 1)
        expect(page.locator(f"#chart-{kr.id}")).to_have_attribute("data-points", str(before + 1))
        page.locator(f"#kr-{kr.id}").screenshot(path=ARTIFACTS / "objective-chart.png")

        form = page.locator(f"#checkin-{kr.id}")
        form.locator("input[name=value]").fill("a lot")
        form.locator("button[type=submit]").click()
        error = page.locator(f'#checkin-{kr.id} .error[data-field="value"]')
        expect(error).to_contain_text("expected a number")
        expect(points).to_have_count(before + 1)  # nothing written
        page.locator(f"#checkin-{kr.id}").screenshot(path=ARTIFACTS / "form-error.png")

        page.goto(f"{served.url}/objectives/{objective.id}")
        page.fill("#as-of-date", "2026-07-20")
        page.click("#as-of-go")
        expect(page).to_have_url(re.compile(r"as_of=2026-07-20"))
        expect(page.locator("#as-of-banner")).to_contain_text("as of 2026-07-20")
        early = len([c for c in kr.check_ins if c.effective_at.date().isoformat() <= "2026-07-20"])
        expect(points).to_have_count(early)
        expect(page.locator(f"#checkin-{kr.id}")).to_have_count(0)  # no forms in the past
        page.screenshot(path=ARTIFACTS / "as-of.png", full_page=True)

        page.fill("#as-of-date", "2026-05-01")
        page.click("#as-of-go")
        expect(page.locator("h1")).to_have_text("Not there yet at that date")
    finally:
        browser.close()


def test_extension_adds_and_completes_a_task(
    playwright: Any, served: Served, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    action = next(a for a in served.okra.actions() if a.status is ActionStatus.PLACED)
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *_args(),
            f"--disable-extensions-except={EXTENSION}",
            f"--load-extension={EXTENSION}",
        ],
    )
    try:
        workers = context.service_workers
        worker = workers[0] if workers else context.wait_for_event("serviceworker")
        extension_id = worker.url.split("/")[2]
        base = f"chrome-extension://{extension_id}"

        options = context.new_page()
        options.goto(f"{base}/options.html")
        options.fill("#api-url", served.url)
        options.fill("#token", served.secret)
        options.click("#save")
        expect(options.locator("#status")).to_have_text("Saved.")

        popup = context.new_page()
        popup.set_viewport_size({"width": 380, "height": 520})
        popup.goto(f"{base}/popup.html")
        expect(popup.locator("#status")).to_have_text("Ready.")
        popup.select_option("#action", str(action.id))
        popup.fill("#title", "Call the three biggest churned accounts")
        popup.click("#add")
        expect(popup.locator("#status")).to_have_text(
            "Added: Call the three biggest churned accounts"
        )
        task = next(
            t
            for t in served.okra.action(action.id).tasks
            if t.title == "Call the three biggest churned accounts"
        )
        assert task.added_by == "sam"  # the token's actor
        item = popup.locator(f'li.task[data-id="{task.id}"]')
        expect(item).to_be_visible()
        popup.screenshot(path=ARTIFACTS / "extension-popup.png")

        # click(), not check(): check() then waits to see the box ticked, but the
        # popup removes the task's item as soon as the server confirms, so check()
        # timed out whenever the server answered first (about one run in five).
        item.locator("input[type=checkbox]").click()
        expect(item).to_have_count(0)
        expect(popup.locator("#status")).to_have_text(
            "Done: Call the three biggest churned accounts"
        )
        done = next(t for t in served.okra.action(action.id).tasks if t.id == task.id)
        assert done.done
        assert done.completed_by == "sam"

        popup.fill("#title", "   ")
        popup.click("#add")
        expect(popup.locator("#status")).to_contain_text("title: expected a non-empty text")
    finally:
        context.close()


def test_lint_findings_are_marked_on_the_dashboard_and_the_objective_page(
    playwright: Any, served: Served
) -> None:
    from playwright.sync_api import expect

    okra = served.okra
    cycle = next(c for c in okra.cycles() if c.status.value == "active")
    portal = okra.draft_objective("Build a partner portal", cycle=cycle, owner="TBD",
                                  actor="maria")  # fmt: skip
    flagged = okra.lint(cycle).by_entity()
    assert {f.rule for f in flagged[portal.id]} >= {"okra.no-owner", "okra.objective-task"}
    shown = {o.id for o in okra.objectives(cycle=cycle)} | {
        k.id for o in okra.objectives(cycle=cycle) for k in okra.key_results(o)
    }
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=_args())
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{served.url}/?cycle={cycle.id}")
        expect(page.locator("#dashboard .lint-flag")).to_have_count(len(shown & set(flagged)))
        row = page.locator(f'tr.objective[data-id="{portal.id}"] .lint-flag')
        expect(row).to_have_text(f"⚑{len(flagged[portal.id])}")
        expect(row).to_have_class(re.compile("lint-error"))  # no owner is an error
        # The list under the table has every finding, bets' included.
        expect(page.locator("#lint li.finding")).to_have_count(len(okra.lint(cycle).findings))
        page.screenshot(path=ARTIFACTS / "dashboard-lint.png", full_page=True)

        page.goto(f"{served.url}/objectives/{portal.id}")
        expect(page.locator("#objective-title")).to_have_text("Build a partner portal")
        items = page.locator("#lint li.finding")
        expect(items).to_have_count(len(flagged[portal.id]))
        expect(page.locator('#lint li[data-rule="okra.no-owner"]')).to_contain_text(
            "owned by 'TBD', which names no one"
        )
    finally:
        browser.close()
        okra.abandon_objective(portal, reason="a test's objective", actor="maria")
