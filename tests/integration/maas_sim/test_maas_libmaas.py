"""The same flows through python-libmaas 0.6.8 (a test dependency only).

Where python-libmaas itself breaks on real MAAS output, the tests show that the simulator
sends what real MAAS sends (raw data) and that the library is what fails."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from maas.client import connect
from maas.client.bones import CallError
from maas.client.enum import BlockDeviceType, NodeStatus, RaidLevel
from maas.client.viscera.machines import MachineNotFound
from maas_helpers import API_KEY, TB

from stratum.sim.maas import MaasSim

OVERHEAD = 128 * 1024


@pytest.fixture(autouse=True)
def event_loop_for_libmaas() -> Iterator[None]:
    """python-libmaas's synchronous wrappers call `asyncio.get_event_loop()`, which raises
    on Python 3.10+ once pytest-asyncio has closed its loop and unset the current one.
    Give these (synchronous) tests a current loop of their own."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def client(sim: MaasSim) -> Any:
    return connect(sim.maas_url, apikey=API_KEY)


@pytest.fixture
def origin(client: Any) -> Any:
    return client._origin  # Raids, BlockDevices, Partitions are not on the facade


def test_connect_and_read_machines(client: Any) -> None:
    machines = client.machines.list()
    assert [m.system_id for m in machines] == ["abc123", "def456", "ghi789"]
    machine = client.machines.get(system_id="abc123")
    assert machine.hostname == "node-1"
    assert machine.status == NodeStatus.READY and machine.status_name == "Ready"
    assert client.machines.get(system_id="def456").status == NodeStatus.DEPLOYED
    assert machine.boot_disk.name == "sda"


def test_bad_key_is_refused(sim: MaasSim) -> None:
    client = connect(sim.maas_url, apikey="ck1:tk1:wrong")
    with pytest.raises(CallError) as info:
        client.machines.list()
    assert info.value.status == 401


def test_list_block_devices(client: Any, origin: Any) -> None:
    machine = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(machine)
    assert [(d.name, d.id, d.size) for d in devices] == [
        ("sda", 1, TB),
        ("sdb", 2, TB),
        ("sdc", 3, TB),
        ("sdd", 4, TB),
        ("sde", 5, 2 * TB),
        ("sdf", 6, 500 * 10**9),
    ]
    assert devices[1].type == BlockDeviceType.PHYSICAL and devices[1].used_for == "Unused"
    assert [d.name for d in machine.block_devices] == [d.name for d in devices]
    assert origin.BlockDevice.read("abc123", "sdc").id == 3


def test_raid_from_disks_rename_format_mount_delete(client: Any, origin: Any, sim: MaasSim) -> None:
    machine = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(machine).by_name
    raid = origin.Raids.create(
        machine,
        RaidLevel.RAID_5,
        [devices["sdb"], devices["sdc"], devices["sdd"]],
        name="md0",
        spare_devices=[devices["sde"]],
    )
    assert raid.level == RaidLevel.RAID_5
    assert raid.size == 2 * TB - OVERHEAD
    assert sorted(d.name for d in raid.devices) == ["sdb", "sdc", "sdd"]
    assert [d.name for d in raid.spare_devices] == ["sde"]
    raid.name = "data"
    raid.save()  # PUT with the changed name
    assert raid.name == "data"
    read = origin.Raid.read(machine, raid.id)
    assert read.virtual_device.name == "data"
    md = origin.BlockDevice.read(machine, read.virtual_device.id)
    assert md.type == BlockDeviceType.VIRTUAL
    md.format("ext4")
    md.mount("/data", mount_options="noatime")
    assert md.used_for == "ext4 formatted filesystem mounted at /data"
    assert (md.filesystem.fstype, md.filesystem.mount_point) == ("ext4", "/data")
    assert [r.name for r in origin.Raids.read(machine)] == ["data"]
    raid.delete()
    assert list(origin.Raids.read(machine)) == []
    assert sim.machine("abc123").storage.raids == {}
    assert origin.BlockDevice.read(machine, "sdb").used_for == "Unused"


def test_raid_from_partitions_with_spares(client: Any, origin: Any) -> None:
    machine = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(machine).by_name
    parts = [origin.Partitions.create(devices[name], 100 * 10**9) for name in ("sdb", "sdc", "sdd")]
    raid = origin.Raids.create(machine, "raid-1", parts[:2], name="md1", spare_devices=[parts[2]])
    psize = parts[0].size
    assert raid.size == psize - OVERHEAD
    assert sorted(p.id for p in raid.devices) == sorted(p.id for p in parts[:2])
    assert [p.id for p in raid.spare_devices] == [parts[2].id]
    assert raid.spare_devices[0].used_for == "Spare raid-1 device for md1"
    # The rest of a member's disk can still hold an ordinary filesystem.
    other = origin.Partitions.create(origin.BlockDevice.read(machine, "sdb"), 10 * 10**9)
    other.format("xfs")
    other.mount("/srv")
    assert other.filesystem.mount_point == "/srv"
    other.umount()
    raid.delete()


def test_call_errors_carry_maas_bodies(client: Any, origin: Any) -> None:
    deployed = client.machines.get(system_id="def456")
    devices = origin.BlockDevices.read(deployed).by_name
    with pytest.raises(CallError) as info:
        origin.Raids.create(
            deployed, "raid-1", [devices["sdb"], devices["sdc"]], name="md0", spare_devices=[]
        )
    assert info.value.status == 409
    assert info.value.content == b"Cannot create RAID because the machine is not Ready."
    ready = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(ready).by_name
    with pytest.raises(CallError) as info:
        origin.Raids.create(ready, "raid-6", [devices["sdb"], devices["sdc"]], name="md0", spare_devices=[])
    assert info.value.status == 400
    assert b"RAID level 6 must have at least 4 raid devices" in info.value.content


# -- where python-libmaas breaks on real MAAS output -------------------------------------------
def test_raid_10_size_is_a_float_which_libmaas_rejects(client: Any, origin: Any) -> None:
    machine = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(machine).by_name
    raid = origin.Raids.create(
        machine, RaidLevel.RAID_10, [devices[n] for n in ("sdb", "sdc", "sdd")], name="md0", spare_devices=[]
    )
    # MAAS computes min * n / 2 with true division (LP:2109708) ...
    assert raid._data["size"] == 1_499_999_868_928.0 and isinstance(raid._data["size"], float)
    # ... and python-libmaas's `check(int)` on Raid.size raises.
    with pytest.raises(TypeError):
        _ = raid.size
    assert raid.virtual_device.size == 1_499_999_868_928  # the md device's size is an int


def test_partition_table_type_is_uppercase_which_libmaas_rejects(client: Any, origin: Any) -> None:
    machine = client.machines.get(system_id="abc123")
    sdb = origin.BlockDevice.read(machine, "sdb")
    origin.Partitions.create(sdb, 10 * 10**9)
    sdb = origin.BlockDevice.read(machine, "sdb")
    assert sdb._data["partition_table_type"] == "GPT"  # as MAAS sends it
    with pytest.raises(ValueError, match="GPT"):
        _ = sdb.partition_table_type  # libmaas's enum values are lowercase


def test_physical_uuid_is_null_which_libmaas_rejects(client: Any, origin: Any) -> None:
    sdb = origin.BlockDevice.read("abc123", "sdb")
    assert sdb._data["uuid"] is None
    with pytest.raises(TypeError):
        _ = sdb.uuid


def test_unmounted_filesystem_has_null_mount_point_which_libmaas_rejects(origin: Any) -> None:
    sdb = origin.BlockDevice.read("abc123", "sdb")
    sdb.format("ext4")
    # A REST format stores the form's empty label; nothing is mounted yet.
    assert sdb._data["filesystem"]["mount_point"] is None and sdb._data["filesystem"]["label"] == ""
    assert sdb.filesystem.fstype == "ext4"
    with pytest.raises(TypeError):
        _ = sdb.filesystem.mount_point


def test_raid_without_name_is_refused_as_maas_does(client: Any, origin: Any) -> None:
    machine = client.machines.get(system_id="abc123")
    devices = origin.BlockDevices.read(machine).by_name
    with pytest.raises(CallError) as info:
        origin.Raids.create(machine, "raid-1", [devices["sdb"], devices["sdc"]], spare_devices=[])
    assert info.value.status == 400
    assert info.value.content == b'{"name": ["This field cannot be blank."]}'


# -- machine actions, tags, zones and pools (canonical/maas api/machines.py, api/tags.py) -----
def lifecycle_seconds(sim: MaasSim, seconds: float) -> None:
    body = json.dumps({"commissionSeconds": seconds, "deploySeconds": seconds, "releaseSeconds": seconds})
    request = urllib.request.Request(sim.url + "/_sim/lifecycle", data=body.encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200


def test_commission_allocate_deploy_release(client: Any, origin: Any, sim: MaasSim) -> None:
    lifecycle_seconds(sim, 1)
    machine = client.machines.get(system_id="abc123")
    machine.commission(wait=True, wait_interval=0.2)
    assert machine.status == NodeStatus.READY
    sda = origin.BlockDevice.read(machine, "sda")
    assert [p.filesystem.mount_point for p in sda.partitions] == ["/boot/efi", "/"]
    storage = client.tags.create("storage", comment="storage nodes")
    machine.tags.add(storage)
    assert [t.name for t in client.machines.get(system_id="abc123").tags] == ["storage"]
    allocated = client.machines.allocate(tags=["storage"])
    assert (allocated.system_id, allocated.status) == ("abc123", NodeStatus.ALLOCATED)
    allocated.deploy(wait=True, wait_interval=0.2)
    assert allocated.status == NodeStatus.DEPLOYED and allocated.status_name == "Deployed"
    allocated.release(wait=True, wait_interval=0.2)
    assert allocated.status == NodeStatus.READY


def test_abort_and_allocation_failures(client: Any, sim: MaasSim) -> None:
    lifecycle_seconds(sim, 30)
    machine = client.machines.get(system_id="abc123")
    machine.commission()
    assert machine.status == NodeStatus.COMMISSIONING
    machine.abort()
    assert machine.status == NodeStatus.NEW
    with pytest.raises(MachineNotFound):
        client.machines.allocate(hostname="node-1")  # New now, so nothing is available
    with pytest.raises(CallError) as info:
        client.machines.allocate(tags=["nope"])
    assert (info.value.status, info.value.content) == (400, b'{"tags": ["No such tag(s): \'nope\'."]}')


def test_tags_zones_and_pools(client: Any) -> None:
    tag = client.tags.create("gpu", comment="has a GPU")
    assert [t.name for t in client.tags.list()] == ["gpu"]
    machine = client.machines.get(system_id="def456")
    machine.tags.add(tag)
    assert [t.name for t in client.machines.get(system_id="def456").tags] == ["gpu"]
    machine.tags.remove(tag)
    assert list(client.machines.get(system_id="def456").tags) == []
    assert client.tags.get("gpu").comment == "has a GPU"
    tag.delete()
    assert list(client.tags.list()) == []
    assert [z.name for z in client.zones.list()] == ["default"]
    zone = client.zones.create("dc1", description="room 1")
    assert client.zones.get("dc1").description == "room 1" and zone.name == "dc1"
    pool = client.resource_pools.create("fast")
    assert [p.name for p in client.resource_pools.list()] == ["default", "fast"]
    assert client.resource_pools.get(pool.id).name == "fast"
    assert (machine.zone.name, machine.pool.name) == ("default", "default")
