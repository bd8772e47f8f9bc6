"""Resource: a LINSTOR resource definition with volumes and placements, spawned from a group or
restored from a snapshot; grown, attached, rolled back and deleted as the spec says."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from stratum.api.linstor import (
    ReplicaStatus,
    ResourceSpec,
    ResourceStatus,
    RollbackSent,
    RollbackStatus,
    VolumeStatus,
)
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import apicallrc as rc
from stratum.clients.linstor.models import Resource, ResourceDefinition
from stratum.reconcile import reasons
from stratum.reconcile.linstor import backuprestore, rollback
from stratum.reconcile.linstor.ownership import (
    MANAGED_PROP,
    OWNER_PROP,
    Claim,
    claim,
    conflict_message,
    conflict_reason,
)
from stratum.reconcile.linstor.placement import (
    PLACED_BY,
    PlacementPlan,
    placed_by_us,
    plan_placement,
    wanted_diskful,
)
from stratum.reconcile.linstor.properties import PropsChange, marker_props, plan_props
from stratum.reconcile.linstor.refs import GroupRef, SnapshotRef
from stratum.reconcile.linstor.replica_health import assess, assess_replica
from stratum.reconcile.linstor.rollback import RecordIntent
from stratum.reconcile.outcome import Degradation, Outcome, Wait
from stratum.reconcile.quantities import kib_to_quantity, quantity_kib
from stratum.reconcile.reasons import Reason

WHAT = "LINSTOR resource"
ALLOW_TWO_PRIMARIES = "DrbdOptions/Net/allow-two-primaries"
# The snapshot a finished restore came from (a record: a restore copies the source's properties,
# so this key alone cannot say whether *this* restore is done; the marker below does).
RESTORED_PROP = "Aux/stratum.dev/restored-from"
# Present on a restore target until the restore is finished; the key carries the object's uid.
# Once it is gone, a later loss of every replica is topped up by autoplace, never restored again.
RESTORING_PREFIX = "Aux/stratum.dev/restoring-"
RESIZE_FLAG = "RESIZE"
UNKNOWN_STATE = "Unknown"


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
    resize_blocked_by: list[str] = field(default_factory=list)
    """Replicas that keep a resize from being sent (not UpToDate or unreachable)."""
    props: PropsChange = field(default_factory=PropsChange)
    placement: PlacementPlan = field(default_factory=PlacementPlan)
    oversized: list[int] = field(default_factory=list)

    # The placement steps, under the names callers and tests know.
    @property
    def make_diskful(self) -> list[str]:
        return self.placement.make_diskful

    @property
    def toggle_diskful(self) -> list[str]:
        return self.placement.toggle_diskful

    @property
    def make_diskless(self) -> list[str]:
        return self.placement.make_diskless

    @property
    def autoplace(self) -> bool:
        return self.placement.autoplace

    @property
    def changes(self) -> bool:
        return bool(self.create_volumes or self.grow_volumes or self.props or self.placement.changes)


def plan_resource(
    spec: ResourceSpec, rd: ResourceDefinition, resources: list[Resource], uid: str, place_count: int | None
) -> ResourcePlan:
    plan = ResourcePlan()
    health = assess(resources, wanted_diskful(spec, place_count))
    volumes = {vd.volume_number: vd for vd in rd.volume_definitions}
    grow: list[tuple[int, int]] = []
    for number, volume in enumerate(spec.volumes):
        want = quantity_kib(volume.size)
        found = volumes.get(number)
        if found is None:
            plan.create_volumes.append((number, want))
        elif found.size_kib < want:
            grow.append((number, want))
        elif found.size_kib > want:
            plan.oversized.append(number)
    if grow:
        # LINSTOR refuses a resize unless every diskful replica reports UpToDate
        # (CtrlVlmDfnModifyApiCallHandler, FAIL_NOT_ALL_UPTODATE): wait instead of failing.
        plan.resize_blocked_by = [r.node for r in health.diskful if not (r.reachable and r.up_to_date)]
        if not plan.resize_blocked_by:
            plan.grow_volumes = grow
    plan.props = plan_props(desired_props(spec), rd.props, uid)
    plan.placement = plan_placement(spec, resources, uid, place_count, health)
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
                resizing=RESIZE_FLAG in vd.flags,
            )
        )
    return out


def replica_status(resources: list[Resource], uid: str | None = None) -> list[ReplicaStatus]:
    out = []
    live = [r for r in resources if not r.deleting]
    for rsc in sorted(live, key=lambda r: r.node_name):
        health = assess_replica(rsc, live)
        out.append(
            ReplicaStatus(
                node=rsc.node_name,
                diskless=rsc.diskless,
                tie_breaker=rsc.tie_breaker,
                state=health.disk_state if health.reachable else UNKNOWN_STATE,
                reachable=health.reachable,
                in_use=health.in_use,
                placed_by_stratum=uid is not None and placed_by_us(rsc, uid),
            )
        )
    return out


def rollback_due(spec: ResourceSpec, last: RollbackStatus | None) -> bool:
    return spec.rollback is not None and (last.request_id if last else None) != spec.rollback.request_id


# ------------------------------------------------------------------------------ restore ownership
# A restore copies the snapshot's resource-definition properties onto the target with override
# (linstor-server CtrlSnapshotRestoreApiCallHandler, CtrlPropsHelper.copy), owner marker and
# all: right after `snapshot-restore-resource` the target says it belongs to the source's
# object. So the target is created with a second marker whose *key* names this object's uid,
# which no snapshot can carry, and which the restore therefore never overwrites. Rule: a
# restore target is ours while that key is present (whatever the owner marker says); the
# pass that finishes the restore sets the owner marker back and removes the key in one request.
# A pass can die after the create (marker present, restore pending), after the volume
# definitions, after the resources (owner copied, marker still present) or after the final
# update (owner ours, marker gone): each is recognised on the next pass.


def restore_marker(uid: str) -> str:
    return f"{RESTORING_PREFIX}{uid}"


def restore_pending(rd: ResourceDefinition, uid: str) -> bool:
    return restore_marker(uid) in rd.props


# ------------------------------------------------------------------------------------ I/O


@dataclass
class ResourceInputs:
    """What the handlers know besides the spec: the group and snapshots it refers to, and what
    earlier passes recorded in status."""

    name: str
    uid: str
    group: GroupRef | None
    restore_snapshot: SnapshotRef | None = None
    rollback_snapshot: SnapshotRef | None = None
    last_rollback: RollbackStatus | None = None
    restore_backup: backuprestore.BackupRef | None = None
    rollback_sent: RollbackSent | None = None
    record_rollback: RecordIntent | None = None
    """Stores status.rollbackSent durably before the rollback is sent (None: nowhere to store
    it, as in tests of the plan alone)."""
    ready_before: bool = False
    """Ready=True when the pass started: it stays True while one UpToDate replica is reachable."""
    converged_at_generation: bool = False
    """Ready=True and Reconciling not True at the object's current generation: what is wrong now
    is ill health (Degraded), not a change still to be made."""
    created_before: bool = True
    """An earlier pass saw the definition (status lists its volumes). False lets a pass that
    would only wait for its group report that without reading LINSTOR first."""


@dataclass
class Pass:
    """What one pass collects while it talks to LINSTOR."""

    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    """Placements LINSTOR refused, one sentence each."""

    def answered(self, answers: list[rc.ApiCallRc]) -> None:
        self.warnings.extend(w for w in rc.warnings(answers) if w not in self.warnings)


async def _create(
    client: LinstorClient, spec: ResourceSpec, inp: ResourceInputs, rsc: str, run: Pass
) -> Outcome | None:
    """Create the definition; an Outcome when it cannot be created yet."""
    group = inp.group
    if group is None or not group.ready:
        return _waiting_for_group(spec, group, rsc)
    props = {**desired_props(spec), **marker_props(inp.uid, desired_props(spec))}
    if spec.restore_from is not None and spec.restore_from.backup is not None:
        waiting = backuprestore.not_ready(spec, inp.restore_backup)
        if waiting is not None:
            return waiting
        props[restore_marker(inp.uid)] = spec.restore_from.backup
        run.answered(await client.create_resource_definition(rsc, group=group.linstor_name, props=props))
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
        props[restore_marker(inp.uid)] = snap.linstor_name
        run.answered(await client.create_resource_definition(rsc, group=group.linstor_name, props=props))
        return None
    sizes = [quantity_kib(v.size) for v in spec.volumes]
    # With nodes named in the spec, definitions only: the pinned replicas are placed first, so
    # that autoplace counts them toward placeCount instead of placing placeCount replicas besides
    # them. Without, the spawn places the group's replicas itself: definition, volumes and
    # autoplace in one request, all or nothing (linstor-server CtrlRscGrpApiCallHandler
    # spawnInTransaction: a failed autoplace rolls the definition back).
    named = bool(spec.diskful_nodes or spec.diskless_nodes)
    run.answered(await client.spawn(group.linstor_name, rsc, sizes, props=props, definitions_only=named))
    if not named:
        run.actions.append(f"placed the replicas of {rsc}")
    return None


def _waiting_for_group(spec: ResourceSpec, group: GroupRef | None, rsc: str) -> Outcome:
    state = "does not exist" if group is None else "is not Ready"
    return Outcome.waiting(
        reasons.WAITING_FOR_RESOURCE_GROUP,
        f"ResourceGroup {spec.resource_group} {state}; the resource is created once it is Ready",
        ResourceStatus(linstor_name=rsc),
    )


async def _restore(
    client: LinstorClient,
    spec: ResourceSpec,
    inp: ResourceInputs,
    *,
    rd: ResourceDefinition,
    resources: list[Resource],
    run: Pass,
) -> Outcome | None:
    """Finish a restore: volume definitions, then resources on the snapshot's nodes, then the
    owner marker back and the restore marker away (see "restore ownership" above)."""
    snap = inp.restore_snapshot
    if snap is None or not snap.resource_linstor_name:
        wanted = spec.restore_from.snapshot if spec.restore_from else "?"
        return Outcome.waiting(reasons.WAITING_FOR_SNAPSHOT, f"Snapshot {wanted} is not available")
    source = snap.resource_linstor_name
    if not rd.volume_definitions:
        run.answered(await client.restore_volume_definitions(source, snap.linstor_name, rd.name))
        run.actions.append(f"restored volume definitions of {rd.name} from snapshot {snap.linstor_name}")
    if not resources:
        try:
            run.answered(await client.restore_resources(source, snap.linstor_name, rd.name))
        except LinstorError as exc:
            if not exc.has_code(rc.FAIL_EXISTS_RSC_DFN, 502):
                raise
        run.actions.append(f"restored {rd.name} from snapshot {source}/{snap.linstor_name}")
    run.answered(
        await client.modify_resource_definition(
            rd.name,
            override_props={OWNER_PROP: inp.uid, RESTORED_PROP: snap.linstor_name},
            delete_props=[restore_marker(inp.uid)],
        )
    )
    return None


async def reconcile(client: LinstorClient, spec: ResourceSpec, inp: ResourceInputs) -> Outcome:
    rsc = linstor_name(inp.name, spec)
    run = Pass()
    if not (inp.created_before or spec.adopt) and (inp.group is None or not inp.group.ready):
        # Nothing to adopt and never created: this pass could only wait for the group.
        return _waiting_for_group(spec, inp.group, rsc)
    rd = await client.get_resource_definition(rsc)
    resources: list[Resource] | None = None
    if rd is None:
        waiting = await _create(client, spec, inp, rsc, run)
        if waiting is not None:
            return waiting
        run.actions.insert(0, f"created {WHAT} {rsc}")
        # Read back what was created: the definition and its resources, at once.
        rd, resources = await asyncio.gather(
            client.get_resource_definition(rsc), client.list_resources([rsc])
        )
        if rd is None:
            return Outcome.waiting(
                reasons.CREATING,
                f"{WHAT} {rsc} is not listed yet",
                ResourceStatus(linstor_name=rsc),
                retry=Wait.SOON,
                actions=run.actions,
            )

    claimed = Claim.OURS if restore_pending(rd, inp.uid) else claim(rd.props, inp.uid, spec.adopt)
    if claimed in (Claim.CONFLICT, Claim.OWNED_ELSEWHERE):
        return Outcome.waiting(
            conflict_reason(claimed), conflict_message(WHAT, rsc, claimed), retry=Wait.SLOW
        )
    if claimed is Claim.ADOPT:
        run.actions.append(f"adopted existing {WHAT} {rsc}")

    if resources is None:
        resources = await client.list_resources([rsc])
    if spec.restore_from is not None and restore_pending(rd, inp.uid):
        if spec.restore_from.backup is not None:
            waiting = await backuprestore.restore(
                client,
                spec,
                inp.restore_backup,
                rd=rd,
                resources=resources,
                group=inp.group.linstor_name if inp.group else "",
                finished=backuprestore.Finished(
                    override={OWNER_PROP: inp.uid},
                    restored_prop=RESTORED_PROP,
                    delete=[restore_marker(inp.uid)],
                ),
                actions=run.actions,
            )
        else:
            waiting = await _restore(client, spec, inp, rd=rd, resources=resources, run=run)
        if waiting is not None:
            return waiting
        rd = await client.get_resource_definition(rsc) or rd
        resources = await client.list_resources([rsc])

    place_count = inp.group.place_count if inp.group else None
    plan = plan_resource(spec, rd, resources, inp.uid, place_count)
    await _apply(client, rsc, plan, run, uid=inp.uid, group=rd.resource_group_name)

    status = ResourceStatus(linstor_name=rsc, resource_group=rd.resource_group_name)
    if inp.last_rollback:
        status.last_rollback = inp.last_rollback
    rolled_back = False
    if spec.rollback is not None and rollback_due(spec, inp.last_rollback):
        waiting = await rollback.send_once(
            client,
            rsc,
            spec.rollback,
            rollback.History(inp.last_rollback, inp.rollback_sent, inp.record_rollback),
            snapshot=inp.rollback_snapshot,
            resources=resources,
            status=status,
            actions=run.actions,
            warnings=run.warnings,
        )
        if waiting is not None:
            return waiting
        rolled_back = True

    # Creating and restoring re-read already; only changes made after the last read need another.
    if plan.changes or rolled_back:
        rd = await client.get_resource_definition(rsc) or rd
        resources = await client.list_resources([rsc])
    status.volumes = volume_status(rd, resources)
    status.replicas = replica_status(resources, inp.uid)
    return _conclude(spec, inp, rsc=rsc, resources=resources, plan=plan, status=status, run=run)


def _conclude(
    spec: ResourceSpec,
    inp: ResourceInputs,
    *,
    rsc: str,
    resources: list[Resource],
    plan: ResourcePlan,
    status: ResourceStatus,
    run: Pass,
) -> Outcome:
    """Ready only when the data is usable: a new resource once every diskful replica is UpToDate
    and connected; a Ready one stays Ready while one UpToDate replica is reachable, a spec change
    then shows as Reconciling (progressing) until it is realized, and Degraded names what is
    short of full health."""
    place_count = inp.group.place_count if inp.group else None
    health = assess(resources, wanted_diskful(spec, place_count))
    summary = health.summary()
    degraded = Degradation(*summary) if summary else None

    def waiting(reason: Reason, message: str, retry: Wait = Wait.WAIT) -> Outcome:
        out = Outcome.waiting(reason, message, status, retry=retry, actions=run.actions, degraded=degraded)
        out.warnings = run.warnings
        return out

    if run.refused:
        return waiting(reasons.NOT_ENOUGH_NODES, f"{WHAT} {rsc}: {'; '.join(run.refused)}", Wait.SLOW)
    pending = _pending(spec, inp, rsc=rsc, resources=resources, plan=plan, status=status, summary=summary)
    if pending is not None and not (inp.ready_before and health.usable):
        reason, message, retry = pending
        if inp.ready_before:
            reason, message = (
                reasons.NO_USABLE_REPLICA,
                f"{WHAT} {rsc}: no reachable UpToDate replica; {message}",
            )
        return waiting(reason, message, retry)
    if not health.usable:
        detail = summary[1] if summary else "no diskful replica"
        return waiting(reasons.NO_USABLE_REPLICA, f"{WHAT} {rsc}: no reachable UpToDate replica; {detail}")
    message = f"{WHAT} {rsc} matches the spec"
    reason = reasons.READY
    if pending is not None:
        reason, progress, _ = pending
        message = f"{WHAT} {rsc} is usable; {progress.removeprefix(f'{WHAT} {rsc}: ')}"
    elif summary is not None:
        message = f"{WHAT} {rsc} is usable but degraded: {summary[1]}"
    if plan.oversized:
        reason = reasons.LARGER_THAN_SPEC
        message = (
            f"{message}; it is larger than the spec asks for volume(s) {plan.oversized}; "
            "LINSTOR volumes cannot shrink"
        )
    if plan.placement.kept:
        message = f"{message}; {'; '.join(plan.placement.kept)}"
    out = Outcome.done(
        message, status, run.actions, reason=reason, progressing=pending is not None, degraded=degraded
    )
    if pending is not None:
        out.retry = pending[2]
    out.warnings = run.warnings
    return out


def _pending(
    spec: ResourceSpec,
    inp: ResourceInputs,
    *,
    rsc: str,
    resources: list[Resource],
    plan: ResourcePlan,
    status: ResourceStatus,
    summary: tuple[Reason, str] | None,
) -> tuple[Reason, str, Wait] | None:
    """What keeps the spec from being fully realized, or None."""
    missing = _unmet(spec, resources)
    if missing:
        return reasons.PLACING, f"{WHAT} {rsc}: {missing}", Wait.WAIT
    if plan.resize_blocked_by:
        nodes = ", ".join(plan.resize_blocked_by)
        return (
            reasons.RESIZE_BLOCKED,
            f"{WHAT} {rsc}: the resize waits until the replica on {nodes} is UpToDate and its "
            "satellite connected (LINSTOR refuses to resize otherwise)",
            Wait.WAIT,
        )
    resizing = [v.number for v in status.volumes if v.resizing]
    if resizing:
        return reasons.RESIZING, f"{WHAT} {rsc}: LINSTOR is growing volume(s) {resizing}", Wait.SOON
    # Once realized at this generation, ill health is Degraded, not work left toward the spec.
    if summary is not None and not inp.converged_at_generation:
        reason, message = summary
        return reason, f"{WHAT} {rsc}: {message}", Wait.SOON if reason is reasons.SYNCING else Wait.WAIT
    return None


async def _add_disk(client: LinstorClient, rsc: str, node: str, pools: tuple[str, ...], run: Pass) -> bool:
    """Toggle a diskless replica (e.g. a tie-breaker on a node now pinned) to diskful in one of
    the group's pools, the first the node has; without pools LINSTOR resolves its default."""
    for pool in pools or (None,):
        try:
            run.answered(await client.toggle_disk(rsc, node, diskful=True, pool=pool))
        except LinstorError as exc:
            if pool is None or not exc.has_code(rc.FAIL_NOT_FOUND_STOR_POOL, rc.FAIL_NOT_FOUND_STOR_POOL_DFN):
                raise
            continue
        return True
    run.refused.append(f"{node} has none of the group's storage pools {', '.join(pools)}")
    return False


async def _apply(
    client: LinstorClient, rsc: str, plan: ResourcePlan, run: Pass, *, uid: str, group: str | None
) -> None:
    mine = {PLACED_BY: uid}
    for number, kib in plan.create_volumes:
        run.answered(await client.create_volume_definition(rsc, number, kib))
        run.actions.append(f"added volume {number} ({kib_to_quantity(kib)}) to {rsc}")
    for number, kib in plan.grow_volumes:
        try:
            run.answered(await client.resize_volume_definition(rsc, number, kib))
        except LinstorError as exc:
            if not exc.has_code(rc.FAIL_NOT_ALL_UPTODATE):
                raise
            # A replica fell behind between the read and the resize: wait for it like the plan does.
            plan.resize_blocked_by = [exc.answers[-1].obj_refs.get("Node", "a replica")]
            continue
        run.actions.append(f"grew volume {number} of {rsc} to {kib_to_quantity(kib)}")
    if plan.props:
        run.answered(
            await client.modify_resource_definition(
                rsc, override_props=plan.props.override, delete_props=plan.props.delete
            )
        )
    placement = plan.placement
    for node in placement.make_diskful:
        # Autoplace restricted to the node, so the group's pools and layers apply (a plain
        # resource create would use the node's default storage pool), then Stratum's mark.
        try:
            run.answered(await client.autoplace(rsc, {"node_name_list": [node], "additional_place_count": 1}))
        except LinstorError as exc:
            if not exc.has_code(rc.FAIL_NOT_ENOUGH_NODES):
                raise
            run.refused.append(f"{node} cannot hold a replica under the group's placement ({exc.message})")
            continue
        run.answered(await client.modify_resource(rsc, node, override_props=mine))
        run.actions.append(f"placed a diskful replica of {rsc} on {node}")
    pools: tuple[str, ...] = ()
    if placement.toggle_diskful and group:
        found = await client.get_resource_group(group)
        pools = tuple(found.select_filter.pools) if found else ()
    for node in placement.toggle_diskful:
        if await _add_disk(client, rsc, node, pools, run):
            run.answered(await client.modify_resource(rsc, node, override_props=mine))
            run.actions.append(f"made the replica of {rsc} on {node} diskful")
    for node in placement.make_diskless:
        run.answered(await client.create_resource(rsc, node, diskless=True, props=mine))
        run.actions.append(f"attached {rsc} diskless on {node}")
    if placement.autoplace:
        answers = await client.autoplace(rsc)
        run.answered(answers)
        if any(a.code == rc.CREATED and not a.is_warning for a in answers):
            run.actions.append(f"placed missing replicas of {rsc}")
    for node in placement.remove:
        run.answered(await client.delete_resource(rsc, node))
        run.actions.append(f"removed the replica of {rsc} on {node} (no longer wanted there)")


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
    if claim(rd.props, uid, False) is not Claim.OURS and not restore_pending(rd, uid):
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
