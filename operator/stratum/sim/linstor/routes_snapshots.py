"""Snapshots: create, list, delete, restore into a new definition, rollback."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import engine, readywait
from . import props as P
from .definitions import create_vd
from .http import body_dict, mutating, paginate, query_list, reading
from .model import (
    ResourceDefinition,
    Snapshot,
    SnapshotOnNode,
    SnapshotVolume,
    SnapshotVolumeDefinition,
    State,
)
from .names import check_snapshot_name, key
from .routes_definitions import rd_or_404
from .routes_resources import resolve_diskful_pool, resolve_diskless_pool
from .serialize import snapshot_json

ZFS_PROVIDERS = {"ZFS", "ZFS_THIN"}


def snap_or_404(rd_name: str, rd_snaps: dict[str, Snapshot], name: str, code: int) -> Snapshot:
    snap = rd_snaps.get(key(name))
    if snap is None:
        raise rc.fail(
            code,
            f"Snapshot '{name}' of resource '{rd_name}' not found.",
            obj_refs={"RscDfn": rd_name, "Snapshot": name},
        )
    return snap


def take_snapshot(
    state: State, rd_name: str, name: object, nodes: list[str], snap_props: Any
) -> list[rc.Entry]:
    rd = rd_or_404(state, rd_name)
    snap_name = check_snapshot_name(name)
    if key(snap_name) in rd.snapshots:
        raise rc.fail(
            rc.FAIL_EXISTS_SNAPSHOT_DFN,
            f"A snapshot definition with the name '{snap_name}' already exists in resource definition "
            f"'{rd.name}'.",
            obj_refs={"RscDfn": rd.name, "Snapshot": snap_name},
        )
    diskful_online = [r for r in rd.diskful() if r.node.online]
    if not diskful_online:
        raise rc.fail(
            rc.FAIL_NOT_CONNECTED,
            "No diskful connected satellite for snapshot or no resources.",
            obj_refs={"RscDfn": rd.name},
        )
    entries: list[rc.Entry] = []
    if nodes:
        targets = []
        for node_name in nodes:
            res = rd.resources.get(key(node_name))
            if res is None:
                raise rc.fail(
                    rc.FAIL_NOT_FOUND_RSC,
                    f"Resource '{rd.name}' on '{node_name}' not found.",
                    obj_refs={"RscDfn": rd.name, "Node": node_name},
                )
            if res.diskless:
                raise rc.fail(
                    rc.FAIL_SNAPSHOTS_NOT_SUPPORTED,
                    f"Cannot create snapshot from diskless resource on node '{res.node.name}'",
                    obj_refs={"RscDfn": rd.name, "Node": res.node.name},
                )
            targets.append(res)
    else:
        targets = []
        # CtrlSnapshotCrtHelper `warnNodeEvacuating` / `warnNodeOffline`: a bare warning (code 0).
        for res in rd.diskful():
            why = "evacuating" if "EVACUATE" in res.node.flags else None if res.node.online else "offline"
            if why is not None:
                entries.append(
                    rc.Entry(
                        rc.MASK_WARN,
                        f"Snapshot for resource '{rd.name}' will not be created on node '{res.node.name}' "
                        f"because that node is currently {why}.",
                    )
                )
                continue
            targets.append(res)
        if not targets:
            raise rc.fail(rc.FAIL_NOT_FOUND_RSC, "No resources found for snapshotting")
    for res in targets:
        for vol in res.volumes.values():
            if not vol.pool.supports_snapshots:
                raise rc.fail(
                    rc.FAIL_SNAPSHOTS_NOT_SUPPORTED,
                    f"Storage driver '{vol.pool.provider}' does not support snapshots.",
                    details=f"Used storage pool: '{vol.pool.name}' on node '{res.node.name}'",
                    obj_refs={"RscDfn": rd.name, "Node": res.node.name},
                )
        if P.is_true(engine.prop_chain(state, rd, "DrbdOptions/SkipDisk")):
            raise rc.fail(979, f"Resource '{rd.name}' on '{res.node.name}' has DrbdOptions/SkipDisk set.")
    rd.snapshot_seq += 1
    snap = Snapshot(
        name=snap_name,
        rd_name=rd.name,
        sequence=rd.snapshot_seq,
        nodes={
            res.node.key: SnapshotOnNode(
                res.node.name,
                [
                    SnapshotVolume(v.number, v.pool.name, v.pool.provider)
                    for _, v in sorted(res.volumes.items())
                ],
                resource_props=dict(res.props),
            )
            for res in targets
        },
        vds=[
            SnapshotVolumeDefinition(vd.number, vd.size_kib, dict(vd.props), list(vd.flags))
            for _, vd in sorted(rd.vds.items())
        ],
        rd_props=dict(rd.props),
        props=P.validate_map(snap_props, whitelist=False),
    )
    rd.snapshots[key(snap_name)] = snap
    refs = {"RscDfn": rd.name, "Snapshot": snap_name}
    entries.insert(
        0,
        rc.ok(
            rc.CREATED,
            f"New snapshot '{snap_name}' of resource '{rd.name}' registered.",
            details=f"Snapshot '{snap_name}' of resource '{rd.name}' UUID is: {snap.uuid}",
            obj_refs=refs,
        ),
    )
    for res in targets:
        entries.append(
            rc.ok(
                rc.CREATED,
                f"Took snapshot of '{rd.name}' on '{res.node.name}'",
                obj_refs={**refs, "Node": res.node.name},
            )
        )
    return entries


@mutating(rc.MASK_CRT | rc.MASK_SNAPSHOT, 201)
def create_snapshot(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    nodes = [str(n) for n in data.get("nodes") or []]
    return take_snapshot(
        state, request.match_info["rd"], data.get("name"), nodes, data.get("snapshot_definition_props")
    )


@mutating(rc.MASK_CRT | rc.MASK_SNAPSHOT, 201)
def create_multi(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    items = data.get("snapshots") or []
    # Validate everything first: all or nothing.
    for raw in items:
        item = body_dict(raw, "snapshot")
        rd = rd_or_404(state, str(item.get("resource_name") or ""))
        name = check_snapshot_name(item.get("name"))
        if key(name) in rd.snapshots:
            raise rc.fail(rc.FAIL_EXISTS_SNAPSHOT_DFN, f"Snapshot '{name}' of '{rd.name}' already exists.")
    entries: list[rc.Entry] = []
    for item in items:
        nodes = [str(n) for n in item.get("nodes") or []]
        entries += take_snapshot(state, str(item["resource_name"]), item.get("name"), nodes, None)
    return entries


@reading(rc.MASK_SNAPSHOT)
def list_snapshots(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    snaps = sorted(rd.snapshots.values(), key=lambda s: s.sequence)
    return [snapshot_json(s) for s in paginate(request, snaps)]


@reading(rc.MASK_SNAPSHOT)
def get_snapshot(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    return snapshot_json(
        snap_or_404(rd.name, rd.snapshots, request.match_info["snap"], rc.FAIL_NOT_FOUND_SNAPSHOT)
    )


@reading(rc.MASK_SNAPSHOT)
def view_snapshots(request: web.Request, state: State) -> Any:
    nodes = {key(n) for n in query_list(request, "nodes")}
    names = {key(n) for n in query_list(request, "resources")}
    rows: list[Snapshot] = []
    for rd in sorted(state.rds.values(), key=lambda d: d.name.upper()):
        if names and rd.key not in names:
            continue
        for snap in sorted(rd.snapshots.values(), key=lambda s: s.sequence):
            if nodes and not (nodes & set(snap.nodes)):
                continue
            rows.append(snap)
    return [snapshot_json(s) for s in paginate(request, rows)]


@mutating(rc.MASK_MOD | rc.MASK_SNAPSHOT, 200)
def modify_snapshot(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    snap = snap_or_404(rd.name, rd.snapshots, request.match_info["snap"], rc.FAIL_NOT_FOUND_SNAPSHOT)
    P.apply_modify(snap.props, body_dict(body), whitelist=False)
    return [rc.ok(rc.MODIFIED, f"Snapshot '{snap.name}' of resource '{rd.name}' modified.")]


@mutating(rc.MASK_DEL | rc.MASK_SNAPSHOT, 200)
def delete_snapshot(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd_name = request.match_info["rd"]
    snap_name = request.match_info["snap"]
    rd = state.rd(rd_name)
    snap = rd.snapshots.get(key(snap_name)) if rd else None
    refs = {"RscDfn": rd_name, "Snapshot": snap_name}
    if rd is None or snap is None:
        return [
            rc.warn(
                rc.WARN_NOT_FOUND, f"Snapshot '{snap_name}' of resource '{rd_name}' not found.", obj_refs=refs
            )
        ]
    nodes = query_list(request, "nodes")
    entries: list[rc.Entry] = []
    if nodes:
        for node_name in nodes:
            if key(node_name) in snap.nodes:
                del snap.nodes[key(node_name)]
                entries.append(
                    rc.ok(
                        rc.DELETED,
                        f"Snapshot '{snap.name}' of '{rd.name}' on '{node_name}' deleted.",
                        obj_refs=refs,
                    )
                )
            else:
                entries.append(
                    rc.warn(
                        rc.WARN_NOT_FOUND,
                        f"Snapshot '{snap.name}' of '{rd.name}' does not exist on node '{node_name}'.",
                        obj_refs=refs,
                    )
                )
        if snap.nodes:
            return entries
    del rd.snapshots[key(snap.name)]
    entries.append(
        rc.ok(
            rc.DELETED,
            f"Snapshot '{snap.name}' of resource '{rd.name}' deleted.",
            details=f"Snapshot '{snap.name}' of resource '{rd.name}' UUID was: {snap.uuid}",
            obj_refs={"RscDfn": rd.name, "Snapshot": snap.name},
        )
    )
    return entries


# Restore ----------------------------------------------------------------------------------------


@mutating(rc.MASK_CRT | rc.MASK_SNAPSHOT, 200, parse_status=400)
def restore_vds(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    src = rd_or_404(state, request.match_info["rd"])
    snap = snap_or_404(src.name, src.snapshots, request.match_info["snap"], rc.FAIL_NOT_FOUND_SNAPSHOT_DFN)
    data = body_dict(body)
    target = rd_or_404(state, str(data.get("to_resource") or ""))
    for svd in snap.vds:
        if svd.number in target.vds:
            raise rc.fail(
                rc.FAIL_EXISTS_VLM_DFN,
                f"Volume definition {svd.number} already exists in resource definition '{target.name}'.",
            )
    entries: list[rc.Entry] = []
    for svd in snap.vds:
        _, vd_entries = create_vd(state, target, svd.number, svd.size_kib, props=svd.props, flags=svd.flags)
        entries += vd_entries
    return entries


@mutating(rc.MASK_CRT | rc.MASK_RSC, 200)
def restore_resources(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    src = rd_or_404(state, request.match_info["rd"])
    snap = snap_or_404(src.name, src.snapshots, request.match_info["snap"], rc.FAIL_NOT_FOUND_SNAPSHOT_DFN)
    data = body_dict(body)
    target = rd_or_404(state, str(data.get("to_resource") or ""))
    if target.resources:
        raise rc.fail(
            rc.FAIL_EXISTS_RSC,
            f"Resource definition '{target.name}' already has resources; cannot restore into it.",
        )
    if not target.vds:
        return [rc.warn(rc.WARN_NOT_FOUND, "No volumes to restore.", obj_refs={"RscDfn": target.name})]
    if "SUCCESSFUL" not in snap.flags:
        raise rc.fail(rc.FAIL_IN_USE, f"Snapshot '{snap.name}' is not successful (yet).")
    for svd in snap.vds:
        vd = target.vds.get(svd.number)
        if vd is not None and vd.size_kib != svd.size_kib:
            raise rc.fail(
                rc.FAIL_INVLD_VLM_SIZE,
                f"Volume definition {svd.number} of '{target.name}' has size {vd.size_kib} KiB but the "
                f"snapshot has {svd.size_kib} KiB.",
            )
    rename = {key(str(k)): str(v) for k, v in (data.get("stor_pool_rename") or {}).items()}
    wanted = [str(n) for n in data.get("nodes") or []] or [s.node_name for s in snap.nodes.values()]
    plans = []
    for node_name in wanted:
        on_node = snap.nodes.get(key(node_name))
        if on_node is None:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_SNAPSHOT,
                f"Snapshot '{snap.name}' of '{src.name}' does not exist on node '{node_name}'.",
            )
        node = state.node(node_name)
        if node is None:
            raise rc.fail(rc.FAIL_NOT_FOUND_NODE, f"Node '{node_name}' not found.")
        pool_name = on_node.volumes[0].pool_name if on_node.volumes else None
        if pool_name is not None:
            pool_name = rename.get(key(pool_name), pool_name)
        pool = node.pool(pool_name) if pool_name else None
        if pool is None:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_STOR_POOL, f"Storage pool '{pool_name}' not found on '{node.name}'."
            )
        plans.append((node, pool))
    engine.check_peer_slots(target, len(plans))
    # CtrlSnapshotRestoreApiCallHandler: CtrlPropsHelper.copy(snapshot's RD props -> target RD) with
    # override: the source's saved values replace the target's own.
    target.props.update(snap.rd_props)
    entries: list[rc.Entry] = []
    restored = []
    for node, pool in plans:
        res = engine.create_resource(
            state, target, node, pool, diskless=False, diskful_by="user", restored=True
        )
        restored.append(res)
        entries += engine.resource_entries(res)
    entries += engine.after_change(state, target)
    entries += readywait.ready_entries(state, target, restored)
    return entries


# Rollback ---------------------------------------------------------------------------------------


@mutating(rc.MASK_MOD | rc.MASK_SNAPSHOT, 200)
def rollback(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    snap = snap_or_404(rd.name, rd.snapshots, request.match_info["snap"], rc.FAIL_NOT_FOUND_SNAPSHOT_DFN)
    data = body_dict(body)
    refs = {"RscDfn": rd.name, "Snapshot": snap.name}
    if "SUCCESSFUL" not in snap.flags:
        raise rc.fail(rc.FAIL_IN_USE, f"Snapshot '{snap.name}' is not successful.", obj_refs=refs)
    # CtrlSnapshotRollbackApiCallHandler `ensureAllSatellitesConnected`: every node of the definition.
    for res in sorted(rd.resources.values(), key=lambda r: r.node.name):
        if not res.node.online:
            raise rc.fail(
                rc.FAIL_NOT_CONNECTED,
                f"No active connection to satellite '{res.node.name}'",
                details="Snapshot rollback cannot be performed when the corresponding satellites are not "
                "connected.",
                obj_refs={**refs, "Node": res.node.name},
            )
    # `ensureNoResourcesInUse`: the satellites' in_use (state.in_use on the REST view).
    for res in sorted(rd.resources.values(), key=lambda r: r.node.name):
        if res.in_use:
            raise rc.fail(
                rc.FAIL_IN_USE,
                f"Resource '{rd.name}' on node '{res.node.name}' is still in use.",
                cause="Resource is mounted/in use.",
                correction=f"Un-mount resource '{rd.name}' on the node '{res.node.name}'.",
                obj_refs={**refs, "Node": res.node.name},
            )
    latest = max(s.sequence for s in rd.snapshots.values())
    is_zfs = any(v.provider in ZFS_PROVIDERS for s in snap.nodes.values() for v in s.volumes)
    strategy = str(
        data.get("zfs_rollback_strategy")
        or engine.prop_chain(state, rd, "SnapshotRollbackStrategy")
        or ("dynamic" if state.rollback_via_restore else "rollback")
    ).lower()
    latest_only = not state.rollback_via_restore or (is_zfs and strategy == "rollback")
    if latest_only and snap.sequence != latest:
        raise rc.fail(
            rc.FAIL_EXISTS_SNAPSHOT_DFN,
            "Rollback is only allowed with the most recent snapshot",
            details=f"Snapshot '{snap.name}' is not the most recent snapshot of '{rd.name}'.",
            correction="Delete the newer snapshots first.",
            obj_refs=refs,
        )
    entries: list[rc.Entry] = []
    if state.rollback_via_restore and not (is_zfs and strategy == "rollback"):
        entries += _rollback_via_restore(state, rd, snap)
    entries.append(
        rc.ok(
            rc.MODIFIED,
            f"Resource '{rd.name}' rolled back to snapshot '{snap.name}'.",
            obj_refs=refs,
        )
    )
    return entries


def _rollback_via_restore(state: State, rd: ResourceDefinition, snap: Snapshot) -> list[rc.Entry]:
    """v1.31+ "rollback via restore" (CtrlSnapshotRollbackApiCallHandler): all resources are
    deleted, the volume definitions reset to the snapshot's, the snapshot restored on the nodes that
    hold it (UpToDate with the snapshot's data), then `recreateResources` makes the resource available
    again on every node that had one, diskful or diskless as before (a diskful one without the
    snapshot joins the restored data and resyncs)."""
    before = {r.node.key: (r.node, not r.diskless) for r in rd.resources.values() if not r.tiebreaker}
    for res in list(rd.resources.values()):
        engine.remove_resource(state, res)
    entries = _reset_definitions(state, rd, snap)
    for node_key, on_node in snap.nodes.items():
        node = state.nodes.get(node_key)
        pool = node.pool(on_node.volumes[0].pool_name) if node and on_node.volumes else None
        if node is None or pool is None:
            continue
        engine.create_resource(state, rd, node, pool, diskless=False, diskful_by="user", restored=True)
    for node_key, (node, diskful) in sorted(before.items()):
        if node_key in rd.resources:
            continue
        pool = (
            resolve_diskful_pool(state, rd, node, None)
            if diskful
            else resolve_diskless_pool(state, rd, node, None)
        )
        engine.create_resource(state, rd, node, pool, diskless=not diskful, diskful_by="make-available")
    return entries + engine.after_change(state, rd)


def _reset_definitions(state: State, rd: ResourceDefinition, snap: Snapshot) -> list[rc.Entry]:
    """VDs get the snapshot's sizes/props and extra VDs go away."""
    wanted = {svd.number: svd for svd in snap.vds}
    for nr in [nr for nr in rd.vds if nr not in wanted]:
        engine.remove_volume_everywhere(rd, nr)
        state.minors.free(rd.vds[nr].minor)
        del rd.vds[nr]
    for nr, svd in wanted.items():
        vd = rd.vds.get(nr)
        if vd is None:
            create_vd(state, rd, nr, svd.size_kib, props=svd.props, flags=svd.flags)
            continue
        vd.props = dict(svd.props)
        if vd.size_kib != svd.size_kib:
            vd.size_kib = svd.size_kib
            engine.resize_volumes(rd, vd)
    return []


def setup(app: web.Application) -> None:
    r = app.router
    base = "/v1/resource-definitions/{rd}"
    r.add_get(base + "/snapshots", list_snapshots)
    r.add_post(base + "/snapshots", create_snapshot)
    r.add_get(base + "/snapshots/{snap}", get_snapshot)
    r.add_put(base + "/snapshots/{snap}", modify_snapshot)
    r.add_delete(base + "/snapshots/{snap}", delete_snapshot)
    r.add_post(base + "/snapshot-restore-volume-definition/{snap}", restore_vds)
    r.add_post(base + "/snapshot-restore-resource/{snap}", restore_resources)
    r.add_post(base + "/snapshot-rollback/{snap}", rollback)
    r.add_post("/v1/actions/snapshot/multi", create_multi)
    r.add_get("/v1/view/snapshots", view_snapshots)
