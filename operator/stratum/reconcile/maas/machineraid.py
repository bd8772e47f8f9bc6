"""MachineRaid: a software RAID on a MAAS machine, created (from disks, existing partitions and
partitions Stratum creates), grown, renamed, formatted, mounted and deleted as the spec says.
Every pass reads the machine, its block devices and its RAIDs and writes to MAAS only what
differs, so an idle drift check makes no changes. Members are followed by stable identity
(identity.py): a kernel rename changes nothing in MAAS, and an array wiped by commissioning is
re-created only on the same physical disks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stratum.api.maas import MachineRaidSpec, MachineRaidStatus
from stratum.clients.errors import BackendConflict, BackendForbidden
from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import BlockDevice, Machine, Partition, Raid
from stratum.reconcile import reasons
from stratum.reconcile.maas.capacity import MIN_ARRAY_SIZE, expected_size
from stratum.reconcile.maas.device_selector import choose
from stratum.reconcile.maas.devices import Inventory, Problem, Resolution, Resolved, human_size, resolve
from stratum.reconcile.maas.filesystem import FsStep, filesystem_status, plan_filesystem
from stratum.reconcile.maas.identity import Pin
from stratum.reconcile.maas.machines import NotReady, not_ready, ready_pacing, resolve_machine, selector
from stratum.reconcile.maas.members import plan_members
from stratum.reconcile.maas.ownership import find_raid, owner_uuid, same_uuid
from stratum.reconcile.maas.partitions import owned_partitions, plan_partitions, ref_of
from stratum.reconcile.maas.readytag import Sibling, want_tag
from stratum.reconcile.maas.tagging import apply_ready_tag
from stratum.reconcile.maas.updates import describe_update, member_keys, update_kwargs
from stratum.reconcile.outcome import Outcome, Wait
from stratum.reconcile.reasons import Reason

WHAT = "RAID"


@dataclass(frozen=True)
class RaidInputs:
    name: str
    uid: str
    recorded_raid_id: int | None = None
    applied_filesystem: Mapping[str, Any] | None = None
    pins: Mapping[str, Pin] = field(default_factory=dict)
    """Spec entries (and partitions[i]) pinned to the identity they first resolved to."""
    siblings: Callable[[Machine, str], Sequence[Sibling]] = lambda _machine, _tag: ()
    """The MachineRaids on a machine that name a readyTag (this one may be among them)."""
    recorded_ready_tag: str | None = None


def raid_name(name: str, spec: MachineRaidSpec) -> str:
    return spec.raid_name or name


def set_raid_status(status: MachineRaidStatus, raid: Raid, resolution: Resolution) -> None:
    vd = raid.virtual_device
    status.raid_id = raid.id
    status.raid_name = raid.name
    status.virtual_device_id = vd.id if vd else None
    status.size = raid.size_bytes
    status.devices = [d.status() for d in resolution.active]
    status.spare_devices = [d.status() for d in resolution.spare]


def _name_taken(inventory: Inventory, name: str, raid: Raid | None) -> bool:
    device = inventory.has_name(name)
    own_md = raid.virtual_device.id if raid and raid.virtual_device else None
    return device is not None and device.id != own_md


# ------------------------------------------------------------------------------------ I/O


async def reconcile(client: MaasClient, spec: MachineRaidSpec, inputs: RaidInputs) -> Outcome:
    try:
        machine = await resolve_machine(client, spec.machine)
    except NotReady as stop:
        return stop.outcome
    raid_pass = _Pass(client, spec, inputs, machine)
    try:
        outcome = await raid_pass.run()
    except NotReady as stop:
        outcome = stop.outcome
    except BackendForbidden as exc:
        if exc.status == 401:
            raise
        outcome = Outcome.waiting(
            reasons.FORBIDDEN, exc.message, raid_pass.status, retry=Wait.SLOW, actions=raid_pass.actions
        )
    if spec.ready_tag is None and inputs.recorded_ready_tag is None:
        return outcome
    siblings = inputs.siblings(machine, spec.ready_tag) if spec.ready_tag else ()
    want = want_tag(outcome.ready, siblings, inputs.uid)
    outcome.actions += await apply_ready_tag(
        client, machine, spec.ready_tag, want=want, recorded=inputs.recorded_ready_tag
    )
    if outcome.status is None:
        outcome.status = MachineRaidStatus()
    assert isinstance(outcome.status, MachineRaidStatus)
    outcome.status.ready_tag = spec.ready_tag
    return outcome


@dataclass
class _Pass:
    """One reconcile pass on a resolved machine; collects status and actions as it goes."""

    client: MaasClient
    spec: MachineRaidSpec
    inputs: RaidInputs
    machine: Machine
    status: MachineRaidStatus = field(default_factory=MachineRaidStatus)
    actions: list[str] = field(default_factory=list)
    uuid_pending: bool = False
    active_refs: list[str] = field(default_factory=list)
    """spec.devices, or the refs deviceSelector chose (device_selector.py)."""
    pins: dict[str, Pin] = field(default_factory=dict)
    """The recorded pins plus those of disks deviceSelector chose in this pass."""

    @property
    def sid(self) -> str:
        return self.machine.system_id

    @property
    def where(self) -> str:
        return self.machine.describe()

    @property
    def name(self) -> str:
        return raid_name(self.inputs.name, self.spec)

    def wait(self, reason: Reason, message: str) -> NotReady:
        return NotReady(Outcome.waiting(reason, message, self.status, retry=Wait.SLOW, actions=self.actions))

    def stall(self, problem: Problem) -> NotReady:
        return self.wait(problem.reason, problem.message)

    def require_ready(self, pending: str) -> None:
        if not self.machine.ready:
            raise not_ready(self.machine, pending, self.status)

    async def run(self) -> Outcome:
        spec, name, where = self.spec, self.name, self.where
        self.status.system_id = self.sid
        self.status.machine_status = self.machine.status_name
        inventory = Inventory(await self.client.list_block_devices(self.sid))
        found = find_raid(
            await self.client.list_raids(self.sid),
            owner=owner_uuid(self.inputs.uid),
            recorded_id=self.inputs.recorded_raid_id,
            name=name,
            spec_uuid=spec.uuid,
            adopt=spec.adopt,
        )
        if found.conflict is not None or (found.raid is None and _name_taken(inventory, name, None)):
            raise self.wait(reasons.NAME_CONFLICT, self._conflict_message(found.conflict, found.conflict_by))
        raid = found.raid
        if raid is not None and found.adopted:
            self.actions.append(f"adopted existing {WHAT} {raid.name} on {where}")
        if raid is not None and raid.level != spec.level:
            raise self.wait(
                reasons.LEVEL_MISMATCH,
                f"{WHAT} {raid.name} on {where} is {raid.level} but spec.level is "
                f"{spec.level}; MAAS cannot change the level of a RAID: delete this object and "
                "create one with the level you want",
            )
        self._choose_devices(inventory, raid)
        # Devices first: a missing or changed device stops the pass before any partition is made.
        resolution = self._resolve(inventory, raid, [], [])
        if resolution.problem is not None:
            raise self.stall(resolution.problem)
        inventory, own_active, own_spare = await self._ensure_partitions(inventory)
        resolution = self._resolve(inventory, raid, own_active, own_spare)
        if resolution.problem is not None:
            raise self.stall(resolution.problem)
        expected = expected_size(
            spec.level, [d.size for d in resolution.active], [d.size for d in resolution.spare]
        )
        self.status.expected_size = expected
        try:
            if raid is None:
                raid = await self._create(resolution, expected)
                self.uuid_pending = spec.uuid is not None and not same_uuid(raid.uuid, spec.uuid)
            else:
                raid = await self._converge_members(raid, resolution)
                if _name_taken(inventory, name, raid):
                    raise self.wait(
                        reasons.NAME_CONFLICT,
                        f"cannot rename {WHAT} {raid.name} to {name}: block device "
                        f"{name} already exists on machine {where}; choose another spec.raidName",
                    )
                raid = await self._rename(raid)
            raid = await self._converge_filesystem(raid)
        except BackendConflict as exc:
            # The machine left Ready between the read and the write.
            raise NotReady(
                Outcome.waiting(
                    reasons.MACHINE_NOT_READY,
                    f"machine {where} is not Ready any more: {exc.message}",
                    self.status,
                    retry=ready_pacing(self.machine),
                    actions=self.actions,
                )
            ) from exc
        set_raid_status(self.status, raid, resolution)
        if spec.filesystem is not None or self.inputs.applied_filesystem:
            fs = raid.virtual_device.filesystem if raid.virtual_device else None
            self.status.filesystem = filesystem_status(fs) if spec.filesystem is not None else None
        message = f"{spec.level} {WHAT} {raid.name} on {where} matches the spec ({human_size(raid.size)})"
        if self.uuid_pending:
            # Usable already; spec.uuid waits for the status write (ownership.py: crash window).
            return Outcome.done(
                f"{message}; it gets spec.uuid on the next pass, once its id is recorded in status",
                self.status,
                self.actions,
                progressing=True,
            )
        return Outcome.done(message, self.status, self.actions)

    def _conflict_message(self, conflict: Raid | None, by: str) -> str:
        name, where = self.name, self.where
        if conflict is None:
            what = f"block device {name}"
        elif by == "uuid":
            what = f"{WHAT} {conflict.name} with uuid {self.spec.uuid}"
        else:
            what = f"{WHAT} {name}"
        return (
            f"{what} already exists on machine {where} and was not created by this object; "
            "nothing was changed. Set spec.adopt: true to manage that RAID, or choose another "
            f"spec.{'uuid' if by == 'uuid' else 'raidName'}"
        )

    def _choose_devices(self, inventory: Inventory, raid: Raid | None) -> None:
        self.pins = dict(self.inputs.pins)
        selector = self.spec.device_selector
        if selector is None:
            self.active_refs = list(self.spec.devices)
            return
        members = {m.id for m in (raid.devices + raid.spare_devices) if m.kind == "device"} if raid else set()
        boot = self.machine.boot_disk.id if self.machine.boot_disk else None
        choice = choose(
            inventory.devices, selector, boot_disk_id=boot, pins=self.inputs.pins, members=members
        )
        if choice.shortage is not None:
            # A machine that is not Ready may still free its disks (released, re-commissioned).
            self.require_ready("choosing disks by deviceSelector")
            raise self.wait(reasons.NOT_ENOUGH_DEVICES, f"machine {self.where}: {choice.shortage}")
        self.pins.update(choice.new_pins)
        self.active_refs = choice.refs

    def _resolve(
        self,
        inventory: Inventory,
        raid: Raid | None,
        own_active: list[tuple[str, Partition]],
        own_spare: list[tuple[str, Partition]],
    ) -> Resolution:
        members = {(m.kind, m.id): m.size for m in (raid.devices + raid.spare_devices)} if raid else {}
        own_md = raid.virtual_device.id if raid and raid.virtual_device else None
        boot = self.machine.boot_disk.id if self.machine.boot_disk else None
        return resolve(
            inventory,
            self.active_refs,
            self.spec.spare_devices,
            members=members,
            boot_disk_id=boot,
            own_md=own_md,
            where=self.where,
            pins=self.pins,
            own_active=own_active,
            own_spare=own_spare,
        )

    async def _ensure_partitions(
        self, inventory: Inventory
    ) -> tuple[Inventory, list[tuple[str, Partition]], list[tuple[str, Partition]]]:
        """Stratum's own partitions, created where missing; the inventory as it is after."""
        specs = self.spec.partitions
        if not specs:
            return inventory, [], []
        plan = plan_partitions(specs, inventory, self.inputs.uid, self.inputs.pins, self.where)
        if plan.problems:
            first = min(plan.problems, key=lambda p: p.reason != reasons.DEVICES_CHANGED)
            raise self.wait(first.reason, "; ".join(p.message for p in plan.problems))
        if plan.create:
            self.require_ready(f"creating {plan.create[0].describe()}")
            for new in plan.create:
                # The uuid is the marker: a crash after this POST finds the partition next time.
                await self.client.create_partition(self.sid, new.disk.id, size=new.size, uuid=new.uuid)
                self.actions.append(f"created {new.describe()} on {self.where}")
            inventory = Inventory(await self.client.list_block_devices(self.sid))
            plan = plan_partitions(specs, inventory, self.inputs.uid, self.inputs.pins, self.where)
        active: list[tuple[str, Partition]] = []
        spare: list[tuple[str, Partition]] = []
        for index, part in sorted(plan.found.items()):
            (spare if specs[index].spare else active).append((ref_of(index), part))
        return inventory, active, spare

    async def _create(self, resolution: Resolution, expected: int) -> Raid:
        spec, name = self.spec, self.name
        smallest = min(resolution.active + resolution.spare, key=lambda d: d.size)
        if expected < MIN_ARRAY_SIZE:
            raise self.wait(
                reasons.DEVICE_TOO_SMALL,
                f"{spec.level} from these devices would hold only "
                f"{max(expected, 0)} bytes (the smallest is {smallest.name}); MAAS needs at least "
                "4 MiB: choose larger devices",
            )
        self.require_ready(f"creating {WHAT} {name}")

        def ids(items: list[Resolved], kind: str) -> list[int]:
            return [d.key[1] for d in items if d.key[0] == kind]

        # Always created with Stratum's marker uuid; spec.uuid is set once status records the
        # array (ownership.py explains the crash window this closes).
        raid = await self.client.create_raid(
            self.sid,
            name=name,
            level=spec.level,
            uuid=owner_uuid(self.inputs.uid),
            block_devices=ids(resolution.active, "device"),
            partitions=ids(resolution.active, "partition"),
            spare_devices=ids(resolution.spare, "device"),
            spare_partitions=ids(resolution.spare, "partition"),
        )
        again = " again (the array had been wiped)" if self.inputs.recorded_raid_id is not None else ""
        spares = f" with spare {', '.join(d.name for d in resolution.spare)}" if resolution.spare else ""
        self.actions.append(
            f"created {spec.level} {WHAT} {name}{again} on {self.where} from "
            f"{', '.join(d.name for d in resolution.active)}{spares} "
            f"({human_size(raid.size)}, expected {human_size(expected)})"
        )
        return raid

    async def _converge_members(self, raid: Raid, resolution: Resolution) -> Raid:
        updates = plan_members(
            self.spec.level,
            member_keys(raid.devices),
            member_keys(raid.spare_devices),
            [d.key for d in resolution.active],
            [d.key for d in resolution.spare],
        )
        if not updates:
            return raid
        self.require_ready(f"changing the members of {WHAT} {raid.name}")
        names = {(m.kind, m.id): m.display_name for m in raid.devices + raid.spare_devices}
        names.update({d.key: d.name for d in resolution.active + resolution.spare})
        for update in updates:
            raid = await self.client.update_raid(self.sid, raid.id, **update_kwargs(update))
            self.actions.append(f"{WHAT} {raid.name}: {describe_update(update, names)}")
        return raid

    async def _rename(self, raid: Raid) -> Raid:
        name, spec_uuid = self.name, self.spec.uuid
        rename = raid.name != name
        new_uuid = spec_uuid if spec_uuid and not same_uuid(raid.uuid, spec_uuid) else None
        if new_uuid is not None and self.inputs.recorded_raid_id != raid.id:
            self.uuid_pending, new_uuid = True, None
        if not rename and new_uuid is None:
            return raid
        self.require_ready(
            f"renaming {WHAT} {raid.name} to {name}" if rename else f"setting the uuid of {WHAT} {raid.name}"
        )
        old = raid.name
        raid = await self.client.update_raid(self.sid, raid.id, name=name if rename else None, uuid=new_uuid)
        if rename:
            self.actions.append(f"renamed {WHAT} {old} to {name} on {self.where}")
        if new_uuid:
            self.actions.append(f"set the uuid of {WHAT} {name} to {new_uuid}")
        return raid

    async def _converge_filesystem(self, raid: Raid) -> Raid:
        md = raid.virtual_device
        if md is None:
            return raid
        steps = plan_filesystem(self.spec.filesystem, md.filesystem, self.inputs.applied_filesystem)
        if not steps:
            return raid
        # Allocated machines accept filesystem changes too, but MAAS drops them on release.
        self.require_ready(f"the filesystem on {md.name}")
        for step in steps:
            md = await _apply(self.client, self.sid, md, step)
            self.actions.append(f"{step.describe(md.name)} on {self.where}")
        return raid.model_copy(update={"virtual_device": md})


async def _apply(client: MaasClient, sid: str, md: BlockDevice, step: FsStep) -> BlockDevice:
    if step.op == "format":
        assert step.fstype is not None
        return await client.format_block_device(sid, md.id, step.fstype)
    if step.op == "mount":
        return await client.mount_block_device(sid, md.id, step.mount_point, mount_options=step.mount_options)
    if step.op == "unmount":
        return await client.unmount_block_device(sid, md.id)
    return await client.unformat_block_device(sid, md.id)


async def finalize(client: MaasClient, spec: MachineRaidSpec, inputs: RaidInputs) -> Outcome:
    """Take the readyTag off, then delete the array and Stratum's partitions (or keep both, with
    Retain); ready=True once the object may go."""
    name = raid_name(inputs.name, spec)
    try:
        machine = await resolve_machine(client, spec.machine)
    except NotReady:
        return Outcome.done(f"machine {selector(spec.machine)} no longer exists in MAAS", None, [])
    where = machine.describe()
    actions = await apply_ready_tag(
        client, machine, spec.ready_tag, want=False, recorded=inputs.recorded_ready_tag
    )
    found = find_raid(
        await client.list_raids(machine.system_id),
        owner=owner_uuid(inputs.uid),
        recorded_id=inputs.recorded_raid_id,
        name=name,
        spec_uuid=spec.uuid,
        adopt=False,
    )
    raid = found.raid
    if spec.deletion_policy == "Retain":
        kept = f"{WHAT} {raid.name} on {where} retained" if raid else f"{WHAT} {name} on {where} is gone"
        extra = [f"kept {WHAT} {raid.name} on {where} (deletionPolicy Retain)"] if raid else []
        return Outcome.done(kept, None, actions + extra)
    owned = owned_partitions(await client.list_block_devices(machine.system_id), inputs.uid)
    if raid is None and not owned:
        return Outcome.done(f"{WHAT} {name} on {where} is gone", None, actions)
    if not machine.ready:
        state = machine.status_name or f"status {machine.status}"
        return Outcome.waiting(
            reasons.MACHINE_NOT_READY,
            f"cannot delete {WHAT} {name}: machine {where} is "
            f"{state}, not Ready; release it in MAAS, or set deletionPolicy: Retain to "
            "keep the RAID",
            retry=ready_pacing(machine),
            actions=actions,
        )
    try:
        if raid is not None and await client.delete_raid(machine.system_id, raid.id):
            actions.append(f"deleted {WHAT} {raid.name} on {where}")
        for disk, part in owned:
            if await client.delete_partition(machine.system_id, disk.id, part.id):
                actions.append(f"deleted partition {part.name} on {where}")
    except BackendConflict as exc:
        return Outcome.waiting(
            reasons.MACHINE_NOT_READY,
            f"cannot delete {WHAT} {name}: {exc.message}",
            retry=ready_pacing(machine),
            actions=actions,
        )
    return Outcome.done(f"{WHAT} {name} on {where} deleted", None, actions)
