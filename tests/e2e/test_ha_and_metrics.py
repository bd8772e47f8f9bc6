"""Two operators, one Lease: exactly one reconciles; the standby takes over after a SIGKILL (the
leader metric follows). And the metrics endpoint reports reconciles, backend requests and
reachability, drift corrections, objects per condition, build info and the process."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import stratum
from stratum.sim.linstor import LinstorSim
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 15


def group(name: str) -> dict[str, object]:
    return {
        "apiVersion": "linstor.stratum.dev/v1alpha1",
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
    }


@pytest.fixture(scope="module")
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ControlPlane, LinstorSim]]:
    """A control plane of its own, so the session's operator does not reconcile these objects."""
    plane = ControlPlane.start(Path(tmp_path_factory.mktemp("ha-plane")))
    try:
        plane.install_crds()
        plane.kube.run("create", "namespace", "stratum-ha")
        with LinstorSim(seed=ROOT / "examples" / "seeds" / "linstor.yaml") as sim:
            yield plane, sim
    finally:
        plane.stop()


def holder(kube: Kube) -> str | None:
    proc = kube.run(
        "get",
        "lease",
        "-n",
        "stratum-ha",
        "stratum-operator",
        "-o",
        "jsonpath={.spec.holderIdentity}",
        check=False,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def directory(base: Path, name: str) -> Path:
    (base / name).mkdir()
    return base / name


def wait_holder(kube: Kube, identity: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if holder(kube) == identity:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{identity} never held the lease; holder is {holder(kube)}")


def handled(proc: OperatorProcess, name: str) -> bool:
    return f"ResourceGroup {name}: " in proc.tail(200000)


def test_one_leader_reconciles_and_the_standby_takes_over(
    isolated: tuple[ControlPlane, LinstorSim], tmp_path: Path
) -> None:
    plane, sim = isolated
    kube = plane.kube
    env = {"LS_CONTROLLERS": sim.controller_uri}
    common = ("--drift-interval", "5", "--lease-namespace", "stratum-ha")

    def with_health(*args: str) -> tuple[str, ...]:
        return (*args, "--liveness", f"http://127.0.0.1:{free_port()}/healthz")

    def with_metrics(*args: str) -> tuple[str, ...]:
        return (*args, "--metrics-port", str(free_port()), "--metrics-host", "127.0.0.1")

    first = OperatorProcess(
        kube.kubeconfig, directory(tmp_path, "a"), env, args=with_metrics(*common, "--identity", "op-a")
    ).start()
    wait_holder(kube, "op-a", 30)
    second = OperatorProcess(
        kube.kubeconfig,
        directory(tmp_path, "b"),
        env,
        args=with_metrics(*with_health(*common, "--identity", "op-b")),
    ).start()
    try:
        kube.apply(group("ha-one"))
        kube.wait("lrg", "ha-one")
        time.sleep(3)
        assert handled(first, "ha-one")
        assert not handled(second, "ha-one"), "the standby reconciled while not holding the lease"
        assert "standing by" in second.tail()
        assert holder(kube) == "op-a"

        standby = httpx.get(second.health_url, timeout=5)
        assert standby.status_code == 200 and standby.json() == {"role": "standby"}
        assert scrape(first)["stratum_leader"] == 1
        assert scrape(second)["stratum_leader"] == 0

        first.kill()  # no chance to release the lease
        took = wait_holder(kube, "op-b", LEASE_SECONDS + 10)
        print(f"standby took over {took:.1f}s after the leader was killed (lease {LEASE_SECONDS}s)")
        kube.apply(group("ha-two"))
        kube.wait("lrg", "ha-two", timeout="60s")
        assert handled(second, "ha-two")
        transitions = kube.run(
            "get", "lease", "-n", "stratum-ha", "stratum-operator", "-o", "jsonpath={.spec.leaseTransitions}"
        ).stdout
        assert int(transitions) >= 1
        assert httpx.get(second.health_url, timeout=5).json() == {"role": "leader"}
        assert scrape(second)["stratum_leader"] == 1
        # A standby stops promptly on SIGTERM, as a pod's container must.
        third = OperatorProcess(
            kube.kubeconfig, directory(tmp_path, "c"), env, args=(*common, "--identity", "op-c")
        ).start()
        assert third.stop(timeout=15) == 0
    finally:
        first.stop()
        second.stop()
    # A clean stop hands the lease back at once.
    assert holder(kube) is None


def scrape(proc: OperatorProcess) -> dict[str, float]:
    """Every sample of the metrics endpoint, keyed by name and labels as exposed."""
    text = httpx.get(proc.metrics_url, timeout=5).text
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def wait_sample(
    proc: OperatorProcess, name: str, accept: Callable[[float], bool], timeout: float = 30
) -> float:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = scrape(proc).get(name)
        if value is not None and accept(value):
            return value
        time.sleep(0.5)
    raise AssertionError(f"{name} stayed at {value}")


def test_metrics_endpoint_reports_reconciles_backends_and_conditions(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    kube.apply(group("metrics-rg"))
    kube.wait("lrg", "metrics-rg")
    wait_sample(operator, 'stratum_objects{kind="ResourceGroup",ready="True"}', lambda v: v >= 1)
    samples = scrape(operator)
    assert samples['stratum_reconcile_total{kind="ResourceGroup",result="Ready"}'] >= 1
    assert samples['stratum_reconcile_duration_seconds_count{kind="ResourceGroup"}'] >= 1
    linstor_gets = [
        v
        for k, v in samples.items()
        if k.startswith('stratum_backend_requests_total{backend="linstor",method="GET"')
    ]
    assert sum(linstor_gets) >= 1
    assert samples['stratum_objects{kind="ResourceGroup",ready="True"}'] >= 1
    assert samples["process_resident_memory_bytes"] > 0
    assert samples["process_cpu_seconds_total"] > 0
    assert samples["process_open_fds"] > 0
    assert any(k.startswith("python_info{") and v == 1 for k, v in samples.items())
    assert any(k.startswith("python_gc_collections_total{") for k in samples)
    version = stratum.__version__
    build = f'stratum_build_info{{python_version="{platform.python_version()}",version="{version}"}}'
    assert samples[build] == 1
    assert samples["stratum_leader"] == 1  # no election: this process reconciles
    assert samples['stratum_reconcile_in_flight{kind="ResourceGroup"}'] >= 0
    assert samples['stratum_reconcile_errors_total{kind="ResourceGroup"}'] >= 0
    assert samples['stratum_objects_degraded{kind="ResourceGroup"}'] == 0
    assert samples['stratum_backend_up{backend="linstor"}'] == 1
    assert samples['stratum_drift_corrections_total{kind="ResourceGroup"}'] >= 0
    # The Ready Event of the group, posted in the background: counted once it is.
    wait_sample(operator, 'stratum_events_total{outcome="posted"}', lambda v: v >= 1)

    # Drift: the group disappears behind the operator's back; the timer puts it back.
    before = samples['stratum_drift_corrections_total{kind="ResourceGroup"}']
    httpx.delete(f"{linstor_sim.url}/v1/resource-groups/metrics-rg", timeout=5).raise_for_status()
    wait_sample(operator, 'stratum_drift_corrections_total{kind="ResourceGroup"}', lambda v: v > before)
    assert httpx.get(f"{linstor_sim.url}/v1/resource-groups/metrics-rg", timeout=5).status_code == 200

    # The controller stops answering: the backend is down until it answers again.
    faults = f"{linstor_sim.url}/_sim/faults"
    httpx.post(faults, json={"down": True}, timeout=5).raise_for_status()
    try:
        wait_sample(operator, 'stratum_backend_up{backend="linstor"}', lambda v: v == 0)
    finally:
        httpx.post(faults, json={"down": False}, timeout=5).raise_for_status()
    wait_sample(operator, 'stratum_backend_up{backend="linstor"}', lambda v: v == 1)
    kube.delete("lrg", "metrics-rg")
