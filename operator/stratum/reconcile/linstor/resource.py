"""Resource: a LINSTOR resource definition with volumes and placements, spawned from a group or
restored from a snapshot; grown, attached, rolled back and deleted as the spec says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from stratum.api.linstor import ReplicaStatus, ResourceSpec, ResourceStatus, RollbackStatus, VolumeStatus
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import apicallrc as rc
from stratum.clients.linstor.models import Resource, ResourceDefinition
from stratum.reconcile import reasons
from stratum.reconcile.linstor import backuprestore
from stratum.reconcile.linstor.ownership import (
    MANAGED_PROP,
    OWNER_PROP,
    Claim,
    claim,
    conflict_message,
    conflict_reason,
)
from stratum.reconcile.linstor.properties import PropsChange, marker_props, plan_props
from stratum.reconcile.linstor.refs import GroupRef, SnapshotRef
from stratum.reconcile.outcome import Outcome, Wait
from stratum.reconcile.quantities import kib_to_quantity, quantity_kib

WHAT = "LINSTOR resource"
ALLOW_TWO_PRIMARIES = "DrbdOptions/Net/allow-two-primaries"
# Set once the snapshot's resources were restored, so a later loss of every replica is topped
# up by autoplace instead of restoring old data again.
RESTORED_PROP = "Aux/stratum.dev/restored-from"


def linstor_name(name: str, spec: ResourceSpec) -> str:
    return spec.linstor_name or name


def desired_props(spec: ResourceSpec) -> dict[str, str]:
    props = dict(spec.properties)
    if spec.allow_two_primaries:
        props[ALLOW_TWO_PRIMARIES] = "yes"
    return props


@dataclass
class ResourcePlan:
    """Backend changes in the order they must happen."""

    create_volumes: list[tuple[int, int]] = field(default_factory=list)  # (number, KiB)
    grow_volumes: list[tuple[int, int]] = field(default_factory=list)
    props: PropsChange = field(default_factory=PropsChange)
    make_diskful: list[str] = field(default_factory=list)  # nodes without a resource
    toggle_diskful: list[str] = field(default_factory=list)  # nodes with a diskless one
    make_diskless: list[str] = field(default_factory=list)
    autoplace: bool = False
    oversized: list[int] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(
            self.create_volumes
            or self.grow_volumes
            or self.props
            or self.make_diskful
            or self.toggle_diskful
            or self.make_diskless
            or self.autoplace
        )


def plan_resource(
    spec: ResourceSpec, rd: ResourceDefinition, resources: list[Resource], uid: str, place_count: int | None
) -> ResourcePlan:
    plan = ResourcePlan()
    volumes = {vd.volume_number: vd for vd in rd.volume_definitions}
    for number, volume in enumerate(spec.volumes):
        want = quantity_kib(volume.size)
        found = volumes.get(number)
        if found is None:
            plan.create_volumes.append((number, want))
        elif found.size_kib < want:
            plan.grow_volumes.append((number, want))
        elif found.size_kib > want:
            plan.oversized.append(number)
    plan.props = plan_props(desired_props(spec), rd.props, uid)
    live = [r for r in resources if not r.deleting]
    by_node = {r.node_name.casefold(): r for r in live}
    for node in spec.diskful_nodes:
        found_rsc = by_node.get(node.casefold())
        if found_rsc is None:
            plan.make_diskful.append(node)
        elif found_rsc.diskless:
            plan.toggle_diskful.append(node)
    for node in spec.diskless_nodes:
        # Any replica on the node gives it access; a diskful one is not taken away.
        if node.casefold() not in by_node:
            plan.make_diskless.append(node)
    diskful = sum(1 for r in live if not r.diskless) + len(plan.make_diskful) + len(plan.toggle_diskful)
    # Fewer diskful replicas than the group wants: after a restore onto fewer nodes, or
    # replicas removed behind the operator's back. Autoplace tops up and never removes.
    plan.autoplace = place_count is not None and diskful < place_count
    return plan


def volume_status(rd: ResourceDefinition, resources: list[Resource]) -> list[VolumeStatus]:
    out = []
    for vd in sorted(rd.volume_definitions, key=lambda v: v.volume_number):
        device_path: str | None = None
        minor = vd.minor
        for rsc in resources:
            for vol in rsc.volumes:
                if vol.volume_number == vd.volume_number:
                    device_path = device_path or vol.device_path
                    minor = minor if minor is not None else vol.minor
        out.append(
            VolumeStatus(
                number=vd.volume_number,
                size=kib_to_quantity(vd.size_kib),
                device_path=device_path,
                minor=minor,
            )
        )
    return out


def replica_status(resources: list[Resource]) -> list[ReplicaStatus]:
    out = []
    for rsc in sorted(resources, key=lambda r: r.node_name):
        if rsc.deleting:
            continue
        states = [v.state.disk_state for v in rsc.volumes if v.state.disk_state]
        state = (states[0] if len(set(states)) == 1 else ",".join(states)) if states else None
        out.append(
            ReplicaStatus(node=rsc.node_name, diskless=rsc.diskless, tie_breaker=rsc.tie_breaker, state=state)
        )
    return out


def rollback_due(spec: ResourceSpec, last: RollbackStatus | None) -> bool:
    return spec.rollback is not None and (last.request_id if last else None) != spec.rollback.request_id


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------ I/O


@dataclass
class ResourceInputs:
    """What the handlers know besides the spec: the group and snapshots it refers to."""

    name: str
    uid: str
    group: GroupRef | None
    restore_snapshot: SnapshotRef | None = None
    rollback_snapshot: SnapshotRef | None = None
    last_rollback: RollbackStatus | None = None
    restore_backup: backuprestore.BackupRef | None = None


async def _create(client: LinstorClient, spec: ResourceSpec, inp: ResourceInputs, rsc: str) -> Outcome | None:
    """Create the definition; an Outcome when it cannot be created yet."""
    group = inp.group
    if group is None or not group.ready:
        state = "does not exist" if group is None else "is not Ready"
        return Outcome.waiting(
            reasons.WAITING_FOR_RESOURCE_GROUP,
            f"ResourceGroup {spec.resource_group} {state}; the resource is created once it is Ready",
            ResourceStatus(linstor_name=rsc),
        )
    props = {**desired_props(spec), **marker_props(inp.uid, desired_props(spec))}
    if spec.restore_from is not None and spec.restore_from.backup is not None:
        waiting = backuprestore.not_ready(spec, inp.restore_backup)
        if waiting is not None:
            return waiting
        await client.create_resource_definition(rsc, group=group.linstor_name, props=props)
        return None
    if spec.restore_from is not None:
        snap = inp.restore_snapshot
        if snap is None or not snap.ready or not snap.resource_linstor_name:
            return Outcome.waiting(
                reasons.WAITING_FOR_SNAPSHOT,
                f"Snapshot {spec.restore_from.snapshot} is not Ready yet; the resource is "
                "restored from it once it is",
                ResourceStatus(linstor_name=rsc),
            )
        await client.create_resource_definition(rsc, group=group.linstor_name, props=props)
        return None
    sizes = [quantity_kib(v.size) for v in spec.volumes]
    await client.spawn(group.linstor_name, rsc, sizes, props=props)
    return None


async def _restore(
    client: LinstorClient,
    spec: ResourceSpec,
    inp: ResourceInputs,
    *,
    rd: ResourceDefinition,
    resources: list[Resource],
    actions: list[str],
) -> Outcome | None:
    """Finish a restore: volume definitions, then resources on the snapshot's nodes."""
    snap = inp.restore_snapshot
    if snap is None or not snap.resource_linstor_name:
        wanted = spec.restore_from.snapshot if spec.restore_from else "?"
        return Outcome.waiting(reasons.WAITING_FOR_SNAPSHOT, f"Snapshot {wanted} is not available")
    source = snap.resource_linstor_name
    if not rd.volume_definitions:
        await client.restore_volume_definitions(source, snap.linstor_name, rd.name)
        actions.append(f"restored volume definitions of {rd.name} from snapshot {snap.linstor_name}")
    if not resources:
        try:
            await client.restore_resources(source, snap.linstor_name, rd.name)
        except LinstorError as exc:
            if not exc.has_code(rc.FAIL_EXISTS_RSC_DFN, 502):
                raise
        actions.append(f"restored {rd.name} from snapshot {source}/{snap.linstor_name}")
    await client.modify_resource_definition(rd.name, override_props={RESTORED_PROP: snap.linstor_name})
    return None


async def reconcile(client: LinstorClient, spec: ResourceSpec, inp: ResourceInputs) -> Outcome:
    rsc = linstor_name(inp.name, spec)
    actions: list[str] = []
    rd = await client.get_resource_definition(rsc)
    if rd is None:
        waiting = await _create(client, spec, inp, rsc)
        if waiting is not None:
            return waiting
        actions.append(f"created {WHAT} {rsc}")
        rd = await client.get_resource_definition(rsc)
        if rd is None:
            return Outcome.waiting(
                reasons.CREATING,
                f"{WHAT} {rsc} is not listed yet",
                ResourceStatus(linstor_name=rsc),
                retry=Wait.SOON,
                actions=actions,
            )

    claimed = claim(rd.props, inp.uid, spec.adopt)
    if claimed in (Claim.CONFLICT, Claim.OWNED_ELSEWHERE):
        return Outcome.waiting(
            conflict_reason(claimed), conflict_message(WHAT, rsc, claimed), retry=Wait.SLOW
        )
    if claimed is Claim.ADOPT:
        actions.append(f"adopted existing {WHAT} {rsc}")

    resources = await client.list_resources([rsc])
    if spec.restore_from is not None and RESTORED_PROP not in rd.props:
        if spec.restore_from.backup is not None:
            waiting = await backuprestore.restore(
                client,
                spec,
                inp.restore_backup,
                rd=rd,
                resources=resources,
                group=inp.group.linstor_name if inp.group else "",
                marker=RESTORED_PROP,
                actions=actions,
            )
        else:
            waiting = await _restore(client, spec, inp, rd=rd, resources=resources, actions=actions)
        if waiting is not None:
            return waiting
        rd = await client.get_resource_definition(rsc) or rd
        resources = await client.list_resources([rsc])

    place_count = inp.group.place_count if inp.group else None
    plan = plan_resource(spec, rd, resources, inp.uid, place_count)
    await _apply(client, rsc, plan, actions)

    status = ResourceStatus(linstor_name=rsc, resource_group=rd.resource_group_name)
    if inp.last_rollback:
        status.last_rollback = inp.last_rollback
    rolled_back = False
    if rollback_due(spec, inp.last_rollback):
        waiting = await _rollback(client, spec, inp, rsc=rsc, status=status, actions=actions)
        if waiting is not None:
            return waiting
        rolled_back = True

    # Creating and restoring re-read already; only changes made after the last read need another.
    if plan.changes or rolled_back:
        rd = await client.get_resource_definition(rsc) or rd
        resources = await client.list_resources([rsc])
    status.volumes = volume_status(rd, resources)
    status.replicas = replica_status(resources)
    missing = _unmet(spec, resources)
    if missing:
        return Outcome.waiting(reasons.PLACING, f"{WHAT} {rsc}: {missing}", status, actions=actions)
    if plan.oversized:
        return Outcome.done(
            f"{WHAT} {rsc} is larger than the spec asks for volume(s) "
            f"{plan.oversized}; LINSTOR volumes cannot shrink",
            status,
            actions,
            reason=reasons.LARGER_THAN_SPEC,
        )
    return Outcome.done(f"{WHAT} {rsc} matches the spec", status, actions)


async def _apply(client: LinstorClient, rsc: str, plan: ResourcePlan, actions: list[str]) -> None:
    for number, kib in plan.create_volumes:
        await client.create_volume_definition(rsc, number, kib)
        actions.append(f"added volume {number} ({kib_to_quantity(kib)}) to {rsc}")
    for number, kib in plan.grow_volumes:
        await client.resize_volume_definition(rsc, number, kib)
        actions.append(f"grew volume {number} of {rsc} to {kib_to_quantity(kib)}")
    if plan.props:
        await client.modify_resource_definition(
            rsc, override_props=plan.props.override, delete_props=plan.props.delete
        )
    for node in plan.make_diskful:
        await client.create_resource(rsc, node, diskless=False)
        actions.append(f"placed a diskful replica of {rsc} on {node}")
    for node in plan.toggle_diskful:
        await client.toggle_disk(rsc, node, diskful=True)
        actions.append(f"made the replica of {rsc} on {node} diskful")
    for node in plan.make_diskless:
        await client.create_resource(rsc, node, diskless=True)
        actions.append(f"attached {rsc} diskless on {node}")
    if plan.autoplace:
        answers = await client.autoplace(rsc)
        if any(a.code == rc.CREATED and not a.is_warning for a in answers):
            actions.append(f"placed missing replicas of {rsc}")


async def _rollback(
    client: LinstorClient,
    spec: ResourceSpec,
    inp: ResourceInputs,
    *,
    rsc: str,
    status: ResourceStatus,
    actions: list[str],
) -> Outcome | None:
    assert spec.rollback is not None
    snap = inp.rollback_snapshot
    if snap is None or not snap.ready:
        return Outcome.waiting(
            reasons.WAITING_FOR_SNAPSHOT,
            f"rollback {spec.rollback.request_id}: Snapshot {spec.rollback.snapshot} is not Ready",
            status,
        )
    if (snap.resource_linstor_name or "").casefold() != rsc.casefold():
        return Outcome.waiting(
            reasons.INVALID_ROLLBACK,
            f"rollback {spec.rollback.request_id}: Snapshot "
            f"{spec.rollback.snapshot} is of resource {snap.resource_linstor_name}, not "
            f"{rsc}; point spec.rollback.snapshot at a snapshot of this resource",
            status,
            retry=Wait.SLOW,
        )
    await client.rollback(rsc, snap.linstor_name)
    status.last_rollback = RollbackStatus(
        request_id=spec.rollback.request_id, snapshot=spec.rollback.snapshot, completed_at=now()
    )
    actions.append(f"rolled {rsc} back to snapshot {snap.linstor_name}")
    return None


def _unmet(spec: ResourceSpec, resources: list[Resource]) -> str:
    by_node = {r.node_name.casefold(): r for r in resources if not r.deleting}
    problems = []
    diskful = [n for n in spec.diskful_nodes if (r := by_node.get(n.casefold())) is None or r.diskless]
    if diskful:
        problems.append(f"no diskful replica yet on {', '.join(diskful)}")
    attached = [n for n in spec.diskless_nodes if n.casefold() not in by_node]
    if attached:
        problems.append(f"not attached yet on {', '.join(attached)}")
    if not any(not r.diskless for r in by_node.values()):
        problems.append("no diskful replica anywhere")
    return "; ".join(problems)


async def finalize(client: LinstorClient, spec: ResourceSpec, name: str, uid: str) -> Outcome:
    rsc = linstor_name(name, spec)
    rd = await client.get_resource_definition(rsc)
    if rd is None:
        return Outcome.done(f"{WHAT} {rsc} is gone", None, [])
    if claim(rd.props, uid, False) is not Claim.OURS:
        return Outcome.done(f"{WHAT} {rsc} was not ours; left in place", None, [])
    if spec.deletion_policy == "Retain":
        await client.modify_resource_definition(
            rsc, override_props={}, delete_props=[OWNER_PROP, MANAGED_PROP]
        )
        return Outcome.done(f"{WHAT} {rsc} retained", None, [f"released {WHAT} {rsc} (Retain)"])
    try:
        await client.delete_resource_definition(rsc)
    except LinstorError as exc:
        if exc.has_code(rc.FAIL_EXISTS_SNAPSHOT_DFN):
            return Outcome.waiting(
                reasons.HAS_SNAPSHOTS,
                f"{WHAT} {rsc} still has snapshots; delete its Snapshot "
                "objects (or the LINSTOR snapshots of retained ones) first",
                retry=Wait.DELETION,
            )
        if exc.has_code(rc.FAIL_IN_USE):
            return Outcome.waiting(
                reasons.IN_USE, f"{WHAT} {rsc} is in use: {exc.message}", retry=Wait.DELETION
            )
        raise
    return Outcome.done(f"{WHAT} {rsc} deleted", None, [f"deleted {WHAT} {rsc}"])
