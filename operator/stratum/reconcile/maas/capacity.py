"""RAID capacity as MAAS computes it (FilesystemGroup.get_raid_size), so `expectedSize` is
known before the array is created.

The smallest member counts over *all* members, spares included (a small spare shrinks the
array); raid-0 sums every member instead. MAAS computes raid-10 with true division and reports
a float; the md device's size is the integer part, which is what `expected_size` returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SUPERBLOCK_OVERHEAD = 128 * 1024
"""Bytes MAAS reserves per array (per member for raid-0) for the md superblock."""
MIN_ARRAY_SIZE = 4 * 1024 * 1024
"""MAAS refuses block devices (the md device too) smaller than 4 MiB."""

MAAS_MIN_ACTIVE = {"raid-0": 2, "raid-1": 2, "raid-5": 3, "raid-6": 4, "raid-10": 3}
"""What MAAS itself enforces on every save; intermediate states of an update must keep these.
(Stratum's API asks for 4 on raid-10: MAAS accepts 3, but curtin then fails the deployment;
see api/maas.py MIN_ACTIVE.)"""


def raid_size(level: str, active: Sequence[int], spares: Sequence[int] = ()) -> float:
    """The array size in bytes exactly as MAAS computes it (a float only for odd raid-10)."""
    members = [*active, *spares]
    if not members:
        return 0
    smallest = min(members)
    if smallest <= 0:
        return 0
    n = len(active)
    if level == "raid-0":
        return sum(members) - SUPERBLOCK_OVERHEAD * len(members)
    if level == "raid-1":
        return smallest - SUPERBLOCK_OVERHEAD
    if level == "raid-5":
        return smallest * (n - 1) - SUPERBLOCK_OVERHEAD
    if level == "raid-6":
        return smallest * (n - 2) - SUPERBLOCK_OVERHEAD
    if level == "raid-10":
        return smallest * n / 2 - SUPERBLOCK_OVERHEAD
    raise ValueError(f"unknown RAID level {level!r}")


def expected_size(level: str, active: Sequence[int], spares: Sequence[int] = ()) -> int:
    """Whole bytes, as the md device reports it (raid-10 floats are truncated). Integer
    arithmetic, so sizes beyond 2**53 bytes stay exact."""
    members = [*active, *spares]
    if level == "raid-10" and members and min(members) > 0:
        return min(members) * len(active) // 2 - SUPERBLOCK_OVERHEAD
    return math.floor(raid_size(level, active, spares))
