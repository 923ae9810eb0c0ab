"""Alignment: objectives as a tree from the top down, and the objectives left alone.

An objective may be linked to parent objectives or to their key results
(``contributes`` with a weight, or ``supports``); links are many-to-many and
never loop (``Okra.align`` refuses a loop). This module reads those links from a
:class:`~okra_core.read._world.World` only.

Rules (documented in ``docs/progress.md`` and tested):

- Abandoned objectives are not shown, and a link to an abandoned objective (or to
  one of its key results) is treated as absent.
- The tree of all objectives: the roots are the objectives with no link to a
  shown parent; each node's children are the objectives linked to it or to one of
  its key results, in creation order (those linked to the objective itself first,
  then those linked to each key result in turn). An objective with several parents
  appears under each of them.
- The tree of one cycle shows the cycle's objectives and, for context, every
  objective above one of them through any chain of links, even in another cycle
  (a company objective in the year above a quarter). Those are flagged
  ``in_cycle=False``. Objectives of other cycles that sit only *below* the
  cycle's objectives are not shown.
- Orphans are objectives (not abandoned) linked to no shown parent and with no
  shown objective linked to them or to their key results, whatever its cycle.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from ..domain._cycle import Cycle
from ..domain._key_result import KeyResult
from ..domain._objective import Alignment, Objective
from ..domain._values import AlignmentLink, ObjectiveKind, ObjectiveStatus
from ._progress import _Progress
from ._world import World

__all__ = ["AlignmentNode", "AlignmentTree", "alignment_tree", "orphans"]


@attrs.frozen(kw_only=True)
class AlignmentNode:
    """One objective in the alignment tree, with the objectives aligned to it.

    Attributes:
        objective_id, title, owner, kind, status: the objective.
        cycle_id, cycle_name: its cycle.
        in_cycle: ``False`` when the tree is for one cycle and this objective,
            from another cycle, is shown only because one below it is in the cycle.
        progress: the objective's progress (see ``objective_progress``), or ``None``.
        link: how it is linked to the node above; ``None`` for a root.
        weight: the weight of that link; ``None`` for a root.
        via_key_result_id, via_key_result_title: the parent's key result the link
            goes to, when it goes to a key result rather than to the objective.
        children: the nodes aligned to this one.
    """

    objective_id: UUID
    title: str
    owner: str
    kind: ObjectiveKind
    status: ObjectiveStatus
    cycle_id: UUID
    cycle_name: str
    in_cycle: bool
    progress: float | None
    link: AlignmentLink | None
    weight: float | None
    via_key_result_id: UUID | None
    via_key_result_title: str | None
    children: tuple[AlignmentNode, ...]


@attrs.frozen(kw_only=True)
class AlignmentTree:
    """Objectives as a forest, from those aligned to nothing down through their links.

    Attributes:
        cycle_id, cycle_name: the cycle asked about, or ``None`` for every cycle.
        at: the instant described.
        roots: the top nodes, in creation order.
        objectives: how many distinct objectives the tree shows.
        links: how many links it shows (each edge once).
    """

    cycle_id: UUID | None
    cycle_name: str | None
    at: datetime
    roots: tuple[AlignmentNode, ...]
    objectives: int
    links: int


class _Links:
    """The links between shown (not abandoned) objectives of a world."""

    def __init__(self, world: World) -> None:
        self.world = world

    def shown(self, objective: Objective | None) -> bool:
        return objective is not None and objective.status is not ObjectiveStatus.ABANDONED

    def parent_of(self, alignment: Alignment) -> tuple[Objective, KeyResult | None] | None:
        """The shown objective a link points to (and the key result, if via one)."""
        target = self.world.get(alignment.parent_id)
        if isinstance(target, KeyResult):
            parent = self.world.get(target.objective_id)
            if isinstance(parent, Objective) and self.shown(parent):
                return parent, target
            return None
        if isinstance(target, Objective) and self.shown(target):
            return target, None
        return None

    def parents(self, objective: Objective) -> list[Objective]:
        return [found[0] for a in objective.alignments if (found := self.parent_of(a))]

    def children(self, objective: Objective) -> list[tuple[Objective, Alignment, KeyResult | None]]:
        found: list[tuple[Objective, Alignment, KeyResult | None]] = [
            (child, alignment, None)
            for child, alignment in self.world.children(objective.id)
            if self.shown(child)
        ]
        for key_result in self.world.key_results(objective.id):
            found += [
                (child, alignment, key_result)
                for child, alignment in self.world.children(key_result.id)
                if self.shown(child)
            ]
        return found


def _in_scope(world: World, links: _Links, cycle: Cycle | None) -> list[Objective]:
    return [o for o in world.objectives(cycle_id=cycle.id if cycle else None) if links.shown(o)]


def alignment_tree(world: World, cycle: Cycle | None) -> AlignmentTree:
    """The alignment tree of one cycle, or of every objective when ``cycle`` is None.

    See the module's rules: abandoned objectives are not shown; for a cycle, its
    objectives plus every objective above them (flagged ``in_cycle=False`` when in
    another cycle); roots are the shown objectives with no shown parent.
    """
    links = _Links(world)
    progress = _Progress(world)
    scope = _in_scope(world, links, cycle)
    in_cycle = {o.id for o in scope}
    # Everything shown: the scope and, for a cycle, every ancestor of it.
    shown: dict[UUID, Objective] = {}
    pending = list(scope)
    while pending:
        objective = pending.pop()
        if objective.id in shown:
            continue
        shown[objective.id] = objective
        pending += links.parents(objective)
    edges: set[tuple[UUID, UUID]] = set()

    def node(
        objective: Objective,
        alignment: Alignment | None,
        via: KeyResult | None,
        path: frozenset[UUID],
    ) -> AlignmentNode:
        here = path | {objective.id}
        kids: list[AlignmentNode] = []
        for child, link, key_result in links.children(objective):
            if child.id in shown and child.id not in here:  # never loops; guarded anyway
                edges.add((child.id, link.parent_id))
                kids.append(node(child, link, key_result, here))
        cycle_of = world.cycle_of(objective)
        return AlignmentNode(
            objective_id=objective.id,
            title=objective.title,
            owner=objective.owner,
            kind=objective.kind,
            status=objective.status,
            cycle_id=cycle_of.id,
            cycle_name=cycle_of.name,
            in_cycle=cycle is None or objective.id in in_cycle,
            progress=progress.objective(objective).progress,
            link=alignment.link if alignment else None,
            weight=alignment.weight if alignment else None,
            via_key_result_id=via.id if via else None,
            via_key_result_title=via.title if via else None,
            children=tuple(kids),
        )

    ordered = sorted(shown.values(), key=lambda o: (o.created_at, o.id))
    roots = tuple(
        node(o, None, None, frozenset())
        for o in ordered
        if not any(p.id in shown for p in links.parents(o))
    )
    return AlignmentTree(
        cycle_id=cycle.id if cycle else None,
        cycle_name=cycle.name if cycle else None,
        at=world.at,
        roots=roots,
        objectives=len(shown),
        links=len(edges),
    )


def orphans(world: World, cycle: Cycle | None) -> list[Objective]:
    """Objectives (of a cycle, or all) aligned to nothing, with nothing aligned to them.

    Abandoned objectives are never orphans, and links to or from abandoned
    objectives do not count. A company objective with objectives aligned to it
    is a root of the tree, not an orphan. In creation order.
    """
    links = _Links(world)
    return [
        o for o in _in_scope(world, links, cycle) if not links.parents(o) and not links.children(o)
    ]
