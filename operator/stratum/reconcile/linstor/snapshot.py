"""Snapshot: a LINSTOR snapshot of the resource a Resource object manages."""

from __future__ import annotations

import datetime as dt

from stratum.api.linstor import SnapshotSpec, SnapshotStatus, SnapshotVolumeStatus
from stratum.clients.linstor import LinstorClient, LinstorError, apicallrc
from stratum.clients.linstor.models import Snapshot
from stratum.reconcile import reasons
from stratum.reconcile.linstor.ownership import OWNER_PROP, Claim, claim, conflict_message, conflict_reason
from stratum.reconcile.linstor.refs import ResourceRef
from stratum.reconcile.outcome import Outcome, Wait
from stratum.reconcile.quantities import kib_to_quantity

WHAT = "LINSTOR snapshot"


def linstor_name(name: str, spec: SnapshotSpec) -> str:
    return spec.linstor_name or name


def snapshot_status(snap: Snapshot) -> SnapshotStatus:
    stamps = [s.create_timestamp for s in snap.snapshots if s.create_timestamp]
    status = SnapshotStatus(
        linstor_name=snap.name,
        resource_linstor_name=snap.resource_name,
        nodes=sorted(snap.nodes or [s.node_name for s in snap.snapshots]),
        volumes=[
            SnapshotVolumeStatus(number=v.volume_number, size=kib_to_quantity(v.size_kib))
            for v in sorted(snap.volume_definitions, key=lambda v: v.volume_number)
        ],
    )
    if stamps:
        created = dt.datetime.fromtimestamp(min(stamps) / 1000, dt.UTC)
        status.created_at = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return status


def _claim(snap: Snapshot, uid: str, adopt: bool, recorded: str | None) -> Claim:
    claimed = claim(snap.all_props, uid, adopt)
    # Controllers that drop snapshot-definition properties leave only the name recorded in status.
    if (
        claimed is Claim.CONFLICT
        and recorded is not None
        and recorded.casefold() == snap.name.casefold()
        and OWNER_PROP not in snap.all_props
    ):
        return Claim.OURS
    return claimed


async def reconcile(
    client: LinstorClient,
    name: str,
    uid: str,
    *,
    spec: SnapshotSpec,
    resource: ResourceRef | None,
    recorded: str | None,
) -> Outcome:
    snap_name = linstor_name(name, spec)
    if resource is None or not resource.exists:
        return Outcome.waiting(
            reasons.WAITING_FOR_RESOURCE,
            f"Resource {spec.resource} does not exist yet; the snapshot is taken once it does",
        )
    rsc = resource.linstor_name
    actions: list[str] = []
    warnings: list[str] = []
    snap = await client.get_snapshot(rsc, snap_name)
    if snap is None:
        if recorded is not None:
            # Taken before and gone now: a snapshot cannot be re-taken with the same content.
            return Outcome.waiting(
                reasons.SNAPSHOT_LOST,
                f"{WHAT} {rsc}/{snap_name} was deleted outside Stratum; delete "
                "this object (a new one takes a new snapshot)",
                retry=Wait.SLOW,
            )
        # A satellite that is not connected is skipped with a warning: the snapshot then lacks
        # that node (CtrlSnapshotCrtApiCallHandler).
        warnings = apicallrc.warnings(await client.create_snapshot(rsc, snap_name, props={OWNER_PROP: uid}))
        actions.append(f"took {WHAT} {snap_name} of {rsc}")
        snap = await client.get_snapshot(rsc, snap_name)
        if snap is None:
            return Outcome.waiting(
                reasons.CREATING,
                f"{WHAT} {snap_name} is not listed yet",
                SnapshotStatus(linstor_name=snap_name),
                retry=Wait.SOON,
                actions=actions,
            )
    claimed = _claim(snap, uid, spec.adopt, recorded)
    if claimed in (Claim.CONFLICT, Claim.OWNED_ELSEWHERE):
        return Outcome.waiting(
            conflict_reason(claimed), conflict_message(WHAT, f"{rsc}/{snap_name}", claimed), retry=Wait.SLOW
        )
    status = snapshot_status(snap)
    if snap.failed:
        return Outcome.waiting(
            reasons.SNAPSHOT_FAILED,
            f"{WHAT} {snap_name} failed on a node ({', '.join(snap.flags)}); "
            "delete this object and take a new snapshot",
            status,
            retry=Wait.SLOW,
            actions=actions,
        )
    if not snap.successful:
        return Outcome.waiting(
            reasons.CREATING, f"{WHAT} {snap_name} is being taken", status, retry=Wait.SOON, actions=actions
        )
    done = Outcome.done(f"{WHAT} {snap_name} of {rsc} is complete", status, actions)
    done.warnings = warnings
    return done


async def finalize(
    client: LinstorClient,
    name: str,
    uid: str,
    *,
    spec: SnapshotSpec,
    resource_linstor_name: str | None,
    recorded: str | None,
) -> Outcome:
    if not resource_linstor_name:
        return Outcome.done("no LINSTOR snapshot was taken", None, [])
    snap_name = linstor_name(name, spec)
    snap = await client.get_snapshot(resource_linstor_name, snap_name)
    if snap is None:
        return Outcome.done(f"{WHAT} {snap_name} is gone", None, [])
    if _claim(snap, uid, False, recorded) is not Claim.OURS:
        return Outcome.done(f"{WHAT} {snap_name} was not ours; left in place", None, [])
    if spec.deletion_policy == "Retain":
        return Outcome.done(f"{WHAT} {snap_name} retained", None, [f"kept {WHAT} {snap_name} (Retain)"])
    try:
        await client.delete_snapshot(resource_linstor_name, snap_name)
    except LinstorError as exc:
        return Outcome.waiting(
            reasons.for_error(exc),
            f"{WHAT} {snap_name} cannot be deleted yet: {exc.message}",
            retry=Wait.DELETION,
        )
    return Outcome.done(f"{WHAT} {snap_name} deleted", None, [f"deleted {WHAT} {snap_name}"])
