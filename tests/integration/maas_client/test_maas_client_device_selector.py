"""A MachineRaid with deviceSelector against the MAAS simulator: the disks chosen, pinned by serial
in status, kept across a rename and a commissioning wipe (never chosen again), a machine with too
few disks stalled with nothing written, and a machine that is not Ready waiting."""

from __future__ import annotations

from typing import Any

import pytest
from maas_client_helpers import API_KEY, GB, Raid, writes

from stratum.clients.maas import MaasClient
from stratum.sim.maas import MaasSim
from stratum.sim.maas.simroutes import rename_disks


def ssd(name: str, gb: int, serial: str, *, rotary: bool = False) -> dict[str, Any]:
    return {"name": name, "size": gb * GB, "serial": serial, "rotary": rotary}


@pytest.fixture
def seed() -> dict[str, Any]:
    boot = {"name": "sda", "size": 240 * GB, "bootDisk": True, "rotary": False}
    return {
        "apiKeys": [API_KEY],
        "lifecycle": {"commissionSeconds": 0},
        "machines": [
            {
                "systemId": "abc123",
                "hostname": "node-1",
                "status": "Ready",
                "blockDevices": [
                    boot,
                    ssd("sdb", 1920, "B"),
                    ssd("sdc", 960, "C"),
                    ssd("sdd", 1000, "D", rotary=True),
                    ssd("sde", 960, "E"),
                ],
            },
            {
                "systemId": "def456",
                "hostname": "node-2",
                "status": "Deployed",
                "blockDevices": [boot, ssd("sdb", 960, "X")],
            },
        ],
    }


def selected(client: MaasClient, sim: MaasSim, host: str = "node-1", **selector: Any) -> Raid:
    body = {
        "machine": {"hostname": host},
        "level": "raid-1",
        "deviceSelector": {"count": 2, "tags": ["ssd"], **selector},
    }
    return Raid(client, sim, body)


async def test_chosen_once_and_pinned(client: MaasClient, sim: MaasSim) -> None:
    raid = selected(client, sim)
    await raid.converged()
    assert sorted(m["serial"] for m in raid.maas()["devices"]) == ["C", "E"]  # the 960 GB SSDs
    assert [(d["ref"], d["name"], d["serial"]) for d in raid.status["devices"]] == [
        ("deviceSelector[0]", "sdc", "C"),
        ("deviceSelector[1]", "sde", "E"),
    ]
    # A rename that makes other names look like the smallest: nothing is chosen again.
    with sim.state.lock:
        rename_disks(sim.state.machines["abc123"], {"sdb": "sdc", "sdc": "sdb"})
    outcome = await raid.apply()
    assert outcome.ready and outcome.actions == [] and writes(sim) == {}
    # Commissioning wipes the array; it comes back on the same two disks.
    await client.request("POST", "machines/abc123/", op="commission")
    outcome = await raid.apply()
    assert outcome.ready, outcome.message
    assert sorted(m["serial"] for m in raid.maas()["devices"]) == ["C", "E"]


async def test_too_few_disks_stalls_with_what_the_machine_has(client: MaasClient, sim: MaasSim) -> None:
    raid = selected(client, sim, minSize="1T")
    outcome = await raid.apply()
    assert (outcome.ready, outcome.reason, outcome.reason.stalls) == (False, "NotEnoughDevices", True)
    assert "the machine has 1 (sdb (1.9 TB, ssd))" in outcome.message
    assert "sdd (1.0 TB, rotary" in outcome.message and writes(sim) == {}


async def test_a_machine_that_is_not_ready_waits(client: MaasClient, sim: MaasSim) -> None:
    outcome = await selected(client, sim, host="node-2").apply()
    assert (outcome.ready, outcome.reason) == (False, "MachineNotReady")
    assert "choosing disks by deviceSelector" in outcome.message and writes(sim) == {}
