"""Stable identity of the disks a MachineRaid is built on.

Kernel names (`sdb`) change across reboots and re-scans; MAAS ids survive a rename but not a disk
replacement. What names a physical disk for good is its serial. MAAS's commissioning hook
(metadataserver/builtin_scripts/hooks.py, _update_node_physical_block_devices) records
`id_path = /dev/disk/by-id/<device_id>` only for a disk that has a serial; a disk without one gets
`/dev/<kernel name>`, which moves with the name. So a member is pinned by serial, else by a
`/dev/disk/by-*` id_path, else (a serial-less disk: weak) by its MAAS id.

A spec entry is resolved once (name, id, `serial:...` or `id-path:...`) and recorded in status with
its identity (`status.devices[].ref/serial/idPath`); from then on the entry is followed through
that identity, so a rename never moves the array and a wiped array comes back only on the same
physical disks.
"""

from __future__ import annotations

import hashlib
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from stratum.api.maas import ID_PATH_PREFIX, SERIAL_PREFIX, DeviceStatus
from stratum.clients.maas.models import BlockDevice, Partition

Item = BlockDevice | Partition


def stable_id_path(path: str | None) -> bool:
    """udev's persistent links; `/dev/sdb` (a serial-less disk's id_path) is not one."""
    return bool(path) and str(path).startswith("/dev/disk/by-")


@dataclass(frozen=True)
class Pin:
    """What a spec entry resolved to when it was first used, as recorded in status."""

    ref: str
    name: str
    id: int
    type: str
    serial: str | None = None
    id_path: str | None = None
    partition_uuid: str | None = None

    @classmethod
    def from_status(cls, status: DeviceStatus) -> Pin | None:
        if status.ref is None:
            return None  # recorded before pinning existed: resolve by name once more
        return cls(
            status.ref,
            status.name,
            status.id,
            status.type,
            status.serial,
            status.id_path,
            status.partition_uuid,
        )

    def describe(self) -> str:
        if self.serial:
            return f"the disk with serial {self.serial}"
        if stable_id_path(self.id_path):
            return f"the disk at {self.id_path}"
        return f"MAAS block device {self.id}"


def pins_from_status(recorded: Iterable[Mapping[str, object]]) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    for entry in recorded:
        try:
            pin = Pin.from_status(DeviceStatus.model_validate(dict(entry)))
        except ValueError:
            continue
        if pin is not None:
            pins[pin.ref] = pin
    return pins


def physical(devices: Sequence[BlockDevice]) -> list[BlockDevice]:
    return [d for d in devices if d.type == "physical"]


def by_serial(devices: Sequence[BlockDevice], serial: str) -> BlockDevice | None:
    found = [d for d in physical(devices) if d.serial == serial]
    return found[0] if len(found) == 1 else None


def by_id_path(devices: Sequence[BlockDevice], path: str) -> BlockDevice | None:
    found = [d for d in physical(devices) if d.id_path == path]
    return found[0] if len(found) == 1 else None


def find_partition(
    devices: Sequence[BlockDevice], partition_uuid: str
) -> tuple[BlockDevice, Partition] | None:
    for device in devices:
        for part in device.partitions:
            if part.uuid and part.uuid.lower() == partition_uuid.lower():
                return device, part
    return None


def find_disk(devices: Sequence[BlockDevice], pin: Pin) -> BlockDevice | None:
    """The disk a pin names, by the strongest identity it recorded."""
    if pin.serial:
        return by_serial(devices, pin.serial)
    if stable_id_path(pin.id_path):
        return by_id_path(devices, str(pin.id_path))
    return next((d for d in devices if d.id == pin.id), None)


def find_pinned(devices: Sequence[BlockDevice], pin: Pin) -> Item | None:
    """A pinned member now: a disk by identity, a partition by its uuid, a virtual device by id."""
    if pin.type == "partition":
        found = find_partition(devices, pin.partition_uuid) if pin.partition_uuid else None
        return found[1] if found else None
    if pin.type == "physical":
        return find_disk(devices, pin)
    return next((d for d in devices if d.id == pin.id), None)


def lookup_entry(devices: Sequence[BlockDevice], ref: str) -> Item | None:
    """A spec entry as written: `serial:`, `id-path:`, a name, or an id (block devices first)."""
    if ref.startswith(SERIAL_PREFIX):
        return by_serial(devices, ref[len(SERIAL_PREFIX) :])
    if ref.startswith(ID_PATH_PREFIX):
        return by_id_path(devices, ref[len(ID_PATH_PREFIX) :])
    for device in devices:
        if device.name == ref:
            return device
        for part in device.partitions:
            if part.name == ref:
                return part
    if ref.isdigit():
        wanted = int(ref)
        for device in devices:
            if device.id == wanted:
                return device
        for device in devices:
            for part in device.partitions:
                if part.id == wanted:
                    return part
    return None


def disk_of(devices: Sequence[BlockDevice], item: Item) -> BlockDevice | None:
    if isinstance(item, BlockDevice):
        return item
    return next((d for d in devices if d.id == item.device_id or item in d.partitions), None)


def describe_disks(devices: Sequence[BlockDevice]) -> str:
    """What the machine has now, for a DevicesChanged message."""
    parts = [f"{d.name} (serial {d.serial or 'none'})" for d in physical(devices)]
    return ", ".join(parts) or "no disks"


def partition_uuid(uid: str, index: int) -> str:
    """The marker of Stratum's own partition `index` of the object with this uid: a version-4
    shaped uuid (what MAAS accepts) derived from both, so a retry after a crash between the
    POST and the status write finds the partition instead of creating a second one."""
    digest = hashlib.sha256(f"stratum/machineraid/{uid}/partition/{index}".encode()).digest()[:16]
    return str(uuidlib.UUID(bytes=digest, version=4))
