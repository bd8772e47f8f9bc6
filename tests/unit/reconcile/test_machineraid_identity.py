"""Members by stable identity: `serial:` / `id-path:` entries, names pinned by what they first
resolved to, and the re-create decision after a wipe (same physical disks or DevicesChanged)."""

from __future__ import annotations

from typing import Any

from stratum.api.maas import DeviceStatus
from stratum.clients.maas.models import BlockDevice
from stratum.reconcile.maas.devices import Inventory, Resolution, resolve
from stratum.reconcile.maas.identity import Pin, find_pinned, partition_uuid, pins_from_status, stable_id_path
from stratum.reconcile.maas.ownership import maas_accepts_uuid

TB = 10**12
BY_ID = "/dev/disk/by-id/wwn-0x5000"


def disk(id_: int, name: str, serial: str = "", **extra: Any) -> BlockDevice:
    id_path = f"{BY_ID}{serial}" if serial else f"/dev/{name}"  # as MAAS's commissioning hook records it
    return BlockDevice.model_validate(
        {
            "id": id_,
            "name": name,
            "size": TB,
            "type": "physical",
            "serial": serial,
            "id_path": id_path,
            **extra,
        }
    )


def machine(*disks: BlockDevice) -> Inventory:
    return Inventory([disk(1, "sda", "BOOT"), *disks])


def run(inventory: Inventory, active: list[str], pins: dict[str, Pin] | None = None) -> Resolution:
    return resolve(
        inventory,
        active,
        [],
        members={},
        boot_disk_id=1,
        own_md=None,
        where="n1",
        pins=pins,
    )


def pinned(result: Resolution) -> dict[str, Pin]:
    return pins_from_status([d.status().model_dump(by_alias=True) for d in result.active])


def test_serial_and_id_path_entries_find_physical_disks() -> None:
    inv = machine(disk(2, "sdb", "B"), disk(3, "sdc", "C"))
    result = run(inv, ["serial:C", f"id-path:{BY_ID}B"])
    assert result.problem is None
    assert [(d.name, d.serial, d.id_path, d.ref) for d in result.active] == [
        ("sdc", "C", f"{BY_ID}C", "serial:C"),
        ("sdb", "B", f"{BY_ID}B", f"id-path:{BY_ID}B"),
    ]
    missing = run(inv, ["serial:C", "serial:Z"]).problem
    assert missing is not None and missing.reason == "DeviceNotFound" and "serial:Z" in missing.message


def test_a_name_is_pinned_and_a_rename_does_not_move_it() -> None:
    before = machine(disk(2, "sdb", "B"), disk(3, "sdc", "C"), disk(4, "sdd", "D"))
    first = run(before, ["sdb", "sdc"])
    pins = pinned(first)
    assert pins["sdb"].serial == "B" and pins["sdc"].serial == "C"
    # The kernel swaps sdb and sdd (a free disk): by name "sdb" is now the free disk D.
    after = machine(disk(2, "sdd", "B"), disk(3, "sdc", "C"), disk(4, "sdb", "D"))
    assert [d.key for d in run(after, ["sdb", "sdc"]).active] == [("device", 4), ("device", 3)]
    followed = run(after, ["sdb", "sdc"], pins)
    assert followed.problem is None
    assert [(d.key, d.name, d.ref) for d in followed.active] == [
        (("device", 2), "sdd", "sdb"),
        (("device", 3), "sdc", "sdc"),
    ]


def test_after_a_wipe_the_pinned_disks_come_back_even_with_new_ids() -> None:
    pins = pinned(run(machine(disk(2, "sdb", "B"), disk(3, "sdc", "C")), ["sdb", "sdc"]))
    # Re-commissioned: MAAS matched the disks by serial, the kernel named them the other way round.
    again = run(machine(disk(12, "sdc", "B"), disk(13, "sdb", "C")), ["sdb", "sdc"], pins)
    assert again.problem is None and [d.serial for d in again.active] == ["B", "C"]


def test_a_replaced_disk_is_devices_changed_and_says_what_is_there() -> None:
    pins = pinned(run(machine(disk(2, "sdb", "B"), disk(3, "sdc", "C")), ["sdb", "sdc"]))
    changed = run(machine(disk(2, "sdb", "NEW"), disk(3, "sdc", "C")), ["sdb", "sdc"], pins).problem
    assert changed is not None and changed.reason == "DevicesChanged"
    assert "the disk with serial B (then named sdb)" in changed.message
    assert "sdb (serial NEW)" in changed.message and "serial:<serial>" in changed.message


def test_a_disk_without_serial_is_pinned_by_id_only() -> None:
    # MAAS gives a serial-less disk id_path /dev/<name>: that moves with the name, so the pin is
    # the MAAS id (weak: lost when commissioning re-creates the disk).
    assert not stable_id_path("/dev/sdb") and stable_id_path(f"{BY_ID}B")
    pins = pinned(run(machine(disk(2, "sdb"), disk(3, "sdc")), ["sdb"]))
    assert pins["sdb"].serial is None and pins["sdb"].id_path == "/dev/sdb"
    renamed = machine(disk(2, "sdc"), disk(3, "sdb"))
    assert find_pinned(renamed.devices, pins["sdb"]) == renamed.devices[1]
    assert "MAAS block device 2" in pins["sdb"].describe()


def test_status_written_before_pinning_is_resolved_by_name_once_more() -> None:
    old = DeviceStatus(name="sdb", id=2, type="physical", size=TB).model_dump(by_alias=True)
    assert pins_from_status([old, {"bogus": True}]) == {}


def test_partition_markers_are_stable_distinct_and_accepted_by_maas() -> None:
    uid = "5c0f2d1e-7a3b-4c8d-9e1f-0a2b3c4d5e6f"
    markers = [partition_uuid(uid, i) for i in range(3)]
    assert markers == [partition_uuid(uid, i) for i in range(3)] and len(set(markers)) == 3
    assert all(maas_accepts_uuid(m) for m in markers)
    assert partition_uuid("another-uid", 0) != markers[0]
