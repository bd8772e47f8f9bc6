"""kopf registrations for MachineRaid: one reconcile on create/update/resume and the drift
timer, and a finalizer-backed delete. Without MAAS_API_URL/MAAS_API_KEY every MachineRaid
reports Ready=False (NotConfigured) instead of the operator failing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import kopf

from stratum.api.crds import MACHINE_RAID
from stratum.api.maas import MachineRaidSpec
from stratum.clients.maas import NOT_CONFIGURED, MaasClient, MaasConfig, MaasConfigError
from stratum.handlers.registration import Call, Pass, register_kind
from stratum.handlers.runner import Runtime
from stratum.reconcile import machineraid
from stratum.reconcile.outcome import SLOW, Outcome

BACKEND = "MAAS"


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


def _inputs_of(call: Call) -> machineraid.RaidInputs:
    return _inputs(call.body, call.status)


def _raid_pass(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    return _pass(call.memo, spec, _inputs_of(call), machineraid.reconcile)


def _raid_finalize(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    inputs = _inputs_of(call)
    if _client(call.memo) is None and inputs.recorded_raid_id is None:
        return _nothing_created
    return _pass(call.memo, spec, inputs, machineraid.finalize)


async def _nothing_created() -> Outcome:
    return Outcome.done("no RAID was created in MAAS", {}, [])


register_kind(MACHINE_RAID, backend=BACKEND, reconcile=_raid_pass, finalize=_raid_finalize)
