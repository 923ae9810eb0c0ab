"""Time travel: an entity's state as known at any instant, without a full replay.

Each :class:`EntityHistory` holds one entity's events in version order, the
running maximum of their ``recorded_at`` (so "known at ``t``" is a binary search)
and snapshots of the folded state every so many events (so reaching a version
folds at most one interval of events). A version cannot be known before the
versions it follows, so *known at t* is the longest prefix of the stream whose
events were all recorded by ``t``.

*As of* an instant (what was true then, with everything known now) differs only
for key results: their definition is taken as known at that instant, and their
check-ins as known now, limited to those effective by then. Backdated check-ins
and later corrections therefore count at the time they describe.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime
from typing import Final

import attrs

from ..domain._events import CheckInCorrected, CheckInRecorded, CheckInRetracted, Event
from ..domain._fold import AnyEntity, project
from ..domain._key_result import KeyResult

__all__ = ["EntityHistory", "as_of"]

_SNAPSHOT_EVERY: Final = 64
_MAX_SNAPSHOTS: Final = 64
# Events that change only a key result's check-ins (and its version and update stamp).
_CHECK_IN_EVENTS: Final = (CheckInRecorded, CheckInCorrected, CheckInRetracted)


class EntityHistory:
    """One entity's events, indexed by the time they were recorded.

    Appending only checks and stores the event. The states (the latest, the
    snapshots, a key result's definitions) are folded on the first question
    that needs them, from where the last one stopped, with a run of check-ins
    folded into one state (:meth:`~okra_core.KeyResult.with_check_ins`): loading
    every history of a store for a question about the past costs its decoding,
    and little more.
    """

    __slots__ = (
        "_definitions",
        "_every",
        "_final",
        "_folded",
        "_latest",
        "_recorded",
        "_snapshots",
        "events",
    )

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._recorded: list[datetime] = []  # running max of recorded_at
        self._snapshots: list[tuple[int, AnyEntity]] = []  # (events folded, state)
        self._every = _SNAPSHOT_EVERY
        self._latest: AnyEntity | None = None  # the state after _folded events
        self._folded = 0
        self._final: AnyEntity | None = None  # the state after every event, if given
        # For a key result, (events folded, state) after every event that is not
        # about check-ins: its definition at any version, without folding check-ins.
        self._definitions: list[tuple[int, AnyEntity]] = []

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    @property
    def latest(self) -> AnyEntity | None:
        """The state after every event held."""
        final = self._final
        if final is not None and final.version == len(self.events):
            return final
        if self._folded < len(self.events):
            self._fold(len(self.events))
        return self._latest

    def adopt(self, state: AnyEntity) -> None:
        """Take ``state``, folded elsewhere, as the state after every event held.

        The live state has it already; a question about the past then folds
        only as far back as it asks.
        """
        if state.version == len(self.events):
            self._final = state

    def append(self, event: Event, state: AnyEntity | None = None) -> None:
        """Add the next event (``state``: the state after it, if already folded).

        An event this history already holds is ignored, so the same event may be
        offered twice (read from the store, then seen again in the log).
        """
        if event.originator_version <= len(self.events):
            return
        if event.originator_version != len(self.events) + 1:
            raise AssertionError(
                f"{event.wire_name} v{event.originator_version} follows v{len(self.events)}"
            )
        self.events.append(event)
        previous = self._recorded[-1] if self._recorded else event.recorded_at
        self._recorded.append(max(previous, event.recorded_at))
        if state is not None:
            self._final = state
            if self._folded == len(self.events) - 1:
                self._took(event, state)

    def _took(self, event: Event, state: AnyEntity) -> None:
        """Index the state after the next event, ``event``."""
        self._latest = state
        self._folded += 1
        if isinstance(state, KeyResult) and not isinstance(event, _CHECK_IN_EVENTS):
            # Only key results: the states of other entities may each hold a
            # copy of something long (an action's tasks), and need no such index.
            self._definitions.append((self._folded, state))
        if self._folded % self._every == 0:
            self._snapshots.append((self._folded, state))
            if len(self._snapshots) > _MAX_SNAPSHOTS:
                # Keep the snapshot count bounded: every other one, twice as far apart.
                self._snapshots = self._snapshots[1::2]
                self._every *= 2

    def _fold(self, count: int) -> None:
        """Fold and index the events up to the ``count``-th, from where the last fold stopped."""
        events = self.events
        while self._folded < count:
            start, state = self._folded, self._latest
            if type(events[start]) is CheckInRecorded and type(state) is KeyResult:
                # A run of check-ins, up to the next snapshot: one state for all.
                end = min(count, (start // self._every + 1) * self._every)
                stop = start + 1
                while stop < end and type(events[stop]) is CheckInRecorded:
                    stop += 1
                run = events[start:stop]
                self._folded = stop - 1
                self._took(
                    run[-1],
                    state.with_check_ins([state.recorded(e) for e in run], run[-1]),  # type: ignore[arg-type]
                )
            else:
                self._took(events[start], project(state, events[start]))

    def count_known_at(self, at: datetime) -> int:
        """How many of the events were known at ``at``: the longest prefix recorded by then."""
        return bisect.bisect_right(self._recorded, at)

    def known_at(self, at: datetime) -> AnyEntity | None:
        """The state from the events recorded by ``at`` (None if it did not exist yet)."""
        count = self.count_known_at(at)
        if count == len(self.events):
            return self.latest
        if self._folded < count:
            self._fold(count)
        index = bisect.bisect_right(self._snapshots, count, key=lambda s: s[0]) - 1
        done, state = self._snapshots[index] if index >= 0 else (0, None)
        for event in self.events[done:count]:
            state = project(state, event)
        return state

    def defined_at(self, at: datetime) -> KeyResult | None:
        """A key result as known at ``at``, but for its check-ins (left as they were then).

        Its definition (metric, weight, grade...) and its version and update
        stamp are those of the events recorded by ``at``; reaching them takes no
        folding of check-ins, however many there are.
        """
        count = self.count_known_at(at)
        if self._folded < count:
            self._fold(count)
        index = bisect.bisect_right(self._definitions, count, key=lambda s: s[0]) - 1
        if index < 0:
            return None
        done, state = self._definitions[index]
        assert isinstance(state, KeyResult)
        if done == count:
            return state
        last = self.events[count - 1]
        return attrs.evolve(
            state, version=count, updated_at=last.recorded_at, updated_by=last.actor
        )


def as_of(
    history: EntityHistory, at: datetime, known_at: datetime | None = None
) -> AnyEntity | None:
    """The state of the entity as true at ``at``, as known at ``known_at`` (default: now).

    Its definition is what had been recorded by the earlier of the two instants;
    a key result's check-ins are those known at ``known_at`` that were effective by
    ``at`` (corrected as known then, retractions honoured).
    """
    defined_by = at if known_at is None else min(at, known_at)
    if not isinstance(history.latest, KeyResult):
        return history.known_at(defined_by)
    state = history.defined_at(defined_by)
    if state is None:
        return None
    known = history.latest if known_at is None else history.known_at(known_at)
    assert isinstance(known, KeyResult)
    return attrs.evolve(state, check_ins=known.check_ins_by(at), retracted_ids=known.retracted_ids)
