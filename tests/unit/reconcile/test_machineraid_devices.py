"""Device names to MAAS ids and types, and why a device cannot join an array."""

from __future__ import annotations

from typing import Any

from stratum.clients.maas.models import BlockDevice
from stratum.reconcile.maas.devices import Inventory, resolve

TB = 10**12


def disk(id_: int, name: str, size: int = TB, **extra: Any) -> BlockDevice:
    return BlockDevice.model_validate({"id": id_, "name": name, "size": size, "type": "physical", **extra})


def partition(id_: int, disk_id: int, path: str, size: int, **extra: Any) -> dict[str, Any]:
    return {"id": id_, "device_id": disk_id, "path": f"/dev/disk/by-dname/{path}", "size": size, **extra}


INVENTORY = Inventory(
    [
        disk(1, "sda", 500 * 10**9),
        disk(2, "sdb"),
        disk(3, "sdc"),
        disk(
            4,
            "sdd",
            partition_table_type="GPT",
            used_for="GPT partitioned with 2 partitions",
            partitions=[
                partition(10, 4, "sdd-part1", TB // 2),
                partition(11, 4, "sdd-part2", TB // 2 - 2**22),
            ],
        ),
        disk(
            5,
            "sde",
            filesystem={"fstype": "ext4", "mount_point": "/srv"},
            used_for="ext4 formatted filesystem mounted at /srv",
        ),
        disk(6, "sdf", 100 * 10**9),
        disk(7, "md9", 2 * TB, type="virtual"),
    ]
)


def test_names_ids_and_partitions_resolve_to_maas_names() -> None:
    result = resolve(
        INVENTORY,
        ["sdb", "3", "sdd-part1"],
        ["11"],
        members={},
        boot_disk_id=1,
        own_md=None,
        where="node-1 (abc123)",
    )
    assert result.problem is None
    # Each member also records the spec entry it came from (its pin; see test_machineraid_identity).
    assert [d.status().model_dump(by_alias=True, exclude_none=True) for d in result.active] == [
        {"name": "sdb", "id": 2, "type": "physical", "size": TB, "ref": "sdb"},
        {"name": "sdc", "id": 3, "type": "physical", "size": TB, "ref": "3"},
        {"name": "sdd-part1", "id": 10, "type": "partition", "size": TB // 2, "ref": "sdd-part1"},
    ]
    assert [(d.key, d.name) for d in result.spare] == [(("partition", 11), "sdd-part2")]


def test_a_virtual_device_of_another_array_may_be_nested() -> None:
    result = resolve(INVENTORY, ["sdb", "md9"], [], members={}, boot_disk_id=1, own_md=None, where="n")
    assert result.problem is None and result.active[1].type == "virtual"


def test_missing_device_is_named_with_what_the_machine_has() -> None:
    problem = resolve(
        INVENTORY, ["sdb", "sdz"], [], members={}, boot_disk_id=1, own_md=None, where="node-1 (abc123)"
    ).problem
    assert problem is not None and problem.reason == "DeviceNotFound"
    assert problem.message.startswith("device sdz not found on machine node-1 (abc123) (it has: sda, sdb")
    assert "sdd-part1" in problem.message


def test_partitioned_in_use_and_boot_disks_are_refused_with_the_device_named() -> None:
    result = resolve(INVENTORY, ["sdd", "sde"], ["sda"], members={}, boot_disk_id=1, own_md=None, where="n")
    reasons = [p.reason for p in result.problems]
    assert reasons == ["DevicePartitioned", "DeviceInUse", "DeviceIsBootDisk"]
    problem = result.problem
    assert problem is not None and problem.reason == "DevicePartitioned"
    assert "sdd has a partition table" in problem.message and "(sdd-part1, sdd-part2)" in problem.message
    assert "sde is in use (ext4 formatted filesystem mounted at /srv)" in problem.message
    assert "sda is the machine's boot disk" in problem.message


def test_the_same_device_twice_is_refused() -> None:
    problem = resolve(INVENTORY, ["sdb", "2"], [], members={}, boot_disk_id=1, own_md=None, where="n").problem
    assert problem is not None and problem.reason == "DuplicateDevice"
    assert "2 and sdb are the same device (sdb)" in problem.message


def test_current_members_are_eligible_in_either_role() -> None:
    raid_member = disk(2, "sdb", filesystem={"fstype": "raid"}, used_for="Active raid-1 device for md0")
    spare_member = disk(3, "sdc", filesystem={"fstype": "raid-spare"}, used_for="Spare raid-1 device for md0")
    inventory = Inventory([raid_member, spare_member, disk(8, "sdg")])
    members = {("device", 2): TB, ("device", 3): TB}
    result = resolve(
        inventory, ["sdc", "sdg"], ["sdb"], members=members, boot_disk_id=None, own_md=9, where="n"
    )
    assert result.problem is None
    other = resolve(inventory, ["sdb", "sdg"], [], members={}, boot_disk_id=None, own_md=None, where="n")
    assert other.problem is not None and other.problem.reason == "DeviceInUse"
    assert "Active raid-1 device for md0" in other.problem.message


def test_a_new_member_smaller_than_the_array_members_is_too_small() -> None:
    members = {("device", 2): TB, ("device", 3): TB}
    problem = resolve(
        INVENTORY, ["sdb", "sdc"], ["sdf"], members=members, boot_disk_id=1, own_md=None, where="n"
    ).problem
    assert problem is not None and problem.reason == "DeviceTooSmall"
    assert "sdf (100.0 GB) is smaller than the smallest member of the array (1.0 TB)" in problem.message


def test_the_arrays_own_md_device_cannot_be_a_member() -> None:
    problem = resolve(
        INVENTORY, ["sdb", "md9"], [], members={("device", 2): TB}, boot_disk_id=1, own_md=7, where="n"
    ).problem
    assert problem is not None and problem.reason == "DeviceInUse" and "own md device" in problem.message
