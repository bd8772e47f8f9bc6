"""spec.deviceSelector: which disks of a machine become the array's active members.

Only free, non-boot physical disks qualify (no partition table, no filesystem, not a member of
another array); among those that fit the size range and carry every tag, the smallest win, then
the first by name, so every pass (and every operator) picks the same disks. The choice is made
while the array does not exist yet; once it is built the members are pinned by identity in status
(refs `deviceSelector[i]`, identity.py) and never chosen again, so a rename or a re-scan that
reorders the disks changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from stratum.api.common import quantity_bytes
from stratum.api.maas import DeviceSelector
from stratum.clients.maas.models import BlockDevice
from stratum.reconcile.maas.devices import human_size
from stratum.reconcile.maas.identity import Pin, find_pinned

REF_PREFIX = "deviceSelector["


def selector_ref(index: int) -> str:
    """The ref a chosen disk is recorded under in status.devices."""
    return f"{REF_PREFIX}{index}]"


def _ref_index(ref: str) -> int | None:
    if not ref.startswith(REF_PREFIX) or not ref.endswith("]"):
        return None
    inner = ref[len(REF_PREFIX) : -1]
    return int(inner) if inner.isdigit() else None


@dataclass(frozen=True)
class Choice:
    """The refs the array's active members are, pins for the disks chosen now, or why not."""

    refs: list[str]
    new_pins: dict[str, Pin]
    shortage: str | None = None
    """Set when the machine has too few disks that qualify: what it has, for the message."""


def why_not(
    disk: BlockDevice, selector: DeviceSelector, boot_disk_id: int | None, members: Collection[int]
) -> str | None:
    """Why a disk cannot be chosen, or None when it qualifies."""
    if disk.type != "physical":
        return "not a physical disk"
    if disk.id == boot_disk_id:
        return "boot disk"
    if disk.id not in members:
        if disk.partition_table_type or disk.partitions:
            return "partitioned"
        if disk.filesystem is not None:
            return f"in use ({disk.used_for or disk.filesystem.fstype})"
    if selector.min_size is not None and disk.size < quantity_bytes(selector.min_size):
        return "too small"
    if selector.max_size is not None and disk.size > quantity_bytes(selector.max_size):
        return "too large"
    missing = [t for t in selector.tags if t not in disk.tags]
    if missing:
        return f"lacks tag {', '.join(missing)}"
    return None


def wanted(selector: DeviceSelector) -> str:
    sizes = []
    if selector.min_size is not None:
        sizes.append(f"at least {human_size(quantity_bytes(selector.min_size))}")
    if selector.max_size is not None:
        sizes.append(f"at most {human_size(quantity_bytes(selector.max_size))}")
    tags = f" tagged {', '.join(selector.tags)}" if selector.tags else ""
    size = f" of {' and '.join(sizes)}" if sizes else ""
    return f"{selector.count} free non-boot disk{'s' if selector.count != 1 else ''}{size}{tags}"


def _describe(disk: BlockDevice, reason: str | None) -> str:
    tags = f", {', '.join(disk.tags)}" if disk.tags else ""
    return f"{disk.name} ({human_size(disk.size)}{tags}{f': {reason}' if reason else ''})"


def choose(
    devices: Sequence[BlockDevice],
    selector: DeviceSelector,
    *,
    boot_disk_id: int | None,
    pins: Mapping[str, Pin],
    members: Collection[int] = (),
) -> Choice:
    """Keep the disks already pinned under `deviceSelector[i]` (the first `count` of them) and
    choose only what is missing. `members` are the device ids of this array's own members: they
    count as free (they are in use by this very array)."""
    pinned = sorted(
        ((index, ref) for ref in pins if (index := _ref_index(ref)) is not None),
    )[: selector.count]
    refs = [ref for _, ref in pinned]
    missing = selector.count - len(refs)
    if missing <= 0:
        return Choice(refs, {})
    taken = {item.id for ref in refs if (item := find_pinned(devices, pins[ref])) is not None}
    fitting = sorted(
        (d for d in devices if d.id not in taken and why_not(d, selector, boot_disk_id, members) is None),
        key=lambda d: (d.size, d.name),
    )
    if len(fitting) < missing:
        return Choice(refs, {}, shortage=_shortage(devices, selector, boot_disk_id, members, fitting))
    used = {index for index, _ in pinned}
    free_indexes = (i for i in range(selector.count + len(used)) if i not in used)
    new_pins: dict[str, Pin] = {}
    for disk in fitting[:missing]:
        ref = selector_ref(next(free_indexes))
        new_pins[ref] = Pin(
            ref, disk.name, disk.id, disk.type, serial=disk.serial or None, id_path=disk.id_path or None
        )
        refs.append(ref)
    return Choice(refs, new_pins)


def _shortage(
    devices: Sequence[BlockDevice],
    selector: DeviceSelector,
    boot_disk_id: int | None,
    members: Collection[int],
    fitting: Sequence[BlockDevice],
) -> str:
    fits = ", ".join(_describe(d, None) for d in fitting) or "none"
    others = [
        _describe(d, why_not(d, selector, boot_disk_id, members))
        for d in sorted(devices, key=lambda d: d.name)
        if d.type == "physical" and d not in fitting
    ]
    rest = f"; its other disks: {', '.join(others)}" if others else ""
    return f"deviceSelector wants {wanted(selector)}; the machine has {len(fitting)} ({fits}){rest}"
