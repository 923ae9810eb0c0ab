"""Helpers shared by the command tests: count events, run a command that must be refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from okra_core import Okra, OkraError, ValidationError


def count(okra: Okra) -> int:
    """How many events the store holds."""
    return sum(1 for _ in okra.history())


def refused(okra: Okra, error: type[OkraError], command: Callable[[], Any]) -> OkraError:
    """Run a command that must be refused, and check that it wrote nothing."""
    before = count(okra)
    with pytest.raises(error) as info:
        command()
    assert count(okra) == before, "a refused command wrote events"
    return info.value


def paths(error: OkraError) -> tuple[str, ...]:
    """The field paths of a validation error."""
    assert isinstance(error, ValidationError)
    return error.paths
