"""Where a resource's replicas go: pinned nodes, autoplace for the rest, and which replicas may
be taken away. Pure: spec + observed resources + health -> a plan.

Rules (DESIGN.md "Resource placement"):
- `diskfulNodes` count toward the group's placeCount: the pinned replicas are created on their
  nodes first, then autoplace tops up to placeCount (LINSTOR counts the diskful replicas that
  exist), so placeCount 2 with one pin gives the pin plus one more. More pins than placeCount
  give one replica per pin.
- Stratum marks each replica it places on a named node with PLACED_BY = the object's uid (a
  resource property, set right after the node-restricted autoplace or disk toggle that made it,
  which cannot carry properties), so it can later tell its own placements from replicas a person
  or autoplace made. A pass that dies in between leaves the replica unmarked: it is then merely
  not preferred when surplus is trimmed.
- Surplus diskful replicas (more than max(placeCount, pins), e.g. after a pin was added to a
  resource that already had placeCount replicas, or a node was dropped from `diskfulNodes`) are
  removed one per pass, Stratum's own unpinned placements first, then the rest by node name —
  the same trimming LINSTOR's BalanceResources would do, but never of a pinned replica, so the
  two never undo each other's work. Never below the target, never while any diskful replica is
  not UpToDate or unreachable (the last UpToDate copy is never the one that goes), never one in
  use.
- A diskless replica Stratum placed on a node no longer in `disklessNodes` (nor `diskfulNodes`)
  is removed unless in use; diskless replicas LINSTOR placed itself (tie-breakers,
  diskless-on-remaining) are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stratum.api.linstor import ResourceSpec
from stratum.clients.linstor.models import Resource
from stratum.reconcile.linstor.replica_health import ResourceHealth

PLACED_BY = "Aux/stratum.dev/placed-by"


@dataclass
class PlacementPlan:
    make_diskful: list[str] = field(default_factory=list)
    """Pinned nodes without a replica."""
    toggle_diskful: list[str] = field(default_factory=list)
    """Pinned nodes whose replica is diskless."""
    make_diskless: list[str] = field(default_factory=list)
    autoplace: bool = False
    remove: list[str] = field(default_factory=list)
    """Replicas to delete this pass (Stratum's unneeded placements, surplus)."""
    kept: list[str] = field(default_factory=list)
    """Why a replica that could go stays, one sentence each (for the message)."""

    @property
    def changes(self) -> bool:
        return bool(
            self.make_diskful or self.toggle_diskful or self.make_diskless or self.autoplace or self.remove
        )


def wanted_diskful(spec: ResourceSpec, place_count: int | None) -> int | None:
    if place_count is None:
        return None
    return max(place_count, len(spec.diskful_nodes))


def _fold(names: Sequence[str]) -> set[str]:
    return {n.casefold() for n in names}


def placed_by_us(rsc: Resource, uid: str) -> bool:
    return rsc.props.get(PLACED_BY) == uid


def plan_placement(
    spec: ResourceSpec,
    resources: Sequence[Resource],
    uid: str,
    place_count: int | None,
    health: ResourceHealth,
) -> PlacementPlan:
    plan = PlacementPlan()
    live = [r for r in resources if not r.deleting]
    by_node = {r.node_name.casefold(): r for r in live}
    for node in spec.diskful_nodes:
        found = by_node.get(node.casefold())
        if found is None:
            plan.make_diskful.append(node)
        elif found.diskless:
            plan.toggle_diskful.append(node)
    for node in spec.diskless_nodes:
        # Any replica on the node gives it access; a diskful one is not taken away.
        if node.casefold() not in by_node:
            plan.make_diskless.append(node)
    diskful = [r for r in live if not r.diskless]
    count = len(diskful) + len(plan.make_diskful) + len(plan.toggle_diskful)
    target = wanted_diskful(spec, place_count)
    # Autoplace tops up and never removes: after a restore onto fewer nodes, replicas removed
    # behind the operator's back, or the part of placeCount the pins do not cover.
    plan.autoplace = target is not None and count < target
    if plan.make_diskful or plan.toggle_diskful or plan.make_diskless or plan.autoplace:
        return plan  # removals wait until what is wanted exists
    pinned = _fold(spec.diskful_nodes)
    attached = _fold(spec.diskless_nodes) | pinned
    for rsc in live:
        if rsc.diskless and placed_by_us(rsc, uid) and rsc.node_name.casefold() not in attached:
            if rsc.in_use:
                plan.kept.append(f"diskless replica on {rsc.node_name} stays while in use")
            else:
                plan.remove.append(rsc.node_name)
    if target is None or len(diskful) <= target:
        return plan
    candidates = sorted(
        (r for r in diskful if r.node_name.casefold() not in pinned),
        key=lambda r: (not placed_by_us(r, uid), r.node_name),
    )
    if not candidates:
        return plan
    unsafe = [r.node for r in health.diskful if not (r.reachable and r.up_to_date)]
    if unsafe:
        plan.kept.append(
            f"{len(diskful)} diskful replicas for {target} wanted: surplus is removed once "
            f"{', '.join(unsafe)} {'is' if len(unsafe) == 1 else 'are'} UpToDate"
        )
        return plan
    idle = [r for r in candidates if not r.in_use]
    if not idle:
        plan.kept.append(f"{len(diskful)} diskful replicas for {target} wanted: the unpinned ones are in use")
        return plan
    plan.remove.append(idle[0].node_name)
    return plan
