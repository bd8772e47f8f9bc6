"""One BalanceResources pass (LINSTOR >= 1.26), run on demand by `POST /_sim/balance`.

linstor-server: controller/.../autoplacer/BalanceResources.java and AutoUnplacer.java
(tasks/BalanceResourcesTask.java runs it every `BalanceResourcesInterval`, default 3600 s).
Per resource definition, skipped when: any resource is younger than the controller's
`BalanceResourcesGracePeriod` (default 3600 s), no DRBD, flagged DELETE, `BalanceResourcesEnabled`
false (RD > RG > controller), no UpToDate diskful resource, or a volume is not Established/Off
towards some peer (e.g. a resync), or more resources than `BalanceResourcesSkipDiskLimit` (default
1) have `DrbdOptions/SkipDisk`. Then the diskful resources not being deleted (without SkipDisk)
are compared with the group's place count (default 2): fewer -> autoplace with the group's filter;
more -> the AutoUnplacer removes one resource at a time until the count is met. It never removes
a diskless resource, one inside the grace period, one in use or one whose satellite has no state
(offline). It scores the others by how much they violate the group's filter (node list, pools,
providers, replicas-on-same/different values, do-not-place-with) plus one each for "not all
volumes UpToDate" and "not ready"; the highest score goes, ties broken by the storage pool
rating (least free space goes first), then by node name. It knows nothing of who asked for which
replica.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import drbdstate, engine
from .http import STATE_KEY
from .model import Resource, ResourceDefinition, State, now_ms
from .props import is_false, is_true
from .routes_resources import delete_replica

DEFAULT_GRACE_SECONDS = 3600
DEFAULT_SKIP_DISK_LIMIT = 1
GOOD_REPLICATION = {"Established", "Off"}


def _grace_seconds(state: State) -> int:
    try:
        return int(state.ctrl_props.get("BalanceResourcesGracePeriod", DEFAULT_GRACE_SECONDS))
    except ValueError:
        return DEFAULT_GRACE_SECONDS


def _in_grace(state: State, res: Resource) -> bool:
    return res.create_ts > now_ms() - _grace_seconds(state) * 1000


def _enabled(state: State, rd: ResourceDefinition) -> bool:
    for props in (rd.props, rd.rg.props, state.ctrl_props):
        if "BalanceResourcesEnabled" in props:
            return not is_false(props["BalanceResourcesEnabled"])
    return True


def _replication_good(state: State, rd: ResourceDefinition) -> bool:
    for res in rd.resources.values():
        for vol in res.volumes.values():
            vstate = drbdstate.volume_state_json(state, res, vol) or {}
            states = {r["replication_state"] for r in (vstate.get("replication_states") or {}).values()}
            if states - GOOD_REPLICATION or drbdstate.sync_fraction(state, vol) is not None:
                return False
    return True


def _skip_disk(res: Resource) -> bool:
    return is_true(res.props.get("DrbdOptions/SkipDisk"))


def _skip_disk_limit(state: State, rd: ResourceDefinition) -> int:
    for props in (rd.props, rd.rg.props, state.ctrl_props):
        if "BalanceResourcesSkipDiskLimit" in props:
            try:
                return int(props["BalanceResourcesSkipDiskLimit"])
            except ValueError:
                break
    return DEFAULT_SKIP_DISK_LIMIT


def _ignored(state: State, rd: ResourceDefinition) -> bool:
    if any(_in_grace(state, r) for r in rd.resources.values()):
        return True
    if not drbdstate.has_drbd(rd) or "DELETE" in rd.flags or not _enabled(state, rd):
        return True
    if not any(drbdstate.up_to_date(state, r) for r in rd.diskful()):
        return True
    if not _replication_good(state, rd):
        return True
    return sum(1 for r in rd.resources.values() if _skip_disk(r)) > _skip_disk_limit(state, rd)


def _fixed(state: State, res: Resource) -> bool:
    return res.diskless or _in_grace(state, res) or not res.node.online or res.in_use


def _values(entries: list[str] | None) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for entry in entries or []:
        name, _, value = entry.partition("=")
        out.append((name, value if _ else None))
    return out


def _solo_violations(state: State, res: Resource, flt: dict[str, Any]) -> int:
    node = res.node
    score = 0
    node_list = {n.upper() for n in flt.get("node_name_list") or []}
    if node_list and node.key not in node_list:
        score += 1
    pools = {p.upper() for p in flt.get("storage_pool_list") or []}
    if pools and res.pool.name.upper() not in pools:
        score += 1
    providers = {p.upper() for p in flt.get("provider_list") or []}
    if providers and res.pool.provider not in providers:
        score += 1
    for name, value in _values(flt.get("replicas_on_same")):
        if value is not None and node.props.get(name) != value:
            score += 1
    for name, value in _values(flt.get("replicas_on_different")):
        if value is not None and node.props.get(name) == value:
            score += 1
    others = {k for k in node.resources if k != res.rd.key}
    avoid = {n.upper() for n in flt.get("not_place_with_rsc") or []}
    score += len(others & avoid)
    regex = flt.get("not_place_with_rsc_regex")
    if regex:
        pattern = re.compile(str(regex), re.IGNORECASE)
        score += sum(
            1 for other in node.resources.values() if other.rd is not res.rd and pattern.search(other.rd.name)
        )
    if not drbdstate.up_to_date(state, res):
        score += 1
    if not drbdstate.is_ready(state, res):
        score += 1
    return score


def _pair_violations(a: Resource, b: Resource, flt: dict[str, Any]) -> int:
    return sum(
        1
        for name, value in _values(flt.get("replicas_on_same"))
        if value is None and a.node.props.get(name) != b.node.props.get(name)
    )


def unplace(state: State, rd: ResourceDefinition, fixed: set[str]) -> Resource | None:
    """AutoUnplacer.unplace: the one resource to remove next, or None."""
    flt = rd.rg.select_filter
    candidates = sorted(
        (r for r in rd.diskful() if r.node.key not in fixed),
        key=lambda r: r.node.name.upper(),
    )
    if not candidates:
        return None
    scores = {r.node.key: _solo_violations(state, r, flt) for r in candidates}
    for i, first in enumerate(candidates):
        for second in candidates[i + 1 :]:
            pair = _pair_violations(first, second, flt)
            scores[first.node.key] += pair
            scores[second.node.key] += pair
    top = max(scores.values())
    highest = [r for r in candidates if scores[r.node.key] == top]
    # The storage pool rating (MaxFreeSpace by default): the least free space is removed first.
    return min(highest, key=lambda r: r.pool.estimated_free_kib())


def balance_pass(state: State) -> dict[str, Any]:
    adjusted: list[str] = []
    removed: list[dict[str, str]] = []
    for rd in sorted(list(state.rds.values()), key=lambda d: d.name.upper()):
        if _ignored(state, rd):
            continue
        wanted = int(rd.rg.select_filter.get("place_count") or 2)
        diskful = [r for r in rd.diskful() if not _skip_disk(r)]
        if len(diskful) < wanted:
            try:
                engine.autoplace(state, rd, dict(rd.rg.select_filter))
            except rc.ApiError:
                continue
            adjusted.append(rd.name)
            continue
        count = len(diskful)
        fixed = {r.node.key for r in rd.resources.values() if _fixed(state, r)}
        victim = unplace(state, rd, fixed) if count > wanted else None
        while victim is not None and count > wanted:
            try:
                delete_replica(state, victim, keep_tiebreaker=False)
            except rc.ApiError:
                break
            removed.append({"resource": rd.name, "node": victim.node.name})
            count -= 1
            fixed.add(victim.node.key)
            victim = unplace(state, rd, fixed)
    return {"adjusted": adjusted, "removed": removed}


async def post_balance(request: web.Request) -> web.Response:
    return web.json_response(balance_pass(request.app[STATE_KEY]))


def setup(app: web.Application) -> None:
    app.router.add_post("/_sim/balance", post_balance)
