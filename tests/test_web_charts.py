"""The SVG charts: well-formed for any text people type, one point per check-in."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from okra_adapters.web._charts import confidence_chart, value_chart
from okra_core import Change, CheckIn, CheckInSource, Confidence, Metric, Range, StayBelow

SVG = "{http://www.w3.org/2000/svg}"
START = datetime(2026, 7, 1, tzinfo=UTC)
END = datetime(2026, 10, 1, tzinfo=UTC)

# Text as people type it, without the control characters XML cannot hold at all.
typed = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
    max_size=40,
)
values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def _check_in(day: int, value: float, confidence: float | None) -> CheckIn:
    at = START + timedelta(days=day)
    return CheckIn(
        id=uuid4(),
        key_result_id=uuid4(),
        value=value,
        confidence=None if confidence is None else Confidence.on("zero_to_ten", confidence),
        narrative="",
        effective_at=at,
        recorded_at=at,
        actor="ana",
        source=CheckInSource.MANUAL,
    )


check_ins = st.lists(
    st.builds(
        _check_in,
        st.integers(0, 91),
        values,
        st.one_of(st.none(), st.integers(0, 10).map(float)),
    ),
    max_size=12,
).map(lambda found: sorted(found, key=lambda c: c.effective_at))

metrics: st.SearchStrategy[Metric] = st.one_of(
    st.tuples(st.one_of(st.none(), values), values)
    .filter(lambda t: t[0] != t[1])
    .map(lambda t: Change(baseline=t[0], target=t[1])),
    st.builds(StayBelow, threshold=values),
    st.tuples(values, values)
    .filter(lambda t: t[0] < t[1])
    .map(lambda t: Range(low=t[0], high=t[1])),
)


@given(title=typed, unit=typed, metric=metrics, found=check_ins)
def test_value_chart_is_well_formed_and_escapes_every_text(
    title: str, unit: str, metric: Metric, found: list[CheckIn]
) -> None:
    svg = value_chart(
        chart_id="chart-1",
        title=title,
        unit=unit,
        metric=metric,
        check_ins=found,
        start=START,
        end=END,
        now=START + timedelta(days=40),
    )
    root = ET.fromstring(svg)  # raises if any text broke out of its element
    assert root.get("aria-label") == f"{title}: values over time"
    assert root.findtext(f"{SVG}title") == title
    points = root.findall(f".//{SVG}circle[@class='value-point']")
    assert len(points) == len(found) == int(root.get("data-points", "-1"))
    assert all(
        56 <= float(p.get("cx", "0")) <= 624 and 16 <= float(p.get("cy", "0")) <= 212
        for p in points
    )
    paced = root.findall(f".//{SVG}line[@class='pace-line']")
    assert len(paced) == (isinstance(metric, Change) and metric.baseline is not None)


@given(found=check_ins)
def test_confidence_chart_has_a_point_per_stated_confidence(found: list[CheckIn]) -> None:
    root = ET.fromstring(
        confidence_chart(chart_id="confidence-1", check_ins=found, start=START, end=END)
    )
    stated = [c for c in found if c.confidence is not None]
    assert len(root.findall(f".//{SVG}circle[@class='confidence-point']")) == len(stated)
