"""Deleting backups from an S3 remote (`DELETE /v1/remotes/{remote}/backups`).

linstor-server: controller/.../backup/CtrlBackupApiCallHandler.java (deleteBackupInTransaction,
deleteByIdPrefix, deleteByS3Key, addToDeleteList, deleteByTimeRscNode, deleteAllLocalCluster).
A metadata object takes its data objects along; backups based on it go too with `cascading`,
otherwise the call fails (FAIL_DEPENDEND_BACKUP); the local snapshot a backup was made from is
deleted with it unless `keep_snaps`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from . import apicallrc as rc
from . import backuprc as B
from .backupmeta import S3Object, inventory
from .backupnames import DATE_FORMAT, META_SUFFIX, MetaName
from .backups import s3_failure, s3_remote_or_fail
from .model import State
from .names import key
from .remotes import S3Remote
from .s3 import S3Client, S3Error


def _java_list(items: set[str]) -> str:
    return "[" + ", ".join(sorted(items)) + "]"


def _listing(items: list[str]) -> str:
    return "".join(f"  {item}\n" for item in items)


class Deletion:
    """What one delete call selects: S3 keys, keys it could not find, local snapshots."""

    def __init__(self, state: State, remote: S3Remote, objects: dict[str, S3Object], cascading: bool) -> None:
        self.state = state
        self.remote = remote
        self.objects = objects
        self.cascading = cascading
        self.keys: set[str] = set()
        self.not_found: set[str] = set()
        self.snapshots: set[tuple[str, str]] = set()
        self.entries: list[rc.Entry] = []

    def add(self, obj: S3Object, cascading: bool) -> None:
        if obj.meta is None:
            return
        self.keys.add(obj.key)
        for child in obj.references:
            if not child.exists:
                self.not_found.add(child.key)
            elif not child.is_meta:  # never upwards: the backup this one is based on stays
                self.keys.add(child.key)
        for parent in obj.referenced_by:
            if not parent.exists:
                self.not_found.add(parent.key)
            elif parent.is_meta:
                if not cascading:
                    raise rc.fail(
                        B.FAIL_DEPENDEND_BACKUP,
                        f"{obj.key} should be deleted, but at least {parent.key} is referencing it. "
                        "Use --cascading to delete recursively",
                    )
                self.add(parent, cascading)
        info = MetaName.parse(obj.key)
        rd = self.state.rd(info.rsc) if info else None
        snap = rd.snapshots.get(key(info.snap)) if rd and info else None
        if snap is not None and snap.uuid == obj.meta.get("snapDfnUuid"):
            self.snapshots.add((snap.rd_name, snap.name))

    def by_keys(self, keys: set[str], cascading: bool) -> None:
        for k in keys:
            obj = self.objects.get(k)
            if obj is not None and obj.exists:
                self.add(obj, cascading)
            else:
                self.not_found.add(k)

    def by_prefix(self, prefix: str, multi: bool) -> None:
        matching = {k for k in self.objects if k.startswith(prefix)}
        name = self.remote.name
        if not matching:
            what = "prefix " if multi else ""
            self.entries.append(
                rc.warn(rc.WARN_NOT_FOUND, f"No backup with id {what}'{prefix}' found on remote '{name}'")
            )
        elif len(matching) > 1 and not multi:
            self.entries.append(
                rc.err(
                    B.FAIL_NOT_FOUND_BACKUP,
                    f"Ambigious id '{prefix}' for remote '{name}':\n{_listing(sorted(matching))}",
                )
            )
        else:
            self.by_keys(matching, self.cascading)

    def by_time_rsc_node(self, timestamp: str, rsc: str, node: str) -> None:
        before: _dt.datetime | None = None
        if timestamp:
            try:
                before = _dt.datetime.strptime(timestamp, DATE_FORMAT).replace(tzinfo=_dt.UTC)
            except ValueError as exc:
                raise rc.fail(B.FAIL_INVLD_TIME_PARAM, f"Failed to parse '{timestamp}' as time") from exc
        chosen = set()
        for k, obj in self.objects.items():
            info = MetaName.parse(k)
            if info is None or obj.meta is None:
                continue
            if before is not None and not info.time < before:
                continue
            if rsc and info.rsc.lower() != rsc.lower():
                continue
            if node and str(obj.meta.get("nodeName", "")).lower() != node.lower():
                continue
            chosen.add(k)
        self.by_keys(chosen, self.cascading)


async def delete_backups(state: State, remote_name: str, q: dict[str, Any]) -> list[rc.Entry]:
    remote = s3_remote_or_fail(state, remote_name)
    client = remote.client()
    try:
        objects = await inventory(client, await client.list_keys())
    except S3Error as exc:
        raise s3_failure(exc) from exc
    sel = Deletion(state, remote, objects, bool(q["cascading"]))
    if q["id"]:
        sel.by_prefix(q["id"] if q["id"].endswith(META_SUFFIX) else q["id"] + META_SUFFIX, multi=False)
    elif q["id_prefix"]:
        sel.by_prefix(q["id_prefix"], multi=True)
    elif q["s3key"]:
        sel.by_keys({q["s3key"]}, sel.cascading)
        sel.keys.add(q["s3key"])
        sel.not_found.discard(q["s3key"])
    elif q["timestamp"] or q["resource_name"] or q["node_name"]:
        sel.by_time_rsc_node(q["timestamp"], q["resource_name"], q["node_name"])
    elif q["all"]:
        sel.by_keys(set(objects), cascading=True)
    elif q["all_local_cluster"]:
        cluster = state.backup.cluster_id
        sel.by_keys({k for k, o in objects.items() if o.meta and o.meta.get("clusterId") == cluster}, True)
    if q["keep_snaps"]:
        sel.snapshots.clear()
    entries = _dry_run(sel) if q["dryrun"] else await _delete(client, sel)
    if sel.not_found:
        entries.append(
            rc.warn(
                rc.WARN_NOT_FOUND,
                "The following S3 keys were not found in the given remote:\n"
                + _listing(sorted(sel.not_found)),
            )
        )
    entries += sel.entries
    if not q["dryrun"] and sel.keys:
        entries += _delete_snapshots(state, sel.snapshots)
    return entries


def _dry_run(sel: Deletion) -> list[rc.Entry]:
    entries = []
    if sel.keys:
        entries.append(rc.Entry(0, "Would delete s3 objects:\n" + _listing(sorted(sel.keys))))
    if sel.snapshots:
        rows = [f"Resource: {r}, Snapshot: {s}" for r, s in sorted(sel.snapshots)]
        entries.append(rc.Entry(0, "Would delete Snapshots:\n" + _listing(rows)))
    if not entries:
        entries.append(rc.Entry(0, "Dryrun mode. Although nothing selected for deletion"))
    return entries


async def _delete(client: S3Client, sel: Deletion) -> list[rc.Entry]:
    if not sel.keys:
        return [rc.info(rc.INFO_NOOP | B.MASK_BACKUP, "Could not find any backups to delete.")]
    entries = []
    deleted: set[str] = set()
    for k in sorted(sel.keys):
        try:
            await client.delete(k)
            deleted.add(k)
        except S3Error:
            continue
    if deleted != sel.keys:
        failed = _java_list(sel.keys - deleted)
        entries.append(rc.err(rc.FAIL_UNKNOWN_ERROR | B.MASK_BACKUP, f"Could not delete {failed}"))
    entries.append(rc.Entry(B.MASK_BACKUP, f"Successfully deleted {_java_list(deleted)}"))
    return entries


def _delete_snapshots(state: State, snaps: set[tuple[str, str]]) -> list[rc.Entry]:
    """The local snapshots of deleted backups go too (through CtrlSnapshotDeleteApiCallHandler)."""
    entries = []
    for rd_name, snap_name in sorted(snaps):
        rd = state.rd(rd_name)
        snap = rd.snapshots.pop(key(snap_name), None) if rd else None
        if snap is None:
            continue
        state.backup.snapshot_seeds.pop(snap.uuid, None)
        entries.append(
            rc.ok(
                rc.MASK_DEL | rc.MASK_SNAPSHOT | rc.DELETED,
                f"Snapshot '{snap.name}' of resource '{rd_name}' deleted.",
                details=f"Snapshot '{snap.name}' of resource '{rd_name}' UUID was: {snap.uuid}",
                obj_refs={"RscDfn": rd_name, "Snapshot": snap.name},
            )
        )
    return entries
