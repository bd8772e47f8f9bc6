"""Restoring a backup from an S3 remote into a resource definition (this cluster or another one).

linstor-server: controller/.../backup/CtrlBackupRestoreApiCallHandler.java (restoreBackupInTransaction,
the metadata chain back to the full backup, snapshots created to receive each link) and
rest/v1/Backups.java (validateBackupSelectionParams).  The download happens in the background
(`BackupShipping/Target/ShippingStatus` on the received snapshots); once all links are in, the last
snapshot is restored into a resource on `node_name`, unless `download_only` or the target
definition already has resources (then WARN_BACKUP_DL_ONLY, as upstream).
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import apicallrc as rc
from . import backuprc as B
from . import engine, volumedata
from .backupmeta import read_meta, volume_keys, volume_sizes
from .backupnames import META_SUFFIX, MetaName
from .backups import s3_failure, s3_remote_or_fail
from .definitions import create_rd, create_vd
from .model import (
    DFLT_RSC_GRP,
    ResourceDefinition,
    Snapshot,
    SnapshotOnNode,
    SnapshotVolume,
    SnapshotVolumeDefinition,
    State,
)
from .names import key
from .remotes import S3Remote, Shipment
from .s3 import S3Client, S3Error

Chain = list[tuple[MetaName, dict[str, Any]]]


def validate_selection(data: dict[str, Any]) -> None:
    if not (data.get("last_backup") or data.get("src_rsc_name") or data.get("src_snap_name")):
        raise rc.fail(
            rc.FAIL_INVLD_REQUEST,
            "One of backup ID, resource name or snapshot name is required, but none was given",
        )
    if data.get("download_only") and data.get("force_restore"):
        raise rc.fail(
            rc.FAIL_INVLD_REQUEST,
            "--download-only and --force-restore are mutually exclusive, use at most one of them.",
        )


def _invalid_backup(name: str, remote: str) -> rc.ApiError:
    return rc.fail(
        B.FAIL_INVLD_BACKUP_CONFIG | B.MASK_BACKUP,
        f"The target backup {name} is invalid since it does not exist in the given remote {remote}. "
        "Please provide a valid target backup, or provide only the source resource name to "
        "restore to the latest backup of that resource.",
    )


async def find_backup(client: S3Client, data: dict[str, Any]) -> tuple[MetaName | None, dict[str, int]]:
    """The metadata object asked for (`last_backup`) or the latest of `src_rsc_name` (and
    `src_snap_name`), with the listing it was found in (key -> size)."""
    last_backup = str(data.get("last_backup") or "")
    if last_backup:
        meta_key = last_backup if last_backup.endswith(META_SUFFIX) else last_backup + META_SUFFIX
        chosen = MetaName.parse(meta_key)
        if chosen is None:
            raise rc.fail(
                B.FAIL_INVLD_BACKUP_CONFIG | B.MASK_BACKUP,
                f"The target backup {last_backup} is invalid since it does not match the pattern of "
                "'<rscName>_back_YYYYMMDD_HHMMSS[optional-backup-s3-suffix][^snapshot-name][.meta] "
                "(e.g. my-rsc_back_20210824_072543)'. Please provide a valid target backup, or provide only "
                "the source resource name to restore to the latest backup of that resource.",
            )
        return chosen, await client.list_objects(chosen.rsc)
    objects = await client.list_objects(str(data.get("src_rsc_name") or ""))
    snap = str(data.get("src_snap_name") or "")
    # CtrlBackupApiHelper.getLatestBackup (sic: any resource whose name starts with src_rsc_name)
    candidates = [m for m in map(MetaName.parse, objects) if m is not None and (not snap or m.snap == snap)]
    return (max(candidates, key=lambda m: m.time) if candidates else None), objects


async def metadata_chain(client: S3Client, top: MetaName) -> Chain:
    """The metadata objects from the chosen backup back to its full backup (newest first)."""
    chain: Chain = []
    current: MetaName | None = top
    while current is not None:
        meta = await read_meta(client, current.key)
        if meta is None:
            raise rc.fail(rc.FAIL_UNKNOWN_ERROR | B.MASK_BACKUP, f"Failed to parse meta file {current.key}")
        chain.append((current, meta))
        based_on = meta.get("basedOn")
        current = MetaName.parse(str(based_on)) if based_on else None
    return chain


def pools(meta: dict[str, Any]) -> dict[int, tuple[str, str]]:
    vlms = (meta.get("layerData") or {}).get("vlms") or []
    return {int(v["vlmNr"]): (str(v["storPoolName"]), str(v.get("providerKind", ""))) for v in vlms}


async def restore_backup(state: State, remote_name: str, data: dict[str, Any]) -> list[rc.Entry]:
    validate_selection(data)
    node_name = str(data.get("node_name") or "")
    node = state.node(node_name)
    if node is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_NODE, f"Node '{node_name}' not found.", obj_refs={"Node": node_name})
    if not node.online:
        raise rc.fail(
            rc.FAIL_NOT_CONNECTED,
            f"No active connection to satellite '{node.name}'.",
            details="Backups cannot be restored when the corresponding satellite is not connected.",
        )
    remote = s3_remote_or_fail(state, remote_name)
    client = remote.client()
    try:
        top, objects = await find_backup(client, data)
        if top is None or top.key not in objects:
            raise _invalid_backup(top.key if top else "null", remote.name)
        if top.key in state.backup.restoring_meta:
            raise rc.fail(
                rc.FAIL_IN_USE | B.MASK_BACKUP,
                f"The meta-file {top.key} is currently being used in a restore.",
            )
        chain = await metadata_chain(client, top)
    except S3Error as exc:
        raise s3_failure(exc) from exc
    target_name = str(data.get("target_rsc_name") or "")
    rd = state.rd(target_name)
    entries: list[rc.Entry] = []
    if rd is not None and any(key(info.snap) in rd.snapshots for info, _ in chain):
        raise rc.fail(
            B.FAIL_EXISTS_SNAPSHOT | B.MASK_BACKUP,
            "The requested backup has already been downloaded to this cluster. "
            "Please use 'snapshot resource restore' to get a resource.",
        )
    pool_map = {str(k): str(v) for k, v in (data.get("stor_pool_map") or {}).items()}
    top_meta = chain[0][1]
    placement = {}
    for nr, (src_pool, provider) in pools(top_meta).items():
        pool = node.pool(pool_map.get(src_pool, src_pool))
        if pool is None or pool.diskless:
            raise rc.fail(rc.FAIL_INVLD_VLM_SIZE, "Could not find suitable storage pool to receive backup")
        placement[nr] = (pool, provider)
    if rd is None:
        rg_name = str(data.get("dst_rsc_grp") or DFLT_RSC_GRP)
        rg = state.rg(rg_name)
        if rg is None:
            raise rc.fail(rc.FAIL_NOT_FOUND_RSC_GRP, f"Resource group '{rg_name}' not found.")
        rd, rd_entries = create_rd(state, target_name, rg)
        entries += rd_entries
    restore_after = not data.get("download_only") and not rd.resources
    if rd.resources:
        entries.append(
            rc.warn(
                B.WARN_BACKUP_DL_ONLY,
                "The target resource-definition is already deployed on nodes. After downloading the Backup "
                "Linstor will NOT restore the data to prevent unintentional data-loss.",
            )
        )
    snaps = [
        _receiving_snapshot(rd, info, meta, node_name=node.name, placement=placement, remote=remote.name)
        for info, meta in reversed(chain)
    ]
    state.backup.restoring_meta.add(top.key)
    shipment = Shipment("restore", remote.name, rd.name, top.snap)
    state.backup.shipments[(rd.key, key(top.snap))] = shipment
    shipment.task = asyncio.get_running_loop().create_task(
        _download(
            state,
            shipment,
            remote,
            rd=rd,
            chain=list(reversed(chain)),
            snaps=snaps,
            node_name=node.name,
            restore_after=restore_after,
        )
    )
    entries.append(
        rc.info(
            0,
            f"Restoring backup of resource {top.rsc} from remote {remote.name} into resource {rd.name} "
            "in progress.",
        )
    )
    return entries


def _receiving_snapshot(
    rd: ResourceDefinition,
    info: MetaName,
    meta: dict[str, Any],
    *,
    node_name: str,
    placement: dict[int, Any],
    remote: str,
) -> Snapshot:
    rd.snapshot_seq += 1
    sizes = volume_sizes(meta)
    snap = Snapshot(
        name=info.snap,
        rd_name=rd.name,
        sequence=rd.snapshot_seq,
        nodes={
            key(node_name): SnapshotOnNode(
                node_name,
                [
                    SnapshotVolume(nr, placement[nr][0].name, placement[nr][0].provider)
                    for nr in sorted(sizes)
                ],
            )
        },
        vds=[SnapshotVolumeDefinition(nr, size) for nr, size in sorted(sizes.items())],
        rd_props=dict((meta.get("rscDfn") or {}).get("rscDfnProps") or {}),
        props={
            f"{B.TARGET_NAMESPC}/{B.KEY_SHIPPING_STATUS}": B.SHIPPING,
            f"{B.TARGET_NAMESPC}/{B.KEY_TO_RESTORE}": info.full_id,
            f"{B.TARGET_NAMESPC}/{B.KEY_SRC_REMOTE}": remote,
        },
        flags=[],
    )
    rd.snapshots[key(snap.name)] = snap
    return snap


async def _download(
    state: State,
    shipment: Shipment,
    remote: S3Remote,
    *,
    rd: ResourceDefinition,
    chain: Chain,
    snaps: list[Snapshot],
    node_name: str,
    restore_after: bool,
) -> None:
    status_key = f"{B.TARGET_NAMESPC}/{B.KEY_SHIPPING_STATUS}"
    client = remote.client()
    try:
        await asyncio.sleep(state.backup.ship_seconds)
        seeds: dict[int, str] = {}
        for (_, meta), snap in zip(chain, snaps, strict=True):
            sizes = volume_sizes(meta)
            for nr, names in volume_keys(meta).items():
                for name in names:
                    header = volumedata.decode(await client.get(name))
                    if header.get("sizeKib") != sizes.get(nr):
                        raise ValueError(
                            f"{name}: size {header.get('sizeKib')} KiB, metadata says {sizes.get(nr)}"
                        )
                    seeds[nr] = str(header["seed"])
            snap.flags = ["SUCCESSFUL"]
            snap.props[status_key] = B.SUCCESS
            state.backup.snapshot_seeds[snap.uuid] = dict(seeds)
        if restore_after and state.rd(rd.name) is rd and not rd.resources:
            _restore_into(state, rd, snaps[-1], node_name, seeds)
    except (S3Error, ValueError, rc.ApiError):
        for snap in snaps:
            if snap.props.get(status_key) == B.SHIPPING:
                snap.props[status_key] = B.FAILED
    except asyncio.CancelledError:
        for snap in snaps:  # aborted: what was not received completely is deleted
            if "SUCCESSFUL" not in snap.flags:
                rd.snapshots.pop(key(snap.name), None)
        raise
    finally:
        state.backup.restoring_meta.discard(chain[-1][0].key)
        state.backup.shipments.pop((rd.key, key(shipment.snap_name)), None)


def _restore_into(
    state: State, rd: ResourceDefinition, snap: Snapshot, node_name: str, seeds: dict[int, str]
) -> None:
    """The downloaded snapshot becomes the definition's volumes and a resource on the receiving node."""
    for svd in snap.vds:
        if svd.number not in rd.vds:
            create_vd(state, rd, svd.number, svd.size_kib, props=svd.props)
        state.backup.volume_seeds[(rd.uuid, svd.number)] = seeds[svd.number]
    for k, v in snap.rd_props.items():
        rd.props.setdefault(k, v)
    node = state.node(node_name)
    on_node = snap.nodes[key(node_name)]
    pool = node.pool(on_node.volumes[0].pool_name) if node and on_node.volumes else None
    if node is None or pool is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_STOR_POOL, f"Storage pool not found on '{node_name}'.")
    engine.create_resource(state, rd, node, pool, diskless=False, diskful_by="user")
    engine.after_change(state, rd)
