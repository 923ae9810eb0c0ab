"""The application service: the one entry point to an okra store.

Every command validates all its input first, checks the lifecycle rules, and then
records its events in one atomic write, or raises and writes nothing. Queries read
the current state of entities, kept up to date from the store's log, so a query
right after a command sees it, and one instance sees what other processes wrote.
"""

from __future__ import annotations

import contextlib
import enum
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final, TypeVar, cast
from uuid import UUID, uuid4

import attrs
from eventsourcing.persistence import Notification, PersistenceError, RecordConflictError

from ._checks import check_number, check_probability, check_text, prefixed, raise_if
from ._clock import Clock, SystemClock, as_utc
from ._codec import EventCodec
from ._errors import (
    AmbiguousReferenceError,
    ConcurrencyError,
    FieldError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)
from ._events import (
    ActionProposed,
    CheckInRecorded,
    Event,
    EventRegistry,
    KeyResultDefined,
    ObjectiveDrafted,
    TaskAdded,
)
from ._metrics import Attainment, Change, Metric, check_value
from ._model import (
    PLAYBOOK_ID,
    Action,
    AnyEntity,
    CheckIn,
    Cycle,
    Entity,
    KeyResult,
    Objective,
    Playbook,
    Stamp,
    Task,
    project,
)
from ._plugins import Plugins, load_plugins
from ._store import ReadConflictError, default_store_url, open_store
from ._values import (
    AlignmentLink,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    CycleStatus,
    ExpectedEffect,
    Investment,
    ObjectiveKind,
    ObjectiveStatus,
    Outcome,
    PaceBands,
    PlaybookSettings,
    RollupPolicy,
    ScoringPolicy,
)

__all__ = ["Authorizer", "Okra", "Ref"]

Ref = UUID | str | Entity | Task | CheckIn
"""How commands and queries accept an entity: the object itself, its id, a unique
prefix of its hex id (at least 4 digits), or its exact title (case-insensitive)."""

Authorizer = Callable[[str, str, "Entity | None"], bool]
"""``authorizer(actor, command, target) -> allowed``.

``command`` is the name of the :class:`Okra` method; ``target`` is the entity it
changes, or for a command that creates one, the entity it is created in (the cycle
of a new objective, the objective of a new key result), else ``None``.
"""

T = TypeVar("T", bound=Entity)
C = TypeVar("C")
En = TypeVar("En", bound=enum.Enum)

_MIN_PREFIX: Final = 4
_METRIC_EXPECTED: Final = "expected a metric: Change, StayAbove, StayBelow, Range or Milestone"
_BATCH: Final = 1000
_UNCHANGED: Any = object()


def _allow_all(actor: str, command: str, target: Entity | None) -> bool:
    return True


class Okra:
    """An okra store: record OKRA events and read the current state.

    Open it from a URL: ``memory://`` (this process only), ``sqlite:///path`` (an
    embedded SQLite file). With no URL, ``$OKRA_STORE`` or an SQLite file in the
    user's data directory is used. Use it as a context manager, or call
    :meth:`close`.

    Every command takes the ``actor`` who issues it, records it on every event,
    and returns the changed entity.

    Args:
        url: where the events are stored.
        clock: where "now" comes from (default: the system clock, UTC).
        authorizer: decides whether an actor may issue a command (default: all may).
        registry: the event types to know (default: okra's own).
        settings: extra eventsourcing settings, e.g. ``{"CIPHER_KEY": ...}`` or
            ``{"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}``.
        plugins: the plugins to use (default: a fresh :func:`load_plugins`). The
            storage backend for the URL's scheme comes from them, and so do extra
            event types when no ``registry`` is given.

    Example:
        >>> from datetime import date
        >>> from okra_core import Okra, Change
        >>> with Okra("memory://") as okra:
        ...     q1 = okra.plan_cycle("2026-Q1", start=date(2026, 1, 1),
        ...                          end=date(2026, 3, 31), actor="ana")
        ...     goal = okra.draft_objective("Delight support customers", cycle=q1,
        ...                                 owner="ana", actor="ana")
        ...     kr = okra.add_key_result(goal, "First response time",
        ...                              metric=Change(baseline=24, target=4), unit="h",
        ...                              actor="ana")
        ...     okra.key_result(kr.short_id).title
        'First response time'
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        authorizer: Authorizer | None = None,
        registry: EventRegistry | None = None,
        settings: Mapping[str, str] | None = None,
        plugins: Plugins | None = None,
    ) -> None:
        if url is not None and not isinstance(cast(object, url), str):
            raise ValidationError.single("url", f"expected a store URL, got {type(url).__name__}")
        self.url: str = url if url is not None else default_store_url()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._authorizer = authorizer if authorizer is not None else _allow_all
        self.plugins: Plugins = plugins if plugins is not None else load_plugins()
        self._codec = EventCodec(
            registry if registry is not None else self.plugins.event_registry()
        )
        self._closed = False
        self._store = open_store(self.url, self._codec, self.plugins, settings)
        self._lock = threading.RLock()
        self._states: dict[UUID, AnyEntity] = {}
        self._position = 0
        self._ahead: set[int] = set()
        self._task_action: dict[UUID, UUID] = {}
        # Versions of the entities the running command consulted (None between
        # commands): checked again inside the write, see GuardedSQLiteRecorder.
        self._reads: dict[UUID, int] | None = None
        self._check_in_key_result: dict[UUID, UUID] = {}
        self.plugins.started(self)

    # --- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Release the store's connections; the instance can no longer be used."""
        self._closed = True
        self._store.close()

    def __enter__(self) -> Okra:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Okra({self.url!r})"

    # --- cycles -----------------------------------------------------------------

    def plan_cycle(
        self,
        name: str,
        *,
        start: datetime | date,
        end: datetime | date,
        actor: str,
        parent: Ref | None = None,
    ) -> Cycle:
        """Plan a cycle, a time box such as a quarter, optionally inside a parent cycle.

        A ``date`` for ``end`` includes that whole day (UTC); a datetime is exact.
        """
        with self._command(actor) as stamp:
            errors = check_text("name", name)
            starts_at = _collect(errors, lambda: as_utc("start", start))
            ends_at = _collect(errors, lambda: as_utc("end", end, end_of_day=True))
            if starts_at and ends_at and ends_at <= starts_at:
                errors.append(FieldError("end", "expected an end after the start"))
            parent_cycle = self._find(Cycle, parent, "parent") if parent is not None else None
            if (
                parent_cycle
                and starts_at
                and ends_at
                and not (parent_cycle.starts_at <= starts_at and ends_at <= parent_cycle.ends_at)
            ):
                errors.append(
                    FieldError("parent", f"expected the cycle to lie within {parent_cycle.name!r}")
                )
            raise_if(errors)
            self._authorize(actor, "plan_cycle", parent_cycle)
            assert starts_at is not None
            assert ends_at is not None
            event = Cycle.plan(
                stamp,
                uuid4(),
                name=name.strip(),
                starts_at=starts_at,
                ends_at=ends_at,
                parent_id=parent_cycle.id if parent_cycle else None,
            )
            return self._save_one(Cycle, event)

    def start_cycle(self, cycle: Ref, *, actor: str) -> Cycle:
        """Move a cycle from planning to active."""
        with self._command(actor) as stamp:
            state = self._target(Cycle, cycle, actor, "start_cycle")
            return self._save_one(Cycle, state.start(stamp))

    def close_cycle(self, cycle: Ref, *, actor: str) -> Cycle:
        """Close an active cycle: its key results take no more check-ins."""
        with self._command(actor) as stamp:
            state = self._target(Cycle, cycle, actor, "close_cycle")
            return self._save_one(Cycle, state.close(stamp))

    # --- objectives ---------------------------------------------------------------

    def draft_objective(
        self,
        title: str,
        *,
        cycle: Ref,
        owner: str,
        actor: str,
        kind: ObjectiveKind | str = ObjectiveKind.COMMITTED,
        description: str = "",
        rollup: RollupPolicy | str = RollupPolicy.MEAN,
    ) -> Objective:
        """Draft an objective in a cycle that is not closed."""
        with self._command(actor) as stamp:
            errors = check_text("title", title) + check_text("owner", owner)
            errors += check_text("description", description, required=False)
            objective_kind = _enum(errors, "kind", ObjectiveKind, kind)
            rollup_policy = _enum(errors, "rollup", RollupPolicy, rollup)
            cycle_state = self._find(Cycle, cycle, "cycle")
            raise_if(errors)
            self._require_cycle_open(cycle_state, "draft an objective in")
            self._authorize(actor, "draft_objective", cycle_state)
            event = ObjectiveDrafted(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                title=title.strip(),
                description=description.strip(),
                owner=owner.strip(),
                cycle_id=cycle_state.id,
                kind=objective_kind,
                rollup=rollup_policy,
            )
            return self._save_one(Objective, event)

    def revise_objective(
        self,
        objective: Ref,
        *,
        actor: str,
        title: str | None = None,
        description: str | None = None,
    ) -> Objective:
        """Reword an objective's title and/or description."""
        with self._command(actor) as stamp:
            errors = check_text("title", title) if title is not None else []
            if description is not None:
                errors += check_text("description", description, required=False)
            raise_if(errors)
            state = self._target(Objective, objective, actor, "revise_objective")
            new_title = title.strip() if title is not None else state.title
            new_description = description.strip() if description is not None else state.description
            if (new_title, new_description) == (state.title, state.description):
                raise ValidationError.single("title", "expected a new title or description")
            event = state.revise(stamp, title=new_title, description=new_description)
            return self._save_one(Objective, event)

    def reassign_objective(self, objective: Ref, *, owner: str, actor: str) -> Objective:
        """Give an objective a new owner."""
        with self._command(actor) as stamp:
            raise_if(check_text("owner", owner))
            state = self._target(Objective, objective, actor, "reassign_objective")
            if owner.strip() == state.owner:
                raise ValidationError.single(
                    "owner", f"expected someone other than {state.owner!r}"
                )
            return self._save_one(Objective, state.reassign(stamp, owner=owner.strip()))

    def activate_objective(self, objective: Ref, *, actor: str) -> Objective:
        """Commit to a draft objective; it needs at least one key result."""
        with self._command(actor) as stamp:
            state = self._target(Objective, objective, actor, "activate_objective")
            self._require_cycle_open(self._cycle_of(state), "activate an objective in")
            count = len(self._key_results_of(state.id))
            return self._save_one(Objective, state.activate(stamp, key_result_count=count))

    def close_objective(self, objective: Ref, *, actor: str) -> Objective:
        """Close an active objective."""
        with self._command(actor) as stamp:
            state = self._target(Objective, objective, actor, "close_objective")
            return self._save_one(Objective, state.close(stamp))

    def abandon_objective(self, objective: Ref, *, reason: str, actor: str) -> Objective:
        """Give up on a draft or active objective, saying why."""
        with self._command(actor) as stamp:
            raise_if(check_text("reason", reason))
            state = self._target(Objective, objective, actor, "abandon_objective")
            return self._save_one(Objective, state.abandon(stamp, reason=reason.strip()))

    def align(
        self,
        objective: Ref,
        *,
        parent: Ref,
        actor: str,
        link: AlignmentLink | str = AlignmentLink.CONTRIBUTES,
        weight: float = 1.0,
    ) -> Objective:
        """Link an objective to a parent objective or key result.

        ``contributes`` links count in the parent's rollup with ``weight``;
        ``supports`` links are shown but not counted. Links that would make a loop
        (an objective above itself) are refused.
        """
        with self._command(actor) as stamp:
            errors: list[FieldError] = []
            link_type = _enum(errors, "link", AlignmentLink, link)
            errors += _check_weight("weight", weight)
            raise_if(errors)
            state = self._target(Objective, objective, actor, "align")
            target = self._note(self._find_any((Objective, KeyResult), parent, "parent"))
            parent_objective = (
                self._objective_of(target) if isinstance(target, KeyResult) else target
            )
            assert isinstance(parent_objective, Objective)
            if parent_objective.id == state.id:
                raise ValidationError.single(
                    "parent", f"expected another objective than {state.title!r} or its key results"
                )
            if self._is_above(state.id, parent_objective.id):
                raise ValidationError.single(
                    "parent",
                    f"{target.label!r} is aligned (directly or not) to {state.title!r}; "
                    "this link would make a loop",
                )
            event = state.align(
                stamp,
                parent_id=target.id,
                parent_kind=target.entity_kind,
                link=link_type,
                weight=float(weight),
            )
            return self._save_one(Objective, event)

    def unalign(self, objective: Ref, *, parent: Ref, actor: str) -> Objective:
        """Remove an objective's link to a parent."""
        with self._command(actor) as stamp:
            state = self._target(Objective, objective, actor, "unalign")
            target = self._find_any((Objective, KeyResult), parent, "parent")
            return self._save_one(Objective, state.unalign(stamp, parent_id=target.id))

    # --- key results ------------------------------------------------------------

    def add_key_result(
        self,
        objective: Ref,
        title: str,
        *,
        metric: Metric,
        actor: str,
        unit: str = "",
        weight: float = 1.0,
        owner: str | None = None,
    ) -> KeyResult:
        """Add a key result that measures an objective; the owner defaults to the objective's."""
        with self._command(actor) as stamp:
            errors = check_text("title", title) + check_text("unit", unit, required=False)
            errors += _check_weight("weight", weight)
            if owner is not None:
                errors += check_text("owner", owner)
            if not isinstance(cast(object, metric), Metric):
                errors.append(FieldError("metric", _METRIC_EXPECTED))
            parent = self._find(Objective, objective, "objective")
            raise_if(errors)
            parent.require_open("add a key result to")
            self._require_cycle_open(self._cycle_of(parent), "add a key result in")
            self._authorize(actor, "add_key_result", parent)
            event = KeyResultDefined(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                objective_id=parent.id,
                title=title.strip(),
                metric=metric,
                unit=unit.strip(),
                weight=float(weight),
                owner=owner.strip() if owner is not None else parent.owner,
            )
            return self._save_one(KeyResult, event)

    def measure_baseline(self, key_result: Ref, *, baseline: float, actor: str) -> KeyResult:
        """Set the baseline of a key result created with ``Change(baseline=None, ...)``."""
        with self._command(actor) as stamp:
            raise_if(check_number("baseline", baseline))
            state = self._changeable(key_result, actor, "measure_baseline")
            self._check_metric_with(state, baseline=baseline)
            return self._save_one(
                KeyResult, state.measure_baseline(stamp, baseline=float(baseline))
            )

    def rebaseline(self, key_result: Ref, *, baseline: float, reason: str, actor: str) -> KeyResult:
        """Replace a measured baseline, saying why (a moving goalpost)."""
        with self._command(actor) as stamp:
            raise_if(check_number("baseline", baseline) + check_text("reason", reason))
            state = self._changeable(key_result, actor, "rebaseline")
            self._check_metric_with(state, baseline=baseline)
            event = state.rebaseline(stamp, baseline=float(baseline), reason=reason.strip())
            return self._save_one(KeyResult, event)

    def retarget(
        self,
        key_result: Ref,
        *,
        reason: str,
        actor: str,
        target: float | None = None,
        metric: Metric | None = None,
    ) -> KeyResult:
        """Move a key result's goalposts, saying why.

        Give ``target`` to move only the target of a ``Change`` metric, or a whole
        new ``metric`` of the same kind (a new threshold, range or levels). The
        original metric stays on record: scores can be read against either.
        """
        with self._command(actor) as stamp:
            errors = check_text("reason", reason)
            if (target is None) == (metric is None):
                errors.append(
                    FieldError("target", "expected either target or metric (one of them)")
                )
            elif target is not None:
                errors += check_number("target", target)
            elif not isinstance(cast(object, metric), Metric):
                errors.append(FieldError("metric", _METRIC_EXPECTED))
            raise_if(errors)
            state = self._changeable(key_result, actor, "retarget")
            if target is not None:
                if not isinstance(state.metric, Change):
                    raise ValidationError.single(
                        "target",
                        f"a {state.metric.kind} key result has no single target; "
                        "pass metric= instead",
                    )
                new_metric: Metric = self._check_metric_with(state, target=target)
            else:
                assert metric is not None
                new_metric = metric
            event = state.retarget(stamp, metric=new_metric, reason=reason.strip())
            return self._save_one(KeyResult, event)

    def reweight(
        self, key_result: Ref, *, weight: float, actor: str, reason: str = ""
    ) -> KeyResult:
        """Change a key result's weight in its objective's rollup."""
        with self._command(actor) as stamp:
            raise_if(_check_weight("weight", weight) + check_text("reason", reason, required=False))
            state = self._changeable(key_result, actor, "reweight")
            event = state.reweight(stamp, weight=float(weight), reason=reason.strip())
            return self._save_one(KeyResult, event)

    def check_in(
        self,
        key_result: Ref,
        *,
        value: float,
        actor: str,
        confidence: Confidence | float | str | None = None,
        narrative: str = "",
        effective_at: datetime | None = None,
        source: CheckInSource | str = CheckInSource.MANUAL,
    ) -> CheckIn:
        """Record one observation of a key result.

        Args:
            key_result: the key result observed.
            value: the observed value, in the key result's unit (0 or 1 for a milestone).
            actor: who checks in.
            confidence: a :class:`Confidence`, or a value on the playbook's scale
                (``7`` on 0-10, ``"amber"`` on red/amber/green).
            narrative: what happened, in words.
            effective_at: when the value was true (default now); may be in the
                past (a backdated check-in), never in the future.
            source: ``manual``, ``import``, ``api`` or ``connector``.

        Raises:
            ValidationError: bad value, confidence off its scale, a future or naive
                ``effective_at``, unknown source.
            InvalidTransitionError: the objective is not active or its cycle is closed.
        """
        with self._command(actor) as stamp:
            state = self._find(KeyResult, key_result, "key_result")
            errors, fields = self._check_in_fields(
                state,
                stamp,
                value=value,
                confidence=confidence,
                narrative=narrative,
                effective_at=effective_at,
            )
            origin = _enum(errors, "source", CheckInSource, source)
            raise_if(errors)
            self._require_check_ins(state, "check in on")
            self._authorize(actor, "check_in", state)
            event = state.record(stamp, check_in_id=uuid4(), source=origin, **fields)
            self._save(event)
            return self._find_check_in(event.check_in_id)

    def correct_check_in(
        self,
        check_in: Ref,
        *,
        reason: str,
        actor: str,
        value: float = _UNCHANGED,
        confidence: Confidence | float | str | None = _UNCHANGED,
        narrative: str = _UNCHANGED,
        effective_at: datetime = _UNCHANGED,
    ) -> CheckIn:
        """Correct a check-in: a new event replaces the fields given, with the reason.

        The original stays in the log, so reports made before the correction can be
        reproduced.
        """
        with self._command(actor) as stamp:
            old = self._find_check_in(check_in)
            state = self._get(KeyResult, old.key_result_id)
            errors, fields = self._check_in_fields(
                state,
                stamp,
                value=old.value if value is _UNCHANGED else value,
                confidence=old.confidence if confidence is _UNCHANGED else confidence,
                narrative=old.narrative if narrative is _UNCHANGED else narrative,
                effective_at=old.effective_at if effective_at is _UNCHANGED else effective_at,
            )
            errors += check_text("reason", reason)
            if cast(object, effective_at) is None:
                errors.append(FieldError("effective_at", "expected a datetime (omit it to keep)"))
            raise_if(errors)
            unchanged = (old.value, old.confidence, old.narrative, old.effective_at)
            if (
                tuple(fields[k] for k in ("value", "confidence", "narrative", "effective_at"))
                == unchanged
            ):
                raise ValidationError.single("value", "expected a change to the check-in")
            self._require_check_ins(state, "correct a check-in of")
            self._authorize(actor, "correct_check_in", state)
            event = state.correct(stamp, check_in_id=old.id, reason=reason.strip(), **fields)
            self._save(event)
            return self._find_check_in(old.id)

    def retract_check_in(self, check_in: Ref, *, reason: str, actor: str) -> KeyResult:
        """Withdraw a check-in, with the reason; it stays in the log but no longer counts."""
        with self._command(actor) as stamp:
            raise_if(check_text("reason", reason))
            old = self._find_check_in(check_in)
            state = self._get(KeyResult, old.key_result_id)
            self._require_check_ins(state, "retract a check-in of")
            self._authorize(actor, "retract_check_in", state)
            event = state.retract(stamp, check_in_id=old.id, reason=reason.strip())
            return self._save_one(KeyResult, event)

    # --- actions and tasks --------------------------------------------------------

    def propose_action(
        self,
        title: str,
        *,
        key_results: Sequence[Ref],
        hypothesis: str,
        owner: str,
        actor: str,
        investment: Investment | float,
        expected_effects: Sequence[ExpectedEffect] = (),
        odds: float | None = None,
        kill_criteria: str = "",
    ) -> Action:
        """Propose an action: a bet on moving one or more key results.

        Args:
            title: what the team will try.
            key_results: the key results it serves (at least one).
            hypothesis: why it should work ("we believe X will cause Y").
            owner: who drives it.
            actor: who proposes it.
            investment: what it costs; a number means that many person-days.
            expected_effects: the expected movement of each linked key result.
            odds: the probability, in [0, 1], that it pays off.
            kill_criteria: when to stop, in words.
        """
        with self._command(actor) as stamp:
            errors = check_text("title", title) + check_text("hypothesis", hypothesis)
            errors += check_text("owner", owner) + check_text(
                "kill_criteria", kill_criteria, required=False
            )
            if odds is not None:
                errors += check_probability("odds", odds)
            cost = _collect(errors, lambda: _investment(investment))
            refs = _sequence(errors, "key_results", key_results)
            effects = tuple(_sequence(errors, "expected_effects", expected_effects))
            if not refs:
                raise_if([*errors, FieldError("key_results", "expected at least one key result")])
            linked = [self._find(KeyResult, ref, f"key_results[{i}]") for i, ref in enumerate(refs)]
            linked_ids = tuple(dict.fromkeys(k.id for k in linked))
            for i, effect in enumerate(effects):
                if not isinstance(cast(object, effect), ExpectedEffect):
                    errors.append(
                        FieldError(f"expected_effects[{i}]", "expected an ExpectedEffect")
                    )
                elif effect.key_result_id not in linked_ids:
                    errors.append(
                        FieldError(
                            f"expected_effects[{i}].key_result_id",
                            "expected one of the action's key results",
                        )
                    )
            raise_if(errors)
            for kr in linked:
                self._objective_of(kr).require_open("propose an action for")
            self._authorize(actor, "propose_action", None)
            assert cost is not None
            event = ActionProposed(
                originator_id=uuid4(),
                originator_version=1,
                recorded_at=stamp.at,
                actor=stamp.actor,
                title=title.strip(),
                key_result_ids=linked_ids,
                hypothesis=hypothesis.strip(),
                investment=cost,
                expected_effects=effects,
                odds=None if odds is None else float(odds),
                kill_criteria=kill_criteria.strip(),
                owner=owner.strip(),
            )
            return self._save_one(Action, event)

    def place_action(self, action: Ref, *, actor: str) -> Action:
        """Place a proposed bet: the team starts investing in it."""
        with self._command(actor) as stamp:
            state = self._target(Action, action, actor, "place_action")
            return self._save_one(Action, state.place(stamp))

    def resolve_action(
        self,
        action: Ref,
        *,
        outcome: Outcome | str,
        learning: str,
        actor: str,
        evidence: Sequence[str] = (),
    ) -> Action:
        """Settle a bet, once: validated, invalidated, inconclusive or abandoned.

        A learning is required: what did the team find out?
        """
        with self._command(actor) as stamp:
            errors = check_text("learning", learning)
            result = _enum(errors, "outcome", Outcome, outcome)
            items = _sequence(errors, "evidence", evidence)
            for i, item in enumerate(items):
                errors += check_text(f"evidence[{i}]", item)
            raise_if(errors)
            state = self._target(Action, action, actor, "resolve_action")
            event = state.resolve(
                stamp,
                outcome=result,
                learning=learning.strip(),
                evidence=tuple(e.strip() for e in items),
            )
            return self._save_one(Action, event)

    def add_task(self, action: Ref, title: str, *, actor: str) -> Task:
        """Add a small step under an action."""
        with self._command(actor) as stamp:
            raise_if(check_text("title", title, max_length=500))
            state = self._target(Action, action, actor, "add_task")
            event = state.add_task(stamp, task_id=uuid4(), title=title.strip())
            self._save(event)
            return self._find_task(event.task_id)

    def complete_task(self, task: Ref, *, actor: str) -> Task:
        """Mark a task done."""
        with self._command(actor) as stamp:
            found = self._find_task(task)
            state = self._target(Action, found.action_id, actor, "complete_task")
            self._save(state.complete_task(stamp, task_id=found.id))
            return self._find_task(found.id)

    def reopen_task(self, task: Ref, *, actor: str) -> Task:
        """Open a done task again."""
        with self._command(actor) as stamp:
            found = self._find_task(task)
            state = self._target(Action, found.action_id, actor, "reopen_task")
            self._save(state.reopen_task(stamp, task_id=found.id))
            return self._find_task(found.id)

    # --- playbook -----------------------------------------------------------------

    def revise_playbook(self, *, reason: str, actor: str, **changes: Any) -> Playbook:
        """Change the organisation's rules; ``changes`` are fields of :class:`PlaybookSettings`.

        Example:
            ``okra.revise_playbook(check_in_cadence_days=14, reason="fortnightly",
            actor="ana")``
        """
        with self._command(actor) as stamp:
            raise_if(check_text("reason", reason))
            state = self.playbook
            settings = _evolve_settings(state.settings, changes)
            self._authorize(actor, "revise_playbook", state)
            event = state.revise(stamp, settings=settings, reason=reason.strip())
            self._save(event)
            return self.playbook

    # --- queries --------------------------------------------------------------------

    @property
    def playbook(self) -> Playbook:
        """The current playbook (the defaults until someone revises it)."""
        with self._lock:
            self._refresh()
            state = self._states.get(PLAYBOOK_ID)
            if isinstance(state, Playbook):
                return self._note(state)
            return self._note(Playbook.default())

    def cycle(self, ref: Ref) -> Cycle:
        """One cycle, by object, id, id prefix or name."""
        return self._query(Cycle, ref)

    def objective(self, ref: Ref) -> Objective:
        """One objective, by object, id, id prefix or title."""
        return self._query(Objective, ref)

    def key_result(self, ref: Ref) -> KeyResult:
        """One key result, by object, id, id prefix or title."""
        return self._query(KeyResult, ref)

    def action(self, ref: Ref) -> Action:
        """One action, by object, id, id prefix or title."""
        return self._query(Action, ref)

    def task(self, ref: Ref) -> Task:
        """One task, by object, id, id prefix or title."""
        with self._lock:
            self._refresh()
            return self._find_task(ref)

    def get_check_in(self, ref: Ref) -> CheckIn:
        """One check-in in effect, by object, id or id prefix."""
        with self._lock:
            self._refresh()
            return self._find_check_in(ref)

    def cycles(self, *, status: CycleStatus | str | None = None) -> list[Cycle]:
        """All cycles, by start date; optionally only those with ``status``."""
        wanted = _enum_query("status", CycleStatus, status)
        return sorted(
            (c for c in self._all(Cycle) if wanted is None or c.status is wanted),
            key=lambda c: (c.starts_at, c.name),
        )

    def objectives(
        self,
        *,
        cycle: Ref | None = None,
        owner: str | None = None,
        status: ObjectiveStatus | str | None = None,
    ) -> list[Objective]:
        """Objectives in the order they were drafted, filtered by cycle, owner and status."""
        wanted = _enum_query("status", ObjectiveStatus, status)
        with self._lock:
            self._refresh()
            cycle_id = self._find(Cycle, cycle, "cycle").id if cycle is not None else None
            return [
                o
                for o in self._all(Objective)
                if (cycle_id is None or o.cycle_id == cycle_id)
                and (owner is None or o.owner == owner)
                and (wanted is None or o.status is wanted)
            ]

    def key_results(self, objective: Ref | None = None) -> list[KeyResult]:
        """Key results in the order they were added, optionally of one objective."""
        with self._lock:
            self._refresh()
            if objective is None:
                return self._all(KeyResult)
            return self._key_results_of(self._find(Objective, objective, "objective").id)

    def actions(self, *, key_result: Ref | None = None) -> list[Action]:
        """Actions in the order they were proposed, optionally those serving one key result."""
        with self._lock:
            self._refresh()
            if key_result is None:
                return self._all(Action)
            kr_id = self._find(KeyResult, key_result, "key_result").id
            return [a for a in self._all(Action) if kr_id in a.key_result_ids]

    def attainment(self, key_result: Ref) -> Attainment:
        """Attainment of a key result from its latest check-in (see :class:`Attainment`)."""
        return self.key_result(key_result).attainment()

    def get(self, ref: Ref) -> AnyEntity:
        """Any entity (cycle, objective, key result, action, playbook) by any reference.

        A task or check-in finds the action or key result that holds it.
        """
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref)
            if entity_id == PLAYBOOK_ID:
                return self.playbook
            return self._states[entity_id]

    def history(self, ref: Ref | None = None) -> Iterator[Event]:
        """The recorded events, oldest first: of one entity, or of the whole store.

        Read from the store itself, so this is the authoritative log.
        """
        if ref is None:
            yield from self._read_log(0)
            return
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref)
        try:
            yield from cast(Iterator[Event], self._store.events.get(entity_id))
        except PersistenceError as exc:
            raise StorageError(f"cannot read {self.url}: {exc}") from exc

    # --- internals: reading the log -------------------------------------------------

    def _notifications(self, after: int) -> Iterator[Notification]:
        """The store's log after position ``after``, read in batches, oldest first."""
        recorder = self._store.recorder
        position = after
        while True:
            try:
                batch = recorder.select_notifications(start=position + 1, limit=_BATCH)
            except PersistenceError as exc:
                raise StorageError(f"cannot read {self.url}: {exc}") from exc
            for notification in batch:
                position = notification.id
                yield notification
            if len(batch) < _BATCH:
                return

    def _decode(self, notification: Notification) -> Event:
        return cast(Event, self._store.mapper.to_domain_event(notification))

    def _read_log(self, after: int) -> Iterator[Event]:
        return map(self._decode, self._notifications(after))

    def _refresh(self) -> None:
        """Fold in events recorded since the last look, by this or another process."""
        if self._closed:
            raise StorageError(f"this Okra on {self.url} was closed; open a new one")
        for notification in self._notifications(self._position):
            if notification.id in self._ahead:
                self._ahead.discard(notification.id)
            else:
                self._apply(self._decode(notification))
            self._position = notification.id

    def _apply(self, event: Event) -> None:
        state = self._states.get(event.originator_id)
        if state is not None and event.originator_version <= state.version:
            return  # already folded in (a save interrupted before it moved the position)
        self._states[event.originator_id] = project(state, event)
        if isinstance(event, TaskAdded):
            self._task_action[event.task_id] = event.originator_id
        elif isinstance(event, CheckInRecorded):
            self._check_in_key_result[event.check_in_id] = event.originator_id

    # --- internals: writing -----------------------------------------------------------

    @contextlib.contextmanager
    def _command(self, actor: str) -> Iterator[Stamp]:
        raise_if(check_text("actor", actor, max_length=200))
        with self._lock:
            self._refresh()
            self._reads = {}
            try:
                # The clock is read after the refresh: a command's time is never
                # earlier than the state it was decided on.
                yield Stamp(actor.strip(), as_utc("clock", self.clock.now()))
            finally:
                self._reads = None

    def _note(self, state: T) -> T:
        """Remember that the running command relied on ``state`` as it is now."""
        if self._reads is not None:
            self._reads[state.id] = state.version
        return state

    def _save(self, *events: Event) -> None:
        written = {e.originator_id for e in events}
        reads = {i: v for i, v in (self._reads or {}).items() if i not in written}
        try:
            recordings = self._store.save(*events, read_versions=reads)
        except ReadConflictError as exc:
            raise ConcurrencyError([exc.entity_id]) from exc
        except RecordConflictError as exc:
            raise ConcurrencyError(sorted(written)) from exc
        except PersistenceError as exc:
            raise StorageError(f"cannot write to {self.url}: {exc}") from exc
        for event in events:
            self._apply(event)
        for recording in recordings:
            notification_id = recording.notification.id
            if notification_id == self._position + 1:
                self._position = notification_id
            else:
                self._ahead.add(notification_id)
        for event in events:
            self.plugins.event_recorded(self, event)

    def _save_one(self, cls: type[T], event: Event) -> T:
        self._save(event)
        return self._get(cls, event.originator_id)

    def _authorize(self, actor: str, command: str, target: Entity | None) -> None:
        if not self._authorizer(actor.strip(), command, target):
            on = f" on {target.entity_kind.value} {target.label!r}" if target is not None else ""
            raise PermissionDeniedError(f"{actor.strip()!r} may not {command}{on}")

    def _target(self, cls: type[T], ref: Ref, actor: str, command: str) -> T:
        state = self._find(cls, ref, _path_name(cls))
        self._authorize(actor, command, state)
        return state

    def _changeable(self, ref: Ref, actor: str, command: str) -> KeyResult:
        state = self._target(KeyResult, ref, actor, command)
        objective = self._objective_of(state)
        objective.require_open(command.replace("_", " "))
        self._require_cycle_open(self._cycle_of(objective), command.replace("_", " "), state)
        return state

    def _check_metric_with(self, state: KeyResult, **changes: float) -> Change:
        metric = state.metric
        if not isinstance(metric, Change):
            raise InvalidTransitionError(
                f"key result {state.title!r} is a {metric.kind} key result; only change "
                "metrics have a baseline and a target"
            )
        try:
            return attrs.evolve(metric, **changes)
        except ValidationError as exc:
            raise prefixed("metric", exc) from None

    def _check_in_fields(
        self,
        state: KeyResult,
        stamp: Stamp,
        *,
        value: object,
        confidence: object,
        narrative: object,
        effective_at: object,
    ) -> tuple[list[FieldError], dict[str, Any]]:
        """Validate the fields of a check-in; return the errors and the clean fields."""
        value_errors = check_value(state.metric, value)
        errors = value_errors + check_text("narrative", narrative, required=False)
        stated = _collect(errors, lambda: self._confidence(confidence))
        when = (
            stamp.at
            if effective_at is None
            else _collect(errors, lambda: as_utc("effective_at", effective_at))
        )
        if when is not None and when > stamp.at:
            errors.append(
                FieldError(
                    "effective_at",
                    f"expected a time no later than now ({stamp.at:%Y-%m-%d %H:%M} UTC)",
                )
            )
        return errors, {
            "value": None if value_errors else float(cast(float, value)),
            "confidence": stated,
            "narrative": narrative.strip() if isinstance(narrative, str) else "",
            "effective_at": when,
        }

    def _confidence(self, given: object) -> Confidence | None:
        if given is None or isinstance(given, Confidence):
            return given
        if isinstance(given, int | float | str) and not isinstance(given, bool):
            return Confidence.on(self.playbook.settings.confidence_scale, given)
        raise ValidationError.single(
            "confidence",
            f"expected a Confidence or a value on the playbook's scale, got {type(given).__name__}",
        )

    def _require_cycle_open(self, cycle: Cycle, doing: str, target: Entity | None = None) -> None:
        if cycle.status is CycleStatus.CLOSED:
            what = (
                f"{target.label!r}: its cycle {cycle.name!r}" if target else f"cycle {cycle.name!r}"
            )
            raise InvalidTransitionError(f"cannot {doing} {what} is closed")

    def _require_check_ins(self, state: KeyResult, doing: str) -> None:
        objective = self._objective_of(state)
        if objective.status is not ObjectiveStatus.ACTIVE:
            hint = "activate it first" if objective.status is ObjectiveStatus.DRAFT else ""
            message = (
                f"cannot {doing} {state.title!r}: its objective {objective.title!r} is "
                f"{objective.status.value}"
            )
            raise InvalidTransitionError(f"{message}; {hint}" if hint else message)
        self._require_cycle_open(self._cycle_of(objective), doing, state)

    # --- internals: finding things ------------------------------------------------------

    def _query(self, cls: type[T], ref: Ref) -> T:
        with self._lock:
            self._refresh()
            return self._find(cls, ref, _path_name(cls))

    def _all(self, cls: type[T]) -> list[T]:
        with self._lock:
            self._refresh()
            return [s for s in self._states.values() if isinstance(s, cls)]

    def _get(self, cls: type[T], entity_id: UUID) -> T:
        state = self._states.get(entity_id)
        if not isinstance(state, cls):
            raise NotFoundError(_kind_name(cls), entity_id)
        return self._note(state)

    def _cycle_of(self, objective: Objective) -> Cycle:
        return self._get(Cycle, objective.cycle_id)

    def _objective_of(self, key_result: KeyResult) -> Objective:
        return self._get(Objective, key_result.objective_id)

    def _key_results_of(self, objective_id: UUID) -> list[KeyResult]:
        return [k for k in self._all(KeyResult) if k.objective_id == objective_id]

    def _is_above(self, objective_id: UUID, start_id: UUID) -> bool:
        """Whether ``objective_id`` is reachable upwards from ``start_id``."""
        seen: set[UUID] = set()
        todo = [start_id]
        while todo:
            current = todo.pop()
            if current == objective_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            state = self._states.get(current)
            if isinstance(state, Objective):
                self._note(state)
                for link in state.alignments:
                    parent = self._states.get(link.parent_id)
                    if isinstance(parent, KeyResult):
                        todo.append(parent.objective_id)
                    elif parent is not None:
                        todo.append(parent.id)
        return False

    def _find(self, cls: type[T], ref: Ref | None, path: str) -> T:
        found = self._find_any((cls,), ref, path)
        assert isinstance(found, cls)
        return self._note(found)

    def _find_any(self, classes: tuple[type[Entity], ...], ref: Ref | None, path: str) -> AnyEntity:
        kind = " or ".join(_kind_name(c) for c in classes)
        candidates = [s for s in self._states.values() if isinstance(s, classes)]
        if isinstance(ref, Entity):
            ref = ref.id
        if isinstance(ref, UUID):
            for state in candidates:
                if state.id == ref:
                    return state
            raise NotFoundError(kind, str(ref))
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single(
                path, f"expected {_article(kind)} {kind}, its id or its title, got {ref!r}"
            )
        return _match(kind, ref, candidates, lambda s: (s.id, s.label))

    def _resolve_any(self, ref: Ref) -> UUID:
        if isinstance(ref, Task):
            return ref.action_id
        if isinstance(ref, CheckIn):
            return ref.key_result_id
        if isinstance(ref, Playbook) or ref == PLAYBOOK_ID:
            return PLAYBOOK_ID
        return self._find_any((Cycle, Objective, KeyResult, Action, Playbook), ref, "ref").id

    def _find_task(self, ref: Ref) -> Task:
        if isinstance(ref, Task):
            ref = ref.id
        tasks = [
            task
            for action_id in set(self._task_action.values())
            for task in self._get(Action, action_id).tasks
        ]
        if isinstance(ref, UUID):
            for task in tasks:
                if task.id == ref:
                    return task
            raise NotFoundError("task", str(ref))
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single(
                "task", f"expected a task, its id or its title, got {ref!r}"
            )
        # Quick capture says "done: write the brief": if only one task by that
        # title is still open, that is the one meant.
        open_tasks = [t for t in tasks if not t.done]
        with contextlib.suppress(NotFoundError):
            return _match("task", ref, open_tasks, lambda t: (t.id, t.title))
        return _match("task", ref, tasks, lambda t: (t.id, t.title))

    def _find_check_in(self, ref: Ref) -> CheckIn:
        if isinstance(ref, CheckIn):
            ref = ref.id
        if isinstance(ref, UUID):
            kr_id = self._check_in_key_result.get(ref)
            if kr_id is None:
                raise NotFoundError("check-in", str(ref))
            return self._get(KeyResult, kr_id).find_check_in(ref)
        if not isinstance(ref, str) or not ref.strip():
            raise ValidationError.single("check_in", f"expected a check-in or its id, got {ref!r}")
        ids = [(i, self._get(KeyResult, k)) for i, k in self._check_in_key_result.items()]
        check_in_id, key_result = _match(
            "check-in", ref, ids, lambda pair: (pair[0], pair[1].title), titles=False
        )
        return key_result.find_check_in(check_in_id)


# --- helpers ------------------------------------------------------------------------


def _kind_name(cls: type[Entity]) -> str:
    return {
        Cycle: "cycle",
        Objective: "objective",
        KeyResult: "key result",
        Action: "action",
        Playbook: "playbook",
    }.get(cls, cls.__name__.lower())


def _path_name(cls: type[Entity]) -> str:
    return _kind_name(cls).replace(" ", "_")


def _match(
    kind: str,
    ref: str,
    candidates: Iterable[C],
    key: Callable[[C], tuple[UUID, str]],
    *,
    titles: bool = True,
) -> C:
    """Find the one candidate whose id, id prefix or (if ``titles``) title is ``ref``."""
    text = ref.strip()
    items = [(c, *key(c)) for c in candidates]
    compact = text.lower().replace("-", "")
    if len(compact) >= _MIN_PREFIX and all(ch in "0123456789abcdef" for ch in compact):
        hits = [(c, i, label) for c, i, label in items if i.hex.startswith(compact)]
        if len(hits) == 1:
            return hits[0][0]
        if len(hits) > 1:
            raise AmbiguousReferenceError(kind, ref, [(i, label) for _, i, label in hits])
    if titles:
        folded = text.casefold()
        hits = [(c, i, label) for c, i, label in items if label.strip().casefold() == folded]
        if len(hits) == 1:
            return hits[0][0]
        if len(hits) > 1:
            raise AmbiguousReferenceError(kind, ref, [(i, label) for _, i, label in hits])
    hint = f"give its id, a prefix of at least {_MIN_PREFIX} hex digits"
    raise NotFoundError(kind, ref, hint + (" or its exact title" if titles else ""))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _collect(errors: list[FieldError], build: Callable[[], Any]) -> Any:
    """Run ``build``; on a validation error, add its field errors and return None."""
    try:
        return build()
    except ValidationError as exc:
        errors.extend(exc.errors)
        return None


def _enum(errors: list[FieldError], path: str, cls: type[En], value: object) -> En:
    if isinstance(value, cls):
        return value
    for member in cls:
        if isinstance(value, str) and value.strip().lower() == str(member.value):
            return member
    errors.append(
        FieldError(path, f"expected one of {', '.join(str(m.value) for m in cls)}, got {value!r}")
    )
    return next(iter(cls))


def _enum_query(path: str, cls: type[En], value: object) -> En | None:
    if value is None:
        return None
    errors: list[FieldError] = []
    member = _enum(errors, path, cls, value)
    raise_if(errors)
    return member


def _sequence(errors: list[FieldError], path: str, value: object) -> list[Any]:
    """``value`` as a list if it is a list or tuple; else note the error, return []."""
    if isinstance(value, list | tuple):
        return list(value)
    errors.append(FieldError(path, f"expected a list, got {type(value).__name__}"))
    return []


def _check_weight(path: str, weight: object) -> list[FieldError]:
    errors = check_number(path, weight)
    if not errors and weight <= 0:  # type: ignore[operator]
        errors.append(FieldError(path, f"expected a weight > 0, got {weight}"))
    return errors


def _investment(value: object) -> Investment:
    if isinstance(value, Investment):
        return value
    errors = check_number("investment", value, minimum=0)
    raise_if(errors)
    return Investment(effort=float(value))  # type: ignore[arg-type]


def _evolve_settings(settings: PlaybookSettings, changes: dict[str, Any]) -> PlaybookSettings:
    known = [field.name for field in attrs.fields(PlaybookSettings)]
    errors = [
        FieldError(name, f"not a playbook setting; expected one of {', '.join(known)}")
        for name in changes
        if name not in known
    ]
    if "confidence_scale" in changes:
        changes["confidence_scale"] = _enum(
            errors, "confidence_scale", ConfidenceScale, changes["confidence_scale"]
        )
    for name, cls in (("pace_bands", PaceBands), ("scoring", ScoringPolicy)):
        if name in changes and not isinstance(changes[name], cls):
            errors.append(FieldError(name, f"expected a {cls.__name__}"))
    raise_if(errors)
    try:
        return attrs.evolve(settings, **changes)
    except ValidationError as exc:
        raise prefixed("settings", exc) from None
