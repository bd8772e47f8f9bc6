"""Every install shape of charts/stratum, rendered with the pinned helm and sent to the real API server
with a server-side dry run: the server validates each object against its schema (built-in kinds, our
CRDs, and minimal CRDs standing in for cert-manager and the Prometheus operator) and runs admission,
including Pod Security "restricted" on the namespace. Each shape also checks what it renders: which
Secrets the pod needs, which environment variables and volumes a backend gets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from stratum.cli import build_parser
from support.helm import CHART, Helm, helm_binary
from support.kube import ControlPlane, Kube

pytestmark = pytest.mark.e2e

NS = "stratum-shapes"
LINSTOR_ENV = {"LS_CONTROLLERS", "LS_ROOT_CA", "LS_USER_CERTIFICATE", "LS_USER_KEY"}
MAAS_ENV = {"MAAS_API_URL", "MAAS_API_KEY", "MAAS_CA_CERT"}


def crd(group: str, plural: str, kind: str, spec_schema: dict[str, Any]) -> dict[str, Any]:
    """A stand-in CRD: the real kind's names and a schema that keeps every field (as the real CRD
    would accept them) but requires what the real one requires."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "required": ["spec"],
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                    **spec_schema,
                                }
                            },
                        }
                    },
                }
            ],
        },
    }


def keep(type_: str = "object") -> dict[str, Any]:
    return {"type": type_, "x-kubernetes-preserve-unknown-fields": True}


# Required fields as in cert-manager's and prometheus-operator's own CRDs.
STAND_IN_CRDS = [
    crd(
        "cert-manager.io",
        "certificates",
        "Certificate",
        {
            "required": ["issuerRef", "secretName"],
            "properties": {
                "secretName": {"type": "string"},
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "kind": {"type": "string"}},
                },
            },
        },
    ),
    crd(
        "monitoring.coreos.com",
        "servicemonitors",
        "ServiceMonitor",
        {"required": ["selector"], "properties": {"selector": keep()}},
    ),
    crd(
        "monitoring.coreos.com",
        "prometheusrules",
        "PrometheusRule",
        {
            "properties": {
                "groups": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string", "minLength": 1},
                            "rules": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["expr"],
                                    "x-kubernetes-preserve-unknown-fields": True,
                                    "properties": {"expr": {"x-kubernetes-int-or-string": True}},
                                },
                            },
                        },
                    },
                }
            }
        },
    ),
]


@dataclass
class Shape:
    name: str
    values: dict[str, Any]
    secrets: set[str]
    """Exactly the Secrets the operator pod references (and so needs before it can start)."""
    kinds: set[str]
    """Kinds rendered beyond the always-present ones."""


BASE_KINDS = {
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "Deployment",
}
LINSTOR = {"controllers": "linstor+ssl://linstor-controller.piraeus-datastore.svc:3371"}
MAAS = {"apiUrl": "https://maas.example:5443/MAAS/", "apiKeySecret": {"name": "maas-key", "key": "api-key"}}

SHAPES = [
    Shape("defaults", {}, set(), set()),
    Shape(
        "linstor-only",
        {"linstor": {**LINSTOR, "tls": {"existingSecret": "linstor-client"}}},
        {"linstor-client"},
        set(),
    ),
    Shape(
        "maas-only",
        {"maas": {**MAAS, "caSecret": {"name": "maas-ca"}}},
        {"maas-key", "maas-ca"},
        set(),
    ),
    Shape(
        "both",
        {"linstor": {**LINSTOR, "tls": {"existingSecret": "linstor-client"}}, "maas": MAAS},
        {"linstor-client", "maas-key"},
        set(),
    ),
    Shape(
        "cert-manager",
        {
            "linstor": {
                **LINSTOR,
                "tls": {
                    "certManager": {
                        "enabled": True,
                        "issuerRef": {"name": "linstor-ca", "kind": "ClusterIssuer"},
                    }
                },
            }
        },
        {"stratum-linstor-client-tls"},
        {"Certificate"},
    ),
    Shape(
        "networkpolicy",
        {
            "linstor": LINSTOR,
            "maas": MAAS,
            "networkPolicy": {
                "enabled": True,
                "apiServer": {"cidrs": ["10.96.0.1/32", "192.168.10.5/32"]},
                "linstor": {
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "piraeus"}}}]
                },
                "maas": {"to": [{"ipBlock": {"cidr": "192.168.20.0/24"}}], "ports": [5443]},
                "metricsFrom": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
                ],
            },
        },
        {"maas-key"},
        {"NetworkPolicy"},
    ),
    Shape(
        "extras",
        {
            "linstor": {"controllers": "linstor://linstor-controller:3370"},
            "commonLabels": {"team": "storage", "cost-center": "1234"},
            "operator": {"logFormat": "json"},
            "liveness": {"probe": {"periodSeconds": 30, "failureThreshold": 3}},
            "extraVolumes": [{"name": "bundle", "configMap": {"name": "ca-bundle"}}],
            "extraVolumeMounts": [{"name": "bundle", "mountPath": "/etc/ssl/bundle", "readOnly": True}],
            "metrics": {"serviceMonitor": {"enabled": True}},
            "dashboards": {"enabled": True, "annotations": {"grafana_folder": "Storage"}},
            "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        },
        set(),
        {"ServiceMonitor", "ConfigMap", "PrometheusRule"},
    ),
    Shape(
        "ha",
        {
            "linstor": {**LINSTOR, "tls": {"existingSecret": "linstor-client"}},
            "replicaCount": 2,
            "leaderElection": {"enabled": True},
            "podDisruptionBudget": {"enabled": True},
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule"}
            ],
        },
        {"linstor-client"},
        {"PodDisruptionBudget"},
    ),
]


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary(), tmp_path_factory.mktemp("helm-shapes"))


@pytest.fixture(scope="module")
def plane(controlplane: ControlPlane) -> Iterator[Kube]:
    """The session control plane (our CRDs installed) plus the stand-in CRDs and a namespace that
    enforces Pod Security "restricted"."""
    kube = controlplane.kube
    kube.apply(STAND_IN_CRDS, "--server-side")
    names = [c["metadata"]["name"] for c in STAND_IN_CRDS]
    kube.run("wait", "--for=condition=Established", *[f"crd/{n}" for n in names], "--timeout=60s")
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NS, "labels": {"pod-security.kubernetes.io/enforce": "restricted"}},
        }
    )
    yield kube
    kube.run("delete", "namespace", NS, "--wait=false")
    kube.run("delete", "crd", *names, "--wait=false")


def render(helm: Helm, values: dict[str, Any]) -> list[dict[str, Any]]:
    path = helm.home / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return helm.template("--values", str(path), namespace=NS)


def pod_spec(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    return dict(deployment["spec"]["template"]["spec"])


def referenced_secrets(pod: dict[str, Any]) -> set[str]:
    names = {v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
    for c in pod["containers"]:
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                names.add(ref["name"])
    return names


def env(pod: dict[str, Any]) -> dict[str, Any]:
    (c,) = pod["containers"]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_shape_renders_what_it_needs_and_the_api_server_accepts_it(
    plane: Kube, helm: Helm, shape: Shape
) -> None:
    docs = render(helm, shape.values)
    assert {d["kind"] for d in docs} == BASE_KINDS | shape.kinds
    pod = pod_spec(docs)
    assert referenced_secrets(pod) == shape.secrets
    # Certificates are mounted as whole directories, so the kubelet updates renewed files in place.
    (container,) = pod["containers"]
    assert not [m for m in container["volumeMounts"] if "subPath" in m]
    variables = env(pod)
    linstor = shape.values.get("linstor", {})
    maas = shape.values.get("maas", {})
    with_tls = bool(linstor.get("tls"))
    if not linstor:
        assert not LINSTOR_ENV & variables.keys()
    else:
        assert LINSTOR_ENV & variables.keys() == (LINSTOR_ENV if with_tls else {"LS_CONTROLLERS"})
    assert ("linstor-tls" in {v["name"] for v in pod["volumes"]}) == with_tls
    want_maas = {"MAAS_API_URL", "MAAS_API_KEY"} | ({"MAAS_CA_CERT"} if "caSecret" in maas else set())
    assert MAAS_ENV & variables.keys() == (want_maas if maas else set())

    # The server validates and admits every object; nothing is stored.
    proc = plane.run(
        "apply", "--server-side", "--dry-run=server", "-o", "json", "-f", "-", input=yaml.safe_dump_all(docs)
    )
    assert "PodSecurity" not in proc.stderr, proc.stderr
    accepted = json.loads(proc.stdout)
    items = accepted["items"] if accepted.get("kind") == "List" else [accepted]
    assert sorted((i["kind"], i["metadata"]["name"]) for i in items) == sorted(
        (d["kind"], d["metadata"]["name"]) for d in docs
    )
    assert plane.run("get", "deployment", "-n", NS, "-o", "name").stdout.strip() == ""


def test_certificate_feeds_the_mounted_secret(helm: Helm) -> None:
    (shape,) = [s for s in SHAPES if s.name == "cert-manager"]
    docs = render(helm, shape.values)
    (cert,) = [d for d in docs if d["kind"] == "Certificate"]
    assert cert["apiVersion"] == "cert-manager.io/v1"
    assert cert["spec"]["issuerRef"] == {
        "name": "linstor-ca",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }
    assert "client auth" in cert["spec"]["usages"]
    assert cert["spec"]["privateKey"]["rotationPolicy"] == "Always"
    pod = pod_spec(docs)
    (tls,) = [v for v in pod["volumes"] if v["name"] == "linstor-tls"]
    assert tls["secret"]["secretName"] == cert["spec"]["secretName"]
    assert env(pod)["LS_USER_CERTIFICATE"] == "/etc/stratum/linstor-tls/tls.crt"


def test_network_policy_allows_only_the_configured_peers(helm: Helm) -> None:
    (shape,) = [s for s in SHAPES if s.name == "networkpolicy"]
    docs = render(helm, shape.values)
    (policy,) = [d for d in docs if d["kind"] == "NetworkPolicy"]
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["podSelector"]["matchLabels"] == pod_selector(docs)
    assert spec["ingress"] == [
        {
            "ports": [{"port": "metrics", "protocol": "TCP"}],
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
        }
    ]
    dns, api, linstor, maas = spec["egress"]
    assert {p["port"] for p in dns["ports"]} == {53} and dns["to"][0]["podSelector"]
    assert api["to"] == [{"ipBlock": {"cidr": "10.96.0.1/32"}}, {"ipBlock": {"cidr": "192.168.10.5/32"}}]
    assert [p["port"] for p in linstor["ports"]] == [3370, 3371]
    assert linstor["to"][0]["namespaceSelector"]
    assert maas == {
        "ports": [{"port": 5443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "192.168.20.0/24"}}],
    }
    # A backend that is not configured gets no egress rule.
    only_linstor = render(helm, {**shape.values, "maas": {"apiUrl": ""}})
    (policy,) = [d for d in only_linstor if d["kind"] == "NetworkPolicy"]
    assert len(policy["spec"]["egress"]) == 3
    # Without the metrics port no ingress at all.
    closed = render(helm, {**shape.values, "metrics": {"enabled": False}})
    (policy,) = [d for d in closed if d["kind"] == "NetworkPolicy"]
    assert policy["spec"]["ingress"] == [] and "Ingress" in policy["spec"]["policyTypes"]


def pod_selector(docs: list[dict[str, Any]]) -> dict[str, str]:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    return dict(deployment["spec"]["selector"]["matchLabels"])


def test_extras_reach_every_object(helm: Helm) -> None:
    (shape,) = [s for s in SHAPES if s.name == "extras"]
    docs = render(helm, shape.values)
    for doc in docs:
        assert doc["metadata"]["labels"]["team"] == "storage", doc["kind"]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["metadata"]["labels"]["cost-center"] == "1234"
    pod = pod_spec(docs)
    (container,) = pod["containers"]
    assert "--log-format=json" in container["args"]
    probe = container["livenessProbe"]
    assert (probe["periodSeconds"], probe["failureThreshold"], probe["timeoutSeconds"]) == (30, 3, 5)
    assert probe["httpGet"] == {"path": "/healthz", "port": "health"}
    assert {"name": "bundle", "configMap": {"name": "ca-bundle"}} in pod["volumes"]
    assert {"name": "bundle", "mountPath": "/etc/ssl/bundle", "readOnly": True} in container["volumeMounts"]
    (dashboard,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["annotations"] == {"grafana_folder": "Storage"}
    assert json.loads(dashboard["data"]["stratum.json"])["uid"] == "stratum-operator"
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())


def test_ha_spreads_pods_with_the_chart_selector(helm: Helm) -> None:
    (shape,) = [s for s in SHAPES if s.name == "ha"]
    docs = render(helm, shape.values)
    (constraint,) = pod_spec(docs)["topologySpreadConstraints"]
    assert constraint["labelSelector"] == {"matchLabels": pod_selector(docs)}
    assert constraint["topologyKey"] == "kubernetes.io/hostname"
    own = helm.template(
        "--set-json",
        'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"ScheduleAnyway",'
        '"labelSelector":{"matchLabels":{"a":"b"}}}]',
    )
    (constraint,) = pod_spec(own)["topologySpreadConstraints"]
    assert constraint["labelSelector"] == {"matchLabels": {"a": "b"}}, "a given selector is kept as is"


def test_the_dry_run_refuses_what_the_server_would_refuse(plane: Kube, helm: Helm) -> None:
    """The checks above can fail: the same dry run warns about a pod outside "restricted" and
    refuses a Certificate without the fields cert-manager requires."""
    docs = render(helm, {"securityContext": {"allowPrivilegeEscalation": True}})
    proc = plane.run("apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(docs))
    assert 'would violate PodSecurity "restricted' in proc.stderr
    (shape,) = [s for s in SHAPES if s.name == "cert-manager"]
    (cert,) = [d for d in render(helm, shape.values) if d["kind"] == "Certificate"]
    del cert["spec"]["secretName"]
    refused = plane.run(
        "apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump(cert), check=False
    )
    assert refused.returncode != 0
    assert "spec.secretName: Required value" in refused.stderr


@pytest.mark.parametrize("name", ["defaults", "linstor-only", "maas-only", "cert-manager"])
def test_install_notes_name_only_the_secrets_of_configured_backends(
    plane: Kube, helm: Helm, name: str
) -> None:
    (shape,) = [s for s in SHAPES if s.name == name]
    path = helm.home / f"{name}.yaml"
    path.write_text(yaml.safe_dump(shape.values))
    installer = Helm(helm.binary, helm.home, plane.kubeconfig)
    out = installer.run(
        "install", "stratum", str(CHART), "-n", NS, "--values", str(path), "--dry-run=server"
    ).stdout
    notes = out.split("NOTES:", 1)[1]
    created = set(re.findall(r"create secret generic (\S+)", notes))
    assert created == shape.secrets - {"stratum-linstor-client-tls"}, notes
    assert ("No backend is configured" in notes) == (name == "defaults")
    if name == "cert-manager":
        assert "writes Secret stratum-linstor-client-tls" in notes.replace("\n", " ")


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_shape_passes_helm_lint_strict(helm: Helm, shape: Shape) -> None:
    path = helm.home / f"lint-{shape.name}.yaml"
    path.write_text(yaml.safe_dump(shape.values))
    out = helm.run("lint", str(CHART), "--strict", "--values", str(path)).stdout
    assert "0 chart(s) failed" in out


def test_deploy_monitoring_is_accepted_by_the_api_server(plane: Kube) -> None:
    """deploy/monitoring (PrometheusRule, ServiceMonitor, dashboard ConfigMap) for installs without
    the chart, through the same server-side dry run (moved into this test's namespace)."""
    out = plane.run("kustomize", str(CHART.parents[1] / "deploy" / "monitoring")).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "PrometheusRule", "ServiceMonitor"]
    (dashboard,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert dashboard["metadata"]["labels"] == {"grafana_dashboard": "1"}
    assert json.loads(dashboard["data"]["stratum.json"]) == json.loads(
        (CHART / "files" / "dashboard.json").read_text()
    )
    (monitor,) = [d for d in docs if d["kind"] == "ServiceMonitor"]
    service = yaml.safe_load((CHART.parents[1] / "deploy" / "service.yaml").read_text())
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    for doc in docs:
        doc["metadata"]["namespace"] = NS
    plane.run("apply", "--server-side", "--dry-run=server", "-f", "-", input=yaml.safe_dump_all(docs))


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_shape_args_are_accepted_by_stratum_run(helm: Helm, shape: Shape) -> None:
    (container,) = pod_spec(render(helm, shape.values))["containers"]
    args = build_parser().parse_args(["run", *container["args"]])
    assert args.log_format == shape.values.get("operator", {}).get("logFormat", "text")
