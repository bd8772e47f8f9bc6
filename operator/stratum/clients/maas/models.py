"""What MAAS returns, as typed models (only the fields the operator reads; the rest is ignored)."""

from __future__ import annotations

import posixpath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

READY = 4
# Transitions that end by themselves within minutes (maascommon/enums/node.py): Commissioning,
# Deploying, Releasing, Disk erasing, Testing.
TRANSITIONAL = frozenset({1, 9, 12, 14, 21})
MemberKind = Literal["device", "partition"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Filesystem(Wire):
    fstype: str | None = None
    label: str | None = None
    uuid: str | None = None
    mount_point: str | None = None
    mount_options: str | None = None


class Partition(Wire):
    id: int
    device_id: int | None = None
    uuid: str | None = None
    path: str = ""
    type: str = "partition"
    size: int
    filesystem: Filesystem | None = None
    used_for: str = ""

    @property
    def name(self) -> str:
        """Partitions have no name field; the lookup name `<disk>-part<N>` ends the path."""
        return posixpath.basename(self.path)


class BlockDevice(Wire):
    id: int
    name: str
    type: str = "physical"
    """physical or virtual (RAID md devices, bcache, LVM volumes)."""
    path: str = ""
    uuid: str | None = None
    serial: str | None = None
    """Physical disks only; MAAS sends "" for a disk without one."""
    id_path: str | None = None
    """/dev/disk/by-id/... when the disk has a serial, else /dev/<kernel name> (not stable)."""
    model: str | None = None
    size: int
    available_size: int = 0
    filesystem: Filesystem | None = None
    partition_table_type: str | None = None
    partitions: list[Partition] = Field(default_factory=list)
    used_for: str = ""
    tags: list[str] = Field(default_factory=list)
    """Block-device tags: commissioning sets ssd or rotary (and e.g. 7200rpm); users add more."""


class Member(Wire):
    """A RAID member: a block device or a partition (`type` "partition")."""

    id: int
    type: str
    size: int
    name: str | None = None
    path: str = ""

    @property
    def kind(self) -> MemberKind:
        return "partition" if self.type == "partition" else "device"

    @property
    def display_name(self) -> str:
        return self.name or posixpath.basename(self.path)


class Raid(Wire):
    id: int
    name: str
    level: str
    uuid: str | None = None
    system_id: str | None = None
    devices: list[Member] = Field(default_factory=list)
    spare_devices: list[Member] = Field(default_factory=list)
    size: float = 0
    """Bytes; a JSON float for raid-10 (LP:2109708), so read it through `size_bytes`."""
    virtual_device: BlockDevice | None = None

    @property
    def size_bytes(self) -> int:
        return int(self.size)


class Machine(Wire):
    system_id: str
    hostname: str = ""
    status: int
    status_name: str = ""
    boot_disk: BlockDevice | None = None
    tag_names: list[str] = Field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.status == READY

    @property
    def in_transition(self) -> bool:
        return self.status in TRANSITIONAL

    def describe(self) -> str:
        return f"{self.hostname} ({self.system_id})" if self.hostname else self.system_id


class Tag(Wire):
    name: str
    comment: str = ""
    definition: str = ""
