"""Charts drawn on the server as SVG: no JavaScript, no library, works offline.

Every element that a test or a stylesheet needs has a stable class: ``kr-chart``
(the chart), ``value-line`` and ``value-point`` (one per check-in), ``pace-line``
(the expected pace from the baseline at the cycle's start to the target at its
end), ``target-line`` (the target, or a threshold or range bound),
``confidence-chart`` and ``confidence-point``, ``now-line`` (the instant shown).
Every text written into the SVG is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from okra_core import Change, CheckIn, Metric, Range, StayAbove, StayBelow

__all__ = ["confidence_chart", "value_chart"]

_W, _H = 640, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 16, 16, 28


def _fmt(value: float) -> str:
    return f"{value:.4g}"


class _Frame:
    """Maps instants and values to the chart's pixels."""

    def __init__(
        self, start: datetime, end: datetime, low: float, high: float, width: int, height: int
    ) -> None:
        self.start, self.end = start, end
        if high - low < 1e-9:
            low, high = low - 1, high + 1
        pad = (high - low) * 0.08
        self.low, self.high = low - pad, high + pad
        self.width, self.height = width, height

    def x(self, at: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (at - self.start).total_seconds() / span
        return round(_LEFT + max(0.0, min(1.0, share)) * (self.width - _LEFT - _RIGHT), 1)

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return round(self.height - _BOTTOM - share * (self.height - _TOP - _BOTTOM), 1)

    def axes(self, ticks: Sequence[float], unit: str) -> list[str]:
        bottom = self.height - _BOTTOM
        parts = [
            f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}"/>',
            f'<line class="axis" x1="{_LEFT}" y1="{bottom}" x2="{self.width - _RIGHT}"'
            f' y2="{bottom}"/>',
            f'<text class="tick" x="{_LEFT}" y="{self.height - 8}">{self.start:%d %b}</text>',
            f'<text class="tick" x="{self.width - _RIGHT}" y="{self.height - 8}"'
            f' text-anchor="end">{self.end:%d %b}</text>',
        ]
        for tick in ticks:
            parts.append(
                f'<text class="tick" x="{_LEFT - 6}" y="{self.y(tick) + 4}" text-anchor="end">'
                f"{escape(_fmt(tick) + (' ' + unit if unit else ''))}</text>"
            )
        return parts


def _bounds(metric: Metric) -> list[tuple[str, float]]:
    """The horizontal lines a metric draws, with their labels."""
    if isinstance(metric, Change):
        return [("target", metric.target)]
    if isinstance(metric, StayAbove | StayBelow):
        return [("threshold", metric.threshold)]
    if isinstance(metric, Range):
        return [("low", metric.low), ("high", metric.high)]
    return [("done", 1.0)]  # a milestone: 1 when done


def _extremes(check_ins: Sequence[CheckIn], baseline: float | None) -> set[float]:
    """The lowest and highest values drawn, and the baseline: the labelled ticks."""
    values = [c.value for c in check_ins]
    found = {min(values), max(values)} if values else set()
    return found | ({baseline} if baseline is not None else set())


def value_chart(
    *,
    chart_id: str,
    title: str,
    unit: str,
    metric: Metric,
    check_ins: Sequence[CheckIn],
    start: datetime,
    end: datetime,
    now: datetime,
) -> str:
    """A key result's check-ins over the cycle, against its expected pace and target.

    Args:
        chart_id: the ``id`` of the ``<svg>`` element.
        title: the key result's title (for the accessible name; escaped).
        unit: the values' unit.
        metric: the key result's metric now.
        check_ins: the check-ins in effect, by effective time.
        start: the cycle's start.
        end: the cycle's end.
        now: the instant shown (a vertical marker).
    """
    bounds = _bounds(metric)
    values = [c.value for c in check_ins] + [v for _, v in bounds]
    baseline = metric.baseline if isinstance(metric, Change) else None
    if baseline is not None:
        values.append(baseline)
    frame = _Frame(start, end, min(values, default=0.0), max(values, default=1.0), _W, _H)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="kr-chart"'
        f' viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}: values over time"'
        f' data-points="{len(check_ins)}">',
        f"<title>{escape(title)}</title>",
        *frame.axes(sorted({*(v for _, v in bounds), *_extremes(check_ins, baseline)}), unit),
    ]
    for label, value in bounds:
        y = frame.y(value)
        parts.append(
            f'<line class="target-line" data-label="{label}" x1="{_LEFT}" y1="{y}"'
            f' x2="{_W - _RIGHT}" y2="{y}"/>'
        )
    if isinstance(metric, Change) and metric.baseline is not None:
        parts.append(
            f'<line class="pace-line" x1="{frame.x(start)}" y1="{frame.y(metric.baseline)}"'
            f' x2="{frame.x(end)}" y2="{frame.y(metric.target)}"/>'
        )
    if start <= now <= end:
        x = frame.x(now)
        parts.append(f'<line class="now-line" x1="{x}" y1="{_TOP}" x2="{x}" y2="{_H - _BOTTOM}"/>')
    points = [(frame.x(c.effective_at), frame.y(c.value)) for c in check_ins]
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y in points)
        parts.append(f'<polyline class="value-line" points="{path}"/>')
    for check_in, (x, y) in zip(check_ins, points, strict=True):
        label = f"{check_in.effective_at:%Y-%m-%d}: {_fmt(check_in.value)} {unit}".strip()
        parts.append(
            f'<circle class="value-point" cx="{x}" cy="{y}" r="4">'
            f"<title>{escape(label)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def confidence_chart(
    *, chart_id: str, check_ins: Sequence[CheckIn], start: datetime, end: datetime
) -> str:
    """The stated confidence (as a probability) at each check-in, over the cycle."""
    height = 110
    frame = _Frame(start, end, 0.0, 1.0, _W, height)
    stated = [c for c in check_ins if c.confidence is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}"'
        f' class="confidence-chart" viewBox="0 0 {_W} {height}" role="img"'
        f' aria-label="confidence over time" data-points="{len(stated)}">',
        *frame.axes([0.0, 1.0], ""),
    ]
    points = [
        (frame.x(c.effective_at), frame.y(c.confidence.probability), c)
        for c in stated
        if c.confidence is not None
    ]
    if len(points) > 1:
        path = " ".join(f"{x},{y}" for x, y, _ in points)
        parts.append(f'<polyline class="confidence-line" points="{path}"/>')
    for x, y, check_in in points:
        given = check_in.confidence.given if check_in.confidence else ""
        parts.append(
            f'<circle class="confidence-point" cx="{x}" cy="{y}" r="3">'
            f"<title>{escape(f'{check_in.effective_at:%Y-%m-%d}: {given}')}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
