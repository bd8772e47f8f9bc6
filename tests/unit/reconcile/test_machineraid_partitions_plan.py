"""spec.partitions: found by their marker uuid (never created twice), created on the right disk
(followed by identity), never on a disk that carries a filesystem, with sizes MAAS can hold."""

from __future__ import annotations

from typing import Any

from stratum.api.maas import PartitionSpec
from stratum.clients.maas.models import BlockDevice
from stratum.reconcile.maas.devices import Inventory
from stratum.reconcile.maas.identity import Pin, partition_uuid
from stratum.reconcile.maas.partitions import owned_partitions, plan_partitions

UID = "5c0f2d1e-7a3b-4c8d-9e1f-0a2b3c4d5e6f"
TB = 10**12
ALIGN = 4 * 2**20
FREE = 999_993_376_768  # what MAAS reports free on a bare 10**12-byte disk


def disk(id_: int, name: str, serial: str, **extra: Any) -> BlockDevice:
    return BlockDevice.model_validate(
        {"id": id_, "name": name, "size": TB, "available_size": FREE, "serial": serial, **extra}
    )


def part(id_: int, disk_id: int, path: str, uuid: str) -> dict[str, Any]:
    return {
        "id": id_,
        "device_id": disk_id,
        "path": f"/dev/disk/by-dname/{path}",
        "size": 10**11,
        "uuid": uuid,
    }


def specs(*items: dict[str, Any]) -> list[PartitionSpec]:
    return [PartitionSpec.model_validate(i) for i in items]


def test_missing_partitions_are_planned_with_their_marker_and_sizes() -> None:
    inv = Inventory([disk(2, "sdb", "B"), disk(3, "sdc", "C")])
    plan = plan_partitions(specs({"disk": "sdb", "size": "100G"}, {"disk": "serial:C"}), inv, UID, {}, "n1")
    assert plan.problems == [] and plan.found == {}
    assert [(n.index, n.disk.name, n.size, n.uuid) for n in plan.create] == [
        (0, "sdb", 100 * 10**9 // ALIGN * ALIGN, partition_uuid(UID, 0)),
        (1, "sdc", None, partition_uuid(UID, 1)),
    ]


def test_a_partition_with_the_marker_is_found_not_created_again() -> None:
    # As after a crash between MAAS's answer to the POST and the status write: nothing recorded.
    inv = Inventory(
        [
            disk(
                2,
                "sdb",
                "B",
                partition_table_type="GPT",
                partitions=[part(9, 2, "sdb-part1", partition_uuid(UID, 0))],
            )
        ]
    )
    plan = plan_partitions(specs({"disk": "sdb", "size": "100G"}), inv, UID, {}, "n1")
    assert plan.create == [] and plan.found[0].id == 9
    assert [(d.name, p.id) for d, p in owned_partitions(inv.devices, UID)] == [("sdb", 9)]
    assert owned_partitions(inv.devices, "someone-else") == []


def test_the_disk_is_followed_by_its_pinned_serial() -> None:
    pin = Pin("partitions[0]", "sdb-part1", 9, "partition", serial="B")
    inv = Inventory([disk(2, "sdc", "B"), disk(3, "sdb", "C")])  # renamed, then wiped
    plan = plan_partitions(specs({"disk": "sdb"}), inv, UID, {"partitions[0]": pin}, "n1")
    assert [n.disk.serial for n in plan.create] == ["B"]
    gone = plan_partitions(
        specs({"disk": "sdb"}), Inventory([disk(3, "sdb", "X")]), UID, {"partitions[0]": pin}, "n1"
    )
    assert gone.create == [] and [p.reason for p in gone.problems] == ["DevicesChanged"]


def test_never_on_a_disk_in_use_and_never_larger_than_the_free_space() -> None:
    used = disk(
        2, "sdb", "B", filesystem={"fstype": "ext4"}, used_for="ext4 formatted filesystem mounted at /srv"
    )
    plan = plan_partitions(specs({"disk": "sdb"}), Inventory([used]), UID, {}, "n1")
    assert plan.create == [] and plan.problems[0].reason == "DeviceInUse"
    assert "never wipes" in plan.problems[0].message
    two = specs({"disk": "sdc", "size": "600G"}, {"disk": "sdc", "size": "600G"})
    plan = plan_partitions(two, Inventory([disk(3, "sdc", "C")]), UID, {}, "n1")
    assert len(plan.create) == 1 and [p.reason for p in plan.problems] == ["NotEnoughSpace"]
    missing = plan_partitions(specs({"disk": "sdq"}), Inventory([disk(3, "sdc", "C")]), UID, {}, "n1")
    assert missing.problems[0].reason == "DeviceNotFound"


def test_sizes_are_rounded_down_to_the_4_mib_alignment() -> None:
    plan = plan_partitions(
        specs({"disk": "sdb", "size": "1Gi"}), Inventory([disk(2, "sdb", "B")]), UID, {}, "n1"
    )
    assert plan.create[0].size == 2**30
    plan = plan_partitions(
        specs({"disk": "sdb", "size": 10**9}), Inventory([disk(2, "sdb", "B")]), UID, {}, "n1"
    )
    assert plan.create[0].size == 10**9 // ALIGN * ALIGN


def test_a_zero_size_is_refused_with_a_reason() -> None:
    plan = plan_partitions(
        specs({"disk": "sdb", "size": "0"}), Inventory([disk(2, "sdb", "B")]), UID, {}, "n1"
    )
    assert (
        plan.create == []
        and plan.problems[0].reason == "DeviceTooSmall"
        and "'0'" in plan.problems[0].message
    )
