"""MachineRaid: a software RAID on a MAAS machine, created, grown, renamed, formatted, mounted
and deleted as the spec says. Every pass reads the machine, its block devices and its RAIDs and
writes to MAAS only what differs, so an idle drift check makes no changes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from stratum.api.maas import DeviceStatus, MachineRaidSpec, MachineRaidStatus, MachineSelector
from stratum.clients.errors import BackendConflict
from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import BlockDevice, Machine, Member, Raid
from stratum.reconcile import reasons
from stratum.reconcile.maas.capacity import MIN_ARRAY_SIZE, expected_size
from stratum.reconcile.maas.devices import Inventory, Key, Resolution, Resolved, human_size, resolve
from stratum.reconcile.maas.filesystem import FsStep, filesystem_status, plan_filesystem
from stratum.reconcile.maas.members import MemberUpdate, plan_members
from stratum.reconcile.maas.ownership import find_raid, owner_uuid, same_uuid
from stratum.reconcile.outcome import Outcome, Wait
from stratum.reconcile.reasons import Reason

WHAT = "RAID"


@dataclass(frozen=True)
class RaidInputs:
    name: str
    uid: str
    recorded_raid_id: int | None = None
    applied_filesystem: Mapping[str, Any] | None = None


def raid_name(name: str, spec: MachineRaidSpec) -> str:
    return spec.raid_name or name


class NotReady(Exception):
    """A pass stopped early with this outcome (machine missing, not Ready, conflict...)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def _selector(sel: MachineSelector) -> str:
    return f"systemId {sel.system_id}" if sel.system_id else f"hostname {sel.hostname}"


async def resolve_machine(client: MaasClient, sel: MachineSelector) -> Machine:
    if sel.system_id:
        machine = await client.get_machine(sel.system_id)
        found = [machine] if machine is not None else []
    else:
        found = [m for m in await client.list_machines(hostname=sel.hostname) if m.hostname == sel.hostname]
    if not found:
        raise NotReady(
            Outcome.waiting(
                reasons.MACHINE_NOT_FOUND,
                f"no MAAS machine with {_selector(sel)}; check "
                "spec.machine (the object waits until the machine exists)",
                retry=Wait.SLOW,
            )
        )
    if len(found) > 1:
        ids = ", ".join(m.system_id for m in found)
        raise NotReady(
            Outcome.waiting(
                reasons.MACHINE_AMBIGUOUS,
                f"several MAAS machines match {_selector(sel)} ({ids}); use spec.machine.systemId",
                retry=Wait.SLOW,
            )
        )
    return found[0]


def not_ready(machine: Machine, pending: str, status: MachineRaidStatus) -> NotReady:
    state = machine.status_name or f"status {machine.status}"
    return NotReady(
        Outcome.waiting(
            reasons.MACHINE_NOT_READY,
            f"machine {machine.describe()} is {state}, not Ready: MAAS changes storage only "
            f"on Ready machines, so {pending} waits until it is Ready (release the machine in MAAS)",
            status,
            retry=Wait.SLOW,
        )
    )


def _member_status(members: list[Member]) -> list[DeviceStatus]:
    return [
        DeviceStatus(name=m.display_name, id=m.id, type=m.type, size=m.size)
        for m in sorted(members, key=lambda m: (m.kind, m.id))
    ]


def set_raid_status(status: MachineRaidStatus, raid: Raid) -> None:
    vd = raid.virtual_device
    status.raid_id = raid.id
    status.raid_name = raid.name
    status.virtual_device_id = vd.id if vd else None
    status.size = raid.size_bytes
    status.devices = _member_status(raid.devices)
    status.spare_devices = _member_status(raid.spare_devices)


def _keys(members: list[Member]) -> list[Key]:
    return [(m.kind, m.id) for m in members]


def _ids(keys: list[Key], kind: str) -> list[int]:
    return [i for k, i in keys if k == kind]


class UpdateFields(TypedDict):
    remove_block_devices: list[int]
    remove_partitions: list[int]
    remove_spare_devices: list[int]
    remove_spare_partitions: list[int]
    add_block_devices: list[int]
    add_partitions: list[int]
    add_spare_devices: list[int]
    add_spare_partitions: list[int]


def update_kwargs(update: MemberUpdate[Key]) -> UpdateFields:
    """The PUT fields of one member update (block devices and partitions are separate fields)."""
    return {
        "remove_block_devices": _ids(update.remove_active, "device"),
        "remove_partitions": _ids(update.remove_active, "partition"),
        "remove_spare_devices": _ids(update.remove_spare, "device"),
        "remove_spare_partitions": _ids(update.remove_spare, "partition"),
        "add_block_devices": _ids(update.add_active, "device"),
        "add_partitions": _ids(update.add_active, "partition"),
        "add_spare_devices": _ids(update.add_spare, "device"),
        "add_spare_partitions": _ids(update.add_spare, "partition"),
    }


def describe_update(update: MemberUpdate[Key], names: dict[Key, str]) -> str:
    parts = []
    for label, keys in (
        ("removed", update.remove_active),
        ("removed spare", update.remove_spare),
        ("added", update.add_active),
        ("added spare", update.add_spare),
    ):
        if keys:
            parts.append(f"{label} {', '.join(names.get(k, str(k[1])) for k in keys)}")
    return "; ".join(parts)


def _name_taken(inventory: Inventory, name: str, raid: Raid | None) -> bool:
    device = inventory.has_name(name)
    own_md = raid.virtual_device.id if raid and raid.virtual_device else None
    return device is not None and device.id != own_md


# ------------------------------------------------------------------------------------ I/O


async def reconcile(client: MaasClient, spec: MachineRaidSpec, inputs: RaidInputs) -> Outcome:
    try:
        machine = await resolve_machine(client, spec.machine)
        return await _Pass(client, spec, inputs, machine).run()
    except NotReady as stop:
        return stop.outcome


@dataclass
class _Pass:
    """One reconcile pass on a resolved machine; collects status and actions as it goes."""

    client: MaasClient
    spec: MachineRaidSpec
    inputs: RaidInputs
    machine: Machine
    status: MachineRaidStatus = field(default_factory=MachineRaidStatus)
    actions: list[str] = field(default_factory=list)

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
            uuids=[u for u in (spec.uuid, self.inputs.uid) if u],
            recorded_id=self.inputs.recorded_raid_id,
            name=name,
            adopt=spec.adopt,
        )
        if found.conflict is not None or (found.raid is None and _name_taken(inventory, name, None)):
            what = f"{WHAT} {name}" if found.conflict is not None else f"block device {name}"
            raise self.wait(
                reasons.NAME_CONFLICT,
                f"{what} already exists on machine {where} and was not created by "
                "this object; nothing was changed. Set spec.adopt: true to manage that RAID, or "
                "choose another spec.raidName",
            )
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
        resolution = _resolve(spec, inventory, self.machine, raid, where)
        problem = resolution.problem
        if problem is not None:
            raise self.wait(problem.reason, problem.message)
        expected = expected_size(
            spec.level, [d.size for d in resolution.active], [d.size for d in resolution.spare]
        )
        self.status.expected_size = expected
        self.status.devices = [d.status() for d in resolution.active]
        self.status.spare_devices = [d.status() for d in resolution.spare]
        try:
            if raid is None:
                raid = await self._create(resolution, expected)
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
            raise self.wait(
                reasons.MACHINE_NOT_READY, f"machine {where} is not Ready any more: {exc.message}"
            ) from exc
        set_raid_status(self.status, raid)
        if spec.filesystem is not None or self.inputs.applied_filesystem:
            fs = raid.virtual_device.filesystem if raid.virtual_device else None
            self.status.filesystem = filesystem_status(fs) if spec.filesystem is not None else None
        message = f"{spec.level} {WHAT} {raid.name} on {where} matches the spec ({human_size(raid.size)})"
        return Outcome.done(message, self.status, self.actions)

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

        raid = await self.client.create_raid(
            self.sid,
            name=name,
            level=spec.level,
            uuid=owner_uuid(self.inputs.uid, spec.uuid),
            block_devices=ids(resolution.active, "device"),
            partitions=ids(resolution.active, "partition"),
            spare_devices=ids(resolution.spare, "device"),
            spare_partitions=ids(resolution.spare, "partition"),
        )
        spares = f" with spare {', '.join(d.name for d in resolution.spare)}" if resolution.spare else ""
        self.actions.append(
            f"created {spec.level} {WHAT} {name} on {self.where} from "
            f"{', '.join(d.name for d in resolution.active)}{spares} "
            f"({human_size(raid.size)}, expected {human_size(expected)})"
        )
        return raid

    async def _converge_members(self, raid: Raid, resolution: Resolution) -> Raid:
        updates = plan_members(
            self.spec.level,
            _keys(raid.devices),
            _keys(raid.spare_devices),
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


def _resolve(
    spec: MachineRaidSpec, inventory: Inventory, machine: Machine, raid: Raid | None, where: str
) -> Resolution:
    members = {(m.kind, m.id): m.size for m in (raid.devices + raid.spare_devices)} if raid else {}
    own_md = raid.virtual_device.id if raid and raid.virtual_device else None
    boot = machine.boot_disk.id if machine.boot_disk else None
    return resolve(
        inventory,
        spec.devices,
        spec.spare_devices,
        members=members,
        boot_disk_id=boot,
        own_md=own_md,
        where=where,
    )


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
    """Delete the array (or keep it, with Retain); ready=True once the object may go."""
    name = raid_name(inputs.name, spec)
    try:
        machine = await resolve_machine(client, spec.machine)
    except NotReady:
        return Outcome.done(f"machine {_selector(spec.machine)} no longer exists in MAAS", None, [])
    found = find_raid(
        await client.list_raids(machine.system_id),
        uuids=[u for u in (spec.uuid, inputs.uid) if u],
        recorded_id=inputs.recorded_raid_id,
        name=name,
        adopt=False,
    )
    raid, where = found.raid, machine.describe()
    if raid is None:
        return Outcome.done(f"{WHAT} {name} on {where} is gone", None, [])
    if spec.deletion_policy == "Retain":
        return Outcome.done(
            f"{WHAT} {raid.name} on {where} retained",
            None,
            [f"kept {WHAT} {raid.name} on {where} (deletionPolicy Retain)"],
        )
    if not machine.ready:
        state = machine.status_name or f"status {machine.status}"
        return Outcome.waiting(
            reasons.MACHINE_NOT_READY,
            f"cannot delete {WHAT} {raid.name}: machine {where} is "
            f"{state}, not Ready; release it in MAAS, or set deletionPolicy: Retain to "
            "keep the RAID",
            retry=Wait.SLOW,
        )
    try:
        deleted = await client.delete_raid(machine.system_id, raid.id)
    except BackendConflict as exc:
        return Outcome.waiting(
            reasons.MACHINE_NOT_READY, f"cannot delete {WHAT} {raid.name}: {exc.message}", retry=Wait.SLOW
        )
    actions = [f"deleted {WHAT} {raid.name} on {where}"] if deleted else []
    return Outcome.done(f"{WHAT} {raid.name} on {where} deleted", None, actions)
