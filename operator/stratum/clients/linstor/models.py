"""What the controller returns, as typed models. Empty fields are omitted on the wire, so every
collection defaults to empty."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class SelectFilter(Wire):
    place_count: int | None = None
    storage_pool: str | None = None
    storage_pool_list: list[str] = Field(default_factory=list)
    storage_pool_diskless_list: list[str] = Field(default_factory=list)
    not_place_with_rsc: list[str] = Field(default_factory=list)
    not_place_with_rsc_regex: str | None = None
    replicas_on_same: list[str] = Field(default_factory=list)
    replicas_on_different: list[str] = Field(default_factory=list)
    layer_stack: list[str] = Field(default_factory=list)
    provider_list: list[str] = Field(default_factory=list)
    diskless_on_remaining: bool | None = None

    @property
    def pools(self) -> list[str]:
        if self.storage_pool_list:
            return self.storage_pool_list
        return [self.storage_pool] if self.storage_pool else []


class ResourceGroup(Wire):
    name: str
    description: str | None = None
    props: dict[str, str] = Field(default_factory=dict)
    select_filter: SelectFilter = Field(default_factory=SelectFilter)
    uuid: str | None = None


class VolumeGroup(Wire):
    volume_number: int
    props: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)


class VolumeDefinition(Wire):
    volume_number: int
    size_kib: int
    props: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    layer_data: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def minor(self) -> int | None:
        for layer in self.layer_data:
            if layer.get("type") == "DRBD":
                minor = (layer.get("data") or {}).get("minor_number")
                return int(minor) if minor is not None else None
        return None


class ResourceDefinition(Wire):
    name: str
    props: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    resource_group_name: str | None = None
    volume_definitions: list[VolumeDefinition] = Field(default_factory=list)


class ReplicationState(Wire):
    """A volume's DRBD replication towards one peer (REST >= 1.25)."""

    replication_state: str | None = None
    done_percentage: float | None = None
    """Only while a resync runs."""


class VolumeState(Wire):
    disk_state: str | None = None
    replication_states: dict[str, ReplicationState] = Field(default_factory=dict)


class Volume(Wire):
    volume_number: int
    storage_pool_name: str | None = None
    device_path: str | None = None
    allocated_size_kib: int | None = None
    state: VolumeState = Field(default_factory=VolumeState)
    layer_data_list: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def minor(self) -> int | None:
        for layer in self.layer_data_list:
            if layer.get("type") == "DRBD":
                vd = (layer.get("data") or {}).get("drbd_volume_definition") or {}
                if vd.get("minor_number") is not None:
                    return int(vd["minor_number"])
        return None


class ResourceState(Wire):
    in_use: bool | None = None


class PeerConnection(Wire):
    connected: bool = False
    message: str | None = None


class DrbdResource(Wire):
    connections: dict[str, PeerConnection] = Field(default_factory=dict)


class LayerObject(Wire):
    drbd: DrbdResource | None = None


class Resource(Wire):
    name: str
    node_name: str
    props: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)
    state: ResourceState | None = None
    """What the satellite reports; absent while the satellite is not connected."""
    layer_object: LayerObject = Field(default_factory=LayerObject)
    volumes: list[Volume] = Field(default_factory=list)

    @property
    def reported(self) -> bool:
        """Whether the controller has a state for this replica (its satellite is connected)."""
        return self.state is not None

    @property
    def in_use(self) -> bool:
        return bool(self.state and self.state.in_use)

    @property
    def connections(self) -> dict[str, PeerConnection]:
        drbd = self.layer_object.drbd
        return drbd.connections if drbd else {}

    @property
    def diskless(self) -> bool:
        return "DISKLESS" in self.flags or "DRBD_DISKLESS" in self.flags

    @property
    def tie_breaker(self) -> bool:
        return "TIE_BREAKER" in self.flags

    @property
    def deleting(self) -> bool:
        return "DELETE" in self.flags


class Node(Wire):
    name: str
    connection_status: str | None = None
    flags: list[str] = Field(default_factory=list)

    @property
    def online(self) -> bool:
        return (self.connection_status or "").upper() in ("ONLINE", "CONNECTED")


class ControllerVersion(Wire):
    version: str
    rest_api_version: str
    git_hash: str | None = None


class SnapshotVolumeDefinition(Wire):
    volume_number: int
    size_kib: int


class SnapshotOnNode(Wire):
    node_name: str
    create_timestamp: int | None = None
    flags: list[str] = Field(default_factory=list)


class Snapshot(Wire):
    name: str
    resource_name: str
    nodes: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    snapshot_definition_props: dict[str, str] = Field(default_factory=dict)
    props: dict[str, str] = Field(default_factory=dict)
    volume_definitions: list[SnapshotVolumeDefinition] = Field(default_factory=list)
    snapshots: list[SnapshotOnNode] = Field(default_factory=list)

    @property
    def successful(self) -> bool:
        return "SUCCESSFUL" in self.flags

    @property
    def failed(self) -> bool:
        return any(flag.startswith("FAILED") for flag in self.flags)

    @property
    def all_props(self) -> dict[str, str]:
        return {**self.props, **self.snapshot_definition_props}


class MaxVolumeSizeCandidate(Wire):
    storage_pool: str
    max_volume_size_kib: int
    node_names: list[str] = Field(default_factory=list)
    all_thin: bool | None = None


class MaxVolumeSizes(Wire):
    candidates: list[MaxVolumeSizeCandidate] = Field(default_factory=list)
