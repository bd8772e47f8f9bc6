"""MachineRaid end to end: the operator against the real API server and the MAAS simulator,
driven with kubectl. Each test adds its own machines to the shared simulator."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from stratum.sim.maas import MaasSim
from stratum.sim.maas.render import raid_json
from support.kube import Kube, KubectlError
from support.operator import OperatorProcess

MAAS = "maas.stratum.dev/v1alpha1"
TB = 10**12
GB = 10**9
_ids = itertools.count(1)


def new_machine(
    sim: MaasSim,
    *disks: int,
    status: str = "Ready",
    partitions: list[dict[str, Any]] | None = None,
) -> str:
    """A fresh machine: boot disk sda, then sdb, sdc, ... of the given sizes. Returns its system id."""
    n = next(_ids)
    devices: list[dict[str, Any]] = [{"name": "sda", "size": 500 * GB, "bootDisk": True}]
    for i, size in enumerate(disks):
        disk: dict[str, Any] = {"name": f"sd{chr(ord('b') + i)}", "size": size}
        if partitions is not None:
            disk["partitions"] = partitions
        devices.append(disk)
    system_id = f"mre2e{n}"
    sim.add_machine(
        {"systemId": system_id, "hostname": f"mraid-e2e-{n}", "status": status, "blockDevices": devices}
    )
    return system_id


def raid(name: str, system_id: str, **spec: Any) -> dict[str, Any]:
    base = {"machine": {"systemId": system_id}, "level": "raid-1", "devices": ["sdb", "sdc"]}
    return {"apiVersion": MAAS, "kind": "MachineRaid", "metadata": {"name": name}, "spec": {**base, **spec}}


def maas_raids(sim: MaasSim, system_id: str) -> dict[str, dict[str, Any]]:
    with sim.state.lock:
        machine = sim.machine(system_id)
        return {r.name: raid_json(machine, r) for r in machine.storage.raids.values()}


def names(members: list[dict[str, Any]]) -> list[str]:
    return sorted(m.get("name") or m["path"].rsplit("/", 1)[1] for m in members)


def converged(kube: Kube, name: str) -> dict[str, Any]:
    """Wait until the current generation is reconciled and Ready; the object."""
    generation = kube.get("mraid", name)["metadata"]["generation"]
    kube.wait("mraid", name, f"jsonpath={{.status.observedGeneration}}={generation}")
    kube.wait("mraid", name)
    return kube.get("mraid", name)


def idle_drift_writes_nothing(sim: MaasSim, system_id: str) -> None:
    """Watch two drift passes read the machine's RAIDs; none may write to MAAS."""
    before = dict(sim.stats.requests)
    reads = f"GET /MAAS/api/2.0/nodes/{system_id}/raids/"
    deadline = time.monotonic() + 30
    while sim.stats.requests[reads] - before.get(reads, 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sim.stats.requests[reads] - before.get(reads, 0) >= 2, "no drift pass ran"
    writes = [
        k
        for k, n in sim.stats.requests.items()
        if n != before.get(k, 0)
        and k.split(" ", 1)[0] in ("POST", "PUT", "DELETE")
        and f"/nodes/{system_id}/" in k
    ]
    assert writes == []


@pytest.fixture
def cleanup(kube: Kube) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    for name in created:
        kube.delete("mraid", name, wait=False)


def test_raid1_format_mount_rename_grow_delete(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim, cleanup: list[str]
) -> None:
    sid = new_machine(maas_sim, TB, TB, TB)
    cleanup.append("e2e-mirror")
    kube.apply(
        raid(
            "e2e-mirror",
            sid,
            raidName="md0",
            filesystem={"fstype": "ext4", "mountPoint": "/data", "mountOptions": "noatime"},
        )
    )
    obj = converged(kube, "e2e-mirror")
    status = obj["status"]
    assert status["raidName"] == "md0" and status["systemId"] == sid and status["machineStatus"] == "Ready"
    assert status["size"] == status["expectedSize"] == TB - 131072
    assert [d["name"] for d in status["devices"]] == ["sdb", "sdc"]
    assert status["filesystem"]["fstype"] == "ext4" and status["filesystem"]["mountPoint"] == "/data"
    md0 = maas_raids(maas_sim, sid)["md0"]
    assert md0["uuid"] == obj["metadata"]["uid"] and md0["id"] == status["raidId"]
    assert md0["virtual_device"]["filesystem"]["mount_options"] == "noatime"
    events = kube.run(
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=e2e-mirror",
        "-o",
        "jsonpath={.items[*].message}",
    ).stdout
    assert "created raid-1 RAID md0" in events and "formatted md0 as ext4" in events

    # Rename, grow by a device and move the mount point in one change.
    kube.patch(
        "mraid",
        "e2e-mirror",
        {
            "spec": {
                "raidName": "fast",
                "devices": ["sdb", "sdc", "sdd"],
                "filesystem": {"fstype": "ext4", "mountPoint": "/srv"},
            }
        },
    )
    status = converged(kube, "e2e-mirror")["status"]
    raids = maas_raids(maas_sim, sid)
    assert list(raids) == ["fast"] and raids["fast"]["id"] == status["raidId"]
    assert names(raids["fast"]["devices"]) == ["sdb", "sdc", "sdd"]
    assert raids["fast"]["virtual_device"]["filesystem"]["mount_point"] == "/srv"
    assert status["raidName"] == "fast" and status["filesystem"]["mountPoint"] == "/srv"

    kube.delete("mraid", "e2e-mirror")
    kube.wait_gone("mraid", "e2e-mirror")
    assert maas_raids(maas_sim, sid) == {}


def test_raid5_with_spare_from_partitions_swap_and_retain(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim, cleanup: list[str]
) -> None:
    sid = new_machine(maas_sim, TB, TB, TB, TB, partitions=[{"size": 400 * GB}, {}])
    cleanup.append("e2e-bulk")
    kube.apply(
        raid(
            "e2e-bulk",
            sid,
            level="raid-5",
            devices=["sdb-part2", "sdc-part2", "sdd-part2"],
            spareDevices=["sde-part2"],
            deletionPolicy="Retain",
        )
    )
    status = converged(kube, "e2e-bulk")["status"]
    assert {d["type"] for d in status["devices"] + status["spareDevices"]} == {"partition"}
    assert status["size"] == status["expectedSize"]
    bulk = maas_raids(maas_sim, sid)["e2e-bulk"]
    assert bulk["level"] == "raid-5" and names(bulk["spare_devices"]) == ["sde-part2"]

    # Swap the spare for an active member: MAAS needs a removal and an addition per move.
    kube.patch(
        "mraid",
        "e2e-bulk",
        {"spec": {"devices": ["sdb-part2", "sdc-part2", "sde-part2"], "spareDevices": ["sdd-part2"]}},
    )
    converged(kube, "e2e-bulk")
    bulk = maas_raids(maas_sim, sid)["e2e-bulk"]
    assert names(bulk["devices"]) == ["sdb-part2", "sdc-part2", "sde-part2"]
    assert names(bulk["spare_devices"]) == ["sdd-part2"]

    # The level cannot change: the API server refuses it and nothing happens in MAAS.
    with pytest.raises(KubectlError) as refused:
        kube.patch(
            "mraid",
            "e2e-bulk",
            {"spec": {"level": "raid-6", "devices": ["sdb-part2", "sdc-part2", "sde-part2", "sdd-part2"]}},
        )
    assert "level" in refused.value.stderr and "immutable" in refused.value.stderr.lower()
    assert maas_raids(maas_sim, sid)["e2e-bulk"]["level"] == "raid-5"

    kube.delete("mraid", "e2e-bulk")
    kube.wait_gone("mraid", "e2e-bulk")
    assert list(maas_raids(maas_sim, sid)) == ["e2e-bulk"]  # Retain keeps it

    # A new object with the same name does not take it over silently.
    cleanup.append("e2e-bulk2")
    kube.apply(
        raid(
            "e2e-bulk2",
            sid,
            raidName="e2e-bulk",
            level="raid-5",
            devices=["sdb-part1", "sdc-part1", "sdd-part1"],
        )
    )
    cond = kube.wait_for_reason("mraid", "e2e-bulk2", "NameConflict")
    assert "spec.adopt" in cond["message"] and cond["status"] == "False"


def test_deployed_machine_waits_then_converges(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim, cleanup: list[str]
) -> None:
    sid = new_machine(maas_sim, TB, TB, status="Deployed")
    cleanup.append("e2e-deployed")
    kube.apply(raid("e2e-deployed", sid, filesystem={"fstype": "xfs", "mountPoint": "/data"}))
    cond = kube.wait_for_reason("mraid", "e2e-deployed", "MachineNotReady")
    assert cond["status"] == "False" and "is Deployed" in cond["message"]
    assert maas_raids(maas_sim, sid) == {}
    maas_sim.set_status(sid, "Ready")
    status = converged(kube, "e2e-deployed")["status"]
    assert status["machineStatus"] == "Ready" and status["filesystem"]["fstype"] == "xfs"
    assert list(maas_raids(maas_sim, sid)) == ["e2e-deployed"]


def test_unusable_device_is_named(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim, cleanup: list[str]
) -> None:
    sid = new_machine(maas_sim, TB, TB)
    cleanup.append("e2e-missing")
    kube.apply(raid("e2e-missing", sid, devices=["sdb", "sdq"]))
    cond = kube.wait_for_reason("mraid", "e2e-missing", "DeviceNotFound")
    assert "device sdq not found" in cond["message"]
    kube.patch("mraid", "e2e-missing", {"spec": {"devices": ["sdb", "sdc"]}})
    converged(kube, "e2e-missing")
    idle_drift_writes_nothing(maas_sim, sid)


def test_maas_outage_in_the_middle(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim, cleanup: list[str]
) -> None:
    sid = new_machine(maas_sim, TB, TB, TB)
    cleanup.append("e2e-outage")
    kube.apply(raid("e2e-outage", sid))
    converged(kube, "e2e-outage")
    maas_sim.faults.down = True
    try:
        kube.patch("mraid", "e2e-outage", {"spec": {"spareDevices": ["sdd"]}})
        cond = kube.wait_for_reason("mraid", "e2e-outage", "BackendUnavailable")
        assert "MAAS" in cond["message"] and "retrying" in cond["message"]
    finally:
        maas_sim.faults.down = False
    status = converged(kube, "e2e-outage")["status"]
    assert [d["name"] for d in status["spareDevices"]] == ["sdd"]
    assert len(maas_raids(maas_sim, sid)) == 1
