"""Block device endpoints: `nodes/{system_id}/blockdevices/` and `.../blockdevices/{id}/`."""

from __future__ import annotations

from .enums import DEPLOYED, READY
from .errors import BadRequest, Conflict, FormErrors
from .filesystems import (
    check_allocated_operation,
    format_holder,
    mount_holder,
    unformat_holder,
    unmount_holder,
)
from .forms import Form
from .model import BlockDevice, Machine
from .permissions import require_admin
from .raids import delete_raid
from .registry import API_PREFIX, Call, Handler, Result, action, deleted, ok_text
from .render import block_device_json
from .sizes import BYTES_RE


@action("read", "GET")
def list_devices(call: Call) -> Result:
    """List all block devices (physical and virtual) of a machine, ordered by id."""
    machine = call.machine()
    return [block_device_json(machine, d) for d in machine.block_devices]


@action("create", "POST")
def create_device(call: Call) -> Result:
    """Create a physical block device (name, size, block_size, model+serial or id_path)."""
    state, machine = call.state, call.machine()
    require_admin(call.user)  # api/blockdevices.py: NodePermission.admin on every write but format/mount
    form = Form(call.params)
    name = form.char("name", required=True)
    model = form.char("model")
    serial = form.char("serial")
    id_path = form.absolute_path("id_path", required=False)
    size = form.size("size", min_value=4 * 1024 * 1024)
    if size is None and "size" not in form.errors:
        form.add_error("size", "This field is required.")
    block_size = form.size("block_size", min_value=512)
    if block_size is None and "block_size" not in form.errors:
        form.add_error("block_size", "This field is required.")
    if not id_path and not (model and serial):
        form.add_error("__all__", "serial/model are required if id_path is not provided.")
    if name and machine.block_device(name) is not None:
        form.add_error("__all__", "Block device with this Node config and Name already exists.")
    if not form.valid:
        raise FormErrors(form.errors)
    assert size is not None and block_size is not None
    call.begin(machine)
    device = state.add_block_device(
        machine,
        name,
        size,
        block_size=block_size,
        model=model or None,
        serial=serial or None,
        id_path=id_path,
    )
    return block_device_json(machine, device)


@action("read", "GET")
def read_device(call: Call) -> Result:
    """Read a block device by id or name."""
    machine, device = call.device()
    return block_device_json(machine, device)


def remove_device(machine: Machine, device: BlockDevice) -> None:
    """BlockDevice.delete, plus the signals: deleting an md device deletes its RAID."""
    fs = machine.effective_fs(device)
    if fs is not None and fs.raid_id is not None:
        raise BadRequest("Cannot delete block device because its part of a RAID.")
    if device.raid_id is not None and device.raid_id in machine.storage.raids:
        delete_raid(machine, machine.storage.raids[device.raid_id])
        return
    machine.storage.block_devices.pop(device.id, None)
    if machine.storage.boot_disk_id == device.id:
        machine.storage.boot_disk_id = None


@action("delete", "DELETE")
def delete_device(call: Call) -> Result:
    """Delete a block device (Ready machines only)."""
    machine, device = call.device()
    require_admin(call.user)
    if machine.status != READY:
        raise Conflict("Cannot delete block device because the machine is not Ready.")
    call.begin(machine)
    remove_device(machine, device)
    return deleted()


@action("update", "PUT")
def update_device(call: Call) -> Result:
    """Update a block device. Renaming an md device renames its RAID."""
    machine, device = call.device()
    require_admin(call.user)
    if machine.status not in (READY, DEPLOYED):
        raise Conflict("Cannot update block device because the machine is not Ready.")
    if machine.status == DEPLOYED and device.kind != "physical":
        raise Conflict("Cannot update virtual block device because the machine is Deployed.")
    form = Form(call.params)
    name = form.char("name")
    changes: dict[str, object] = {}
    if name:
        other = machine.block_device(name)
        if other is not None and other is not device:
            form.add_error("__all__", "Block device with this Node config and Name already exists.")
        changes["name"] = name
    if device.kind == "physical":
        for key in ("model", "serial"):
            if form.raw(key) is not None:
                changes[key] = form.char(key)
        id_path = form.absolute_path("id_path", required=False)
        if id_path:
            changes["id_path"] = id_path
        if machine.status == READY:
            for key in ("size", "block_size"):
                value = form.size(key)
                if value is not None:
                    changes[key] = value
    else:
        uuid = form.uuid4("uuid")
        if uuid:
            changes["uuid"] = uuid
        raw_size = (form.raw("size") or "").strip()
        if raw_size and BYTES_RE.match(raw_size) and int(form.size("size") or 0) != device.size:
            form.add_error("size", "Size cannot be changed on this device.")
    if not form.valid:
        raise FormErrors(form.errors)
    call.begin(machine)
    for key, new in changes.items():
        setattr(device, key, new)
    if device.raid_id is not None and "name" in changes:
        raid = machine.storage.raids.get(device.raid_id)
        if raid is not None:
            raid.name = device.name
    return block_device_json(machine, device)


def _device_op(call: Call, operation: str) -> tuple[Machine, BlockDevice]:
    machine, device = call.device()
    check_allocated_operation(call.user, machine, device, operation)
    call.begin(machine)
    return machine, device


@action("format", "POST", "format")
def format_device(call: Call) -> Result:
    """Format a block device (Ready or Allocated)."""
    machine, device = _device_op(call, "format")
    format_holder(call.state, machine, device, Form(call.params))
    return block_device_json(machine, device)


@action("unformat", "POST", "unformat")
def unformat_device(call: Call) -> Result:
    """Unformat a block device."""
    machine, device = _device_op(call, "unformat")
    unformat_holder(machine, device)
    return block_device_json(machine, device)


@action("mount", "POST", "mount")
def mount_device(call: Call) -> Result:
    """Mount the filesystem on a block device."""
    machine, device = _device_op(call, "mount")
    mount_holder(machine, device, Form(call.params))
    return block_device_json(machine, device)


@action("unmount", "POST", "unmount")
def unmount_device(call: Call) -> Result:
    """Unmount the filesystem on a block device."""
    machine, device = _device_op(call, "unmount")
    unmount_holder(machine, device)
    return block_device_json(machine, device)


@action("set_boot_disk", "POST", "set_boot_disk")
def set_boot_disk(call: Call) -> Result:
    """Set a physical block device as the boot disk (Ready machines only)."""
    machine, device = call.device()
    require_admin(call.user)
    if machine.status != READY:
        raise Conflict("Cannot set as boot disk because the machine is not Ready.")
    if device.kind != "physical":
        raise BadRequest(f"Cannot set a {device.kind} block device as the boot disk.")
    call.begin(machine)
    machine.storage.boot_disk_id = device.id
    return ok_text()


def _tag(call: Call, add: bool) -> Result:
    machine, device = call.device()
    require_admin(call.user)
    if machine.status != READY:
        raise Conflict("Cannot update block device because the machine is not Ready.")
    tag = Form(call.params).raw("tag")
    if not tag:
        raise FormErrors({"tag": ["This field is required."]})
    call.begin(machine)
    if add and tag not in device.tags:
        device.tags.append(tag)
    if not add and tag in device.tags:
        device.tags.remove(tag)
    return block_device_json(machine, device)


@action("add_tag", "POST", "add_tag")
def add_tag(call: Call) -> Result:
    """Add a tag to a block device."""
    return _tag(call, True)


@action("remove_tag", "POST", "remove_tag")
def remove_tag(call: Call) -> Result:
    """Remove a tag from a block device."""
    return _tag(call, False)


HANDLERS = [
    Handler(
        name="BlockDevicesHandler",
        path=API_PREFIX + "nodes/{system_id}/blockdevices/",
        regex=r"^nodes/(?P<system_id>[^/]+)/blockdevices/$",
        params=["system_id"],
        doc="Manage block devices on a machine.",
        actions=[create_device, list_devices],
    ),
    Handler(
        name="BlockDeviceHandler",
        path=API_PREFIX + "nodes/{system_id}/blockdevices/{id}/",
        regex=r"^nodes/(?P<system_id>[^/]+)/blockdevices/(?P<id>[^/]+)/$",
        params=["system_id", "id"],
        doc="Manage a block device on a machine.",
        actions=[
            remove_tag,
            mount_device,
            delete_device,
            set_boot_disk,
            update_device,
            read_device,
            unformat_device,
            format_device,
            add_tag,
            unmount_device,
        ],
    ),
]
