"""Backup: a LINSTOR snapshot shipped to an S3 remote (LINSTOR decides full or incremental), or a
backup already on the remote imported by id, e.g. in a second cluster for a restore.

A shipment is started at most once: the shipped snapshot's own property
`BackupShipping/Source/<remote>/ShippingStatus` says LINSTOR already took it on, so a pass after a
crash between the request and the status write observes instead of shipping again."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stratum.api.linstor import LINSTOR_NAME_PATTERN
from stratum.api.linstor_backup import BackupSpec, BackupStatus, BackupVolumeStatus
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import backups as api
from stratum.reconcile import reasons
from stratum.reconcile.linstor.refs import ResourceRef, SnapshotRef
from stratum.reconcile.outcome import Outcome, Wait
from stratum.reconcile.quantities import kib_to_quantity

WHAT = "LINSTOR backup"
SHIPPING, SUCCESS, FAILED = "Shipping", "Success", "Failed"
_VOLUME_NUMBER = re.compile(r"_(\d{5})_back_")


@dataclass(frozen=True)
class RemoteRef:
    linstor_name: str
    ready: bool


@dataclass(frozen=True)
class BackupInputs:
    name: str
    uid: str
    remote: RemoteRef | None
    resource: ResourceRef | None = None
    snapshot: SnapshotRef | None = None
    recorded: BackupStatus | None = None


def taken_snapshot_name(name: str, uid: str) -> str:
    """The LINSTOR snapshot LINSTOR takes for a Backup without spec.snapshot: the object's name
    when LINSTOR allows it, else one derived from its uid. The same on every pass."""
    if 2 <= len(name) <= 48 and re.match(LINSTOR_NAME_PATTERN, name):
        return name
    return "backup-" + uid.replace("-", "")[:24]


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(stamp: int | None) -> str | None:
    if not stamp:
        return None
    return dt.datetime.fromtimestamp(stamp / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def info_status(info: api.BackupInfo) -> BackupStatus:
    """Size and volumes of a backup as a restore would get them."""
    volumes: dict[int, int] = {}
    for pool in info.storpools:
        for vlm in pool.vlms:
            match = _VOLUME_NUMBER.search(vlm.name)
            if match and vlm.usable_size_kib is not None:
                volumes[int(match.group(1))] = vlm.usable_size_kib
    return BackupStatus(
        size=kib_to_quantity(info.dl_size_kib),
        volumes=[BackupVolumeStatus(number=n, size=kib_to_quantity(k)) for n, k in sorted(volumes.items())],
    )


async def reconcile(client: LinstorClient, spec: BackupSpec, inp: BackupInputs) -> Outcome:
    remote = inp.remote
    if remote is None or not remote.ready:
        return Outcome.waiting(
            reasons.WAITING_FOR_REMOTE, f"Remote {spec.remote} is not Ready yet; the backup waits for it"
        )
    if spec.import_ is not None:
        return await _import(client, spec, inp, remote.linstor_name)
    recorded = inp.recorded
    if recorded is None or not recorded.snapshot_linstor_name:
        return await _ship(client, spec, inp, remote.linstor_name)
    return await _observe(client, recorded, remote.linstor_name)


async def _ship(client: LinstorClient, spec: BackupSpec, inp: BackupInputs, remote: str) -> Outcome:
    if inp.resource is None or not inp.resource.exists:
        return Outcome.waiting(reasons.WAITING_FOR_RESOURCE, f"Resource {spec.resource} does not exist yet")
    rsc = inp.resource.linstor_name
    if spec.snapshot is not None:
        snap_ref = inp.snapshot
        if snap_ref is None or not snap_ref.ready or not snap_ref.resource_linstor_name:
            return Outcome.waiting(
                reasons.WAITING_FOR_SNAPSHOT, f"Snapshot {spec.snapshot} is not Ready yet; shipped once it is"
            )
        rsc, snap, taken = snap_ref.resource_linstor_name, snap_ref.linstor_name, False
    else:
        snap, taken = taken_snapshot_name(inp.name, inp.uid), True
    actions: list[str] = []
    existing = await client.get_snapshot(rsc, snap)
    if existing is None or api.shipping_status_key(remote) not in existing.all_props:
        await api.create_backup(client, remote, resource=rsc, snapshot=snap, incremental=spec.incremental)
        actions.append(f"started shipping snapshot {rsc}/{snap} to remote {remote}")
    status = BackupStatus(
        remote_linstor_name=remote,
        resource_linstor_name=rsc,
        snapshot_linstor_name=snap,
        snapshot_taken=taken,
        phase="Shipping",
        started_at=now(),
    )
    return Outcome.waiting(
        reasons.SHIPPING, f"shipping {rsc}/{snap} to {remote}", status, retry=Wait.SOON, actions=actions
    )


async def _observe(client: LinstorClient, recorded: BackupStatus, remote: str) -> Outcome:
    rsc, snap = recorded.resource_linstor_name or "", recorded.snapshot_linstor_name or ""
    if recorded.phase == "Shipping":
        local = await client.get_snapshot(rsc, snap)
        state = local.all_props.get(api.shipping_status_key(remote)) if local else None
        if state == SHIPPING:
            return Outcome.waiting(reasons.SHIPPING, f"shipping {rsc}/{snap} to {remote}", retry=Wait.SOON)
        if state == FAILED:
            return Outcome.waiting(
                reasons.BACKUP_FAILED,
                f"LINSTOR failed to ship {rsc}/{snap} to {remote}; see LINSTOR's error reports, then delete "
                "this object and create a new one",
                BackupStatus(phase="Failed"),
                retry=Wait.SLOW,
            )
    found = [b for b in await api.list_backups(client, remote, resource=rsc, snapshot=snap) if b.success]
    if not found:
        if recorded.phase == "Shipping":
            return Outcome.waiting(
                reasons.SHIPPING, f"{rsc}/{snap} is not listed on {remote} yet", retry=Wait.SOON
            )
        return Outcome.waiting(
            reasons.BACKUP_NOT_FOUND,
            f"{WHAT} of {rsc}/{snap} is no longer on remote {remote} (deleted outside Stratum?)",
            retry=Wait.SLOW,
        )
    backup = max(found, key=lambda b: b.start_timestamp or 0)
    if recorded.phase == "Succeeded" and recorded.id == backup.id:
        # Still on the remote, as recorded: size and volumes do not change.
        return Outcome.done(f"{WHAT} {backup.id} is on remote {remote}", None, [])
    info = await api.backup_info(client, remote, backup_id=backup.id)
    status = info_status(info) if info else BackupStatus()
    status.id = backup.id
    status.based_on = backup.based_on_id
    status.phase = "Succeeded"
    status.completed_at = _ms(backup.finished_timestamp)
    return Outcome.done(f"{WHAT} {backup.id} is on remote {remote}", status, [])


async def _import(client: LinstorClient, spec: BackupSpec, inp: BackupInputs, remote: str) -> Outcome:
    assert spec.import_ is not None
    backup_id = (inp.recorded.id if inp.recorded else None) or spec.import_.id
    info = await api.backup_info(
        client, remote, backup_id=backup_id or "", resource=spec.import_.resource or ""
    )
    wanted = backup_id or f"the newest backup of {spec.import_.resource}"
    if info is None:
        return Outcome.waiting(reasons.BACKUP_NOT_FOUND, f"remote {remote} has no {wanted}", retry=Wait.SLOW)
    status = info_status(info)
    status.id = info.latest
    status.remote_linstor_name = remote
    status.resource_linstor_name = info.rsc
    status.snapshot_linstor_name = info.snap
    status.phase = "Available"
    return Outcome.done(f"{WHAT} {info.latest} is available on remote {remote}", status, [])


async def finalize(client: LinstorClient, spec: BackupSpec, recorded: BackupStatus | None) -> Outcome:
    if spec.import_ is not None or recorded is None or not recorded.remote_linstor_name:
        return Outcome.done("nothing shipped from here", None, [])
    remote = recorded.remote_linstor_name
    if spec.deletion_policy == "Retain":
        return Outcome.done(f"{WHAT} retained on {remote}", None, [f"kept {WHAT} {recorded.id} (Retain)"])
    try:
        return await _delete(client, recorded, remote)
    except LinstorError as exc:
        if not exc.has_code(api.FAIL_NOT_FOUND_REMOTE):
            raise
        return Outcome.done(
            f"LINSTOR has no remote {remote} any more; {WHAT} {recorded.id or ''} is left in the bucket",
            None,
            [f"left {WHAT} {recorded.id or ''} in place (no remote {remote})"],
        )


async def _delete(client: LinstorClient, recorded: BackupStatus, remote: str) -> Outcome:
    if recorded.phase == "Shipping" or not recorded.id:
        # Possibly still on its way: find it by its snapshot (the id is known once it is listed).
        rsc, snap = recorded.resource_linstor_name or "", recorded.snapshot_linstor_name or ""
        found = await api.list_backups(client, remote, resource=rsc, snapshot=snap)
        if not found:
            local = await client.get_snapshot(rsc, snap)
            if local is not None and local.all_props.get(api.shipping_status_key(remote)) == SHIPPING:
                return Outcome.waiting(
                    reasons.SHIPPING, f"waiting for the shipment of {rsc}/{snap} to end", retry=Wait.DELETION
                )
            return Outcome.done(f"no {WHAT} of {rsc}/{snap} on {remote}", None, [])
        ids = [b.id for b in found]
    else:
        ids = [recorded.id]
    for backup_id in ids:
        try:
            await api.delete_backup(client, remote, backup_id, keep_snapshot=not recorded.snapshot_taken)
        except LinstorError as exc:
            if exc.has_code(api.FAIL_DEPENDEND_BACKUP):
                return Outcome.waiting(
                    reasons.HAS_DEPENDENT_BACKUPS,
                    f"{WHAT} {backup_id}: {exc.message}; delete the Backup objects of the newer "
                    "incremental backups first",
                    retry=Wait.DELETION,
                )
            if not exc.has_code(api.FAIL_NOT_FOUND_BACKUP):
                raise
    return Outcome.done(
        f"{WHAT} deleted from {remote}", None, [f"deleted {WHAT} {', '.join(ids)} from {remote}"]
    )
