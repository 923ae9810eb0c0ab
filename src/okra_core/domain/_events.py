"""Every fact okra records, as one frozen attrs class per fact.

Each event class has a stable *wire name* (``okra.key_result.checked_in``) that is
stored with it instead of its Python module path, so classes can move without
breaking replay, and a *schema version* with upcasters from older versions.
Every event carries the entity it belongs to (``originator_id``), its position in
that entity's stream (``originator_version``), who caused it (``actor``) and when
it was recorded (``recorded_at``).
"""

# No ``from __future__ import annotations`` here, on purpose: field annotations are
# evaluated now, so plugin authors can subclass Event from any module even though
# Event's public home is ``okra_core``.
import enum
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import attrs

from ._metrics import Metric
from ._values import (
    AlignmentLink,
    CheckInSource,
    Confidence,
    ContinuationMode,
    ExpectedEffect,
    Investment,
    NotificationKind,
    ObjectiveKind,
    Outcome,
    PlaybookSettings,
    RollupPolicy,
)

__all__ = [
    "CORE_EVENTS",
    "ActionPlaced",
    "ActionProposed",
    "ActionResolved",
    "BaselineMeasured",
    "CheckInCorrected",
    "CheckInRecorded",
    "CheckInRetracted",
    "CycleClosed",
    "CyclePlanned",
    "CycleStarted",
    "EntityKind",
    "Event",
    "EventRegistry",
    "KeyResultBound",
    "KeyResultContinued",
    "KeyResultDefined",
    "KeyResultGraded",
    "KeyResultRebaselined",
    "KeyResultRetargeted",
    "KeyResultReweighted",
    "KeyResultUnbound",
    "LogSealed",
    "ObjectiveAbandoned",
    "ObjectiveActivated",
    "ObjectiveAligned",
    "ObjectiveClosed",
    "ObjectiveContinued",
    "ObjectiveDrafted",
    "ObjectiveReassigned",
    "ObjectiveRevised",
    "ObjectiveUnaligned",
    "PlaybookRevised",
    "SubscriptionAdded",
    "SubscriptionRemoved",
    "TaskAdded",
    "TaskCompleted",
    "TaskReopened",
    "Upcaster",
]


class EntityKind(enum.StrEnum):
    """The kinds of entity that have their own stream of events."""

    CYCLE = "cycle"
    OBJECTIVE = "objective"
    KEY_RESULT = "key_result"
    ACTION = "action"
    PLAYBOOK = "playbook"
    SUBSCRIPTION = "subscription"
    LOG = "log"


@attrs.frozen(kw_only=True)
class Event:
    """Base class of all okra events.

    Attributes:
        originator_id: the entity this event belongs to.
        originator_version: its position in that entity's stream, from 1.
        recorded_at: when okra recorded it (UTC). What a check-in says about
            *when it was true* is its own ``effective_at``.
        actor: who issued the command that caused it.
    """

    wire_name: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1

    originator_id: UUID
    originator_version: int
    recorded_at: datetime
    actor: str

    @classmethod
    def entity_kind(cls) -> str:
        """The kind of entity whose stream holds this event: the middle of its wire name.

        For okra's own events it is an :class:`EntityKind`; plugin events may name
        entities of their own.
        """
        part = cls.wire_name.split(".")[1]
        return EntityKind(part) if part in EntityKind._value2member_map_ else part


E = TypeVar("E", bound=type[Event])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Turns the stored fields of one schema version into those of the next."""


# Names an event's own fields may not take: records put the wire name under "type"
# and the schema version under "_schema" beside the fields.
_RESERVED_FIELDS = frozenset({"type", "_schema"})


class EventRegistry:
    """The event types an application knows, by wire name, and their upcasters.

    okra's own events are in :data:`CORE_EVENTS`; a copy can be extended with
    event types of plugins.
    """

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: type[Event]) -> None:
        """Add an event class; its wire name must be new and well formed."""
        name = cls.wire_name
        parts = name.split(".")
        if len(parts) != 3 or not all(p.isidentifier() and p.islower() for p in parts):
            raise ValueError(
                f"{cls.__qualname__}: wire name {name!r} should look like 'package.entity.fact'"
            )
        reserved = {f.name for f in attrs.fields(cls)} & _RESERVED_FIELDS
        if reserved:
            raise ValueError(
                f"{cls.__qualname__}: field {sorted(reserved)[0]!r} is reserved: exported "
                "records use it for the event's type"
            )
        if name in self._types and self._types[name] is not cls:
            raise ValueError(
                f"wire name {name!r} is claimed by both {self._types[name].__qualname__} "
                f"and {cls.__qualname__}"
            )
        self._types[name] = cls

    def add_upcaster(self, wire_name: str, from_version: int, upcaster: Upcaster) -> None:
        """Register how to turn version ``from_version`` of an event into the next."""
        self._upcasters[(wire_name, from_version)] = upcaster

    def upcast(self, wire_name: str, from_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """Bring stored fields from ``from_version`` up to the class's current version."""
        cls = self[wire_name]
        version = from_version
        while version < cls.schema_version:
            try:
                step = self._upcasters[(wire_name, version)]
            except KeyError:
                raise LookupError(
                    f"no upcaster for {wire_name} from schema version {version}"
                ) from None
            data = step(data)
            version += 1
        return data

    def __getitem__(self, wire_name: str) -> type[Event]:
        return self._types[wire_name]

    def __contains__(self, wire_name: object) -> bool:
        return wire_name in self._types

    def __iter__(self) -> Iterator[type[Event]]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def copy(self) -> "EventRegistry":
        """A registry with the same types and upcasters, to extend."""
        other = EventRegistry()
        other._types = dict(self._types)
        other._upcasters = dict(self._upcasters)
        return other


CORE_EVENTS = EventRegistry()
"""okra's own event types."""


def _event(wire_name: str) -> Callable[[E], E]:
    def decorate(cls: E) -> E:
        cls.wire_name = wire_name
        CORE_EVENTS.register(cls)
        return cls

    return decorate


# --- cycles ---------------------------------------------------------------------


@_event("okra.cycle.planned")
@attrs.frozen(kw_only=True)
class CyclePlanned(Event):
    """A cycle (a time box such as a quarter) was planned; it starts in ``planning``."""

    name: str
    starts_at: datetime
    ends_at: datetime
    parent_id: UUID | None = None


@_event("okra.cycle.started")
@attrs.frozen(kw_only=True)
class CycleStarted(Event):
    """A cycle moved from ``planning`` to ``active``."""


@_event("okra.cycle.closed")
@attrs.frozen(kw_only=True)
class CycleClosed(Event):
    """A cycle was closed; no more check-ins on its objectives."""


# --- objectives -----------------------------------------------------------------


@_event("okra.objective.drafted")
@attrs.frozen(kw_only=True)
class ObjectiveDrafted(Event):
    """An objective was drafted in a cycle."""

    title: str
    description: str
    owner: str
    cycle_id: UUID
    kind: ObjectiveKind
    rollup: RollupPolicy


@_event("okra.objective.revised")
@attrs.frozen(kw_only=True)
class ObjectiveRevised(Event):
    """An objective's title or description was reworded."""

    title: str
    description: str


@_event("okra.objective.reassigned")
@attrs.frozen(kw_only=True)
class ObjectiveReassigned(Event):
    """An objective got a new owner."""

    owner: str


@_event("okra.objective.activated")
@attrs.frozen(kw_only=True)
class ObjectiveActivated(Event):
    """A draft objective became active: the team commits to it."""


@_event("okra.objective.closed")
@attrs.frozen(kw_only=True)
class ObjectiveClosed(Event):
    """An active objective was closed."""


@_event("okra.objective.abandoned")
@attrs.frozen(kw_only=True)
class ObjectiveAbandoned(Event):
    """An objective was abandoned, with the reason."""

    reason: str


@_event("okra.objective.aligned")
@attrs.frozen(kw_only=True)
class ObjectiveAligned(Event):
    """An objective was linked to a parent objective or key result."""

    parent_id: UUID
    parent_kind: EntityKind
    link: AlignmentLink
    weight: float


@_event("okra.objective.unaligned")
@attrs.frozen(kw_only=True)
class ObjectiveUnaligned(Event):
    """An objective's link to a parent was removed."""

    parent_id: UUID


@_event("okra.objective.continued")
@attrs.frozen(kw_only=True)
class ObjectiveContinued(Event):
    """A new objective continues one from an earlier cycle (carried over, cloned or extended)."""

    from_objective_id: UUID
    mode: ContinuationMode


# --- key results ----------------------------------------------------------------


@_event("okra.key_result.defined")
@attrs.frozen(kw_only=True)
class KeyResultDefined(Event):
    """A key result was defined under an objective."""

    objective_id: UUID
    title: str
    metric: Metric
    unit: str
    weight: float
    owner: str


@_event("okra.key_result.baseline_measured")
@attrs.frozen(kw_only=True)
class BaselineMeasured(Event):
    """The baseline of a key result that was "to be measured" was measured."""

    baseline: float


@_event("okra.key_result.rebaselined")
@attrs.frozen(kw_only=True)
class KeyResultRebaselined(Event):
    """A key result's measured baseline was replaced, with the reason."""

    baseline: float
    reason: str


@_event("okra.key_result.retargeted")
@attrs.frozen(kw_only=True)
class KeyResultRetargeted(Event):
    """A key result's target (or threshold, or range) moved, with the reason."""

    metric: Metric
    reason: str


@_event("okra.key_result.reweighted")
@attrs.frozen(kw_only=True)
class KeyResultReweighted(Event):
    """A key result's weight in its objective's rollup changed."""

    weight: float
    reason: str


@_event("okra.key_result.bound")
@attrs.frozen(kw_only=True)
class KeyResultBound(Event):
    """A key result was bound to a metric source: ``okra sync`` checks in what it reads.

    ``source`` is the source's URL (its scheme names the source); it never holds a
    secret: a URL may name one (``secret=NAME``), read from the environment when
    the source is read. A later ``bound`` replaces the earlier source.
    """

    source: str


@_event("okra.key_result.unbound")
@attrs.frozen(kw_only=True)
class KeyResultUnbound(Event):
    """A key result no longer reads its metric source; it takes manual check-ins only."""


@_event("okra.key_result.checked_in")
@attrs.frozen(kw_only=True)
class CheckInRecorded(Event):
    """One observation of a key result: its value at ``effective_at``.

    ``effective_at`` is when the value was true; it may be earlier than
    ``recorded_at`` (a backdated check-in).
    """

    check_in_id: UUID
    value: float
    confidence: Confidence | None
    narrative: str
    effective_at: datetime
    source: CheckInSource


@_event("okra.key_result.check_in_corrected")
@attrs.frozen(kw_only=True)
class CheckInCorrected(Event):
    """A check-in was corrected; the new fields replace the old, with the reason."""

    check_in_id: UUID
    value: float
    confidence: Confidence | None
    narrative: str
    effective_at: datetime
    reason: str


@_event("okra.key_result.check_in_retracted")
@attrs.frozen(kw_only=True)
class CheckInRetracted(Event):
    """A check-in was withdrawn, with the reason; it no longer counts."""

    check_in_id: UUID
    reason: str


@_event("okra.key_result.graded")
@attrs.frozen(kw_only=True)
class KeyResultGraded(Event):
    """A key result was graded when its cycle closed: an immutable score, 0.0 to 1.0.

    ``suggested`` is ``round(clamp(p), 1)`` from the attainment at close
    (``attainment``, against the current target; ``original_attainment`` against
    the target first set). A ``score`` other than the suggestion needs a
    ``rationale``.
    """

    score: float
    suggested: float
    attainment: float | None
    original_attainment: float | None
    rationale: str


@_event("okra.key_result.continued")
@attrs.frozen(kw_only=True)
class KeyResultContinued(Event):
    """A new key result continues one from an earlier cycle (its story goes on)."""

    from_key_result_id: UUID


# --- actions (bets) and tasks -----------------------------------------------------


@_event("okra.action.proposed")
@attrs.frozen(kw_only=True)
class ActionProposed(Event):
    """An action (a bet) was proposed in service of one or more key results."""

    title: str
    key_result_ids: tuple[UUID, ...]
    hypothesis: str
    investment: Investment
    expected_effects: tuple[ExpectedEffect, ...]
    odds: float | None
    kill_criteria: str
    owner: str


@_event("okra.action.placed")
@attrs.frozen(kw_only=True)
class ActionPlaced(Event):
    """A proposed bet was placed: the team is now investing in it."""


@_event("okra.action.resolved")
@attrs.frozen(kw_only=True)
class ActionResolved(Event):
    """A bet was settled (validated, invalidated, inconclusive or abandoned)."""

    outcome: Outcome
    learning: str
    evidence: tuple[str, ...]


@_event("okra.action.task_added")
@attrs.frozen(kw_only=True)
class TaskAdded(Event):
    """A small step was added under an action."""

    task_id: UUID
    title: str


@_event("okra.action.task_completed")
@attrs.frozen(kw_only=True)
class TaskCompleted(Event):
    """A task was done."""

    task_id: UUID


@_event("okra.action.task_reopened")
@attrs.frozen(kw_only=True)
class TaskReopened(Event):
    """A completed task was opened again."""

    task_id: UUID


# --- the playbook ---------------------------------------------------------------


@_event("okra.playbook.revised")
@attrs.frozen(kw_only=True)
class PlaybookRevised(Event):
    """The organisation's OKR rules changed; ``settings`` are the new rules in full."""

    settings: PlaybookSettings
    reason: str


# --- subscriptions to notifications ----------------------------------------------


@_event("okra.subscription.added")
@attrs.frozen(kw_only=True)
class SubscriptionAdded(Event):
    """Someone subscribed to notifications on a channel (or changed what they get).

    ``channel`` is the short name of a channel whose URL is configured outside the
    log; ``recipient`` is the address on it (an email address, a chat room);
    ``kinds`` are the notifications wanted; ``owners`` limits them to what these
    owners are responsible for (empty: everyone's). A later ``added`` for the same
    channel and recipient replaces the earlier settings.
    """

    channel: str
    recipient: str
    kinds: tuple[NotificationKind, ...]
    owners: tuple[str, ...]


@_event("okra.subscription.removed")
@attrs.frozen(kw_only=True)
class SubscriptionRemoved(Event):
    """A subscription ended; nothing more is sent to it."""

    reason: str


# --- the log itself -----------------------------------------------------------------


@_event("okra.log.sealed")
@attrs.frozen(kw_only=True)
class LogSealed(Event):
    """The log's hash tree was started over the records already stored.

    A store made before okra kept a hash tree has none until it is sealed
    (``okra verify --seal``); the tree then covers every record from the
    first, and ``size`` and ``root`` say what it covered when it was started.
    """

    size: int
    root: str
