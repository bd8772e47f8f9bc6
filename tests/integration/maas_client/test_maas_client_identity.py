"""The MachineRaid reconcile against the MAAS simulator as MAAS really behaves: disks by serial,
kernel renames, commissioning wiping the storage, Stratum's own partitions (also across a crash),
readyTag, spec.uuid ownership, a non-administrator's key and a private-CA https region."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from maas_client_helpers import API_KEY, TB, Raid, make_client, names, new, writes

from stratum.clients.errors import BackendUnavailable
from stratum.clients.maas import MaasClient, MaasConfig
from stratum.clients.maas.config import ApiKey, MaasConfigError
from stratum.reconcile.maas.identity import partition_uuid
from stratum.reconcile.maas.readytag import Sibling
from stratum.sim.maas import MaasSim
from stratum.sim.maas.simroutes import rename_disks
from support.pki import Authority

USER_KEY = "ck2:tk2:ts2"


def server_context(ca: Authority) -> ssl.SSLContext:
    """The region's side of https: a certificate for 127.0.0.1 issued by the private CA."""
    issued = ca.issue("maas", server=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(issued.cert), str(issued.key))
    return context


def disks(*serials: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"name": "sda", "size": 500 * 10**9, "bootDisk": True}]
    out += [{"name": f"sd{chr(ord('b') + i)}", "size": TB, "serial": s} for i, s in enumerate(serials)]
    return out


@pytest.fixture
def seed() -> dict[str, Any]:
    return {
        "apiKeys": [API_KEY, {"key": USER_KEY, "admin": False}],
        "lifecycle": {"commissionSeconds": 0, "releaseSeconds": 0},
        "machines": [
            {"systemId": "abc123", "hostname": "node-1", "blockDevices": disks("S-B", "S-C", "S-D", "S-E")}
        ],
    }


def rename(sim: MaasSim, renames: dict[str, str]) -> None:
    """What `POST /_sim/machines/abc123/rename-disks` does: new kernel names, same disks."""
    with sim.state.lock:
        rename_disks(sim.state.machines["abc123"], renames)


async def commission(client: MaasClient) -> None:
    """Through the real API; commissioning clears the storage layout."""
    await client.request("POST", "machines/abc123/", op="commission")


async def test_serial_entries_and_a_rename_that_changes_nothing(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, devices=["serial:S-B", "sdc"])
    await raid.converged()
    assert [(d["ref"], d["name"], d["serial"]) for d in raid.status["devices"]] == [
        ("serial:S-B", "sdb", "S-B"),
        ("sdc", "sdc", "S-C"),
    ]
    # The kernel swaps sdc (a member) and sdd (free): by name, "sdc" is now the free disk.
    rename(sim, {"sdc": "sdd", "sdd": "sdc"})
    outcome = await raid.apply()
    assert outcome.ready and outcome.actions == [] and writes(sim) == {}
    # An idle pass costs three GETs: the machine, its block devices, its RAIDs.
    assert (
        sorted(sim.stats.requests)
        == [
            "GET /MAAS/api/2.0/machines/",
            "GET /MAAS/api/2.0/nodes/abc123/blockdevices/",
            "GET /MAAS/api/2.0/nodes/abc123/raids/",
        ]
        and sum(sim.stats.requests.values()) == 3
    )
    assert names(raid.maas()["devices"]) == ["sdb", "sdd"]
    assert [(d["ref"], d["name"], d["serial"]) for d in raid.status["devices"]] == [
        ("serial:S-B", "sdb", "S-B"),
        ("sdc", "sdd", "S-C"),
    ]


async def test_commissioning_wipes_and_the_array_comes_back_on_the_same_disks(
    client: MaasClient, sim: MaasSim
) -> None:
    raid = new(client, sim, devices=["sdb", "sdc"], filesystem={"fstype": "ext4", "mountPoint": "/data"})
    await raid.converged()
    first_id = raid.status["raidId"]
    await commission(client)
    rename(sim, {"sdb": "sde", "sde": "sdb"})
    assert await client.list_raids("abc123") == []
    outcome = await raid.converged()
    assert "again (the array had been wiped)" in outcome.actions[0]
    assert raid.status["raidId"] != first_id
    assert sorted(d["serial"] for d in raid.maas()["devices"]) == ["S-B", "S-C"]
    assert raid.maas()["virtual_device"]["filesystem"]["mount_point"] == "/data"


async def test_a_wipe_and_a_replaced_disk_stall_and_create_nothing(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, devices=["sdb", "sdc"])
    await raid.converged()
    recorded = raid.status["devices"]
    await commission(client)
    # sdb was replaced: MAAS now reports another serial for that slot.
    await client.request("PUT", "nodes/abc123/blockdevices/sdb/", form=[("serial", "S-NEW")])
    outcome = await raid.apply()
    assert not outcome.ready and outcome.reason == "DevicesChanged"
    assert (
        "the disk with serial S-B (then named sdb)" in outcome.message
        and "sdb (serial S-NEW)" in outcome.message
    )
    assert writes(sim) == {} and await client.list_raids("abc123") == []
    assert raid.status["devices"] == recorded  # the pins stay for when the disk comes back


async def test_partitions_are_created_once_even_after_a_crash(client: MaasClient, sim: MaasSim) -> None:
    spec = {
        "devices": [],
        "partitions": [{"disk": "sdb", "size": "100G"}, {"disk": "serial:S-C", "size": "100G"}],
    }
    raid = new(client, sim, **spec)
    crashed = Raid(client, sim, dict(raid.spec), uid=raid.uid)
    # A pass that created the partitions and the array, whose status was never written.
    assert (await crashed.apply()).ready
    assert sum(v for k, v in writes(sim).items() if "/partitions/" in k) == 2
    outcome = await raid.converged()
    assert all("partition" not in a for a in outcome.actions) and writes(sim) == {}
    uuids = sorted(d["partitionUuid"] for d in raid.status["devices"])
    assert uuids == sorted(partition_uuid(raid.uid, i) for i in range(2))
    parts = [p for d in await client.list_block_devices("abc123") for p in d.partitions]
    assert len(parts) == 2 and all(p.size == 100 * 10**9 // 2**22 * 2**22 for p in parts)
    # A wipe takes the partitions too: they come back on the same disks, with the same markers.
    await commission(client)
    await raid.converged()
    markers = {partition_uuid(raid.uid, i) for i in range(2)}
    devices = await client.list_block_devices("abc123")
    parts = [(d.serial, p.uuid) for d in devices for p in d.partitions if p.uuid in markers]
    assert sorted(parts) == sorted(
        zip(["S-B", "S-C"], [partition_uuid(raid.uid, i) for i in range(2)], strict=True)
    )
    deleted = await raid.delete()
    assert deleted.ready and sum("deleted partition" in a for a in deleted.actions) == 2
    left = [p.uuid for d in await client.list_block_devices("abc123") for p in d.partitions]
    assert left and markers.isdisjoint(left)  # only the boot disk's layout is left


async def test_ready_tag_follows_every_array_naming_it(client: MaasClient, sim: MaasSim) -> None:
    raid = new(client, sim, readyTag="storage-ready")
    raid.siblings = [Sibling("other", "other", False)]
    outcome = await raid.converged()
    assert await tags_of(client, "abc123") == []
    raid.siblings = [Sibling("other", "other", True)]
    outcome = await raid.apply()
    assert "created MAAS tag storage-ready" in outcome.actions
    assert await tags_of(client, "abc123") == ["storage-ready"]
    assert raid.status["readyTag"] == "storage-ready"
    await raid.converged()  # tag in place: no write
    deleted = await raid.delete()
    assert any("removed tag storage-ready" in a for a in deleted.actions)
    assert await tags_of(client, "abc123") == []


async def test_spec_uuid_is_set_after_the_array_is_recorded(client: MaasClient, sim: MaasSim) -> None:
    wanted = "8e4a4c4e-1b2d-4e3f-a4b5-c6d7e8f90a1b"
    raid = new(client, sim, uuid=wanted)
    first = await raid.apply()
    assert first.ready and first.progressing and raid.maas()["uuid"] == raid.uid
    assert "gets spec.uuid on the next pass" in first.message
    await raid.converged()
    assert raid.maas()["uuid"] == wanted
    # An array someone else made with that uuid is not ours without adopt.
    other = new(client, sim, uuid=wanted, raidName="mine", devices=["sdd", "sde"])
    outcome = await other.apply()
    assert outcome.reason == "NameConflict" and f"with uuid {wanted}" in outcome.message
    assert writes(sim) == {}


async def test_a_non_administrator_key_is_forbidden(sim: MaasSim) -> None:
    async with make_client(sim, key=USER_KEY) as user:
        outcome = await new(user, sim).apply()
    assert not outcome.ready and outcome.reason == "Forbidden"
    assert "an administrator's API key is needed" in outcome.message


async def test_an_https_region_with_a_private_ca(tmp_path: Path, seed: dict[str, Any]) -> None:
    ca = Authority(tmp_path / "ca")
    with MaasSim(seed, ssl_ctx=server_context(ca)) as sim:
        assert sim.maas_url.startswith("https://")
        config = MaasConfig.from_env(
            {"MAAS_API_URL": sim.maas_url, "MAAS_API_KEY": API_KEY, "MAAS_CA_CERT": str(ca.cert)}
        )
        async with MaasClient(config) as client:
            assert (await client.get_machine("abc123")) is not None
            await new(client, sim).converged()
        untrusted = MaasConfig(url=sim.maas_url, api_key=ApiKey.parse(API_KEY))
        async with MaasClient(untrusted) as client:
            with pytest.raises(
                BackendUnavailable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"
            ):
                await client.get_machine("abc123")
    with pytest.raises(MaasConfigError, match="MAAS_CA_CERT"):
        MaasConfig.from_env(
            {"MAAS_API_URL": "https://m/MAAS/", "MAAS_API_KEY": API_KEY, "MAAS_CA_CERT": "/nope"}
        )


async def tags_of(client: MaasClient, system_id: str) -> list[str]:
    machine = await client.get_machine(system_id)
    assert machine is not None, f"machine {system_id} is gone"
    return list(machine.tag_names)
