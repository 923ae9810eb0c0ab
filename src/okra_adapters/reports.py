"""Cycle reports as Markdown and CSV, from okra_core's query results.

Used by ``okra report``; any other adapter (a web page, a scheduled mail) can
call them with the results of :meth:`okra_core.Okra.cycle_progress`,
:meth:`~okra_core.Okra.focus` and :meth:`~okra_core.Okra.scorecard`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from okra_core import CycleProgress, FocusList, Scorecard

from ._format import last_day, pct

__all__ = ["CSV_COLUMNS", "csv_report", "markdown_report"]

CSV_COLUMNS = (
    "cycle",
    "objective_id",
    "objective",
    "objective_owner",
    "objective_progress",
    "key_result_id",
    "key_result",
    "owner",
    "metric",
    "value",
    "unit",
    "attainment",
    "pace_status",
    "confidence",
    "check_ins",
)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _cell(text: object) -> str:
    """User text as literal Markdown: specials escaped, line breaks as spaces.

    A title cannot start a link, an image, emphasis or raw HTML in the report.
    """
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIALS.sub(r"\\\1", flat)


def _rows(header: Iterable[str], rows: Iterable[Iterable[object]]) -> list[str]:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown_report(
    board: CycleProgress, focus: FocusList | None = None, card: Scorecard | None = None
) -> str:
    """A cycle's progress (and optionally focus list and scorecard) as Markdown."""
    lines = [
        f"# {_cell(board.name)}",
        "",
        f"{board.starts_at:%Y-%m-%d} to {last_day(board.ends_at)}, "
        f"{board.status.value}. "
        f"As of {board.at:%Y-%m-%d %H:%M} UTC, {pct(board.expected_pace)} of the time has "
        f"gone and progress is {pct(board.progress)} "
        f"({board.measured} of {board.total} objectives measured).",
        "",
        "## Objectives",
    ]
    for objective in board.objectives:
        lines += [
            "",
            f"### {_cell(objective.title)}",
            "",
            f"{_cell(objective.owner)}, {objective.kind.value}, {objective.status.value}: "
            f"progress {pct(objective.progress)}, "
            f"{objective.pace_status.value.replace('_', ' ')}.",
            "",
        ]
        lines += _rows(
            ("Key result", "Owner", "Now", "Attainment", "Pace", "Confidence"),
            (
                (
                    kr.title,
                    kr.owner,
                    "no check-in" if kr.value is None else f"{kr.value:g} {kr.unit}".strip(),
                    pct(kr.attainment),
                    kr.pace_status.value.replace("_", " "),
                    "-" if kr.confidence is None else str(kr.confidence),
                )
                for kr in objective.key_results
            ),
        )
    if focus is not None:
        lines += ["", "## Needs attention", ""]
        if focus.items:
            lines += [
                f"{item.rank}. **{_cell(item.title)}** ({_cell(item.owner)}): {_cell(item.reason)}"
                for item in focus.items
            ]
        else:
            lines.append("Nothing needs attention.")
    if card is not None:
        state = "provisional" if card.provisional else "final"
        score = "-" if card.score is None else f"{card.score:.1f}"
        lines += ["", f"## Scores ({state})", "", f"Cycle score {score}.", ""]
        lines += _rows(
            ("Objective", "Owner", "Score", "Band", "Reading"),
            (
                (
                    o.title,
                    o.owner,
                    f"{o.score:.1f}",
                    o.band.value,
                    o.reading.value.replace("_", " "),
                )
                for o in card.objectives
            ),
        )
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP's CSV injection advice)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_report(board: CycleProgress) -> str:
    """One CSV row per key result of the cycle, with :data:`CSV_COLUMNS`.

    Text that starts like a spreadsheet formula (``=``, ``+``, ``-``, ``@``) is
    prefixed with ``'`` so that opening the file never runs it.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for objective in board.objectives:
        for kr in objective.key_results:
            writer.writerow(
                (
                    _text(board.name),
                    objective.objective_id,
                    _text(objective.title),
                    _text(objective.owner),
                    "" if objective.progress is None else round(objective.progress, 4),
                    kr.key_result_id,
                    _text(kr.title),
                    _text(kr.owner),
                    kr.metric,
                    "" if kr.value is None else kr.value,
                    _text(kr.unit),
                    "" if kr.attainment is None else round(kr.attainment, 4),
                    kr.pace_status.value,
                    "" if kr.confidence is None else kr.confidence.given,
                    kr.check_in_count,
                )
            )
    return out.getvalue()
