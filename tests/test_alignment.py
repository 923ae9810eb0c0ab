"""Alignment: the tree from the top objectives down, and orphans."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from okra_core import Change, Cycle, ManualClock, Objective, Okra
from okra_core.codec._data import to_data
from okra_core.read._alignment import AlignmentNode

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


@pytest.fixture
def app() -> Iterator[Okra]:
    with Okra("memory://", clock=ManualClock(START)) as okra:
        yield okra


def tick(okra: Okra) -> None:
    assert isinstance(okra.clock, ManualClock)
    okra.clock.advance(timedelta(seconds=1))


def draft(okra: Okra, title: str, cycle: Cycle, owner: str = "ana") -> Objective:
    tick(okra)
    return okra.draft_objective(title, cycle=cycle, owner=owner, actor=owner)


def outline(nodes: tuple[AlignmentNode, ...], depth: int = 0) -> list[str]:
    """The tree as indented lines: title, link and weight."""
    lines: list[str] = []
    for n in nodes:
        how = f" [{n.link} {n.weight:g}]" if n.link else ""
        via = f" via {n.via_key_result_title}" if n.via_key_result_title else ""
        mark = "" if n.in_cycle else " (other cycle)"
        lines.append("  " * depth + n.title + how + via + mark)
        lines += outline(n.children, depth + 1)
    return lines


@pytest.fixture
def cycles(app: Okra) -> tuple[Cycle, Cycle, Cycle]:
    year = app.plan_cycle("2026", start=date(2026, 1, 1), end=date(2026, 12, 31), actor="ana")
    q1 = app.plan_cycle(
        "2026-Q1", start=date(2026, 1, 1), end=date(2026, 3, 31), parent=year, actor="ana"
    )
    q2 = app.plan_cycle(
        "2026-Q2", start=date(2026, 4, 1), end=date(2026, 6, 30), parent=year, actor="ana"
    )
    return year, q1, q2


def test_tree_of_everything(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    year, q1, q2 = cycles
    company = draft(app, "Company", year)
    tick(app)
    revenue = app.add_key_result(
        company, "Revenue", metric=Change(baseline=0, target=10), actor="ana"
    )
    sales = draft(app, "Sales", q1, "sam")
    support = draft(app, "Support", q1, "bo")
    bot = draft(app, "Bot", q1, "bo")
    later = draft(app, "Later", q2)
    lonely = draft(app, "Lonely", q1)
    app.align(sales, parent=revenue, weight=2, actor="sam")
    app.align(support, parent=company, link="supports", actor="bo")
    app.align(bot, parent=support, weight=0.5, actor="bo")
    app.align(later, parent=company, actor="ana")
    tree = app.alignment_tree()
    assert (tree.cycle_id, tree.cycle_name, tree.at) == (None, None, START + timedelta(seconds=7))
    # Children linked to the objective itself come first, then those via each key result.
    assert outline(tree.roots) == [
        "Company",
        "  Support [supports 1]",
        "    Bot [contributes 0.5]",
        "  Later [contributes 1]",
        "  Sales [contributes 2] via Revenue",
        "Lonely",
    ]
    assert (tree.objectives, tree.links) == (6, 4)
    sales_node = tree.roots[0].children[2]
    assert (sales_node.objective_id, sales_node.owner, sales_node.cycle_name) == (
        sales.id,
        "sam",
        "2026-Q1",
    )
    assert sales_node.via_key_result_id == revenue.id
    assert tree.roots[0].link is None
    assert tree.roots[0].weight is None
    assert tree.roots[1].objective_id == lonely.id


def test_tree_of_a_cycle_shows_the_parents_above_it(
    app: Okra, cycles: tuple[Cycle, Cycle, Cycle]
) -> None:
    year, q1, q2 = cycles
    company = draft(app, "Company", year)
    sales = draft(app, "Sales", q1)
    deals = draft(app, "Deals", q1)
    later = draft(app, "Later", q2)
    after_deals = draft(app, "After deals", q2)
    app.align(sales, parent=company, actor="ana")
    app.align(deals, parent=sales, actor="ana")
    app.align(later, parent=company, actor="ana")
    app.align(after_deals, parent=deals, actor="ana")
    tree = app.alignment_tree(cycle=q1)
    assert (tree.cycle_id, tree.cycle_name) == (q1.id, "2026-Q1")
    # The year's objective is shown for context; Q2's objectives are not.
    assert outline(tree.roots) == [
        "Company (other cycle)",
        "  Sales [contributes 1]",
        "    Deals [contributes 1]",
    ]
    assert (tree.objectives, tree.links) == (3, 2)
    assert outline(app.alignment_tree(cycle=q2).roots) == [
        "Company (other cycle)",
        "  Sales [contributes 1] (other cycle)",
        "    Deals [contributes 1] (other cycle)",
        "      After deals [contributes 1]",
        "  Later [contributes 1]",
    ]
    assert outline(app.alignment_tree(cycle=year).roots) == ["Company"]


def test_an_objective_with_two_parents_appears_under_both(
    app: Okra, cycles: tuple[Cycle, Cycle, Cycle]
) -> None:
    _, q1, _ = cycles
    left = draft(app, "Left", q1)
    right = draft(app, "Right", q1)
    shared = draft(app, "Shared", q1)
    app.align(shared, parent=left, weight=0.3, actor="ana")
    app.align(shared, parent=right, link="supports", actor="ana")
    tree = app.alignment_tree(cycle=q1)
    assert outline(tree.roots) == [
        "Left",
        "  Shared [contributes 0.3]",
        "Right",
        "  Shared [supports 1]",
    ]
    assert (tree.objectives, tree.links) == (3, 2)


def test_abandoned_objectives_are_not_shown(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    _, q1, _ = cycles
    parent = draft(app, "Parent", q1)
    child = draft(app, "Child", q1)
    other = draft(app, "Other", q1)
    app.align(child, parent=parent, actor="ana")
    app.align(other, parent=child, actor="ana")
    app.abandon_objective(child, reason="dropped", actor="ana")
    # The link to the abandoned one counts as absent: Other becomes a root.
    assert outline(app.alignment_tree(cycle=q1).roots) == ["Parent", "Other"]
    assert [o.id for o in app.orphans(cycle=q1)] == [parent.id, other.id]


def test_tree_nodes_carry_progress(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    _, q1, _ = cycles
    app.start_cycle(q1, actor="ana")
    parent = draft(app, "Parent", q1)
    child = draft(app, "Child", q1)
    tick(app)
    kr = app.add_key_result(parent, "KR", metric=Change(baseline=0, target=10), actor="ana")
    tick(app)
    child_kr = app.add_key_result(child, "KR", metric=Change(baseline=0, target=10), actor="ana")
    app.activate_objective(parent, actor="ana")
    app.activate_objective(child, actor="ana")
    app.align(child, parent=parent, actor="ana")
    app.check_in(kr, value=2, actor="ana")
    app.check_in(child_kr, value=6, actor="ana")
    (root,) = app.alignment_tree(cycle=q1).roots
    assert root.progress == pytest.approx(0.4)  # (0.2 + 0.6) / 2
    assert root.children[0].progress == pytest.approx(0.6)
    assert (root.status, root.kind) == ("active", "committed")


def test_empty_tree(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    _, q1, _ = cycles
    tree = app.alignment_tree(cycle=q1)
    assert (tree.roots, tree.objectives, tree.links) == ((), 0, 0)
    assert app.orphans(cycle=q1) == []


def test_orphans(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    year, q1, _ = cycles
    company = draft(app, "Company", year)
    tick(app)
    kr = app.add_key_result(company, "KR", metric=Change(baseline=0, target=1), actor="ana")
    linked = draft(app, "Linked to a KR", q1)
    lonely = draft(app, "Lonely", q1)
    gone = draft(app, "Gone", q1)
    app.align(linked, parent=kr, link="supports", actor="ana")
    app.abandon_objective(gone, reason="dropped", actor="ana")
    # The company objective has a child (through its KR): a root, not an orphan.
    assert [o.id for o in app.orphans()] == [lonely.id]
    assert [o.id for o in app.orphans(cycle=q1)] == [lonely.id]
    assert app.orphans(cycle=year) == []
    app.unalign(linked, parent=kr, actor="ana")
    assert [o.title for o in app.orphans()] == ["Company", "Linked to a KR", "Lonely"]


def test_as_of_before_a_link(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    _, q1, _ = cycles
    parent = draft(app, "Parent", q1)
    child = draft(app, "Child", q1)
    before = START + timedelta(seconds=2)
    tick(app)
    app.align(child, parent=parent, actor="ana")
    assert outline(app.alignment_tree(cycle=q1).roots) == ["Parent", "  Child [contributes 1]"]
    assert outline(app.alignment_tree(cycle=q1, as_of=before).roots) == ["Parent", "Child"]
    assert [o.title for o in app.orphans(as_of=before)] == ["Parent", "Child"]
    assert app.orphans() == []


def test_tree_is_json_data(app: Okra, cycles: tuple[Cycle, Cycle, Cycle]) -> None:
    year, q1, _ = cycles
    company = draft(app, "Company", year)
    tick(app)
    kr = app.add_key_result(company, "KR", metric=Change(baseline=0, target=1), actor="ana")
    team = draft(app, "Team", q1)
    app.align(team, parent=kr, weight=2, actor="ana")
    data = to_data(app.alignment_tree(cycle=q1))
    assert json.loads(json.dumps(data)) == data
    (root,) = data["roots"]
    assert (root["title"], root["in_cycle"], root["link"]) == ("Company", False, None)
    (child,) = root["children"]
    assert (child["link"], child["weight"], child["via_key_result_id"]) == (
        "contributes",
        2.0,
        str(kr.id),
    )
    assert json.dumps(to_data(app.orphans()))
