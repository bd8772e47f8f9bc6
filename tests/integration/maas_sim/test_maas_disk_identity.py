"""Block devices carry serial, id_path, model and tags; `/_sim/machines/{id}/rename-disks` changes
kernel names while ids, serials, id_path and the storage model stay (the commissioning hook,
canonical/maas src/metadataserver/builtin_scripts/hooks.py, matches disks by serial and keeps
their ids; api/blockdevices.py DISPLAYED_BLOCKDEVICE_FIELDS)."""

from __future__ import annotations

from typing import Any

import pytest
from maas_helpers import API_KEY, TB, MaasHttp

WWN_B = "/dev/disk/by-id/wwn-0x5000b"


@pytest.fixture
def seed() -> dict[str, Any]:
    return {
        "apiKeys": [API_KEY],
        "machines": [
            {
                "systemId": "abc123",
                "hostname": "node-1",
                "blockDevices": [
                    {"name": "sda", "size": TB, "bootDisk": True},
                    {
                        "name": "sdb",
                        "size": TB,
                        "serial": "SER-B",
                        "idPath": WWN_B,
                        "model": "ST1000",
                        "rotary": True,
                    },
                    {
                        "name": "sdc",
                        "size": TB,
                        "serial": "SER-C",
                        "model": "Samsung SSD 870",
                        "tags": ["ssd"],
                    },
                    {"name": "sdd", "size": TB, "tags": ["rotary", "fast"]},
                ],
            }
        ],
    }


async def rename(api: MaasHttp, system_id: str, body: dict[str, str]) -> tuple[int, Any]:
    async with api.session.post(f"{api.sim.url}/_sim/machines/{system_id}/rename-disks", json=body) as resp:
        return resp.status, await resp.json()


async def test_disk_identity_fields(api: MaasHttp) -> None:
    disks = {d["name"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    sdb, sdc, sdd = disks["sdb"], disks["sdc"], disks["sdd"]
    assert (sdb["serial"], sdb["id_path"], sdb["model"], sdb["tags"]) == (
        "SER-B",
        WWN_B,
        "ST1000",
        ["rotary", "7200rpm"],
    )
    assert sdc["id_path"] == "/dev/disk/by-id/ata-Samsung_SSD_870_SER-C" and sdc["tags"] == ["ssd"]
    # A disk the seed says nothing about is a QEMU disk with a generated serial and its by-id path.
    sda = disks["sda"]
    assert (sda["model"], sda["serial"]) == ("QEMU HARDDISK", "QM00001")
    assert sda["id_path"] == "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_QM00001" and sda["tags"] == []
    assert sdd["tags"] == ["rotary", "fast"]


async def test_rename_swaps_kernel_names_and_keeps_identity_and_storage(api: MaasHttp) -> None:
    raid = await api.ok(
        "POST",
        "nodes/abc123/raids/",
        body={"name": "md0", "level": "raid-1", "block_devices": ["sdb", "sdc"]},
    )
    before = {d["id"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    status, body = await rename(api, "abc123", {"sdb": "sdc", "sdc": "sdb"})
    assert status == 200 and body["blockDevices"]["2"] == "sdc"
    after = {d["id"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    assert (after[2]["name"], after[3]["name"]) == ("sdc", "sdb")
    for device_id in (2, 3):
        for key in ("serial", "id_path", "model", "tags", "size", "filesystem"):
            assert after[device_id][key] == before[device_id][key]
    assert (await api.device("abc123", "sdb"))["serial"] == "SER-C"
    members = (await api.ok("GET", f"nodes/abc123/raid/{raid['id']}/"))["devices"]
    assert sorted((m["id"], m["name"]) for m in members) == [(2, "sdc"), (3, "sdb")]


async def test_rename_errors(api: MaasHttp) -> None:
    assert (await rename(api, "abc123", {"sdx": "sdy"}))[0] == 400
    status, body = await rename(api, "abc123", {"sdb": "sdc"})  # sdc would exist twice
    assert status == 400 and "unique" in body["error"]
    assert (await rename(api, "nope00", {"sdb": "sdc"}))[0] == 404
    assert [d["name"] for d in await api.ok("GET", "nodes/abc123/blockdevices/")] == [
        "sda",
        "sdb",
        "sdc",
        "sdd",
    ]


async def test_commissioning_keeps_renamed_disks_and_rewrites_their_tags(api: MaasHttp) -> None:
    async with api.session.post(api.sim.url + "/_sim/lifecycle", json={"commissionSeconds": 0}) as resp:
        assert resp.status == 200
    await rename(api, "abc123", {"sdb": "sdc", "sdc": "sdb"})
    await api.ok("POST", "machines/abc123/", op="commission")
    disks = {d["name"]: d for d in await api.ok("GET", "nodes/abc123/blockdevices/")}
    assert (disks["sdc"]["id"], disks["sdc"]["serial"], disks["sdc"]["tags"]) == (
        2,
        "SER-B",
        ["rotary", "7200rpm"],
    )
    assert disks["sdd"]["tags"] == ["rotary", "7200rpm"]  # the seed's tags said it spins
    assert disks["sdb"]["tags"] == ["ssd"]
