"""kopf registrations for MachineRaid: one reconcile on create/update/resume and the drift
timer, and a finalizer-backed delete. Without MAAS_API_URL/MAAS_API_KEY every MachineRaid
reports Ready=False (NotConfigured) instead of the operator failing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf

from stratum.api.crds import MACHINE_RAID, VERSION
from stratum.api.maas import MachineRaidSpec
from stratum.clients.maas import NOT_CONFIGURED, MaasClient, MaasConfig, MaasConfigError
from stratum.handlers.conditions import get_condition
from stratum.handlers.runner import Runtime, run_pass
from stratum.handlers.settings import DRIFT_INTERVAL
from stratum.reconcile import machineraid
from stratum.reconcile.outcome import SLOW, Outcome

BACKEND = "MAAS"
RESOURCE = (MACHINE_RAID.group, VERSION, MACHINE_RAID.plural)


def _runtime(memo: kopf.Memo) -> Runtime:
    runtime: Runtime = memo["runtime"]
    return runtime


def _client(memo: kopf.Memo) -> MaasClient | None:
    client: MaasClient | None = _runtime(memo).clients.get("maas")
    return client


def _not_configured() -> Outcome:
    try:
        MaasConfig.from_env()
        message = NOT_CONFIGURED
    except MaasConfigError as exc:
        message = str(exc)
    if not message.startswith("MAAS is not configured"):
        message = f"MAAS is not configured: {message}"
    return Outcome.waiting("NotConfigured", message, retry_after=SLOW)


def _inputs(body: kopf.Body, status: Mapping[str, Any]) -> machineraid.RaidInputs:
    raid_id = status.get("raidId")
    applied = status.get("filesystem")
    return machineraid.RaidInputs(
        name=body.metadata.name or "",
        uid=body.metadata.uid or "",
        recorded_raid_id=int(raid_id) if raid_id is not None else None,
        applied_filesystem=dict(applied) if applied else None,
    )


def _track(memo: kopf.Memo, body: kopf.Body, status: Mapping[str, Any]) -> None:
    cond = get_condition(list(status.get("conditions") or []), "Ready")
    _runtime(memo).metrics.object_state(
        MACHINE_RAID.kind, body.metadata.uid or "", str(cond.get("status")) if cond else "Unknown"
    )


def _pass(
    memo: kopf.Memo,
    spec: MachineRaidSpec,
    inputs: machineraid.RaidInputs,
    step: Callable[[MaasClient, MachineRaidSpec, machineraid.RaidInputs], Awaitable[Outcome]],
) -> Callable[[], Awaitable[Outcome]]:
    async def run() -> Outcome:
        client = _client(memo)
        if client is None:
            return _not_configured()
        return await step(client, spec, inputs)

    return run


@kopf.on.resume(*RESOURCE)
@kopf.on.create(*RESOURCE)
@kopf.on.update(*RESOURCE)
async def reconcile_machineraid(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    await _machineraid_pass(
        body=body, spec=spec, status=status, patch=patch, memo=memo, retry=retry, raise_for_retry=True
    )


@kopf.timer(*RESOURCE, interval=DRIFT_INTERVAL, initial_delay=DRIFT_INTERVAL, idle=5)
async def machineraid_drift(
    *, body: kopf.Body, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch, memo: kopf.Memo, **_: Any
) -> None:
    await _machineraid_pass(
        body=body, spec=spec, status=status, patch=patch, memo=memo, retry=0, raise_for_retry=False
    )


async def _machineraid_pass(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    raise_for_retry: bool,
) -> None:
    parsed = MachineRaidSpec.model_validate(dict(spec))
    _track(memo, body, status)
    await run_pass(
        kind=MACHINE_RAID.kind,
        backend=BACKEND,
        runtime=_runtime(memo),
        body=body,
        patch=patch,
        status=status,
        generation=body.metadata.get("generation"),
        retry=retry,
        raise_for_retry=raise_for_retry,
        run=_pass(memo, parsed, _inputs(body, status), machineraid.reconcile),
    )


@kopf.on.delete(*RESOURCE)
async def delete_machineraid(
    *,
    body: kopf.Body,
    spec: kopf.Spec,
    status: kopf.Status,
    patch: kopf.Patch,
    memo: kopf.Memo,
    retry: int,
    **_: Any,
) -> None:
    parsed = MachineRaidSpec.model_validate(dict(spec))
    inputs = _inputs(body, status)
    runtime = _runtime(memo)
    if _client(memo) is None and inputs.recorded_raid_id is None:
        run: Callable[[], Awaitable[Outcome]] = _nothing_created
    else:
        run = _pass(memo, parsed, inputs, machineraid.finalize)
    outcome = await run_pass(
        kind=MACHINE_RAID.kind,
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
        runtime.metrics.object_state(MACHINE_RAID.kind, body.metadata.uid or "", None)


async def _nothing_created() -> Outcome:
    return Outcome.done("no RAID was created in MAAS", {}, [])
