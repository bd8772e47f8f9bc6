"""What the README's GitOps section says, on the real API server (no operator: the test writes the
status the operator would, through the status subresource)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from support import kstatus
from support.argo_health import CUSTOMIZATIONS, health_checks, run_health
from support.kube import Kube

pytestmark = pytest.mark.e2e

T = "2026-12-01T07:00:00Z"


def _conditions(generation: int, **statuses: str) -> list[dict[str, Any]]:
    return [
        {
            "type": type_,
            "status": status,
            "reason": "Test" + type_,
            "message": f"{type_} is {status}",
            "lastTransitionTime": T,
            "observedGeneration": generation,
        }
        for type_, status in statuses.items()
    ]


@pytest.fixture
def machineraid(kube: Kube) -> Iterator[str]:
    name = "gitops-wait"
    kube.apply(
        {
            "apiVersion": "maas.stratum.dev/v1alpha1",
            "kind": "MachineRaid",
            "metadata": {"name": name},
            "spec": {"machine": {"hostname": "node-9"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
        }
    )
    yield name
    kube.delete("machineraid", name)


def _set_status(kube: Kube, name: str, **statuses: str) -> dict[str, Any]:
    generation = kube.get("machineraid", name)["metadata"]["generation"]
    status = {"observedGeneration": generation, "conditions": _conditions(generation, **statuses)}
    kube.patch("machineraid", name, {"status": status}, subresource="status")
    return kube.get("machineraid", name)


def _waits(kube: Kube, name: str, condition: str) -> bool:
    proc = kube.run("wait", f"--for={condition}", f"machineraid/{name}", "--timeout=1s", check=False)
    return proc.returncode == 0


def test_kubectl_wait_kstatus_and_argo_cd_read_the_same_object(kube: Kube, machineraid: str) -> None:
    check = next(c for c in health_checks() if c.kind == "MachineRaid")

    obj = _set_status(kube, machineraid, Ready="True", Reconciling="True", Stalled="False")
    assert _waits(kube, machineraid, "condition=Ready")
    assert not _waits(kube, machineraid, "condition=Reconciling=false")
    assert kstatus.compute(obj)[0].status == "InProgress"
    assert run_health(check.script, obj)["status"] == "Progressing"

    obj = _set_status(kube, machineraid, Ready="False", Reconciling="False", Stalled="True")
    assert not _waits(kube, machineraid, "condition=Ready")
    assert kstatus.compute(obj)[0].status == "Failed"
    assert run_health(check.script, obj) == {"status": "Degraded", "message": "TestStalled: Stalled is True"}

    obj = _set_status(kube, machineraid, Ready="True", Reconciling="False", Stalled="False")
    assert _waits(kube, machineraid, "condition=Ready")
    assert _waits(kube, machineraid, "condition=Reconciling=false")
    assert kstatus.compute(obj)[0].status == "Current"
    assert run_health(check.script, obj)["status"] == "Healthy"

    # A spec edit the operator has not seen yet: generation moves, observedGeneration does not.
    kube.patch("machineraid", machineraid, {"spec": {"devices": ["sdb", "sdd"]}})
    obj = kube.get("machineraid", machineraid)
    assert obj["metadata"]["generation"] == obj["status"]["observedGeneration"] + 1
    assert not _waits(kube, machineraid, "condition=Ready")  # kubectl skips conditions of older generations
    assert kstatus.compute(obj)[0].status == "InProgress"
    assert run_health(check.script, obj)["status"] == "Progressing"
    _set_status(kube, machineraid, Ready="True", Reconciling="False", Stalled="False")
    assert _waits(kube, machineraid, "condition=Ready")


def test_argocd_cm_snippet_merges_into_an_existing_configmap(kube: Kube) -> None:
    kube.run("create", "namespace", "argocd")
    existing = {
        "url": "https://argocd.example",
        "resource.customizations.health.example.com_Thing": "hs = {}\n",
    }
    metadata = {"name": "argocd-cm", "namespace": "argocd"}
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": existing})
    kube.run(
        "-n", "argocd", "patch", "configmap", "argocd-cm", "--type", "merge",
        "--patch-file", str(CUSTOMIZATIONS / "argocd-cm.yaml"),
    )  # fmt: skip
    merged = json.loads(kube.run("-n", "argocd", "get", "configmap", "argocd-cm", "-o", "json").stdout)[
        "data"
    ]
    ours = {f"resource.customizations.health.{c.group}_{c.kind}": c.script for c in health_checks()}
    assert merged == {**existing, **ours}
