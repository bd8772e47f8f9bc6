"""linstor.stratum.dev/v1alpha1: ResourceGroup, Resource, Snapshot."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue

from stratum.api.common import (
    ApiModel,
    DeletionPolicy,
    ManagedSpec,
    Properties,
    Quantity,
    StatusBase,
    StatusModel,
    adopt_field,
    immutable,
)

GROUP = "linstor.stratum.dev"

# LINSTOR's name rules for resource (group) definitions and snapshots: 2..48 chars, first a
# letter or "_", then letters, digits, "_" or "-", with at least one letter.
LINSTOR_NAME_PATTERN = r"^([A-Za-z][A-Za-z0-9_-]*|_[A-Za-z0-9_-]*[A-Za-z][A-Za-z0-9_-]*)$"
STORAGE_POOL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,46}[A-Za-z0-9]$"
NODE_NAME_PATTERN = (
    r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)

NodeName = Annotated[str, Field(max_length=253, pattern=NODE_NAME_PATTERN)]
PoolName = Annotated[str, Field(pattern=STORAGE_POOL_PATTERN)]
ResourceNameRef = Annotated[str, Field(min_length=2, max_length=48, pattern=LINSTOR_NAME_PATTERN)]
Layer = Literal["drbd", "luks", "storage", "nvme", "writecache", "cache", "bcache"]
Provider = Literal[
    "LVM",
    "LVM_THIN",
    "ZFS",
    "ZFS_THIN",
    "FILE",
    "FILE_THIN",
    "SPDK",
    "REMOTE_SPDK",
    "EXOS",
    "STORAGE_SPACES",
    "STORAGE_SPACES_THIN",
    "EBS_TARGET",
    "EBS_INIT",
    "DISKLESS",
]

LinstorName = Field(
    default=None,
    min_length=2,
    max_length=48,
    pattern=LINSTOR_NAME_PATTERN,
    json_schema_extra={"x-kubernetes-validations": [immutable("linstorName")]},
)
ADOPT_FIELD = adopt_field("LINSTOR")
# LINSTOR validates keys and values against its whitelist; the schema only bounds the size.
PROPERTIES_FIELD: Any = Field(default_factory=dict, json_schema_extra={"maxProperties": 64})


# ------------------------------------------------------------------------------ ResourceGroup


class Placement(ApiModel):
    """LINSTOR's autoplace select filter."""

    place_count: int = Field(default=2, ge=1, le=32)
    """Diskful replicas per resource."""
    storage_pools: list[PoolName] = Field(default_factory=list, max_length=64)
    """Storage pools diskful replicas may use."""
    diskless_storage_pool: str | None = Field(default=None, pattern=STORAGE_POOL_PATTERN)
    """Storage pool for diskless replicas."""
    do_not_place_with: list[ResourceNameRef] = Field(default_factory=list, max_length=64)
    """Avoid nodes that hold any of these resources."""
    do_not_place_with_regex: str | None = Field(default=None, max_length=256)
    """Avoid nodes that hold a resource whose name matches (case-insensitive)."""
    replicas_on_same: list[str] = Field(default_factory=list, max_length=16)
    """Node property keys (or key=value) all replicas must share, e.g. Aux/site."""
    replicas_on_different: list[str] = Field(default_factory=list, max_length=16)
    """Node property keys whose values must differ between replicas, e.g. Aux/zone."""
    diskless_on_remaining: bool = False
    """Attach a diskless replica on every other node."""
    layer_list: list[Layer] = Field(default_factory=list, max_length=8)
    """Layer stack, top first, e.g. [drbd, storage]."""
    provider_list: list[Provider] = Field(default_factory=list, max_length=16)
    """Storage provider kinds replicas may use."""


class VolumeGroup(ApiModel):
    """One volume of every resource spawned from the group; the index is the volume number."""

    properties: Properties = PROPERTIES_FIELD
    """Volume-group properties."""


class ResourceGroupSpec(ManagedSpec):
    """A LINSTOR resource group."""

    linstor_name: str | None = LinstorName
    """Name in LINSTOR (default metadata.name); immutable."""
    description: str | None = Field(default=None, max_length=1024)
    """Free-text description stored in LINSTOR."""
    placement: Placement = Field(default_factory=Placement, json_schema_extra={"default": {}})
    """Where resources of this group are placed."""
    volume_groups: list[VolumeGroup] = Field(default_factory=list, max_length=16)
    """Volume groups; the index is the volume number."""
    properties: Properties = PROPERTIES_FIELD
    """Resource-group properties the operator manages; other properties are left alone."""
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the LINSTOR object with this one; Retain leaves it."""
    adopt: bool = ADOPT_FIELD


class MaxVolumeSize(StatusModel):
    """One candidate of query-max-volume-size."""

    storage_pool: str
    max_volume_size: str
    """Largest volume this pool can hold, as a Kubernetes quantity."""
    node_names: list[str] = Field(default_factory=list)


class ResourceGroupStatus(StatusBase):
    linstor_name: str | None = None
    """The LINSTOR name this object manages."""
    max_volume_size: str | None = None
    """Largest volume a resource of this group can have now, as a Kubernetes quantity."""
    max_volume_size_candidates: list[MaxVolumeSize] = Field(default_factory=list)
    """Per storage pool candidates reported by LINSTOR."""
    placement_applied: str | None = None
    """Fingerprint of the placement last adjusted onto the group's existing resources."""
    resources: int | None = None
    """Resource definitions spawned from the group."""
    resources_placed: int | None = None
    """Of those, how many hold at least placeCount diskful replicas."""


# ----------------------------------------------------------------------------------- Resource


class VolumeSpec(ApiModel):
    size: Quantity
    """Volume size, e.g. 10Gi; growing it resizes the volume, shrinking is refused."""


class RestoreSource(ApiModel):
    """Exactly one of snapshot and backup."""

    snapshot: str | None = Field(default=None, min_length=1, max_length=253)
    """Name of a Snapshot object."""
    backup: str | None = Field(default=None, min_length=1, max_length=253)
    """Name of a Backup object (shipped from here, or imported from a Remote another cluster shares)."""


class RollbackRequest(ApiModel):
    """A one-shot request: roll the resource back to a snapshot, once per requestId."""

    snapshot: str = Field(min_length=1, max_length=253)
    """Name of a Snapshot object of this resource."""
    request_id: str = Field(min_length=1, max_length=63)
    """Change it to request another rollback."""


MAX_VOLUMES = 8


def _no_shrink_rules() -> list[JsonValue]:
    rules: list[JsonValue] = [
        {
            "rule": "self.size() >= oldSelf.size()",
            "message": "volumes cannot be removed: LINSTOR would delete their data",
        }
    ]
    for i in range(MAX_VOLUMES):
        rules.append(
            {
                "rule": f"oldSelf.size() <= {i} || self.size() <= {i} || "
                f"quantity(string(self[{i}].size)).compareTo(quantity(string(oldSelf[{i}].size))) >= 0",
                "message": f"volumes[{i}].size cannot shrink: LINSTOR volumes can only grow",
            }
        )
    return rules


class ResourceSpec(ManagedSpec):
    """A LINSTOR resource definition with its volumes and placements."""

    linstor_name: str | None = LinstorName
    """Name in LINSTOR (default metadata.name); immutable."""
    resource_group: str = Field(
        min_length=1,
        max_length=253,
        json_schema_extra={"x-kubernetes-validations": [immutable("resourceGroup")]},
    )
    """Name of the ResourceGroup object the resource is spawned from; immutable."""
    volumes: list[VolumeSpec] = Field(
        min_length=1,
        max_length=MAX_VOLUMES,
        json_schema_extra={"x-kubernetes-validations": _no_shrink_rules()},
    )
    """Volumes in order of their volume number."""
    diskful_nodes: list[NodeName] = Field(
        default_factory=list,
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    """Nodes that must hold a diskful replica."""
    diskless_nodes: list[NodeName] = Field(
        default_factory=list,
        max_length=32,
        json_schema_extra={"x-kubernetes-list-type": "set"},
    )
    """Nodes that must have a diskless attachment."""
    allow_two_primaries: bool = False
    """DRBD net option allow-two-primaries (live migration)."""
    properties: Properties = PROPERTIES_FIELD
    """Resource-definition properties the operator manages; other properties are left alone."""
    restore_from: RestoreSource | None = Field(
        default=None,
        json_schema_extra={
            "x-kubernetes-validations": [
                immutable("restoreFrom"),
                {
                    "rule": "has(self.snapshot) != has(self.backup)",
                    "message": "restoreFrom needs exactly one of snapshot and backup",
                },
            ]
        },
    )
    """Create the resource from a Snapshot or a Backup object; immutable."""
    rollback: RollbackRequest | None = None
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the LINSTOR resource with this object; Retain leaves it."""
    adopt: bool = ADOPT_FIELD


class VolumeStatus(StatusModel):
    number: int
    size: str | None = None
    """Size as LINSTOR reports it, as a Kubernetes quantity."""
    device_path: str | None = None
    minor: int | None = None
    resizing: bool = False
    """LINSTOR is growing the volume (its RESIZE flag is set)."""


class ReplicaStatus(StatusModel):
    node: str
    diskless: bool = False
    tie_breaker: bool = False
    state: str | None = None
    """Disk state LINSTOR reports, e.g. UpToDate, Inconsistent, Diskless; Unknown while the
    satellite is not connected."""
    reachable: bool = True
    """The controller is connected to the replica's satellite."""
    in_use: bool = False
    """DRBD Primary on this node (mounted or opened)."""
    placed_by_stratum: bool = False
    """Stratum created this replica for diskfulNodes/disklessNodes (and may remove it when the
    node leaves the list)."""


class RollbackStatus(StatusModel):
    request_id: str
    snapshot: str
    completed_at: str


class RollbackSent(StatusModel):
    """A rollback request as recorded right before it was sent."""

    request_id: str
    snapshot: str
    sent_at: str


class ResourceStatus(StatusBase):
    linstor_name: str | None = None
    resource_group: str | None = None
    """The LINSTOR resource group the resource belongs to."""
    volumes: list[VolumeStatus] = Field(default_factory=list)
    replicas: list[ReplicaStatus] = Field(default_factory=list)
    last_rollback: RollbackStatus | None = None
    rollback_sent: RollbackSent | None = None
    """Written before a rollback is sent (removed again when LINSTOR refuses it). When it names
    the current requestId and lastRollback does not, the answer was lost (the operator stopped or
    the request timed out): the rollback is not repeated on its own (RollbackUncertain)."""


# ----------------------------------------------------------------------------------- Snapshot


class SnapshotSpec(ManagedSpec):
    """A LINSTOR snapshot of a resource."""

    linstor_name: str | None = LinstorName
    """Snapshot name in LINSTOR (default metadata.name); immutable."""
    resource: str = Field(
        min_length=1,
        max_length=253,
        json_schema_extra={"x-kubernetes-validations": [immutable("resource")]},
    )
    """Name of the Resource object to snapshot; immutable."""
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the LINSTOR snapshot with this object; Retain leaves it."""
    adopt: bool = ADOPT_FIELD


class SnapshotVolumeStatus(StatusModel):
    number: int
    size: str | None = None


class SnapshotStatus(StatusBase):
    linstor_name: str | None = None
    resource_linstor_name: str | None = None
    """The LINSTOR resource the snapshot belongs to."""
    nodes: list[str] = Field(default_factory=list)
    volumes: list[SnapshotVolumeStatus] = Field(default_factory=list)
    created_at: str | None = None
