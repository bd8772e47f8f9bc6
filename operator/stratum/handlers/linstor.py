"""ResourceGroup, Resource and Snapshot: indexes for cross-references and one reconcile per kind."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import kopf

from stratum.api.crds import RESOURCE, RESOURCE_GROUP, SNAPSHOT, Kind
from stratum.api.linstor import (
    ResourceGroupSpec,
    ResourceSpec,
    ResourceStatus,
    RollbackSent,
    RollbackStatus,
    SnapshotSpec,
)
from stratum.clients.errors import Backend, BackendConflict, BackendNotConfigured
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.observe import RequestObserver
from stratum.clients.shared import guard_write
from stratum.handlers.conditions import converged_generation, get_condition, is_ready
from stratum.handlers.registration import (
    Call,
    Index,
    PassFactory,
    register_all,
)
from stratum.handlers.runner import Pass, Superseded
from stratum.handlers.runtime import KUBE, ClientKey
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.linstor import resource, resourcegroup, snapshot
from stratum.reconcile.linstor.backuprestore import BackupRef
from stratum.reconcile.linstor.refs import GroupRef, ResourceRef, SnapshotRef
from stratum.reconcile.linstor.rollback import RecordIntent
from stratum.reconcile.outcome import status_patch

log = logging.getLogger(__name__)

BACKEND = Backend.LINSTOR
CLIENT = ClientKey("linstor", LinstorClient)


def open_client(settings: OperatorSettings, observer: RequestObserver) -> LinstorClient | None:
    """None when LS_CONTROLLERS is not set: in a pod, the linstor CLI's default of localhost is
    never the controller, so a MAAS-only install leaves LINSTOR unconfigured."""
    if not settings.env.get("LS_CONTROLLERS", "").strip():
        log.warning("%s", NOT_CONFIGURED)
        return None
    config = replace(
        LinstorConfig.from_env(settings.env),
        timeout=settings.backend_timeout,
        connect_timeout=settings.backend_connect_timeout,
        # One connection per pass that may talk to LINSTOR: a request queued behind a full pool
        # waits for another pass's request, and httpx scans the whole queue on every release.
        max_connections=settings.workers,
    )
    return LinstorClient(config, retry=settings.client_retry, observer=observer)


NOT_CONFIGURED = "LINSTOR is not configured: set LS_CONTROLLERS"


def _linstor(call: Call) -> LinstorClient:
    client = call.client(CLIENT)
    if client is None:
        raise BackendNotConfigured(Backend.LINSTOR, NOT_CONFIGURED)
    return client


# ------------------------------------------------------------------------------- indexes
# In-memory views of the other objects, so a reconcile never spends an API call on a lookup.


def resourcegroup_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, GroupRef]:
    return {
        name: GroupRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            ready=is_ready(status),
            place_count=int((spec.get("placement") or {}).get("placeCount") or 2),
        )
    }


def resource_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, ResourceRef]:
    return {
        name: ResourceRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            exists=bool(status.get("volumes")),
        )
    }


def snapshot_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, SnapshotRef]:
    return {
        name: SnapshotRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name,
            resource_linstor_name=status.get("resourceLinstorName"),
            ready=is_ready(status),
        )
    }


# ------------------------------------------------------------------------------- passes


def _rollback_recorder(call: Call) -> RecordIntent:
    async def record(sent: RollbackSent | None) -> None:
        """Written onto the object as the pass read it: when it changed since (another pass may
        have sent this rollback), nothing is sent and the pass runs again on the newer object.
        The intent belongs to the rollback's POST: a drift pass on shared reads decides again on
        fresh reads before writing it, as before any backend write."""
        path = f"{RESOURCE.plural}/{call.name}/status"
        guard_write(Backend.KUBERNETES, "PATCH", path)
        patch = status_patch(ResourceStatus(rollback_sent=sent))
        kube = call.client(KUBE)
        if kube is None:
            raise BackendNotConfigured(Backend.KUBERNETES, "no Kubernetes client to record the rollback with")
        try:
            version = await kube.patch_status(
                RESOURCE.api_version,
                RESOURCE.plural,
                call.name,
                patch,
                resource_version=call.resource_version,
            )
        except BackendConflict as exc:
            raise Superseded(exc.message) from exc
        call.written_versions.append(version)

    return record


def _ready_before(call: Call) -> bool:
    return is_ready(call.status)


def _converged_at_generation(call: Call) -> bool:
    conditions = list(call.status.get("conditions") or [])
    generation = call.body.metadata.get("generation")
    reconciling = get_condition(conditions, "Reconciling") or {}
    return converged_generation(conditions) == generation and reconciling.get("status") != "True"


def _group_pass(call: Call) -> Pass:
    spec = ResourceGroupSpec.model_validate(dict(call.spec))
    applied = call.status.get("placementApplied")
    return lambda: resourcegroup.reconcile(
        _linstor(call), call.name, call.uid, spec, placement_applied=applied
    )


def _group_finalize(call: Call) -> Pass:
    spec = ResourceGroupSpec.model_validate(dict(call.spec))
    return lambda: resourcegroup.finalize(_linstor(call), call.name, call.uid, spec)


def _resource_pass(call: Call) -> Pass:
    spec = ResourceSpec.model_validate(dict(call.spec))
    last = call.status.get("lastRollback")
    sent = call.status.get("rollbackSent")
    inputs = resource.ResourceInputs(
        name=call.name,
        uid=call.uid,
        group=call.index("resourcegroup_index", spec.resource_group, GroupRef),
        restore_snapshot=call.index("snapshot_index", spec.restore_from.snapshot, SnapshotRef)
        if spec.restore_from and spec.restore_from.snapshot
        else None,
        restore_backup=call.index("backup_index", spec.restore_from.backup, BackupRef)
        if spec.restore_from and spec.restore_from.backup
        else None,
        rollback_snapshot=call.index("snapshot_index", spec.rollback.snapshot, SnapshotRef)
        if spec.rollback
        else None,
        last_rollback=RollbackStatus.model_validate(dict(last)) if last else None,
        rollback_sent=RollbackSent.model_validate(dict(sent)) if sent else None,
        record_rollback=_rollback_recorder(call),
        ready_before=_ready_before(call),
        converged_at_generation=_converged_at_generation(call),
        created_before=bool(call.status.get("volumes")),
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
    ref = call.index("resource_index", spec.resource, ResourceRef)
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


INDEXES: tuple[tuple[Kind, str, Index], ...] = (
    (RESOURCE_GROUP, "resourcegroup_index", resourcegroup_index),
    (RESOURCE, "resource_index", resource_index),
    (SNAPSHOT, "snapshot_index", snapshot_index),
)
"""The kopf indexes (kind, id, function) the passes look other objects up in."""
KINDS: tuple[tuple[Kind, PassFactory, PassFactory], ...] = (
    (RESOURCE_GROUP, _group_pass, _group_finalize),
    (RESOURCE, _resource_pass, _resource_finalize),
    (SNAPSHOT, _snapshot_pass, _snapshot_finalize),
)
"""Each kind with its reconcile and finalize passes (the operator's and `stratum plan`'s)."""


def register(settings: OperatorSettings, registry: kopf.OperatorRegistry) -> None:
    register_all(INDEXES, KINDS, backend=BACKEND, settings=settings, registry=registry)
