"""maas.stratum.dev/v1alpha1: MachineRaid and MachineRaidSet."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, JsonValue, WithJsonSchema
from pydantic.config import JsonDict

from stratum.api.common import (
    ApiModel,
    DeletionPolicy,
    ManagedSpec,
    Quantity,
    StatusBase,
    StatusModel,
    adopt_field,
    immutable,
)

GROUP = "maas.stratum.dev"

RaidLevel = Literal["raid-0", "raid-1", "raid-5", "raid-6", "raid-10"]
Fstype = Literal["ext2", "ext4", "xfs", "btrfs", "fat32", "vfat", "swap"]

# Minimum active members per level (DESIGN.md). raid-10 needs 4 because of curtin, not MAAS:
# MAAS's FilesystemGroup._validate_raid accepts raid-10 with 3 devices, but the deployment then
# fails when curtin builds the array from MAAS's storage config, so Stratum refuses it up front.
MIN_ACTIVE = {"raid-0": 2, "raid-1": 2, "raid-5": 3, "raid-6": 4, "raid-10": 4}

SERIAL_PREFIX = "serial:"
ID_PATH_PREFIX = "id-path:"
DeviceName = Annotated[
    str,
    Field(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/+=@,-]*$"),
]
"""A block-device or partition name (sdb, sdb-part1), a MAAS id, `serial:<serial>` or
`id-path:<path>` (a physical disk by stable identity)."""
PartitionSize = Annotated[
    int | str,
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            # JSON Schema applies each keyword to its own type: pattern to strings, minimum to ints.
            "pattern": r"^[0-9]+(\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$",
            "minimum": 1,
            "maxLength": 64,
        }
    ),
]
"""Bytes or a quantity such as 100G or 512Gi. A pattern rather than the CEL quantity rule of
api.common.Quantity: that rule costs too much per item of a list."""
TagName = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9_-]+$")]
"""A MAAS tag name (maasserver/models/tag.py: letters, digits, _ and -)."""
MACHINE_SELECTOR_RULE: JsonDict = {
    "rule": "has(self.systemId) != has(self.hostname)",
    "message": "machine needs exactly one of systemId or hostname",
}


class MachineSelector(ApiModel):
    """The MAAS machine, by system id or by hostname (exactly one)."""

    system_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[a-z0-9]+$")
    """MAAS system_id, e.g. abc123."""
    hostname: str | None = Field(default=None, min_length=1, max_length=253)
    """MAAS hostname, e.g. node-1."""


class FilesystemSpec(ApiModel):
    """Format the array's md device and mount it."""

    fstype: Fstype
    """Filesystem type MAAS formats the md device with."""
    mount_point: str | None = Field(default=None, max_length=4096, pattern=r"^/([^/]+(/[^/]+)*)?/?$")
    """Absolute mount point; required unless fstype is swap."""
    mount_options: str | None = Field(default=None, max_length=1024)
    """Mount options, e.g. noatime."""


def _level_rules() -> list[JsonValue]:
    rules: list[JsonValue] = []
    active = (
        "(has(self.devices) ? size(self.devices) : 0) + (has(self.partitions) ? "
        "size(self.partitions.filter(p, !has(p.spare) || !p.spare)) : 0) + "
        "(has(self.deviceSelector) ? self.deviceSelector.count : 0)"
    )
    for level, minimum in MIN_ACTIVE.items():
        rules.append(
            {
                "rule": f"self.level != '{level}' || {active} >= {minimum}",
                "message": f"{level} needs at least {minimum} active devices "
                "(devices, deviceSelector.count and partitions together)",
                "fieldPath": ".devices",
            }
        )
    rules += [
        {
            "rule": "self.level != 'raid-0' || ((!has(self.spareDevices) || size(self.spareDevices) == 0) "
            "&& (!has(self.partitions) || self.partitions.all(p, !has(p.spare) || !p.spare)))",
            "message": "raid-0 cannot have spare devices",
            "fieldPath": ".spareDevices",
        },
        {
            "rule": "!has(self.spareDevices) || !has(self.devices) "
            "|| self.devices.all(d, !(d in self.spareDevices))",
            "message": "a device cannot be both active and spare",
            "fieldPath": ".spareDevices",
        },
        {
            "rule": "!has(self.deviceSelector) || !has(self.devices) || size(self.devices) == 0",
            "message": "set either devices or deviceSelector, not both",
            "fieldPath": ".deviceSelector",
        },
        {
            "rule": "!has(self.filesystem) || self.filesystem.fstype == 'swap' "
            "|| has(self.filesystem.mountPoint)",
            "message": "filesystem.mountPoint is required unless fstype is swap",
            "fieldPath": ".filesystem",
        },
    ]
    return rules


class PartitionSpec(ApiModel):
    """A partition Stratum creates on a disk and uses as a member of the array."""

    disk: DeviceName
    """The disk: a name, an id, `serial:<serial>` or `id-path:<path>`."""
    size: PartitionSize | None = None
    """Partition size (MAAS rounds it down to 4 MiB); default: all free space on the disk."""
    spare: bool = False
    """Use the partition as a spare instead of an active member."""


class DeviceSelector(ApiModel):
    """Free non-boot physical disks chosen per machine: the smallest that fit, then by name. Chosen
    once, when the array is first created, and then pinned by identity (status.devices)."""

    count: int = Field(ge=1, le=64)
    """How many disks to use as active members."""
    min_size: Quantity | None = None
    """Smallest disk size to accept, e.g. 900G."""
    max_size: Quantity | None = None
    """Largest disk size to accept, e.g. 2T."""
    tags: list[TagName] = Field(
        default_factory=list, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """MAAS block-device tags a disk must all have (commissioning sets ssd or rotary, ...)."""


class MachineRaidTemplate(ManagedSpec):
    """The array on one machine, without saying which machine: a MachineRaid's spec is this plus
    `machine`, and a MachineRaidSet stamps it out on every machine it selects."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": _level_rules()})

    raid_name: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    )
    """Array name in MAAS (default metadata.name); changing it renames the array."""
    level: RaidLevel = Field(json_schema_extra={"x-kubernetes-validations": [immutable("level")]})
    """RAID level; immutable (MAAS cannot change it)."""
    devices: list[DeviceName] = Field(
        default_factory=list, max_length=64, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Active members: block-device or partition names (e.g. sdb, sdb-part1), ids, or physical
    disks by stable identity (`serial:<serial>`, `id-path:<path>`). Names are resolved once and
    then followed by identity (status.devices), so a kernel rename never moves the array."""
    device_selector: DeviceSelector | None = None
    """Instead of devices: pick the active members on the machine by count, size and disk tags."""
    spare_devices: list[DeviceName] = Field(
        default_factory=list, max_length=64, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Spare members, same naming as devices."""
    partitions: list[PartitionSpec] = Field(default_factory=list, max_length=64)
    """Partitions Stratum creates (once, marked by a uuid derived from the object's uid) and
    uses as members; deleted with the array under deletionPolicy Delete."""
    uuid: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}$",
    )
    """Array UUID (a version-4 UUID); MAAS picks one when empty."""
    filesystem: FilesystemSpec | None = None
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the array from MAAS with this object; Retain leaves it."""
    adopt: bool = adopt_field("MAAS")
    ready_tag: TagName | None = None
    """A MAAS tag Stratum keeps on the machine exactly while every MachineRaid of the machine
    that names it is Ready (created when missing); allocate with `tags=<tag>` to wait for it."""


class MachineRaidSpec(MachineRaidTemplate):
    """A software RAID array on a MAAS machine."""

    machine: MachineSelector = Field(
        json_schema_extra={"x-kubernetes-validations": [MACHINE_SELECTOR_RULE, immutable("machine")]}
    )
    """The machine the array lives on; immutable."""


class DeviceStatus(StatusModel):
    name: str
    """The MAAS name now (it follows kernel renames)."""
    id: int
    type: str
    """physical, virtual or partition."""
    size: int
    """Bytes."""
    ref: str | None = None
    """The spec entry this member was resolved from (a devices entry, or partitions[i])."""
    serial: str | None = None
    """The physical disk's serial: the identity the member is pinned to."""
    id_path: str | None = None
    """The disk's id_path; only a /dev/disk/by-id path is stable (MAAS records /dev/<name> for a
    disk without a serial, which changes with the kernel name)."""
    partition_uuid: str | None = None
    """For a partition: its uuid (Stratum-created partitions get one derived from the uid)."""


class FilesystemStatus(StatusModel):
    fstype: str | None = None
    uuid: str | None = None
    mount_point: str | None = None
    mount_options: str | None = None


class MachineRaidStatus(StatusBase):
    system_id: str | None = None
    raid_name: str | None = None
    raid_id: int | None = None
    virtual_device_id: int | None = None
    size: int | None = None
    """Array size in bytes as MAAS reports it."""
    expected_size: int | None = None
    """Array size in bytes computed from the member sizes before anything is created."""
    devices: list[DeviceStatus] = Field(default_factory=list)
    spare_devices: list[DeviceStatus] = Field(default_factory=list)
    filesystem: FilesystemStatus | None = None
    machine_status: str | None = None
    """The machine's MAAS status name, e.g. Ready or Deployed."""
    ready_tag: str | None = None
    """The MAAS tag Stratum manages on the machine for this object (spec.readyTag)."""


# ----------------------------------------------------------------------------- MachineRaidSet

WhenUnmatched = Literal["Retain", "Delete"]
SET_LABEL = "stratum.dev/machineraidset"
"""On each MachineRaid a set owns: the set's name."""


class FleetSelector(ApiModel):
    """Which MAAS machines get the array: every criterion given must match."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "(has(self.tags) && size(self.tags) > 0) || has(self.pool) || has(self.zone)",
                    "message": "machineSelector needs at least one of tags, pool or zone",
                }
            ]
        }
    )

    tags: list[TagName] = Field(
        default_factory=list, max_length=16, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """MAAS machine tags; a machine must have all of them."""
    pool: str | None = Field(default=None, min_length=1, max_length=256)
    """MAAS resource pool name."""
    zone: str | None = Field(default=None, min_length=1, max_length=256)
    """MAAS availability zone name."""


class MachineRaidSetSpec(ManagedSpec):
    """One RAID layout for every MAAS machine the selector matches."""

    machine_selector: FleetSelector
    template: MachineRaidTemplate = Field(
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.uuid)",
                    "message": "a template cannot set uuid: each machine's array needs its own",
                    "fieldPath": ".uuid",
                }
            ]
        }
    )
    """The spec of each machine's MachineRaid, without `machine`; editing it edits every child
    (fields immutable on a MachineRaid are immutable here)."""
    when_unmatched: WhenUnmatched = "Retain"
    """What happens to a machine's MachineRaid when the machine leaves the selector: Retain keeps
    it (released from the set: deleting the set no longer deletes it), Delete deletes it (the
    array then goes per the template's deletionPolicy)."""
    deletion_policy: DeletionPolicy = "Delete"
    """Delete deletes the children with the set (each follows its own deletionPolicy); Retain
    releases them and keeps them."""


class MachineLine(StatusModel):
    """A machine whose MachineRaid is not Ready, and why."""

    system_id: str
    hostname: str | None = None
    machine_raid: str
    reason: str
    """The MachineRaid's Ready reason, e.g. MachineNotReady or NotEnoughDevices."""
    message: str = ""
    stalled: bool = False
    """True when it needs a person (the MachineRaid is Stalled, or the set could not write it)."""


class MachineRaidSetStatus(StatusBase):
    matched: int | None = None
    """Machines the selector matches (each has a MachineRaid)."""
    ready: int | None = None
    """Children that are Ready."""
    stalled: int | None = None
    """Children that need a person (Stalled=True)."""
    waiting: int | None = None
    """Children still working or waiting (a machine not Ready, an array being built)."""
    not_ready: list[MachineLine] = Field(default_factory=list)
    """One line per matched machine whose MachineRaid is not Ready."""
