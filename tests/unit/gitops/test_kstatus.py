"""kstatus verdicts (sigs.k8s.io/cli-utils status.Compute, as Flux reads health) on the conditions
Stratum writes, and their agreement with the Argo CD health checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import kstatus
from support.argo_health import HealthCheck, health_checks, load_yaml, run_health

pytestmark = pytest.mark.usefixtures("kstatus_binary")

T = "2026-12-01T07:00:00Z"


def condition(type_: str, status: str, reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": T,
        "observedGeneration": generation,
    }


def machineraid(generation: int, observed: int | None, *conditions: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "maas.stratum.dev/v1alpha1",
        "kind": "MachineRaid",
        "metadata": {"name": "node-1-data", "generation": generation},
        "spec": {"machine": {"hostname": "node-1"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
        "status": {"conditions": list(conditions)},
    }
    if observed is not None:
        obj["status"]["observedGeneration"] = observed
    return obj


def ready(
    generation: int, status: str = "True", reason: str = "Ready", message: str = "md0 on node-1"
) -> dict[str, Any]:
    return condition("Ready", status, reason, message, generation)


def reconciling(generation: int, status: str, message: str = "creating md0 on node-1") -> dict[str, Any]:
    return condition(
        "Reconciling", status, "Creating" if status == "True" else "Converged", message, generation
    )


def stalled(
    generation: int, status: str, message: str = "machine node-1 has no block device sdx"
) -> dict[str, Any]:
    return condition(
        "Stalled", status, "DeviceNotFound" if status == "True" else "Progressing", message, generation
    )


def synced(
    generation: int, status: str = "True", reason: str = "Reconciled", message: str = "reached MAAS"
) -> dict[str, Any]:
    return condition("Synced", status, reason, message, generation)


def verdict(obj: dict[str, Any]) -> kstatus.Verdict:
    [result] = kstatus.compute(obj)
    return result


def test_converging_object_is_in_progress() -> None:
    obj = machineraid(
        1, 1, ready(1, "False", "Creating", "creating md0"), reconciling(1, "True"), stalled(1, "False")
    )
    result = verdict(obj)
    assert (result.status, result.message) == ("InProgress", "creating md0 on node-1")


def test_stalled_object_fails_with_the_reason_instead_of_waiting_out_a_timeout() -> None:
    never = ready(1, "False", "DeviceNotFound", "machine node-1 has no block device sdx")
    # Before Stalled existed: Ready=False alone reads InProgress forever.
    assert verdict(machineraid(1, 1, never)).status == "InProgress"
    result = verdict(machineraid(1, 1, never, reconciling(1, "False"), stalled(1, "True")))
    assert (result.status, result.message) == ("Failed", "machine node-1 has no block device sdx")


def test_ready_at_the_current_generation_is_current() -> None:
    obj = machineraid(3, 3, ready(3), reconciling(3, "False"), stalled(3, "False"), synced(3))
    assert verdict(obj).status == "Current"


def test_observed_generation_catches_up_after_an_update() -> None:
    before = machineraid(1, 1, ready(1), reconciling(1, "False"), stalled(1, "False"), synced(1))
    assert verdict(before).status == "Current"
    edited = copy.deepcopy(before)
    edited["metadata"]["generation"] = 2  # spec edited; the operator has not looked yet
    result = verdict(edited)
    assert result.status == "InProgress"
    assert "generation is 2, but latest observed generation is 1" in result.message
    working = machineraid(2, 2, ready(2), reconciling(2, "True", "renaming md0 to md1"), stalled(2, "False"))
    assert (verdict(working).status, verdict(working).message) == ("InProgress", "renaming md0 to md1")
    done = machineraid(2, 2, ready(2), reconciling(2, "False"), stalled(2, "False"), synced(2))
    assert verdict(done).status == "Current"


def test_observed_generation_written_during_a_backend_outage_keeps_it_in_progress() -> None:
    """A failing pass after an update still writes observedGeneration: kstatus sees "working on it",
    not a stale generation and not a failure (an outage needs no person)."""
    down = ("BackendUnavailable", "MAAS did not answer; retrying")
    obj = machineraid(
        2,
        2,
        ready(2, "False", *down),
        synced(2, "False", *down),
        reconciling(2, "True", down[1]),
        stalled(2, "False"),
    )
    assert (verdict(obj).status, verdict(obj).message) == ("InProgress", "MAAS did not answer; retrying")
    # An outage on a converged object: Ready stays, Synced says the pass failed; still Current.
    converged = machineraid(
        2, 2, ready(2), synced(2, "False", *down), reconciling(2, "False"), stalled(2, "False")
    )
    assert verdict(converged).status == "Current"


def test_object_being_deleted_is_terminating() -> None:
    obj = machineraid(1, 1, ready(1), reconciling(1, "False"), stalled(1, "False"))
    obj["metadata"]["deletionTimestamp"] = T
    assert verdict(obj).status == "Terminating"


def test_object_without_status_reads_current_in_kstatus() -> None:
    """kstatus's known blind spot: until the operator's first pass writes status, a new object is
    Current to kstatus (and so to Flux); the Argo CD check says Progressing."""
    obj = machineraid(1, None)
    del obj["status"]
    assert verdict(obj).status == "Current"
    check = next(c for c in health_checks() if c.kind == "MachineRaid")
    assert run_health(check.script, obj)["status"] == "Progressing"


def test_yaml_streams_and_lists_are_read_object_by_object(tmp_path: Path) -> None:
    a = machineraid(1, 1, ready(1), reconciling(1, "False"), stalled(1, "False"))
    b = machineraid(2, 1, ready(1))
    b["metadata"]["name"] = "node-2-data"
    stream = tmp_path / "stream.yaml"
    stream.write_text(f"---\n{_yaml(a)}---\n---\n{_yaml(b)}")
    listed = tmp_path / "list.yaml"
    listed.write_text(_yaml({"apiVersion": "v1", "kind": "List", "items": [b, a]}))
    results = kstatus.compute_files(stream, listed)
    assert [(r.name, r.status) for r in results] == [
        ("node-1-data", "Current"),
        ("node-2-data", "InProgress"),
        ("node-2-data", "InProgress"),
        ("node-1-data", "Current"),
    ]
    assert [r.source for r in results] == [str(stream)] * 2 + [str(listed)] * 2
    assert [(r.source, r.name, r.status) for r in kstatus.compute(b, a)] == [
        ("-", "node-2-data", "InProgress"),
        ("-", "node-1-data", "Current"),
    ]


def _yaml(obj: dict[str, Any]) -> str:
    return yaml.safe_dump(obj)


# --- agreement with the Argo CD checks, on every testdata object (captured ones included) ---

ARGO_TO_KSTATUS = {"Healthy": "Current", "Degraded": "Failed", "Progressing": "InProgress"}

TESTDATA = [(check, path) for check in health_checks() for path in check.testdata]


def expected_kstatus(check: HealthCheck, obj: dict[str, Any]) -> str:
    """kstatus's counterpart of the Argo CD verdict, with kstatus's documented differences."""
    metadata, status = obj["metadata"], obj.get("status") or {}
    if metadata.get("deletionTimestamp"):
        return "Terminating"
    argo = run_health(check.script, obj)["status"]
    if argo == "Suspended":
        # kstatus knows no pause: a paused object reads as it would unpaused.
        return expected_kstatus(check, _unpaused(obj))
    observed = status.get("observedGeneration")
    if observed is not None and observed != metadata.get("generation"):
        return "InProgress"
    conditions = {c["type"]: c for c in status.get("conditions") or []}
    if not conditions:
        return "Current"  # no conditions: kstatus assumes current
    if argo == "Progressing" and all(
        (conditions.get(t) or {}).get("status") == want
        for t, want in (("Ready", "True"), ("Reconciling", "False"), ("Stalled", "False"))
    ):
        # Ready=True with Degraded=True (or Ready stamped with an older generation): Argo CD
        # says Progressing; kstatus reads only Ready, Reconciling and Stalled.
        return "Current"
    return ARGO_TO_KSTATUS[argo]


def _unpaused(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    obj["metadata"].get("annotations", {}).pop("stratum.dev/paused", None)
    obj["spec"].pop("suspend", None)
    conditions = (obj.get("status") or {}).get("conditions") or []
    obj.get("status", {})["conditions"] = [c for c in conditions if c.get("reason") != "Paused"]
    return obj


def test_kstatus_agrees_with_the_argo_cd_checks_on_every_testdata_object() -> None:
    verdicts = kstatus.compute_files(*(path for _, path in TESTDATA))
    assert len(verdicts) == len(TESTDATA)
    mismatches = [
        (path.relative_to(check.directory.parent.parent), v.status, expected)
        for (check, path), v in zip(TESTDATA, verdicts, strict=True)
        if v.status != (expected := expected_kstatus(check, load_yaml(path)))
    ]
    assert not mismatches
    # The map is not vacuous: the testdata reach every kstatus verdict the checks map to.
    assert {v.status for v in verdicts} >= {"Current", "InProgress", "Failed", "Terminating"}
