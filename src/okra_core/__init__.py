"""okra_core: the event-sourced OKRA domain (Objectives, Key Results and Actions).

Everything public is importable from here (and the hooks from ``okra_core.hookspecs``,
the test helpers from ``okra_core.testing``). The sub-packages behind it are private and
show how okra is built, each importing only those before it: ``domain`` (values,
metrics, events, entities), ``codec`` (the wire), ``plugins``, ``store`` (the log),
``read`` (projections) and ``app`` (``Okra`` and its collaborators). See docs/design.md.

Example:
    >>> from datetime import date
    >>> from okra_core import Okra, Change
    >>> okra = Okra("memory://")
    >>> q = okra.plan_cycle("Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana")
    >>> q.status
    <CycleStatus.PLANNING: 'planning'>
"""

import contextlib

import attrs

from .app._okra import Authorizer, Okra, Ref, When
from .codec._codec import EventCodec, JSONBytes, OkraMapper
from .codec._data import to_data
from .domain._action import Action, Task
from .domain._clock import Clock, ManualClock, SystemClock
from .domain._cycle import Cycle
from .domain._entity import Entity
from .domain._errors import (
    AmbiguousReferenceError,
    ConcurrencyError,
    EventDecodeError,
    FieldError,
    InvalidTransitionError,
    NotFoundError,
    OkraError,
    PermissionDeniedError,
    PluginError,
    StorageError,
    ValidationError,
)
from .domain._events import (
    CORE_EVENTS,
    ActionPlaced,
    ActionProposed,
    ActionResolved,
    BaselineMeasured,
    CheckInCorrected,
    CheckInRecorded,
    CheckInRetracted,
    CycleClosed,
    CyclePlanned,
    CycleStarted,
    EntityKind,
    Event,
    EventRegistry,
    KeyResultContinued,
    KeyResultDefined,
    KeyResultGraded,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
    ObjectiveAbandoned,
    ObjectiveActivated,
    ObjectiveAligned,
    ObjectiveClosed,
    ObjectiveContinued,
    ObjectiveDrafted,
    ObjectiveReassigned,
    ObjectiveRevised,
    ObjectiveUnaligned,
    PlaybookRevised,
    SubscriptionAdded,
    SubscriptionRemoved,
    TaskAdded,
    TaskCompleted,
    TaskReopened,
    Upcaster,
)
from .domain._fold import AnyEntity
from .domain._key_result import CheckIn, CheckIns, Grade, KeyResult, suggest_grade
from .domain._metrics import (
    COMMIT_ATTAINMENT,
    STRETCH_ATTAINMENT,
    Attainment,
    Change,
    Metric,
    Milestone,
    Range,
    StayAbove,
    StayBelow,
)
from .domain._objective import Alignment, Continuation, Objective
from .domain._playbook import PLAYBOOK_ID, Playbook, Subscription, subscription_id
from .domain._values import (
    ActionStatus,
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
from .plugins import _types as _plugin_types
from .plugins._manager import PluginInfo, PluginProblem, Plugins, hookimpl, load_plugins
from .plugins._notification import Channel, DeliveryError, Notification
from .plugins._types import (
    CliCommand,
    Exporter,
    LintFinding,
    LintRule,
    MetricSource,
    Notifier,
    StorageBackend,
    WebRoute,
)
from .read._alignment import (
    AlignmentNode,
    AlignmentTree,
)
from .read._audit import (
    Diff,
    FieldChange,
    LogEntry,
)
from .read._bets import (
    BetEffect,
    BetEntry,
    BetsLedger,
    Calibration,
    CarriedLearning,
    ConfidenceForecast,
    OwnerCalibration,
    OwnerHitRate,
    ReliabilityBin,
    brier_score,
)
from .read._explain import (
    Explanation,
    Term,
)
from .read._focus import (
    FocusItem,
    FocusKind,
    FocusList,
    OwnerFocus,
)
from .read._progress import (
    Contribution,
    CycleProgress,
    Forecast,
    KeyResultProgress,
    ObjectiveProgress,
    OwnerProgress,
    OwnerSummary,
    PaceStatus,
    StatusCount,
    pace_status,
)
from .read._review import (
    BusinessReview,
    CarryOver,
    CommittedMiss,
    KeyResultLink,
    Learning,
    OwnerReview,
)
from .read._scores import (
    AbandonedObjective,
    BandCounts,
    KeyResultScore,
    ObjectiveScore,
    Reading,
    ReadingCounts,
    ScoreBand,
    Scorecard,
    UnscoredObjective,
)
from .read._world import World
from .store._store import (
    LogMovedError,
    ReadConflictError,
    ReadModelStore,
    default_data_dir,
    default_store_url,
    generate_cipher_key,
    redact_url,
)

__all__ = [
    "COMMIT_ATTAINMENT",
    "CORE_EVENTS",
    "PLAYBOOK_ID",
    "STRETCH_ATTAINMENT",
    "AbandonedObjective",
    "Action",
    "ActionPlaced",
    "ActionProposed",
    "ActionResolved",
    "ActionStatus",
    "Alignment",
    "AlignmentLink",
    "AlignmentNode",
    "AlignmentTree",
    "AmbiguousReferenceError",
    "AnyEntity",
    "Attainment",
    "Authorizer",
    "BandCounts",
    "BaselineMeasured",
    "BetEffect",
    "BetEntry",
    "BetsLedger",
    "BusinessReview",
    "Calibration",
    "CarriedLearning",
    "CarryOver",
    "Change",
    "Channel",
    "CheckIn",
    "CheckInCorrected",
    "CheckInRecorded",
    "CheckInRetracted",
    "CheckInSource",
    "CheckIns",
    "CliCommand",
    "Clock",
    "CommittedMiss",
    "ConcurrencyError",
    "Confidence",
    "ConfidenceForecast",
    "ConfidenceScale",
    "Continuation",
    "ContinuationMode",
    "Contribution",
    "Cycle",
    "CycleClosed",
    "CyclePlanned",
    "CycleProgress",
    "CycleStarted",
    "CycleStatus",
    "DeliveryError",
    "Diff",
    "Entity",
    "EntityKind",
    "Event",
    "EventCodec",
    "EventDecodeError",
    "EventRegistry",
    "ExpectedEffect",
    "Explanation",
    "Exporter",
    "FieldChange",
    "FieldError",
    "FocusItem",
    "FocusKind",
    "FocusList",
    "Forecast",
    "Grade",
    "InvalidTransitionError",
    "Investment",
    "JSONBytes",
    "KeyResult",
    "KeyResultContinued",
    "KeyResultDefined",
    "KeyResultGraded",
    "KeyResultLink",
    "KeyResultProgress",
    "KeyResultRebaselined",
    "KeyResultRetargeted",
    "KeyResultReweighted",
    "KeyResultScore",
    "Learning",
    "LintFinding",
    "LintRule",
    "LogEntry",
    "LogMovedError",
    "ManualClock",
    "Metric",
    "MetricSource",
    "Milestone",
    "NotFoundError",
    "Notification",
    "NotificationKind",
    "NotificationRules",
    "Notifier",
    "Objective",
    "ObjectiveAbandoned",
    "ObjectiveActivated",
    "ObjectiveAligned",
    "ObjectiveClosed",
    "ObjectiveContinued",
    "ObjectiveDrafted",
    "ObjectiveKind",
    "ObjectiveProgress",
    "ObjectiveReassigned",
    "ObjectiveRevised",
    "ObjectiveScore",
    "ObjectiveStatus",
    "ObjectiveUnaligned",
    "Okra",
    "OkraError",
    "OkraMapper",
    "Outcome",
    "OwnerCalibration",
    "OwnerFocus",
    "OwnerHitRate",
    "OwnerProgress",
    "OwnerReview",
    "OwnerSummary",
    "PaceBands",
    "PaceStatus",
    "PermissionDeniedError",
    "Playbook",
    "PlaybookRevised",
    "PlaybookSettings",
    "PluginError",
    "PluginInfo",
    "PluginProblem",
    "Plugins",
    "Range",
    "ReadConflictError",
    "ReadModelStore",
    "Reading",
    "ReadingCounts",
    "Ref",
    "ReliabilityBin",
    "RollupPolicy",
    "ScoreBand",
    "Scorecard",
    "ScoringPolicy",
    "StatusCount",
    "StayAbove",
    "StayBelow",
    "StorageBackend",
    "StorageError",
    "Subscription",
    "SubscriptionAdded",
    "SubscriptionRemoved",
    "SystemClock",
    "Task",
    "TaskAdded",
    "TaskCompleted",
    "TaskReopened",
    "Term",
    "UnscoredObjective",
    "Upcaster",
    "ValidationError",
    "WebRoute",
    "When",
    "World",
    "brier_score",
    "default_data_dir",
    "default_store_url",
    "generate_cipher_key",
    "hookimpl",
    "load_plugins",
    "pace_status",
    "redact_url",
    "subscription_id",
    "suggest_grade",
    "to_data",
]

# Tracebacks and reprs show okra_core.Okra, not okra_core.app._okra.Okra. Type hints
# are resolved first, while their names can still be found in the defining modules.
_plugin_types.resolve_types(globals())  # they name Okra, which they cannot import
for _name in __all__:
    if attrs.has(globals()[_name]):
        attrs.resolve_types(globals()[_name])
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("okra_core."):
        with contextlib.suppress(AttributeError, TypeError):  # e.g. type aliases
            _obj.__module__ = __name__
del _name, _obj
