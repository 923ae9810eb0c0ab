"""The built-in metric sources, registered as a plugin (entry point ``sync``)."""

from __future__ import annotations

from okra_core import MetricSource, hookimpl

from .sources import SOURCES

__all__ = ["okra_metric_sources"]


@hookimpl
def okra_metric_sources() -> list[MetricSource]:
    """``sql+sqlite``, ``sql+postgresql``, ``json+https``, ``json+http`` and ``csv``."""
    return list(SOURCES)
