"""Numbers and days as the adapters show them: one way, in every report and table."""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["last_day", "pct", "score"]


def pct(value: float | None) -> str:
    """``0.634`` as ``63%``; undefined as ``-``."""
    return "-" if value is None else f"{value:.0%}"


def score(value: float | None) -> str:
    """A score with one decimal, ``-`` when there is none."""
    return "-" if value is None else f"{value:.1f}"


def last_day(end: datetime) -> str:
    """The last day a cycle includes (it ends at the midnight after it), as YYYY-MM-DD."""
    return (end - timedelta(microseconds=1)).strftime("%Y-%m-%d")
