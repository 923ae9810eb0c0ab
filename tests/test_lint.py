"""okra lint: every built-in rule against crafted OKRs, settings, plugins, the past."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from hypothesis import given

import okra_example_plugin
from okra_core import (
    BAU_WORDS,
    OUTPUT_WORDS,
    Change,
    Cycle,
    ExpectedEffect,
    LintFinding,
    LintRule,
    LintSettings,
    ManualClock,
    Milestone,
    Objective,
    ObjectiveKind,
    Okra,
    StayBelow,
    ValidationError,
    hookimpl,
    load_plugins,
)
from okra_core.read._lint import BUILTIN_RULES
from okra_core.testing import plugin_registered

from .helpers import paths, refused
from .strategies import lint_settings

DAY0 = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


class Team:
    """A 90-day cycle, started; the clock at day 1."""

    def __init__(self, okra: Okra, clock: ManualClock) -> None:
        self.okra = okra
        self.clock = clock
        clock.set(day(0))
        self.cycle = okra.plan_cycle("Q1", start=DAY0, end=day(90), actor="ana")
        okra.start_cycle(self.cycle, actor="ana")
        clock.set(day(1))

    def objective(
        self,
        title: str = "Delight our customers",
        *,
        owner: str = "ana",
        kr: str | None = "Net promoter score",
        unit: str = "points",
        metric: Change | Milestone | StayBelow | None = None,
        kind: ObjectiveKind = ObjectiveKind.COMMITTED,
        activate: bool = True,
    ) -> Objective:
        goal = self.okra.draft_objective(
            title, cycle=self.cycle, owner=owner, kind=kind, actor="ana"
        )
        if kr is not None:
            self.okra.add_key_result(
                goal,
                kr,
                metric=metric or Change(baseline=30, target=50),
                unit=unit,
                actor="ana",
            )
            if activate:
                self.okra.activate_objective(goal, actor="ana")
        return self.okra.objective(goal)

    def found(self, code: str, **kwargs: object) -> list[LintFinding]:
        report = self.okra.lint(rules=[code], **kwargs)  # type: ignore[arg-type]
        assert report.problems == ()
        assert report.rules == (code,)
        return list(report.findings)

    def about(self, code: str) -> set[UUID | None]:
        return {f.entity_id for f in self.found(code)}


@pytest.fixture
def team() -> Iterator[Team]:
    clock = ManualClock(DAY0)
    plugins = load_plugins()
    plugins.unregister("example")  # its own rule is tested on its own below
    with Okra("memory://", clock=clock, plugins=plugins) as okra:
        yield Team(okra, clock)


def test_a_dozen_rules_each_with_a_code_a_severity_and_a_description() -> None:
    assert len(BUILTIN_RULES) >= 12
    codes = [r.code for r in BUILTIN_RULES]
    assert len(set(codes)) == len(codes)
    assert all(c.startswith("okra.") for c in codes)
    assert {r.severity for r in BUILTIN_RULES} == {"error", "warning", "info"}
    docs = (Path(__file__).parent.parent / "docs" / "lint-and-sync.md").read_text()
    for code in codes:
        assert f"### `{code}`" in docs, f"{code} has no entry in docs/lint-and-sync.md"


def test_a_well_written_okr_has_no_findings(team: Team) -> None:
    goal = team.objective()
    (kr,) = team.okra.key_results(goal)
    team.okra.check_in(kr, value=32, actor="ana")
    team.okra.propose_action(
        "Call every churned customer",
        key_results=[kr],
        hypothesis="hearing them out wins some back",
        owner="bo",
        investment=5,
        expected_effects=[ExpectedEffect(key_result_id=kr.id, change=4)],
        kill_criteria="no change in NPS after 20 calls",
        actor="ana",
    )
    report = team.okra.lint()
    assert report.findings == ()
    assert report.errors == report.warnings == 0
    assert report.cycles == ("Q1",)


def test_kr_output(team: Team) -> None:
    goal = team.objective(kr="Launch the referral programme")
    good = team.okra.add_key_result(
        goal, "Referred sign-ups", metric=Change(baseline=0, target=200), unit="sign-ups",
        actor="ana",
    )  # fmt: skip
    (finding,) = team.found("okra.kr-output")
    assert finding.entity_id != good.id
    assert "'Launch the referral programme'" in finding.message
    assert "'launch'" in finding.message
    assert finding.severity == "warning"


def test_objective_task(team: Team) -> None:
    bad = team.objective("Build a new onboarding flow")
    team.objective("Customers succeed in their first week")
    assert team.about("okra.objective-task") == {bad.id}
    assert "task or project plan" in team.found("okra.objective-task")[0].message


def test_team_words_extend_and_allow(team: Team) -> None:
    team.objective("Overhaul the billing system")
    shipping = team.objective("Ship faster releases")  # "ship" is okra's, allowed below
    assert team.about("okra.objective-task") == {shipping.id}
    team.okra.revise_playbook(
        lint=LintSettings(output_words=["Overhaul"], allowed_words=["ship"]),
        reason="our words",
        actor="ana",
    )
    (finding,) = team.found("okra.objective-task")
    assert "'Overhaul the billing system'" in finding.message


def test_business_as_usual(team: Team) -> None:
    bau = team.objective("Maintain the help centre")
    goal = team.objective("Customers find answers alone", kr="Continue the weekly newsletter")
    (kr,) = team.okra.key_results(goal)
    # A guardrail keeps something steady on purpose: not business as usual.
    team.okra.add_key_result(
        goal, "Keep up response times", metric=StayBelow(threshold=4), unit="h", actor="ana"
    )
    team.objective("Sustainable growth")  # a word that starts like one, not the word
    assert team.about("okra.business-as-usual") == {bau.id, kr.id}


def test_too_many_objectives_per_owner(team: Team) -> None:
    team.okra.revise_playbook(max_objectives_per_owner=2, reason="focus", actor="ana")
    for n in range(3):
        team.objective(f"Outcome {n}", owner="ana")
    team.objective("Another outcome", owner="bo")
    team.objective("Outcome 0 again", owner="bo")
    (finding,) = team.found("okra.too-many-objectives")
    assert finding.entity_id == team.cycle.id
    assert finding.message.startswith("ana owns 3 objectives in 'Q1'")


def test_too_many_key_results(team: Team) -> None:
    team.okra.revise_playbook(
        lint=LintSettings(max_key_results_per_objective=2), reason="focus", actor="ana"
    )
    crowded = team.objective()
    fine = team.objective("Happy partners")
    for n in range(2):
        team.okra.add_key_result(
            crowded, f"Measure {n}", metric=Change(baseline=0, target=1), unit="x", actor="ana"
        )
    team.okra.add_key_result(
        fine, "Partner NPS", metric=Change(baseline=0, target=1), unit="x", actor="ana"
    )
    (finding,) = team.found("okra.too-many-key-results")
    assert finding.entity_id == crowded.id
    assert "has 3 key results, more than the playbook's 2" in finding.message


def test_no_key_results(team: Team) -> None:
    empty = team.objective("Happy partners", kr=None)
    team.objective()
    (finding,) = team.found("okra.no-key-results")
    assert finding.entity_id == empty.id
    assert finding.severity == "error"


def test_baseline_unplanned(team: Team) -> None:
    goal = team.objective(metric=Change(baseline=None, target=50))
    measured = team.objective("Happy partners")
    (kr,) = team.okra.key_results(goal)
    assert team.found("okra.baseline-unplanned") == []  # a week's grace
    team.clock.set(day(10))
    assert team.about("okra.baseline-unplanned") == {kr.id}
    assert "no baseline 10 days into 'Q1'" in team.found("okra.baseline-unplanned")[0].message
    team.okra.measure_baseline(kr, baseline=30, actor="ana")
    assert team.found("okra.baseline-unplanned") == []
    assert measured.id not in team.about("okra.baseline-unplanned")


def test_no_unit(team: Team) -> None:
    goal = team.objective(unit="")
    team.objective("Ship it", kr="Go live", metric=Milestone(), unit="")  # no unit needed
    (kr,) = team.okra.key_results(goal)
    assert team.about("okra.no-unit") == {kr.id}


def test_target_already_met(team: Team) -> None:
    goal = team.objective(metric=Change(baseline=30, target=50))
    down = team.objective("Fast answers", kr="Reply time", metric=Change(baseline=24, target=4))
    (kr,) = team.okra.key_results(goal)
    (down_kr,) = team.okra.key_results(down)
    team.okra.check_in(kr, value=50, actor="ana")  # already there on day one
    team.okra.check_in(down_kr, value=20, actor="ana")  # on its way down
    (finding,) = team.found("okra.target-already-met")
    assert finding.entity_id == kr.id
    assert "already meets the target 50" in finding.message
    assert finding.severity == "error"


def test_no_owner(team: Team) -> None:
    goal = team.objective(owner="TBD")
    team.objective("Happy partners", owner="bo")
    (kr,) = team.okra.key_results(goal)
    assert team.about("okra.no-owner") == {goal.id, kr.id}  # the KR took the owner
    team.okra.reassign_objective(goal, owner="ana", actor="ana")
    assert team.about("okra.no-owner") == {kr.id}


def test_stale_check_in(team: Team) -> None:
    goal = team.objective()
    fresh = team.objective("Happy partners")
    (kr,) = team.okra.key_results(goal)
    (fresh_kr,) = team.okra.key_results(fresh)
    team.okra.check_in(kr, value=31, actor="ana")
    team.clock.set(day(9))
    team.okra.check_in(fresh_kr, value=31, actor="bo")
    (finding,) = team.found("okra.stale-check-in")
    assert finding.entity_id == kr.id
    assert "last check-in 8 days ago, longer than the playbook's 7-day cadence" in finding.message
    team.okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly", actor="ana")
    assert team.found("okra.stale-check-in") == []


def test_bets_need_kill_criteria_and_an_expected_effect(team: Team) -> None:
    goal = team.objective()
    (kr,) = team.okra.key_results(goal)
    vague = team.okra.propose_action(
        "Try a chatbot", key_results=[kr], hypothesis="bots answer faster", owner="bo",
        investment=3, actor="ana",
    )  # fmt: skip
    sharp = team.okra.propose_action(
        "Call churned customers", key_results=[kr], hypothesis="they come back", owner="bo",
        investment=3, kill_criteria="no NPS change after 20 calls",
        expected_effects=[ExpectedEffect(key_result_id=kr.id, change=3)], actor="ana",
    )  # fmt: skip
    assert team.about("okra.bet-no-kill-criteria") == {vague.id}
    assert team.about("okra.bet-no-expected-effect") == {vague.id}
    assert sharp.id not in team.about("okra.bet-no-kill-criteria")


def test_kind_mismatch_reads_closed_cycles(team: Team) -> None:
    sandbag = team.objective("Delight customers", kind=ObjectiveKind.ASPIRATIONAL)
    weak = team.objective("Keep promises", kr="Orders on time", kind=ObjectiveKind.COMMITTED)
    honest = team.objective("Grow", kr="Revenue", kind=ObjectiveKind.COMMITTED)
    for goal, value in ((sandbag, 50), (weak, 34), (honest, 50)):
        (kr,) = team.okra.key_results(goal)
        team.okra.check_in(kr, value=value, actor="ana")
    assert team.found("okra.kind-mismatch") == []  # an open cycle has no scores
    team.clock.set(day(91))
    team.okra.close_cycle(team.cycle, actor="ana")
    assert team.found("okra.kind-mismatch") == []  # closed cycles are linted when named
    findings = team.okra.lint(team.cycle, rules=["okra.kind-mismatch"]).findings
    assert {f.entity_id for f in findings} == {sandbag.id, weak.id}
    assert all(f.severity == "info" for f in findings)


def test_settings_switch_rules_off_and_change_severity(team: Team) -> None:
    team.objective("Build a thing", owner="nobody", unit="")
    before = {f.rule: f.severity for f in team.okra.lint().findings}
    team.clock.set(day(2))
    assert before == {"okra.no-owner": "error", "okra.objective-task": "warning",
                      "okra.no-unit": "warning"}  # fmt: skip
    team.okra.revise_playbook(
        lint=LintSettings(disabled=["okra.no-unit"], errors=["okra.objective-task"]),
        reason="stricter about tasks",
        actor="ana",
    )
    report = team.okra.lint()
    assert {f.rule: f.severity for f in report.findings} == {
        "okra.no-owner": "error",
        "okra.objective-task": "error",
    }
    assert "okra.no-unit" not in report.rules
    assert report.errors == 3  # no one owns the objective nor its key result
    # The past is linted with the rules then in force.
    past = team.okra.lint(as_of=day(1))
    assert {f.rule for f in past.findings} == set(before)


def test_bad_settings_and_rule_codes_are_refused(team: Team) -> None:
    error = refused(
        team.okra,
        ValidationError,
        lambda: team.okra.revise_playbook(
            lint=LintSettings(errors=["okra.no-unit"], infos=["okra.no-unit"]),
            reason="x",
            actor="ana",
        ),
    )
    assert paths(error) == ("infos[0]",)
    assert "one severity per rule" in str(error)
    with pytest.raises(ValidationError) as info:
        LintSettings(max_key_results_per_objective=0)
    assert paths(info.value) == ("max_key_results_per_objective",)
    # A code the playbook names but no installed rule has is reported, not an error.
    team.okra.revise_playbook(
        lint=LintSettings(disabled=["gone.plugin-rule"]), reason="x", actor="ana"
    )
    assert team.okra.lint().problems == (
        "playbook: lint.disabled names 'gone.plugin-rule', which no installed rule has",
    )
    error = refused(team.okra, ValidationError, lambda: team.okra.lint(rules=["okra.nope"]))
    assert paths(error) == ("rules",)
    assert "okra.no-unit" in str(error)  # it lists the rules there are


def test_lint_as_of_sees_the_okrs_as_they_were(team: Team) -> None:
    goal = team.objective("Launch the portal")
    team.clock.set(day(5))
    team.okra.revise_objective(goal, title="Partners serve themselves", actor="ana")
    assert team.found("okra.objective-task") == []
    (finding,) = team.found("okra.objective-task", as_of=day(2))
    assert "'Launch the portal'" in finding.message


def test_the_example_plugins_rule_runs_with_okras_own() -> None:
    plugins = load_plugins()
    assert "example.few-krs" in plugins.lint_rules()
    with Okra("memory://", plugins=plugins) as okra:
        cycle = okra.plan_cycle("Q1", start=DAY0, end=day(90), actor="ana")
        goal = okra.draft_objective("Delight customers", cycle=cycle, owner="ana", actor="ana")
        for n in range(okra_example_plugin.MAX_KEY_RESULTS + 1):
            okra.add_key_result(
                goal, f"Measure {n}", metric=Change(baseline=0, target=1), unit="x", actor="ana"
            )
        report = okra.lint()
        assert "example.few-krs" in report.rules
        (finding,) = [f for f in report.findings if f.rule == "example.few-krs"]
        assert finding.entity_id == goal.id
        assert finding.severity == "warning"
        assert {f.rule for f in report.findings} >= {"okra.too-many-key-results"}


class Plugin:
    """A third-party rule that reads the context, and one that fails."""

    @hookimpl
    def okra_lint_rules(self) -> list[LintRule]:
        def shouting(okra: Okra, context: object) -> Iterator[LintFinding]:
            from okra_core import LintContext

            assert isinstance(context, LintContext)
            for objective in context.objectives():
                if objective.title.isupper():
                    yield LintFinding(
                        rule="mine.shouting",
                        entity_id=objective.id,
                        message=f"{objective.title!r} is all capitals",
                        severity="info",
                    )

        def broken(okra: Okra) -> list[LintFinding]:
            raise RuntimeError("the rule's author forgot something")

        return [
            LintRule(code="mine.shouting", description="no shouting", check=shouting),
            LintRule(code="mine.broken", description="fails", check=broken, severity="error"),
        ]


def test_a_failing_plugin_rule_is_reported_and_the_others_run() -> None:
    with (
        plugin_registered(Plugin(), name="mine") as plugins,
        Okra("memory://", plugins=plugins) as okra,
    ):
        cycle = okra.plan_cycle("Q1", start=DAY0, end=day(90), actor="ana")
        loud = okra.draft_objective("WIN", cycle=cycle, owner="ana", actor="ana")
        report = okra.lint()
        assert report.problems == ("mine.broken: RuntimeError: the rule's author forgot something",)
        shouting = [f for f in report.findings if f.rule == "mine.shouting"]
        assert [(f.entity_id, f.severity) for f in shouting] == [(loud.id, "info")]
        assert any(f.rule == "okra.no-key-results" for f in report.findings)
        assert any(p.plugin == "mine" and "mine.broken" in p.message for p in plugins.problems)


def test_findings_outside_the_cycles_linted_are_dropped() -> None:
    with (
        plugin_registered(Plugin(), name="mine") as plugins,
        Okra("memory://", plugins=plugins) as okra,
    ):
        q1 = okra.plan_cycle("Q1", start=DAY0, end=day(90), actor="ana")
        q2 = okra.plan_cycle("Q2", start=day(91), end=day(180), actor="ana")
        one = okra.draft_objective("ONE", cycle=q1, owner="ana", actor="ana")
        two = okra.draft_objective("TWO", cycle=q2, owner="ana", actor="ana")

        def shouted(cycle: Cycle | None) -> set[UUID | None]:
            report = okra.lint(cycle, rules=["mine.shouting"])
            return {f.entity_id for f in report.findings}

        assert shouted(q1) == {one.id}
        assert shouted(q2) == {two.id}
        assert shouted(None) == {one.id, two.id}


def test_lint_settings_survive_a_reopen_and_old_records_decode(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'okra.sqlite'}"
    settings = LintSettings(disabled=["okra.no-unit"], warnings=["okra.no-owner"],
                            bau_words=["Keep The Lights On", "run"])  # fmt: skip
    with Okra(url) as okra:
        okra.revise_playbook(lint=settings, reason="ours", actor="ana")
    with Okra(url) as okra:
        assert okra.playbook.settings.lint == settings
        assert okra.playbook.settings.lint.bau_words == ("keep the lights on", "run")
        records = list(okra.export_records())
    # A PlaybookRevised recorded before lint settings existed has no "lint" field.
    (record,) = [r for r in records if r["type"] == "okra.playbook.revised"]
    del record["settings"]["lint"]
    with Okra("memory://") as okra:
        okra.import_events([record], actor="ana")
        assert okra.playbook.settings.lint == LintSettings()


@given(lint_settings())
def test_lint_settings_are_normalised_once(settings: LintSettings) -> None:
    again = LintSettings(
        disabled=settings.disabled,
        errors=settings.errors,
        warnings=settings.warnings,
        infos=settings.infos,
        max_key_results_per_objective=settings.max_key_results_per_objective,
        output_words=settings.output_words,
        bau_words=settings.bau_words,
        allowed_words=settings.allowed_words,
    )
    assert again == settings
    assert list(settings.disabled) == sorted(set(settings.disabled))


def test_word_lists_are_lowercase_words() -> None:
    for word in OUTPUT_WORDS | BAU_WORDS:
        assert word == word.lower().strip()
        assert word


def test_the_dashboard_and_the_review_show_the_findings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from okra_adapters.cli import cli

    store = tmp_path / "team.sqlite"
    clock = ManualClock(day(0))
    with Okra(f"sqlite:///{store}", clock=clock) as okra:
        team = Team(okra, clock)
        bad = team.objective("Build the portal", owner="TBD")
        (bad_kr,) = okra.key_results(bad)
        good = team.objective("Customers succeed alone", owner="ana")
        # The command line runs on the real clock: keep staleness out of this test.
        okra.revise_playbook(
            lint=LintSettings(disabled=["okra.stale-check-in"]), reason="test", actor="ana"
        )
    runner = CliRunner(env={"OKRA_STORE": str(store), "OKRA_ACTOR": "ana", "COLUMNS": "160"})
    plugins = load_plugins()
    out = runner.invoke(cli, ["dashboard", "Q1"], obj=plugins).stdout
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "Build the portal ⚑2!" in lines[bad.short_id]  # no owner (an error), a task
    assert "Sign-ups" not in out
    assert "⚑1!" in lines[bad_kr.short_id]  # no owner
    assert "⚑" not in lines[good.short_id]
    assert "Lint: 3 finding(s) on 2 item(s) marked ⚑ (2 error(s))" in out
    data = json.loads(runner.invoke(cli, ["dashboard", "Q1", "--json"], obj=plugins).stdout)
    assert {f["rule"] for f in data["lint"][str(bad.id)]} == {"okra.no-owner",
                                                               "okra.objective-task"}  # fmt: skip
    review = runner.invoke(cli, ["review", "Q1"], obj=plugins).stdout
    assert "Lint: 3 finding(s)" in review
    assert "okra.objective-task: objective 'Build the portal'" in review
    data = json.loads(runner.invoke(cli, ["review", "Q1", "--json"], obj=plugins).stdout)
    assert len(data["lint"]) == 3
    # okra lint itself: --strict fails on errors only, --json is the report.
    from okra_adapters.cli import ExitCode

    strict = runner.invoke(cli, ["lint", "--strict"], obj=plugins)
    assert strict.exit_code == ExitCode.CHECKS
    warnings_only = runner.invoke(
        cli, ["lint", "--strict", "--rule", "okra.objective-task"], obj=plugins
    )
    assert warnings_only.exit_code == 0
    assert "0 error(s), 1 warning(s)" in warnings_only.stdout
    report = json.loads(runner.invoke(cli, ["lint", "--json"], obj=plugins).stdout)
    assert report["cycles"] == ["Q1"]
    assert [f["severity"] for f in report["findings"]][:2] == ["error", "error"]
