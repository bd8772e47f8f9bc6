"""The partitions a MachineRaid asks Stratum to create (`spec.partitions`).

Each one is marked by a uuid derived from the object's uid and its index (identity.partition_uuid)
and found by that uuid on every pass, so it is created once: a crash between MAAS's answer to the
POST and the status write leaves a partition the next pass finds instead of creating a second.
Its disk is followed by identity like any member (the pin recorded in status), and a disk that
carries a filesystem is never touched: Stratum never wipes a disk to make room. A partition
that exists is used as it is (MAAS cannot resize partitions), and one dropped from the spec keeps
its marker, so deletion still finds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stratum.api.common import quantity_bytes
from stratum.api.maas import PartitionSpec
from stratum.clients.maas.models import BlockDevice, Partition
from stratum.reconcile import reasons
from stratum.reconcile.maas.capacity import MIN_ARRAY_SIZE
from stratum.reconcile.maas.devices import Inventory, Problem, changed, human_size
from stratum.reconcile.maas.identity import Pin, find_disk, find_partition, lookup_entry, partition_uuid

PARTITION_ALIGNMENT = 4 * 1024 * 1024
"""MAAS rounds partition sizes down to 4 MiB (models/partition.py PARTITION_ALIGNMENT_SIZE)."""

MAX_PARTITIONS = 64
"""spec.partitions maxItems: the markers of every index Stratum may have used."""


def ref_of(index: int) -> str:
    return f"partitions[{index}]"


@dataclass(frozen=True)
class NewPartition:
    index: int
    disk: BlockDevice
    size: int | None
    """Bytes, or None for all free space."""
    uuid: str

    def describe(self) -> str:
        size = human_size(self.size) if self.size is not None else "all free space"
        return f"partition {ref_of(self.index)} on {self.disk.name} ({size})"


@dataclass
class PartitionPlan:
    found: dict[int, Partition] = field(default_factory=dict)
    create: list[NewPartition] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def marked(uid: str) -> set[str]:
    return {partition_uuid(uid, i) for i in range(MAX_PARTITIONS)}


def owned_partitions(devices: Sequence[BlockDevice], uid: str) -> list[tuple[BlockDevice, Partition]]:
    """Every partition carrying this object's marker (what deletion removes)."""
    markers = marked(uid)
    return [(d, p) for d in devices for p in d.partitions if p.uuid and p.uuid.lower() in markers]


def _locate_disk(
    inventory: Inventory, spec: PartitionSpec, pin: Pin | None, where: str
) -> BlockDevice | Problem:
    # A pin of a disk without a stable identity (no serial, no by-id path) cannot be followed:
    # the disk is looked up as the spec names it.
    if pin is not None and (pin.serial or (pin.id_path or "").startswith("/dev/disk/by-")):
        disk = find_disk(inventory.devices, pin)
        return disk if disk is not None else changed(pin, inventory, where)
    item = lookup_entry(inventory.devices, spec.disk)
    if item is None:
        known = ", ".join(d.name for d in inventory.devices) or "none"
        return Problem(
            reasons.DEVICE_NOT_FOUND, f"disk {spec.disk} not found on machine {where} (it has: {known})"
        )
    if isinstance(item, Partition):
        return Problem(
            reasons.DEVICE_NOT_FOUND, f"{spec.disk} is a partition; partitions[].disk names a disk"
        )
    return item


def plan_partitions(
    specs: Sequence[PartitionSpec], inventory: Inventory, uid: str, pins: Mapping[str, Pin], where: str
) -> PartitionPlan:
    """Which of the wanted partitions exist (by marker) and which must be created where."""
    plan = PartitionPlan()
    free: dict[int, int] = {}
    for index, spec in enumerate(specs):
        marker = partition_uuid(uid, index)
        existing = find_partition(inventory.devices, marker)
        if existing is not None:
            plan.found[index] = existing[1]
            continue
        disk = _locate_disk(inventory, spec, pins.get(ref_of(index)), where)
        if isinstance(disk, Problem):
            plan.problems.append(disk)
            continue
        if disk.filesystem is not None:
            plan.problems.append(
                Problem(
                    reasons.DEVICE_IN_USE,
                    f"{ref_of(index)}: {disk.name} is in use ({disk.used_for or disk.filesystem.fstype}); "
                    "Stratum never wipes a disk that is not free",
                )
            )
            continue
        available = free.get(disk.id, disk.available_size)
        try:
            size = quantity_bytes(spec.size) if spec.size is not None else None
        except ValueError:
            plan.problems.append(
                Problem(reasons.DEVICE_TOO_SMALL, f"{ref_of(index)}: size {spec.size!r} is not a usable size")
            )
            continue
        wanted = available if size is None else size // PARTITION_ALIGNMENT * PARTITION_ALIGNMENT
        if wanted < MIN_ARRAY_SIZE or wanted > available:
            plan.problems.append(
                Problem(
                    reasons.NOT_ENOUGH_SPACE,
                    f"{ref_of(index)}: {disk.name} has {human_size(available)} free, "
                    f"{'not enough for ' + human_size(wanted) if size else 'too little for a partition'}",
                )
            )
            continue
        free[disk.id] = available - wanted
        plan.create.append(NewPartition(index, disk, None if size is None else wanted, marker))
    return plan
