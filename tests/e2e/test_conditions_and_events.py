"""What Flux (kstatus), `kubectl wait` and `kubectl describe` read, on the real API server:
Events of cluster-scoped objects where describe finds them, observedGeneration on every pass
(failed ones too), and Stalled for a state only a person can fix."""

from __future__ import annotations

import json
from typing import Any

from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.kube import Kube
from support.machines import ready_machine
from support.operator import OperatorProcess
from support.waiting import eventually

LINSTOR = "linstor.stratum.dev/v1alpha1"
MAAS = "maas.stratum.dev/v1alpha1"


def group(name: str, **spec: Any) -> dict[str, Any]:
    body = {"placement": {"placeCount": 2, "storagePools": ["thin"]}, **spec}
    return {"apiVersion": LINSTOR, "kind": "ResourceGroup", "metadata": {"name": name}, "spec": body}


def conditions(kube: Kube, resource: str, name: str) -> dict[str, dict[str, Any]]:
    obj = kube.get(resource, name)
    return {c["type"]: c for c in obj.get("status", {}).get("conditions", [])}


def generations(kube: Kube, resource: str, name: str) -> tuple[int, int | None]:
    obj = kube.get(resource, name)
    return obj["metadata"]["generation"], obj.get("status", {}).get("observedGeneration")


def describe_events(kube: Kube, resource: str, name: str) -> str:
    """The Events section of `kubectl describe`."""
    text = kube.run("describe", resource, name).stdout
    return text.split("\nEvents:", 1)[1] if "\nEvents:" in text else ""


def described(kube: Kube, resource: str, name: str, text: str) -> str:
    """The Events section of `kubectl describe` once it mentions `text` (Events are posted in
    the background)."""
    return str(
        eventually(
            f"describe {resource}/{name} shows {text}",
            lambda: text in (shown := describe_events(kube, resource, name)) and shown,
        )
    )


def event_type(section: str, reason: str) -> str:
    """The Type column of the described Event with this reason."""
    rows = [line.split() for line in section.splitlines() if reason in line.split()]
    assert rows, section
    return rows[0][0]


def test_describe_shows_the_events_of_a_cluster_scoped_object(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(group("ev-rg"))
    kube.wait("lrg", "ev-rg")
    shown = described(kube, "lrg", "ev-rg", "created LINSTOR resource group ev-rg")
    assert event_type(shown, "Reconciled") == "Normal" and "<none>" not in shown
    # As the kubelet posts them for Nodes: in `default`, with no namespace on the involved object.
    items = json.loads(
        kube.run("get", "events", "-A", "--field-selector", "involvedObject.name=ev-rg", "-o", "json").stdout
    )["items"]
    ours = [e for e in items if e["source"].get("component") == "stratum"]
    assert ours and {e["metadata"]["namespace"] for e in ours} == {"default"}
    assert all("namespace" not in e["involvedObject"] for e in ours)
    assert {e["involvedObject"]["kind"] for e in ours} == {"ResourceGroup"}
    kube.delete("lrg", "ev-rg")


def test_observed_generation_catches_up_after_a_failing_update(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    kube.apply(group("gen-rg"))
    kube.wait("lrg", "gen-rg")
    kube.wait("lrg", "gen-rg", "condition=Reconciling=false")
    linstor_sim.faults.update({"down": True})
    try:
        kube.patch("lrg", "gen-rg", {"spec": {"description": "changed during an outage"}})
        generation, _ = generations(kube, "lrg", "gen-rg")
        # A pass ran at the new generation and failed: observed, not converged, still working.
        eventually("the failed pass is observed", lambda: generations(kube, "lrg", "gen-rg")[1] == generation)
        conds = eventually(
            "the outage is reported",
            lambda: (c := conditions(kube, "lrg", "gen-rg"))["Ready"]["status"] == "False" and c,
        )
        assert conds["Ready"]["reason"] == "BackendUnavailable"
        assert conds["Synced"]["status"] == "False"
        assert (conds["Reconciling"]["status"], conds["Stalled"]["status"]) == ("True", "False")
        shown = described(kube, "lrg", "gen-rg", "BackendUnavailable")
        assert event_type(shown, "BackendUnavailable") == "Warning"
    finally:
        linstor_sim.faults.update({"down": False})
    kube.wait("lrg", "gen-rg", timeout="120s")
    kube.wait("lrg", "gen-rg", "condition=Reconciling=false")
    conds = conditions(kube, "lrg", "gen-rg")
    assert conds["Stalled"]["status"] == "False" and conds["Ready"]["observedGeneration"] == generation
    assert generations(kube, "lrg", "gen-rg") == (generation, generation)
    kube.delete("lrg", "gen-rg")


def test_a_machineraid_naming_a_missing_disk_stalls_until_fixed(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim
) -> None:
    maas_sim.add_machine(ready_machine("stall01", "stall-e2e", "sdb", "sdc"))
    raid = {
        "apiVersion": MAAS,
        "kind": "MachineRaid",
        "metadata": {"name": "stall-raid"},
        "spec": {"machine": {"systemId": "stall01"}, "level": "raid-1", "devices": ["sdb", "sdz"]},
    }
    kube.apply(raid)
    try:
        kube.wait("mraid", "stall-raid", "condition=Stalled", timeout="90s")
        conds = conditions(kube, "mraid", "stall-raid")
        assert (conds["Ready"]["status"], conds["Ready"]["reason"]) == ("False", "DeviceNotFound")
        assert (conds["Stalled"]["reason"], conds["Reconciling"]["status"]) == ("DeviceNotFound", "False")
        assert "device sdz not found" in conds["Stalled"]["message"]
        generation, observed = generations(kube, "mraid", "stall-raid")
        assert observed == generation
        shown = described(kube, "mraid", "stall-raid", "DeviceNotFound")
        assert event_type(shown, "DeviceNotFound") == "Warning"

        kube.patch("mraid", "stall-raid", {"spec": {"devices": ["sdb", "sdc"]}})
        kube.wait("mraid", "stall-raid", timeout="90s")
        kube.wait("mraid", "stall-raid", "condition=Stalled=false")
        conds = conditions(kube, "mraid", "stall-raid")
        assert conds["Reconciling"]["status"] == "False"
        assert generations(kube, "mraid", "stall-raid") == (generation + 1, generation + 1)
    finally:
        kube.delete("mraid", "stall-raid")
