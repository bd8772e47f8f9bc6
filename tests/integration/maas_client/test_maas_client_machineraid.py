"""The MachineRaid reconcile against the MAAS simulator: create, converge, rename, format,
ownership, machine states, and no writes when nothing changed."""

from __future__ import annotations

import pytest
from maas_client_helpers import GB, TB, Raid, names, new, retry_seconds, writes

from stratum.clients.errors import BackendUnavailable
from stratum.clients.maas import MaasClient
from stratum.sim.maas import MaasSim


async def test_create_raid1_from_disks_then_idle(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, raidName="md0", spareDevices=["sdd"])
    outcome = await raid.converged()
    assert outcome.actions[0].startswith(
        "created raid-1 RAID md0 on node-1 (abc123) from sdb, sdc with spare sdd"
    )
    status = raid.status
    assert status["systemId"] == "abc123" and status["machineStatus"] == "Ready"
    assert status["raidName"] == "md0" and status["size"] == status["expectedSize"] == TB - 131072
    assert [d["name"] for d in status["devices"]] == ["sdb", "sdc"]
    qemu = "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_QM00004"  # the sim's default disk identity
    assert status["spareDevices"] == [
        {
            "name": "sdd",
            "id": 4,
            "type": "physical",
            "size": TB,
            "ref": "sdd",
            "serial": "QM00004",
            "idPath": qemu,
        }
    ]
    assert raid.maas()["uuid"] == raid.uid


async def test_raid5_with_a_spare_from_partitions(client: MaasClient, sim: MaasSim) -> None:
    parts = [{"size": 300 * GB}, {}]
    sim.add_machine(
        {
            "systemId": "prt001",
            "hostname": "parts",
            "blockDevices": [
                {"name": "sda", "size": 500 * GB, "bootDisk": True},
                *({"name": n, "size": TB, "partitions": parts} for n in ("sdb", "sdc", "sdd", "sde")),
            ],
        }
    )
    raid = Raid(
        client,
        sim,
        {
            "machine": {"systemId": "prt001"},
            "level": "raid-5",
            "devices": ["sdb-part2", "sdc-part2", "sdd-part2"],
            "spareDevices": ["sde-part1"],
        },
    )
    await raid.converged()
    assert {d["type"] for d in raid.status["devices"]} == {"partition"}
    assert names(raid.maas()["devices"]) == ["sdb-part2", "sdc-part2", "sdd-part2"]
    assert names(raid.maas()["spare_devices"]) == ["sde-part1"]
    # The small spare (300 GB rounded down to MAAS's 4 MiB partition alignment) decides the size.
    spare = 300 * GB // 2**22 * 2**22
    assert raid.status["spareDevices"][0]["size"] == spare
    assert raid.status["size"] == raid.status["expectedSize"] == 2 * spare - 131072


async def test_raid10_float_size(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, level="raid-10", devices=["sdb", "sdc", "sdd", "sde", "sdf"])
    await raid.converged()
    assert raid.status["size"] == raid.status["expectedSize"] == 5 * TB // 2 - 131072


async def test_grow_by_one_device_is_one_update(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, level="raid-5", devices=["sdb", "sdc", "sdd"])
    await raid.converged()
    outcome = await raid.converged(devices=["sdb", "sdc", "sdd", "sde"])
    assert outcome.actions == ["RAID data: added sde"]
    assert raid.status["size"] == raid.status["expectedSize"] == 3 * TB - 131072


async def test_swap_a_spare_for_an_active_device(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, spareDevices=["sdd"])
    await raid.converged()
    await raid.apply(devices=["sdb", "sdd"], spareDevices=["sdc"])
    assert sum(writes(sim).values()) == 4
    assert names(raid.maas()["devices"]) == ["sdb", "sdd"] and names(raid.maas()["spare_devices"]) == ["sdc"]
    await raid.converged()


async def test_rename_keeps_the_array(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, raidName="md3")
    await raid.converged()
    raid_id = raid.status["raidId"]
    outcome = await raid.converged(raidName="fast")
    assert outcome.actions == ["renamed RAID md3 to fast on node-1 (abc123)"]
    assert raid.status["raidId"] == raid_id and raid.maas()["name"] == "fast"


async def test_format_mount_and_change(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, filesystem={"fstype": "ext4", "mountPoint": "/data", "mountOptions": "noatime"})
    outcome = await raid.converged()
    assert outcome.actions[1:] == [
        "formatted data as ext4 on node-1 (abc123)",
        "mounted data at /data with options noatime on node-1 (abc123)",
    ]
    fs = raid.status["filesystem"]
    assert (fs["fstype"], fs["mountPoint"], fs["mountOptions"]) == ("ext4", "/data", "noatime")
    first_uuid = fs["uuid"]
    await raid.converged(filesystem={"fstype": "ext4", "mountPoint": "/srv"})
    assert (
        raid.status["filesystem"]["uuid"] == first_uuid and raid.status["filesystem"]["mountPoint"] == "/srv"
    )
    assert "mountOptions" not in raid.status["filesystem"]
    await raid.converged(filesystem={"fstype": "xfs", "mountPoint": "/srv"})
    assert raid.status["filesystem"]["fstype"] == "xfs" and raid.status["filesystem"]["uuid"] != first_uuid
    outcome = await raid.converged(filesystem=None)
    assert raid.maas()["virtual_device"]["filesystem"] is None and "filesystem" not in raid.status


async def test_same_name_is_a_conflict_and_nothing_changes(client: MaasClient, sim: MaasSim) -> None:
    await client.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    raid = new(client, sim, raidName="md0", devices=["sdd", "sde"])
    outcome = await raid.apply()
    assert not outcome.ready and outcome.reason == "NameConflict"
    assert "RAID md0 already exists on machine node-1 (abc123)" in outcome.message
    assert "spec.adopt" in outcome.message and writes(sim) == {}
    assert (await raid.delete()).ready and writes(sim) == {}  # deleting the object leaves it alone
    assert [r.name for r in await client.list_raids("abc123")] == ["md0"]


async def test_adoption_on_request_converges_the_existing_array(client: MaasClient, sim: MaasSim) -> None:
    existing = await client.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    raid = new(client, sim, raidName="md0", devices=["sdb", "sdc", "sdd"], adopt=True)
    outcome = await raid.apply()
    assert outcome.ready and outcome.actions == [
        "adopted existing RAID md0 on node-1 (abc123)",
        "RAID md0: added sdd",
    ]
    assert raid.status["raidId"] == existing.id
    raid.spec["adopt"] = False  # recorded in status now
    await raid.converged()
    assert (await raid.delete()).ready and await client.list_raids("abc123") == []


async def test_adopting_another_level_is_refused(client: MaasClient, sim: MaasSim) -> None:
    await client.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    raid = new(client, sim, raidName="md0", level="raid-5", devices=["sdb", "sdc", "sdd"], adopt=True)
    outcome = await raid.apply()
    assert outcome.reason == "LevelMismatch" and "is raid-1 but spec.level is raid-5" in outcome.message
    assert writes(sim) == {}


async def test_a_deployed_machine_waits_then_converges_when_ready(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, machine={"systemId": "def456"})
    outcome = await raid.apply()
    # A machine resting in another state is looked at every few seconds (Wait.WAIT).
    assert not outcome.ready and outcome.reason == "MachineNotReady" and retry_seconds(outcome) == 5
    assert "machine node-2 (def456) is Deployed" in outcome.message and writes(sim) == {}
    assert raid.status["expectedSize"] == TB - 131072 and raid.status["machineStatus"] == "Deployed"
    sim.set_status("def456", "Ready")
    await raid.converged()
    sim.set_status("def456", "Deployed")
    assert (await raid.apply()).ready  # in place: nothing to change, nothing to wait for
    deleting = await raid.delete()
    assert deleting.reason == "MachineNotReady" and "deletionPolicy: Retain" in deleting.message


@pytest.mark.parametrize(
    ("devices", "reason", "text"),
    [
        (["sdb", "sdz"], "DeviceNotFound", "device sdz not found on machine node-1 (abc123)"),
        (["sdb", "sda"], "DeviceIsBootDisk", "sda is the machine's boot disk"),
        (["sdb", "sdg"], "DeviceInUse", "sdg is in use (ext4 formatted filesystem mounted at /srv)"),
    ],
)
async def test_unusable_devices_are_named(
    client: MaasClient, sim: MaasSim, devices: list[str], reason: str, text: str
) -> None:
    await client.format_block_device("abc123", 7, "ext4")
    await client.mount_block_device("abc123", 7, "/srv")
    outcome = await new(client, sim, devices=devices).apply()
    assert (outcome.reason, retry_seconds(outcome)) == (reason, 30) and text in outcome.message
    assert writes(sim) == {}


async def test_a_smaller_new_member_is_refused(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim)
    await raid.converged()
    outcome = await raid.apply(spareDevices=["sdg"])
    assert outcome.reason == "DeviceTooSmall" and outcome.message.startswith("sdg (500.0 GB) is smaller")


async def test_no_duplicate_after_a_crash_before_status_was_written(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, raidName="md0")
    await raid.apply()
    raid.status.clear()  # the operator died before writing status
    await raid.converged(raidName="md1")  # ... and the user renamed it meanwhile
    raids = await client.list_raids("abc123")
    assert [(r.name, r.uuid) for r in raids] == [("md1", raid.uid)]


async def test_delete_and_retain(client: MaasClient, sim: MaasSim) -> None:
    kept = new(client, sim, raidName="kept", deletionPolicy="Retain")
    gone = new(client, sim, raidName="gone", devices=["sdd", "sde"])
    await kept.converged()
    await gone.converged()
    outcome = await gone.delete()
    assert outcome.ready and outcome.actions == ["deleted RAID gone on node-1 (abc123)"]
    outcome = await kept.delete()
    assert outcome.ready and outcome.actions == ["kept RAID kept on node-1 (abc123) (deletionPolicy Retain)"]
    assert [r.name for r in await client.list_raids("abc123")] == ["kept"]
    assert (await gone.delete()).actions == []  # already gone: nothing to do


async def test_outage_is_backend_unavailable(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim)
    sim.faults.down = True
    with pytest.raises(BackendUnavailable):
        await raid.apply()
    sim.faults.down = False
    await raid.converged()
