"""The in-memory controller state: objects, indexes and number pools.

Everything is keyed by the upper-cased name (LINSTOR identity); display names are kept as given.
Indexes kept up to date on every change so that requests stay dict lookups at benchmark scale:
node -> its resources, resource group -> its definitions, pool -> its allocations.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .apicallrc import new_uuid
from .names import key
from .remotes import BackupState

THIN_PROVIDERS = frozenset({"LVM_THIN", "ZFS_THIN", "FILE_THIN", "STORAGE_SPACES_THIN"})
DISKLESS_PROVIDERS = frozenset({"DISKLESS"})
SNAPSHOT_PROVIDERS = frozenset(
    {"LVM_THIN", "ZFS", "ZFS_THIN", "FILE", "FILE_THIN", "SPDK", "REMOTE_SPDK", "EBS_TARGET"}
)
ALL_PROVIDERS = frozenset(
    {
        "DISKLESS",
        "LVM",
        "LVM_THIN",
        "ZFS",
        "ZFS_THIN",
        "FILE",
        "FILE_THIN",
        "SPDK",
        "REMOTE_SPDK",
        "EBS_TARGET",
        "EBS_INIT",
        "STORAGE_SPACES",
        "STORAGE_SPACES_THIN",
        "EXOS",
    }
)
ALL_LAYERS = ("DRBD", "LUKS", "STORAGE", "NVME", "WRITECACHE", "CACHE", "BCACHE")
DEFAULT_LAYERS = ("DRBD", "LUKS", "STORAGE", "NVME", "WRITECACHE", "CACHE", "BCACHE")
DEFAULT_LAYER_STACK = ("DRBD", "STORAGE")

DFLT_RSC_GRP = "DfltRscGrp"
DFLT_STOR_POOL = "DfltStorPool"
DFLT_DISKLESS_POOL = "DfltDisklessStorPool"

MINOR_RANGE = (1000, 49999)
PORT_RANGE = (7000, 7999)
LONG_MAX = 9223372036854775807
DEFAULT_PEER_SLOTS = 7


def now_ms() -> int:
    return int(time.time() * 1000)


class NumberPool:
    """Lowest-free allocation in [low, high] with O(log n) allocate/free."""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high
        self.used: set[int] = set()
        self._next = low
        self._freed: list[int] = []

    def allocate(self) -> int | None:
        while self._freed:
            nr = heapq.heappop(self._freed)
            if nr not in self.used and nr < self._next:
                self.used.add(nr)
                return nr
        while self._next <= self.high and self._next in self.used:
            self._next += 1
        if self._next > self.high:
            return None
        nr = self._next
        self.used.add(nr)
        self._next += 1
        return nr

    def take(self, nr: int) -> bool:
        if nr in self.used:
            return False
        self.used.add(nr)
        return True

    def free(self, nr: int) -> None:
        if nr in self.used:
            self.used.discard(nr)
            if nr < self._next:
                heapq.heappush(self._freed, nr)


@dataclass(eq=False)
class StoragePool:
    node_name: str
    name: str
    provider: str
    total_kib: int = 0
    free_kib: int = 0
    props: dict[str, str] = field(default_factory=dict)
    uuid: str = field(default_factory=new_uuid)
    # (rd key, volume number) -> gross KiB reserved in this pool
    usage: dict[tuple[str, int], int] = field(default_factory=dict)
    reserved_kib: int = 0

    @property
    def thin(self) -> bool:
        return self.provider in THIN_PROVIDERS

    @property
    def diskless(self) -> bool:
        return self.provider in DISKLESS_PROVIDERS

    @property
    def supports_snapshots(self) -> bool:
        return self.provider in SNAPSHOT_PROVIDERS

    def reserve(self, rd_key: str, vnr: int, kib: int) -> None:
        self.release(rd_key, vnr)
        self.usage[(rd_key, vnr)] = kib
        self.reserved_kib += kib

    def release(self, rd_key: str, vnr: int) -> None:
        old = self.usage.pop((rd_key, vnr), None)
        if old is not None:
            self.reserved_kib -= old

    @property
    def reported_free_kib(self) -> int:
        """What the satellite reports: thick pools lose what was allocated, thin ones not (no data)."""
        if self.thin:
            return self.free_kib
        return max(self.free_kib - self.reserved_kib, 0)

    def estimated_free_kib(self, thin_ratio: float = 20.0) -> float:
        """FreeCapacityAutoPoolSelectorUtils: min(free x ratio, total x ratio - reserved)."""
        ratio = thin_ratio if self.thin else 1.0
        if self.thin:
            return min(self.free_kib * ratio, self.total_kib * ratio - self.reserved_kib)
        return float(min(self.reported_free_kib, self.total_kib - self.reserved_kib))


@dataclass(eq=False)
class Node:
    name: str
    type: str = "SATELLITE"
    props: dict[str, str] = field(default_factory=dict)
    online: bool = True
    layers: tuple[str, ...] = DEFAULT_LAYERS
    flags: set[str] = field(default_factory=set)
    address: str = "127.0.0.1"
    uuid: str = field(default_factory=new_uuid)
    offline_since: float | None = None
    pools: dict[str, StoragePool] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    ports: NumberPool = field(default_factory=lambda: NumberPool(*PORT_RANGE))

    @property
    def key(self) -> str:
        return key(self.name)

    def pool(self, name: str) -> StoragePool | None:
        return self.pools.get(key(name))

    @property
    def placeable(self) -> bool:
        return self.online and not ({"DELETE", "EVACUATE", "EVICTED"} & self.flags)


@dataclass(eq=False)
class VolumeGroup:
    number: int
    props: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    uuid: str = field(default_factory=new_uuid)


@dataclass(eq=False)
class ResourceGroup:
    name: str
    description: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    select_filter: dict[str, Any] = field(default_factory=dict)
    peer_slots: int | None = None
    vgs: dict[int, VolumeGroup] = field(default_factory=dict)
    rds: set[str] = field(default_factory=set)
    uuid: str = field(default_factory=new_uuid)

    @property
    def key(self) -> str:
        return key(self.name)


@dataclass(eq=False)
class VolumeDefinition:
    number: int
    size_kib: int
    minor: int
    props: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    uuid: str = field(default_factory=new_uuid)
    # Linstor/Drbd/InitialUptoDateOn: the node whose new metadata wins the initial UpToDate race.
    initial_uptodate_on: str | None = None
    # When the RESIZE flag is cleared (the satellites finished resizing).
    resize_until: float | None = None


@dataclass(eq=False)
class Volume:
    number: int
    pool: StoragePool
    allocated_kib: int
    props: dict[str, str] = field(default_factory=dict)
    uuid: str = field(default_factory=new_uuid)
    # A running DRBD resync towards this volume (SyncTarget): start time and length in seconds.
    sync_start: float | None = None
    sync_seconds: float = 0.0
    # Needs a resync but no connected UpToDate peer to sync from (stays Inconsistent meanwhile).
    awaiting_source: bool = False


@dataclass(eq=False)
class Resource:
    rd: ResourceDefinition
    node: Node
    pool: StoragePool
    node_id: int
    props: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    drbd_client: bool = False
    ports: list[int] = field(default_factory=list)
    in_use: bool = False
    volumes: dict[int, Volume] = field(default_factory=dict)
    uuid: str = field(default_factory=new_uuid)
    create_ts: int = field(default_factory=now_ms)

    @property
    def diskless(self) -> bool:
        return "DRBD_DISKLESS" in self.flags

    @property
    def tiebreaker(self) -> bool:
        return "TIE_BREAKER" in self.flags

    @property
    def deleting(self) -> bool:
        return bool({"DELETE", "EVICTED"} & self.flags)


@dataclass(eq=False)
class SnapshotVolume:
    number: int
    pool_name: str
    provider: str
    uuid: str = field(default_factory=new_uuid)


@dataclass(eq=False)
class SnapshotOnNode:
    node_name: str
    volumes: list[SnapshotVolume]
    resource_props: dict[str, str] = field(default_factory=dict)
    uuid: str = field(default_factory=new_uuid)
    create_ts: int = field(default_factory=now_ms)


@dataclass(eq=False)
class SnapshotVolumeDefinition:
    number: int
    size_kib: int
    props: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


@dataclass(eq=False)
class Snapshot:
    name: str
    rd_name: str
    sequence: int
    nodes: dict[str, SnapshotOnNode]
    vds: list[SnapshotVolumeDefinition]
    rd_props: dict[str, str] = field(default_factory=dict)
    props: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=lambda: ["SUCCESSFUL"])
    uuid: str = field(default_factory=new_uuid)


@dataclass(eq=False)
class ResourceDefinition:
    name: str
    rg: ResourceGroup
    external_name: str | None = None
    props: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    layer_stack: list[str] | None = None
    requested_layers: list[str] | None = None
    port: int | None = None
    explicit_port: bool = False
    peer_slots: int | None = None
    secret: str = field(default_factory=lambda: new_uuid().replace("-", "")[:20])
    vds: dict[int, VolumeDefinition] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    snapshot_seq: int = 0
    uuid: str = field(default_factory=new_uuid)

    @property
    def key(self) -> str:
        return key(self.name)

    def effective_peer_slots(self) -> int:
        if self.peer_slots is not None:
            return self.peer_slots
        if self.rg.peer_slots is not None:
            return self.rg.peer_slots
        return DEFAULT_PEER_SLOTS

    def live_resources(self) -> list[Resource]:
        return [r for r in self.resources.values() if not r.deleting]

    def diskful(self) -> list[Resource]:
        return [r for r in self.resources.values() if not r.deleting and not r.diskless]


@dataclass(eq=False)
class ErrorReport:
    """One error report as the controller keeps it (ErrorReporter; GET /v1/error-reports)."""

    node_name: str
    error_time: int
    report_id: str
    text: str
    exception: str
    exception_message: str
    version: str
    module: str = "SATELLITE"


@dataclass(eq=False)
class KeyValueStore:
    name: str
    props: dict[str, str] = field(default_factory=dict)


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.split("-", 1)[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


# linstor-server: docs/rest_v1_openapi.yaml `info.version` at each release tag.
REST_API_VERSIONS = {
    24: "1.20.0",
    25: "1.20.2",
    26: "1.21.0",
    27: "1.22.0",
    28: "1.23.0",
    29: "1.23.0",
    30: "1.24.0",
    31: "1.25.0",
    32: "1.26.0",
    33: "1.27.0",
    34: "1.28.0",
}


def rest_api_version(version: tuple[int, int, int]) -> str:
    """Controller release -> REST API version (v1.24 -> 1.20.0 ... v1.34 -> 1.28.0)."""
    major, minor, _ = version
    if major != 1 or minor > max(REST_API_VERSIONS):
        return REST_API_VERSIONS[max(REST_API_VERSIONS)]
    return REST_API_VERSIONS.get(minor, REST_API_VERSIONS[min(REST_API_VERSIONS)])


class State:
    """The whole controller database."""

    def __init__(self, version: str = "1.33.2") -> None:
        self.version_text = version
        self.version = parse_version(version)
        self.nodes: dict[str, Node] = {}
        self.rgs: dict[str, ResourceGroup] = {}
        self.rds: dict[str, ResourceDefinition] = {}
        self.external_names: dict[str, str] = {}
        self.kvs: dict[str, KeyValueStore] = {}
        self.ctrl_props: dict[str, str] = {}
        self.minors = NumberPool(*MINOR_RANGE)
        self.rd_ports = NumberPool(*PORT_RANGE)
        self.git_hash = "0" * 40
        self.build_time = "2025-01-01T00:00:00+00:00"
        self.backup = BackupState()
        dflt = ResourceGroup(DFLT_RSC_GRP, select_filter={"place_count": 2})
        self.rgs[dflt.key] = dflt
        # Lifecycle (what happens over time): resync and resize durations, the clock they run on.
        self.sync_seconds = 0.0
        self.resize_seconds = 0.0
        self.clock: Callable[[], float] = time.monotonic
        self.error_reports: list[ErrorReport] = []
        self.resizing: list[tuple[ResourceDefinition, VolumeDefinition]] = []

    # Version-dependent behaviour ------------------------------------------------------------

    @property
    def rest_api_version(self) -> str:
        return rest_api_version(self.version)

    @property
    def per_node_ports(self) -> bool:
        """v1.32+: DRBD TCP ports are per node and per resource, not per definition."""
        return self.version >= (1, 32, 0)

    @property
    def rollback_via_restore(self) -> bool:
        """v1.31+: rollback to any snapshot (non-ZFS); before only to the most recent one."""
        return self.version >= (1, 31, 0)

    @property
    def rest_version(self) -> tuple[int, int, int]:
        return parse_version(self.rest_api_version)

    @property
    def reports_replication_states(self) -> bool:
        """REST 1.25 (v1.31) added VolumeState.replication_states (CHANGELOG-OPENAPI.md)."""
        return self.rest_version >= (1, 25, 0)

    def now(self) -> float:
        return self.clock()

    @property
    def thin_min_free(self) -> bool:
        """v1.34+: thin pools must keep Autoplacer/MinThinFreeSpace (10 % of total) free."""
        return self.version >= (1, 34, 0)

    # Lookups ----------------------------------------------------------------------------------

    def node(self, name: str) -> Node | None:
        return self.nodes.get(key(name))

    def rg(self, name: str) -> ResourceGroup | None:
        return self.rgs.get(key(name))

    def rd(self, name: str) -> ResourceDefinition | None:
        return self.rds.get(key(name))

    def resource(self, rd_name: str, node_name: str) -> Resource | None:
        rd = self.rd(rd_name)
        return rd.resources.get(key(node_name)) if rd else None

    def pool_defined(self, pool_name: str) -> bool:
        k = key(pool_name)
        return any(k in n.pools for n in self.nodes.values())

    def set_in_use(self, rd_name: str, node_name: str, in_use: bool = True) -> None:
        """Simulate a mounted/primary DRBD device (what blocks deletes and rollbacks)."""
        res = self.resource(rd_name, node_name)
        if res is None:
            raise KeyError(f"no resource {rd_name} on {node_name}")
        res.in_use = in_use

    # Mutation helpers -------------------------------------------------------------------------

    def add_node(self, node: Node) -> Node:
        self.nodes[node.key] = node
        if key(DFLT_DISKLESS_POOL) not in node.pools:
            node.pools[key(DFLT_DISKLESS_POOL)] = StoragePool(node.name, DFLT_DISKLESS_POOL, "DISKLESS")
        return node

    def add_pool(self, node: Node, pool: StoragePool) -> StoragePool:
        node.pools[key(pool.name)] = pool
        return pool
