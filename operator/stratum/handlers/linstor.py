"""ResourceGroup, Resource and Snapshot: indexes for cross-references and one reconcile per kind."""

from __future__ import annotations

from typing import Any

import kopf

from stratum.api.crds import RESOURCE, RESOURCE_GROUP, SNAPSHOT, VERSION, Kind
from stratum.api.linstor import ResourceGroupSpec, ResourceSpec, SnapshotSpec
from stratum.clients.linstor import LinstorClient
from stratum.handlers.conditions import is_ready
from stratum.handlers.registration import Call, Pass, register_kind
from stratum.reconcile import resource, resourcegroup, snapshot
from stratum.reconcile.refs import GroupRef, ResourceRef, SnapshotRef

BACKEND = "LINSTOR"


def _resource(kind: Kind) -> tuple[str, str, str]:
    return kind.group, VERSION, kind.plural


def _linstor(call: Call) -> LinstorClient:
    client: LinstorClient = call.client("linstor")
    return client


# ------------------------------------------------------------------------------- indexes
# In-memory views of the other objects, so a reconcile never spends an API call on a lookup.


@kopf.index(*_resource(RESOURCE_GROUP))
def resourcegroup_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, GroupRef]:
    return {
        name: GroupRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            ready=is_ready(status),
            place_count=int((spec.get("placement") or {}).get("placeCount") or 2),
        )
    }


@kopf.index(*_resource(RESOURCE))
def resource_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, ResourceRef]:
    return {
        name: ResourceRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            exists=bool(status.get("volumes")),
        )
    }


@kopf.index(*_resource(SNAPSHOT))
def snapshot_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, SnapshotRef]:
    return {
        name: SnapshotRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            resource_linstor_name=status.get("resourceLinstorName"),
            ready=is_ready(status),
        )
    }


# ------------------------------------------------------------------------------- passes


def _group_pass(call: Call) -> Pass:
    spec = ResourceGroupSpec.model_validate(dict(call.spec))
    return lambda: resourcegroup.reconcile(_linstor(call), call.name, call.uid, spec)


def _group_finalize(call: Call) -> Pass:
    spec = ResourceGroupSpec.model_validate(dict(call.spec))
    return lambda: resourcegroup.finalize(_linstor(call), call.name, call.uid, spec)


def _resource_pass(call: Call) -> Pass:
    spec = ResourceSpec.model_validate(dict(call.spec))
    last = call.status.get("lastRollback")
    inputs = resource.ResourceInputs(
        name=call.name,
        uid=call.uid,
        group=call.index("resourcegroup_index", spec.resource_group),
        restore_snapshot=call.index("snapshot_index", spec.restore_from.snapshot)
        if spec.restore_from
        else None,
        rollback_snapshot=call.index("snapshot_index", spec.rollback.snapshot) if spec.rollback else None,
        last_rollback=dict(last) if last else None,
    )
    return lambda: resource.reconcile(_linstor(call), spec, inputs)


def _resource_finalize(call: Call) -> Pass:
    spec = ResourceSpec.model_validate(dict(call.spec))
    return lambda: resource.finalize(_linstor(call), spec, call.name, call.uid)


def _recorded_snapshot(call: Call) -> tuple[str | None, str | None]:
    """(resource, snapshot) LINSTOR names once the snapshot was taken, from status."""
    rsc = call.status.get("resourceLinstorName")
    return rsc, call.status.get("linstorName") if rsc else None


def _snapshot_pass(call: Call) -> Pass:
    spec = SnapshotSpec.model_validate(dict(call.spec))
    ref = call.index("resource_index", spec.resource)
    _, recorded = _recorded_snapshot(call)
    return lambda: snapshot.reconcile(
        _linstor(call), call.name, call.uid, spec=spec, resource=ref, recorded=recorded
    )


def _snapshot_finalize(call: Call) -> Pass:
    spec = SnapshotSpec.model_validate(dict(call.spec))
    rsc, recorded = _recorded_snapshot(call)
    return lambda: snapshot.finalize(
        _linstor(call), call.name, call.uid, spec=spec, resource_linstor_name=rsc, recorded=recorded
    )


register_kind(RESOURCE_GROUP, backend=BACKEND, reconcile=_group_pass, finalize=_group_finalize)
register_kind(RESOURCE, backend=BACKEND, reconcile=_resource_pass, finalize=_resource_finalize)
register_kind(SNAPSHOT, backend=BACKEND, reconcile=_snapshot_pass, finalize=_snapshot_finalize)
