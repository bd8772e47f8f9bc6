"""kstatus (the cli-utils library Flux uses) and the Argo CD Lua health checks on LIVE objects
written by the running operator: InProgress / Progressing while converging, Failed / Degraded
when stalled, Current / Healthy once Ready, Suspended while paused, and observedGeneration
catching up during a backend outage without ever reading Current.

Some of these objects, sanitized (`sanitized`), are kept under deploy/argocd/*/*/testdata as
`live-*.yaml`, so the Lua tests (tests/unit/gitops) also run on real operator output; each
verdict here is also checked on the sanitized object."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support import kstatus
from support.argo_health import CUSTOMIZATIONS, run_health
from support.kube import Kube
from support.machines import ready_machine
from support.operator import OperatorProcess
from support.waiting import eventually

LINSTOR = "linstor.stratum.dev/v1alpha1"
MAAS = "maas.stratum.dev/v1alpha1"
BOOKKEEPING = ("kubectl.kubernetes.io/last-applied-configuration",)
DROPPED_METADATA = (
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
)


@pytest.fixture(autouse=True)
def _kstatus(kstatus_binary: Path) -> None:
    """Build (or find) the kstatus helper before the clock of a test starts."""


def sanitized(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without what differs run to run (ids, versions, timestamps) and without the
    bookkeeping annotations of kubectl and kopf (kopf's are under stratum.dev/, like the pause)."""
    out = copy.deepcopy(obj)
    metadata = out["metadata"]
    for key in DROPPED_METADATA:
        metadata.pop(key, None)
    annotations = {
        k: v
        for k, v in (metadata.get("annotations") or {}).items()
        if k not in BOOKKEEPING and (not k.startswith("stratum.dev/") or k == "stratum.dev/paused")
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    for condition in out.get("status", {}).get("conditions", []):
        condition.pop("lastTransitionTime", None)
    return out


def verdicts(kube: Kube, resource: str, name: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(kstatus status, Argo CD health, the object) of the live object, read once."""
    obj = kube.get(resource, name)
    group = obj["apiVersion"].split("/")[0]
    script = (CUSTOMIZATIONS / group / obj["kind"] / "health.lua").read_text()
    (verdict,) = kstatus.compute(obj)
    return verdict.status, run_health(script, obj), obj


def settled(kube: Kube, resource: str, name: str, kstatus_status: str, argo: str) -> dict[str, Any]:
    """Wait until both tools read these verdicts; the object as read then."""
    found = eventually(
        f"{resource}/{name} reads {kstatus_status} / {argo}",
        lambda: (v := verdicts(kube, resource, name))[0] == kstatus_status and v[1]["status"] == argo and v,
    )
    _, health, obj = found
    assert_kept_copy_agrees(obj, health)
    return dict(obj)


def assert_kept_copy_agrees(obj: dict[str, Any], health: dict[str, str]) -> None:
    """Sanitizing (as for the kept copies) drops nothing the Lua check reads."""
    group = obj["apiVersion"].split("/")[0]
    script = (CUSTOMIZATIONS / group / obj["kind"] / "health.lua").read_text()
    assert run_health(script, sanitized(obj)) == health


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}


def test_a_resource_reads_in_progress_while_waiting_then_current_and_suspended_when_paused(
    kube: Kube, operator: OperatorProcess
) -> None:
    resource = {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": "live-data"},
        "spec": {"resourceGroup": "live-group", "volumes": [{"size": "1Gi"}]},
    }
    group = {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": "live-group"},
        "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
    }
    kube.apply(resource)
    waiting = settled(kube, "lr", "live-data", "InProgress", "Progressing")
    assert conditions(waiting)["Ready"]["reason"] == "WaitingForResourceGroup"
    assert conditions(waiting)["Reconciling"]["status"] == "True"

    kube.apply(group)
    settled(kube, "lrg", "live-group", "Current", "Healthy")
    ready = settled(kube, "lr", "live-data", "Current", "Healthy")
    assert ready["status"]["observedGeneration"] == ready["metadata"]["generation"]

    kube.run("annotate", "lr", "live-data", "stratum.dev/paused=true")
    eventually("paused", lambda: conditions(kube.get("lr", "live-data"))["Synced"]["reason"] == "Paused")
    # Nothing pending at this generation: kstatus reads Current; Argo CD shows the pause.
    paused = settled(kube, "lr", "live-data", "Current", "Suspended")
    assert paused["metadata"]["annotations"]["stratum.dev/paused"] == "true"
    kube.run("annotate", "lr", "live-data", "stratum.dev/paused-")
    kube.delete("lr", "live-data")
    kube.delete("lrg", "live-group")


def test_a_machineraid_naming_a_missing_disk_reads_failed_and_degraded(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim
) -> None:
    maas_sim.add_machine(ready_machine("live01", "live-e2e", "sdb", "sdc"))
    raid = {
        "apiVersion": MAAS,
        "kind": "MachineRaid",
        "metadata": {"name": "live-raid"},
        "spec": {"machine": {"systemId": "live01"}, "level": "raid-1", "devices": ["sdb", "sdz"]},
    }
    kube.apply(raid)
    stalled = settled(kube, "mraid", "live-raid", "Failed", "Degraded")
    assert conditions(stalled)["Stalled"]["reason"] == "DeviceNotFound"
    kube.patch("mraid", "live-raid", {"spec": {"devices": ["sdb", "sdc"]}})
    fixed = settled(kube, "mraid", "live-raid", "Current", "Healthy")
    assert (
        fixed["status"]["observedGeneration"]
        == fixed["metadata"]["generation"]
        == stalled["metadata"]["generation"] + 1
    )
    kube.delete("mraid", "live-raid")


def test_observed_generation_catches_up_during_an_outage_and_never_reads_current(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    group = {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": "live-outage"},
        "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
    }
    kube.apply(group)
    before = settled(kube, "lrg", "live-outage", "Current", "Healthy")
    linstor_sim.faults.update({"down": True})
    try:
        kube.patch("lrg", "live-outage", {"spec": {"description": "edited during an outage"}})
        generation = before["metadata"]["generation"] + 1
        seen: set[str] = set()

        def failed_pass_observed() -> tuple[str, dict[str, str], dict[str, Any]] | None:
            verdict = verdicts(kube, "lrg", "live-outage")
            status, _, obj = verdict
            seen.add(status)
            assert status != "Current", obj  # an edit the backend never got is never "done"
            observed = obj["status"].get("observedGeneration") == generation
            return verdict if observed and conditions(obj)["Ready"]["status"] == "False" else None

        status, health, obj = eventually("the failed pass is observed", failed_pass_observed, interval=0.3)
        conds = conditions(obj)
        assert obj["status"]["observedGeneration"] == generation  # the failed pass is observed
        assert (conds["Ready"]["reason"], conds["Reconciling"]["status"]) == ("BackendUnavailable", "True")
        assert status == "InProgress" and health["status"] == "Progressing", (status, health)
        assert_kept_copy_agrees(obj, health)
        assert seen <= {"InProgress"}
    finally:
        linstor_sim.faults.update({"down": False})
    after = settled(kube, "lrg", "live-outage", "Current", "Healthy")
    assert after["status"]["observedGeneration"] == generation
    kube.delete("lrg", "live-outage")
