"""SnapshotSchedule, Remote and Backup: indexes for cross-references, the Remote and Backup
reconciles, and the schedule's clock (a short kopf timer that runs a pass only when a slot is
due, the spec changed, or the periodic re-check is due)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import kopf

from stratum.api.crds import BACKUP, REMOTE, SNAPSHOT_SCHEDULE, Kind
from stratum.api.linstor_backup import BackupSpec, BackupStatus, RemoteSpec, SnapshotScheduleSpec
from stratum.clients.errors import Backend, BackendNotConfigured
from stratum.clients.kubeobjects import KubeObjects
from stratum.clients.linstor import LinstorClient
from stratum.handlers import controls
from stratum.handlers.conditions import is_ready
from stratum.handlers.linstor import BACKEND, CLIENT, NOT_CONFIGURED
from stratum.handlers.registration import (
    Call,
    Index,
    PassFactory,
    register_all,
    resource_of,
)
from stratum.handlers.runner import Pass, run_pass
from stratum.handlers.runtime import KUBE
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile import reasons
from stratum.reconcile.linstor import backup, remote, snapshotschedule
from stratum.reconcile.linstor.backup import BackupInputs, RemoteRef
from stratum.reconcile.linstor.backuprestore import BackupRef
from stratum.reconcile.linstor.refs import ResourceRef, SnapshotRef
from stratum.reconcile.linstor.schedule import ScheduleError, parse_schedule
from stratum.reconcile.outcome import Outcome, Wait

log = logging.getLogger("stratum")


def linstor_client(call: Call) -> LinstorClient:
    client = call.client(CLIENT)
    if client is None:
        raise BackendNotConfigured(Backend.LINSTOR, NOT_CONFIGURED)
    return client


def _kube(call: Call) -> KubeObjects:
    client = call.client(KUBE)
    if client is None:
        raise RuntimeError("the Kubernetes object client was not opened")
    return client


# ------------------------------------------------------------------------------- indexes


def remote_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, RemoteRef]:
    return {
        name: RemoteRef(
            linstor_name=status.get("linstorName") or spec.get("linstorName") or name, ready=is_ready(status)
        )
    }


def backup_index(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> dict[str, BackupRef]:
    shipped = bool(status.get("remoteLinstorName")) and not spec.get("import")
    return {
        name: BackupRef(
            remote_linstor_name=status.get("remoteLinstorName"),
            id=status.get("id"),
            ready=is_ready(status),
            remote=str(spec.get("remote") or ""),
            deletes_from_remote=shipped and spec.get("deletionPolicy", "Delete") == "Delete",
        )
    }


def _dependent_backups(call: Call) -> list[str]:
    """Backup objects whose deletion still needs this Remote."""
    index = call.indexes["backup_index"]
    return sorted(
        name
        for name in index
        for ref in index[name]
        if isinstance(ref, BackupRef) and ref.remote == call.name and ref.deletes_from_remote
    )


# ------------------------------------------------------------------------------- Remote


def _remote_recorded(call: Call) -> remote.Recorded:
    return remote.Recorded(call.status.get("linstorName"), call.status.get("credentialsVersion"))


def _remote_pass(call: Call) -> Pass:
    spec = RemoteSpec.model_validate(dict(call.spec))
    objects = call.client(KUBE)
    if objects is None:  # `stratum plan` without KUBECONFIG: the Secret cannot be read
        ref = spec.credentials_secret_ref

        async def unreadable() -> Outcome:
            return Outcome.waiting(
                reasons.SECRET_MISSING,
                f"Secret {ref.namespace}/{ref.name} cannot be read without a Kubernetes connection",
                retry=Wait.SLOW,
            )

        return unreadable
    return lambda: remote.reconcile(linstor_client(call), objects, call.name, spec, _remote_recorded(call))


def _remote_finalize(call: Call) -> Pass:
    spec = RemoteSpec.model_validate(dict(call.spec))
    backups = _dependent_backups(call)
    return lambda: remote.finalize(linstor_client(call), call.name, spec, _remote_recorded(call), backups)


# ------------------------------------------------------------------------------- Backup


_STATUS_KEYS = {info.alias or name for name, info in BackupStatus.model_fields.items()}


def _backup_recorded(call: Call) -> BackupStatus:
    return BackupStatus.model_validate({k: v for k, v in call.status.items() if k in _STATUS_KEYS})


def _backup_pass(call: Call) -> Pass:
    spec = BackupSpec.model_validate(dict(call.spec))
    inputs = BackupInputs(
        name=call.name,
        uid=call.uid,
        remote=call.index("remote_index", spec.remote, RemoteRef),
        resource=call.index("resource_index", spec.resource, ResourceRef) if spec.resource else None,
        snapshot=call.index("snapshot_index", spec.snapshot, SnapshotRef) if spec.snapshot else None,
        recorded=_backup_recorded(call),
    )
    return lambda: backup.reconcile(linstor_client(call), spec, inputs)


def _backup_finalize(call: Call) -> Pass:
    spec = BackupSpec.model_validate(dict(call.spec))
    recorded = _backup_recorded(call)
    return lambda: backup.finalize(linstor_client(call), spec, recorded)


# ------------------------------------------------------------------------------- SnapshotSchedule

CHECKED = "schedule_checked"
CLOCK = "snapshotschedule_clock"


class QuietClock(logging.Filter):
    """kopf logs every timer run at INFO; the clock runs every second and mostly does nothing, so
    only its warnings and errors are kept (what a pass does is logged by the runner)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO or f"'{CLOCK}'" not in record.getMessage()


QUIET_CLOCK = QuietClock()


def _pass_needed(
    body: kopf.Body, spec: SnapshotScheduleSpec, memo: kopf.Memo, settings: OperatorSettings
) -> bool:
    status = body.get("status") or {}
    if status.get("observedGeneration") != body.metadata.get("generation"):
        return True
    if time.monotonic() - memo.get(CHECKED, 0.0) >= settings.drift_interval:
        return True
    try:
        schedule = parse_schedule(spec.schedule)
    except ScheduleError:
        return False  # reported on the pass of this generation
    obj = snapshotschedule.schedule_object(body)
    return snapshotschedule.slot_to_run(schedule, spec, obj, dt.datetime.now(dt.UTC)) is not None


async def on_schedule_tick(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    if controls.is_paused(body):
        controls.write_paused(patch, status, body.metadata.get("generation"), deleting=False)
        return
    parsed = SnapshotScheduleSpec.model_validate(dict(spec))
    call = Call(body, spec, status, memo, kwargs)
    if not _pass_needed(body, parsed, memo, call.runtime.settings):
        return
    memo[CHECKED] = time.monotonic()
    obj = snapshotschedule.schedule_object(body)
    await run_pass(
        kind=SNAPSHOT_SCHEDULE.kind,
        status_model=SNAPSHOT_SCHEDULE.status,
        backend=Backend.KUBERNETES,
        runtime=call.runtime,
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        run=lambda: snapshotschedule.reconcile(_kube(call), obj, parsed, dt.datetime.now(dt.UTC)),
        raise_for_retry=False,
    )


async def on_schedule_delete(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    **kwargs: Any,
) -> None:
    call = Call(body, spec, status, memo, kwargs)
    if controls.is_paused(body):
        controls.write_paused(patch, status, body.metadata.get("generation"), deleting=True)
        raise kopf.TemporaryError(
            controls.PAUSED_MESSAGE, delay=call.runtime.settings.retry_delay(Wait.DELETION)
        )
    obj = snapshotschedule.schedule_object(body)
    await run_pass(
        kind=SNAPSHOT_SCHEDULE.kind,
        status_model=SNAPSHOT_SCHEDULE.status,
        backend=Backend.KUBERNETES,
        runtime=call.runtime,
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        run=lambda: snapshotschedule.finalize(_kube(call), obj),
        deleting=True,
    )


def _schedule_plan(call: Call) -> Pass:
    """`stratum plan` of a SnapshotSchedule: it changes no backend itself (its Snapshot and Backup
    objects do, once created), and planning must not create them."""

    async def nothing() -> Outcome:
        return Outcome.done("a SnapshotSchedule changes no backend itself; its Snapshot objects do", None, [])

    return nothing


INDEXES: tuple[tuple[Kind, str, Index], ...] = (
    (REMOTE, "remote_index", remote_index),
    (BACKUP, "backup_index", backup_index),
)
"""The kopf indexes (kind, id, function) the passes look other objects up in."""
KINDS: tuple[tuple[Kind, PassFactory, PassFactory], ...] = (
    (REMOTE, _remote_pass, _remote_finalize),
    (BACKUP, _backup_pass, _backup_finalize),
)
"""The kinds with a reconcile and a finalize pass (registered as every other kind is)."""
PLANNED: tuple[tuple[Kind, PassFactory, PassFactory], ...] = (
    *KINDS,
    (SNAPSHOT_SCHEDULE, _schedule_plan, _schedule_plan),
)
"""What `stratum plan` runs for each kind of this module."""


def register(settings: OperatorSettings, registry: kopf.OperatorRegistry) -> None:
    register_all(INDEXES, KINDS, backend=BACKEND, settings=settings, registry=registry)
    kopf.timer(
        *resource_of(SNAPSHOT_SCHEDULE),
        id=CLOCK,
        interval=settings.schedule_tick,
        registry=registry,
    )(on_schedule_tick)
    kopf_objects = logging.getLogger("kopf.objects")
    if QUIET_CLOCK not in kopf_objects.filters:
        kopf_objects.addFilter(QUIET_CLOCK)
    kopf.on.delete(*resource_of(SNAPSHOT_SCHEDULE), id="delete_snapshotschedule", registry=registry)(
        on_schedule_delete
    )
