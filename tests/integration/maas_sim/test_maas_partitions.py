"""Partitions: sizes and alignment, numbering, lookups, format/mount, delete rules."""

from __future__ import annotations

from maas_helpers import TB, MaasHttp

from stratum.sim.maas import MaasSim

MiB = 1024 * 1024
PARTS = "nodes/abc123/blockdevices/sdb/partitions/"


async def test_create_rounds_down_to_4_mib_and_takes_si_suffixes(api: MaasHttp) -> None:
    part = await api.ok("POST", PARTS, body={"size": "10G"})
    # 10 000 000 000 bytes (SI) rounded down to 4 MiB.
    assert part["size"] == 10_000_000_000 // (4 * MiB) * (4 * MiB) == 9_999_220_736
    assert part["type"] == "partition" and "name" not in part
    assert part["path"] == "/dev/disk/by-dname/sdb-part1"  # uefi machine: index 1
    assert part["device_id"] == 2 and part["bootable"] is False and part["filesystem"] is None
    assert part["used_for"] == "Unused"
    rest = await api.ok("POST", PARTS)  # no size: all that is left
    assert rest["path"].endswith("sdb-part2")
    assert rest["size"] == (TB - 5 * MiB - part["size"]) // (4 * MiB) * (4 * MiB)
    device = await api.device("abc123", "sdb")
    assert device["partition_table_type"] == "GPT"
    assert device["used_for"] == "GPT partitioned with 2 partitions"
    assert device["available_size"] == 0
    assert device["used_size"] == part["size"] + rest["size"] + 5 * MiB
    assert [p["id"] for p in device["partitions"]] == [part["id"], rest["id"]]


async def test_create_validation(api: MaasHttp) -> None:
    reply = await api.post(PARTS, {"size": "1M"})
    assert reply.json() == {"size": [f"Ensure this value is greater than or equal to {4 * MiB}."]}
    reply = await api.post(PARTS, {"size": "2T"})
    assert reply.json() == {"size": [f"Ensure this value is less than or equal to {TB}."]}
    reply = await api.post(PARTS, {"size": "ten"})
    assert reply.json() == {"size": ["Enter a valid value."]}
    await api.ok("POST", PARTS, body={"size": "900G"})
    reply = await api.post(PARTS, {"size": "200G"})
    assert reply.status == 400 and reply.content_type == "application/json"
    assert reply.json() == {"size": ["Partition cannot be saved; not enough free space on the block device."]}
    reply = await api.post("nodes/def456/blockdevices/sdb/partitions/", {"size": "10G"})
    assert (reply.status, reply.text) == (409, "Cannot create partition because the node is not Ready.")


async def test_bios_boot_machines_number_from_two(sim: MaasSim, api: MaasHttp) -> None:
    sim.add_machine(
        {
            "systemId": "pxe001",
            "hostname": "legacy",
            "biosBootMethod": "pxe",
            "blockDevices": [{"name": "sda", "size": TB}, {"name": "sdb", "size": TB}],
        }
    )
    device = await api.device("pxe001", "sdb")
    # bios_grub adds 1 MiB of overhead.
    assert device["available_size"] == (TB - 6 * MiB) // (4 * MiB) * (4 * MiB)
    part = await api.ok("POST", "nodes/pxe001/blockdevices/sdb/partitions/", body={"size": "1G"})
    assert part["path"] == "/dev/disk/by-dname/sdb-part2"
    read = await api.ok("GET", "nodes/pxe001/blockdevices/sdb/partition/sdb-part2")
    assert read["id"] == part["id"]


async def test_list_read_and_lookup_quirks(api: MaasHttp) -> None:
    # No partition table: upstream's `partitiontable_set.get()` raises -> 500.
    reply = await api.get(PARTS)
    assert reply.status == 500 and reply.text == "PartitionTable matching query does not exist."
    part = await api.ok("POST", PARTS, body={"size": "10G"})
    assert [p["id"] for p in await api.ok("GET", PARTS)] == [part["id"]]
    assert (await api.ok("GET", "nodes/abc123/blockdevices/2/partition/sdb-part1"))["id"] == part["id"]
    # The partition is looked up on the node, whatever device the URL names.
    assert (await api.ok("GET", f"nodes/abc123/blockdevices/3/partition/{part['id']}"))["id"] == part["id"]
    missing = await api.get("nodes/abc123/blockdevices/2/partition/999")
    assert (missing.status, missing.body) == (404, b"")


async def test_format_mount_partition(api: MaasHttp) -> None:
    part = await api.ok("POST", PARTS, body={"size": "10G"})
    path = f"nodes/abc123/blockdevices/2/partition/{part['id']}"
    formatted = await api.ok("POST", path, op="format", body={"fstype": "ext4"})
    assert formatted["filesystem"]["fstype"] == "ext4"
    mounted = await api.ok("POST", path, op="mount", body={"mount_point": "/srv", "mount_options": "ro"})
    assert mounted["filesystem"]["mount_point"] == "/srv" and mounted["used_for"] == (
        "ext4 formatted filesystem mounted at /srv"
    )
    reply = await api.post(path, op="unformat")
    assert reply.text == (
        "Filesystem is mounted and cannot be unformatted. Unmount the filesystem before "
        "unformatting the partition."
    )
    await api.ok("POST", path, op="unmount")
    await api.ok("POST", path, op="unformat")
    reply = await api.post(path, op="unmount")
    assert (reply.status, reply.text) == (400, "Partition is not formatted.")
    reply = await api.post("nodes/def456/blockdevices/sdb/partition/1", op="format", body={"fstype": "ext4"})
    assert reply.status == 404  # no such partition on that node
    # The boot disk can carry formatted partitions.
    boot_part = await api.ok("POST", "nodes/abc123/blockdevices/sda/partitions/", body={"size": "1G"})
    ok = await api.post(
        f"nodes/abc123/blockdevices/sda/partition/{boot_part['id']}", op="format", body={"fstype": "fat32"}
    )
    assert ok.status == 200


async def test_partition_state_rules(api: MaasHttp, sim: MaasSim) -> None:
    reply = await api.post("nodes/ghi789/blockdevices/sdb/partitions/", {"size": "1G"})
    assert (reply.status, reply.text) == (409, "Cannot create partition because the node is not Ready.")
    sim.set_status("ghi789", "Ready")
    part = await api.ok("POST", "nodes/ghi789/blockdevices/sdb/partitions/", body={"size": "1G"})
    sim.set_status("ghi789", "Deployed")
    path = f"nodes/ghi789/blockdevices/sdb/partition/{part['id']}"
    reply = await api.post(path, op="format", body={"fstype": "ext4"})
    assert (reply.status, reply.text) == (
        409,
        "Cannot format partition because the node is not Ready or Allocated.",
    )
    reply = await api.delete(path)
    assert (reply.status, reply.text) == (409, "Cannot delete block device because the node is not Ready.")


async def test_delete_renumbers_and_drops_the_table(api: MaasHttp) -> None:
    first = await api.ok("POST", PARTS, body={"size": "10G"})
    second = await api.ok("POST", PARTS, body={"size": "10G"})
    third = await api.ok("POST", PARTS, body={"size": "10G"})
    assert (await api.delete(f"nodes/abc123/blockdevices/2/partition/{second['id']}")).status == 204
    remaining = await api.ok("GET", PARTS)
    assert [(p["id"], p["path"].rsplit("-", 1)[1]) for p in remaining] == [
        (first["id"], "part1"),
        (third["id"], "part2"),
    ]
    for part in (first, third):
        assert (await api.delete(f"nodes/abc123/blockdevices/2/partition/{part['id']}")).status == 204
    device = await api.device("abc123", "sdb")
    assert device["partition_table_type"] is None and device["used_for"] == "Unused"
    reply = await api.delete(f"nodes/abc123/blockdevices/2/partition/{first['id']}")
    assert (reply.status, reply.text) == (404, "No PartitionTable matches the given query.")


async def test_delete_raid_member_partition_is_refused(api: MaasHttp) -> None:
    parts = [await api.ok("POST", f"nodes/abc123/blockdevices/{d}/partitions/") for d in ("sdb", "sdc")]
    await api.create_raid("abc123", name="md0", level="raid-1", partitions=[p["id"] for p in parts])
    reply = await api.delete(f"nodes/abc123/blockdevices/sdb/partition/{parts[0]['id']}")
    assert (reply.status, reply.text) == (400, "Cannot delete partition because its part of a RAID.")
    reply = await api.delete(f"nodes/abc123/blockdevices/sdb/partition/{parts[1]['id']}")
    assert (reply.status, reply.text) == (400, "Partition doesn't belong to the partition table")


async def test_create_keeps_a_given_uuid_and_generates_one_otherwise(api: MaasHttp) -> None:
    """AddPartitionForm's UUID4Field; models/partition.py defaults the uuid to uuid4()."""
    given = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    part = await api.ok("POST", PARTS, body={"size": "10G", "uuid": given})
    assert part["uuid"] == given
    assert (await api.ok("GET", f"nodes/abc123/blockdevices/sdb/partition/{part['id']}"))["uuid"] == given
    other = await api.ok("POST", PARTS, body={"size": "10G"})
    assert other["uuid"] != given and len(other["uuid"]) == 36 and other["uuid"][14] == "4"
    reply = await api.post(PARTS, {"size": "10G", "uuid": "not-a-uuid"})
    assert (reply.status, reply.json()) == (
        400,
        {"uuid": ["Ensure this value has at least 32 characters (it has 10).", "Enter a valid value."]},
    )
