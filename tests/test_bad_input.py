"""Bad input everywhere: every command of the Python API, every JSON API route and every
``okra`` command, tried with wrong types, NaN and infinities, 1 MB strings, control
characters, naive and far-future datetimes and unknown ids.

Each must be refused with one of okra's own errors (never a ``TypeError`` or a 500),
naming the field where the input is invalid, and write nothing: the log has as many
events after as before. hypothesis picks the command, the field and the bad value.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okra_core import (
    Change,
    Confidence,
    Investment,
    ManualClock,
    Okra,
    OkraError,
    ValidationError,
)
from okra_core.app._retry import COMMANDS

NOW = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
MEGABYTE = "x" * 1_000_000

BAD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    3.5,
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    "",
    "   ",
    MEGABYTE,
    "\x00\x07\x1b[31mred\x1b[0m",
    "line\nbreak\r\n",
    "\u202eevil",
    b"bytes",
    [],
    {},
    ["a", 1],
    {"a": 1},
    object(),
    datetime(2026, 2, 1, 9, 0),  # noqa: DTZ001 - naive on purpose
    datetime(9999, 12, 31, tzinfo=UTC),
    date(1, 1, 1),
    uuid4(),
    "zzzz-unknown",
    "ffffffff",
    Confidence.on("zero_to_ten", 5),
    Change(baseline=1, target=2),
]


class World:
    """A store in the middle of a quarter: something to point every command at."""

    def __init__(self) -> None:
        self.okra = okra = Okra("memory://", clock=ManualClock(NOW))
        self.cycle = okra.plan_cycle(
            "Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), actor="ana"
        )
        okra.start_cycle(self.cycle, actor="ana")
        self.next_cycle = okra.plan_cycle(
            "Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), actor="ana"
        )
        self.parent = okra.draft_objective("Company", cycle=self.cycle, owner="ana", actor="ana")
        self.objective = okra.draft_objective("Team", cycle=self.cycle, owner="sam", actor="ana")
        self.side = okra.draft_objective("Side", cycle=self.cycle, owner="lee", actor="ana")
        okra.align(self.side, parent=self.parent, actor="ana")
        self.unmeasured = okra.add_key_result(
            self.parent, "Revenue", metric=Change(baseline=None, target=10), actor="ana"
        )
        self.kr = okra.add_key_result(
            self.objective, "Reply", metric=Change(baseline=24, target=4), unit="h", actor="ana"
        )
        okra.activate_objective(self.objective, actor="ana")
        self.check_in = okra.check_in(self.kr, value=20, actor="sam")
        self.action = okra.propose_action(
            "Bot",
            key_results=[self.kr],
            hypothesis="a bot answers",
            owner="sam",
            investment=Investment(effort=3),
            actor="sam",
        )
        self.task = okra.add_task(self.action, "write", actor="sam")
        self.placed = okra.propose_action(
            "Docs",
            key_results=[self.kr],
            hypothesis="docs help",
            owner="sam",
            investment=Investment(effort=1),
            actor="sam",
        )
        okra.place_action(self.placed, actor="sam")
        self.done_task = okra.add_task(self.action, "read", actor="sam")
        okra.complete_task(self.done_task, actor="sam")
        okra.subscribe(channel="mail", recipient="ana@example.com", actor="ana")
        self.bound = okra.add_key_result(
            self.objective, "Sign-ups", metric=Change(baseline=0, target=9), actor="ana"
        )
        okra.bind_key_result(self.bound, source="csv:///weekly.csv?column=signups", actor="ana")

    def events(self) -> int:
        return sum(1 for _ in self.okra.history())

    def valid(self, command: str) -> dict[str, Any]:
        """Arguments that make ``command`` go through (before one is spoilt)."""
        w = self
        args: dict[str, dict[str, Any]] = {
            "plan_cycle": {"name": "Q3", "start": date(2026, 7, 1), "end": date(2026, 9, 30)},
            "start_cycle": {"cycle": w.next_cycle},
            "close_cycle": {"cycle": w.cycle},
            "draft_objective": {"title": "New", "cycle": w.cycle, "owner": "sam"},
            "revise_objective": {"objective": w.objective, "title": "Team 2"},
            "reassign_objective": {"objective": w.objective, "owner": "lee"},
            "activate_objective": {"objective": w.parent},
            "close_objective": {"objective": w.objective},
            "abandon_objective": {"objective": w.parent, "reason": "no"},
            "align": {"objective": w.objective, "parent": w.parent},
            "unalign": {"objective": w.side, "parent": w.parent},
            "continue_objective": {"objective": w.objective, "cycle": w.next_cycle},
            "add_key_result": {
                "objective": w.objective,
                "title": "More",
                "metric": Change(baseline=1, target=2),
            },
            "measure_baseline": {"key_result": w.unmeasured, "baseline": 3},
            "rebaseline": {"key_result": w.kr, "baseline": 30, "reason": "r"},
            "retarget": {"key_result": w.kr, "target": 2, "reason": "r"},
            "reweight": {"key_result": w.kr, "weight": 2},
            "check_in": {"key_result": w.kr, "value": 12, "narrative": "ok"},
            "correct_check_in": {"check_in": w.check_in, "reason": "typo", "value": 19},
            "retract_check_in": {"check_in": w.check_in, "reason": "wrong"},
            "propose_action": {
                "title": "Another",
                "key_results": [w.kr],
                "hypothesis": "h",
                "owner": "sam",
                "investment": Investment(effort=1),
            },
            "place_action": {"action": w.action},
            "resolve_action": {"action": w.placed, "outcome": "validated", "learning": "l"},
            "add_task": {"action": w.action, "title": "t"},
            "complete_task": {"task": w.task},
            "reopen_task": {"task": w.done_task},
            "revise_playbook": {"reason": "r", "check_in_cadence_days": 10},
            "subscribe": {"channel": "chat", "recipient": "sam"},
            "unsubscribe": {"channel": "mail", "recipient": "ana@example.com"},
            "bind_key_result": {"key_result": w.kr, "source": "csv:///a.csv?column=n"},
            "unbind_key_result": {"key_result": w.bound},
        }
        return {**args[command], "actor": "ana"}


def _call(world: World, command: str, kwargs: dict[str, Any]) -> Any:
    return getattr(world.okra, command)(**kwargs)


@pytest.mark.parametrize("command", COMMANDS)
def test_the_valid_arguments_go_through(command: str) -> None:
    """The sweep's baseline is real: each command succeeds with its valid arguments."""
    world = World()
    before = world.events()
    _call(world, command, world.valid(command))
    assert world.events() > before


def _fields(command: str) -> list[str]:
    params = inspect.signature(getattr(Okra, command)).parameters
    return [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD
    ]


CASES = [(command, field) for command in COMMANDS for field in _fields(command)]


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=st.sampled_from(CASES), bad=st.sampled_from(BAD_VALUES))
def test_every_command_refuses_bad_input_by_name_and_writes_nothing(
    case: tuple[str, str], bad: Any
) -> None:
    command, field = case
    world = World()
    kwargs = {**world.valid(command), field: bad}
    before = world.events()
    refused = _refusal(lambda: _call(world, command, kwargs))
    if refused is None:
        # Taken: then it was a fair value for that field (a text with a line break, say).
        assert not _never_fair(bad), (command, field, bad)
        return
    assert world.events() == before, (command, field, bad)
    if isinstance(refused, ValidationError):
        # It names a field of the command: the spoilt one, or the one it clashes
        # with (an end before the start, a target and a metric both given).
        named = {p.split(".")[0].split("[")[0] for p in refused.paths}
        assert named & _names(command), (command, field, refused.paths)


def _refusal(call: Callable[[], object]) -> OkraError | None:
    """okra's error from ``call``, or None; any other exception fails the test."""
    try:
        call()
    except OkraError as exc:
        return exc
    return None


def _names(command: str) -> set[str]:
    fields = set(_fields(command))
    return fields | {f.rstrip("s") for f in fields} | {"starts_at", "ends_at"}


def _never_fair(value: Any) -> bool:
    """Values no field of any command should take."""
    if isinstance(value, float) and not math.isfinite(value):
        return True
    if isinstance(value, str) and (len(value) >= 100_000 or "\x00" in value or "\u202e" in value):
        return True
    if isinstance(value, datetime) and (value.tzinfo is None or value.year == 9999):
        return True
    if isinstance(value, date) and value.year < 1900:
        return True
    return isinstance(value, bytes) or type(value) is object
