"""The autoplacer: which storage pools get the new replicas of a resource definition.

Filters (per node, then per pool), scores (MaxFreeSpace 1.0 + MinRscCount 0.00001, normalised),
then selects at most one pool per node honouring replicas-on-same/different and provider mixing,
all or nothing. Pure: it decides, the caller creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import apicallrc as rc
from .model import DEFAULT_LAYER_STACK, DFLT_DISKLESS_POOL, Node, ResourceDefinition, State, StoragePool
from .names import key
from .props import is_false, is_true

W_FREE_SPACE = 1.0
W_RSC_COUNT = 0.00001
MIN_THIN_FREE_FRACTION = 0.10


@dataclass
class Candidate:
    node: Node
    pool: StoragePool
    score: float = 0.0


def _split_kv(entries: Iterable[str]) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for entry in entries:
        if "=" in entry:
            k, v = entry.split("=", 1)
            out.append((k, v))
        else:
            out.append((entry, None))
    return out


def compile_regex(pattern: str | None) -> re.Pattern[str] | None:
    if not pattern:
        return None
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"Invalid regular expression '{pattern}': {exc}") from exc


class NodeFilter:
    """The node-level rules shared by diskful placement and tiebreaker selection."""

    def __init__(self, state: State, rd: ResourceDefinition, flt: Mapping[str, Any]) -> None:
        self.state = state
        self.rd = rd
        self.node_list = {key(n) for n in flt.get("node_name_list") or []}
        self.avoid = {rd.key} | {key(n) for n in flt.get("not_place_with_rsc") or []}
        self.regex = compile_regex(flt.get("not_place_with_rsc_regex"))
        self.layers = list(flt.get("layer_stack") or rd.layer_stack or DEFAULT_LAYER_STACK)
        self.same = _split_kv(flt.get("replicas_on_same") or [])
        existing = rd.diskful()
        # replicas_on_same with a bare key: existing replicas pin the value.
        self.same_fixed: dict[str, str] = {}
        for k, v in self.same:
            if v is not None:
                self.same_fixed[k] = v
                continue
            values = {r.node.props[k] for r in existing if k in r.node.props}
            if len(values) > 1:
                raise rc.fail(
                    rc.FAIL_UNDECIDABLE_AUTOPLACMENT,
                    f"Cannot decide on a value for replicas-on-same key '{k}'",
                    details=f"Existing replicas have the values {sorted(values)}",
                )
            if values:
                self.same_fixed[k] = values.pop()
        self.same_open = [k for k, v in self.same if v is None and k not in self.same_fixed]
        ctrl_target = state.ctrl_props.get("AutoplaceTarget")
        self.ctrl_excluded = is_false(ctrl_target)

    def node_ok(self, node: Node, allow_own_tiebreaker: bool) -> bool:
        if not node.placeable or node.type not in ("SATELLITE", "COMBINED"):
            return False
        if self.node_list and node.key not in self.node_list:
            return False
        target = node.props.get("AutoplaceTarget")
        if is_false(target) or (self.ctrl_excluded and not is_true(target)):
            return False
        if any(layer not in node.layers for layer in self.layers):
            return False
        own = node.resources.get(self.rd.key)
        if own is not None and not own.deleting and not (allow_own_tiebreaker and own.tiebreaker):
            return False
        for rk in self.avoid:
            if rk == self.rd.key:
                continue
            other = node.resources.get(rk)
            if other is not None and not other.deleting:
                return False
        if self.regex is not None:
            for res in node.resources.values():
                if not res.deleting and res.rd is not self.rd and self.regex.search(res.rd.name):
                    return False
        for k, v in self.same_fixed.items():
            if node.props.get(k) != v:
                return False
        return all(k in node.props for k in self.same_open)


def _pool_ok(
    state: State,
    *,
    pool: StoragePool,
    pool_names: set[str] | None,
    providers: set[str] | None,
    size_kib: int,
) -> bool:
    if pool.diskless:
        return False
    if pool_names is not None and key(pool.name) not in pool_names:
        return False
    if providers is not None and pool.provider not in providers:
        return False
    if is_false(pool.props.get("AutoplaceTarget")):
        return False
    estimate = pool.estimated_free_kib(_ratio(state))
    if estimate < size_kib:
        return False
    return not (pool.thin and state.thin_min_free and estimate < pool.total_kib * MIN_THIN_FREE_FRACTION)


def _ratio(state: State) -> float:
    raw = state.ctrl_props.get("MaxOversubscriptionRatio")
    try:
        return float(raw) if raw else 20.0
    except ValueError:
        return 20.0


def not_enough_nodes(
    rd: ResourceDefinition, flt: Mapping[str, Any], wanted: int, size_kib: int
) -> rc.ApiError:
    criteria = ["node is online"]
    if flt.get("storage_pool_list"):
        criteria.append(f"has a deployed storage pool named {flt['storage_pool_list']}")
    criteria.append(f"at least '{size_kib}' KiB free space")
    if flt.get("provider_list"):
        criteria.append(f"storage pool provider in {flt['provider_list']}")
    if flt.get("replicas_on_same"):
        criteria.append(f"replicas on same {flt['replicas_on_same']}")
    if flt.get("replicas_on_different"):
        criteria.append(f"replicas on different {flt['replicas_on_different']}")
    if flt.get("not_place_with_rsc") or flt.get("not_place_with_rsc_regex"):
        criteria.append("does not host the resources to avoid")
    dump = ", ".join(f"{k}: {v}" for k, v in sorted(flt.items()))
    return rc.fail(
        rc.FAIL_NOT_ENOUGH_NODES,
        "Not enough available nodes",
        details=(
            f"Not enough nodes fulfilling the following auto-place criteria for resource '{rd.name}' "
            f"({wanted} needed):\n * "
            + "\n * ".join(criteria)
            + f"\nAuto-place configuration details:\n {dump}"
        ),
    )


def select_diskful(
    state: State, rd: ResourceDefinition, flt: Mapping[str, Any], count: int
) -> list[Candidate]:
    """Choose `count` (node, pool) pairs for new diskful replicas, or raise FAIL_NOT_ENOUGH_NODES."""
    size_kib = sum(vd.size_kib for vd in rd.vds.values())
    nf = NodeFilter(state, rd, flt)
    pool_names = {key(p) for p in flt["storage_pool_list"]} if flt.get("storage_pool_list") else None
    providers = set(flt["provider_list"]) if flt.get("provider_list") else None
    candidates: list[Candidate] = []
    for node in state.nodes.values():
        if not nf.node_ok(node, allow_own_tiebreaker=True):
            continue
        for pool in node.pools.values():
            if _pool_ok(state, pool=pool, pool_names=pool_names, providers=providers, size_kib=size_kib):
                candidates.append(Candidate(node, pool))
    if len({c.node.key for c in candidates}) < count:
        raise not_enough_nodes(rd, flt, count, size_kib)

    # Scores, each strategy normalised by its maximum.
    max_free = max((c.pool.reported_free_kib for c in candidates), default=0) or 1
    max_rsc = max((len(c.node.resources) for c in candidates), default=0) or 1
    for c in candidates:
        c.score = W_FREE_SPACE * (c.pool.reported_free_kib / max_free) + W_RSC_COUNT * (
            1.0 - len(c.node.resources) / max_rsc
        )
    candidates.sort(key=lambda c: (-c.score, c.node.name, c.pool.name))

    existing = rd.diskful()
    mixing = is_true(state.ctrl_props.get("AllowMixingStoragePoolDriver")) or is_true(
        rd.props.get("AllowMixingStoragePoolDriver")
    )
    existing_kinds = {r.pool.provider for r in existing}

    groups: dict[tuple[Any, ...], list[Candidate]] = {}
    for c in candidates:
        if not mixing and existing_kinds and c.pool.provider not in existing_kinds:
            continue
        kind = None if mixing else c.pool.provider
        same_values = tuple(c.node.props.get(k) for k in nf.same_open)
        groups.setdefault((kind, same_values), []).append(c)

    diff = _split_kv(flt.get("replicas_on_different") or [])
    xmap: dict[str, int] = dict(flt.get("x_replicas_on_different_map") or {})
    base_counts: dict[tuple[str, str], int] = {}
    for k, v in diff:
        limit = xmap.get(k, 1)
        if v is not None:
            base_counts[(k, v)] = limit
        for r in existing:
            if k in r.node.props:
                base_counts[(k, r.node.props[k])] = base_counts.get((k, r.node.props[k]), 0) + 1

    best: list[Candidate] | None = None
    best_score = float("-inf")
    for _, group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        chosen = _greedy(group, count, diff, xmap, base_counts)
        if chosen is None:
            continue
        total = sum(c.score for c in chosen)
        if total > best_score:
            best, best_score = chosen, total
    if best is None:
        raise not_enough_nodes(rd, flt, count, size_kib)
    return best


def _greedy(
    group: list[Candidate],
    count: int,
    diff: list[tuple[str, str | None]],
    xmap: Mapping[str, int],
    base_counts: Mapping[tuple[str, str], int],
) -> list[Candidate] | None:
    chosen: list[Candidate] = []
    used_nodes: set[str] = set()
    counts = dict(base_counts)
    for c in group:
        if len(chosen) == count:
            break
        if c.node.key in used_nodes:
            continue
        ok = True
        for k, _ in diff:
            v = c.node.props.get(k)
            if v is not None and counts.get((k, v), 0) >= xmap.get(k, 1):
                ok = False
                break
        if not ok:
            continue
        chosen.append(c)
        used_nodes.add(c.node.key)
        for k, _ in diff:
            v = c.node.props.get(k)
            if v is not None:
                counts[(k, v)] = counts.get((k, v), 0) + 1
    return chosen if len(chosen) == count else None


def diskless_pool_for(node: Node, flt: Mapping[str, Any]) -> StoragePool | None:
    wanted = flt.get("storage_pool_diskless_list")
    if wanted:
        for name in wanted:
            pool = node.pool(name)
            if pool is not None and pool.diskless:
                return pool
        return None
    pool = node.pool(DFLT_DISKLESS_POOL)
    if pool is not None and pool.diskless:
        return pool
    return next((p for p in node.pools.values() if p.diskless), None)


def select_diskless_remaining(
    state: State, rd: ResourceDefinition, flt: Mapping[str, Any], exclude: set[str]
) -> list[Candidate]:
    """diskless_on_remaining: every other online satellite with a diskless pool."""
    out: list[Candidate] = []
    for node in sorted(state.nodes.values(), key=lambda n: n.name):
        if node.key in exclude or not node.placeable or node.type not in ("SATELLITE", "COMBINED"):
            continue
        own = node.resources.get(rd.key)
        if own is not None and not own.deleting:
            continue
        pool = diskless_pool_for(node, flt)
        if pool is not None:
            out.append(Candidate(node, pool))
    return out


def select_tiebreaker(state: State, rd: ResourceDefinition) -> Candidate | None:
    """A node with a diskless pool that satisfies the group's filter (fewest resources wins)."""
    flt = rd.rg.select_filter
    try:
        nf = NodeFilter(state, rd, flt)
    except rc.ApiError:
        return None
    best: Candidate | None = None
    for node in state.nodes.values():
        if "DRBD" not in node.layers or not nf.node_ok(node, allow_own_tiebreaker=False):
            continue
        pool = diskless_pool_for(node, flt)
        if pool is None:
            continue
        if best is None or (len(node.resources), node.name) < (len(best.node.resources), best.node.name):
            best = Candidate(node, pool)
    return best
