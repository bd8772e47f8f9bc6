"""What commissioning does to a machine's storage model.

- `clear_storage`: Node._clear_full_storage_configuration (maasserver/models/node.py): partition
  tables and filesystems of every physical disk go, every virtual device's filesystem group
  (RAIDs with their md devices) is deleted; the physical disks themselves stay.
- `rescan_disks`: the commissioning hook (metadataserver/builtin_scripts/hooks.py,
  _update_node_physical_block_devices) rewrites each disk's tags from the hardware data
  (`_get_tags_from_block_info`: `rotary` + `<rpm>rpm` for spinning disks, else `ssd`).
- `apply_flat_layout`: Node.set_default_storage_layout with the default layout "flat"
  (maasserver/storage_layouts.py, FlatStorageLayout + create_basic_layout): a GPT table on the
  boot disk, a 512 MiB bootable fat32 `/boot/efi` partition labelled `efi` when the machine
  boots UEFI (not on ppc64el), then a root partition over the rest, ext4 labelled `root` at `/`.
"""

from __future__ import annotations

from .filesystems import add_filesystem
from .model import BlockDevice, MaasState, Machine
from .partitions import add_partition

EFI_PARTITION_SIZE = 512 * 1024 * 1024


def clear_storage(machine: Machine) -> None:
    storage = machine.storage
    storage.raids.clear()
    for device_id in [d.id for d in machine.block_devices if d.kind != "physical"]:
        del storage.block_devices[device_id]
        if storage.boot_disk_id == device_id:
            storage.boot_disk_id = None
    for device in machine.block_devices:
        device.partition_table = None
        device.filesystems.clear()


def hardware_tags(device: BlockDevice) -> list[str]:
    return ["rotary", f"{device.rpm}rpm"] if device.rpm else ["ssd"]


def rescan_disks(machine: Machine) -> None:
    for device in machine.block_devices:
        if device.kind == "physical":
            device.tags = hardware_tags(device)


def apply_flat_layout(state: MaasState, machine: Machine) -> None:
    """StorageLayoutBase.configure clears first, then FlatStorageLayout.configure_storage.
    A machine without a usable boot disk keeps no layout (StorageLayoutMissingBootDiskError is
    only logged upstream)."""
    clear_storage(machine)
    boot = machine.boot_disk()
    if boot is None:
        return
    arch = machine.architecture.split("/", 1)[0]
    if machine.bios_boot_method == "uefi" and arch != "ppc64el":
        efi = add_partition(state, machine, boot, EFI_PARTITION_SIZE, bootable=True)
        fs = add_filesystem(state, machine, efi, "fat32", label="efi")
        fs.mount_point = "/boot/efi"
    root = add_partition(state, machine, boot, None)
    fs = add_filesystem(state, machine, root, "ext4", label="root")
    fs.mount_point = "/"
