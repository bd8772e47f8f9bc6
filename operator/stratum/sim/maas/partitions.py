"""Partition endpoints: `.../blockdevices/{device_id}/partitions/` and the detail route
`.../blockdevices/{device_id}/partition[s]/{id}` (no trailing slash)."""

from __future__ import annotations

from .enums import READY
from .errors import BadRequest, Conflict, FormErrors, ModelErrors, NotFound, ServerError
from .filesystems import (
    check_allocated_operation,
    format_holder,
    mount_holder,
    unformat_holder,
    unmount_holder,
)
from .forms import Form
from .model import BlockDevice, MaasState, Machine, Partition, PartitionTable, new_uuid
from .permissions import require_admin
from .registry import API_PREFIX, Call, Handler, Result, action, deleted
from .render import partition_json
from .sizes import MAX_PARTITION_SIZE_FOR_MBR, MIN_PARTITION_SIZE, PARTITION_ALIGNMENT_SIZE, round_down

NOT_ENOUGH_SPACE = "Partition cannot be saved; not enough free space on the block device."


def next_index(machine: Machine, device: BlockDevice, table: PartitionTable) -> int:
    """Partition._get_partition_number."""
    index = max((p.index for p in table.partitions), default=0) + 1
    if index == 4 and table.table_type == "MBR":
        return 5
    if index == 1 and table.table_type == "GPT":
        arch = machine.architecture.split("/", 1)[0]
        boot = machine.boot_disk()
        prep = arch == "ppc64el" and boot is not None and boot.id == device.id
        bios_grub = arch == "amd64" and machine.bios_boot_method != "uefi" and device.kind == "physical"
        if prep or bios_grub:
            return 2
    return index


def add_partition(
    state: MaasState,
    machine: Machine,
    device: BlockDevice,
    size: int | None,
    *,
    uuid: str | None = None,
    bootable: bool = False,
) -> Partition:
    """PartitionTable.get_or_create + add_partition + Partition.clean."""
    table = device.partition_table or PartitionTable()
    available = (
        machine.table_available(device) if device.partition_table else _fresh_available(machine, device)
    )
    if size is None:
        size = available
        if table.table_type == "MBR":
            size = min(size, MAX_PARTITION_SIZE_FOR_MBR)
    size = round_down(size, PARTITION_ALIGNMENT_SIZE)
    if available < size:
        adjusted = size - device.block_size
        if available < adjusted:
            raise ModelErrors({"size": [NOT_ENOUGH_SPACE]})
        size = adjusted
    if table.table_type == "MBR" and size > MAX_PARTITION_SIZE_FOR_MBR:
        raise ModelErrors({"size": ["Partition cannot be saved; size is larger than the MBR 2TiB maximum."]})
    partition = Partition(
        id=state.next_id("partition"),
        device_id=device.id,
        index=next_index(machine, device, table),
        size=size,
        uuid=uuid or new_uuid(),
        bootable=bootable,
    )
    table.partitions.append(partition)
    device.partition_table = table
    return partition


def _fresh_available(machine: Machine, device: BlockDevice) -> int:
    return round_down(device.size - machine.table_overhead(), PARTITION_ALIGNMENT_SIZE)


def find_partition(call: Call, machine: Machine) -> tuple[BlockDevice, Partition]:
    """get_partition_by_id_or_name__or_404: scoped to the node, not to the device in the URL."""
    found = machine.partition(call.args["id"])
    if found is None:
        raise NotFound("")
    return found


# -- collection ----------------------------------------------------------------------------
@action("read", "GET")
def list_partitions(call: Call) -> Result:
    """List partitions on a device."""
    machine, device = call.device("device_id")
    if device.partition_table is None:
        # `device.partitiontable_set.get()` upstream: no table is an unhandled DoesNotExist.
        raise ServerError("PartitionTable matching query does not exist.")
    return [partition_json(machine, p) for p in device.partition_table.partitions]


@action("create", "POST")
def create_partition(call: Call) -> Result:
    """Create a partition (Ready machines only); size in bytes or with K/M/G/T/P/E (SI)."""
    state = call.state
    machine, device = call.device("device_id")
    require_admin(call.user)  # api/partitions.py: NodePermission.admin on create/delete/tags
    if machine.status != READY:
        raise Conflict("Cannot create partition because the node is not Ready.")
    form = Form(call.params)
    bootable = form.boolean("bootable")
    uuid = form.uuid4("uuid")
    size = form.size("size", min_value=MIN_PARTITION_SIZE, max_value=device.size)
    if not form.valid:
        raise FormErrors(form.errors)
    call.begin(machine)
    partition = add_partition(state, machine, device, size, uuid=uuid, bootable=bootable)
    return partition_json(machine, partition)


# -- detail --------------------------------------------------------------------------------
@action("read", "GET")
def read_partition(call: Call) -> Result:
    """Read a partition by id or name (`sdb-part1`)."""
    machine, _device = call.device("device_id")
    _owner, partition = find_partition(call, machine)
    return partition_json(machine, partition)


@action("delete", "DELETE")
def delete_partition(call: Call) -> Result:
    """Delete a partition (Ready machines only); later partitions are renumbered."""
    machine, device = call.device("device_id")
    require_admin(call.user)
    if device.partition_table is None:
        raise NotFound("No PartitionTable matches the given query.")
    if machine.status != READY:
        raise Conflict("Cannot delete block device because the node is not Ready.")
    owner, partition = find_partition(call, machine)
    if owner.id != device.id:
        raise BadRequest("Partition doesn't belong to the partition table")
    fs = machine.effective_fs(partition)
    if fs is not None and fs.raid_id is not None:
        raise BadRequest("Cannot delete partition because its part of a RAID.")
    call.begin(machine)
    table = device.partition_table
    table.partitions = [p for p in table.partitions if p.id != partition.id]
    for other in table.partitions:
        if other.index > partition.index:
            other.index -= 1
    if not table.partitions:
        device.partition_table = None
    return deleted()


def _partition_op(call: Call, operation: str) -> tuple[Machine, Partition]:
    machine, _device = call.device("device_id")
    _owner, partition = find_partition(call, machine)
    check_allocated_operation(call.user, machine, partition, operation)
    call.begin(machine)
    return machine, partition


@action("format", "POST", "format")
def format_partition(call: Call) -> Result:
    """Format a partition (Ready or Allocated)."""
    machine, partition = _partition_op(call, "format")
    format_holder(call.state, machine, partition, Form(call.params))
    return partition_json(machine, partition)


@action("unformat", "POST", "unformat")
def unformat_partition(call: Call) -> Result:
    """Unformat a partition."""
    machine, partition = _partition_op(call, "unformat")
    unformat_holder(machine, partition)
    return partition_json(machine, partition)


@action("mount", "POST", "mount")
def mount_partition(call: Call) -> Result:
    """Mount the filesystem on a partition."""
    machine, partition = _partition_op(call, "mount")
    mount_holder(machine, partition, Form(call.params))
    return partition_json(machine, partition)


@action("unmount", "POST", "unmount")
def unmount_partition(call: Call) -> Result:
    """Unmount the filesystem on a partition."""
    machine, partition = _partition_op(call, "unmount")
    unmount_holder(machine, partition)
    return partition_json(machine, partition)


def _tag(call: Call, add: bool) -> Result:
    machine, _device = call.device("device_id")
    require_admin(call.user)
    _owner, partition = find_partition(call, machine)
    tag = Form(call.params).raw("tag")
    if not tag:
        raise FormErrors({"tag": ["This field is required."]})
    call.begin(machine)
    if add and tag not in partition.tags:
        partition.tags.append(tag)
    if not add and tag in partition.tags:
        partition.tags.remove(tag)
    return partition_json(machine, partition)


@action("add_tag", "POST", "add_tag")
def add_tag(call: Call) -> Result:
    """Add a tag to a partition."""
    return _tag(call, True)


@action("remove_tag", "POST", "remove_tag")
def remove_tag(call: Call) -> Result:
    """Remove a tag from a partition."""
    return _tag(call, False)


HANDLERS = [
    Handler(
        name="PartitionsHandler",
        path=API_PREFIX + "nodes/{system_id}/blockdevices/{device_id}/partitions/",
        regex=r"^nodes/(?P<system_id>[^/]+)/blockdevices/(?P<device_id>[^/]+)/partitions/$",
        params=["system_id", "device_id"],
        doc="Manage partitions on a block device.",
        actions=[create_partition, list_partitions],
    ),
    Handler(
        name="PartitionHandler",
        path=API_PREFIX + "nodes/{system_id}/blockdevices/{device_id}/partition/{id}",
        regex=r"^nodes/(?P<system_id>[^/]+)/blockdevices/(?P<device_id>[^/]+)/partition[s]?/(?P<id>[^/]+)$",
        params=["system_id", "device_id", "id"],
        doc="Manage partition on a block device.",
        actions=[
            read_partition,
            delete_partition,
            format_partition,
            unformat_partition,
            mount_partition,
            unmount_partition,
            add_tag,
            remove_tag,
        ],
    ),
]
