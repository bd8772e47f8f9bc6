"""Filesystem rules shared by block devices and partitions: format, mount, unformat, unmount.

The checks mirror Filesystem.clean (boot disk, virtual filesystems, duplicate mount
points, uniqueness per device) and the Format*/Mount forms; which shape each error takes
(field map, model dict or text) follows where upstream raises it.
"""

from __future__ import annotations

from .enums import ALLOCATED, FORMAT_FSTYPES, FSTYPES_WITHOUT_MOUNT_POINT, FSTYPES_WITHOUT_STORAGE, READY
from .errors import BadRequest, Conflict, FormErrors, ModelErrors
from .forms import Form
from .model import ApiKey, BlockDevice, Filesystem, Holder, MaasState, Machine, Partition, new_uuid
from .permissions import require_ready_machine_edit

BOOT_DISK_ERROR = (
    "Cannot place filesystem directly on the boot disk. Create a partition on the boot disk "
    "first and then format the partition."
)


def noun(holder: Holder) -> str:
    return "partition" if isinstance(holder, Partition) else "block device"


def check_allocated_operation(user: ApiKey | None, machine: Machine, holder: Holder, operation: str) -> None:
    """raise_error_for_invalid_state_on_allocated_operations (block device / partition)."""
    if machine.status not in (READY, ALLOCATED):
        if isinstance(holder, Partition):
            raise Conflict(f"Cannot {operation} partition because the node is not Ready or Allocated.")
        raise Conflict(f"Cannot {operation} block device because the machine is not Ready or Allocated.")
    if isinstance(holder, Partition):
        what, node = "partition", "node"
    else:
        what, node = "block device", "machine"
    message = f"Cannot {operation} {what} because you don't have the permissions on a Ready {node}."
    require_ready_machine_edit(user, machine.status == READY, message)


def clean_filesystem(machine: Machine, holder: Holder, fs: Filesystem) -> None:
    """Filesystem.clean + validate_unique, as CleanSave runs them on every save."""
    if fs.fstype in FSTYPES_WITHOUT_MOUNT_POINT and fs.mount_point is not None:
        fs.mount_point = "none"
    if isinstance(holder, BlockDevice):
        boot = machine.boot_disk()
        if boot is not None and boot.id == holder.id:
            raise ModelErrors({"__all__": [BOOT_DISK_ERROR]})
    if fs.fstype in FSTYPES_WITHOUT_STORAGE and not fs.is_mounted:
        raise ModelErrors({"__all__": ["Virtual filesystems must be mounted."]})
    if fs.is_mounted and fs.fstype not in FSTYPES_WITHOUT_MOUNT_POINT:
        for _other_holder, other in machine.all_filesystems():
            if other is not fs and other.acquired == fs.acquired and other.mount_point == fs.mount_point:
                raise ModelErrors(
                    {"__all__": [f"Another filesystem is already mounted at {fs.mount_point}."]}
                )
    for other in holder.filesystems:
        if other is not fs and other.acquired == fs.acquired:
            field = "Partition" if isinstance(holder, Partition) else "Block device"
            raise ModelErrors({"__all__": [f"Filesystem with this {field} and Acquired already exists."]})


def add_filesystem(
    state: MaasState,
    machine: Machine,
    holder: Holder,
    fstype: str,
    *,
    uuid: str | None = None,
    label: str | None = None,
    raid_id: int | None = None,
    acquired: bool = False,
) -> Filesystem:
    fs = Filesystem(
        id=state.next_id("filesystem"),
        fstype=fstype,
        uuid=uuid or new_uuid(),
        label=label,
        raid_id=raid_id,
        acquired=acquired,
    )
    clean_filesystem(machine, holder, fs)
    holder.filesystems.append(fs)
    return fs


def format_holder(state: MaasState, machine: Machine, holder: Holder, form: Form) -> None:
    """FormatBlockDeviceForm / FormatPartitionForm."""
    uuid = form.uuid4("uuid")
    fstype = form.choice("fstype", FORMAT_FSTYPES, required=True)
    label = form.char("label")
    if (
        isinstance(holder, BlockDevice)
        and fstype is not None
        and not form.errors.get("fstype")
        and holder.partition_table is not None
    ):
        form.add_error("__all__", "Cannot format block device with a partition table.")
    if not form.valid:
        raise FormErrors(form.errors)
    assert fstype is not None
    acquired = machine.is_allocated
    current = next((f for f in holder.filesystems if f.acquired == acquired), None)
    if current is not None and current.fstype not in FORMAT_FSTYPES:
        raise BadRequest(f"Cannot format a {noun(holder)} that has a filesystem type of {current.fstype}.")
    if current is not None:
        holder.filesystems.remove(current)
    add_filesystem(state, machine, holder, fstype, uuid=uuid, label=label, acquired=acquired)


def unformat_holder(machine: Machine, holder: Holder) -> None:
    what = noun(holder)
    fs = machine.effective_fs(holder)
    if fs is None:
        raise BadRequest(f"{what[0].upper()}{what[1:]} is not formatted.")
    if fs.is_mounted:
        raise BadRequest(
            f"Filesystem is mounted and cannot be unformatted. Unmount the filesystem before "
            f"unformatting the {what}."
        )
    if fs.raid_id is not None:
        raise BadRequest(
            f"Filesystem is part of a RAID, and cannot be unformatted. Remove {what} from RAID "
            f"before unformatting the {what}."
        )
    holder.filesystems.remove(fs)


def mount_holder(machine: Machine, holder: Holder, form: Form) -> None:
    """MountFilesystemForm."""
    fs = machine.effective_fs(holder)
    mount_point: str | None = None
    options = ""
    if fs is not None:
        if fs.fstype not in FSTYPES_WITHOUT_MOUNT_POINT:
            mount_point = form.absolute_path("mount_point", required=True)
        options = form.char("mount_options")
    if fs is None:
        form.add_error("__all__", "Cannot mount an unformatted partition or block device.")
    elif fs.raid_id is not None:
        form.add_error("__all__", "Filesystem is part of a filesystem group, and cannot be mounted.")
    if not form.valid:
        raise FormErrors(form.errors)
    assert fs is not None
    fs.mount_point = mount_point if mount_point is not None else "none"
    fs.mount_options = options
    clean_filesystem(machine, holder, fs)


def unmount_holder(machine: Machine, holder: Holder) -> None:
    what = noun(holder)
    fs = machine.effective_fs(holder)
    if fs is None:
        raise BadRequest(f"{what[0].upper()}{what[1:]} is not formatted.")
    if not fs.is_mounted:
        raise BadRequest("Filesystem is already unmounted.")
    fs.mount_point = None
    fs.mount_options = None
    clean_filesystem(machine, holder, fs)
