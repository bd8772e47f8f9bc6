"""RAID endpoints: `nodes/{system_id}/raids/` and `nodes/{system_id}/raid/{id}/`.

Rules follow CreateRaidForm/UpdateRaidForm and FilesystemGroup: members are free devices
(no partition table, no filesystem) or free partitions given by id or name; a listed
boot disk turns every listed device into a single full-size partition; level minimums
and sizes as `_validate_raid`/`get_raid_size`; removals run (and validate) before
additions; the md virtual block device is created, renamed and deleted with the RAID.
"""

from __future__ import annotations

from .enums import RAID_ACTIVE, RAID_LEVELS, RAID_SPARE, READY
from .errors import BadRequest, Conflict, FormErrors, ModelErrors, NotFound, ServerError
from .filesystems import add_filesystem
from .forms import Form
from .model import BlockDevice, MaasState, Machine, Partition, Raid, new_uuid
from .partitions import add_partition
from .permissions import require_access, require_admin
from .registry import API_PREFIX, Call, Handler, Result, action, deleted
from .render import raid_json
from .sizes import MIN_BLOCK_DEVICE_SIZE, raid_level_error, raid_size


# -- model operations ----------------------------------------------------------------------
def create_partition(state: MaasState, machine: Machine, device: BlockDevice) -> Partition:
    """BlockDevice.create_partition: a GPT table with one partition over all free space."""
    return add_partition(state, machine, device, None)


def save_raid(state: MaasState, machine: Machine, raid: Raid) -> None:
    """RAID.save(): validate the array, then create or update its md virtual device."""
    if not raid.name:
        raise ModelErrors({"name": ["This field cannot be blank."]})
    members = machine.raid_members(raid.id)
    if not members:
        raise ModelErrors({"__all__": ["At least one filesystem must have been added."]})
    active = sum(1 for _, fs in members if fs.fstype == RAID_ACTIVE)
    spares = sum(1 for _, fs in members if fs.fstype == RAID_SPARE)
    message = raid_level_error(raid.level, active, spares)
    if message:
        raise ModelErrors({"__all__": [message]})
    size = raid_size(raid.level, [h.size for h, _ in members], active)
    virtual = machine.storage.block_devices.get(raid.virtual_device_id)
    if virtual is None:
        virtual = BlockDevice(
            id=0, name=raid.name, size=0, kind="virtual", uuid=new_uuid(), numa_node=None, raid_id=raid.id
        )
    virtual.name = raid.name
    virtual.size = int(size)
    virtual.block_size = 512
    if virtual.size < MIN_BLOCK_DEVICE_SIZE:
        raise ModelErrors(
            {"size": [f"Ensure this value is greater than or equal to {MIN_BLOCK_DEVICE_SIZE}."]}
        )
    for other in machine.storage.block_devices.values():
        if other is not virtual and other.name == virtual.name:
            raise ModelErrors({"__all__": ["Block device with this Node config and Name already exists."]})
    if virtual.id == 0:
        virtual.id = state.next_id("blockdevice")
        raid.virtual_device_id = virtual.id
        machine.storage.block_devices[virtual.id] = virtual
    machine.storage.raids[raid.id] = raid


def delete_raid(machine: Machine, raid: Raid) -> None:
    """FilesystemGroup.delete: the md device goes (with whatever sits on it); member
    filesystems cascade away so the members are free again."""
    machine.storage.raids.pop(raid.id, None)
    machine.storage.block_devices.pop(raid.virtual_device_id, None)
    for holder, fs in list(machine.all_filesystems()):
        if fs.raid_id == raid.id:
            holder.filesystems.remove(fs)
    if machine.storage.boot_disk_id == raid.virtual_device_id:
        machine.storage.boot_disk_id = None


def find_raid(call: Call) -> tuple[Machine, Raid]:
    """RAIDManager.get_object_or_404: by id, or by name across *all* nodes, then node check."""
    state = call.state
    key = call.args["id"]
    try:
        raid_id: int | None = int(key)
    except ValueError:
        raid_id = None
    if raid_id is not None:
        owner = state.raid_index.get(raid_id)
        candidates = [(state.machines[owner], state.machines[owner].storage.raids[raid_id])] if owner else []
    else:
        candidates = [
            (m, r) for m in state.machines.values() for r in m.storage.raids.values() if r.name == key
        ]
    if not candidates:
        raise NotFound("No RAID matches the given query.")
    if len(candidates) > 1:
        raise ServerError(f"get() returned more than one RAID -- it returned {len(candidates)}!")
    machine, raid = candidates[0]
    if machine.system_id != call.args["system_id"]:
        raise NotFound("")
    require_access(call.user, machine)
    return machine, raid


# -- form helpers --------------------------------------------------------------------------
def device_choices(devices: list[BlockDevice]) -> list[str]:
    return [str(d.id) for d in devices] + [d.name for d in devices]


def partition_choices(machine: Machine, partitions: list[Partition]) -> list[str]:
    return [str(p.id) for p in partitions] + [machine.partition_name(p) for p in partitions]


def device_ids(machine: Machine, values: list[str] | None) -> list[int]:
    result = []
    for value in values or []:
        device = machine.block_device(value)
        result.append(device.id if device is not None else int(value))
    return result


def partition_ids(machine: Machine, values: list[str] | None) -> list[int]:
    result = []
    for value in values or []:
        found = machine.partition(value)
        result.append(found[1].id if found is not None else int(value))
    return result


def get_partition(machine: Machine, pid: int) -> Partition:
    found = machine.partition(pid)
    assert found is not None
    return found[1]


# -- handlers ------------------------------------------------------------------------------
@action("read", "GET")
def list_raids(call: Call) -> Result:
    """List all RAID devices belonging to a machine."""
    machine = call.machine()
    return [raid_json(machine, r) for r in sorted(machine.storage.raids.values(), key=lambda r: r.id)]


@action("create", "POST")
def create_raid(call: Call) -> Result:
    """Create a RAID (Ready machines only)."""
    state, machine = call.state, call.machine()
    require_admin(call.user)  # api/raid.py: get_node_or_404(..., NodePermission.admin)
    if machine.status != READY:
        raise Conflict("Cannot create RAID because the machine is not Ready.")
    form = Form(call.params)
    free = machine.free_block_devices()
    free_parts = [p for _, p in machine.free_partitions()]
    name = form.char("name")
    uuid = form.uuid4("uuid")
    level = form.choice("level", RAID_LEVELS, required=True)
    block_devices = form.multiple_choice("block_devices", device_choices(free))
    partitions = form.multiple_choice("partitions", partition_choices(machine, free_parts))
    spare_devices = form.multiple_choice("spare_devices", device_choices(free))
    spare_partitions = form.multiple_choice("spare_partitions", partition_choices(machine, free_parts))
    bd_ids, part_ids = device_ids(machine, block_devices), partition_ids(machine, partitions)
    spare_ids, spare_part_ids = device_ids(machine, spare_devices), partition_ids(machine, spare_partitions)
    if block_devices is not None and partitions is not None and not bd_ids + part_ids:
        form.add_error("__all__", "At least one block device or partition must be added to the array.")
    if not form.valid:
        raise FormErrors(form.errors)
    assert level is not None
    call.begin(machine)
    devices = machine.storage.block_devices
    # Django's `filter(id__in=...)`: unique objects, in id order.
    active_devs = [devices[i] for i in sorted(set(bd_ids))]
    spare_devs = [devices[i] for i in sorted(set(spare_ids))]
    active_parts = [get_partition(machine, i) for i in sorted(set(part_ids))]
    spare_parts = [get_partition(machine, i) for i in sorted(set(spare_part_ids))]
    boot = machine.boot_disk()
    if boot is None:
        raise ServerError("'NoneType' object has no attribute 'id'")
    if boot.id in bd_ids + spare_ids:
        active_parts += [create_partition(state, machine, d) for d in active_devs]
        spare_parts += [create_partition(state, machine, d) for d in spare_devs]
        active_devs, spare_devs = [], []
    if not name:
        raise ModelErrors({"name": ["This field cannot be blank."]})
    raid = Raid(id=state.next_id("raid"), name=name, uuid=uuid or new_uuid(), level=level)
    machine.storage.raids[raid.id] = raid
    for dev in active_devs:
        add_filesystem(state, machine, dev, RAID_ACTIVE, raid_id=raid.id)
    for part in active_parts:
        add_filesystem(state, machine, part, RAID_ACTIVE, raid_id=raid.id)
    for dev in spare_devs:
        add_filesystem(state, machine, dev, RAID_SPARE, raid_id=raid.id)
    for part in spare_parts:
        add_filesystem(state, machine, part, RAID_SPARE, raid_id=raid.id)
    save_raid(state, machine, raid)
    return raid_json(machine, raid)


@action("read", "GET")
def read_raid(call: Call) -> Result:
    """Read a RAID by id or name."""
    machine, raid = find_raid(call)
    return raid_json(machine, raid)


@action("update", "PUT")
def update_raid(call: Call) -> Result:
    """Update a RAID: rename, new uuid, add/remove active and spare members."""
    state = call.state
    machine, raid = find_raid(call)
    require_admin(call.user)
    if machine.status != READY:
        raise Conflict("Cannot update RAID because the machine is not Ready.")
    form = Form(call.params)
    free = machine.free_block_devices()
    free_parts = [p for _, p in machine.free_partitions()]
    members = machine.raid_members(raid.id)
    member_devs = [h for h, _ in members if isinstance(h, BlockDevice)]
    member_parts = [h for h, _ in members if isinstance(h, Partition)]
    name = form.char("name")
    uuid = form.uuid4("uuid")
    add_bd = form.multiple_choice("add_block_devices", device_choices(free))
    add_p = form.multiple_choice("add_partitions", partition_choices(machine, free_parts))
    add_sd = form.multiple_choice("add_spare_devices", device_choices(free))
    add_sp = form.multiple_choice("add_spare_partitions", partition_choices(machine, free_parts))
    rm_bd = form.multiple_choice("remove_block_devices", device_choices(member_devs))
    rm_p = form.multiple_choice("remove_partitions", partition_choices(machine, member_parts))
    rm_sd = form.multiple_choice("remove_spare_devices", device_choices(member_devs))
    rm_sp = form.multiple_choice("remove_spare_partitions", partition_choices(machine, member_parts))
    if not form.valid:
        raise FormErrors(form.errors)
    call.begin(machine)
    devices = machine.storage.block_devices

    def ids_of(kind: type, fstype: str) -> list[int]:
        return [h.id for h, fs in members if isinstance(h, kind) and fs.fstype == fstype]

    cur_active_dev, cur_spare_dev = ids_of(BlockDevice, RAID_ACTIVE), ids_of(BlockDevice, RAID_SPARE)
    cur_active_part, cur_spare_part = ids_of(Partition, RAID_ACTIVE), ids_of(Partition, RAID_SPARE)

    def remove(holder: BlockDevice | Partition, what: str) -> None:
        fs = machine.effective_fs(holder)
        if fs is None or fs.raid_id != raid.id:
            raise BadRequest(f"{what} does not belong to this array.")
        holder.filesystems.remove(fs)
        save_raid(state, machine, raid)  # each removal is validated on its own

    # Removals first, each one validated immediately.
    for dev_id in device_ids(machine, rm_bd) + device_ids(machine, rm_sd):
        if dev_id in cur_active_dev + cur_spare_dev:
            remove(devices[dev_id], "Device")
    for part_id in partition_ids(machine, rm_p) + partition_ids(machine, rm_sp):
        if part_id in cur_active_part + cur_spare_part:
            remove(get_partition(machine, part_id), "Partition")

    def add(holder: BlockDevice | Partition, fstype: str) -> None:
        what = "partition" if isinstance(holder, Partition) else "device"
        if machine.effective_fs(holder) is not None:
            raise BadRequest(f"There is another filesystem on this {what}.")
        add_filesystem(state, machine, holder, fstype, raid_id=raid.id)

    def add_device(dev_id: int, fstype: str) -> None:
        device = devices[dev_id]
        boot = machine.boot_disk()
        if boot is not None and boot.id == device.id:
            add(create_partition(state, machine, device), fstype)
        else:
            add(device, fstype)

    for dev_id in device_ids(machine, add_bd):
        if dev_id not in cur_active_dev:
            add_device(dev_id, RAID_ACTIVE)
    for dev_id in device_ids(machine, add_sd):
        if dev_id not in cur_active_dev:
            add_device(dev_id, RAID_SPARE)
    for part_id in partition_ids(machine, add_p):
        if part_id not in cur_active_part:
            add(get_partition(machine, part_id), RAID_ACTIVE)
    for part_id in partition_ids(machine, add_sp):
        if part_id not in cur_active_part:
            add(get_partition(machine, part_id), RAID_SPARE)
    if name:
        raid.name = name
    if uuid:
        raid.uuid = uuid
    save_raid(state, machine, raid)
    return raid_json(machine, raid)


@action("delete", "DELETE")
def delete_raid_handler(call: Call) -> Result:
    """Delete a RAID (Ready machines only)."""
    machine, raid = find_raid(call)
    require_admin(call.user)
    if machine.status != READY:
        raise Conflict("Cannot delete RAID because the machine is not Ready.")
    call.begin(machine)
    delete_raid(machine, raid)
    return deleted()


HANDLERS = [
    Handler(
        name="RaidsHandler",
        path=API_PREFIX + "nodes/{system_id}/raids/",
        regex=r"^nodes/(?P<system_id>[^/]+)/raids/$",
        params=["system_id"],
        doc="Manage all RAID devices on a machine.",
        actions=[create_raid, list_raids],
    ),
    Handler(
        name="RaidHandler",
        path=API_PREFIX + "nodes/{system_id}/raid/{id}/",
        regex=r"^nodes/(?P<system_id>[^/]+)/raid/(?P<id>[^/]+)/$",
        params=["system_id", "id"],
        doc="Manage a specific RAID (Redundant Array of Independent Disks) on a machine.",
        actions=[read_raid, update_raid, delete_raid_handler],
    ),
]
