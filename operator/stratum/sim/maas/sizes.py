"""Size arithmetic as MAAS does it: partition tables, alignment, RAID sizes, SI units."""

from __future__ import annotations

import re

MiB = 1024 * 1024
PARTITION_ALIGNMENT_SIZE = 4 * MiB
MIN_PARTITION_SIZE = PARTITION_ALIGNMENT_SIZE
INITIAL_PARTITION_OFFSET = 4 * MiB
END_OF_PARTITION_TABLE_SPACE = 1 * MiB
PREP_PARTITION_SIZE = 8 * MiB
BIOS_GRUB_PARTITION_SIZE = 1 * MiB
MIN_BOOT_PARTITION_SIZE = 512 * MiB
MIN_BLOCK_DEVICE_SIZE = 4 * MiB
RAID_SUPERBLOCK_OVERHEAD = 128 * 1024
MAX_PARTITION_SIZE_FOR_MBR = (2**32 - 1) * 512

BYTES_RE = re.compile(r"^-?[0-9]+([KkMmGgTtPpEe]{1})?$")
_SI = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15, "e": 10**18}


def round_down(size: int, block: int) -> int:
    return (size // block) * block


def machine_readable_bytes(text: str) -> int:
    """`10G` -> 10 000 000 000 (SI suffixes, as MAAS's BytesField)."""
    suffix = text[-1].lower()
    if suffix in _SI:
        return int(text[:-1]) * _SI[suffix]
    return int(text)


def human_readable_bytes(num: float) -> str:
    value = float(num)
    for unit in ("bytes", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"):
        if abs(value) < 1000.0 or unit == "YB":
            if unit == "bytes":
                return f"{value:.0f} {unit}"
            return f"{value:.1f} {unit}"
        value /= 1000.0
    raise AssertionError("unreachable")


def partition_table_overhead(architecture: str, bios_boot_method: str) -> int:
    extra = INITIAL_PARTITION_OFFSET + END_OF_PARTITION_TABLE_SPACE
    arch = architecture.split("/", 1)[0]
    if arch == "ppc64el":
        extra += PREP_PARTITION_SIZE
    elif arch == "amd64" and bios_boot_method != "uefi":
        extra += BIOS_GRUB_PARTITION_SIZE
    return extra


def raid_size(level: str, member_sizes: list[int], active_count: int) -> int | float:
    """FilesystemGroup.get_raid_size: spares count in the smallest member; raid-10 is a float."""
    if not member_sizes:
        return 0
    smallest = min(member_sizes)
    if smallest <= 0:
        return 0
    if level == "raid-0":
        return sum(member_sizes) - RAID_SUPERBLOCK_OVERHEAD * len(member_sizes)
    if level == "raid-1":
        return smallest - RAID_SUPERBLOCK_OVERHEAD
    if level == "raid-5":
        return smallest * (active_count - 1) - RAID_SUPERBLOCK_OVERHEAD
    if level == "raid-6":
        return smallest * (active_count - 2) - RAID_SUPERBLOCK_OVERHEAD
    if level == "raid-10":
        # True division upstream: the API reports a float (LP:2109708).
        return smallest * active_count / 2 - RAID_SUPERBLOCK_OVERHEAD
    raise ValueError(f"Unknown raid type: {level}")


RAID_MINIMUMS: dict[str, int] = {"raid-0": 2, "raid-1": 2, "raid-5": 3, "raid-6": 4, "raid-10": 3}


def raid_level_error(level: str, active: int, spares: int) -> str | None:
    """FilesystemGroup._validate_raid: the message, or None when the array is valid."""
    number = level.split("-", 1)[1]
    if level == "raid-0":
        if active < 2 or spares != 0:
            return "RAID level 0 must have at least 2 raid devices and no spares."
        return None
    minimum = RAID_MINIMUMS[level]
    if active < minimum:
        return f"RAID level {number} must have at least {minimum} raid devices and any number of spares."
    return None
