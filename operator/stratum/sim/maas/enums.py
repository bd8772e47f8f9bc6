"""MAAS enumerations the storage API exposes (node status, filesystem and RAID types)."""

from __future__ import annotations

# Node status codes and their labels (maascommon.enums.node / maascommon.node).
NODE_STATUS_LABELS: dict[int, str] = {
    0: "New",
    1: "Commissioning",
    2: "Failed commissioning",
    3: "Missing",
    4: "Ready",
    5: "Reserved",
    6: "Deployed",
    7: "Retired",
    8: "Broken",
    9: "Deploying",
    10: "Allocated",
    11: "Failed deployment",
    12: "Releasing",
    13: "Releasing failed",
    14: "Disk erasing",
    15: "Failed disk erasing",
    16: "Rescue mode",
    17: "Entering rescue mode",
    18: "Failed to enter rescue mode",
    19: "Exiting rescue mode",
    20: "Failed to exit rescue mode",
    21: "Testing",
    22: "Failed testing",
}

# The short names the `status` filter of `GET machines/` takes.
NODE_STATUS_SHORT: dict[str, int] = {
    "new": 0,
    "commissioning": 1,
    "failed_commissioning": 2,
    "missing": 3,
    "ready": 4,
    "reserved": 5,
    "deployed": 6,
    "retired": 7,
    "broken": 8,
    "deploying": 9,
    "allocated": 10,
    "failed_deployment": 11,
    "releasing": 12,
    "failed_releasing": 13,
    "disk_erasing": 14,
    "failed_disk_erasing": 15,
    "rescue_mode": 16,
    "entering_rescue_mode": 17,
    "failed_entering_rescue_mode": 18,
    "exiting_rescue_mode": 19,
    "failed_exiting_rescue_mode": 20,
    "testing": 21,
    "failed_testing": 22,
}

NEW = 0
COMMISSIONING = 1
FAILED_COMMISSIONING = 2
READY = 4
DEPLOYED = 6
DEPLOYING = 9
ALLOCATED = 10
FAILED_DEPLOYMENT = 11
RELEASING = 12

# States in which the machine is held by an owner and the API reads/writes the
# "acquired" copies of filesystems.
ALLOCATED_STATES = frozenset({6, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22})

# Filesystem types a device can be formatted with (FILESYSTEM_FORMAT_TYPE_CHOICES).
FORMAT_FSTYPES: tuple[str, ...] = (
    "ext2",
    "ext4",
    "xfs",
    "fat32",
    "vfat",
    "swap",
    "ramfs",
    "tmpfs",
    "btrfs",
    "zfsroot",
)
# Types that take no mount point (everything else requires one).
FSTYPES_WITHOUT_MOUNT_POINT = frozenset({"swap"})
# Types that need no storage underneath (and so must be mounted).
FSTYPES_WITHOUT_STORAGE = frozenset({"ramfs", "tmpfs"})

RAID_ACTIVE = "raid"
RAID_SPARE = "raid-spare"

RAID_LEVELS: tuple[str, ...] = ("raid-0", "raid-1", "raid-5", "raid-6", "raid-10")


def status_label(status: int) -> str:
    return NODE_STATUS_LABELS.get(status, "Unknown")


def status_from_name(name: str | int) -> int:
    """A status given by label ("Ready"), short name ("ready") or number."""
    if isinstance(name, int):
        if name in NODE_STATUS_LABELS:
            return name
        raise ValueError(f"unknown MAAS status {name!r}")
    text = str(name).strip()
    if text.isdigit() and int(text) in NODE_STATUS_LABELS:
        return int(text)
    for code, label in NODE_STATUS_LABELS.items():
        if label.lower() == text.lower():
            return code
    short = text.lower().replace(" ", "_").replace("-", "_")
    if short in NODE_STATUS_SHORT:
        return NODE_STATUS_SHORT[short]
    raise ValueError(f"unknown MAAS status {name!r}")
