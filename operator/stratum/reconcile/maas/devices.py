"""Resolving MachineRaid members (names `sdb` / `sdb-part1`, ids, `serial:` / `id-path:` entries,
entries pinned by identity in status, and Stratum's own partitions) to what MAAS has on the
machine, and checking that each one can join the array."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from stratum.api.maas import DeviceStatus
from stratum.clients.maas.models import BlockDevice, MemberKind, Partition
from stratum.reconcile import reasons
from stratum.reconcile.maas.identity import Pin, describe_disks, disk_of, find_pinned, lookup_entry
from stratum.reconcile.reasons import Reason

Key = tuple[MemberKind, int]

# Condition reasons, most actionable first: the first problem found decides the reason.
CHANGED = reasons.DEVICES_CHANGED
NOT_FOUND = reasons.DEVICE_NOT_FOUND
DUPLICATE = reasons.DUPLICATE_DEVICE
PARTITIONED = reasons.DEVICE_PARTITIONED
BOOT_DISK = reasons.DEVICE_IS_BOOT_DISK
IN_USE = reasons.DEVICE_IN_USE
TOO_SMALL = reasons.DEVICE_TOO_SMALL
_ORDER = (CHANGED, NOT_FOUND, DUPLICATE, PARTITIONED, BOOT_DISK, IN_USE, TOO_SMALL)


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
    ref: str | None = None
    serial: str | None = None
    """The serial of the physical disk (for a partition: of the disk it is on)."""
    id_path: str | None = None
    partition_uuid: str | None = None

    def status(self) -> DeviceStatus:
        return DeviceStatus(
            name=self.name,
            id=self.key[1],
            type=self.type,
            size=self.size,
            ref=self.ref,
            serial=self.serial or None,
            id_path=self.id_path or None,
            partition_uuid=self.partition_uuid,
        )


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
        """Block-device ids before partition ids (what MAAS's own block_devices fields take)."""
        return lookup_entry(self.devices, ref)

    def resolved(self, ref: str, item: BlockDevice | Partition) -> Resolved:
        disk = disk_of(self.devices, item)
        if isinstance(item, Partition):
            kind_type, part_uuid = "partition", item.uuid
        else:
            kind_type, part_uuid = item.type, None
        physical = disk is not None and disk.type == "physical"
        return Resolved(
            _key(item),
            item.name,
            kind_type,
            item.size,
            ref=ref,
            serial=(disk.serial or None) if physical and disk else None,
            id_path=(disk.id_path or None) if physical and disk else None,
            partition_uuid=part_uuid,
        )

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


def changed(pin: Pin, inventory: Inventory, where: str) -> Problem:
    """A pinned member that is not on the machine any more: say what it was and what is there."""
    if pin.type == "partition":
        return Problem(
            CHANGED,
            f"{pin.ref}: partition {pin.name} (uuid {pin.partition_uuid}) the array was built on is "
            f"gone from machine {where} (commissioning clears partitions); Stratum does not build "
            "the array elsewhere: list it under spec.partitions so Stratum creates it, or name "
            "another member",
        )
    return Problem(
        CHANGED,
        f"{pin.ref}: the array was built on {pin.describe()} (then named {pin.name}), which is no "
        f"longer on machine {where}; it has {describe_disks(inventory.devices)}. Stratum re-creates "
        "the array only on the same physical disks: put the disk back, or name the new disk in "
        "the spec (e.g. serial:<serial>)",
    )


def resolve(
    inventory: Inventory,
    active: Sequence[str],
    spare: Sequence[str],
    *,
    members: dict[Key, int],
    boot_disk_id: int | None,
    own_md: int | None,
    where: str,
    pins: Mapping[str, Pin] | None = None,
    own_active: Sequence[tuple[str, Partition]] = (),
    own_spare: Sequence[tuple[str, Partition]] = (),
) -> Resolution:
    """`members` maps the current members of this array (any role) to their sizes: they are
    eligible in either role. A new member smaller than the smallest current one is refused, as
    it would shrink the array. An entry with a pin is followed through the pinned identity,
    never re-read by name. `own_active`/`own_spare` are Stratum's own partitions, found already."""
    result = Resolution()
    seen: dict[Key, str] = {}
    smallest = min(members.values()) if members else None
    pins = pins or {}
    located: list[tuple[list[Resolved], str, BlockDevice | Partition | None]] = []
    for refs, target in ((active, result.active), (spare, result.spare)):
        for ref in refs:
            pin = pins.get(ref)
            if pin is not None:
                item = find_pinned(inventory.devices, pin)
                if item is None:
                    result.problems.append(changed(pin, inventory, where))
                    continue
            else:
                item = inventory.lookup(ref)
            located.append((target, ref, item))
    located += [(result.active, ref, part) for ref, part in own_active]
    located += [(result.spare, ref, part) for ref, part in own_spare]
    for target, ref, item in located:
        if item is None:
            known = ", ".join(inventory.names()) or "none"
            result.problems.append(
                Problem(NOT_FOUND, f"device {ref} not found on machine {where} (it has: {known})")
            )
            continue
        key = _key(item)
        if key in seen:
            result.problems.append(
                Problem(DUPLICATE, f"{ref} and {seen[key]} are the same device ({item.name}); list it once")
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
        target.append(inventory.resolved(ref, item))
    return result
