"""The MAAS client against the simulator: auth, both body encodings, ops, typed errors, retries."""

from __future__ import annotations

import pytest
from maas_client_helpers import TB, make_client

from stratum.clients.errors import BackendUnavailable
from stratum.clients.maas import (
    MaasClient,
    MaasNotFound,
    MaasStateConflict,
    MaasUnauthorized,
    MaasValidationError,
)
from stratum.reconcile import reasons
from stratum.sim.maas import MaasSim


async def test_machines_by_system_id_and_hostname(client: MaasClient) -> None:
    machine = await client.get_machine("abc123")
    assert machine is not None and machine.hostname == "node-1" and machine.ready
    assert machine.boot_disk is not None and machine.boot_disk.name == "sda"
    assert await client.get_machine("nope00") is None
    found = await client.list_machines(hostname="node-2")
    assert [(m.system_id, m.status_name, m.ready) for m in found] == [("def456", "Deployed", False)]


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
async def test_raid_lifecycle_with_repeated_keys(sim: MaasSim, multipart: bool) -> None:
    async with make_client(sim, multipart=multipart) as client:
        devices = {d.name: d for d in await client.list_block_devices("abc123")}
        raid = await client.create_raid(
            "abc123",
            name="md0",
            level="raid-5",
            uuid="0f5c2a4e-8d3b-4c1a-9e7f-2b6d8a1c3e5f",
            block_devices=[devices["sdb"].id, devices["sdc"].id, devices["sdd"].id],
            spare_devices=[devices["sde"].id],
        )
        assert raid.name == "md0" and raid.level == "raid-5"
        assert raid.uuid == "0f5c2a4e-8d3b-4c1a-9e7f-2b6d8a1c3e5f"
        assert sorted(d.display_name for d in raid.devices) == ["sdb", "sdc", "sdd"]
        assert [d.display_name for d in raid.spare_devices] == ["sde"]
        assert raid.size_bytes == 2 * TB - 131072
        assert raid.virtual_device is not None and raid.virtual_device.name == "md0"

        raid = await client.update_raid(
            "abc123",
            raid.id,
            remove_spare_devices=[devices["sde"].id],
            add_block_devices=[devices["sdf"].id],
            name="data",
        )
        assert raid.name == "data"
        assert sorted(d.display_name for d in raid.devices) == ["sdb", "sdc", "sdd", "sdf"]
        assert raid.spare_devices == []

        md = raid.virtual_device.id
        formatted = await client.format_block_device("abc123", md, "ext4")
        assert formatted.filesystem is not None and formatted.filesystem.fstype == "ext4"
        mounted = await client.mount_block_device("abc123", md, "/data", mount_options="noatime")
        assert mounted.filesystem is not None
        assert (mounted.filesystem.mount_point, mounted.filesystem.mount_options) == ("/data", "noatime")
        await client.unmount_block_device("abc123", md)
        await client.unformat_block_device("abc123", md)

        assert [r.id for r in await client.list_raids("abc123")] == [raid.id]
        assert await client.delete_raid("abc123", raid.id) is True
        assert await client.delete_raid("abc123", raid.id) is False
        assert await client.get_raid("abc123", raid.id) is None


async def test_raid10_float_size_reads_as_whole_bytes(client: MaasClient) -> None:
    raid = await client.create_raid(
        "abc123", name="md10", level="raid-10", block_devices=["sdb", "sdc", "sdd"]
    )
    assert isinstance(raid.size, float)
    assert raid.size_bytes == 3 * TB // 2 - 131072


async def test_field_map_errors_are_typed(client: MaasClient) -> None:
    with pytest.raises(MaasValidationError) as caught:
        await client.create_raid("abc123", name="md0", level="raid-5", block_devices=["sdb", "sdc"])
    assert caught.value.status == 400
    assert caught.value.errors == {
        "__all__": ["RAID level 5 must have at least 3 raid devices and any number of spares."]
    }
    assert reasons.for_error(caught.value) == "Invalid"
    with pytest.raises(MaasValidationError) as caught:
        await client.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "nosuch"])
    assert "block_devices" in caught.value.errors
    assert "block_devices: Select a valid choice." in caught.value.message


async def test_plain_text_errors_are_typed(client: MaasClient) -> None:
    with pytest.raises(MaasValidationError) as caught:
        await client.unformat_block_device("abc123", 2)
    assert caught.value.errors == {"__all__": ["Block device is not formatted."]}
    with pytest.raises(MaasStateConflict) as conflict:
        await client.create_raid("def456", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert conflict.value.status == 409 and reasons.for_error(conflict.value) == "MachineNotReady"
    assert "Cannot create RAID because the machine is not Ready." in conflict.value.message
    with pytest.raises(MaasNotFound):
        await client.list_block_devices("nope00")


async def test_bad_key_is_unauthorized_without_leaking_the_secret(sim: MaasSim) -> None:
    async with make_client(sim, key="ck1:tk1:wrongsecret") as client:
        with pytest.raises(MaasUnauthorized) as caught:
            await client.list_machines()
    assert caught.value.status == 401 and "MAAS_API_KEY" in caught.value.message
    assert "wrongsecret" not in caught.value.message


async def test_url_without_trailing_slash(sim: MaasSim) -> None:
    async with make_client(sim, url=sim.maas_url.rstrip("/")) as client:
        assert (await client.version())["capabilities"]


async def test_every_request_gets_a_fresh_nonce(client: MaasClient) -> None:
    for _ in range(30):  # the simulator refuses a reused nonce
        assert await client.get_machine("abc123") is not None


async def test_server_faults_are_retried_then_reported(sim: MaasSim, client: MaasClient) -> None:
    sim.faults.error_rate = 1.0
    sim.stats.requests.clear()
    with pytest.raises(BackendUnavailable) as caught:
        await client.list_raids("abc123")
    assert "HTTP 500" in caught.value.message
    assert sim.stats.requests["GET /MAAS/api/2.0/nodes/abc123/raids/"] == client.retry.attempts


async def test_outage_fails_reads_after_retries_and_writes_at_once(sim: MaasSim, client: MaasClient) -> None:
    sim.faults.down = True
    sim.stats.requests.clear()
    with pytest.raises(BackendUnavailable):
        await client.list_raids("abc123")
    assert sim.stats.requests["GET /MAAS/api/2.0/nodes/abc123/raids/"] == client.retry.attempts
    with pytest.raises(BackendUnavailable) as caught:
        await client.create_raid("abc123", name="md0", level="raid-1", block_devices=["sdb", "sdc"])
    assert "may or may not" in caught.value.message
    assert sim.stats.requests["POST /MAAS/api/2.0/nodes/abc123/raids/"] == 1
    sim.faults.down = False
    assert await client.list_raids("abc123") == []
