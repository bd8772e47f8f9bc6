"""kopf's state (a handler's progress while it is retried, the diff base) in status.kopf on the
real API server: the CRDs keep it (not pruned), it goes in the /status patch of the pass, and an
object an earlier version handled (kopf's state in stratum.dev annotations) is diffed against its
annotation, not handled as new."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from stratum.sim.linstor import LinstorSim
from support.kube import Kube
from support.operator import OperatorProcess
from support.waiting import eventually

LINSTOR = "linstor.stratum.dev/v1alpha1"
LEGACY_DIFFBASE = "stratum.dev/last-handled-configuration"


def group(name: str, place_count: int = 2) -> dict[str, Any]:
    spec = {"placement": {"placeCount": place_count, "storagePools": ["thin"]}}
    return {"apiVersion": LINSTOR, "kind": "ResourceGroup", "metadata": {"name": name}, "spec": spec}


def kopf_state(kube: Kube, resource: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = kube.get(resource, name).get("status", {}).get("kopf", {})
    return found


def diff_base(kube: Kube, resource: str, name: str) -> dict[str, Any] | None:
    encoded = kopf_state(kube, resource, name).get("last-handled-configuration")
    return json.loads(encoded) if encoded else None


def own_annotations(obj: dict[str, Any]) -> dict[str, str]:
    annotations = obj["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k.startswith("stratum.dev/")}


def test_a_retried_handlers_progress_and_the_diff_base_are_kept_in_status(
    kube: Kube, operator: OperatorProcess
) -> None:
    resource = {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": "kstate-r1"},
        "spec": {"resourceGroup": "kstate-rg1", "volumes": [{"size": "1Gi"}]},
    }
    kube.apply(resource)  # its group does not exist yet: the pass waits, kopf retries it
    progress = eventually(
        "kopf's retry record in status",
        lambda: kopf_state(kube, "lr", "kstate-r1").get("progress", {}).get("reconcile_resource"),
        timeout=60,
    )
    assert progress["retries"] >= 1 and progress["delayed"]
    assert diff_base(kube, "lr", "kstate-r1") is None  # stored once the handler succeeds

    kube.apply(group("kstate-rg1"))
    kube.wait("lr", "kstate-r1")
    obj = eventually(
        "the diff base in status, the progress purged",
        lambda: (
            (o := kube.get("lr", "kstate-r1"))["status"].get("kopf", {}).get("last-handled-configuration")
            and o
        ),
        timeout=60,
    )
    assert "reconcile_resource" not in obj["status"]["kopf"].get("progress", {})
    assert json.loads(obj["status"]["kopf"]["last-handled-configuration"])["spec"] == obj["spec"]
    assert own_annotations(obj) == {}  # kopf wrote no annotation: its state went with the status


def test_an_object_handled_by_an_earlier_version_is_diffed_against_its_annotation(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    manifest = group("kstate-upgrade")
    # The diff base the earlier version stored (kopf's AnnotationsDiffBaseStorage, JSON plus a
    # newline), of the spec as the API server defaults it.
    dry_run = kube.run("create", "--dry-run=server", "-o", "json", "-f", "-", input=json.dumps(manifest))
    defaulted = json.loads(dry_run.stdout)
    legacy = {
        "stratum.dev/kopf-managed": "yes",
        LEGACY_DIFFBASE: json.dumps({"spec": defaulted["spec"]}, separators=(",", ":")) + "\n",
    }
    kube.create({**manifest, "metadata": {**manifest["metadata"], "annotations": legacy}})
    eventually(
        "the finalizer",
        lambda: (
            "stratum.dev/finalizer" in kube.get("lrg", "kstate-upgrade")["metadata"].get("finalizers", [])
        ),
        timeout=60,
    )
    time.sleep(2)  # a create cause would have run by now, and stored its diff base in status
    assert diff_base(kube, "lrg", "kstate-upgrade") is None
    assert own_annotations(kube.get("lrg", "kstate-upgrade")) == legacy

    # A change is diffed against the annotation: an update; its diff base goes to status and the
    # annotation goes.
    kube.patch("lrg", "kstate-upgrade", {"spec": {"placement": {"placeCount": 3}}})
    stored = eventually(
        "the diff base of the change in status",
        lambda: (
            (base := diff_base(kube, "lrg", "kstate-upgrade"))
            and base["spec"]["placement"]["placeCount"] == 3
        ),
        timeout=60,
    )
    assert stored
    kube.wait("lrg", "kstate-upgrade")
    assert own_annotations(kube.get("lrg", "kstate-upgrade")) == {"stratum.dev/kopf-managed": "yes"}
    linstor_group = httpx.get(f"{linstor_sim.url}/v1/resource-groups/kstate-upgrade", timeout=10).json()
    assert linstor_group["select_filter"]["place_count"] == 3
