"""The operator against LINSTOR as it behaves over time (the simulator's DRBD lifecycle): Ready
means usable data, offline satellites degrade, committed-then-failed changes converge, pins
survive BalanceResources, a rollback is sent once across a SIGKILL, and a resize waits for an
offline satellite. Own control plane, simulator and operator, so nothing else interferes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratum.sim.linstor import LinstorSim
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess, free_port

LINSTOR = "linstor.stratum.dev/v1alpha1"
POOL = {"capacityKib": 104857600, "freeKib": 104857600}
SEED: dict[str, Any] = {
    "version": "1.33.2",
    # BalanceResources skips resources younger than this (default 3600 s, as upstream).
    "controllerProps": {"BalanceResourcesGracePeriod": "0"},
    "nodes": [
        {
            "name": f"n{i}",
            "storagePools": [
                {"name": "thin", "provider": "LVM_THIN", **POOL},
                {"name": "thick", "provider": "LVM", **POOL},
            ],
        }
        for i in (1, 2, 3, 4)
    ],
}


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of its own, so the session's operator does not reconcile these objects."""
    started = ControlPlane.start(Path(tmp_path_factory.mktemp("lifecycle-plane")))
    try:
        started.install_crds()
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=SEED) as running:
        yield running


@pytest.fixture(scope="module")
def kube(plane: ControlPlane) -> Kube:
    return plane.kube


@pytest.fixture(scope="module")
def operator(  # this module's own: the session's watches another control plane
    plane: ControlPlane, sim: LinstorSim, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    proc = OperatorProcess(
        plane.kube.kubeconfig,
        Path(tmp_path_factory.mktemp("lifecycle-operator")),
        {"LS_CONTROLLERS": sim.controller_uri},
        args=("--drift-interval", "2", "--metrics-port", str(free_port()), "--metrics-host", "127.0.0.1"),
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def rest(sim: LinstorSim) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, timeout=10) as client:
        yield client


def group(name: str, pool: str = "thin") -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": 2, "storagePools": [pool]}},
    }


def resource(name: str, rg: str, size: str = "1Gi", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": name},
        "spec": {"resourceGroup": rg, "volumes": [{"size": size}], **spec},
    }


def until(what: str, check: Callable[[], Any], timeout: float = 60, every: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def conditions(kube: Kube, kind: str, name: str) -> dict[str, dict[str, Any]]:
    obj = kube.get(kind, name)
    return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}


def diskful(kube: Kube, name: str) -> set[str]:
    return {r["node"] for r in kube.get("lr", name)["status"].get("replicas", []) if not r["diskless"]}


def linstor_diskful(rest: httpx.Client, name: str) -> set[str]:
    found = rest.get("/v1/view/resources", params={"resources": name}).json()
    return {
        r["node_name"] for r in found if not {"DISKLESS", "DRBD_DISKLESS", "DELETE"} & set(r.get("flags", []))
    }


def sim_post(rest: httpx.Client, path: str, body: dict[str, Any] | None = None) -> Any:
    response = rest.post(path, json=body or {})
    response.raise_for_status()
    return response.json()


def stats(rest: httpx.Client, key: str) -> int:
    return int(rest.get("/_sim/stats").json().get("byPath", {}).get(key, 0))


def test_not_ready_while_syncing_then_ready(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    sim_post(rest, "/_sim/drbd", {"syncSeconds": 5})
    try:
        # Thick pools sync a new resource's second replica in full (DrbdLayerUtils skipInitSync).
        kube.apply([group("sync-rg", "thick"), resource("sync-r1", "sync-rg")])
        started = time.monotonic()
        syncing = kube.wait_for_reason("lr", "sync-r1", "Syncing", timeout=60)
        assert syncing["status"] == "False" and "%" in syncing["message"], syncing
        kube.wait("lr", "sync-r1", timeout="60s")
        ready_at = time.time()
        elapsed = time.monotonic() - started
        created = max(
            r["create_timestamp"]
            for r in rest.get("/v1/view/resources", params={"resources": "sync-r1"}).json()
        )
        synced_for = ready_at - created / 1000
        print(f"sync-r1: Ready {elapsed:.1f}s after apply, {synced_for - 5:.1f}s after its 5 s sync ended")
        assert synced_for >= 5
        status = kube.get("lr", "sync-r1")["status"]
        assert {r["state"] for r in status["replicas"] if not r["diskless"]} == {"UpToDate"}
    finally:
        sim_post(rest, "/_sim/drbd", {"syncSeconds": 0})


def test_an_offline_satellite_degrades_a_resource_and_back(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply([group("deg-rg"), resource("deg-r1", "deg-rg")])
    kube.wait("lr", "deg-r1")
    node = sorted(diskful(kube, "deg-r1"))[0]
    sim_post(rest, f"/_sim/nodes/{node}", {"online": False})
    try:
        degraded = until(
            "Degraded=True",
            lambda: (c := conditions(kube, "lr", "deg-r1")).get("Degraded", {}).get("status") == "True" and c,
        )
        assert (
            degraded["Degraded"]["reason"] == "ReplicaUnreachable" and node in degraded["Degraded"]["message"]
        )
        assert degraded["Ready"]["status"] == "True"
        replica = next(r for r in kube.get("lr", "deg-r1")["status"]["replicas"] if r["node"] == node)
        assert replica["reachable"] is False
    finally:
        sim_post(rest, f"/_sim/nodes/{node}", {"online": True})
    healed = until(
        "Degraded=False",
        lambda: (c := conditions(kube, "lr", "deg-r1")).get("Degraded", {}).get("status") == "False" and c,
    )
    assert healed["Ready"]["status"] == "True"


def test_a_committed_then_failed_create_converges_with_one_definition(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply(group("ctf-rg"))
    kube.wait("lrg", "ctf-rg")
    sim_post(rest, "/_sim/faults", {"commitThenFailRate": 1.0})
    try:
        kube.apply(resource("ctf-r1", "ctf-rg", diskfulNodes=["n3"]))
        failed = kube.wait_for_reason("lr", "ctf-r1", "SatelliteFailed", timeout=60)
        assert "Failed to adjust DRBD resource" in failed["message"]
    finally:
        sim_post(rest, "/_sim/faults", {"commitThenFailRate": 0.0})
    kube.wait("lr", "ctf-r1", timeout="90s")
    names = [rd["name"] for rd in rest.get("/v1/resource-definitions").json()]
    assert names.count("ctf-r1") == 1
    assert len(linstor_diskful(rest, "ctf-r1")) == 2 and "n3" in linstor_diskful(rest, "ctf-r1")


def test_a_pinned_node_gives_place_count_replicas_and_survives_balance(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply([group("pin-rg"), resource("pin-r1", "pin-rg", diskfulNodes=["n4"])])
    kube.wait("lr", "pin-r1")
    assert len(linstor_diskful(rest, "pin-r1")) == 2 and "n4" in linstor_diskful(rest, "pin-r1")
    assert sim_post(rest, "/_sim/balance")["removed"] == []
    # A second pin on a full resource: the pinned replica is added, an unpinned one trimmed, so
    # LINSTOR's own balancing has nothing left to remove (and the operator nothing to re-add).
    other = sorted(linstor_diskful(rest, "pin-r1") - {"n4"})[0]
    spare = sorted({"n1", "n2", "n3"} - {other})[0]
    kube.patch("lr", "pin-r1", {"spec": {"diskfulNodes": ["n4", spare]}})
    until("the pins alone", lambda: linstor_diskful(rest, "pin-r1") == {"n4", spare}, timeout=60)
    kube.wait("lr", "pin-r1", "condition=Reconciling=false")
    assert sim_post(rest, "/_sim/balance")["removed"] == []
    time.sleep(5)  # a few drift passes: nothing is re-added
    assert linstor_diskful(rest, "pin-r1") == {"n4", spare}


def test_a_rollback_is_sent_once_although_the_operator_is_killed_after_sending(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply([group("rb-rg"), resource("rb-r1", "rb-rg")])
    kube.wait("lr", "rb-r1")
    kube.apply(
        {
            "apiVersion": LINSTOR,
            "kind": "Snapshot",
            "metadata": {"name": "rb-s1"},
            "spec": {"resource": "rb-r1"},
        }
    )
    kube.wait("lsnap", "rb-s1")
    rollback_posts = "POST /v1/resource-definitions/rb-r1/snapshot-rollback/rb-s1"
    # Every request now takes 3 s: the rollback POST is in flight when the intent appears.
    sim_post(rest, "/_sim/faults", {"latencyMs": 3000})
    try:
        kube.patch("lr", "rb-r1", {"spec": {"rollback": {"snapshot": "rb-s1", "requestId": "1"}}})
        sent = until(
            "status.rollbackSent",
            lambda: kube.get("lr", "rb-r1")["status"].get("rollbackSent"),
            timeout=90,
            every=0.1,
        )
        until("the rollback POST", lambda: stats(rest, rollback_posts) == 1, timeout=10, every=0.05)
        operator.kill()
        assert sent["requestId"] == "1"
    finally:
        sim_post(rest, "/_sim/faults", {"latencyMs": 0})
    time.sleep(3.5)  # the in-flight request completes on the controller
    operator.start()
    uncertain = kube.wait_for_reason("lr", "rb-r1", "RollbackUncertain", timeout=60)
    assert "not sent again" in uncertain["message"] and "requestId" in uncertain["message"]
    stalled = kube.get("lr", "rb-r1")["status"]
    assert "lastRollback" not in stalled
    time.sleep(5)  # drift passes: still never resent
    assert stats(rest, rollback_posts) == 1
    # A new requestId asks again, once.
    kube.patch("lr", "rb-r1", {"spec": {"rollback": {"snapshot": "rb-s1", "requestId": "2"}}})
    until(
        "lastRollback 2",
        lambda: (kube.get("lr", "rb-r1")["status"].get("lastRollback") or {}).get("requestId") == "2",
    )
    kube.wait("lr", "rb-r1")
    assert stats(rest, rollback_posts) == 2


def test_a_resize_during_an_offline_satellite_waits_then_completes(
    kube: Kube, operator: OperatorProcess, rest: httpx.Client
) -> None:
    kube.apply([group("rs-rg"), resource("rs-r1", "rs-rg")])
    kube.wait("lr", "rs-r1")
    node = sorted(diskful(kube, "rs-r1"))[0]
    sim_post(rest, "/_sim/drbd", {"resizeSeconds": 2})
    sim_post(rest, f"/_sim/nodes/{node}", {"online": False})
    try:
        kube.patch("lr", "rs-r1", {"spec": {"volumes": [{"size": "2Gi"}]}})
        blocked = kube.wait_for_reason("lr", "rs-r1", "ResizeBlocked", timeout=60)
        # The data stays usable: Ready, with the change still in progress (kstatus Reconciling).
        assert blocked["status"] == "True" and node in blocked["message"]
        assert conditions(kube, "lr", "rs-r1")["Reconciling"]["status"] == "True"
        vd = rest.get("/v1/resource-definitions/rs-r1/volume-definitions/0").json()
        assert vd["size_kib"] == 1024 * 1024
    finally:
        sim_post(rest, f"/_sim/nodes/{node}", {"online": True})
    kube.wait("lr", "rs-r1", "condition=Reconciling=false", timeout="60s")
    status = kube.get("lr", "rs-r1")["status"]
    assert status["volumes"][0]["size"] == "2Gi" and status["volumes"][0]["resizing"] is False
    sim_post(rest, "/_sim/drbd", {"resizeSeconds": 0})
