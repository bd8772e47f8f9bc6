"""Backups to S3 remotes: create (snapshot + shipment), list, abort (delete: `backupdelete`).

linstor-server: controller/.../backup/CtrlBackupCreateApiCallHandler.java (create, incremental base),
CtrlBackupApiCallHandler.java (list, delete, abort), satellite/.../BackupShippingS3Service.java
(what lands in the bucket: the data objects, then the `.meta` object once all volumes are up).
Shipment state lives in the snapshot's properties under `BackupShipping/Source/<remote>/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import json
from typing import Any

from . import apicallrc as rc
from . import backuprc as B
from . import volumedata
from .backupmeta import ShippedVolume, ShipPlan, inventory, metadata, read_meta
from .backupnames import DATE_FORMAT, META_SUFFIX, MetaName, VolumeName, backup_id_at
from .model import ResourceDefinition, Snapshot, State, now_ms
from .names import key
from .remotes import S3Remote, Shipment
from .routes_definitions import rd_or_404
from .routes_snapshots import take_snapshot
from .s3 import S3Error

CTX_SNAPSHOT = rc.MASK_CRT | rc.MASK_SNAPSHOT


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def fmt_ms(ms: int) -> str:
    return _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).strftime(DATE_FORMAT)


def s3_remote_or_fail(state: State, name: str | None) -> S3Remote:
    """CtrlBackupApiHelper.getRemote / getS3Remote."""
    if not name:
        raise rc.fail(
            B.FAIL_INVLD_REMOTE_NAME | B.MASK_BACKUP,
            "No remote name was given. Please provide a valid remote name.",
        )
    remote = state.backup.remote(name)
    if remote is None:
        raise rc.fail(
            B.FAIL_NOT_FOUND_REMOTE | B.MASK_BACKUP,
            f"The remote {name} does not exist. Please provide a valid remote or create a new one.",
        )
    return remote


def registered_remote(state: State, name: str) -> S3Remote:
    """CtrlApiDataLoader.loadRemote(name, failIfNull=true)."""
    remote = state.backup.remote(name)
    if remote is None:
        raise rc.fail(
            B.FAIL_NOT_FOUND_REMOTE,
            f"Remote '{name}' not registered.",
            cause=f"The specified remote '{name}' could not be found in the database",
            correction=f"Create a remote with the name '{name}' first.",
        )
    return remote


def s3_failure(exc: S3Error) -> rc.ApiError:
    return rc.fail(
        rc.FAIL_UNKNOWN_ERROR | B.MASK_BACKUP,
        f"The S3 remote could not be accessed: {exc}",
        error_report_ids=[rc.error_report_id()],
    )


def shipping_status(snap: Snapshot, remote: str) -> str | None:
    return snap.props.get(f"{B.source_namespc(remote)}/{B.KEY_SHIPPING_STATUS}")


def snapshot_seeds(state: State, rd: ResourceDefinition) -> dict[int, str]:
    seeds = state.backup.volume_seeds
    return {nr: seeds.get((rd.uuid, nr), volumedata.initial_seed(rd.uuid, nr)) for nr in rd.vds}


# Create -----------------------------------------------------------------------------------------


async def _incremental_base(
    state: State, rd: ResourceDefinition, remote: S3Remote, allow: bool
) -> Snapshot | None:
    """CtrlBackupCreateApiCallHandler.getIncrementalBase: the last snapshot started to this remote, if
    it still exists, its backup is still in the bucket (when finished) and no volume was resized."""
    if not allow:
        return None
    ns = B.source_namespc(remote.name)
    prev_name = rd.props.get(f"{ns}/{B.KEY_LAST_STARTED_OR_QUEUED}")
    prev = rd.snapshots.get(key(prev_name)) if prev_name else None
    if prev is None or "DELETE" in prev.flags:
        return None
    if shipping_status(prev, remote.name) == B.SUCCESS:
        try:
            objects = await inventory(remote.client(), await remote.client().list_keys())
        except S3Error as exc:
            raise s3_failure(exc) from exc
        if not any(o.meta and o.meta.get("snapDfnUuid") == prev.uuid for o in objects.values()):
            return None
    for svd in prev.vds:
        vd = rd.vds.get(svd.number)
        if vd is None or vd.size_kib != svd.size_kib:
            return None
    return prev


async def _incremental_base_for_existing(
    rd: ResourceDefinition, remote: S3Remote, snap: Snapshot, allow: bool
) -> Snapshot | None:
    """getIncrementalBaseForExistingSnap: the newest older snapshot, if the bucket has a backup of it."""
    if not allow:
        return None
    older = [s for s in rd.snapshots.values() if s.sequence < snap.sequence]
    if not older:
        return None
    prev = max(older, key=lambda s: s.sequence)
    try:
        keys = await remote.client().list_keys(rd.name)
    except S3Error as exc:
        raise s3_failure(exc) from exc
    metas = [m for m in map(MetaName.parse, keys) if m is not None and m.snap == prev.name]
    return prev if metas else None


def _meta_name_of(snap: Snapshot, remote: str) -> MetaName:
    ns = B.source_namespc(remote)
    start = int(snap.props[f"{ns}/{B.KEY_START_TIMESTAMP}"])
    when = _dt.datetime.fromtimestamp(start / 1000, _dt.UTC)
    return MetaName.at(snap.rd_name, when, snap.name, snap.props.get(f"{ns}/{B.KEY_S3_SUFFIX}", ""))


async def create_backup(state: State, remote_name: str, data: dict[str, Any]) -> list[rc.Entry]:
    bs = state.backup
    now = utc_now()
    rsc_name = str(data.get("rsc_name") or "")
    snap_name = str(data.get("snap_name") or "")
    incremental = bool(data.get("incremental"))
    entries: list[rc.Entry] = []
    if not snap_name:
        snap_name = backup_id_at(now)
        # (sic: no space after "resource", as upstream)
        entries.append(
            rc.Entry(
                rc.MASK_INFO,
                f"Generated snapshot name for backup of resource{rsc_name} to remote {remote_name}",
            )
        )
    rd = rd_or_404(state, rsc_name)
    existing = rd.snapshots.get(key(snap_name))
    if existing is not None and ({"DELETE", "FAILED_DEPLOYMENT", "FAILED_DISCONNECT"} & set(existing.flags)):
        raise rc.fail(
            B.FAIL_INVLD_REMOTE_NAME, "The given snapshot was not successful and can therefore not be shipped"
        )
    remote = s3_remote_or_fail(state, remote_name)
    if existing is not None:
        base = await _incremental_base_for_existing(rd, remote, existing, incremental)
        snap = existing
    else:
        base = await _incremental_base(state, rd, remote, incremental)
        snap_entries = take_snapshot(state, rd.name, snap_name, [], None)
        entries += [e.with_context(CTX_SNAPSHOT) for e in snap_entries]
        snap = rd.snapshots[key(snap_name)]
    on_node = _choose_node(state, snap, data.get("node_name"))
    ns = B.source_namespc(remote.name)
    suffix = state.ctrl_props.get(f"{B.NAMESPC}/{B.KEY_S3_SUFFIX}")
    snap.props[f"{ns}/{B.KEY_START_TIMESTAMP}"] = str(int(now.timestamp() * 1000))
    if suffix:
        snap.props[f"{ns}/{B.KEY_S3_SUFFIX}"] = suffix
    snap.props[f"{ns}/{B.KEY_TARGET_REMOTE}"] = remote.name
    snap.props[f"{ns}/{B.KEY_SHIPPING_STATUS}"] = B.SHIPPING
    base_full = base.props.get(f"{ns}/{B.KEY_LAST_FULL}") if base else None
    snap.props[f"{ns}/{B.KEY_LAST_FULL}"] = base_full or snap.name
    if existing is None:
        rd.props[f"{ns}/{B.KEY_LAST_STARTED_OR_QUEUED}"] = snap.name
    seeds = bs.snapshot_seeds.setdefault(snap.uuid, snapshot_seeds(state, rd))
    plan = ShipPlan(
        meta=_meta_name_of(snap, remote.name),
        rsc=rd.name,
        node=on_node,
        snap_uuid=snap.uuid,
        start_ms=int(now.timestamp() * 1000),
        volumes=_shipped_volumes(rd, snap, on_node, seeds),
        snap_props=dict(snap.props),
        rd_props=dict(snap.rd_props),
        based_on=_meta_name_of(base, remote.name) if base is not None else None,
    )
    # A shipment based on one still running waits for it (upstream queues it: "queueAnyways").
    previous = [s.task for s in bs.shipments_of(rd.name, "create", remote.name) if s.task is not None]
    shipment = Shipment("create", remote.name, rd.name, snap.name)
    bs.shipments[(rd.key, key(snap.name))] = shipment
    shipment.task = asyncio.get_running_loop().create_task(_ship(state, shipment, remote, plan, previous))
    entries.append(
        rc.Entry(
            rc.MASK_INFO,
            f"Shipping of resource {rd.name} to remote {remote.name} in progress.",
            obj_refs={"Snapshot": snap.name},
        )
    )
    return entries


def _shipped_volumes(
    rd: ResourceDefinition, snap: Snapshot, node_name: str, seeds: dict[int, str]
) -> list[ShippedVolume]:
    res = rd.resources.get(key(node_name))
    out = []
    for svd, vol in zip(snap.vds, snap.nodes[key(node_name)].volumes, strict=False):
        live = res.volumes.get(svd.number) if res else None
        allocated = live.allocated_kib if live else svd.size_kib
        out.append(
            ShippedVolume(
                svd.number,
                svd.size_kib,
                allocated,
                vol.pool_name,
                vol.provider,
                seeds.get(svd.number, ""),
                dict(svd.props),
            )
        )
    return out


def _choose_node(state: State, snap: Snapshot, wanted: object) -> str:
    """BackupNodeFinder, simplified: the requested node if it holds the snapshot, else the first online."""
    if wanted and key(str(wanted)) in snap.nodes:
        return snap.nodes[key(str(wanted))].node_name
    for on_node in snap.nodes.values():
        node = state.node(on_node.node_name)
        if node is not None and node.online:
            return on_node.node_name
    raise rc.fail(rc.FAIL_NOT_CONNECTED, f"No node holding snapshot '{snap.name}' is connected.")


async def _ship(
    state: State, shipment: Shipment, remote: S3Remote, plan: ShipPlan, previous: list[asyncio.Task[Any]]
) -> None:
    ns = B.source_namespc(remote.name)
    status_key = f"{ns}/{B.KEY_SHIPPING_STATUS}"
    rd = state.rd(plan.rsc)
    snap = rd.snapshots.get(key(shipment.snap_name)) if rd else None
    try:
        for task in previous:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(task)
        await asyncio.sleep(state.backup.ship_seconds)
        client = remote.client()
        finished: dict[int, int] = {}
        for vol in plan.volumes:
            based_on = plan.based_on.volume(vol.number).key if plan.based_on else None
            await client.put(plan.volume_key(vol.number), volumedata.encode(vol.seed, vol.size_kib, based_on))
            finished[vol.number] = now_ms()
        meta = metadata(plan, now_ms(), state.backup.cluster_id, finished)
        await client.put(plan.meta.key, json.dumps(meta).encode())
        if snap is not None:
            snap.props[status_key] = B.SUCCESS
        if rd is not None:
            rd.props[f"{ns}/{B.KEY_LAST_SNAPSHOT}"] = shipment.snap_name
    except S3Error:
        if snap is not None:
            snap.props[status_key] = B.FAILED
    except asyncio.CancelledError:
        # Aborted: the satellite aborts the upload, then the controller deletes the snapshot
        # (CtrlBackupShippingAbortHandler.abortBackupShippings).
        if rd is not None and snap is not None:
            rd.snapshots.pop(key(snap.name), None)
        raise
    finally:
        state.backup.shipments.pop((key(plan.rsc), key(shipment.snap_name)), None)


# List -------------------------------------------------------------------------------------------


def _backup_json(**fields: Any) -> dict[str, Any]:
    """JsonGenTypes.Backup is NON_EMPTY: None fields and empty lists are left out."""
    return {k: v for k, v in fields.items() if v is not None and v != []}


def _local_snapshot(state: State, rsc: str, snap: str) -> Snapshot | None:
    rd = state.rd(rsc)
    return rd.snapshots.get(key(snap)) if rd else None


async def list_backups(state: State, remote_name: str, rsc_filter: str, snap_filter: str) -> dict[str, Any]:
    remote = s3_remote_or_fail(state, remote_name)
    client = remote.client()
    try:
        keys = set(await client.list_keys(rsc_filter))
        linstor: dict[str, dict[str, Any]] = {}
        used: set[str] = set()
        for k in sorted(keys):
            info = MetaName.parse(k)
            if info is None or (snap_filter and snap_filter.lower() != info.snap.lower()):
                continue
            meta = await read_meta(client, k)
            if meta is None:
                continue
            entry, associated = _from_meta(k, info, meta, keys)
            linstor[entry["id"]] = entry
            used |= associated | {k}
    except S3Error as exc:
        raise s3_failure(exc) from exc
    rest = keys - used
    for k in sorted(rest):
        if k in used:
            continue
        vinfo = VolumeName.parse(k)
        if vinfo is None or (snap_filter and snap_filter.lower() != vinfo.snap.lower()):
            continue
        linstor[k] = _from_volume_key(state, vinfo, rest, used, remote.name)
        used.add(k)
    # Shipments not visible in the bucket yet.  (sic: upstream's filters are inverted here, it skips
    # the resource and snapshot that were asked for.)
    for shipment in list(state.backup.shipments.values()):
        if shipment.direction != "create" or key(shipment.remote) != key(remote.name):
            continue
        if rsc_filter and shipment.rd_name.lower() == rsc_filter.lower():
            continue
        if snap_filter and snap_filter.lower() == shipment.snap_name.lower():
            continue
        snap = _local_snapshot(state, shipment.rd_name, shipment.snap_name)
        if snap is None:
            continue
        meta_name = _meta_name_of(snap, remote.name)
        first = meta_name.volume(min(v.number for v in snap.vds) if snap.vds else 0)
        keys_ahead = {meta_name.volume(v.number).key for v in snap.vds}
        linstor[first.key] = _from_volume_key(state, first, keys_ahead, used, remote.name)
        used.add(first.key)
    # BackupList and BackupOther are NON_EMPTY: an empty map or list is left out, `other` is always there.
    files = sorted(keys - used)
    listing: dict[str, Any] = {"linstor": linstor} if linstor else {}
    listing["other"] = {"files": files} if files else {}
    return listing


def _from_meta(
    k: str, info: MetaName, meta: dict[str, Any], keys: set[str]
) -> tuple[dict[str, Any], set[str]]:
    """CtrlBackupApiCallHandler.getBackupFromMetadata."""
    restorable = True
    vlms = []
    associated: set[str] = set()
    for nr, items in sorted((meta.get("backups") or {}).items(), key=lambda kv: int(kv[0])):
        for item in items:
            name = str(item.get("name"))
            vinfo = VolumeName.parse(name)
            if name not in keys or vinfo is None or vinfo.vlm_nr != int(nr):
                restorable = False
                continue
            done = int(item.get("finishedTimestamp") or 0)
            vlms.append(
                {
                    "vlm_nr": int(nr),
                    "finished_time": fmt_ms(done),
                    "finished_timestamp": done,
                    "s3": {"key": name},
                }
            )
            associated.add(name)
    start = int(meta.get("startTimestamp") or 0)
    finish = int(meta.get("finishTimestamp") or 0)
    entry = _backup_json(
        id=k[: -len(META_SUFFIX)],
        start_time=fmt_ms(start),
        start_timestamp=start,
        finished_time=fmt_ms(finish),
        finished_timestamp=finish,
        origin_rsc=info.rsc,
        origin_snap=info.snap,
        origin_node=meta.get("nodeName"),
        vlms=vlms,
        success=True,
        shipping=False,
        restorable=restorable,
        s3={"meta_name": k},
        based_on_id=meta.get("basedOn") or None,
    )
    return entry, associated


def _from_volume_key(
    state: State, info: VolumeName, keys: set[str], used: set[str], remote: str
) -> dict[str, Any]:
    """CtrlBackupApiCallHandler.getBackupFromVolumeKey: a backup without (or before) its `.meta`."""
    vlms = {info.vlm_nr: {"vlm_nr": info.vlm_nr, "s3": {"key": info.key}}}
    for other in keys:
        if other in used or other == info.key:
            continue
        oinfo = VolumeName.parse(other)
        if oinfo is not None and oinfo.rsc == info.rsc and oinfo.backup_id == info.backup_id:
            vlms[oinfo.vlm_nr] = {"vlm_nr": oinfo.vlm_nr, "s3": {"key": oinfo.key}}
            used.add(other)
    snap = _local_snapshot(state, info.rsc, info.snap)
    shipping: bool | None = None
    success: bool | None = None
    node: str | None = None
    if snap is not None and any(k.startswith(B.NAMESPC + "/") for k in snap.props):
        status = shipping_status(snap, remote) or snap.props.get(
            f"{B.TARGET_NAMESPC}/{B.KEY_SHIPPING_STATUS}"
        )
        if status in (B.SHIPPING, B.SUCCESS):
            shipping, success = (True, None) if status == B.SHIPPING else (False, True)
            if shipping_status(snap, remote) in (B.SHIPPING, B.SUCCESS) and snap.nodes:
                node = next(iter(snap.nodes.values())).node_name
        else:
            shipping, success = False, False
    meta = info.meta
    return _backup_json(
        id=meta.full_id,
        start_time=meta.time.strftime(DATE_FORMAT),
        start_timestamp=int(meta.time.timestamp() * 1000),
        origin_rsc=info.rsc,
        origin_snap=info.snap,
        origin_node=node,
        vlms=[vlms[nr] for nr in sorted(vlms)],
        success=success,
        shipping=shipping,
        restorable=False,
    )


# Abort ------------------------------------------------------------------------------------------


def abort(state: State, remote_name: str, data: dict[str, Any]) -> list[rc.Entry]:
    """CtrlBackupApiCallHandler.backupAbort: cancel the shipments (create) and/or restores of a resource."""
    rd = rd_or_404(state, str(data.get("rsc_name") or ""))
    registered_remote(state, remote_name)
    restore = bool(data.get("restore"))
    create = bool(data.get("create"))
    if not restore and not create:
        restore = create = True
    wanted = data.get("snapshot")
    hits = []
    for shipment in list(state.backup.shipments.values()):
        if key(shipment.rd_name) != rd.key or key(shipment.remote) != key(remote_name):
            continue
        if wanted and shipment.snap_name != wanted:
            continue
        if (shipment.direction == "create" and create) or (shipment.direction == "restore" and restore):
            hits.append(shipment)
    if not hits:
        return []
    for shipment in hits:
        snap = rd.snapshots.get(key(shipment.snap_name))
        if snap is not None:
            ns = B.source_namespc(shipment.remote) if shipment.direction == "create" else B.TARGET_NAMESPC
            snap.props[f"{ns}/{B.KEY_SHIPPING_STATUS}"] = B.ABORTING
        if shipment.task is not None:
            shipment.task.cancel()
        state.backup.shipments.pop((rd.key, key(shipment.snap_name)), None)
    what = (
        "in-progress backup-shipments and restores"
        if create and restore
        else "in-progress backup-shipments"
        if create
        else "in-progress backup-restores"
    )
    return [rc.Entry(0, f"Successfully aborted all {what} of resource {rd.name}")]
