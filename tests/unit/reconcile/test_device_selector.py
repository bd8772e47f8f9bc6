"""deviceSelector's chooser: free non-boot physical disks only, the smallest that fit then by name,
pinned choices kept, and a shortage message that says what the machine has."""

from __future__ import annotations

from typing import Any

from stratum.api.maas import DeviceSelector
from stratum.clients.maas.models import BlockDevice
from stratum.reconcile.maas.device_selector import choose, selector_ref, wanted
from stratum.reconcile.maas.identity import Pin

GB = 10**9


def dev(id_: int, name: str, gb: int, *tags: str, **extra: Any) -> BlockDevice:
    return BlockDevice.model_validate(
        {"id": id_, "name": name, "size": gb * GB, "serial": f"S{id_}", "tags": list(tags), **extra}
    )


def sel(**spec: Any) -> DeviceSelector:
    return DeviceSelector.model_validate({"count": 2, **spec})


MACHINE = [
    dev(1, "sda", 480, "ssd"),  # boot
    dev(2, "sdb", 2000, "ssd"),
    dev(3, "sdd", 960, "ssd"),
    dev(4, "sdc", 960, "ssd"),
    dev(5, "sde", 1000, "rotary"),
    dev(6, "sdf", 500, "ssd"),
]


def test_the_smallest_fitting_disks_win_then_by_name() -> None:
    choice = choose(MACHINE, sel(minSize="900G", tags=["ssd"]), boot_disk_id=1, pins={})
    assert choice.shortage is None
    assert choice.refs == ["deviceSelector[0]", "deviceSelector[1]"]
    assert [(p.name, p.serial) for p in choice.new_pins.values()] == [("sdc", "S4"), ("sdd", "S3")]
    # Without tags and size limits the HDD and the 500 GB SSD compete too: the smallest win.
    anything = choose(MACHINE, sel(), boot_disk_id=1, pins={})
    assert [p.name for p in anything.new_pins.values()] == ["sdf", "sdc"]


def test_the_choice_does_not_depend_on_the_order_maas_lists_disks() -> None:
    forward = choose(MACHINE, sel(minSize="900G"), boot_disk_id=1, pins={})
    backward = choose(list(reversed(MACHINE)), sel(minSize="900G"), boot_disk_id=1, pins={})
    assert forward == backward


def test_only_free_non_boot_physical_disks() -> None:
    partitioned = dev(7, "sdg", 900, "ssd", partition_table_type="GPT")
    formatted = dev(8, "sdh", 900, "ssd", filesystem={"fstype": "ext4"}, used_for="ext4 formatted filesystem")
    member = dev(9, "sdi", 900, "ssd", filesystem={"fstype": "raid"}, used_for="Active raid-1 device for md0")
    virtual = dev(10, "md0", 900, type="virtual")
    disks = [*MACHINE, partitioned, formatted, member, virtual]
    choice = choose(disks, sel(tags=["ssd"]), boot_disk_id=1, pins={})
    assert [p.name for p in choice.new_pins.values()] == ["sdf", "sdc"]
    # A member of this very array counts as free (the array is being looked at again).
    again = choose(disks, sel(minSize="900G", maxSize="900G"), boot_disk_id=1, pins={}, members={9})
    assert again.shortage is not None and "sdi (900.0 GB, ssd)" in again.shortage.split(";")[1]


def test_pinned_disks_are_kept_even_when_smaller_ones_appear() -> None:
    pins = {
        selector_ref(0): Pin(selector_ref(0), "sdb", 2, "physical", serial="S2"),
        selector_ref(1): Pin(selector_ref(1), "sde", 5, "physical", serial="S5"),
    }
    choice = choose(MACHINE, sel(), boot_disk_id=1, pins=pins)
    assert choice == choice.__class__(["deviceSelector[0]", "deviceSelector[1]"], {})
    # One more disk wanted: only the missing one is chosen, never one already pinned.
    more = choose(MACHINE, sel(count=3), boot_disk_id=1, pins=pins)
    assert more.refs == ["deviceSelector[0]", "deviceSelector[1]", "deviceSelector[2]"]
    assert [p.name for p in more.new_pins.values()] == ["sdf"]
    # Fewer wanted: the first pinned ones stay.
    fewer = choose(MACHINE, sel(count=1), boot_disk_id=1, pins=pins)
    assert fewer.refs == ["deviceSelector[0]"]


def test_a_shortage_says_what_the_machine_has() -> None:
    choice = choose(
        MACHINE, sel(count=3, minSize="900G", maxSize="1.5T", tags=["ssd"]), boot_disk_id=1, pins={}
    )
    assert choice.refs == [] and choice.new_pins == {}
    assert choice.shortage == (
        "deviceSelector wants 3 free non-boot disks of at least 900.0 GB and at most 1.5 TB tagged ssd; "
        "the machine has 2 (sdc (960.0 GB, ssd), sdd (960.0 GB, ssd)); its other disks: sda (480.0 GB, "
        "ssd: boot disk), sdb (2.0 TB, ssd: too large), sde (1.0 TB, rotary: lacks tag ssd), "
        "sdf (500.0 GB, ssd: too small)"
    )


def test_wanted_in_words() -> None:
    assert wanted(sel(count=1)) == "1 free non-boot disk"
    assert wanted(sel(maxSize=2 * 10**12, tags=["ssd", "nvme"])) == (
        "2 free non-boot disks of at most 2.0 TB tagged ssd, nvme"
    )
