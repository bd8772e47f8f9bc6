"""The in-memory storage model of a MAAS region: machines, block devices, partitions, RAIDs.

It follows the shape of MAAS's own models: a filesystem row sits on a block device or a
partition (RAID membership is a filesystem of type `raid`/`raid-spare`), a RAID is a
filesystem group with one virtual block device (the md device) of the same name.
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid as uuidlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from .enums import ALLOCATED_STATES, FORMAT_FSTYPES, RAID_ACTIVE, RAID_SPARE, READY
from .sizes import MIN_BOOT_PARTITION_SIZE, PARTITION_ALIGNMENT_SIZE, partition_table_overhead, round_down


def new_uuid() -> str:
    return str(uuidlib.uuid4())


@dataclass
class Filesystem:
    id: int
    fstype: str
    uuid: str
    label: str | None = None
    mount_point: str | None = None
    mount_options: str | None = None
    raid_id: int | None = None
    acquired: bool = False

    @property
    def is_mountable(self) -> bool:
        return self.fstype in FORMAT_FSTYPES

    @property
    def is_mounted(self) -> bool:
        return self.mount_point is not None

    def as_json(self) -> dict[str, object]:
        return {
            "fstype": self.fstype,
            "label": self.label,
            "uuid": self.uuid,
            "mount_point": self.mount_point,
            "mount_options": self.mount_options,
        }


@dataclass
class Partition:
    id: int
    device_id: int
    index: int
    size: int
    uuid: str
    bootable: bool = False
    tags: list[str] = field(default_factory=list)
    filesystems: list[Filesystem] = field(default_factory=list)


@dataclass
class PartitionTable:
    table_type: str = "GPT"
    partitions: list[Partition] = field(default_factory=list)


@dataclass
class BlockDevice:
    id: int
    name: str
    size: int
    block_size: int = 512
    kind: str = "physical"  # "physical" | "virtual"
    model: str | None = None
    serial: str | None = None
    id_path: str | None = None
    uuid: str | None = None
    numa_node: int | None = 0
    firmware_version: str | None = None
    tags: list[str] = field(default_factory=list)
    filesystems: list[Filesystem] = field(default_factory=list)
    partition_table: PartitionTable | None = None
    raid_id: int | None = None  # virtual devices: the RAID they present
    # What commissioning reads from the hardware (metadataserver hooks: rpm > 0 means rotary).
    rpm: int = 0


Holder = BlockDevice | Partition


@dataclass
class Raid:
    id: int
    name: str
    uuid: str
    level: str
    virtual_device_id: int = 0


@dataclass
class Storage:
    """Everything a storage request can change on one machine (snapshotted per request)."""

    block_devices: dict[int, BlockDevice] = field(default_factory=dict)
    raids: dict[int, Raid] = field(default_factory=dict)
    boot_disk_id: int | None = None


@dataclass
class Interface:
    id: int
    name: str
    mac_address: str


@dataclass
class Pending:
    """When the transition a machine is in the middle of (commissioning, deploying, releasing)
    finishes, and whether commissioning leaves the storage alone."""

    due: float
    skip_storage: bool = False


@dataclass
class Machine:
    system_id: str
    hostname: str
    status: int = READY
    architecture: str = "amd64/generic"
    bios_boot_method: str = "uefi"
    cpu_count: int = 4
    memory: int = 8192
    owner: str | None = None
    zone: str = "default"
    pool: str = "default"
    domain: str = "maas"
    storage: Storage = field(default_factory=Storage)
    tags: list[str] = field(default_factory=list)  # tag names, in the order they were added
    interfaces: list[Interface] = field(default_factory=list)
    osystem: str = ""
    distro_series: str = ""
    error_description: str = ""
    pending: Pending | None = None

    # -- state ---------------------------------------------------------------------------
    @property
    def is_allocated(self) -> bool:
        return self.status in ALLOCATED_STATES

    # -- lookups ---------------------------------------------------------------------------
    @property
    def block_devices(self) -> list[BlockDevice]:
        return sorted(self.storage.block_devices.values(), key=lambda d: d.id)

    def block_device(self, key: str | int) -> BlockDevice | None:
        """By id when `key` parses as an int, else by name (BlockDeviceManager)."""
        try:
            return self.storage.block_devices.get(int(key))
        except ValueError:
            pass
        for device in self.storage.block_devices.values():
            if device.name == key:
                return device
        return None

    def partitions(self) -> Iterator[tuple[BlockDevice, Partition]]:
        for device in self.block_devices:
            if device.partition_table is not None:
                for partition in device.partition_table.partitions:
                    yield device, partition

    def partition(self, key: str | int) -> tuple[BlockDevice, Partition] | None:
        """By id, or by name `<disk>-part<N>` (PartitionManager.get_partition_by_id_or_name)."""
        try:
            pid = int(key)
        except ValueError:
            pid = None
        if pid is not None:
            for device, partition in self.partitions():
                if partition.id == pid:
                    return device, partition
            return None
        text = str(key)
        if "-part" not in text:
            return None
        name, _, index_text = text.partition("-part")
        try:
            index = int(index_text)
        except ValueError:
            return None
        for device, partition in self.partitions():
            if device.name == name and partition.index == index:
                return device, partition
        return None

    def partition_name(self, partition: Partition) -> str:
        return f"{self.storage.block_devices[partition.device_id].name}-part{partition.index}"

    def boot_disk(self) -> BlockDevice | None:
        if self.storage.boot_disk_id is not None:
            disk = self.storage.block_devices.get(self.storage.boot_disk_id)
            if disk is not None:
                return disk
        for device in self.block_devices:
            if device.kind == "physical" and device.size >= MIN_BOOT_PARTITION_SIZE:
                return device
        return None

    # -- filesystems -----------------------------------------------------------------------
    def effective_fs(self, holder: Holder) -> Filesystem | None:
        """utils/storage.get_effective_filesystem."""
        if self.is_allocated:
            for fs in holder.filesystems:
                if fs.acquired:
                    return fs
            for fs in holder.filesystems:
                if not fs.is_mountable:
                    return fs
            return None
        for fs in holder.filesystems:
            if not fs.acquired:
                return fs
        return None

    def all_filesystems(self) -> Iterator[tuple[Holder, Filesystem]]:
        for device in self.block_devices:
            for fs in device.filesystems:
                yield device, fs
            if device.partition_table is not None:
                for partition in device.partition_table.partitions:
                    for fs in partition.filesystems:
                        yield partition, fs

    def raid_members(self, raid_id: int) -> list[tuple[Holder, Filesystem]]:
        members = [(h, fs) for h, fs in self.all_filesystems() if fs.raid_id == raid_id]
        members.sort(key=lambda item: item[1].id)
        return members

    def free_block_devices(self) -> list[BlockDevice]:
        return [d for d in self.block_devices if d.partition_table is None and not d.filesystems]

    def free_partitions(self) -> list[tuple[BlockDevice, Partition]]:
        return [(d, p) for d, p in self.partitions() if not p.filesystems]

    def raid_by_fs(self, fs: Filesystem) -> Raid | None:
        return self.storage.raids.get(fs.raid_id) if fs.raid_id is not None else None

    # -- sizes -----------------------------------------------------------------------------
    def table_overhead(self) -> int:
        return partition_table_overhead(self.architecture, self.bios_boot_method)

    def table_used(self, device: BlockDevice, ignore: Partition | None = None) -> int:
        used = self.table_overhead()
        if device.partition_table is not None:
            used += sum(p.size for p in device.partition_table.partitions if p is not ignore)
        return used

    def table_available(self, device: BlockDevice, ignore: Partition | None = None) -> int:
        return round_down(device.size - self.table_used(device, ignore), PARTITION_ALIGNMENT_SIZE)

    def used_size(self, device: BlockDevice) -> int:
        if self.effective_fs(device) is not None:
            return device.size
        if device.partition_table is not None:
            return self.table_used(device)
        return 0

    def available_size(self, device: BlockDevice) -> int:
        if self.effective_fs(device) is not None:
            return 0
        return self.table_available(device)

    def used_for(self, holder: Holder) -> str:
        fs = self.effective_fs(holder)
        if fs is not None:
            if fs.is_mounted:
                return f"{fs.fstype} formatted filesystem mounted at {fs.mount_point}"
            raid = self.raid_by_fs(fs)
            if fs.fstype == RAID_ACTIVE and raid is not None:
                return f"Active {raid.level} device for {raid.name}"
            if fs.fstype == RAID_SPARE and raid is not None:
                return f"Spare {raid.level} device for {raid.name}"
            return f"Unmounted {fs.fstype} formatted filesystem"
        if isinstance(holder, BlockDevice) and holder.partition_table is not None:
            count = len(holder.partition_table.partitions)
            noun = "partitions" if count > 1 else "partition"
            return f"{holder.partition_table.table_type} partitioned with {count} {noun}"
        return "Unused"

    def storage_mb(self) -> float:
        return sum(d.size for d in self.block_devices if d.kind == "physical") / 1000**2


@dataclass
class ApiKey:
    consumer_key: str
    token_key: str
    token_secret: str
    admin: bool = True
    username: str = ""

    def __post_init__(self) -> None:
        self.username = self.username or ("admin" if self.admin else f"user-{self.token_key}")

    @classmethod
    def parse(cls, text: str, *, admin: bool = True, username: str = "") -> ApiKey:
        parts = text.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError("an API key is consumer_key:token_key:token_secret")
        consumer_key, token_key, token_secret = parts
        return cls(consumer_key, token_key, token_secret, admin=admin, username=username)

    def __str__(self) -> str:
        return f"{self.consumer_key}:{self.token_key}:{self.token_secret}"


@dataclass
class Tag:
    name: str
    definition: str = ""
    comment: str = ""
    kernel_opts: str = ""


@dataclass
class Place:
    """A zone or a resource pool: an id, a unique name and a description."""

    id: int
    name: str
    description: str = ""


@dataclass
class Timings:
    """How long each lifecycle transition takes (`/_sim/lifecycle`)."""

    commission_seconds: float = 1.0
    deploy_seconds: float = 1.0
    release_seconds: float = 1.0


class MaasState:
    """All simulator state. Mutate only while holding `lock` (the HTTP handlers do)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.machines: dict[str, Machine] = {}
        self.api_keys: dict[str, ApiKey] = {}  # by token key
        self.raid_index: dict[int, str] = {}  # raid id -> system_id
        self.seen_nonces: deque[tuple[str, str, str]] = deque(maxlen=100_000)
        self.seen_nonce_set: set[tuple[str, str, str]] = set()
        self.maas_version = "3.5.4"
        self.tags: dict[str, Tag] = {}
        self.zones: dict[str, Place] = {}
        self.pools: dict[str, Place] = {}
        self.timings = Timings()
        self._next = {"blockdevice": 1, "partition": 1, "raid": 1, "filesystem": 1, "interface": 1}
        self._add_defaults()

    def _add_defaults(self) -> None:
        # Every region has the default zone (id 1) and the default pool (id 0, "Default pool").
        self.zones = {"default": Place(1, "default")}
        self.pools = {"default": Place(0, "default", "Default pool")}
        self._next.update(zone=2, pool=1)

    def clear(self) -> None:
        """Forget everything (ids restart from 1)."""
        with self.lock:
            self.machines.clear()
            self.api_keys.clear()
            self.raid_index.clear()
            self.seen_nonces.clear()
            self.seen_nonce_set.clear()
            self.tags.clear()
            self.timings = Timings()
            self._next = dict.fromkeys(self._next, 1)
            self._add_defaults()

    # -- ids -------------------------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        # Like database sequences these never go back, not even when a request fails.
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    # -- keys ------------------------------------------------------------------------------
    def add_api_key(self, key: str | ApiKey | None = None, *, admin: bool = True) -> ApiKey:
        if key is None:
            key = ApiKey(
                secrets.token_urlsafe(14)[:18],
                secrets.token_urlsafe(14)[:18],
                secrets.token_urlsafe(24)[:32],
                admin=admin,
            )
        elif isinstance(key, str):
            key = ApiKey.parse(key, admin=admin)
        self.api_keys[key.token_key] = key
        return key

    def consumer_known(self, consumer_key: str) -> bool:
        return any(k.consumer_key == consumer_key for k in self.api_keys.values())

    def remember_nonce(self, consumer_key: str, token_key: str, nonce: str) -> bool:
        """False when this nonce was used before by the same token."""
        item = (consumer_key, token_key, nonce)
        if item in self.seen_nonce_set:
            return False
        if len(self.seen_nonces) == self.seen_nonces.maxlen:
            self.seen_nonce_set.discard(self.seen_nonces[0])
        self.seen_nonces.append(item)
        self.seen_nonce_set.add(item)
        return True

    # -- machines --------------------------------------------------------------------------
    def add_machine(self, machine: Machine) -> Machine:
        if machine.system_id in self.machines:
            raise ValueError(f"machine {machine.system_id} already exists")
        if any(m.hostname == machine.hostname for m in self.machines.values()):
            raise ValueError(f"hostname {machine.hostname} already in use")
        self.machines[machine.system_id] = machine
        self.reindex(machine)
        return machine

    def new_system_id(self) -> str:
        alphabet = "abcdefghjkmnpqrstwxy3456789"
        while True:
            candidate = "".join(secrets.choice(alphabet) for _ in range(6))
            if candidate not in self.machines:
                return candidate

    def zone(self, name: str) -> Place:
        """The zone of that name, created when missing (seeds name zones freely)."""
        if name not in self.zones:
            self.zones[name] = Place(self.next_id("zone"), name)
        return self.zones[name]

    def pool(self, name: str) -> Place:
        if name not in self.pools:
            self.pools[name] = Place(self.next_id("pool"), name)
        return self.pools[name]

    def tag(self, name: str) -> Tag:
        if name not in self.tags:
            self.tags[name] = Tag(name)
        return self.tags[name]

    def add_interface(self, machine: Machine, name: str, mac_address: str | None = None) -> Interface:
        iface_id = self.next_id("interface")
        low = iface_id.to_bytes(3, "big").hex(":")
        mac = mac_address or f"52:54:00:{low}"
        interface = Interface(iface_id, name, mac)
        machine.interfaces.append(interface)
        return interface

    def add_block_device(
        self,
        machine: Machine,
        name: str,
        size: int,
        *,
        block_size: int = 512,
        model: str | None = None,
        serial: str | None = None,
        id_path: str | None = None,
        tags: list[str] | None = None,
    ) -> BlockDevice:
        device = BlockDevice(
            id=self.next_id("blockdevice"),
            name=name,
            size=int(size),
            block_size=block_size,
            model=model,
            serial=serial,
            id_path=id_path,
            tags=list(tags or []),
        )
        if model is None and serial is None and id_path is None:
            device.model = "QEMU HARDDISK"
            device.serial = f"QM{device.id:05d}"
        machine.storage.block_devices[device.id] = device
        return device

    def set_status(self, machine: Machine, status: int) -> None:
        """Change a machine's status, cloning/dropping acquired filesystems as MAAS does on
        allocation/release."""
        was = machine.is_allocated
        machine.status = status
        now = machine.is_allocated
        if not was and now:
            machine.owner = machine.owner or "admin"
            for holder, fs in list(machine.all_filesystems()):
                if fs.is_mountable and not fs.acquired:
                    clone = copy.copy(fs)
                    clone.id = self.next_id("filesystem")
                    clone.acquired = True
                    holder.filesystems.append(clone)
        elif was and not now:
            if status in (READY, 0, 1, 2, 3, 7, 8):
                machine.owner = None
            for holder, _fs in list(machine.all_filesystems()):
                holder.filesystems[:] = [f for f in holder.filesystems if not f.acquired]

    def reindex(self, machine: Machine) -> None:
        for raid_id in [r for r, sid in self.raid_index.items() if sid == machine.system_id]:
            if raid_id not in machine.storage.raids:
                del self.raid_index[raid_id]
        for raid_id in machine.storage.raids:
            self.raid_index[raid_id] = machine.system_id

    def snapshot(self, machine: Machine) -> Storage:
        return copy.deepcopy(machine.storage)

    def restore(self, machine: Machine, storage: Storage) -> None:
        machine.storage = storage
        self.reindex(machine)
