"""The application service: the one entry point to an okra store.

Every command validates all its input first, checks the lifecycle rules, and then
records its events in one atomic write, or raises and writes nothing. Queries read
the current state of entities, kept up to date from the store's log, so a query
right after a command sees it, and one instance sees what other processes wrote.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final, TypeVar, cast
from uuid import UUID, uuid4

import attrs
from eventsourcing.persistence import Notification, PersistenceError, RecordConflictError

from ._alignment import AlignmentTree, alignment_tree, orphans
from ._audit import Diff, LogEntry, diff_states, log_entry
from ._bets import BetsLedger, Calibration, bets_ledger, calibration
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
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    Event,
    EventRegistry,
    KeyResultContinued,
    KeyResultDefined,
    ObjectiveContinued,
    ObjectiveDrafted,
    SubscriptionAdded,
    TaskAdded,
)
from ._explain import Explanation, explain_cycle, explain_key_result, explain_objective
from ._focus import FocusList, focus
from ._history import EntityHistory
from ._history import as_of as _as_of
from ._ingest import check_import, to_record
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
    Subscription,
    Task,
    project,
    subscription_id,
    suggest_grade,
)
from ._plugins import Plugins, load_plugins
from ._progress import (
    CycleProgress,
    KeyResultProgress,
    ObjectiveProgress,
    OwnerProgress,
    cycle_progress,
    key_result_progress,
    objective_progress,
    owner_progress,
)
from ._readmodel import READ_MODEL_NAME, dump_states, fingerprint, load_states
from ._retry import DEFAULT_POLICY, RetryPolicy, install_retries
from ._scores import BusinessReview, Scorecard, business_review, lineage, scorecard
from ._store import (
    LogMovedError,
    ReadConflictError,
    ReadModelStore,
    default_store_url,
    open_store,
    redact_url,
)
from ._suggest import did_you_mean
from ._values import (
    AlignmentLink,
    CheckInSource,
    Confidence,
    ConfidenceScale,
    ContinuationMode,
    CycleStatus,
    ExpectedEffect,
    Investment,
    NotificationKind,
    NotificationRules,
    ObjectiveKind,
    ObjectiveStatus,
    Outcome,
    PaceBands,
    PlaybookSettings,
    RollupPolicy,
    ScoringPolicy,
)
from ._world import World

__all__ = ["Authorizer", "Okra", "Ref", "When"]

log = logging.getLogger("okra")

Ref = UUID | str | Entity | Task | CheckIn
"""How commands and queries accept an entity: the object itself, its id, a unique
prefix of its hex id (at least 4 digits), or its exact title (case-insensitive)."""

Authorizer = Callable[[str, str, "Entity | None"], bool]
"""``authorizer(actor, command, target) -> allowed``.

``command`` is the name of the :class:`Okra` method; ``target`` is the entity it
changes, or for a command that creates one, the entity it is created in (the cycle
of a new objective, the objective of a new key result), else ``None``.
"""

When = datetime | date | None
"""An instant for ``as_of`` / ``as_known_at``: an aware datetime, or a date (meaning
the end of that day, UTC); ``None`` for now."""

T = TypeVar("T", bound=Entity)
C = TypeVar("C")
En = TypeVar("En", bound=enum.Enum)

_MIN_PREFIX: Final = 4
_METRIC_EXPECTED: Final = "expected a metric: Change, StayAbove, StayBelow, Range or Milestone"
_BATCH: Final = 1000
# After catching up on this many events, save the read model (it is also saved on close).
_CHECKPOINT_EVERY: Final = 10_000
_UNCHANGED: Any = object()
# How often a rebuild reports its progress, in events.
_PROGRESS_EVERY: Final = 1000


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
        persist_read_model: save the current state of every entity beside the
            events (where the backend keeps read models) and start from it on the
            next open, instead of replaying the whole log (default: yes).

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

    retry_policy: RetryPolicy = DEFAULT_POLICY
    """How commands that meet a concurrent writer are retried (see :class:`RetryPolicy`)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        clock: Clock | None = None,
        authorizer: Authorizer | None = None,
        registry: EventRegistry | None = None,
        settings: Mapping[str, str] | None = None,
        persist_read_model: bool = True,
        plugins: Plugins | None = None,
    ) -> None:
        if url is not None and not isinstance(cast(object, url), str):
            raise ValidationError.single("url", f"expected a store URL, got {type(url).__name__}")
        self.url: str = url if url is not None else default_store_url()
        self._shown_url = redact_url(self.url)  # for messages: no password
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._authorizer = authorizer if authorizer is not None else _allow_all
        self.plugins: Plugins = plugins if plugins is not None else load_plugins()
        self._codec = EventCodec(
            registry if registry is not None else self.plugins.event_registry()
        )
        self._closed = False
        self._persist = persist_read_model
        self._restored = False
        self._saved_position = 0
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
        # Indexed histories for time travel: loaded per entity on demand, or all
        # at once for a query about the past; kept up to date once loaded.
        self._histories: dict[UUID, EntityHistory] = {}
        self._all_histories = False
        self.plugins.started(self)

    # --- lifecycle --------------------------------------------------------------

    def close(self) -> None:
        """Save the read model (where the store keeps one), release the store's connections.

        The instance can no longer be used.
        """
        with self._lock:
            if self._closed:
                return
            try:
                self._checkpoint()
            finally:
                self._closed = True
                self._store.close()

    def rebuild(self, *, progress: Callable[[int, int], None] | None = None) -> int:
        """Forget the saved read model and rebuild every entity from the whole log.

        Returns the number of events folded. Useful after upgrading okra, or to
        prove that the read model is what the log says. ``progress`` is called
        with ``(position, last position)`` every thousand events and at the end.
        """
        with self._lock:
            read_models = self._read_models()
            if read_models is not None:
                self._storage(lambda: read_models.drop(READ_MODEL_NAME))
            self._states.clear()
            self._task_action.clear()
            self._check_in_key_result.clear()
            self._histories.clear()
            self._all_histories = False
            self._position = self._saved_position = 0
            self._ahead.clear()
            self._restored = True
            if progress is None:
                self._refresh()
            else:
                last = self._storage(lambda: self._store.recorder.max_notification_id()) or 0
                self._refresh(progress=lambda position: progress(position, last))
                progress(self._position, last)
            self._checkpoint()
            return sum(state.version for state in self._states.values())

    def import_events(
        self,
        events: Iterable[Event | Mapping[str, Any]],
        *,
        actor: str,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Record events made elsewhere (an export, a migration, a generator).

        Every record is checked before anything is written: it must decode as a
        stored record does, be the next version of its entity's stream (after
        the store's events and the records before it) with an event of that
        entity's kind, be recorded no later than now and no earlier than the
        event before it, fold into its entity's state, refer only to entities
        of the right kind that exist (in the store or earlier in ``events``)
        without an alignment loop, and reuse no check-in or task id. Lifecycle
        rules of commands are not applied again: the records are facts that
        already happened, and keep their own recorded time and actor.

        By default all the events are written in one transaction: all or none.
        With ``batch_size``, each batch is one transaction; another writer
        recording into the same stream meanwhile is refused by the store as for
        any command, so no event is lost: the batch that meets it is not
        written, the batches before it stay recorded (a note on the error says
        how many events) and the rest is not attempted. Observers
        (``okra_event_recorded``) hear of every event recorded.

        Args:
            events: :class:`Event` objects, or their plain records as
                :meth:`export_records` gives them (``{"type":
                "okra.key_result.checked_in", "originator_id": ...,
                "originator_version": ..., ...}``), as read from JSON.
            actor: who imports; the authorizer is asked about ``import_events``.
            batch_size: events per transaction (at least 1; default: all).
            progress: called with the count of records checked so far.

        Returns:
            The number of events recorded.

        Raises:
            ValidationError: if any record is wrong; each problem's path starts
                with the record's index (``events[3].value``). Nothing is written.
            ConcurrencyError: another writer got to one of the streams first.
            PermissionDeniedError: the actor may not import.
        """
        errors = check_text("actor", actor, max_length=200)
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            errors.append(FieldError("batch_size", "expected a whole number >= 1, or None"))
        raise_if(errors)
        with self._lock:
            self._refresh()
            self._authorize(actor, "import_events", None)
            batches = check_import(
                events,
                self._states,
                self._codec,
                now=as_utc("clock", self.clock.now()),
                known_ids=self._id_in_use,
                batch_size=batch_size,
                progress=progress,
            )
            total = sum(len(batch) for batch, _ in batches)
            self._reads = {}
            done = 0
            try:
                for batch, folded in batches:
                    try:
                        self._save(*batch, folded=folded)
                    except ConcurrencyError as exc:
                        exc.add_note(f"{done} of the {total} events were recorded")
                        raise
                    done += len(batch)
            finally:
                self._reads = None
            return total

    def _id_in_use(self, item_id: UUID) -> bool:
        return item_id in self._check_in_key_result or item_id in self._task_action

    def __enter__(self) -> Okra:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Okra({self._shown_url!r})"

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

    def close_cycle(
        self,
        cycle: Ref,
        *,
        actor: str,
        grades: Mapping[Ref, float | tuple[float, str]] | None = None,
    ) -> Cycle:
        """Close an active cycle, grade its key results and close its active objectives.

        Every key result of the cycle's active and closed objectives gets an
        immutable grade from 0.0 to 1.0 in steps of 0.1. The suggestion is
        ``clamp(p, 0, 1)`` rounded half up (see :func:`suggest_grade`), with ``p``
        the attainment now. ``grades`` overrides it per key result, as
        ``{key_result: (score, rationale)}``; a score other than the suggestion
        needs a rationale. Draft objectives are left ungraded; abandoned ones too.
        It all happens in one write, or not at all.
        """
        with self._command(actor) as stamp:
            state = self._target(Cycle, cycle, actor, "close_cycle")
            events: list[Event] = [state.close(stamp)]
            objectives = [
                self._note(o)
                for o in self._all(Objective)
                if o.cycle_id == state.id
                and o.status in (ObjectiveStatus.ACTIVE, ObjectiveStatus.CLOSED)
            ]
            key_results = [kr for o in objectives for kr in self._key_results_of(o.id)]
            overrides = self._grade_overrides(grades, key_results)
            events += [o.close(stamp) for o in objectives if o.status is ObjectiveStatus.ACTIVE]
            for key_result in key_results:
                attainment = key_result.attainment().value
                suggested = suggest_grade(attainment)
                score, rationale = overrides.get(key_result.id, (suggested, ""))
                events.append(
                    key_result.grade_at_close(
                        stamp,
                        score=score,
                        suggested=suggested,
                        attainment=attainment,
                        original_attainment=key_result.attainment(original=True).value,
                        rationale=rationale,
                    )
                )
            self._save(*events, nothing_added=True)
            return self._get(Cycle, state.id)

    def _grade_overrides(
        self,
        grades: Mapping[Ref, float | tuple[float, str]] | None,
        key_results: Sequence[KeyResult],
    ) -> dict[UUID, tuple[float, str]]:
        if grades is None:
            return {}
        if not isinstance(cast(object, grades), Mapping):
            raise ValidationError.single(
                "grades", "expected a mapping {key_result: (score, rationale)}"
            )
        in_cycle = {kr.id: kr for kr in key_results}
        errors: list[FieldError] = []
        overrides: dict[UUID, tuple[float, str]] = {}
        for ref, given in grades.items():
            path = f"grades[{ref if isinstance(ref, str) else getattr(ref, 'short_id', ref)}]"
            try:
                found = self._graded_key_result(ref, path, key_results)
            except (ValidationError, NotFoundError) as exc:
                errors += (
                    exc.errors if isinstance(exc, ValidationError) else [FieldError(path, str(exc))]
                )
                continue
            if found.id not in in_cycle:
                errors.append(FieldError(path, f"{found.title!r} is not graded in this cycle"))
                continue
            if found.id in overrides:
                errors.append(FieldError(path, f"{found.title!r} is given more than once"))
                continue
            if isinstance(given, tuple) and len(cast(tuple[object, ...], given)) != 2:
                errors.append(FieldError(path, "expected a score or a (score, rationale) pair"))
                continue
            score, rationale = given if isinstance(given, tuple) else (given, "")
            problems = _check_grade(path, score, rationale)
            if not problems:
                score = round(float(score), 1)  # 0.1 + 0.2 is the grade 0.3
                suggested = suggest_grade(found.attainment().value)
                if score != suggested and not str(rationale).strip():
                    problems.append(
                        FieldError(
                            f"{path}.rationale",
                            f"expected a rationale for a score of {score:g} "
                            f"instead of the suggested {suggested:g}",
                        )
                    )
            errors += problems
            if not problems:
                overrides[found.id] = (score, str(rationale).strip())
        raise_if(errors)
        return overrides

    def _graded_key_result(
        self, ref: Ref, path: str, key_results: Sequence[KeyResult]
    ) -> KeyResult:
        """The key result ``ref`` names: among the cycle's own first, then anywhere.

        A title may recur in other cycles once an objective was continued.
        """
        if isinstance(ref, str) and ref.strip():
            with contextlib.suppress(NotFoundError):
                return _match("key result", ref, key_results, lambda k: (k.id, k.label))
        return self._find(KeyResult, ref, path)

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

    def continue_objective(
        self,
        objective: Ref,
        *,
        cycle: Ref,
        actor: str,
        mode: ContinuationMode | str = ContinuationMode.CARRY_OVER,
    ) -> Objective:
        """Continue an objective into another cycle, as a new draft linked to it.

        ``carry_over`` takes only the key results not yet met, with a change
        metric's baseline moved to its latest value (the rest of the way is the new
        goal, dropping a commit or stretch level already passed); ``clone`` takes
        every key result as defined now, with change
        baselines to be measured afresh (a recurring objective); ``extend`` takes
        every key result unchanged, so progress keeps counting from the original
        baseline. Alignment links are not copied. Each new key result records the
        one it continues, so its story can be followed across cycles.
        """
        with self._command(actor) as stamp:
            errors: list[FieldError] = []
            how = _enum(errors, "mode", ContinuationMode, mode)
            raise_if(errors)
            source = self._find(Objective, objective, "objective")
            target = self._find(Cycle, cycle, "cycle")
            own = self._cycle_of(source)
            if target.id == own.id:
                raise ValidationError.single(
                    "cycle", f"expected another cycle than {target.name!r}, the objective's own"
                )
            if target.starts_at < own.starts_at:
                raise ValidationError.single(
                    "cycle",
                    f"expected a cycle starting no earlier than {own.name!r}; "
                    f"{target.name!r} starts before it",
                )
            for other in self._all(Objective):
                if (
                    other.cycle_id == target.id
                    and other.continues is not None
                    and other.continues.from_objective_id == source.id
                    and other.status is not ObjectiveStatus.ABANDONED
                ):
                    raise ValidationError.single(
                        "cycle",
                        f"{source.title!r} is already continued in {target.name!r} "
                        f"(objective {other.short_id}); abandon that one first",
                    )
            self._require_cycle_open(target, "continue an objective into")
            self._authorize(actor, "continue_objective", target)
            key_results = [self._note(kr) for kr in self._key_results_of(source.id)]
            if how is ContinuationMode.CARRY_OVER:
                key_results = [kr for kr in key_results if not _met(kr)]
                if not key_results:
                    raise ValidationError.single(
                        "mode",
                        f"every key result of {source.title!r} is met: nothing to carry over; "
                        "use clone or extend to go on with it",
                    )
            new_id = uuid4()
            events: list[Event] = [
                ObjectiveDrafted(
                    originator_id=new_id,
                    originator_version=1,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    title=source.title,
                    description=source.description,
                    owner=source.owner,
                    cycle_id=target.id,
                    kind=source.kind,
                    rollup=source.rollup,
                ),
                ObjectiveContinued(
                    originator_id=new_id,
                    originator_version=2,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    from_objective_id=source.id,
                    mode=how,
                ),
            ]
            for key_result in key_results:
                kr_id = uuid4()
                events += [
                    KeyResultDefined(
                        originator_id=kr_id,
                        originator_version=1,
                        recorded_at=stamp.at,
                        actor=stamp.actor,
                        objective_id=new_id,
                        title=key_result.title,
                        metric=_continued_metric(key_result, how),
                        unit=key_result.unit,
                        weight=key_result.weight,
                        owner=key_result.owner,
                    ),
                    KeyResultContinued(
                        originator_id=kr_id,
                        originator_version=2,
                        recorded_at=stamp.at,
                        actor=stamp.actor,
                        from_key_result_id=key_result.id,
                    ),
                ]
            self._save(*events)
            return self._get(Objective, new_id)

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

    # --- subscriptions to notifications -------------------------------------------------

    def subscribe(
        self,
        *,
        channel: str,
        recipient: str,
        actor: str,
        kinds: Sequence[NotificationKind | str] | None = None,
        owners: Sequence[str] = (),
    ) -> Subscription:
        """Subscribe ``recipient`` on ``channel`` to notifications (or change what they get).

        Args:
            channel: the short name of a configured channel (``mail``, ``team-chat``);
                its URL and secrets are configured outside the log.
            recipient: the address on the channel (an email address, a room).
            actor: who subscribes them.
            kinds: the :class:`NotificationKind` values wanted (default: all).
            owners: only about what these owners are responsible for (default:
                everyone's).

        Example:
            ``okra.subscribe(channel="mail", recipient="ana@example.com",
            kinds=["check_in_due", "weekly_digest"], owners=["ana"], actor="ana")``
        """
        with self._command(actor) as stamp:
            errors = _check_channel(channel)
            errors += check_text("recipient", recipient, max_length=320)
            wanted = list(NotificationKind) if kinds is None else []
            for index, kind in enumerate(_sequence(errors, "kinds", kinds or ())):
                wanted.append(_enum(errors, f"kinds[{index}]", NotificationKind, kind))
            if kinds is not None and not errors and not wanted:
                errors.append(FieldError("kinds", "expected at least one kind"))
            names = _sequence(errors, "owners", owners)
            for index, owner in enumerate(names):
                errors += check_text(f"owners[{index}]", owner, max_length=200)
            raise_if(errors)
            ordered = tuple(k for k in NotificationKind if k in wanted)
            who = tuple(sorted({owner.strip() for owner in names}))
            entity_id = subscription_id(channel, recipient)
            state = self._states.get(entity_id)
            self._authorize(actor, "subscribe", state)
            if isinstance(state, Subscription):
                event: Event = self._note(state).change(stamp, kinds=ordered, owners=who)
            else:
                event = SubscriptionAdded(
                    originator_id=entity_id,
                    originator_version=1,
                    recorded_at=stamp.at,
                    actor=stamp.actor,
                    channel=channel,
                    recipient=recipient.strip(),
                    kinds=ordered,
                    owners=who,
                )
            return self._save_one(Subscription, event)

    def unsubscribe(
        self, *, channel: str, recipient: str, actor: str, reason: str = ""
    ) -> Subscription:
        """End the subscription of ``recipient`` on ``channel``."""
        with self._command(actor) as stamp:
            errors = _check_channel(channel)
            errors += check_text("recipient", recipient, max_length=320)
            errors += check_text("reason", reason, required=False)
            raise_if(errors)
            state = self._states.get(subscription_id(channel, recipient))
            if not isinstance(state, Subscription):
                raise NotFoundError("subscription", f"{recipient.strip()} on {channel}")
            self._authorize(actor, "unsubscribe", state)
            return self._save_one(
                Subscription, self._note(state).remove(stamp, reason=reason.strip())
            )

    def subscriptions(self, *, channel: str | None = None) -> list[Subscription]:
        """The active subscriptions (of one channel), in the order they were made."""
        return [s for s in self._all(Subscription) if s.active and channel in (None, s.channel)]

    def events_after(
        self, position: int = 0, *, upto: int | None = None
    ) -> Iterator[tuple[int, Event]]:
        """The log after ``position`` (up to ``upto``), oldest first, each event with its position.

        For followers that keep their own place in the log, such as notifiers:
        read from the store itself, so events of other processes are included.
        """
        for path, value in (("position", position), ("upto", upto)):
            if value is None and path == "upto":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError.single(
                    path, f"expected a log position (a whole number >= 0), got {value!r}"
                )
        for notification in self._notifications(position, upto=upto):
            yield notification.id, self._decode(notification)

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
            raise StorageError(f"cannot read {self._shown_url}: {exc}") from exc

    def export_records(self) -> Iterator[dict[str, Any]]:
        """The whole log as plain records, oldest first, for :meth:`import_events`.

        Each record is one event: ``type`` (the wire name), ``originator_id``,
        ``originator_version`` and the event's fields, all JSON types.
        """
        for event in self.history():
            yield to_record(self._codec, event)

    # --- projections ----------------------------------------------------------------
    #
    # Each query builds the World it is asked about (now by default; *as of* an
    # instant; *as known at* an instant) and hands it to a pure projection.

    def key_result_progress(
        self, key_result: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> KeyResultProgress:
        """Attainment, pace, confidence and forecast of one key result."""
        with self._reading(as_of, as_known_at) as world:
            return key_result_progress(world, self._in(world, KeyResult, key_result))

    def objective_progress(
        self, objective: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> ObjectiveProgress:
        """An objective's progress rolled up from its key results and contributors."""
        with self._reading(as_of, as_known_at) as world:
            return objective_progress(world, self._in(world, Objective, objective))

    def cycle_progress(
        self, cycle: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> CycleProgress:
        """The dashboard of a cycle: every objective's progress, per owner and overall."""
        with self._reading(as_of, as_known_at) as world:
            return cycle_progress(world, self._in(world, Cycle, cycle))

    def owner_progress(
        self,
        owner: str,
        *,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> OwnerProgress:
        """Progress of everything one person owns (in one cycle, or in open cycles)."""
        raise_if(check_text("owner", owner))
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return owner_progress(world, owner.strip(), in_cycle)

    def alignment_tree(
        self, *, cycle: Ref | None = None, as_of: When = None, as_known_at: When = None
    ) -> AlignmentTree:
        """Objectives as a tree, from those aligned to nothing down through their links."""
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return alignment_tree(world, in_cycle)

    def orphans(
        self, *, cycle: Ref | None = None, as_of: When = None, as_known_at: When = None
    ) -> list[Objective]:
        """Objectives aligned to nothing, with nothing aligned to them."""
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return orphans(world, in_cycle)

    def focus(
        self,
        *,
        owner: str | None = None,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> FocusList:
        """What needs attention this week, ranked, each item with its reason."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return focus(world, owner=owner.strip() if owner else None, cycle=in_cycle)

    def scorecard(self, cycle: Ref, *, as_of: When = None, as_known_at: When = None) -> Scorecard:
        """Grades of a cycle's key results and objectives, read by kind."""
        with self._reading(as_of, as_known_at) as world:
            return scorecard(world, self._in(world, Cycle, cycle))

    def business_review(
        self, cycle: Ref, *, as_of: When = None, as_known_at: When = None
    ) -> BusinessReview:
        """A cycle's review per owner: scores, committed objectives missed, learnings."""
        with self._reading(as_of, as_known_at) as world:
            return business_review(world, self._in(world, Cycle, cycle))

    def bets(
        self,
        *,
        cycle: Ref | None = None,
        owner: str | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> BetsLedger:
        """The ledger of actions: investment, expected and observed effect, outcome."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return bets_ledger(world, cycle=in_cycle, owner=owner.strip() if owner else None)

    def calibration(
        self,
        *,
        owner: str | None = None,
        cycle: Ref | None = None,
        as_of: When = None,
        as_known_at: When = None,
    ) -> Calibration:
        """Stated confidence against final outcomes, per owner (Brier scores)."""
        if owner is not None:
            raise_if(check_text("owner", owner))
        with self._reading(as_of, as_known_at) as world:
            in_cycle = self._in(world, Cycle, cycle) if cycle is not None else None
            return calibration(world, owner=owner.strip() if owner else None, cycle=in_cycle)

    def world(self, *, as_of: When = None, as_known_at: When = None) -> World:
        """Every entity at one instant, for your own projections (see :class:`World`).

        The world is a snapshot: later commands do not change it.
        """
        with self._reading(as_of, as_known_at) as world:
            if world.known_at is None and world.at == as_utc("clock", self.clock.now()):
                return World(dict(self._states), at=world.at)
            return world

    def state(self, ref: Ref, *, as_of: When = None, as_known_at: When = None) -> AnyEntity:
        """One entity as it was: *as of* an instant and/or *as known at* an instant.

        ``as_of`` gives what was true then, with everything known now (a check-in
        backdated to before ``as_of`` counts, even if recorded after it);
        ``as_known_at`` gives only what had been recorded by then, so a report
        made that day can be reproduced exactly. A date means the end of that day.
        """
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref)
            at, known = self._instants(as_of, as_known_at)
            current = self._current(entity_id)
            if at is None:
                return current
            state = self._past(entity_id, at, known)
            if state is None:
                raise NotFoundError(
                    _kind_name(type(current)),
                    current.label,
                    f"it was created at {current.created_at.isoformat()}, after {at.isoformat()}",
                )
            return state

    def explain(self, ref: Ref, *, as_of: When = None, as_known_at: When = None) -> Explanation:
        """Why a key result's attainment, an objective's or a cycle's progress is what it is.

        The answer gives the formula with the numbers filled in, each term (baseline,
        target, latest value; or each rolled-up item with its weight) and the events
        that set them.
        """
        with self._reading(as_of, as_known_at) as world:
            found = self._find_any((Objective, KeyResult, Cycle), ref, "ref")
            state = self._in(world, type(found), found.id)
            if isinstance(state, Cycle):
                return explain_cycle(world, state)
            definitions_by = world.at if world.known_at is None else min(world.at, world.known_at)

            def events_of(entity_id: UUID) -> list[Event]:
                history = self._history_of(entity_id)
                events = history.events
                if world.known_at is not None:
                    events = events[: history.count_known_at(world.known_at)]
                defined = history.count_known_at(definitions_by)
                return [e for i, e in enumerate(events) if i < defined or _about_check_ins(e)]

            if isinstance(state, KeyResult):
                return explain_key_result(world, state, events_of)
            assert isinstance(state, Objective)
            return explain_objective(world, state, events_of)

    def lineage(self, key_result: Ref) -> list[KeyResult]:
        """A key result's story across cycles: those it continues and those continuing it.

        Oldest first (see :meth:`continue_objective`).
        """
        with self._reading(None, None) as world:
            return list(lineage(world, self._in(world, KeyResult, key_result)))

    def timeline(self, ref: Ref) -> list[LogEntry]:
        """An entity's events, oldest first, each saying who did what, when and why."""
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref)
            label = self._label(entity_id)
            return [log_entry(event, label) for event in self._history_of(entity_id)]

    def audit(
        self,
        *,
        actor: str | None = None,
        ref: Ref | None = None,
        since: When = None,
        until: When = None,
    ) -> list[LogEntry]:
        """The whole log in the order it was recorded, with positions, optionally filtered.

        Args:
            actor: only what this actor did.
            ref: only the events of this entity.
            since: only events recorded at or after this instant (a date: from its start).
            until: only events recorded up to this instant (a date: to its end).
        """
        errors: list[FieldError] = []
        if actor is not None:
            errors += check_text("actor", actor)
        start = _collect(errors, lambda: as_utc("since", since)) if since is not None else None
        end = (
            _collect(errors, lambda: _instant("until", until, None)) if until is not None else None
        )
        raise_if(errors)
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref) if ref is not None else None
            last = self._position
        entries = []
        for notification in self._notifications(0, upto=last):
            if entity_id is not None and notification.originator_id != entity_id:
                continue
            event = self._decode(notification)
            if (
                (actor is None or event.actor == actor.strip())
                and (start is None or event.recorded_at >= start)
                and (end is None or event.recorded_at <= end)
            ):
                label = self._label(event.originator_id)
                entries.append(log_entry(event, label, notification.id))
        return entries

    def diff(
        self, ref: Ref, *, start: datetime | date, end: When = None, known: bool = False
    ) -> Diff:
        """How an entity changed from ``start`` to ``end`` (default now).

        States are compared *as of* each instant, with the events that took effect
        in between (a check-in at its effective time); or, with ``known=True``, *as
        known at* each instant, with the events recorded in between.
        """
        with self._lock:
            self._refresh()
            entity_id = self._resolve_any(ref)
            now = as_utc("clock", self.clock.now())
            errors: list[FieldError] = []
            begin = _collect(errors, lambda: _instant("start", start, now))
            finish = _collect(errors, lambda: _instant("end", end, now)) if end is not None else now
            if begin is not None and finish is not None and finish < begin:
                errors.append(FieldError("end", "expected an instant after the start"))
            raise_if(errors)
            history = self._history_of(entity_id)
            before = self._past(entity_id, begin, begin if known else None)
            after = self._past(entity_id, finish, finish if known else None)
            if after is None:
                current = self._current(entity_id)
                raise NotFoundError(
                    _kind_name(type(current)),
                    current.label,
                    f"it did not exist yet at {finish.isoformat()}",
                )
            label = self._label(entity_id)
            when = _recorded_at if known else _effective_at(history.events)
            between = (log_entry(e, label) for e in history if begin < when(e) <= finish)
            return diff_states(before, after, start=begin, end=finish, events=between)

    # --- internals: reading the past ----------------------------------------------------

    @contextlib.contextmanager
    def _reading(self, as_of: When, as_known_at: When) -> Iterator[World]:
        with self._lock:
            self._refresh()
            at, known = self._instants(as_of, as_known_at)
            if at is None:
                yield World(self._states, at=as_utc("clock", self.clock.now()))
                return
            self._load_histories()
            # In the order of self._states: the order of their first events in the log.
            states = {
                entity_id: state
                for entity_id in self._states
                if (state := _as_of(self._histories[entity_id], at, known)) is not None
            }
            yield World(states, at=at, known_at=known)

    def _instants(self, as_of: When, as_known_at: When) -> tuple[datetime | None, datetime | None]:
        """``(at, known_at)`` for a query; ``(None, None)`` for the present."""
        if as_of is None and as_known_at is None:
            return None, None
        now = as_utc("clock", self.clock.now())
        errors: list[FieldError] = []
        at = _collect(errors, lambda: _instant("as_of", as_of, now)) if as_of is not None else None
        known = (
            _collect(errors, lambda: _instant("as_known_at", as_known_at, now))
            if as_known_at is not None
            else None
        )
        raise_if(errors)
        return (at if at is not None else known), known

    def _past(self, entity_id: UUID, at: datetime, known: datetime | None) -> AnyEntity | None:
        """An entity as of ``at`` (as known at ``known``); None if it did not exist yet.

        The playbook always exists: its defaults hold until its first revision.
        """
        state = _as_of(self._history_of(entity_id), at, known)
        if state is None and entity_id == PLAYBOOK_ID:
            return Playbook.default()
        return state

    def _current(self, entity_id: UUID) -> AnyEntity:
        """The current state of a resolved entity (the default playbook if never revised)."""
        state = self._states.get(entity_id)
        if state is None and entity_id == PLAYBOOK_ID:
            return Playbook.default()
        if state is None:
            raise NotFoundError("entity", str(entity_id))
        return state

    def _label(self, entity_id: UUID) -> str:
        state = self._states.get(entity_id)
        return state.label if state is not None else entity_id.hex[:8]

    def _in(self, world: World, cls: type[T], ref: Ref) -> T:
        """The entity ``ref`` names, as it is in ``world`` (it must exist there)."""
        found = self._find(cls, ref, _path_name(cls))
        state = world.get(found.id)
        if not isinstance(state, cls):
            raise NotFoundError(
                _kind_name(cls), found.label, f"it did not exist yet at {world.at.isoformat()}"
            )
        return state

    def _history_of(self, entity_id: UUID) -> EntityHistory:
        history = self._histories.get(entity_id)
        if history is None:
            history = EntityHistory()
            state = self._states.get(entity_id)
            # Only what this instance has folded in: events another process wrote
            # since the last refresh arrive through the log, like everything else.
            upto = state.version if state is not None else 0
            try:
                for event in self._store.events.get(entity_id, lte=upto) if upto else ():
                    history.append(cast(Event, event))
            except PersistenceError as exc:
                raise StorageError(f"cannot read {self._shown_url}: {exc}") from exc
            self._histories[entity_id] = history
        return history

    def _load_histories(self) -> None:
        """Index every entity's history (once; kept up to date from then on)."""
        if self._all_histories:
            return
        last = max(self._position, *self._ahead) if self._ahead else self._position
        for notification in self._notifications(0, upto=last):
            event = self._decode(notification)
            history = self._histories.setdefault(event.originator_id, EntityHistory())
            history.append(event)
        self._all_histories = True

    # --- internals: reading the log -------------------------------------------------

    def _notifications(self, after: int, upto: int | None = None) -> Iterator[Notification]:
        """The store's log after position ``after`` (up to ``upto``), in batches, oldest first."""
        recorder = self._store.recorder
        position = after
        while True:
            try:
                batch = recorder.select_notifications(start=position + 1, limit=_BATCH, stop=upto)
            except PersistenceError as exc:
                raise StorageError(f"cannot read {self._shown_url}: {exc}") from exc
            for notification in batch:
                position = notification.id
                yield notification
            if len(batch) < _BATCH:
                return

    def _decode(self, notification: Notification) -> Event:
        return cast(Event, self._store.mapper.to_domain_event(notification))

    def _read_log(self, after: int) -> Iterator[Event]:
        return map(self._decode, self._notifications(after))

    @functools.cached_property
    def _fingerprint(self) -> str:
        # Only stores that keep a read model need it; not computed on every open.
        return fingerprint(self._codec.registry)

    def _read_models(self) -> ReadModelStore | None:
        if not self._persist:
            return None
        return self._storage(lambda: self._store.read_models)

    def _storage(self, operation: Callable[[], C]) -> C:
        try:
            return operation()
        except (PersistenceError, OSError) as exc:
            raise StorageError(f"cannot use {self._shown_url}: {exc}") from exc

    def _restore(self) -> None:
        """Start from the saved read model, if there is a usable one.

        It is used only if it was made by the same code and the log still holds,
        at the saved position, the very event it was folded up to (the events
        were not replaced, say from a backup, under it). Otherwise it is dropped,
        and the states are rebuilt from the log and saved afresh.
        """
        self._restored = True
        read_models = self._read_models()
        saved = self._storage(lambda: read_models.load(READ_MODEL_NAME)) if read_models else None
        if saved is None or read_models is None:
            return
        position, sealed = saved
        data = self._unseal(sealed)
        loaded = load_states(data, self._fingerprint) if data is not None else None
        if loaded is None or self._anchor_at(position) != loaded[1]:
            if loaded is not None:
                log.warning(
                    "okra: the saved read model does not match the log of %s; "
                    "rebuilding from the log",
                    self.url,
                )
            self._storage(lambda: read_models.drop(READ_MODEL_NAME))
            return
        states = loaded[0]
        self._states.update(states)
        for state in states.values():
            if isinstance(state, Action):
                self._task_action.update((task.id, state.id) for task in state.tasks)
            elif isinstance(state, KeyResult):
                ids = [c.id for c in state.check_ins] + list(state.retracted_ids)
                self._check_in_key_result.update((i, state.id) for i in ids)
        self._position = self._saved_position = position

    def _seal(self, data: bytes) -> bytes:
        """Compress and encrypt a read model as the store does its events.

        The states hold everything the events do, so they get the same protection.
        """
        mapper = self._store.mapper
        if mapper.compressor:
            data = mapper.compressor.compress(data)
        if mapper.cipher:
            data = mapper.cipher.encrypt(data)
        return data

    def _unseal(self, data: bytes) -> bytes | None:
        """The read model as saved by :meth:`_seal`, or None if it cannot be opened."""
        mapper = self._store.mapper
        try:
            if mapper.cipher:
                data = mapper.cipher.decrypt(data)
            if mapper.compressor:
                data = mapper.compressor.decompress(data)
        except Exception:  # a wrong key, another cipher: rebuild from the log
            log.warning("okra: the saved read model cannot be decrypted; rebuilding from the log")
            return None
        return data

    def _anchor_at(self, position: int) -> tuple[str, int] | None:
        """The event at ``position`` in the log, as ``(originator id hex, version)``."""
        notifications = self._storage(
            lambda: self._store.recorder.select_notifications(start=position, limit=1)
        )
        if not notifications or notifications[0].id != position:
            return None
        found = notifications[0]
        return UUID(str(found.originator_id)).hex, found.originator_version

    def _checkpoint(self) -> None:
        """Save the read model if it moved on since it was last saved."""
        read_models = self._read_models()
        if read_models is None or self._ahead or self._position <= self._saved_position:
            return
        anchor = self._anchor_at(self._position)
        if anchor is None:  # pragma: no cover - the log lost an event it had
            return
        data = self._seal(dump_states(self._states, self._fingerprint, anchor))
        self._storage(lambda: read_models.save(READ_MODEL_NAME, self._position, data))
        self._saved_position = self._position

    def _refresh(self, progress: Callable[[int], None] | None = None) -> None:
        """Fold in events recorded since the last look, by this or another process."""
        if self._closed:
            raise StorageError(f"this Okra on {self._shown_url} was closed; open a new one")
        if not self._restored:
            self._restore()
        for notification in self._notifications(self._position):
            if notification.id in self._ahead:
                self._ahead.discard(notification.id)
            else:
                self._apply(self._decode(notification))
            self._position = notification.id
            if progress is not None and notification.id % _PROGRESS_EVERY == 0:
                progress(notification.id)
        if self._position - self._saved_position >= _CHECKPOINT_EVERY:
            self._checkpoint()

    def _apply(self, event: Event, folded: Mapping[UUID, AnyEntity] | None = None) -> None:
        state = self._states.get(event.originator_id)
        if state is not None and event.originator_version <= state.version:
            return  # already folded in (a save interrupted before it moved the position)
        after = folded.get(event.originator_id) if folded else None
        if after is None or after.version != event.originator_version:
            after = project(state, event)
        state = self._states[event.originator_id] = after
        history = self._histories.get(event.originator_id)
        if history is None and self._all_histories:
            history = self._histories[event.originator_id] = EntityHistory()
        if history is not None:
            history.append(event, state)
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

    def _save(
        self,
        *events: Event,
        nothing_added: bool = False,
        folded: Mapping[UUID, AnyEntity] | None = None,
    ) -> None:
        """Record ``events`` in one write, or none of them.

        The entities the command noted must still be at the versions it read;
        with ``nothing_added``, nothing at all may have been recorded since its
        read (a close must see every key result of its cycle). ``folded``: states
        after the events, already computed (by an import's checks).
        """
        written = {e.originator_id for e in events}
        reads = {i: v for i, v in (self._reads or {}).items() if i not in written}
        guard: dict[str, Any] = {"read_versions": reads}
        if nothing_added:
            guard["read_position"] = self._position
        try:
            recordings = self._store.record(events, **guard)
        except ReadConflictError as exc:
            raise ConcurrencyError([exc.entity_id]) from exc
        except LogMovedError as exc:
            raise ConcurrencyError(sorted(written)) from exc
        except RecordConflictError as exc:
            raise ConcurrencyError(sorted(written)) from exc
        except PersistenceError as exc:
            raise StorageError(f"cannot write to {self._shown_url}: {exc}") from exc
        for event in events:
            self._apply(event, folded)
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
        if isinstance(ref, Entity):
            ref = ref.id
        if isinstance(ref, UUID):
            state = self._states.get(ref)
            if isinstance(state, classes):
                return state
            raise NotFoundError(kind, str(ref))
        candidates = [s for s in self._states.values() if isinstance(s, classes)]
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


# Every command re-runs (re-read, re-validate, re-decide, write) after a conflict.
install_retries(Okra)


# --- helpers ------------------------------------------------------------------------


_CHANNEL_NAME: Final = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def _check_channel(channel: object) -> list[FieldError]:
    if not isinstance(channel, str) or not _CHANNEL_NAME.match(channel):
        return [
            FieldError(
                "channel",
                "expected a short channel name (lowercase letters, digits and '-', "
                f"starting with a letter), got {channel!r}",
            )
        ]
    return []


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
    hint += " or its exact title" if titles else ""
    suggestion = did_you_mean(text, (label for _, _, label in items)) if titles else ""
    raise NotFoundError(kind, ref, f"{suggestion} {hint}" if suggestion else hint)


def _instant(path: str, value: datetime | date, now: datetime | None) -> datetime:
    """An aware instant for a query; a date means the last moment of that day (UTC).

    With ``now``, an instant in the future is refused (a date of today means now).
    """
    instant = as_utc(path, value, end_of_day=True)
    if not isinstance(value, datetime):
        instant -= timedelta(microseconds=1)
    if now is None:
        return instant
    if instant > now and not isinstance(value, datetime) and instant - now < timedelta(days=1):
        return now  # "as of today" is now
    if instant > now:
        raise ValidationError.single(path, f"expected an instant not in the future, got {value}")
    return instant


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


def _recorded_at(event: Event) -> datetime:
    return event.recorded_at


def _effective_at(events: Iterable[Event]) -> Callable[[Event], datetime]:
    """When each event took effect.

    A check-in (or its correction or retraction) at the check-in's effective
    time, everything else when it was recorded.
    """
    effective: dict[UUID, datetime] = {}
    for event in events:
        if isinstance(event, CheckInRecorded | CheckInCorrected):
            effective[event.check_in_id] = event.effective_at

    def when(event: Event) -> datetime:
        if isinstance(event, CheckInRecorded | CheckInCorrected | CheckInRetracted):
            return effective.get(event.check_in_id, event.recorded_at)
        return event.recorded_at

    return when


def _about_check_ins(event: Event) -> bool:
    return isinstance(event, CheckInRecorded | CheckInCorrected | CheckInRetracted)


def _met(key_result: KeyResult) -> bool:
    attainment = key_result.attainment().value
    return attainment is not None and attainment >= 1


def _continued_metric(key_result: KeyResult, mode: ContinuationMode) -> Metric:
    """The metric a continued key result starts with (see ``continue_objective``)."""
    metric = key_result.metric
    if not isinstance(metric, Change) or mode is ContinuationMode.EXTEND:
        return metric
    if mode is ContinuationMode.CLONE:
        return attrs.evolve(metric, baseline=None)
    latest = key_result.current_value
    if latest is None:
        return metric  # nothing newer than the baseline: it still stands
    # A level the latest value already passed (the commit level, say) means
    # nothing for the rest of the way: it is dropped, the other levels kept.
    dropped: tuple[dict[str, Any], ...] = ({}, {"commit": None}, {"commit": None, "stretch": None})
    for levels in dropped:
        with contextlib.suppress(ValidationError):
            return attrs.evolve(metric, baseline=latest, **levels)
    # It equals the target: nothing left to go; measure the baseline afresh.
    return attrs.evolve(metric, baseline=None, commit=None, stretch=None)


def _check_grade(path: str, score: object, rationale: object) -> list[FieldError]:
    errors = check_number(f"{path}.score", score, minimum=0)
    if not errors and score > 1:  # type: ignore[operator]
        errors.append(FieldError(f"{path}.score", f"expected a score from 0.0 to 1.0, got {score}"))
    if not errors and abs(score * 10 - round(score * 10)) > 1e-9:  # type: ignore[operator]
        errors.append(
            FieldError(f"{path}.score", f"expected one decimal (0.0, 0.1, ... 1.0), got {score}")
        )
    if not isinstance(rationale, str):
        errors.append(FieldError(f"{path}.rationale", "expected text"))
    return errors


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
    for name, cls in (
        ("pace_bands", PaceBands),
        ("scoring", ScoringPolicy),
        ("notifications", NotificationRules),
    ):
        if name in changes and not isinstance(changes[name], cls):
            errors.append(FieldError(name, f"expected a {cls.__name__}"))
    raise_if(errors)
    try:
        return attrs.evolve(settings, **changes)
    except ValidationError as exc:
        raise prefixed("settings", exc) from None
