"""The chart's RBAC is enough, and no more: the operator runs with nothing but a token of the
service account `helm install` creates, on a control plane of its own (so no other operator in the
test run touches these objects), and reconciles all four kinds; requests outside its role are
refused."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.helm import CHART, Helm, helm_binary
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
NS = "stratum-rbac"
RELEASE = "stratum"  # the chart names the service account, roles and bindings after the release
SA = f"system:serviceaccount:{NS}:{RELEASE}"
FINALIZER = "stratum.dev/finalizer"
LINSTOR = "linstor.stratum.dev/v1alpha1"
MAAS = "maas.stratum.dev/v1alpha1"
# kopf's APIForbiddenError and its warnings when it cannot scan; a bare 403 not preceded by the
# comma of a timestamp's milliseconds.
DENIED_IN_LOG = re.compile(r"Forbidden|forbidden|Not enough permissions|(?<![,.\d])403(?!\d)")

OBJECTS: list[tuple[str, dict[str, Any]]] = [
    (
        "resourcegroups.linstor.stratum.dev",
        {
            "apiVersion": LINSTOR,
            "kind": "ResourceGroup",
            "metadata": {"name": "rbac-rg"},
            "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
        },
    ),
    (
        "resources.linstor.stratum.dev",
        {
            "apiVersion": LINSTOR,
            "kind": "Resource",
            "metadata": {"name": "rbac-res"},
            "spec": {"resourceGroup": "rbac-rg", "volumes": [{"size": "1Gi"}]},
        },
    ),
    (
        "snapshots.linstor.stratum.dev",
        {
            "apiVersion": LINSTOR,
            "kind": "Snapshot",
            "metadata": {"name": "rbac-snap"},
            "spec": {"resource": "rbac-res"},
        },
    ),
    (
        # Every 5 s a Snapshot object of rbac-res, keep 1: creates and deletes Snapshot objects.
        "snapshotschedules.linstor.stratum.dev",
        {
            "apiVersion": LINSTOR,
            "kind": "SnapshotSchedule",
            "metadata": {"name": "rbac-sched"},
            "spec": {"schedule": "@every 5s", "resources": ["rbac-res"], "keep": 1},
        },
    ),
    (
        "machineraids.maas.stratum.dev",
        {
            "apiVersion": MAAS,
            "kind": "MachineRaid",
            "metadata": {"name": "rbac-raid"},
            "spec": {"machine": {"hostname": "node-1"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
        },
    ),
    (
        "machineraidsets.maas.stratum.dev",
        {
            "apiVersion": MAAS,
            "kind": "MachineRaidSet",
            "metadata": {"name": "rbac-set"},
            # Only node-2's 2 TB disks fit: the set never competes with rbac-raid on node-1.
            "spec": {
                "machineSelector": {"tags": ["storage"]},
                "template": {"level": "raid-1", "deviceSelector": {"count": 2, "minSize": "1.5T"}},
            },
        },
    ),
]


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    plane = ControlPlane.start(Path(tmp_path_factory.mktemp("rbac-plane")))
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def helm(plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    helm = Helm(helm_binary(), tmp_path_factory.mktemp("helm"), plane.kube.kubeconfig)
    # The chart installs the CRDs (crds/) and the service account with its roles.
    helm.run("install", RELEASE, str(CHART), "--namespace", NS, "--create-namespace")
    plane.kube.run("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    return helm


@pytest.fixture(scope="module")
def sa_kube(plane: ControlPlane, helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> Kube:
    """A kubeconfig holding only a token of the chart's service account, with the release namespace
    as its namespace (as the pod's in-cluster config has)."""
    token = plane.kube.run("create", "token", RELEASE, "-n", NS, "--duration=1h").stdout.strip()
    admin = yaml.safe_load(plane.kube.kubeconfig.read_text())
    cluster = admin["clusters"][0]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [
            {"name": "operator", "context": {"cluster": cluster["name"], "user": "operator", "namespace": NS}}
        ],
        "current-context": "operator",
    }
    path = tmp_path_factory.mktemp("sa") / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return Kube(path)


@pytest.fixture(scope="module")
def backends() -> Iterator[dict[str, str]]:
    with (
        LinstorSim(seed=ROOT / "examples" / "seeds" / "linstor.yaml") as linstor,
        MaasSim(seed=ROOT / "examples" / "seeds" / "maas.yaml") as maas,
    ):
        yield {
            "LS_CONTROLLERS": linstor.controller_uri,
            "MAAS_API_URL": maas.maas_url,
            "MAAS_API_KEY": maas.api_key,
        }


@pytest.fixture(scope="module")
def sa_operator(
    sa_kube: Kube, backends: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    proc = SAOperator(sa_kube.kubeconfig, Path(tmp_path_factory.mktemp("sa-operator")), backends)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class SAOperator(OperatorProcess):
    """`stratum run` with a liveness endpoint on a free port; started once it answers there (kopf's
    probe, or under leader election the process's own, which a standby serves too)."""

    def __init__(self, kubeconfig: Path, log_dir: Path, env: dict[str, str], *extra: str) -> None:
        port = free_port()
        super().__init__(
            kubeconfig,
            log_dir,
            env,
            args=("--drift-interval", "5", "--liveness", f"http://127.0.0.1:{port}/healthz", *extra),
        )

    def _wait_started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.health_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"operator never served {self.health_url}:\n{self.tail()}")


def denials(log: str) -> list[str]:
    return [line for line in log.splitlines() if DENIED_IN_LOG.search(line)]


def wait_for(what: str, check: Any, timeout: float = 90, proc: OperatorProcess | None = None) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last: {last}\n{proc.tail() if proc else ''}")


def test_the_token_is_the_charts_service_account(sa_kube: Kube) -> None:
    review = json.loads(sa_kube.run("auth", "whoami", "-o", "json").stdout)
    assert review["status"]["userInfo"]["username"] == SA


def test_operator_reconciles_every_kind_with_only_the_chart_rbac(
    plane: ControlPlane, sa_kube: Kube, sa_operator: OperatorProcess
) -> None:
    admin = plane.kube
    for _, manifest in OBJECTS:
        admin.apply(manifest)

    for resource, manifest in OBJECTS:
        name = manifest["metadata"]["name"]

        def handled(resource: str = resource, name: str = name) -> dict[str, Any] | None:
            obj = admin.get(resource, name)
            conditions = {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}
            done = FINALIZER in obj["metadata"].get("finalizers", []) and "Ready" in conditions
            return obj if done else None

        # The finalizer (a patch of the object) and the Ready condition (a patch of /status) were
        # written by the only client that could: the operator holding the service account's token.
        wait_for(f"{resource}/{name} to be handled", handled, proc=sa_operator)

    # The LINSTOR kinds converge against the simulator; the MachineRaid reports what MAAS says.
    for resource, manifest in OBJECTS[:3]:
        admin.wait(resource, manifest["metadata"]["name"], timeout="90s")
        # kopf's diff base, in the same /status patch as the pass's status once the handlers
        # succeeded: kept by the API server (the CRD's status.kopf), no annotation written.
        obj = admin.get(resource, manifest["metadata"]["name"])
        diff_base = json.loads(obj["status"]["kopf"]["last-handled-configuration"])
        assert diff_base["spec"] == obj["spec"]
        assert not any(key.startswith("stratum.dev/") for key in obj["metadata"].get("annotations", {}))
    # The schedule created Snapshot objects and, with keep 1, deleted the older ones.
    first = wait_for(
        "a scheduled snapshot",
        lambda: admin.get("snapshotschedules.linstor.stratum.dev", "rbac-sched")["status"].get(
            "lastSuccessfulTime"
        ),
        proc=sa_operator,
    )

    def second_run_pruned() -> bool | None:
        status = admin.get("snapshotschedules.linstor.stratum.dev", "rbac-sched")["status"]
        counts = [r["snapshots"] for r in status.get("resources", [])]
        return (status.get("lastSuccessfulTime") != first and counts == [1]) or None

    wait_for("a second run and retention", second_run_pruned, proc=sa_operator)
    raid = admin.condition("machineraids.maas.stratum.dev", "rbac-raid")
    assert raid is not None and raid["reason"] != "NotConfigured", raid
    # The set created its children (one per storage machine) with the service account's create right.
    children = {"rbac-set-abc123", "rbac-set-def456"}

    def created() -> set[str] | None:
        items = json.loads(
            admin.run("get", "mraid", "-l", "stratum.dev/machineraidset=rbac-set", "-o", "json").stdout
        )
        names = {i["metadata"]["name"] for i in items["items"]}
        return names if names == children else None

    wait_for("the set's MachineRaids", created, proc=sa_operator)

    # Events of the cluster-scoped objects go to `default` (where `kubectl describe` finds them),
    # created by the service account.
    def events() -> set[str]:
        items = json.loads(admin.run("get", "events", "-n", "default", "-o", "json").stdout)["items"]
        return {e["involvedObject"]["name"] for e in items if e.get("reportingComponent") == "stratum"}

    names = {m["metadata"]["name"] for _, m in OBJECTS}
    wait_for("events for every object", lambda: names <= events() or None, proc=sa_operator)

    # Deletion goes through the finalizer, which the operator removes with its patch right.
    for resource, manifest in reversed(OBJECTS):
        admin.delete(resource, manifest["metadata"]["name"], wait=False)
    for resource, manifest in reversed(OBJECTS):
        admin.wait_gone(resource, manifest["metadata"]["name"], timeout="90s")
    # ...and the set deleted its children (its delete right) before it went.
    assert not any(admin.exists("machineraids.maas.stratum.dev", name) for name in children)

    log = sa_operator.log_path.read_text(errors="replace")
    assert not denials(log), "the operator was refused something:\n" + "\n".join(denials(log))
    assert sa_operator.proc is not None and sa_operator.proc.poll() is None, sa_operator.tail()


@pytest.mark.parametrize(
    "request_",
    [
        ("get", "secrets", "--all-namespaces"),
        ("get", "secrets", "-n", NS),
        ("get", "configmaps", "-n", NS),
        ("get", "namespaces"),
        ("get", "pods", "-n", NS),
        ("get", "leases", "-n", NS),
        ("get", "clusterroles"),
        ("get", "events", "-n", NS),
        ("delete", "resourcegroups.linstor.stratum.dev", "anything"),
        ("delete", "crd", "resourcegroups.linstor.stratum.dev"),
    ],
    ids=" ".join,
)
def test_requests_outside_the_role_are_refused(sa_kube: Kube, request_: tuple[str, ...]) -> None:
    proc = sa_kube.run(*request_, check=False)
    assert proc.returncode != 0
    assert "Forbidden" in proc.stderr and SA in proc.stderr, proc.stderr


def can_i(kube: Kube, *args: str) -> bool:
    proc = kube.run("auth", "can-i", *args, check=False)
    assert proc.stdout.strip() in ("yes", "no"), proc.stdout + proc.stderr
    return proc.stdout.strip() == "yes"


def test_the_role_grants_exactly_what_the_operator_uses(sa_kube: Kube) -> None:
    # A SnapshotSchedule creates Snapshot and Backup objects and deletes those past `keep`.
    created = ("snapshots", "backups")
    for plural in ("resourcegroups", "resources", "snapshots", "snapshotschedules", "remotes", "backups"):
        res = f"{plural}.linstor.stratum.dev"
        assert all(can_i(sa_kube, verb, res) for verb in ("get", "list", "watch", "patch"))
        assert can_i(sa_kube, "patch", res, "--subresource=status")
        assert not any(can_i(sa_kube, verb, res) for verb in ("update", "deletecollection"))
        assert all(can_i(sa_kube, verb, res) == (plural in created) for verb in ("create", "delete"))
        assert not can_i(sa_kube, "update", res, "--subresource=status")
    # A Remote's credentials: one Secret read by name in the operator's namespace, nothing else.
    assert can_i(sa_kube, "get", "secrets", "-n", NS)
    assert not any(can_i(sa_kube, verb, "secrets", "-n", NS) for verb in ("list", "watch", "create"))
    assert not can_i(sa_kube, "get", "secrets", "-n", "default")
    raids, sets = "machineraids.maas.stratum.dev", "machineraidsets.maas.stratum.dev"
    assert can_i(sa_kube, "patch", raids, "--subresource=status")
    # A MachineRaidSet creates, patches and deletes its MachineRaids; nothing else is created.
    assert all(can_i(sa_kube, verb, raids) for verb in ("create", "patch", "delete"))
    assert not any(can_i(sa_kube, verb, raids) for verb in ("update", "deletecollection"))
    assert all(can_i(sa_kube, verb, sets) for verb in ("get", "list", "watch", "patch"))
    assert can_i(sa_kube, "patch", sets, "--subresource=status")
    assert can_i(sa_kube, "update", sets, "--subresource=finalizers")
    assert not any(can_i(sa_kube, verb, sets) for verb in ("create", "update", "delete"))
    assert can_i(sa_kube, "watch", "customresourcedefinitions")
    assert not can_i(sa_kube, "patch", "customresourcedefinitions")
    # Events only in `default`, where those of cluster-scoped objects belong; create only.
    assert can_i(sa_kube, "create", "events", "-n", "default")
    assert not can_i(sa_kube, "create", "events", "-n", NS)
    assert not can_i(sa_kube, "patch", "events", "-n", "default")
    assert not can_i(sa_kube, "create", "events.events.k8s.io", "-n", "default")
    # No Lease rights without leader election; kopf peering is not used (--standalone).
    assert not can_i(sa_kube, "create", "leases", "-n", NS)
    assert not can_i(sa_kube, "list", "clusterkopfpeerings.kopf.dev")


def clean(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k in ("name", "namespace", "labels", "annotations")}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def test_without_the_status_and_event_rules_the_operator_is_refused(
    plane: ControlPlane, sa_operator: OperatorProcess
) -> None:
    """The negative control: take the */status rules and the events Role away and the same
    operator is refused (so the rules are needed, and the log check above does detect refusals);
    give them back and it recovers."""
    admin = plane.kube
    role = json.loads(admin.run("get", "clusterrole", RELEASE, "-o", "json").stdout)
    binding = json.loads(
        admin.run("get", "rolebinding", f"{RELEASE}-events", "-n", "default", "-o", "json").stdout
    )
    weakened = clean(role)
    weakened["rules"] = [r for r in role["rules"] if not any(x.endswith("/status") for x in r["resources"])]
    assert len(weakened["rules"]) == len(role["rules"]) - 2
    name = "rbac-denied"
    start = len(sa_operator.log_path.read_text(errors="replace"))
    admin.run("replace", "-f", "-", input=json.dumps(weakened))
    admin.run("delete", "rolebinding", f"{RELEASE}-events", "-n", "default")
    try:
        admin.apply(
            {
                "apiVersion": LINSTOR,
                "kind": "ResourceGroup",
                "metadata": {"name": name},
                "spec": {"placement": {"placeCount": 1}},
            }
        )

        def refused() -> list[str] | None:
            lines = denials(sa_operator.log_path.read_text(errors="replace")[start:])
            text = "\n".join(lines)
            return lines if "resourcegroups/status" in text and "events" in text else None

        wait_for("the operator to be refused", refused, proc=sa_operator)
        assert admin.condition("resourcegroups.linstor.stratum.dev", name) is None, "status written anyway"
    finally:
        admin.run("replace", "-f", "-", input=json.dumps(clean(role)))
        admin.create(clean(binding))
    admin.wait("resourcegroups.linstor.stratum.dev", name, timeout="90s")
    admin.delete("resourcegroups.linstor.stratum.dev", name)


def test_leader_election_with_the_chart_rbac(
    plane: ControlPlane, helm: Helm, sa_kube: Kube, backends: dict[str, str], tmp_path: Path
) -> None:
    """With leaderElection.enabled the Role adds exactly the operator's Lease; the operator, still
    with only the service account's token, takes it, runs, and hands it back on a clean stop."""
    helm.run(
        "upgrade",
        RELEASE,
        str(CHART),
        "-n",
        NS,
        "--set",
        "leaderElection.enabled=true",
        "--set",
        "replicaCount=2",
    )
    assert can_i(sa_kube, "create", "leases", "-n", NS)
    assert can_i(sa_kube, "get", "leases/stratum-operator", "-n", NS)
    assert can_i(sa_kube, "update", "leases/stratum-operator", "-n", NS)
    assert not can_i(sa_kube, "update", "leases/someone-else", "-n", NS)
    assert not can_i(sa_kube, "list", "leases", "-n", NS)
    assert not can_i(sa_kube, "delete", "leases/stratum-operator", "-n", NS)
    assert not can_i(sa_kube, "create", "leases", "-n", "kube-system")

    lease_flags = ("--lease-namespace", NS, "--lease-name", "stratum-operator", "--identity", "pod-a")
    proc = SAOperator(sa_kube.kubeconfig, tmp_path, backends, *lease_flags)

    def holder() -> str | None:
        out = plane.kube.run("get", "lease", "stratum-operator", "-n", NS, "-o", "json", check=False).stdout
        return (json.loads(out or "{}").get("spec") or {}).get("holderIdentity")

    proc.start()  # returns once the process serves its health endpoint (a standby does too)
    try:
        assert wait_for(
            "leadership", lambda: "acquired lease" in proc.log_path.read_text(errors="replace"), proc=proc
        ), proc.tail()
        assert wait_for("the lease", lambda: holder() == "pod-a", proc=proc)
        log = proc.log_path.read_text(errors="replace")
        assert not denials(log), "\n".join(denials(log))
    finally:
        proc.stop()
    assert holder() is None, "released on a clean stop"
    assert not denials(proc.log_path.read_text(errors="replace"))
