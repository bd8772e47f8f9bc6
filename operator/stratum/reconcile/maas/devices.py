"""Resolving MachineRaid device names (block devices `sdb`, partitions `sdb-part1`, or ids) to
what MAAS has on the machine, and checking that each one can join the array."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stratum.api.maas import DeviceStatus
from stratum.clients.maas.models import BlockDevice, MemberKind, Partition
from stratum.reconcile import reasons
from stratum.reconcile.reasons import Reason

Key = tuple[MemberKind, int]

# Condition reasons, most actionable first: the first problem found decides the reason.
NOT_FOUND = reasons.DEVICE_NOT_FOUND
DUPLICATE = reasons.DUPLICATE_DEVICE
PARTITIONED = reasons.DEVICE_PARTITIONED
BOOT_DISK = reasons.DEVICE_IS_BOOT_DISK
IN_USE = reasons.DEVICE_IN_USE
TOO_SMALL = reasons.DEVICE_TOO_SMALL
_ORDER = (NOT_FOUND, DUPLICATE, PARTITIONED, BOOT_DISK, IN_USE, TOO_SMALL)


def human_size(size: float) -> str:
    """SI with one decimal, as MAAS shows sizes (1000.0 GB)."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB"):
        if abs(value) < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Resolved:
    key: Key
    name: str
    """The MAAS name (sdb or sdb-part1), whatever the spec used."""
    type: str
    """physical, virtual or partition."""
    size: int

    def status(self) -> DeviceStatus:
        return DeviceStatus(name=self.name, id=self.key[1], type=self.type, size=self.size)


@dataclass
class Problem:
    reason: Reason
    message: str


@dataclass
class Resolution:
    active: list[Resolved] = field(default_factory=list)
    spare: list[Resolved] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def problem(self) -> Problem | None:
        """One reason for the condition, with every problem in the message."""
        if not self.problems:
            return None
        first = min(self.problems, key=lambda p: _ORDER.index(p.reason))
        return Problem(first.reason, "; ".join(p.message for p in self.problems))


@dataclass
class Inventory:
    """The machine's block devices and partitions, by name and by id."""

    devices: list[BlockDevice]

    def lookup(self, ref: str) -> BlockDevice | Partition | None:
        for device in self.devices:
            if device.name == ref:
                return device
            for part in device.partitions:
                if part.name == ref:
                    return part
        if ref.isdigit():
            # Block-device ids first (what MAAS's own block_devices fields take), then partitions.
            wanted = int(ref)
            for device in self.devices:
                if device.id == wanted:
                    return device
            for device in self.devices:
                for part in device.partitions:
                    if part.id == wanted:
                        return part
        return None

    def names(self) -> list[str]:
        return [n for d in self.devices for n in [d.name, *(p.name for p in d.partitions)]]

    def has_name(self, name: str) -> BlockDevice | None:
        return next((d for d in self.devices if d.name == name), None)


def _key(item: BlockDevice | Partition) -> Key:
    return ("partition", item.id) if isinstance(item, Partition) else ("device", item.id)


def _blocker(item: BlockDevice | Partition, boot_disk_id: int | None, own_md: int | None) -> Problem | None:
    """Why a device that is not yet a member of this array cannot join it."""
    name = item.name
    if isinstance(item, BlockDevice):
        if item.id == own_md:
            return Problem(IN_USE, f"{name} is this array's own md device")
        if item.partition_table_type or item.partitions:
            parts = ", ".join(p.name for p in item.partitions) or "none yet"
            return Problem(
                PARTITIONED,
                f"{name} has a partition table ({item.used_for or 'partitioned'}); "
                f"list its partitions ({parts}) instead, or remove them in MAAS",
            )
        if item.id == boot_disk_id:
            return Problem(
                BOOT_DISK,
                f"{name} is the machine's boot disk; MAAS would partition every "
                "member to hold it: create a partition on it in MAAS and list that partition",
            )
    if item.filesystem is not None:
        used = item.used_for or f"{item.filesystem.fstype} filesystem"
        return Problem(IN_USE, f"{name} is in use ({used}); free it in MAAS or choose another device")
    return None


def resolve(
    inventory: Inventory,
    active: Sequence[str],
    spare: Sequence[str],
    *,
    members: dict[Key, int],
    boot_disk_id: int | None,
    own_md: int | None,
    where: str,
) -> Resolution:
    """`members` maps the current members of this array (any role) to their sizes: they are
    eligible in either role. A new member smaller than the smallest current one is refused, as
    it would shrink the array."""
    result = Resolution()
    seen: dict[Key, str] = {}
    smallest = min(members.values()) if members else None
    for refs, target in ((active, result.active), (spare, result.spare)):
        for ref in refs:
            item = inventory.lookup(ref)
            if item is None:
                known = ", ".join(inventory.names()) or "none"
                result.problems.append(
                    Problem(NOT_FOUND, f"device {ref} not found on machine {where} (it has: {known})")
                )
                continue
            key = _key(item)
            if key in seen:
                result.problems.append(
                    Problem(
                        DUPLICATE, f"{ref} and {seen[key]} are the same device ({item.name}); list it once"
                    )
                )
                continue
            seen[key] = ref
            if key not in members:
                blocker = _blocker(item, boot_disk_id, own_md)
                if blocker is not None:
                    result.problems.append(blocker)
                    continue
                if smallest is not None and item.size < smallest:
                    result.problems.append(
                        Problem(
                            TOO_SMALL,
                            f"{item.name} ({human_size(item.size)}) is smaller than the smallest "
                            f"member of the array ({human_size(smallest)}); adding it would shrink the array",
                        )
                    )
                    continue
            kind_type = "partition" if isinstance(item, Partition) else item.type
            target.append(Resolved(key, item.name, kind_type, item.size))
    return result
