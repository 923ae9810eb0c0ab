"""okra_core: the event-sourced OKRA domain (Objectives, Key Results and Actions).

Everything public is importable from here; the ``_modules`` behind it are private.

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

from . import _plugin_types
from ._app import Authorizer, Okra, Ref
from ._clock import Clock, ManualClock, SystemClock
from ._codec import EventCodec, JSONBytes, OkraMapper
from ._errors import (
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
from ._events import (
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
    KeyResultDefined,
    KeyResultRebaselined,
    KeyResultRetargeted,
    KeyResultReweighted,
    ObjectiveAbandoned,
    ObjectiveActivated,
    ObjectiveAligned,
    ObjectiveClosed,
    ObjectiveDrafted,
    ObjectiveReassigned,
    ObjectiveRevised,
    ObjectiveUnaligned,
    PlaybookRevised,
    TaskAdded,
    TaskCompleted,
    TaskReopened,
    Upcaster,
)
from ._metrics import (
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
from ._model import (
    PLAYBOOK_ID,
    Action,
    Alignment,
    AnyEntity,
    CheckIn,
    Cycle,
    Entity,
    KeyResult,
    Objective,
    Playbook,
    Task,
)
from ._plugin_types import (
    CliCommand,
    Exporter,
    LintFinding,
    LintRule,
    MetricSource,
    Notifier,
    StorageBackend,
    WebRoute,
)
from ._plugins import PluginInfo, PluginProblem, Plugins, hookimpl, load_plugins
from ._store import (
    ReadConflictError,
    ReadModelStore,
    default_data_dir,
    default_store_url,
    generate_cipher_key,
)
from ._values import (
    ActionStatus,
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

__all__ = [
    "COMMIT_ATTAINMENT",
    "CORE_EVENTS",
    "PLAYBOOK_ID",
    "STRETCH_ATTAINMENT",
    "Action",
    "ActionPlaced",
    "ActionProposed",
    "ActionResolved",
    "ActionStatus",
    "Alignment",
    "AlignmentLink",
    "AmbiguousReferenceError",
    "AnyEntity",
    "Attainment",
    "Authorizer",
    "BaselineMeasured",
    "Change",
    "CheckIn",
    "CheckInCorrected",
    "CheckInRecorded",
    "CheckInRetracted",
    "CheckInSource",
    "CliCommand",
    "Clock",
    "ConcurrencyError",
    "Confidence",
    "ConfidenceScale",
    "Cycle",
    "CycleClosed",
    "CyclePlanned",
    "CycleStarted",
    "CycleStatus",
    "Entity",
    "EntityKind",
    "Event",
    "EventCodec",
    "EventDecodeError",
    "EventRegistry",
    "ExpectedEffect",
    "Exporter",
    "FieldError",
    "InvalidTransitionError",
    "Investment",
    "JSONBytes",
    "KeyResult",
    "KeyResultDefined",
    "KeyResultRebaselined",
    "KeyResultRetargeted",
    "KeyResultReweighted",
    "LintFinding",
    "LintRule",
    "ManualClock",
    "Metric",
    "MetricSource",
    "Milestone",
    "NotFoundError",
    "Notifier",
    "Objective",
    "ObjectiveAbandoned",
    "ObjectiveActivated",
    "ObjectiveAligned",
    "ObjectiveClosed",
    "ObjectiveDrafted",
    "ObjectiveKind",
    "ObjectiveReassigned",
    "ObjectiveRevised",
    "ObjectiveStatus",
    "ObjectiveUnaligned",
    "Okra",
    "OkraError",
    "OkraMapper",
    "Outcome",
    "PaceBands",
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
    "Ref",
    "RollupPolicy",
    "ScoringPolicy",
    "StayAbove",
    "StayBelow",
    "StorageBackend",
    "StorageError",
    "SystemClock",
    "Task",
    "TaskAdded",
    "TaskCompleted",
    "TaskReopened",
    "Upcaster",
    "ValidationError",
    "WebRoute",
    "default_data_dir",
    "default_store_url",
    "generate_cipher_key",
    "hookimpl",
    "load_plugins",
]

# Tracebacks and reprs show okra_core.Okra, not okra_core._app.Okra. Type hints
# are resolved first, while their names can still be found in the defining modules.
_plugin_types.resolve_types(globals())  # they name Okra, which they cannot import
for _name in __all__:
    if attrs.has(globals()[_name]):
        attrs.resolve_types(globals()[_name])
for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("okra_core._"):
        with contextlib.suppress(AttributeError, TypeError):  # e.g. type aliases
            _obj.__module__ = __name__
del _name, _obj
