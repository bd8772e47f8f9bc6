"""kopf registrations for ResourceGroup, Resource and Snapshot: indexes for cross-references,
one reconcile per kind on create/update/resume/timer, and a finalizer-backed delete."""

from __future__ import annotations

from typing import Any

import kopf

from stratum.api.crds import RESOURCE, RESOURCE_GROUP, SNAPSHOT, VERSION, Kind
from stratum.api.linstor import ResourceGroupSpec, ResourceSpec, SnapshotSpec
from stratum.clients.linstor import LinstorClient
from stratum.handlers.conditions import is_ready
from stratum.handlers.runner import Runtime, run_pass
from stratum.handlers.settings import DRIFT_INTERVAL
from stratum.reconcile import resource, resourcegroup, snapshot
from stratum.reconcile.outcome import Outcome
from stratum.reconcile.refs import GroupRef, ResourceRef, SnapshotRef

BACKEND = "LINSTOR"


def _resource(kind: Kind) -> tuple[str, str, str]:
    return kind.group, VERSION, kind.plural


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime: Runtime = memo["runtime"]
    return runtime


def _client(memo: kopf.Memo) -> LinstorClient:
    client: LinstorClient = _runtime(memo).clients["linstor"]
    return client


def _first(index: kopf.Index[str, Any], key: str) -> Any | None:
    store = index.get(key)
    return next(iter(store), None) if store else None


# ------------------------------------------------------------------------------- indexes


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


# ------------------------------------------------------------------------------- ResourceGroup


@kopf.on.resume(*_resource(RESOURCE_GROUP))
@kopf.on.create(*_resource(RESOURCE_GROUP))
@kopf.on.update(*_resource(RESOURCE_GROUP))
async def reconcile_resourcegroup(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    await _resourcegroup_pass(
        body=body, spec=spec, status=status, patch=patch, memo=memo, retry=retry, raise_for_retry=True
    )


@kopf.timer(*_resource(RESOURCE_GROUP), interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL, idle=5)
async def resourcegroup_drift(
    *, body: kopf.Body, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    await _resourcegroup_pass(
        body=body, spec=spec, status=status, patch=patch, memo=memo, retry=0, raise_for_retry=False
    )


async def _resourcegroup_pass(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    raise_for_retry: bool,
) -> None:
    parsed = ResourceGroupSpec.model_validate(dict(spec))
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    await run_pass(
        kind=RESOURCE_GROUP.kind,
        backend=BACKEND,
        runtime=_runtime(memo),
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        retry=retry,
        raise_for_retry=raise_for_retry,
        run=lambda: resourcegroup.reconcile(_client(memo), name, uid, parsed),
    )


@kopf.on.delete(*_resource(RESOURCE_GROUP))
async def delete_resourcegroup(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    parsed = ResourceGroupSpec.model_validate(dict(spec))
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    await _finalize(
        kind=RESOURCE_GROUP,
        body=body,
        status=status,
        patch=patch,
        memo=memo,
        retry=retry,
        run=lambda: resourcegroup.finalize(_client(memo), name, uid, parsed),
    )


# ------------------------------------------------------------------------------- Resource


@kopf.on.resume(*_resource(RESOURCE))
@kopf.on.create(*_resource(RESOURCE))
@kopf.on.update(*_resource(RESOURCE))
async def reconcile_resource(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **kwargs: Any,
) -> None:
    await _resource_pass(
        body=body,
        spec=spec,
        status=status,
        patch=patch,
        memo=memo,
        retry=retry,
        groups=kwargs["resourcegroup_index"],
        snapshots=kwargs["snapshot_index"],
        raise_for_retry=True,
    )


@kopf.timer(*_resource(RESOURCE), interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL, idle=5)
async def resource_drift(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    await _resource_pass(
        body=body,
        spec=spec,
        status=status,
        patch=patch,
        memo=memo,
        retry=0,
        groups=kwargs["resourcegroup_index"],
        snapshots=kwargs["snapshot_index"],
        raise_for_retry=False,
    )


async def _resource_pass(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    groups: kopf.Index[str, GroupRef],
    snapshots: kopf.Index[str, SnapshotRef],
    raise_for_retry: bool,
) -> None:
    parsed = ResourceSpec.model_validate(dict(spec))
    inputs = resource.ResourceInputs(
        name=body.metadata.name or "",
        uid=body.metadata.uid or "",
        group=_first(groups, parsed.resource_group),
        restore_snapshot=_first(snapshots, parsed.restore_from.snapshot) if parsed.restore_from else None,
        rollback_snapshot=_first(snapshots, parsed.rollback.snapshot) if parsed.rollback else None,
        last_rollback=dict(status["lastRollback"]) if status.get("lastRollback") else None,
    )
    await run_pass(
        kind=RESOURCE.kind,
        backend=BACKEND,
        runtime=_runtime(memo),
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        retry=retry,
        raise_for_retry=raise_for_retry,
        run=lambda: resource.reconcile(_client(memo), parsed, inputs),
    )


@kopf.on.delete(*_resource(RESOURCE))
async def delete_resource(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    parsed = ResourceSpec.model_validate(dict(spec))
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    await _finalize(
        kind=RESOURCE,
        body=body,
        status=status,
        patch=patch,
        memo=memo,
        retry=retry,
        run=lambda: resource.finalize(_client(memo), parsed, name, uid),
    )


# ------------------------------------------------------------------------------- Snapshot


@kopf.on.resume(*_resource(SNAPSHOT))
@kopf.on.create(*_resource(SNAPSHOT))
@kopf.on.update(*_resource(SNAPSHOT))
async def reconcile_snapshot(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **kwargs: Any,
) -> None:
    await _snapshot_pass(
        body=body,
        spec=spec,
        status=status,
        patch=patch,
        memo=memo,
        retry=retry,
        resources=kwargs["resource_index"],
        raise_for_retry=True,
    )


@kopf.timer(*_resource(SNAPSHOT), interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL, idle=5)
async def snapshot_drift(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    await _snapshot_pass(
        body=body,
        spec=spec,
        status=status,
        patch=patch,
        memo=memo,
        retry=0,
        resources=kwargs["resource_index"],
        raise_for_retry=False,
    )


async def _snapshot_pass(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    resources: kopf.Index[str, ResourceRef],
    raise_for_retry: bool,
) -> None:
    parsed = SnapshotSpec.model_validate(dict(spec))
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    ref = _first(resources, parsed.resource)
    recorded = status.get("linstorName") if status.get("resourceLinstorName") else None
    await run_pass(
        kind=SNAPSHOT.kind,
        backend=BACKEND,
        runtime=_runtime(memo),
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        retry=retry,
        raise_for_retry=raise_for_retry,
        run=lambda: snapshot.reconcile(
            _client(memo), name, uid, spec=parsed, resource=ref, recorded=recorded
        ),
    )


@kopf.on.delete(*_resource(SNAPSHOT))
async def delete_snapshot(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    parsed = SnapshotSpec.model_validate(dict(spec))
    name, uid = body.metadata.name or "", body.metadata.uid or ""
    rsc = status.get("resourceLinstorName")
    recorded = status.get("linstorName") if rsc else None
    await _finalize(
        kind=SNAPSHOT,
        body=body,
        status=status,
        patch=patch,
        memo=memo,
        retry=retry,
        run=lambda: snapshot.finalize(
            _client(memo), name, uid, spec=parsed, resource_linstor_name=rsc, recorded=recorded
        ),
    )


# ------------------------------------------------------------------------------- deletion


async def _finalize(
    *,
    kind: Kind,
    body: kopf.Body,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    run: Any,
) -> None:
    runtime = _runtime(memo)
    outcome: Outcome = await run_pass(
        kind=kind.kind,
        backend=BACKEND,
        runtime=runtime,
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        retry=retry,
        run=run,
        deleting=True,
    )
    if outcome.ready:
        runtime.forget(body.metadata.uid or "")
        runtime.metrics.object_state(kind.kind, body.metadata.uid or "", None)
