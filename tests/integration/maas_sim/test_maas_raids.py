"""RAIDs: levels, minimums, sizes, eligible devices, state rules, update ordering, the md
virtual device, the boot-disk conversion, lookups and error shapes."""

from __future__ import annotations

from typing import Any

import pytest
from maas_helpers import TB, MaasHttp

from stratum.sim.maas import MaasSim

MiB = 1024 * 1024
OVERHEAD = 128 * 1024
RAIDS = "nodes/abc123/raids/"


async def raid(api: MaasHttp, **fields: Any) -> dict[str, Any]:
    reply = await api.create_raid("abc123", **fields)
    assert reply.status == 200, reply.text
    return dict(reply.json())


async def test_create_raid_1(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "3"])
    assert set(body) == {
        "system_id", "id", "uuid", "name", "level", "devices", "spare_devices", "size",
        "human_size", "virtual_device", "resource_uri",
    }  # fmt: skip
    assert (body["name"], body["level"], body["system_id"]) == ("md0", "raid-1", "abc123")
    assert body["size"] == TB - OVERHEAD == 999_999_868_928
    assert body["human_size"] == "1000.0 GB"
    assert body["resource_uri"] == f"/MAAS/api/2.0/nodes/abc123/raid/{body['id']}/"
    assert sorted(d["name"] for d in body["devices"]) == ["sdb", "sdc"]
    assert body["spare_devices"] == []
    for member in body["devices"]:
        assert member["filesystem"]["fstype"] == "raid"
        assert member["used_for"] == "Active raid-1 device for md0"
        assert (member["available_size"], member["used_size"]) == (0, TB)
    md = body["virtual_device"]
    assert (md["name"], md["type"], md["block_size"], md["size"]) == ("md0", "virtual", 512, body["size"])
    assert md["uuid"] and md["uuid"] != body["uuid"]
    assert md["model"] is None and md["serial"] is None and md["used_for"] == "Unused"
    assert md["id"] == 13  # after the seed's twelve disks
    listed = await api.ok("GET", "nodes/abc123/blockdevices/")
    assert [d["name"] for d in listed][-1] == "md0"
    machine = await api.ok("GET", "machines/abc123/")
    assert machine["raids"] == [{"system_id": "abc123", "id": body["id"], "__incomplete__": True}]
    assert [d["name"] for d in machine["virtualblockdevice_set"]] == ["md0"]
    assert await api.ok("GET", RAIDS) == [body]


@pytest.mark.parametrize("level", ["raid5", "5", "RAID-5", "raid-4"])
async def test_level_must_be_a_raid_n_name(api: MaasHttp, level: str) -> None:
    reply = await api.create_raid("abc123", name="md0", level=level, block_devices=["sdb", "sdc", "sdd"])
    assert reply.status == 400 and reply.content_type == "application/json; charset=utf-8"
    assert reply.json() == {"level": [f"Select a valid choice. {level} is not one of the available choices."]}


async def test_level_is_required(api: MaasHttp) -> None:
    reply = await api.create_raid("abc123", name="md0", block_devices=["sdb", "sdc"])
    assert reply.json() == {"level": ["This field is required."]}


ANY = "raid devices and any number of spares."


@pytest.mark.parametrize(
    ("level", "devices", "spares", "message"),
    [
        ("raid-0", ["sdb"], [], "RAID level 0 must have at least 2 raid devices and no spares."),
        ("raid-0", ["sdb", "sdc"], ["sdd"], "RAID level 0 must have at least 2 raid devices and no spares."),
        ("raid-1", ["sdb"], ["sdc"], f"RAID level 1 must have at least 2 {ANY}"),
        ("raid-5", ["sdb", "sdc"], ["sdd"], f"RAID level 5 must have at least 3 {ANY}"),
        ("raid-6", ["sdb", "sdc", "sdd"], [], f"RAID level 6 must have at least 4 {ANY}"),
        ("raid-10", ["sdb", "sdc"], [], f"RAID level 10 must have at least 3 {ANY}"),
    ],
)
async def test_level_minimums(
    api: MaasHttp, sim: MaasSim, level: str, devices: list[str], spares: list[str], message: str
) -> None:
    reply = await api.create_raid(
        "abc123", name="md0", level=level, block_devices=devices, spare_devices=spares
    )
    assert reply.status == 400
    assert reply.content_type == "application/json"  # a model error, no charset
    assert reply.json() == {"__all__": [message]}
    # Atomic: nothing was left behind.
    assert sim.machine("abc123").storage.raids == {}
    for name in devices + spares:
        assert (await api.device("abc123", name))["filesystem"] is None


@pytest.mark.parametrize(
    ("level", "devices", "spares", "size"),
    [
        ("raid-0", ["sdb", "sde"], [], 3 * TB - 2 * OVERHEAD),
        ("raid-1", ["sdb", "sde"], [], TB - OVERHEAD),
        ("raid-5", ["sdb", "sdc", "sdd"], [], 2 * TB - OVERHEAD),
        ("raid-5", ["sdb", "sdc", "sdd"], ["sdf"], 500 * 10**9 * 2 - OVERHEAD),  # the spare is smallest
        ("raid-6", ["sdb", "sdc", "sdd", "sde"], [], 2 * TB - OVERHEAD),
        ("raid-10", ["sdb", "sdc", "sdd"], [], 1.5 * TB - OVERHEAD),
        ("raid-10", ["sdb", "sdc", "sdd", "sde"], ["sdf"], 1 * TB - OVERHEAD),
    ],
)
async def test_sizes(api: MaasHttp, level: str, devices: list[str], spares: list[str], size: float) -> None:
    body = await raid(api, name="md0", level=level, block_devices=devices, spare_devices=spares)
    assert body["size"] == size
    assert body["virtual_device"]["size"] == int(size)
    assert isinstance(body["virtual_device"]["size"], int)
    assert isinstance(body["size"], float if level == "raid-10" else int)


async def test_raid_10_size_is_a_json_float_on_the_wire(api: MaasHttp) -> None:
    reply = await api.create_raid("abc123", name="md0", level="raid-10", block_devices=["sdb", "sdc", "sdd"])
    assert '"size": 1499999868928.0' in reply.text
    assert '"size": 1499999868928,' in reply.text  # the md device's integer size


async def test_no_active_devices(api: MaasHttp) -> None:
    reply = await api.create_raid("abc123", name="md0", level="raid-1", spare_devices=["sdb"])
    assert reply.content_type == "application/json; charset=utf-8"
    assert reply.json() == {"__all__": ["At least one block device or partition must be added to the array."]}


async def test_blank_name_is_refused(api: MaasHttp) -> None:
    reply = await api.create_raid("abc123", level="raid-1", block_devices=["sdb", "sdc"])
    assert reply.status == 400 and reply.json() == {"name": ["This field cannot be blank."]}


async def test_name_clashes_with_a_block_device(api: MaasHttp) -> None:
    await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    for name in ("md0", "sdf"):
        reply = await api.create_raid("abc123", name=name, level="raid-1", block_devices=["sdd", "sde"])
        assert reply.status == 400
        assert reply.json() == {"__all__": ["Block device with this Node config and Name already exists."]}
    assert (await api.device("abc123", "sdd"))["filesystem"] is None


async def test_ineligible_devices_are_invalid_choices(api: MaasHttp) -> None:
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/partitions/", body={"size": "10G"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdc/", op="format", body={"fstype": "ext4"})
    await raid(api, name="md0", level="raid-1", block_devices=["sdd", "sde"])
    for bad in ("sdb", "2", "sdc", "sdd", "5", "99", "sdz", "8"):  # 8 is node-2's sdb
        reply = await api.create_raid("abc123", name="md1", level="raid-1", block_devices=[bad, "sdf"])
        assert reply.status == 400
        assert reply.json() == {
            "block_devices": [f"Select a valid choice. {bad} is not one of the available choices."]
        }, bad
    reply = await api.create_raid(
        "abc123", name="md1", level="raid-1", block_devices=["sdf"], partitions=["77"]
    )
    assert reply.json() == {"partitions": ["Select a valid choice. 77 is not one of the available choices."]}


async def test_state_is_checked_before_validation(api: MaasHttp) -> None:
    for system_id in ("def456", "ghi789"):
        reply = await api.create_raid(system_id, level="bogus")
        assert (reply.status, reply.text) == (409, "Cannot create RAID because the machine is not Ready.")
        assert reply.content_type == "text/plain; charset=utf-8"


async def test_unknown_machine(api: MaasHttp) -> None:
    reply = await api.create_raid("nope", name="md0", level="raid-1")
    assert (reply.status, reply.text) == (404, "No Machine matches the given query.")


async def test_boot_disk_members_become_partitions(api: MaasHttp, sim: MaasSim) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sda", "sdb"], spare_devices=["sdc"])
    part_size = (TB - 5 * MiB) // (4 * MiB) * (4 * MiB)
    assert [d["type"] for d in body["devices"] + body["spare_devices"]] == ["partition"] * 3
    assert sorted(d["path"] for d in body["devices"]) == [
        "/dev/disk/by-dname/sda-part1",
        "/dev/disk/by-dname/sdb-part1",
    ]
    assert body["spare_devices"][0]["path"] == "/dev/disk/by-dname/sdc-part1"
    assert body["spare_devices"][0]["used_for"] == "Spare raid-1 device for md0"
    assert body["size"] == part_size - OVERHEAD
    sdb = await api.device("abc123", "sdb")
    assert sdb["partition_table_type"] == "GPT" and sdb["used_for"] == "GPT partitioned with 1 partition"


async def test_failed_boot_disk_conversion_leaves_nothing_behind(api: MaasHttp) -> None:
    reply = await api.create_raid("abc123", name="md0", level="raid-5", block_devices=["sda", "sdb"])
    assert reply.json() == {
        "__all__": ["RAID level 5 must have at least 3 raid devices and any number of spares."]
    }
    for name in ("sda", "sdb"):
        device = await api.device("abc123", name)
        assert device["partition_table_type"] is None and device["partitions"] == []


async def test_from_partitions_with_spares(api: MaasHttp) -> None:
    parts = [
        await api.ok("POST", f"nodes/abc123/blockdevices/{d}/partitions/", body={"size": "100G"})
        for d in ("sdb", "sdc", "sdd", "sde")
    ]
    body = await raid(
        api,
        name="md5",
        level="raid-5",
        partitions=[parts[0]["id"], "sdc-part1", parts[2]["id"]],
        spare_partitions=["sde-part1"],
    )
    psize = 100 * 10**9 // (4 * MiB) * (4 * MiB)
    assert body["size"] == psize * 2 - OVERHEAD
    assert sorted(d["id"] for d in body["devices"]) == sorted(p["id"] for p in parts[:3])
    assert [d["id"] for d in body["spare_devices"]] == [parts[3]["id"]]
    spare = body["spare_devices"][0]
    assert spare["type"] == "partition" and spare["filesystem"]["fstype"] == "raid-spare"
    # A member partition is not free any more; its disk still is not (it is partitioned).
    reply = await api.create_raid("abc123", name="md6", level="raid-1", partitions=[parts[0]["id"]])
    assert reply.json() == {
        "partitions": [f"Select a valid choice. {parts[0]['id']} is not one of the available choices."]
    }


async def test_mixed_devices_and_partitions(api: MaasHttp) -> None:
    part = await api.ok("POST", "nodes/abc123/blockdevices/sde/partitions/", body={"size": "1T"})
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb"], partitions=[part["id"]])
    assert sorted(d["type"] for d in body["devices"]) == ["partition", "physical"]
    assert body["size"] == part["size"] - OVERHEAD


async def test_same_device_active_and_spare(api: MaasHttp) -> None:
    reply = await api.create_raid(
        "abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"], spare_devices=["sdc"]
    )
    assert reply.status == 400
    assert reply.json() == {"__all__": ["Filesystem with this Block device and Acquired already exists."]}


async def test_read_by_id_and_name_and_lookup_errors(api: MaasHttp, sim: MaasSim) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert await api.ok("GET", f"nodes/abc123/raid/{body['id']}/") == body
    assert await api.ok("GET", "nodes/abc123/raid/md0/") == body
    missing = await api.get("nodes/abc123/raid/999/")
    assert (missing.status, missing.text) == (404, "No RAID matches the given query.")
    other_node = await api.get(f"nodes/def456/raid/{body['id']}/")
    assert (other_node.status, other_node.body) == (404, b"")
    # Names are looked up across all nodes: a second md0 elsewhere makes the name ambiguous.
    sim.set_status("ghi789", "Ready")
    other = await api.create_raid("ghi789", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert other.status == 200
    ambiguous = await api.get("nodes/abc123/raid/md0/")
    assert (ambiguous.status, ambiguous.text) == (500, "get() returned more than one RAID -- it returned 2!")
    assert (await api.get(f"nodes/abc123/raid/{body['id']}/")).status == 200


async def test_rename_renames_the_md_device(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    renamed = await api.ok("PUT", f"nodes/abc123/raid/{body['id']}/", body={"name": "data"})
    assert renamed["name"] == "data" and renamed["virtual_device"]["name"] == "data"
    assert renamed["virtual_device"]["id"] == body["virtual_device"]["id"]
    assert renamed["devices"][0]["used_for"] == "Active raid-1 device for data"
    assert (await api.device("abc123", "data"))["type"] == "virtual"
    assert (await api.get("nodes/abc123/blockdevices/md0/")).status == 404
    # Empty name and uuid mean "unchanged"; level is not a field of the update form.
    same = await api.ok("PUT", f"nodes/abc123/raid/{body['id']}/", body={"name": "", "level": "raid-0"})
    assert (same["name"], same["level"], same["uuid"]) == ("data", "raid-1", body["uuid"])
    uuid = "6ac4a2ce-7d41-4e0c-9f6a-0f4d6b0b0c11"
    assert (await api.ok("PUT", f"nodes/abc123/raid/{body['id']}/", body={"uuid": uuid}))["uuid"] == uuid


async def test_add_and_remove_spares_and_devices(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-5", block_devices=["sdb", "sdc", "sdd"])
    path = f"nodes/abc123/raid/{body['id']}/"
    grown = await api.ok("PUT", path, body={"add_spare_devices": ["sde"]})
    assert [d["name"] for d in grown["spare_devices"]] == ["sde"]
    assert grown["size"] == 2 * TB - OVERHEAD
    small = await api.ok("PUT", path, body={"add_spare_devices": ["sdf"]})
    assert small["size"] == 2 * 500 * 10**9 - OVERHEAD  # a small spare shrinks the array
    assert small["virtual_device"]["size"] == small["size"]
    back = await api.ok("PUT", path, body={"remove_spare_devices": ["sdf"]})
    assert back["size"] == 2 * TB - OVERHEAD
    assert (await api.device("abc123", "sdf"))["filesystem"] is None
    # Choices are computed before anything changes: a spare cannot become active in one request.
    reply = await api.put(path, {"remove_spare_devices": ["sde"], "add_block_devices": ["sde"]})
    assert reply.json() == {
        "add_block_devices": ["Select a valid choice. sde is not one of the available choices."]
    }
    await api.ok("PUT", path, body={"remove_spare_devices": ["sde"]})
    four = await api.ok("PUT", path, body={"add_block_devices": ["sde"]})
    assert sorted(d["name"] for d in four["devices"]) == ["sdb", "sdc", "sdd", "sde"]
    assert four["size"] == 3 * TB - OVERHEAD
    # Remove one and add another in one request: fine while the removal alone is valid.
    swapped = await api.ok("PUT", path, body={"remove_block_devices": ["sdb"], "add_block_devices": ["sdf"]})
    assert sorted(d["name"] for d in swapped["devices"]) == ["sdc", "sdd", "sde", "sdf"]


async def test_removals_are_validated_before_additions(api: MaasHttp, sim: MaasSim) -> None:
    body = await raid(api, name="md0", level="raid-5", block_devices=["sdb", "sdc", "sdd"])
    path = f"nodes/abc123/raid/{body['id']}/"
    reply = await api.put(path, {"remove_block_devices": ["sdb"], "add_block_devices": ["sde"]})
    assert reply.status == 400
    assert reply.json() == {
        "__all__": ["RAID level 5 must have at least 3 raid devices and any number of spares."]
    }
    # Nothing changed.
    assert await api.ok("GET", path) == body
    assert (await api.device("abc123", "sde"))["filesystem"] is None


async def test_update_choice_rules(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    path = f"nodes/abc123/raid/{body['id']}/"
    # A member is not free: it cannot be "added" as a spare (moving needs two requests).
    reply = await api.put(path, {"add_spare_devices": ["sdb"]})
    assert reply.json() == {
        "add_spare_devices": ["Select a valid choice. sdb is not one of the available choices."]
    }
    reply = await api.put(path, {"remove_block_devices": ["sdd"]})
    assert reply.json() == {
        "remove_block_devices": ["Select a valid choice. sdd is not one of the available choices."]
    }
    reply = await api.put(path, {"remove_block_devices": ["sdb"]})
    assert reply.json() == {
        "__all__": ["RAID level 1 must have at least 2 raid devices and any number of spares."]
    }
    moved = await api.ok("PUT", path, body={"add_block_devices": ["sdd"]})
    moved = await api.ok("PUT", path, body={"remove_block_devices": ["sdd"]})
    moved = await api.ok("PUT", path, body={"add_spare_devices": ["sdd"]})
    assert [d["name"] for d in moved["spare_devices"]] == ["sdd"]


async def test_raid_0_takes_no_spares_on_update(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-0", block_devices=["sdb", "sdc"])
    reply = await api.put(f"nodes/abc123/raid/{body['id']}/", {"add_spare_devices": ["sdd"]})
    assert reply.json() == {"__all__": ["RAID level 0 must have at least 2 raid devices and no spares."]}


async def test_update_and_delete_need_ready(api: MaasHttp, sim: MaasSim) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    sim.set_status("abc123", "Allocated")
    path = f"nodes/abc123/raid/{body['id']}/"
    reply = await api.put(path, {"add_block_devices": ["nonsense"]})
    assert (reply.status, reply.text) == (409, "Cannot update RAID because the machine is not Ready.")
    reply = await api.delete(path)
    assert (reply.status, reply.text) == (409, "Cannot delete RAID because the machine is not Ready.")
    # Reads work in any state.
    assert (await api.get(path)).status == 200


async def test_delete_frees_members_and_removes_the_md_device(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"], spare_devices=["sdd"])
    md = body["virtual_device"]["id"]
    await api.ok("POST", f"nodes/abc123/blockdevices/{md}/", op="format", body={"fstype": "ext4"})
    await api.ok("POST", f"nodes/abc123/blockdevices/{md}/", op="mount", body={"mount_point": "/data"})
    reply = await api.delete(f"nodes/abc123/raid/{body['id']}/")
    assert reply.status == 204
    assert (await api.get(f"nodes/abc123/blockdevices/{md}/")).status == 404
    for name in ("sdb", "sdc", "sdd"):
        device = await api.device("abc123", name)
        assert (device["filesystem"], device["used_for"]) == (None, "Unused")
    assert await api.ok("GET", RAIDS) == []
    # The mount point is free again, and the disks can make a new array.
    await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])


async def test_format_and_mount_the_md_device(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-6", block_devices=["sdb", "sdc", "sdd", "sde"])
    md = f"nodes/abc123/blockdevices/{body['virtual_device']['id']}/"
    formatted = await api.ok("POST", md, op="format", body={"fstype": "xfs", "label": "data"})
    assert (
        formatted["filesystem"]["fstype"] == "xfs"
        and formatted["used_for"] == "Unmounted xfs formatted filesystem"
    )
    mounted = await api.ok("POST", md, op="mount", body={"mount_point": "/data", "mount_options": "noatime"})
    assert (mounted["filesystem"]["mount_point"], mounted["filesystem"]["mount_options"]) == (
        "/data",
        "noatime",
    )
    read = await api.ok("GET", f"nodes/abc123/raid/{body['id']}/")
    assert read["virtual_device"]["used_for"] == "xfs formatted filesystem mounted at /data"
    # A member can be neither formatted nor mounted nor unformatted.
    reply = await api.post("nodes/abc123/blockdevices/sdb/", op="format", body={"fstype": "ext4"})
    assert (reply.status, reply.text) == (
        400,
        "Cannot format a block device that has a filesystem type of raid.",
    )
    reply = await api.post("nodes/abc123/blockdevices/sdb/", op="mount")
    assert reply.json() == {
        "mount_point": ["This field is required."],
        "__all__": ["Filesystem is part of a filesystem group, and cannot be mounted."],
    }
    reply = await api.post("nodes/abc123/blockdevices/sdb/", op="unformat")
    assert reply.text == (
        "Filesystem is part of a RAID, and cannot be unformatted. Remove block device from RAID "
        "before unformatting the block device."
    )


async def test_md_device_rename_and_delete_follow_the_raid(api: MaasHttp) -> None:
    body = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    md = body["virtual_device"]["id"]
    await api.ok("PUT", f"nodes/abc123/blockdevices/{md}/", body={"name": "fast"})
    assert (await api.ok("GET", f"nodes/abc123/raid/{body['id']}/"))["name"] == "fast"
    reply = await api.put(f"nodes/abc123/blockdevices/{md}/", {"size": "5G"})
    assert reply.json() == {"size": ["Size cannot be changed on this device."]}
    assert (await api.delete(f"nodes/abc123/blockdevices/{md}/")).status == 204
    assert (await api.get(f"nodes/abc123/raid/{body['id']}/")).status == 404
    assert (await api.device("abc123", "sdb"))["filesystem"] is None


async def test_md_device_can_be_partitioned_and_nested(api: MaasHttp) -> None:
    first = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    second = await raid(api, name="md1", level="raid-1", block_devices=["sdd", "sde"])
    nested = await raid(api, name="md2", level="raid-0", block_devices=[first["virtual_device"]["id"], "md1"])
    assert sorted(d["type"] for d in nested["devices"]) == ["virtual", "virtual"]
    assert nested["size"] == 2 * (TB - OVERHEAD) - 2 * OVERHEAD
    assert second["virtual_device"]["id"] in [d["id"] for d in nested["devices"]]
    other = await raid(api, name="md3", level="raid-1", block_devices=["sdf", "sda"])
    part = await api.ok("POST", f"nodes/abc123/blockdevices/{other['virtual_device']['id']}/partitions/")
    assert part["path"] == "/dev/disk/by-dname/md3-part1"  # virtual devices need no bios_grub


async def test_raid_ids_are_never_reused(api: MaasHttp) -> None:
    first = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    bad = await api.create_raid("abc123", name="md1", level="raid-5", block_devices=["sdd", "sde"])
    assert bad.status == 400
    await api.delete(f"nodes/abc123/raid/{first['id']}/")
    again = await raid(api, name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert again["id"] > first["id"] + 1
    assert again["virtual_device"]["id"] > first["virtual_device"]["id"]
