"""Folding events into entities: the first event creates one, each next one evolves it."""

from __future__ import annotations

from ._action import Action
from ._cycle import Cycle
from ._entity import origin_fields
from ._events import (
    ActionProposed,
    CyclePlanned,
    Event,
    KeyResultDefined,
    LogSealed,
    ObjectiveDrafted,
    PlaybookRevised,
    SubscriptionAdded,
)
from ._key_result import KeyResult
from ._objective import Objective
from ._playbook import Playbook, Subscription
from ._seal import Seal

__all__ = [
    "AnyEntity",
    "project",
]


AnyEntity = Cycle | Objective | KeyResult | Action | Playbook | Subscription | Seal


def _create(event: Event) -> AnyEntity:
    match event:
        case CyclePlanned():
            return Cycle(
                name=event.name,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                parent_id=event.parent_id,
                **origin_fields(event),
            )
        case ObjectiveDrafted():
            return Objective(
                title=event.title,
                description=event.description,
                owner=event.owner,
                cycle_id=event.cycle_id,
                kind=event.kind,
                rollup=event.rollup,
                **origin_fields(event),
            )
        case KeyResultDefined():
            return KeyResult(
                objective_id=event.objective_id,
                title=event.title,
                metric=event.metric,
                original_metric=event.metric,
                unit=event.unit,
                weight=event.weight,
                owner=event.owner,
                **origin_fields(event),
            )
        case ActionProposed():
            return Action(
                title=event.title,
                key_result_ids=event.key_result_ids,
                hypothesis=event.hypothesis,
                investment=event.investment,
                expected_effects=event.expected_effects,
                odds=event.odds,
                kill_criteria=event.kill_criteria,
                owner=event.owner,
                **origin_fields(event),
            )
        case PlaybookRevised():
            return Playbook.default().apply(event)
        case SubscriptionAdded():
            return Subscription(
                channel=event.channel,
                recipient=event.recipient,
                kinds=event.kinds,
                owners=event.owners,
                since=event.recorded_at,
                **origin_fields(event),
            )
        case LogSealed():
            return Seal(size=event.size, root=event.root, **origin_fields(event))
    raise AssertionError(f"{type(event).__name__} cannot start a stream")


def project(state: AnyEntity | None, event: Event) -> AnyEntity:
    """Fold one event into an entity's state (``None`` before its first event)."""
    if state is None:
        if event.originator_version != 1:
            raise AssertionError(
                f"{event.wire_name} v{event.originator_version} has no predecessor"
            )
        return _create(event)
    if event.originator_version != state.version + 1:
        raise AssertionError(
            f"{event.wire_name} v{event.originator_version} follows v{state.version}"
        )
    return state.apply(event)
