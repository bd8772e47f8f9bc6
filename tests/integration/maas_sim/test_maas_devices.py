"""Machines and block devices: shapes, sizes, format/mount/unmount/unformat, boot disk,
delete and update rules."""

from __future__ import annotations

from typing import Any

import pytest
from maas_helpers import TB, MaasHttp

from stratum.sim.maas import MaasSim


async def test_machine_list_read_and_filters(api: MaasHttp) -> None:
    machines = await api.ok("GET", "machines/")
    assert [(m["system_id"], m["status"], m["status_name"]) for m in machines] == [
        ("abc123", 4, "Ready"),
        ("def456", 6, "Deployed"),
        ("ghi789", 10, "Allocated"),
    ]
    machine = await api.ok("GET", "machines/abc123/")
    assert machine["hostname"] == "node-1" and machine["fqdn"] == "node-1.maas"
    assert machine["resource_uri"] == "/MAAS/api/2.0/machines/abc123/"
    assert machine["storage"] == pytest.approx(6_500_000.0)  # MB (10^6) over physical disks
    assert machine["boot_disk"]["name"] == "sda"
    assert [d["id"] for d in machine["blockdevice_set"]] == [1, 2, 3, 4, 5, 6]
    assert machine["virtualblockdevice_set"] == [] and machine["raids"] == []
    ready = await api.ok("GET", "machines/", params={"status": "ready"})
    assert [m["system_id"] for m in ready] == ["abc123"]
    by_host = await api.ok("GET", "machines/", params=[("hostname", "node-2"), ("hostname", "node-3")])
    assert [m["system_id"] for m in by_host] == ["def456", "ghi789"]
    by_id = await api.ok("GET", "machines/", params={"id": "ghi789"})
    assert [m["hostname"] for m in by_id] == ["node-3"]


async def test_block_device_shape_and_sizes(api: MaasHttp) -> None:
    devices = await api.ok("GET", "nodes/abc123/blockdevices/")
    assert [d["name"] for d in devices] == ["sda", "sdb", "sdc", "sdd", "sde", "sdf"]
    sdb = devices[1]
    assert sdb["id"] == 2 and sdb["type"] == "physical"
    assert sdb["path"] == "/dev/disk/by-dname/sdb"
    assert sdb["uuid"] is None  # physical devices have no uuid (python-libmaas expects a str)
    assert sdb["size"] == TB and sdb["block_size"] == 512
    # As if a partition table existed: floor((size - 5 MiB) / 4 MiB) * 4 MiB.
    assert sdb["available_size"] == 999_993_376_768
    assert sdb["used_size"] == 0 and sdb["used_for"] == "Unused"
    assert sdb["partition_table_type"] is None and sdb["partitions"] == []
    assert sdb["filesystem"] is None
    assert sdb["resource_uri"] == "/MAAS/api/2.0/nodes/abc123/blockdevices/2/"
    by_name = await api.ok("GET", "nodes/abc123/blockdevices/sdb/")
    assert by_name == sdb


async def test_block_device_lookups_are_scoped_to_the_node(api: MaasHttp) -> None:
    reply = await api.get("nodes/def456/blockdevices/2/")  # id 2 belongs to abc123
    assert (reply.status, reply.text) == (404, "No BlockDevice matches the given query.")
    reply = await api.get("nodes/nope/blockdevices/")
    assert (reply.status, reply.text) == (404, "No Machine matches the given query.")


async def test_format_mount_unmount_unformat(api: MaasHttp) -> None:
    path = "nodes/abc123/blockdevices/sdb/"
    formatted = await api.ok("POST", path, op="format", body={"fstype": "ext4", "label": "data"})
    fs = formatted["filesystem"]
    assert fs["fstype"] == "ext4" and fs["label"] == "data" and fs["mount_point"] is None
    assert formatted["used_for"] == "Unmounted ext4 formatted filesystem"
    assert formatted["available_size"] == 0 and formatted["used_size"] == TB
    mounted = await api.ok("POST", path, op="mount", body={"mount_point": "/data"})
    assert mounted["filesystem"]["mount_point"] == "/data"
    assert mounted["filesystem"]["mount_options"] == ""  # the form's empty CharField
    assert mounted["used_for"] == "ext4 formatted filesystem mounted at /data"
    # Formatting again replaces the filesystem: new uuid, not mounted any more.
    again = await api.ok("POST", path, op="format", body={"fstype": "xfs"})
    assert again["filesystem"]["uuid"] != fs["uuid"] and again["filesystem"]["mount_point"] is None
    await api.ok("POST", path, op="mount", body={"mount_point": "/data", "mount_options": "noatime"})
    refused = await api.post(path, op="unformat")
    assert refused.status == 400
    assert refused.text == (
        "Filesystem is mounted and cannot be unformatted. Unmount the filesystem before "
        "unformatting the block device."
    )
    unmounted = await api.ok("POST", path, op="unmount")
    assert unmounted["filesystem"]["mount_point"] is None
    assert unmounted["filesystem"]["mount_options"] is None
    again_unmount = await api.post(path, op="unmount")
    assert (again_unmount.status, again_unmount.text) == (400, "Filesystem is already unmounted.")
    unformatted = await api.ok("POST", path, op="unformat")
    assert unformatted["filesystem"] is None
    not_formatted = await api.post(path, op="unformat")
    assert (not_formatted.status, not_formatted.text) == (400, "Block device is not formatted.")
    assert not_formatted.content_type == "text/plain; charset=utf-8"


async def test_format_and_mount_validation(api: MaasHttp) -> None:
    path = "nodes/abc123/blockdevices/sdb/"
    reply = await api.post(path, op="format")
    assert reply.status == 400 and reply.json() == {"fstype": ["This field is required."]}
    assert reply.content_type == "application/json; charset=utf-8"
    reply = await api.post(path, op="format", body={"fstype": "ntfs", "uuid": "xyz"})
    assert reply.json() == {
        "uuid": ["Ensure this value has at least 32 characters (it has 3).", "Enter a valid value."],
        "fstype": ["Select a valid choice. ntfs is not one of the available choices."],
    }
    reply = await api.post(path, op="mount", body={"mount_point": "/x"})
    assert reply.json() == {"__all__": ["Cannot mount an unformatted partition or block device."]}
    await api.ok("POST", path, op="format", body={"fstype": "ext4"})
    reply = await api.post(path, op="mount")
    assert reply.json() == {"mount_point": ["This field is required."]}
    reply = await api.post(path, op="mount", body={"mount_point": "relative"})
    assert reply.json() == {"mount_point": ["Enter a valid value."]}
    await api.ok("POST", path, op="mount", body={"mount_point": "/srv"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdc/", op="format", body={"fstype": "xfs"})
    reply = await api.post("nodes/abc123/blockdevices/sdc/", op="mount", body={"mount_point": "/srv"})
    assert reply.status == 400
    # A model validation error: JSON without a charset.
    assert reply.content_type == "application/json"
    assert reply.json() == {"__all__": ["Another filesystem is already mounted at /srv."]}
    swap = await api.ok("POST", "nodes/abc123/blockdevices/sdd/", op="format", body={"fstype": "swap"})
    assert swap["filesystem"]["fstype"] == "swap"
    swap = await api.ok("POST", "nodes/abc123/blockdevices/sdd/", op="mount")
    assert swap["filesystem"]["mount_point"] == "none"


async def test_boot_disk_and_partitioned_disk_cannot_be_formatted(api: MaasHttp) -> None:
    reply = await api.post("nodes/abc123/blockdevices/sda/", op="format", body={"fstype": "ext4"})
    assert reply.status == 400 and reply.content_type == "application/json"
    assert reply.json() == {
        "__all__": [
            "Cannot place filesystem directly on the boot disk. Create a partition on the boot "
            "disk first and then format the partition."
        ]
    }
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/partitions/", body={"size": "10G"})
    reply = await api.post("nodes/abc123/blockdevices/sdb/", op="format", body={"fstype": "ext4"})
    assert reply.content_type == "application/json; charset=utf-8"
    assert reply.json() == {"__all__": ["Cannot format block device with a partition table."]}


async def test_format_state_rules(api: MaasHttp, sim: MaasSim) -> None:
    reply = await api.post("nodes/def456/blockdevices/sdb/", op="format", body={"fstype": "ext4"})
    assert reply.status == 409
    assert reply.text == "Cannot format block device because the machine is not Ready or Allocated."
    # The state is checked before the form: no field errors for a Deployed machine.
    reply = await api.post("nodes/def456/blockdevices/sdb/", op="mount")
    assert (reply.status, reply.text) == (
        409,
        "Cannot mount block device because the machine is not Ready or Allocated.",
    )
    # Allocated: allowed, on the acquired copy that release throws away.
    formatted = await api.ok("POST", "nodes/ghi789/blockdevices/sdb/", op="format", body={"fstype": "ext4"})
    assert formatted["filesystem"]["fstype"] == "ext4"
    sim.set_status("ghi789", "Ready")
    released = await api.device("ghi789", "sdb")
    assert released["filesystem"] is None


async def test_ready_time_filesystems_survive_allocation(api: MaasHttp, sim: MaasSim) -> None:
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="format", body={"fstype": "ext4"})
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="mount", body={"mount_point": "/a"})
    sim.set_status("abc123", "Allocated")
    device = await api.device("abc123", "sdb")
    assert device["filesystem"]["mount_point"] == "/a"
    await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="unmount")
    sim.set_status("abc123", "Ready")
    assert (await api.device("abc123", "sdb"))["filesystem"]["mount_point"] == "/a"


async def test_set_boot_disk(api: MaasHttp) -> None:
    reply = await api.post("nodes/abc123/blockdevices/sdc/", op="set_boot_disk")
    assert (reply.status, reply.text) == (200, "OK")
    assert (await api.ok("GET", "machines/abc123/"))["boot_disk"]["name"] == "sdc"
    # sda is an ordinary disk now.
    assert (
        await api.post("nodes/abc123/blockdevices/sda/", op="format", body={"fstype": "ext4"})
    ).status == 200
    reply = await api.post("nodes/def456/blockdevices/sdc/", op="set_boot_disk")
    assert (reply.status, reply.text) == (409, "Cannot set as boot disk because the machine is not Ready.")
    raid = await api.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdd", "sde"])
    md = raid.json()["virtual_device"]["id"]
    reply = await api.post(f"nodes/abc123/blockdevices/{md}/", op="set_boot_disk")
    assert (reply.status, reply.text) == (400, "Cannot set a virtual block device as the boot disk.")


async def test_delete_block_device(api: MaasHttp) -> None:
    await api.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    reply = await api.delete("nodes/abc123/blockdevices/sdb/")
    assert (reply.status, reply.text) == (400, "Cannot delete block device because its part of a RAID.")
    reply = await api.delete("nodes/def456/blockdevices/sdb/")
    assert (reply.status, reply.text) == (409, "Cannot delete block device because the machine is not Ready.")
    assert (await api.delete("nodes/abc123/blockdevices/sdf/")).status == 204
    assert (await api.get("nodes/abc123/blockdevices/sdf/")).status == 404


async def test_update_block_device(api: MaasHttp) -> None:
    updated = await api.ok("PUT", "nodes/abc123/blockdevices/sdf/", body={"name": "sdz", "model": "M"})
    assert (updated["name"], updated["model"]) == ("sdz", "M")
    reply = await api.put("nodes/abc123/blockdevices/sdz/", {"name": "sdb"})
    assert reply.status == 400
    assert reply.json() == {"__all__": ["Block device with this Node config and Name already exists."]}
    # Deployed: physical devices can still be renamed.
    assert (await api.put("nodes/def456/blockdevices/sdc/", {"name": "sdx"})).status == 200
    reply = await api.put("nodes/ghi789/blockdevices/sdc/", {"name": "sdx"})
    assert (reply.status, reply.text) == (409, "Cannot update block device because the machine is not Ready.")


async def test_tags(api: MaasHttp) -> None:
    tagged = await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="add_tag", body={"tag": "ssd"})
    assert tagged["tags"] == ["ssd"]
    untagged = await api.ok("POST", "nodes/abc123/blockdevices/sdb/", op="remove_tag", body={"tag": "ssd"})
    assert untagged["tags"] == []


@pytest.mark.parametrize("seed_status", ["Deployed", "Failed testing", "New"])
async def test_machine_status_from_the_seed(sim: MaasSim, api: MaasHttp, seed_status: str) -> None:
    spec: dict[str, Any] = {"hostname": "extra", "status": seed_status, "blockDevices": []}
    machine = sim.add_machine(spec)
    body = await api.ok("GET", f"machines/{machine.system_id}/")
    assert body["status_name"] == seed_status
