"""The operator against the real API server and the LINSTOR simulator, driven with kubectl."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from stratum.sim.linstor import LinstorSim
from support.kube import Kube
from support.operator import OperatorProcess

LINSTOR = "linstor.stratum.dev/v1alpha1"
OWNER = "Aux/stratum.dev/owner"


def group(name: str, **spec: Any) -> dict[str, Any]:
    base = {"placement": {"placeCount": 2, "storagePools": ["thin"]}, "volumeGroups": [{"properties": {}}]}
    return {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def resource(name: str, rg: str, *sizes: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": name},
        "spec": {"resourceGroup": rg, "volumes": [{"size": s} for s in sizes], **spec},
    }


def snapshot(name: str, rsc: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Snapshot",
        "metadata": {"name": name},
        "spec": {"resource": rsc, **spec},
    }


@pytest.fixture
def rest(linstor_sim: LinstorSim) -> httpx.Client:
    return httpx.Client(base_url=linstor_sim.url, timeout=10)


def rd_count(rest: httpx.Client, name: str) -> int:
    return sum(1 for rd in rest.get("/v1/resource-definitions").json() if rd["name"].lower() == name.lower())


def test_group_resource_resize_snapshot_restore_rollback_delete(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply(
        [
            group("flow-rg", properties={"DrbdOptions/Net/protocol": "C"}),
            resource("flow-r1", "flow-rg", "1Gi", diskfulNodes=["n1"], properties={"Aux/app": "db"}),
        ]
    )
    kube.wait("lrg", "flow-rg")
    kube.wait("lr", "flow-r1")
    rg = rest.get("/v1/resource-groups/flow-rg").json()
    assert rg["select_filter"]["place_count"] == 2
    assert rg["props"]["DrbdOptions/Net/protocol"] == "C"
    assert rg["props"][OWNER] == kube.get("lrg", "flow-rg")["metadata"]["uid"]
    status = kube.get("lr", "flow-r1")["status"]
    assert status["volumes"][0]["size"] == "1Gi"
    assert status["volumes"][0]["devicePath"].startswith("/dev/drbd")
    assert status["volumes"][0]["minor"] >= 1000
    diskful = {r["node"] for r in status["replicas"] if not r["diskless"]}
    assert "n1" in diskful and len(diskful) == 2
    assert rest.get("/v1/resource-definitions/flow-r1").json()["props"]["Aux/app"] == "db"

    # Grow: the volume definition follows the spec.
    kube.patch("lr", "flow-r1", {"spec": {"volumes": [{"size": "2Gi"}]}})
    kube.wait("lr", "flow-r1", "jsonpath={.status.volumes[0].size}=2Gi")
    vd = rest.get("/v1/resource-definitions/flow-r1/volume-definitions/0").json()
    assert vd["size_kib"] == 2 * 1024 * 1024

    # Snapshot, restore into a new resource.
    kube.apply(snapshot("flow-s1", "flow-r1"))
    kube.wait("lsnap", "flow-s1")
    snap = kube.get("lsnap", "flow-s1")["status"]
    assert snap["resourceLinstorName"] == "flow-r1"
    assert snap["volumes"] == [{"number": 0, "size": "2Gi"}]
    assert snap["createdAt"].endswith("Z")
    assert sorted(snap["nodes"]) == sorted(diskful)
    kube.apply(resource("flow-restored", "flow-rg", "2Gi", restoreFrom={"snapshot": "flow-s1"}))
    kube.wait("lr", "flow-restored")
    restored = kube.get("lr", "flow-restored")["status"]
    assert restored["volumes"][0]["size"] == "2Gi"
    assert len([r for r in restored["replicas"] if not r["diskless"]]) == 2

    # One-shot rollback, done once per requestId.
    kube.patch("lr", "flow-r1", {"spec": {"rollback": {"snapshot": "flow-s1", "requestId": "1"}}})
    kube.wait("lr", "flow-r1", "jsonpath={.status.lastRollback.requestId}=1")
    first = kube.get("lr", "flow-r1")["status"]["lastRollback"]
    assert first["snapshot"] == "flow-s1"
    time.sleep(6)  # a drift pass later, the same request is not run again
    assert kube.get("lr", "flow-r1")["status"]["lastRollback"] == first

    # Delete everything; the resource waits for its snapshot, the group for its resources.
    kube.run("delete", "lrg/flow-rg", "lr/flow-r1", "lr/flow-restored", "lsnap/flow-s1", "--wait=false")
    for kind, name in (("lsnap", "flow-s1"), ("lr", "flow-r1"), ("lr", "flow-restored"), ("lrg", "flow-rg")):
        kube.wait_gone(kind, name, timeout="120s")
    assert rest.get("/v1/resource-definitions/flow-r1").status_code == 404
    assert rest.get("/v1/resource-definitions/flow-restored").status_code == 404
    assert rest.get("/v1/resource-groups/flow-rg").status_code == 404


def test_drift_in_linstor_is_put_back_and_foreign_properties_stay(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply(group("drift-rg", properties={"DrbdOptions/Net/protocol": "C"}))
    kube.wait("lrg", "drift-rg")
    # Someone changes the group by hand and adds a property of their own.
    answer = rest.put(
        "/v1/resource-groups/drift-rg",
        json={
            "select_filter": {"place_count": 3},
            "override_props": {"DrbdOptions/Net/protocol": "A", "Aux/foreign": "keep-me"},
        },
    )
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 30
    rg: dict[str, Any] = {}
    while time.monotonic() < deadline:
        rg = rest.get("/v1/resource-groups/drift-rg").json()
        if rg["select_filter"]["place_count"] == 2 and rg["props"].get("DrbdOptions/Net/protocol") == "C":
            break
        time.sleep(0.5)
    assert rg["select_filter"]["place_count"] == 2
    assert rg["props"]["DrbdOptions/Net/protocol"] == "C"
    assert rg["props"]["Aux/foreign"] == "keep-me"
    # Dropping a property from the spec removes it from LINSTOR; the foreign one stays.
    kube.patch("lrg", "drift-rg", {"spec": {"properties": None}})
    kube.wait("lrg", "drift-rg", "jsonpath={.metadata.generation}=2")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rg = rest.get("/v1/resource-groups/drift-rg").json()
        if "DrbdOptions/Net/protocol" not in rg.get("props", {}):
            break
        time.sleep(0.5)
    assert "DrbdOptions/Net/protocol" not in rg["props"]
    assert rg["props"]["Aux/foreign"] == "keep-me"
    kube.delete("lrg", "drift-rg")


def test_controller_outage_converges_without_duplicates(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client, linstor_sim: LinstorSim
) -> None:
    kube.apply(group("outage-rg"))
    kube.wait("lrg", "outage-rg")
    linstor_sim.faults.update({"down": True})
    try:
        kube.apply([resource(f"outage-r{i}", "outage-rg", "1Gi") for i in range(3)])
        cond = kube.wait_for_reason("lr", "outage-r0", "BackendUnavailable", timeout=60)
        assert cond["status"] == "False"
        assert "LINSTOR" in cond["message"] and "retrying" in cond["message"]
        events = kube.run(
            "get",
            "events",
            "-A",
            "--field-selector",
            "involvedObject.name=outage-r0",
            "-o",
            "jsonpath={.items[*].reason}",
        ).stdout
        assert "BackendUnavailable" in events
    finally:
        linstor_sim.faults.update({"down": False})
    for i in range(3):
        kube.wait("lr", f"outage-r{i}", timeout="120s")
        assert rd_count(rest, f"outage-r{i}") == 1
    # Flaky controller: a third of the requests fail, everything still converges once.
    linstor_sim.faults.update({"errorRate": 0.3})
    try:
        kube.apply([resource(f"flaky-r{i}", "outage-rg", "1Gi") for i in range(3)])
        for i in range(3):
            kube.wait("lr", f"flaky-r{i}", timeout="180s")
    finally:
        linstor_sim.faults.update({"errorRate": 0.0})
    for i in range(3):
        assert rd_count(rest, f"flaky-r{i}") == 1
    kube.run("delete", "lr", *[f"outage-r{i}" for i in range(3)], *[f"flaky-r{i}" for i in range(3)])
    kube.delete("lrg", "outage-rg")
    assert not [rd for rd in rest.get("/v1/resource-definitions").json() if "outage" in rd["name"]]


def test_retain_keeps_the_backend_objects(kube: Kube, operator: OperatorProcess, rest: httpx.Client) -> None:
    kube.apply(
        [
            group("keep-rg", deletionPolicy="Retain"),
            resource("keep-r1", "keep-rg", "1Gi", deletionPolicy="Retain"),
        ]
    )
    kube.wait("lr", "keep-r1")
    kube.delete("lr", "keep-r1")
    kube.delete("lrg", "keep-rg")
    rd = rest.get("/v1/resource-definitions/keep-r1").json()
    assert rd["name"] == "keep-r1"
    assert OWNER not in rd.get("props", {}), "a retained object is released, not left claimed"
    assert rest.get("/v1/resource-groups/keep-rg").status_code == 200
    # A new object may take the retained one over, explicitly.
    kube.apply([group("keep-rg", adopt=True), resource("keep-r1", "keep-rg", "1Gi", adopt=True)])
    kube.wait("lr", "keep-r1")
    kube.delete("lr", "keep-r1")
    kube.delete("lrg", "keep-rg")
    assert rest.get("/v1/resource-definitions/keep-r1").status_code == 404


def test_existing_object_is_not_taken_over_without_adopt(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    created = rest.post(
        "/v1/resource-groups", json={"name": "foreign-rg", "select_filter": {"place_count": 3}}
    )
    assert created.status_code == 201, created.text
    kube.apply(group("foreign-rg"))
    cond = kube.wait_for_reason("lrg", "foreign-rg", "NameConflict")
    assert cond["status"] == "False"
    assert "spec.adopt" in cond["message"]
    assert rest.get("/v1/resource-groups/foreign-rg").json()["select_filter"]["place_count"] == 3
    kube.patch("lrg", "foreign-rg", {"spec": {"adopt": True}})
    kube.wait("lrg", "foreign-rg")
    assert rest.get("/v1/resource-groups/foreign-rg").json()["select_filter"]["place_count"] == 2
    kube.delete("lrg", "foreign-rg")
    assert rest.get("/v1/resource-groups/foreign-rg").status_code == 404


def test_group_deletion_waits_while_resources_use_it(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply([group("busy-rg"), resource("busy-r1", "busy-rg", "1Gi")])
    kube.wait("lr", "busy-r1")
    kube.run("delete", "lrg", "busy-rg", "--wait=false")
    cond = kube.wait_for_reason("lrg", "busy-rg", "InUse")
    assert "delete the Resources" in cond["message"]
    assert rest.get("/v1/resource-groups/busy-rg").status_code == 200
    kube.delete("lr", "busy-r1")
    kube.wait_gone("lrg", "busy-rg")
    assert rest.get("/v1/resource-groups/busy-rg").status_code == 404


def test_resource_waits_for_its_group_and_reports_backend_refusals(
    kube: Kube, operator: OperatorProcess
) -> None:
    kube.apply(resource("orphan-r1", "no-such-group", "1Gi"))
    cond = kube.wait_for_reason("lr", "orphan-r1", "WaitingForResourceGroup")
    assert "no-such-group" in cond["message"]
    kube.delete("lr", "orphan-r1")
    # LINSTOR refuses an unknown property: the condition carries its message.
    kube.apply(group("badprop-rg", properties={"NoSuch/Property": "x"}))
    cond = kube.wait_for_reason("lrg", "badprop-rg", "InvalidProperty", timeout=60)
    assert "NoSuch/Property" in cond["message"]
    kube.delete("lrg", "badprop-rg")
