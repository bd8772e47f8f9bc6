"""Machine actions through the real API: commission (and skip_storage), allocate, deploy, release,
abort; MAAS's status names and codes; transitions timed by `/_sim/lifecycle`.

Upstream: canonical/maas src/maasserver/api/machines.py (actions), api/nodes.py (abort),
models/node.py (start_commissioning, _clear_full_storage_configuration, abort_*),
node_status.py (NODE_TRANSITIONS), storage_layouts.py (FlatStorageLayout),
metadataserver/builtin_scripts/hooks.py (disk tags), node_constraint_filter_forms.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from maas_helpers import TB, MaasHttp, default_seed, wait_status

MiB = 1024 * 1024


@pytest.fixture
def seed() -> dict[str, Any]:
    data = default_seed()
    ready = data["machines"][0]
    ready["tags"] = ["storage"]
    ready["blockDevices"][4].update(rotary=True, rpm=5400)  # sde spins
    data["zones"] = ["dc1", "dc2"]
    data["pools"] = ["fast"]
    data["machines"] += [
        {
            "systemId": "cheap1",
            "hostname": "cheap",
            "cpuCount": 1,
            "memory": 1024,
            "tags": ["storage"],
            "zone": "dc1",
            "pool": "fast",
            "blockDevices": [{"name": "sda", "size": TB, "bootDisk": True}],
        },
        {
            "systemId": "nonet1",
            "hostname": "no-network",
            "status": "New",
            "interfaces": [],
            "blockDevices": [{"name": "sda", "size": TB}],
        },
    ]
    return data


async def timings(api: MaasHttp, seconds: float = 1) -> None:
    body = {"commissionSeconds": seconds, "deploySeconds": seconds, "releaseSeconds": seconds}
    async with api.session.post(api.sim.url + "/_sim/lifecycle", json=body) as resp:
        assert resp.status == 200 and await resp.json() == body


async def act(api: MaasHttp, system_id: str, op: str, **body: Any) -> Any:
    return await api.ok("POST", f"machines/{system_id}/", op=op, body=body)


async def build_storage(api: MaasHttp) -> None:
    """A RAID-1 with a mounted filesystem, a partitioned disk and a formatted disk on abc123."""
    raid = await api.ok(
        "POST",
        "nodes/abc123/raids/",
        body={"name": "md0", "level": "raid-1", "block_devices": ["sdb", "sdc"]},
    )
    md = raid["virtual_device"]["id"]
    await api.ok("POST", f"nodes/abc123/blockdevices/{md}/", op="format", body={"fstype": "ext4"})
    await api.ok("POST", f"nodes/abc123/blockdevices/{md}/", op="mount", body={"mount_point": "/data"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdf/partitions/", body={"size": "100G"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdd/", op="format", body={"fstype": "xfs"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="add_tag", body={"tag": "fast"})


async def test_commission_clears_the_storage_and_applies_the_flat_layout(api: MaasHttp) -> None:
    await timings(api)
    await build_storage(api)
    before = {d["name"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    machine = await act(api, "abc123", "commission")
    assert (machine["status"], machine["status_name"], machine["owner"]) == (1, "Commissioning", "admin")
    # start_commissioning cleared everything at once: RAIDs with their md devices, partition
    # tables, filesystems; the physical disks keep their ids.
    assert await api.ok("GET", "nodes/abc123/raids/") == []
    devices = {d["name"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    assert set(devices) == {"sda", "sdb", "sdc", "sdd", "sde", "sdf"}
    assert all(devices[n]["id"] == before[n]["id"] for n in devices)
    assert all(d["filesystem"] is None and d["partitions"] == [] for d in devices.values())
    assert devices["sdb"]["used_for"] == "Unused"

    ready = await wait_status(api, "abc123", "Ready")
    assert (ready["status"], ready["owner"]) == (4, None)
    disks = {d["name"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    # FlatStorageLayout on a UEFI machine: sda1 512 MiB fat32 /boot/efi, sda2 ext4 / over the rest.
    sda = disks["sda"]
    assert sda["partition_table_type"] == "GPT"
    efi, root = sda["partitions"]
    assert (efi["size"], efi["bootable"], efi["path"]) == (512 * MiB, True, "/dev/disk/by-dname/sda-part1")
    assert efi["filesystem"]["fstype"] == "fat32" and efi["filesystem"]["label"] == "efi"
    assert efi["filesystem"]["mount_point"] == "/boot/efi"
    assert root["filesystem"]["fstype"] == "ext4" and root["filesystem"]["label"] == "root"
    assert root["filesystem"]["mount_point"] == "/" and root["path"].endswith("sda-part2")
    assert root["size"] == (TB - 5 * MiB - 512 * MiB) // (4 * MiB) * (4 * MiB)
    assert ready["boot_disk"]["name"] == "sda"
    # The commissioning hook rewrites disk tags from the hardware: a manual tag goes.
    assert disks["sdb"]["tags"] == ["ssd"]
    assert disks["sde"]["tags"] == ["rotary", "5400rpm"]
    others = [disks[f"sd{letter}"] for letter in "bcdef"]
    assert all(d["partitions"] == [] and d["filesystem"] is None for d in others)


async def test_commission_with_skip_storage_keeps_the_storage(api: MaasHttp) -> None:
    await timings(api)
    await build_storage(api)
    machine = await act(api, "abc123", "commission", skip_storage="1")
    assert machine["status_name"] == "Commissioning"
    await wait_status(api, "abc123", "Ready")
    raids = await api.ok("GET", "nodes/abc123/raids/")
    assert [r["name"] for r in raids] == ["md0"]
    sdb = await api.device("abc123", "sdb")
    assert sdb["tags"] == ["fast"] and sdb["filesystem"]["fstype"] == "raid"
    assert (await api.device("abc123", "sda"))["partitions"] == []


async def test_commissioning_needs_an_allowed_state(api: MaasHttp) -> None:
    reply = await api.post("machines/def456/", op="commission")
    assert (reply.status, reply.text) == (409, "Invalid transition: Deployed -> Commissioning.")
    reply = await api.post("machines/ghi789/", op="commission")
    assert (reply.status, reply.text) == (409, "Invalid transition: Allocated -> Commissioning.")
    assert (await api.ok("GET", "machines/def456/"))["status_name"] == "Deployed"


async def test_a_machine_without_networking_fails_commissioning(api: MaasHttp) -> None:
    await timings(api)
    nonet = await api.ok("GET", "machines/nonet1/")
    assert nonet["interface_set"] == [] and nonet["boot_interface"] is None
    ready = await api.ok("GET", "machines/abc123/")
    assert [i["name"] for i in ready["interface_set"]] == ["eth0"]
    assert ready["boot_interface"]["mac_address"] == ready["interface_set"][0]["mac_address"]
    assert (await act(api, "nonet1", "commission"))["status_name"] == "Commissioning"
    failed = await wait_status(api, "nonet1", "Failed commissioning")
    assert failed["status"] == 2
    assert failed["error_description"] == "Node operation 'Commissioning' timed out after 30 minutes."
    async with api.session.patch(api.sim.url + "/_sim/machines/nonet1", json={"status": "Allocated"}) as resp:
        assert resp.status == 200
    assert (await act(api, "nonet1", "deploy"))["status_name"] == "Deploying"
    failed = await wait_status(api, "nonet1", "Failed deployment")
    assert (failed["status"], failed["error_description"]) == (
        11,
        "Node operation 'Deploying' timed out after 30 minutes.",
    )


async def test_allocate_deploy_release_with_status_codes_and_timing(api: MaasHttp) -> None:
    await timings(api)
    allocated = await api.ok("POST", "machines/", op="allocate", body={"tags": "storage", "zone": "default"})
    assert allocated["system_id"] == "abc123" and allocated["constraints_by_type"] == {}
    assert (allocated["status"], allocated["status_name"], allocated["owner"]) == (10, "Allocated", "admin")
    started = time.monotonic()
    deploying = await act(api, "abc123", "deploy")
    assert (deploying["status"], deploying["status_name"]) == (9, "Deploying")
    deployed = await wait_status(api, "abc123", "Deployed")
    assert 0.9 <= time.monotonic() - started < 5
    assert (deployed["status"], deployed["osystem"]) == (6, "ubuntu")
    releasing = await act(api, "abc123", "release")
    assert (releasing["status"], releasing["status_name"]) == (12, "Releasing")
    released = await wait_status(api, "abc123", "Ready")
    assert (released["status"], released["owner"], released["osystem"]) == (4, None, "")


async def test_deploy_allocates_a_ready_machine_first(api: MaasHttp) -> None:
    await timings(api)
    machine = await act(api, "abc123", "deploy")
    assert (machine["status_name"], machine["owner"]) == ("Deploying", "admin")
    await wait_status(api, "abc123", "Deployed")


async def test_release_drops_what_was_formatted_while_allocated(api: MaasHttp) -> None:
    await timings(api, 0)
    await api.ok("POST", "machines/", op="allocate", body={"system_id": "abc123"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdd/", op="format", body={"fstype": "ext4"})
    assert (await api.device("abc123", "sdd"))["filesystem"]["fstype"] == "ext4"
    await act(api, "abc123", "release")
    await wait_status(api, "abc123", "Ready")
    assert (await api.device("abc123", "sdd"))["filesystem"] is None


async def test_allocate_constraints_and_their_errors(api: MaasHttp) -> None:
    # The cheapest match (cpu_count + memory / 1024) wins: cheap1 over abc123.
    dry = await api.ok("POST", "machines/", op="allocate", body={"tags": "storage", "dry_run": "true"})
    assert dry["system_id"] == "cheap1" and dry["status_name"] == "Ready"
    assert (await api.ok("GET", "machines/cheap1/"))["status_name"] == "Ready"
    by_pool = await api.ok(
        "POST", "machines/", op="allocate", body={"tags": "storage", "not_in_pool": "fast"}
    )
    assert by_pool["system_id"] == "abc123"
    reply = await api.post("machines/", op="allocate", body=[("tags", "storage"), ("zone", "dc2")])
    assert reply.status == 409
    assert reply.text == (
        "No available machine matches constraints: [('tags', ['storage']), ('zone', ['dc2'])] "
        '(resolved to "tags=storage zone=dc2")'
    )
    reply = await api.post("machines/", op="allocate", body={"system_id": "def456"})
    assert (reply.status, reply.text) == (409, "No machine with system ID def456 available.")
    reply = await api.post("machines/", op="allocate", body={"tags": "nope,storage"})
    assert (reply.status, reply.json()) == (400, {"tags": ["No such tag(s): 'nope'."]})
    reply = await api.post("machines/", op="allocate", body={"zone": "mars"})
    assert (reply.status, reply.json()) == (400, {"zone": ["No such zone(s): mars."]})
    picked = await api.ok("POST", "machines/", op="allocate", body={"pool": "fast", "zone": "dc1"})
    assert (picked["system_id"], picked["pool"]["name"], picked["zone"]["name"]) == ("cheap1", "fast", "dc1")
    reply = await api.post("machines/", op="allocate")
    assert (reply.status, reply.text) == (409, "No machine available.")


async def test_wrong_state_actions_are_conflicts(api: MaasHttp) -> None:
    reply = await api.post("machines/def456/", op="deploy")
    assert (reply.status, reply.text) == (409, "Can't deploy a machine that is in the 'Deployed' state")
    reply = await api.post("machines/nonet1/", op="release")
    assert (reply.status, reply.text) == (409, "Machine cannot be released in its current state ('New').")
    reply = await api.post("machines/abc123/", op="abort")
    assert (reply.status, reply.text) == (
        409,
        "Cannot abort in current state: node abc123 is in state Ready.",
    )
    # Releasing a Ready machine is already done.
    assert (await act(api, "abc123", "release"))["status_name"] == "Ready"


async def test_abort_commissioning_and_deploying(api: MaasHttp) -> None:
    await timings(api, 30)
    await act(api, "abc123", "commission")
    aborted = await act(api, "abc123", "abort")
    assert (aborted["status_name"], aborted["owner"]) == ("New", None)
    await act(api, "ghi789", "deploy")
    assert (await act(api, "ghi789", "abort"))["status_name"] == "Allocated"
    await asyncio.sleep(0.2)
    assert (await api.ok("GET", "machines/ghi789/"))["status_name"] == "Allocated"


async def test_lifecycle_endpoint(api: MaasHttp) -> None:
    url = api.sim.url + "/_sim/lifecycle"
    async with api.session.get(url) as resp:
        assert await resp.json() == {"commissionSeconds": 1.0, "deploySeconds": 1.0, "releaseSeconds": 1.0}
    async with api.session.post(url, json={"deploySeconds": 0.5}) as resp:
        assert (await resp.json())["deploySeconds"] == 0.5
    async with api.session.post(url, json={"releaseSeconds": -1}) as resp:
        assert resp.status == 400
