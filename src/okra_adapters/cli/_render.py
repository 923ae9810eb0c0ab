"""Query results as rich tables and text for the terminal.

Every function takes a result from :mod:`okra_core` and returns renderables
(:class:`rich.text.Text`, :class:`rich.table.Table`, :class:`rich.tree.Tree`), never
plain strings: user-written text (titles, narratives, reasons) is shown as typed,
never read as rich markup or emoji codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from rich import box
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from okra_core import (
    AlignmentNode,
    AlignmentTree,
    AnyEntity,
    BetsLedger,
    BusinessReview,
    Calibration,
    CycleProgress,
    Diff,
    Explanation,
    FocusList,
    KeyResult,
    KeyResultProgress,
    LintFinding,
    LogEntry,
    ObjectiveProgress,
    PaceStatus,
    Scorecard,
    World,
    to_data,
)

from .._format import last_day, pct, score

Renderable = Text | Table | Tree
"""What the renderers yield."""

_SPARKS = "▁▂▃▄▅▆▇█"
_PACE_STYLE = {
    PaceStatus.ON_TRACK: "green",
    PaceStatus.AT_RISK: "yellow",
    PaceStatus.OFF_TRACK: "red",
    PaceStatus.UNKNOWN: "dim",
}
_BAND_STYLE = {"green": "green", "yellow": "yellow", "red": "red"}


def day(at: datetime | None) -> str:
    """An instant as its UTC date."""
    return "-" if at is None else at.strftime("%Y-%m-%d")


def moment(at: datetime | None) -> str:
    """An instant as UTC date and minute."""
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M")


def bar(fraction: float | None, width: int = 10) -> Text:
    """A horizontal bar of ``fraction`` (clamped to 0..1) in eighths of a cell."""
    if fraction is None:
        return Text(" " * width, style="dim")
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    cells = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    return Text(cells.ljust(width, "·"))


def sparkline(values: Sequence[float], width: int = 13) -> str:
    """The last ``width`` values as block characters, lowest to highest."""
    shown = list(values)[-width:]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if high == low:
        return _SPARKS[3] * len(shown)
    top = len(_SPARKS) - 1
    return "".join(_SPARKS[round((v - low) / (high - low) * top)] for v in shown)


def pace(status: PaceStatus) -> Text:
    """A pace status in its colour."""
    return Text(status.value.replace("_", " "), style=_PACE_STYLE[status])


def _row(table: Table, *cells: str | Text) -> None:
    """Add a row; plain strings are shown as typed, never read as markup."""
    table.add_row(*(Text(c) if isinstance(c, str) else c for c in cells))


def _table(*columns: str, title: str | None = None) -> Table:
    """A table; only the columns of free text (titles, reasons, notes) wrap.

    Text columns keep at least 16 characters, so that a narrow terminal (or a
    pipe, which rich takes as 80 columns) cuts the figures before the titles.
    """
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False)
    for column in columns:
        wraps = column in _TEXT_COLUMNS
        table.add_column(
            column,
            overflow="fold",
            no_wrap=not wraps,
            ratio=1 if wraps else None,
            min_width=16 if wraps else None,
        )
    return table


_TEXT_COLUMNS = frozenset(
    {
        "objective / key result",
        "item",
        "why",
        "what",
        "title",
        "bet",
        "effect (expected → observed)",
        "learning",
        "reading / note",
        "note",
        "narrative",
        "entity",
        "before",
        "after",
        "term",
    }
)


def _value(kr: KeyResultProgress) -> str:
    if kr.value is None:
        return "no check-in"
    unit = f" {kr.unit}" if kr.unit else ""
    return f"{kr.value:g}{unit}"


# Columns of the dashboard, and the terminal width below which each is left out:
# the trend first, then the confidence and the percentage; the bar stays.
_DASHBOARD_COLUMNS = (
    ("id", 0),
    ("objective / key result", 0),
    ("owner", 0),
    ("progress", 0),
    ("%", 85),
    ("pace", 0),
    ("conf.", 95),
    ("trend", 110),
    ("now", 0),
)


def lint_marker(findings: Sequence[LintFinding]) -> str:
    """The mark of an entity with lint findings: `` ⚑2`` (`` ⚑2!`` if one is an error)."""
    if not findings:
        return ""
    worst = "!" if any(f.severity == "error" for f in findings) else ""
    return f" ⚑{len(findings)}{worst}"


def dashboard(
    board: CycleProgress,
    world: World,
    owner: str | None = None,
    width: int = 120,
    findings: Mapping[UUID, Sequence[LintFinding]] | None = None,
) -> Iterator[Renderable]:
    """The cycle dashboard: objectives, their key results, bars, pace, trend.

    On a terminal narrower than 110 columns (a pipe counts as 80) the trend,
    then the confidence and the percentage are left out, so titles keep room.
    Entities with lint ``findings`` are marked (see :func:`lint_marker`).
    """
    flagged = findings or {}
    yield Text.assemble(
        (board.name, "bold"),
        f"  {day(board.starts_at)} to {last_day(board.ends_at)}, {board.status.value}, "
        f"as of {moment(board.at)}",
    )
    yield Text(
        f"{pct(board.expected_pace)} of the time gone; progress {pct(board.progress)} "
        f"({board.measured} of {board.total} objectives measured)"
    )
    keep = [width >= narrowest for _, narrowest in _DASHBOARD_COLUMNS]
    table = _table(
        *(name for (name, _), kept in zip(_DASHBOARD_COLUMNS, keep, strict=True) if kept)
    )

    def row(*cells: str | Text) -> None:
        _row(table, *(cell for cell, kept in zip(cells, keep, strict=True) if kept))

    shown = [o for o in board.objectives if owner is None or _involves(o, owner)]
    for objective in shown:
        row(
            objective.objective_id.hex[:8],
            Text.assemble(
                (objective.title, "bold"),
                (lint_marker(flagged.get(objective.objective_id, ())), "yellow"),
            ),
            objective.owner,
            bar(objective.progress),
            pct(objective.progress),
            pace(objective.pace_status),
            "",
            "",
            "",
        )
        for kr in objective.key_results:
            state = world.get(kr.key_result_id)
            values = (
                [c.value for c in state.check_ins_by(board.at)]
                if isinstance(state, KeyResult)
                else []
            )
            row(
                kr.key_result_id.hex[:8],
                Text.assemble(
                    "  " + kr.title + (" (retargeted)" if kr.goalposts_moved else ""),
                    (lint_marker(flagged.get(kr.key_result_id, ())), "yellow"),
                ),
                kr.owner,
                bar(kr.clamped),
                pct(kr.attainment),
                pace(kr.pace_status),
                "-" if kr.confidence is None else str(kr.confidence),
                sparkline(values),
                _value(kr),
            )
    if shown:
        yield table
    else:
        yield Text("No objectives" + (f" for {owner}" if owner else "") + " in this cycle.")
    counts = ", ".join(
        f"{c.count} {c.status.value.replace('_', ' ')}"
        for c in board.key_results_by_status
        if c.count
    )
    if counts:
        yield Text(f"Key results: {counts}.")
    marked = [f for entity_findings in flagged.values() for f in entity_findings]
    if marked:
        errors = sum(1 for f in marked if f.severity == "error")
        yield Text(
            f"Lint: {len(marked)} finding(s) on {len(flagged)} item(s) marked ⚑ "
            f"({errors} error(s)); see `okra lint {board.name}`.",
            style="yellow",
        )


def _involves(objective: ObjectiveProgress, owner: str) -> bool:
    return objective.owner == owner or any(kr.owner == owner for kr in objective.key_results)


def key_result_progress(kr: KeyResultProgress) -> Iterator[Renderable]:
    """One key result's progress, pace and forecast."""
    yield Text(kr.title, style="bold")
    rows = [
        ("objective", kr.objective_title),
        ("owner", kr.owner),
        ("metric", kr.metric + (" (goalposts moved)" if kr.goalposts_moved else "")),
        (
            "now",
            f"{_value(kr)} ({kr.check_in_count} check-in{'' if kr.check_in_count == 1 else 's'}, "
            f"latest {day(kr.value_at)})",
        ),
        ("attainment", f"{pct(kr.attainment)} ({kr.attainment_reason})"),
        ("against original", pct(kr.original_attainment)),
        ("expected pace", pct(kr.expected_pace)),
        ("pace", kr.pace_status.value.replace("_", " ")),
        ("confidence", "-" if kr.confidence is None else str(kr.confidence)),
        (
            "forecast",
            f"{pct(kr.forecast.attainment)} at {day(kr.forecast.at)}: {kr.forecast.reason}",
        ),
    ]
    yield _pairs(rows)


def objective_progress(objective: ObjectiveProgress) -> Iterator[Renderable]:
    """An objective's progress, its key results and contributing objectives."""
    yield Text.assemble(
        (objective.title, "bold"),
        f"  {objective.owner}, {objective.kind.value}, {objective.status.value}, "
        f"{objective.cycle_name}: progress {pct(objective.progress)} "
        f"({objective.rollup.value} of {objective.measured}/{objective.total}), "
        f"expected {pct(objective.expected_pace)}, ",
        pace(objective.pace_status),
    )
    table = _table("id", "item", "owner", "progress", "", "pace", "weight")
    for kr in objective.key_results:
        _row(
            table,
            kr.key_result_id.hex[:8],
            kr.title,
            kr.owner,
            bar(kr.clamped),
            pct(kr.attainment),
            pace(kr.pace_status),
            f"{kr.weight:g}",
        )
    for c in (*objective.contributions, *objective.supporters):
        if c.link is None:
            continue
        via = f" via {c.via_key_result_title}" if c.via_key_result_title else ""
        _row(
            table,
            c.id.hex[:8],
            f"↳ {c.title} ({c.link.value}{via})",
            c.owner,
            bar(c.value),
            pct(c.value),
            "",
            f"{c.weight:g}" if c.counted else "not counted",
        )
    yield table


def _pairs(rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column(overflow="fold")
    for key, value in rows:
        _row(table, key, value)
    return table


def focus(result: FocusList) -> Iterator[Renderable]:
    """The focus list: what needs attention, most urgent first, with reasons."""
    whose = f" for {result.owner}" if result.owner else ""
    cycles = ", ".join(result.cycle_names) or "no active cycle"
    yield Text(f"Focus{whose} ({cycles}) as of {moment(result.at)}", style="bold")
    if not result.items:
        yield Text("Nothing needs attention.")
        return
    for item in result.items:
        yield Text.assemble(
            f"{item.rank:>2}. ",
            (item.kind.value.replace("_", " "), "bold"),
            f"  {item.title} ({item.owner})",
        )
        yield Text(f"    {item.reason}")


def tree(result: AlignmentTree) -> Iterator[Renderable]:
    """The alignment tree, roots first."""
    root = Tree(
        Text(
            f"{result.cycle_name or 'all cycles'}: {result.objectives} objectives, "
            f"{result.links} links",
            style="bold",
        )
    )

    def add(parent: Tree, node: AlignmentNode) -> None:
        via = f" via {node.via_key_result_title!r}" if node.via_key_result_title else ""
        link = f" [{node.link.value} x{node.weight:g}{via}]" if node.link is not None else ""
        elsewhere = "" if node.in_cycle else f" (in {node.cycle_name})"
        branch = parent.add(
            Text.assemble(
                f"{pct(node.progress):>4} {node.title}",
                (f" ({node.owner}, {node.status.value}){elsewhere}{link}", "dim"),
            )
        )
        for child in node.children:
            add(branch, child)

    for node in result.roots:
        add(root, node)
    yield root


def entities(items: Sequence[AnyEntity], empty: str) -> Iterator[Renderable]:
    """A list of entities with their short ids."""
    if not items:
        yield Text(empty)
        return
    table = _table("id", "kind", "title", "owner", "status")
    for entity in items:
        data = to_data(entity)
        _row(
            table,
            entity.id.hex[:8],
            entity.entity_kind.value.replace("_", " "),
            entity.label,
            str(data.get("owner", "")),
            str(data.get("status", "")),
        )
    yield table


def scorecard(card: Scorecard) -> Iterator[Renderable]:
    """The cycle's scorecard: objective scores with bands and readings."""
    state = "provisional (not closed yet)" if card.provisional else "final"
    yield Text.assemble(
        (f"{card.cycle_name}: score {score(card.score)}", "bold"),
        f", {state}; committed met {card.committed_met} of {card.committed_total}; "
        f"{card.bands.green} green, {card.bands.yellow} yellow, {card.bands.red} red",
    )
    table = _table("id", "objective / key result", "owner", "score", "band", "reading / note")
    for objective in card.objectives:
        _row(
            table,
            objective.objective_id.hex[:8],
            Text(objective.title, style="bold"),
            objective.owner,
            score(objective.score),
            Text(objective.band.value, style=_BAND_STYLE[objective.band.value]),
            f"{objective.reading.value.replace('_', ' ')} ({objective.kind.value})",
        )
        for kr in objective.key_results:
            note = kr.rationale if kr.overridden else f"suggested {score(kr.suggested)}"
            if kr.goalposts_moved:
                note += f"; {score(kr.original_suggested)} against the original target"
            _row(
                table,
                kr.key_result_id.hex[:8],
                "  " + kr.title,
                kr.owner,
                score(kr.score),
                "",
                note,
            )
    yield table
    for unscored in card.not_scored:
        yield Text(f"not scored: {unscored.title} ({unscored.status.value})")
    for abandoned in card.abandoned:
        yield Text(f"abandoned: {abandoned.title}: {abandoned.reason}")


def review(result: BusinessReview) -> Iterator[Renderable]:
    """The business review: per owner, scores, misses, learnings, carry-overs."""
    state = "provisional" if result.provisional else "final"
    yield Text(
        f"{result.cycle_name} review ({state}): score {score(result.score)}, committed met "
        f"{result.committed_met} of {result.committed_total}",
        style="bold",
    )
    for owner in result.owners:
        yield Text(
            f"\n{owner.owner}: score {score(owner.score)}, committed met "
            f"{owner.committed_met} of {owner.committed_total}",
            style="bold",
        )
        for objective in owner.objectives:
            yield Text(f"  {score(objective.score)}  {objective.title}")
        for miss in owner.misses:
            short = ", ".join(f"{k.title} {score(k.score)}" for k in miss.short_key_results)
            yield Text(f"  missed: {miss.title} ({score(miss.score)}): {short}")
        for learning in owner.learnings:
            yield Text(
                f"  learned ({learning.outcome.value}): {learning.title}: {learning.learning}"
            )
        for carry in owner.carry_overs:
            yield Text(
                f"  continued ({carry.mode.value}): {carry.from_title} → {carry.to_cycle_name}"
            )


def bets(ledger: BetsLedger) -> Iterator[Renderable]:
    """The bets ledger: investment, expected vs observed effect, outcome."""
    yield Text(
        f"Bets{' of ' + ledger.owner if ledger.owner else ''}"
        f"{' in ' + ledger.cycle_name if ledger.cycle_name else ''}: "
        f"hit rate {pct(ledger.hit_rate)}",
        style="bold",
    )
    table = _table(
        "id", "bet", "owner", "status", "invested", "effect (expected → observed)", "learning"
    )
    for entry in ledger.entries:
        effects = "; ".join(
            f"{e.key_result_title}: {_signed(e.expected_change)} → {_signed(e.observed_change)}"
            for e in entry.effects
        )
        investment = f"{entry.investment.effort:g} {entry.investment.effort_unit}"
        status = entry.outcome.value if entry.outcome is not None else entry.status.value
        _row(
            table,
            entry.action_id.hex[:8],
            entry.title,
            entry.owner,
            status,
            investment,
            effects,
            entry.learning,
        )
    yield table if ledger.entries else Text("No bets.")
    for rate in ledger.owners:
        yield Text(
            f"{rate.owner}: {rate.validated} validated of {rate.bets - rate.open} "
            f"settled, hit rate {pct(rate.hit_rate)}"
        )


def _signed(value: float | None) -> str:
    return "?" if value is None else f"{value:+g}"


def calibration(result: Calibration) -> Iterator[Renderable]:
    """Brier scores per owner: how well stated confidence predicted the outcome."""
    table = _table("owner", "forecasts", "key results", "Brier", "mean confidence", "hit frequency")
    rows = [*result.owners, *([result.overall] if result.overall else [])]
    for row in rows:
        _row(
            table,
            row.owner,
            str(row.forecasts),
            str(row.key_results),
            f"{row.brier:.3f}",
            pct(row.mean_probability),
            pct(row.hit_frequency),
        )
    yield table if rows else Text("No graded key result with a stated confidence yet.")


def log(entries: Sequence[LogEntry]) -> Iterator[Renderable]:
    """Log entries: when, who, what and why."""
    if not entries:
        yield Text("No events.")
        return
    table = _table("#", "recorded", "actor", "entity", "what", "why")
    for entry in entries:
        _row(
            table,
            "-" if entry.position is None else str(entry.position),
            moment(entry.recorded_at),
            entry.actor,
            f"{entry.entity_kind.replace('_', ' ')} {entry.entity_label}",
            entry.summary,
            entry.why,
        )
    yield table


def explanation(result: Explanation) -> Iterator[Renderable]:
    """How a figure was computed: the formula, its terms and the events behind them."""
    yield Text(f"{result.figure} of {result.entity_label} = {pct(result.value)}", style="bold")
    yield Text(result.formula)
    table = _table("term", "value", "weight", "note")
    for term in result.terms:
        _row(
            table,
            term.name + ("" if term.counted else " (not counted)"),
            "-" if term.value is None else f"{term.value:.4g}",
            "" if term.weight is None else f"{term.weight:g}",
            term.note,
        )
    yield table
    yield from log(result.events)


def diff(result: Diff) -> Iterator[Renderable]:
    """What changed in one entity between two instants."""
    yield Text(
        f"{result.entity_kind.replace('_', ' ')} {result.entity_label}: "
        f"{moment(result.start)} → {moment(result.end)}",
        style="bold",
    )
    if not result.existed_at_start:
        yield Text("It did not exist at the start.")
    table = _table("field", "before", "after")
    for change in result.changes:
        _row(table, change.field, _short(change.before), _short(change.after))
    yield table if result.changes else Text("No change.")
    yield from log(result.events)


def _short(value: Any, limit: int = 80) -> str:
    """A field's value on one line: text as it is, other data as compact JSON."""
    if value is None:
        text = "-"
    elif isinstance(value, str):
        text = " ".join(value.split())
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def state(entity: AnyEntity) -> Iterator[Renderable]:
    """An entity's fields as a two-column table (check-ins listed under it)."""
    data = to_data(entity)
    check_ins = data.pop("check_ins", None)
    yield Text(f"{entity.entity_kind.value.replace('_', ' ')} {entity.label}", style="bold")
    yield _pairs((key, _short(value, 120)) for key, value in data.items() if key != "kind")
    if check_ins:
        table = _table("check-in", "effective", "value", "confidence", "by", "narrative")
        for c in check_ins:
            conf = c.get("confidence")
            _row(
                table,
                str(c["id"])[:8],
                str(c["effective_at"])[:16].replace("T", " "),
                f"{c['value']:g}",
                "-" if conf is None else str(conf["given"]),
                str(c.get("actor", "")),
                str(c.get("narrative", "")),
            )
        yield table
