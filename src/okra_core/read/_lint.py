"""Lint: rules about how OKRs are written, okra's own and the plugins'.

The built-in rules follow the seed articles: OKRs are outcomes, not tasks or
project plans; business as usual does not belong in them; focus; key results
must be measurable; someone is accountable and checks in; bets have kill
criteria and an expected effect; aspirational and committed objectives are read
differently. Each rule is a :class:`LintRule` with a code (``okra.<name>``), a
severity and a ``check(okra, context)`` that reads only the world it is given,
so ``Okra.lint(as_of=...)`` answers for any instant.

The wording rules look at the first word of a title (or whole words and phrases
anywhere, for business as usual) against small curated English word lists; a
team adds its own words, or allows some of these, in the playbook's
:class:`LintSettings`.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import attrs

from ..domain._action import Action
from ..domain._checks import raise_if
from ..domain._cycle import Cycle
from ..domain._errors import FieldError
from ..domain._key_result import KeyResult, round_score
from ..domain._lint_settings import LintSettings
from ..domain._metrics import Change, Milestone
from ..domain._objective import Objective
from ..domain._values import (
    ActionStatus,
    CycleStatus,
    ObjectiveKind,
    ObjectiveStatus,
    PlaybookSettings,
)
from ..plugins._types import SEVERITIES, LintFinding, LintRule
from ._world import World

if TYPE_CHECKING:
    from ..app._okra import Okra

__all__ = [
    "BAU_WORDS",
    "BUILTIN_RULES",
    "OUTPUT_WORDS",
    "PLACEHOLDER_OWNERS",
    "LintContext",
    "LintReport",
    "lint_store",
    "run_lint",
]

OUTPUT_WORDS: frozenset[str] = frozenset(
    {
        "add", "build", "code", "complete", "create", "define", "deliver", "deploy",
        "design", "develop", "document", "draft", "finish", "hire", "hold", "host",
        "implement", "install", "introduce", "launch", "migrate", "organise", "organize",
        "prepare", "publish", "redesign", "refactor", "release", "rewrite", "roll",
        "run", "send", "set", "setup", "ship", "start", "upgrade", "write",
    }
)  # fmt: skip
"""Verbs that, first in a title, word it as an output (a task), not an outcome."""

BAU_WORDS: frozenset[str] = frozenset(
    {
        "as usual", "business as usual", "continue", "day-to-day", "keep up", "keep the lights on",
        "maintain", "ongoing", "routine", "sustain", "usual",
    }
)  # fmt: skip
"""Words and phrases that mark business as usual, which does not belong in OKRs."""

PLACEHOLDER_OWNERS: frozenset[str] = frozenset(
    {"?", "all", "everybody", "everyone", "n/a", "nobody", "none", "tba", "tbd", "team",
     "unassigned", "unknown"}
)  # fmt: skip
"""Owner names that name no one accountable."""

_WORD = re.compile(r"[a-z][a-z'-]*")


@attrs.frozen(kw_only=True)
class LintContext:
    """What a lint rule reads: the entities at one instant, the cycles in scope.

    Attributes:
        world: every entity as of the instant linted (see :class:`World`).
        cycles: the cycles linted.
        settings: the playbook's settings in force at that instant.

    .. versionadded:: 0.1
    """

    world: World
    cycles: tuple[Cycle, ...]
    settings: PlaybookSettings
    # Computed once: every rule asks for them.
    _objectives: tuple[Objective, ...] = attrs.field(init=False, repr=False, eq=False)
    _key_results: dict[UUID, tuple[KeyResult, ...]] = attrs.field(init=False, repr=False, eq=False)
    _actions: tuple[Action, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        objectives = tuple(
            o
            for cycle in self.cycles
            for o in self.world.objectives(cycle_id=cycle.id)
            if o.status is not ObjectiveStatus.ABANDONED
        )
        key_results = {o.id: tuple(self.world.key_results(o.id)) for o in objectives}
        in_scope = {kr.id for krs in key_results.values() for kr in krs}
        actions = tuple(
            a for a in self.world.actions() if not in_scope.isdisjoint(a.key_result_ids)
        )
        object.__setattr__(self, "_objectives", objectives)
        object.__setattr__(self, "_key_results", key_results)
        object.__setattr__(self, "_actions", actions)

    @property
    def at(self) -> datetime:
        """The instant linted."""
        return self.world.at

    @property
    def lint(self) -> LintSettings:
        """The playbook's lint settings."""
        return self.settings.lint

    def objectives(self) -> list[Objective]:
        """The objectives of the cycles in scope, except abandoned ones."""
        return list(self._objectives)

    def key_results(self, objective: Objective | None = None) -> list[KeyResult]:
        """The key results of one objective, or of every objective in scope."""
        if objective is not None:
            found = self._key_results.get(objective.id)
            return list(found) if found is not None else self.world.key_results(objective.id)
        return [kr for krs in self._key_results.values() for kr in krs]

    def actions(self) -> list[Action]:
        """The actions serving a key result in scope."""
        return list(self._actions)

    def output_words(self) -> frozenset[str]:
        """Okra's output verbs and the playbook's, less those it allows."""
        return (OUTPUT_WORDS | set(self.lint.output_words)) - set(self.lint.allowed_words)

    def bau_words(self) -> frozenset[str]:
        """Okra's business-as-usual words and the playbook's, less those it allows."""
        return (BAU_WORDS | set(self.lint.bau_words)) - set(self.lint.allowed_words)

    def entity_ids(self) -> set[UUID]:
        """Ids of everything in scope: the cycles, objectives, key results, actions."""
        ids: set[UUID] = {c.id for c in self.cycles}
        ids |= {o.id for o in self.objectives()}
        ids |= {kr.id for kr in self.key_results()}
        ids |= {a.id for a in self.actions()}
        return ids


@attrs.frozen(kw_only=True)
class LintReport:
    """What ``Okra.lint`` found, worst first.

    Attributes:
        at: the instant linted.
        cycles: the names of the cycles linted.
        rules: the codes of the rules that ran.
        findings: every finding, its severity resolved, errors first.
        problems: rules that failed, each as ``"code: what went wrong"`` (the
            others still ran), and rule codes the playbook's settings name that
            no installed rule has.

    .. versionadded:: 0.1
    """

    at: datetime
    cycles: tuple[str, ...]
    rules: tuple[str, ...]
    findings: tuple[LintFinding, ...]
    problems: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(1 for f in self.findings if f.severity == "warning")

    def about(self, entity_id: UUID) -> list[LintFinding]:
        """The findings about one entity."""
        return [f for f in self.findings if f.entity_id == entity_id]

    def by_entity(self) -> dict[UUID, list[LintFinding]]:
        """The findings about entities, grouped by entity id."""
        grouped: dict[UUID, list[LintFinding]] = {}
        for finding in self.findings:
            if finding.entity_id is not None:
                grouped.setdefault(finding.entity_id, []).append(finding)
        return grouped


# --- the built-in rules -------------------------------------------------------------------


def _first_word(title: str) -> str:
    words = _WORD.findall(title.lower())
    return words[0] if words else ""


@functools.lru_cache(maxsize=16)
def _phrases(phrases: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so that "business as usual" wins over "as usual".
    ordered = sorted(phrases, key=lambda p: (-len(p), p))
    alternatives = "|".join(re.escape(p) for p in ordered) or r"(?!)"
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def _contains(title: str, phrases: frozenset[str]) -> str | None:
    found = _phrases(phrases).search(" ".join(_WORD.findall(title.lower())))
    return found.group(0) if found else None


def _open(objective: Objective) -> bool:
    return objective.is_open


def _kr_output(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    words = ctx.output_words()
    for objective in filter(_open, ctx.objectives()):
        for kr in ctx.key_results(objective):
            verb = _first_word(kr.title)
            if verb in words:
                yield LintFinding(
                    rule="okra.kr-output",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r} is worded as an output ({verb!r}): "
                    "say what changes when it is done (a number that moves), and make "
                    "the work an action",
                )


def _objective_task(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    words = ctx.output_words()
    for objective in filter(_open, ctx.objectives()):
        verb = _first_word(objective.title)
        if verb in words:
            yield LintFinding(
                rule="okra.objective-task",
                entity_id=objective.id,
                message=f"objective {objective.title!r} reads as a task or project plan "
                f"({verb!r}): name the outcome it is for (who is better off, and how)",
            )


def _business_as_usual(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    words = ctx.bau_words()
    for objective in filter(_open, ctx.objectives()):
        found = _contains(objective.title, words)
        if found:
            yield LintFinding(
                rule="okra.business-as-usual",
                entity_id=objective.id,
                message=f"objective {objective.title!r} describes business as usual "
                f"({found!r}): keep it on a health dashboard, not in the OKRs",
            )
        for kr in ctx.key_results(objective):
            found = _contains(kr.title, words)
            if found and isinstance(kr.metric, Change | Milestone):
                yield LintFinding(
                    rule="okra.business-as-usual",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r} describes business as usual "
                    f"({found!r}): measure a change, or make it a guardrail "
                    "(stay above / stay below)",
                )


def _too_many_objectives(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    top = ctx.settings.max_objectives_per_owner
    for cycle in ctx.cycles:
        owned = Counter(o.owner for o in ctx.world.objectives(cycle_id=cycle.id) if o.is_open)
        for owner, count in sorted(owned.items()):
            if count > top:
                yield LintFinding(
                    rule="okra.too-many-objectives",
                    entity_id=cycle.id,
                    message=f"{owner} owns {count} objectives in {cycle.name!r}, more than "
                    f"the playbook's {top}: keep the few that matter most",
                )


def _too_many_key_results(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    top = ctx.lint.max_key_results_per_objective
    for objective in filter(_open, ctx.objectives()):
        count = len(ctx.key_results(objective))
        if count > top:
            yield LintFinding(
                rule="okra.too-many-key-results",
                entity_id=objective.id,
                message=f"objective {objective.title!r} has {count} key results, more than "
                f"the playbook's {top}: keep those that show the outcome best",
            )


def _no_key_results(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    for objective in filter(_open, ctx.objectives()):
        if not ctx.key_results(objective):
            yield LintFinding(
                rule="okra.no-key-results",
                entity_id=objective.id,
                message=f"objective {objective.title!r} has no key result: add one or "
                "more that measure it",
            )


def _baseline_unplanned(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    grace = timedelta(days=ctx.settings.check_in_cadence_days)
    for objective in filter(_open, ctx.objectives()):
        cycle = ctx.world.cycle_of(objective)
        if cycle.status is not CycleStatus.ACTIVE or ctx.at < cycle.starts_at + grace:
            continue
        for kr in ctx.key_results(objective):
            if isinstance(kr.metric, Change) and kr.metric.baseline is None:
                days = (ctx.at - cycle.starts_at).days
                yield LintFinding(
                    rule="okra.baseline-unplanned",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r} still has no baseline {days} days into "
                    f"{cycle.name!r}: measure it (okra kr baseline), or progress cannot be read",
                )


def _no_unit(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    for objective in filter(_open, ctx.objectives()):
        for kr in ctx.key_results(objective):
            if not isinstance(kr.metric, Milestone) and not kr.unit:
                yield LintFinding(
                    rule="okra.no-unit",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r} has no unit: say what is counted "
                    "(%, h, customers, EUR)",
                )


def _target_already_met(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    for objective in filter(_open, ctx.objectives()):
        for kr in ctx.key_results(objective):
            metric = kr.metric
            if not isinstance(metric, Change) or metric.baseline is None or not kr.check_ins:
                continue
            first = kr.check_ins[0]
            attained = metric.attainment(first.value)
            if attained is not None and attained >= 1:
                yield LintFinding(
                    rule="okra.target-already-met",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r}: its first check-in ({first.label}) "
                    f"already meets the target {metric.target:g}; set a target beyond "
                    "today's value",
                )


def _no_owner(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    def named(owner: str) -> bool:
        return owner.strip().lower() not in PLACEHOLDER_OWNERS

    for objective in filter(_open, ctx.objectives()):
        if not named(objective.owner):
            yield LintFinding(
                rule="okra.no-owner",
                entity_id=objective.id,
                message=f"objective {objective.title!r} is owned by {objective.owner!r}, "
                "which names no one: give it one accountable person or team",
            )
        for kr in ctx.key_results(objective):
            if not named(kr.owner):
                yield LintFinding(
                    rule="okra.no-owner",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r} is owned by {kr.owner!r}, which names "
                    "no one: give it one accountable person",
                )
    for action in ctx.actions():
        if not action.status.is_resolved and not named(action.owner):
            yield LintFinding(
                rule="okra.no-owner",
                entity_id=action.id,
                message=f"action {action.title!r} is owned by {action.owner!r}, which names "
                "no one: give it one accountable person",
            )


def _stale_check_in(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    cadence = ctx.settings.check_in_cadence_days
    for objective in ctx.objectives():
        cycle = ctx.world.cycle_of(objective)
        if objective.status is not ObjectiveStatus.ACTIVE or cycle.status is not (
            CycleStatus.ACTIVE
        ):
            continue
        for kr in ctx.key_results(objective):
            latest = kr.latest
            since = latest.effective_at if latest else max(cycle.starts_at, kr.created_at)
            days = (ctx.at - since).days
            if days > cadence:
                what = f"last check-in {days} days ago" if latest else f"no check-in in {days} days"
                yield LintFinding(
                    rule="okra.stale-check-in",
                    entity_id=kr.id,
                    message=f"key result {kr.title!r}: {what}, longer than the playbook's "
                    f"{cadence}-day cadence; {kr.owner} should check in (okra checkin)",
                )


def _open_bets(ctx: LintContext) -> list[Action]:
    return [a for a in ctx.actions() if a.status in (ActionStatus.PROPOSED, ActionStatus.PLACED)]


def _bet_kill_criteria(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    for action in _open_bets(ctx):
        if not action.kill_criteria.strip():
            yield LintFinding(
                rule="okra.bet-no-kill-criteria",
                entity_id=action.id,
                message=f"action {action.title!r} has no kill criteria: say what result "
                "would make you stop it",
            )


def _bet_expected_effect(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    for action in _open_bets(ctx):
        if not action.expected_effects:
            yield LintFinding(
                rule="okra.bet-no-expected-effect",
                entity_id=action.id,
                message=f"action {action.title!r} has no expected effect: say how much it "
                "should move which key result, so that the bet can be judged",
            )


def _kind_mismatch(okra: Okra, ctx: LintContext) -> Iterator[LintFinding]:
    scoring = ctx.settings.scoring
    for objective in ctx.objectives():
        if ctx.world.cycle_of(objective).status is not CycleStatus.CLOSED:
            continue
        grades = [kr.grade.score for kr in ctx.key_results(objective) if kr.grade is not None]
        if not grades:
            continue
        mean = round_score(sum(grades) / len(grades))
        if objective.kind is ObjectiveKind.ASPIRATIONAL and min(grades) >= (
            scoring.committed_expectation
        ):
            yield LintFinding(
                rule="okra.kind-mismatch",
                entity_id=objective.id,
                message=f"aspirational objective {objective.title!r} scored "
                f"{min(grades):g} on every key result: it was no stretch; commit to it, "
                "or aim higher next cycle",
            )
        elif objective.kind is ObjectiveKind.COMMITTED and mean <= (
            scoring.aspirational_expectation
        ):
            yield LintFinding(
                rule="okra.kind-mismatch",
                entity_id=objective.id,
                message=f"committed objective {objective.title!r} scored {mean:g}, an "
                f"aspirational reading ({scoring.aspirational_expectation:g}): committed "
                f"objectives are expected to score {scoring.committed_expectation:g}; "
                "mark it aspirational, or commit to less",
            )


def _rule(
    code: str, description: str, severity: str, check: Callable[..., Iterable[LintFinding]]
) -> LintRule:
    return LintRule(code=code, description=description, severity=severity, check=check)


BUILTIN_RULES: tuple[LintRule, ...] = (
    _rule("okra.kr-output", "key results are outcomes, not outputs", "warning", _kr_output),
    _rule(
        "okra.objective-task",
        "objectives are outcomes, not tasks or plans",
        "warning",
        _objective_task,
    ),
    _rule(
        "okra.business-as-usual",
        "business as usual stays out of OKRs",
        "warning",
        _business_as_usual,
    ),
    _rule(
        "okra.too-many-objectives",
        "few objectives per owner and cycle",
        "warning",
        _too_many_objectives,
    ),
    _rule(
        "okra.too-many-key-results",
        "few key results per objective",
        "warning",
        _too_many_key_results,
    ),
    _rule("okra.no-key-results", "every objective has a key result", "error", _no_key_results),
    _rule(
        "okra.baseline-unplanned",
        "baselines are measured early in the cycle",
        "warning",
        _baseline_unplanned,
    ),
    _rule("okra.no-unit", "key results say what they count", "warning", _no_unit),
    _rule(
        "okra.target-already-met",
        "a target lies beyond today's value",
        "error",
        _target_already_met,
    ),
    _rule("okra.no-owner", "someone is accountable for each", "error", _no_owner),
    _rule(
        "okra.stale-check-in",
        "key results get a check-in every cadence",
        "warning",
        _stale_check_in,
    ),
    _rule(
        "okra.bet-no-kill-criteria",
        "bets say when to stop",
        "warning",
        _bet_kill_criteria,
    ),
    _rule(
        "okra.bet-no-expected-effect",
        "bets say what they should move",
        "warning",
        _bet_expected_effect,
    ),
    _rule(
        "okra.kind-mismatch",
        "aspirational and committed objectives score as their kind",
        "info",
        _kind_mismatch,
    ),
)
"""okra's own rules, in the order they run."""


# --- running the rules ------------------------------------------------------------------------


def _takes_context(check: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(check).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: give it okra only
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in positional)


def run_lint(
    okra: Okra,
    context: LintContext,
    rules: Sequence[LintRule],
    *,
    report_problem: Callable[[LintRule, str], None],
) -> LintReport:
    """Run ``rules`` on ``context``; a rule that fails is reported and the others go on."""
    settings = context.lint
    in_scope = context.entity_ids()
    rank = {severity: index for index, severity in enumerate(SEVERITIES)}
    findings: list[LintFinding] = []
    problems: list[str] = []
    ran: list[str] = []
    for rule in rules:
        if not settings.enabled(rule.code):
            continue
        ran.append(rule.code)
        try:
            produced = rule.check(okra, context) if _takes_context(rule.check) else rule.check(okra)
            found = list(produced)
            for finding in found:
                if not isinstance(finding, LintFinding):
                    raise TypeError(f"expected LintFinding objects, got {type(finding).__name__}")
        except Exception as exc:  # a plugin's bug must not stop the other rules
            message = f"{type(exc).__name__}: {exc}"
            problems.append(f"{rule.code}: {message}")
            report_problem(rule, message)
            continue
        for finding in found:
            if finding.entity_id is not None and finding.entity_id not in in_scope:
                continue
            severity = settings.severity_of(rule.code) or finding.severity or rule.severity
            findings.append(attrs.evolve(finding, rule=rule.code, severity=severity))
    findings.sort(key=lambda f: rank[f.severity or "warning"])
    return LintReport(
        at=context.at,
        cycles=tuple(c.name for c in context.cycles),
        rules=tuple(ran),
        findings=tuple(findings),
        problems=tuple(problems),
    )


def lint_store(
    okra: Okra, world: World, cycle: Cycle | None, only: Sequence[str] | None
) -> LintReport:
    """``Okra.lint``: okra's rules and the plugins', on ``cycle`` or every open cycle."""
    rules: dict[str, LintRule] = {rule.code: rule for rule in BUILTIN_RULES}
    for code, rule in okra.plugins.lint_rules().items():
        if code in rules:
            okra.plugins.report(
                okra.plugins.claimed_by("okra_lint_rules", code) or "?",
                f"lint rule {code!r} is one of okra's own; the plugin's is ignored",
            )
        else:
            rules[code] = rule
    chosen = list(rules.values())
    if only is not None:
        codes = [only] if isinstance(only, str) else list(only)
        unknown = [c for c in codes if c not in rules]
        raise_if(
            [
                FieldError("rules", f"no lint rule {c!r}; expected one of {', '.join(rules)}")
                for c in unknown
            ]
        )
        chosen = [rules[c] for c in codes]
    if cycle is not None:
        cycles: tuple[Cycle, ...] = (cycle,)
    else:
        cycles = tuple(c for c in world.cycles() if c.status is not CycleStatus.CLOSED)
    context = LintContext(world=world, cycles=cycles, settings=world.playbook.settings)

    def report_problem(rule: LintRule, message: str) -> None:
        owner = okra.plugins.claimed_by("okra_lint_rules", rule.code) or "okra"
        okra.plugins.report(owner, f"lint rule {rule.code!r} failed: {message}")

    report = run_lint(okra, context, chosen, report_problem=report_problem)
    # A playbook may name a plugin's rule that is not installed here: say so, once.
    unknown = [
        f"playbook: lint.{setting} names {code!r}, which no installed rule has"
        for code, setting in context.lint.codes().items()
        if code not in rules
    ]
    return attrs.evolve(report, problems=(*report.problems, *unknown)) if unknown else report
