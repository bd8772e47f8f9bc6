"""Shipping the operator: `kubectl apply -k deploy/` and `helm install charts/stratum` on real,
fresh control planes (so they install the CRDs themselves), the chart's values schema, and the
manifests' security and probe settings, which deploy/ and the chart must agree on."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.helm import CHART, Helm, helm_binary
from support.kube import ControlPlane, Kube, KubectlError

ROOT = Path(__file__).resolve().parents[2]
NS = "stratum-system"
CRD_FILES = sorted((ROOT / "crds").glob("*.yaml"))
CRD_NAMES = sorted(yaml.safe_load(p.read_text())["metadata"]["name"] for p in CRD_FILES)
SCHEMA_ERROR = "values don't meet the specifications of the schema"


def find(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(deployment).get("env", [])}


@pytest.fixture(scope="module")
def kustomized() -> list[dict[str, Any]]:
    out = Kube(Path("/dev/null")).run("kustomize", str(ROOT / "deploy")).stdout
    return [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary(), tmp_path_factory.mktemp("helm"))


# The values that make the chart configure what deploy/ configures: both backends, LINSTOR client TLS
# from the stratum-linstor-tls Secret.
AS_DEPLOY = [
    "--set",
    "linstor.controllers=linstor+ssl://linstor-controller.piraeus-datastore.svc:3371",
    "--set",
    "linstor.tls.existingSecret=stratum-linstor-tls",
    "--set",
    "maas.apiUrl=https://maas.maas.svc:5443/MAAS/",
]


@pytest.fixture(scope="module")
def charted(helm: Helm) -> list[dict[str, Any]]:
    return helm.template(*AS_DEPLOY)


def fresh_plane(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[ControlPlane]:
    """A control plane of its own, without CRDs: what is tested here installs them."""
    plane = ControlPlane.start(Path(tmp_path_factory.mktemp(name)))
    try:
        assert plane.kube.run("get", "crd", "-o", "name").stdout.strip() == ""
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def kustomize_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    yield from fresh_plane(tmp_path_factory, "kustomize-plane")


@pytest.fixture(scope="module")
def helm_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    yield from fresh_plane(tmp_path_factory, "helm-plane")


# ---------------------------------------------------------------------------- rendered manifests


def test_deploy_renders_the_generated_crds_and_a_restricted_operator(
    kustomized: list[dict[str, Any]],
) -> None:
    kinds = sorted(d["kind"] for d in kustomized)
    assert kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",  # the operator's namespace
            "RoleBinding",
            "Role",  # Events in default
            "RoleBinding",
            "ConfigMap",
            "Service",
            "Deployment",
        ]
        + ["CustomResourceDefinition"] * len(CRD_FILES)
    )
    rendered_crds = sorted(
        (d for d in kustomized if d["kind"] == "CustomResourceDefinition"),
        key=lambda d: d["metadata"]["name"],
    )
    generated = sorted(
        (yaml.safe_load(p.read_text()) for p in CRD_FILES), key=lambda d: d["metadata"]["name"]
    )
    assert rendered_crds == generated, "deploy/ must ship crds/ unchanged"

    namespace = find(kustomized, "Namespace")
    assert namespace["metadata"]["name"] == NS
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in kustomized:
        if doc["kind"] not in ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            events = doc["kind"] in ("Role", "RoleBinding") and doc["metadata"]["name"].endswith("-events")
            assert doc["metadata"]["namespace"] == ("default" if events else NS), doc["metadata"]

    deployment = find(kustomized, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == find(kustomized, "ServiceAccount")["metadata"]["name"]
    check_restricted_pod(pod)
    c = container(deployment)
    assert c["image"] == "stratum:0.1.0"
    assert c["args"] == ["--liveness=http://0.0.0.0:8080/healthz", "--metrics-port=9090"]
    env = env_of(deployment)
    assert env["MAAS_API_KEY"] == {"secretKeyRef": {"name": "stratum-maas", "key": "api-key"}}
    assert env["LS_ROOT_CA"] == "/etc/stratum/linstor-tls/ca.crt"
    assert env["LS_USER_CERTIFICATE"] == "/etc/stratum/linstor-tls/tls.crt"
    assert env["LS_USER_KEY"] == "/etc/stratum/linstor-tls/tls.key"
    tls = next(v for v in pod["volumes"] if v["name"] == "linstor-tls")
    assert tls["secret"]["secretName"] == "stratum-linstor-tls"
    config = find(kustomized, "ConfigMap")
    assert c["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    assert set(config["data"]) == {"LS_CONTROLLERS", "MAAS_API_URL"}
    assert not any("KEY" in k or "SECRET" in k for k in config["data"]), "credentials only from Secrets"


def check_restricted_pod(pod: dict[str, Any]) -> None:
    """Pod Security "restricted" plus a read-only root filesystem with /tmp as the only writable path."""
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "privileged" not in sc and "add" not in sc["capabilities"]
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    tmp = next(v for v in pod["volumes"] if v["name"] == mounts["/tmp"]["name"])
    assert "emptyDir" in tmp
    assert all(m.get("readOnly") for path, m in mounts.items() if path != "/tmp")
    assert {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"} in c["env"]
    probe = c["livenessProbe"]["httpGet"]
    assert (probe["path"], probe["port"]) == ("/healthz", "health")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports["health"] == 8080
    assert "readinessProbe" not in c, "operators serve no traffic: liveness only"
    assert "limits" in c["resources"] and "requests" in c["resources"]


def rules(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return list(find(docs, kind)["rules"] or [])


def role_rules(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The namespaced Roles' rules: "events" for the one in `default` (Events of cluster-scoped
    objects), "operator" for the one in the operator's namespace."""
    roles = [d for d in docs if d["kind"] == "Role"]
    assert len(roles) == 2, roles
    return {
        "events" if r["metadata"]["namespace"] == "default" else "operator": list(r.get("rules") or [])
        for r in roles
    }


def test_rbac_is_least_privilege(kustomized: list[dict[str, Any]]) -> None:
    cluster = rules(kustomized, "ClusterRole")
    namespaced = role_rules(kustomized)
    for rule in cluster + namespaced["events"] + namespaced["operator"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        assert not {"deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"])
        # The deletes: a MachineRaidSet's MachineRaids, a SnapshotSchedule's Snapshots and Backups.
        assert "delete" not in rule["verbs"] or rule["resources"] in (
            ["machineraids"],
            ["snapshots", "backups"],
        )
    assert all("secrets" not in rule["resources"] for rule in cluster), (
        "Secrets only in the operator's namespace"
    )
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in cluster:
        for g in rule["apiGroups"]:
            for r in rule["resources"]:
                grants.setdefault((g, r), set()).update(rule["verbs"])
    for group, plural in [
        ("linstor.stratum.dev", "resourcegroups"),
        ("linstor.stratum.dev", "resources"),
        ("linstor.stratum.dev", "snapshots"),
        ("linstor.stratum.dev", "snapshotschedules"),
        ("linstor.stratum.dev", "remotes"),
        ("linstor.stratum.dev", "backups"),
        ("maas.stratum.dev", "machineraidsets"),
    ]:
        created = {"create", "delete"} if plural in ("snapshots", "backups") else set()
        assert grants[(group, plural)] == {"get", "list", "watch", "patch"} | created
        assert grants[(group, f"{plural}/status")] == {"patch"}
    # MachineRaidSets create and delete their MachineRaids, and own them with blockOwnerDeletion.
    assert grants[("maas.stratum.dev", "machineraids")] == {
        "get",
        "list",
        "watch",
        "patch",
        "create",
        "delete",
    }
    assert grants[("maas.stratum.dev", "machineraids/status")] == {"patch"}
    assert grants[("maas.stratum.dev", "machineraidsets/finalizers")] == {"update"}
    assert grants[("apiextensions.k8s.io", "customresourcedefinitions")] == {"list", "watch"}
    assert len(grants) == 18
    # Events (of cluster-scoped objects) in default; one Secret read by name in the operator's namespace.
    assert namespaced == {
        "events": [{"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}],
        "operator": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}],
    }
    sa = find(kustomized, "ServiceAccount")["metadata"]
    bindings = [d for d in kustomized if d["kind"] in ("ClusterRoleBinding", "RoleBinding")]
    assert len(bindings) == 3
    for binding in bindings:
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": sa["name"], "namespace": sa["namespace"]}
        ]


def test_chart_defaults_configure_no_backend(helm: Helm) -> None:
    """Each backend is optional: by default none is configured, so the pod needs no Secret."""
    deployment = find(helm.template(), "Deployment")
    env = env_of(deployment)
    assert not [name for name in env if name.startswith(("LS_", "MAAS_"))]
    assert [v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]] == ["tmp"]
    check_restricted_pod(deployment["spec"]["template"]["spec"])


def test_chart_with_both_backends_matches_deploy(
    kustomized: list[dict[str, Any]], charted: list[dict[str, Any]]
) -> None:
    assert rules(charted, "ClusterRole") == rules(kustomized, "ClusterRole")
    assert role_rules(charted) == role_rules(kustomized)
    deployment = find(charted, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    check_restricted_pod(deployment["spec"]["template"]["spec"])
    ours, theirs = container(deployment), container(find(kustomized, "Deployment"))
    for key in ("securityContext", "livenessProbe", "resources", "volumeMounts", "ports"):
        assert ours[key] == theirs[key], key
    pod_ours = deployment["spec"]["template"]["spec"]
    pod_theirs = find(kustomized, "Deployment")["spec"]["template"]["spec"]
    assert pod_ours["securityContext"] == pod_theirs["securityContext"]
    assert pod_ours["volumes"] == pod_theirs["volumes"]
    env = env_of(deployment)
    config = find(kustomized, "ConfigMap")["data"]
    assert env["LS_CONTROLLERS"] == config["LS_CONTROLLERS"]
    assert env["MAAS_API_URL"] == config["MAAS_API_URL"]
    for name in (
        "LS_ROOT_CA",
        "LS_USER_CERTIFICATE",
        "LS_USER_KEY",
        "MAAS_API_KEY",
        "PYTHONDONTWRITEBYTECODE",
    ):
        assert env[name] == env_of(find(kustomized, "Deployment"))[name], name
    assert ours["image"] == "stratum:0.1.0"  # the chart's appVersion
    assert ours["args"][:2] == theirs["args"]
    service = find(charted, "Service")
    assert service["spec"]["ports"] == find(kustomized, "Service")["spec"]["ports"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert not [d for d in charted if d["kind"] in ("PodDisruptionBudget", "ServiceMonitor")]
    # The CRDs ship in the chart's crds/ folder (installed once, kept on uninstall), not as templates.
    assert not [d for d in charted if d["kind"] == "CustomResourceDefinition"]


def test_chart_ships_crds_unchanged(helm: Helm) -> None:
    # `helm show crds` prints the chart's crds/ files one after the other.
    shown = helm.run("show", "crds", str(CHART)).stdout
    for path in CRD_FILES:
        assert path.read_text() in shown, f"{path.name} differs in the chart"
    assert shown.count("kind: CustomResourceDefinition") == len(CRD_FILES)


def test_chart_high_availability_values(helm: Helm) -> None:
    docs = helm.template(
        "--set",
        "replicaCount=2",
        "--set",
        "leaderElection.enabled=true",
        "--set",
        "podDisruptionBudget.enabled=true",
    )
    deployment = find(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    args = container(deployment)["args"]
    assert "--lease-namespace=stratum-system" in args
    assert "--lease-name=stratum-operator" in args
    assert "--identity=$(POD_NAME)" in args
    assert env_of(deployment)["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    pdb = find(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    role = role_rules(docs)["operator"]
    assert {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]} in role
    assert {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "resourceNames": ["stratum-operator"],
        "verbs": ["get", "update"],
    } in role
    assert find(docs, "Role", "stratum")["metadata"]["namespace"] == "stratum-system"


def test_chart_optional_service_monitor_and_overrides(helm: Helm) -> None:
    docs = helm.template(
        "--set",
        "metrics.serviceMonitor.enabled=true",
        "--set",
        "image.digest=sha256:" + "a" * 64,
        "--set",
        "linstor.controllers=linstor://linstor:3370",
        "--set",
        "operator.driftInterval=30",
        release="ops",
        namespace="storage",
    )
    monitor = find(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    service_labels = find(docs, "Service")["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["storage"]}
    deployment = find(docs, "Deployment")
    c = container(deployment)
    assert c["image"] == "stratum@sha256:" + "a" * 64
    assert "--drift-interval=30" in c["args"]
    env = env_of(deployment)
    assert env["LS_CONTROLLERS"] == "linstor://linstor:3370"
    assert not {"LS_ROOT_CA", "MAAS_API_URL", "MAAS_API_KEY"} & env.keys()
    assert [v["name"] for v in deployment["spec"]["template"]["spec"]["volumes"]] == ["tmp"]
    assert find(docs, "ClusterRoleBinding")["subjects"][0] == {
        "kind": "ServiceAccount",
        "name": "ops-stratum",
        "namespace": "storage",
    }


def test_helm_lint_passes(helm: Helm) -> None:
    out = helm.run("lint", str(CHART), "--strict")
    assert "0 chart(s) failed" in out.stdout


BAD_VALUES = [
    ("replicaCount=abc", "/replicaCount", "want integer"),
    ("unknownKey=1", "", "additional properties 'unknownKey' not allowed"),
    ("image.tagg=1", "/image", "additional properties 'tagg' not allowed"),
    ("replicaCount=2", "/leaderElection/enabled", "value must be true"),
    ("podDisruptionBudget.enabled=true", "/replicaCount", "minimum"),
    ("image.pullPolicy=Sometimes", "/image/pullPolicy", "value must be one of"),
    ("maas.apiUrl=ftp://maas", "/maas/apiUrl", "does not match pattern"),
    ("maas.apiUrl=http://maas:5240/MAAS/", "/maas/apiUrl", "does not match pattern '^$|^https://'"),
    ("linstor.tls.certManager.enabled=true", "/linstor/controllers", "minLength"),
    ("networkPolicy.enabled=true", "/networkPolicy/apiServer/cidrs", "minItems"),
    ("operator.logFormat=yaml", "/operator/logFormat", "value must be one of"),
    ("metrics.port=0", "/metrics/port", "minimum"),
]


@pytest.mark.parametrize("command", ["lint", "template"])
@pytest.mark.parametrize(("setting", "where", "message"), BAD_VALUES, ids=[b[0] for b in BAD_VALUES])
def test_bad_values_fail_with_a_schema_error(
    helm: Helm, command: str, setting: str, where: str, message: str
) -> None:
    args = [command, str(CHART)] if command == "lint" else [command, "stratum", str(CHART)]
    proc = helm.run(*args, "--set", setting, check=False)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert SCHEMA_ERROR in output, output
    assert f"at '{where}'" in output and message in output, output


# ---------------------------------------------------------------------------- on a real control plane


def test_kubectl_apply_k_deploy(kustomize_plane: ControlPlane, kustomized: list[dict[str, Any]]) -> None:
    kube = kustomize_plane.kube
    applied = kube.run("apply", "-k", str(ROOT / "deploy")).stdout
    assert "namespace/stratum-system created" in applied
    for name in CRD_NAMES:
        assert f"customresourcedefinition.apiextensions.k8s.io/{name} created" in applied
    kube.run("wait", "--for=condition=Established", "crd", *CRD_NAMES, "--timeout=60s")
    for doc in kustomized:
        ns = ["-n", doc["metadata"]["namespace"]] if "namespace" in doc["metadata"] else []
        kube.run("get", doc["kind"].lower(), doc["metadata"]["name"], *ns)
    stored = json.loads(kube.run("get", "deployment", "stratum-operator", "-n", NS, "-o", "json").stdout)
    check_restricted_pod(stored["spec"]["template"]["spec"])
    # Applying again changes nothing: the output is stable (no generated names or timestamps drift).
    again = kube.run("apply", "-k", str(ROOT / "deploy")).stdout
    assert all(line.endswith("unchanged") for line in again.strip().splitlines()), again
    # The CRDs work: a user object is accepted.
    kube.apply(
        {
            "apiVersion": "linstor.stratum.dev/v1alpha1",
            "kind": "ResourceGroup",
            "metadata": {"name": "deploy-rg"},
            "spec": {"placement": {"placeCount": 1}},
        }
    )
    assert kube.exists("resourcegroups.linstor.stratum.dev", "deploy-rg")


def pod_from(deployment: dict[str, Any], namespace: str) -> dict[str, Any]:
    template = copy.deepcopy(deployment["spec"]["template"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "psa-check", "namespace": namespace, "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
    }


def test_operator_pods_pass_pod_security_restricted(
    kustomize_plane: ControlPlane, kustomized: list[dict[str, Any]], charted: list[dict[str, Any]]
) -> None:
    """No scheduler runs here, so the Deployment makes no Pods: the pods it would make (from deploy/
    and from the chart) go through the API server's admission with a server-side dry run in the
    namespace that enforces "restricted"; a pod without the securityContext is refused there."""
    kube = kustomize_plane.kube
    kube.run("get", "namespace", NS)
    for deployment in (find(kustomized, "Deployment"), find(charted, "Deployment")):
        out = kube.run(
            "create",
            "--dry-run=server",
            "-o",
            "name",
            "-f",
            "-",
            input=yaml.safe_dump(pod_from(deployment, NS)),
        )
        assert out.stdout.strip() == "pod/psa-check"
    insecure = pod_from(find(kustomized, "Deployment"), NS)
    del insecure["spec"]["securityContext"]
    del insecure["spec"]["containers"][0]["securityContext"]
    with pytest.raises(KubectlError) as refused:
        kube.run("create", "--dry-run=server", "-f", "-", input=yaml.safe_dump(insecure))
    assert 'violates PodSecurity "restricted' in refused.value.stderr


def test_helm_install_installs_crds_and_keeps_them_on_uninstall(helm_plane: ControlPlane, helm: Helm) -> None:
    kube = helm_plane.kube
    h = Helm(helm.binary, helm.home, kube.kubeconfig)
    installed = h.run("install", "stratum", str(CHART), "--namespace", NS, "--create-namespace")
    assert "STATUS: deployed" in installed.stdout
    kube.run("wait", "--for=condition=Established", "crd", *CRD_NAMES, "--timeout=60s")
    for kind, name in [
        ("serviceaccount", "stratum"),
        ("role", "stratum"),
        ("rolebinding", "stratum"),
        ("deployment", "stratum"),
        ("service", "stratum-metrics"),
    ]:
        kube.run("get", kind, name, "-n", NS)
    kube.run("get", "clusterrole", "stratum")
    kube.run("get", "clusterrolebinding", "stratum")
    status = json.loads(h.run("status", "stratum", "-n", NS, "-o", "json").stdout)
    assert status["info"]["status"] == "deployed"

    # HA upgrade: the PDB and the lease rules appear; back to one replica removes them.
    h.run(
        "upgrade",
        "stratum",
        str(CHART),
        "-n",
        NS,
        "--set",
        "replicaCount=2",
        "--set",
        "leaderElection.enabled=true",
        "--set",
        "podDisruptionBudget.enabled=true",
    )
    kube.run("get", "poddisruptionbudget", "stratum", "-n", NS)
    role = json.loads(kube.run("get", "role", "stratum", "-n", NS, "-o", "json").stdout)
    assert any("leases" in r["resources"] for r in role["rules"])
    h.run("upgrade", "stratum", str(CHART), "-n", NS, "--reset-values")
    assert kube.run("get", "poddisruptionbudget", "-n", NS, "-o", "name").stdout.strip() == ""

    kube.apply(
        {
            "apiVersion": "maas.stratum.dev/v1alpha1",
            "kind": "MachineRaid",
            "metadata": {"name": "kept"},
            "spec": {"machine": {"hostname": "node-1"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
        }
    )
    h.run("uninstall", "stratum", "-n", NS, "--wait")
    assert kube.run("get", "deployment,serviceaccount,role", "-n", NS, "-o", "name").stdout.strip() == ""
    assert kube.run("get", "clusterrole", "stratum", "--ignore-not-found", "-o", "name").stdout.strip() == ""
    # Kept: the CRDs, and so every user object.
    assert sorted(kube.run("get", "crd", "-o", "name").stdout.split()) == [
        f"customresourcedefinition.apiextensions.k8s.io/{n}" for n in CRD_NAMES
    ]
    assert kube.exists("machineraids.maas.stratum.dev", "kept")
    # Reinstalling over the kept CRDs works (Helm skips CRDs that exist).
    h.run("install", "stratum", str(CHART), "--namespace", NS)


def test_plain_http_maas_needs_the_explicit_opt_in(helm: Helm) -> None:
    docs = helm.template(
        "--set", "maas.apiUrl=http://maas:5240/MAAS/", "--set", "maas.allowInsecureHttp=true"
    )
    assert env_of(find(docs, "Deployment"))["MAAS_API_URL"] == "http://maas:5240/MAAS/"
