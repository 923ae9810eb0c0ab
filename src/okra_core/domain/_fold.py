"""Folding events into entities: the first event creates one, each next one evolves it."""

from __future__ import annotations

from collections.abc import MutableMapping
from uuid import UUID

from ._action import Action
from ._cycle import Cycle
from ._entity import origin_fields
from ._events import (
    ActionProposed,
    CheckInRecorded,
    CyclePlanned,
    Event,
    KeyResultDefined,
    LogSealed,
    ObjectiveDrafted,
    PlaybookRevised,
    SubscriptionAdded,
)
from ._key_result import CheckIn, KeyResult
from ._objective import Objective
from ._playbook import Playbook, Subscription
from ._seal import Seal

__all__ = [
    "AnyEntity",
    "Replay",
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
        raise _gap(event, state.version)
    return state.apply(event)


def _gap(event: Event, reached: int) -> AssertionError:
    """The refusal of ``event`` when its stream has reached version ``reached``."""
    return AssertionError(f"{event.wire_name} v{event.originator_version} follows v{reached}")


class Replay:
    """Folds a long stretch of the log into ``states``, sparing a state per check-in.

    Most of a log is check-ins, and folding each into a new immutable key
    result makes a state that the next check-in replaces at once. Here a key
    result's check-ins are gathered as they come and folded into one new state
    when something else happens to it, or at :meth:`finish`. The states are
    those :func:`project` gives event by event (a property test holds it).

    Until :meth:`finish`, ``states`` may lag behind for key results with
    check-ins gathered; :meth:`settle` brings one up to date.

    Args:
        states: the states to fold into, updated in place.
    """

    __slots__ = ("_runs", "states")

    def __init__(self, states: MutableMapping[UUID, AnyEntity]) -> None:
        self.states = states
        # key result -> its check-ins gathered, and the event of the latest
        self._runs: dict[UUID, tuple[list[CheckIn], CheckInRecorded]] = {}

    def add(self, event: Event) -> bool:
        """Fold in the entity's next event; False if it was folded in already.

        Raises:
            AssertionError: the event skips a version of the entity's stream.
        """
        entity_id = event.originator_id
        version = event.originator_version
        run = self._runs.get(entity_id)
        if run is not None:
            reached = run[1].originator_version
            if version <= reached:
                return False
            if type(event) is CheckInRecorded:
                if version != reached + 1:
                    raise _gap(event, reached)
                state = self.states[entity_id]
                assert isinstance(state, KeyResult)
                run[0].append(state.recorded(event))
                self._runs[entity_id] = (run[0], event)
                return True
            self.settle(entity_id)
        before = self.states.get(entity_id)
        if before is not None and version <= before.version:
            return False
        if type(event) is CheckInRecorded and type(before) is KeyResult:
            if version != before.version + 1:
                raise _gap(event, before.version)
            self._runs[entity_id] = ([before.recorded(event)], event)
        else:
            self.states[entity_id] = project(before, event)
        return True

    def settle(self, entity_id: UUID) -> None:
        """Fold the check-ins gathered for one key result into its state."""
        run = self._runs.pop(entity_id, None)
        if run is not None:
            state = self.states[entity_id]
            assert isinstance(state, KeyResult)
            self.states[entity_id] = state.with_check_ins(*run)

    def finish(self) -> None:
        """Fold every check-in gathered: ``states`` are then up to date."""
        for entity_id in list(self._runs):
            self.settle(entity_id)
