"""kopf registrations for MachineRaid: one reconcile on create/update/resume and the drift
timer, and a finalizer-backed delete. Without MAAS_API_URL/MAAS_API_KEY every MachineRaid
reports Ready=False (NotConfigured) instead of the operator failing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from stratum.api.crds import MACHINE_RAID
from stratum.api.maas import MachineRaidSpec
from stratum.clients.maas import NOT_CONFIGURED, MaasClient, MaasConfig, MaasConfigError
from stratum.handlers.registration import Call, Pass, register_kind
from stratum.reconcile import machineraid
from stratum.reconcile.outcome import SLOW, Outcome

BACKEND = "MAAS"


def _not_configured() -> Outcome:
    try:
        MaasConfig.from_env()
        message = NOT_CONFIGURED
    except MaasConfigError as exc:
        message = str(exc)
    if not message.startswith("MAAS is not configured"):
        message = f"MAAS is not configured: {message}"
    return Outcome.waiting("NotConfigured", message, retry_after=SLOW)


def _inputs(call: Call) -> machineraid.RaidInputs:
    raid_id = call.status.get("raidId")
    applied = call.status.get("filesystem")
    return machineraid.RaidInputs(
        name=call.name,
        uid=call.uid,
        recorded_raid_id=int(raid_id) if raid_id is not None else None,
        applied_filesystem=dict(applied) if applied else None,
    )


def _pass(
    client: MaasClient | None,
    spec: MachineRaidSpec,
    inputs: machineraid.RaidInputs,
    step: Callable[[MaasClient, MachineRaidSpec, machineraid.RaidInputs], Awaitable[Outcome]],
) -> Callable[[], Awaitable[Outcome]]:
    async def run() -> Outcome:
        if client is None:
            return _not_configured()
        return await step(client, spec, inputs)

    return run


def _raid_pass(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    return _pass(call.client("maas"), spec, _inputs(call), machineraid.reconcile)


def _raid_finalize(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    inputs = _inputs(call)
    if call.client("maas") is None and inputs.recorded_raid_id is None:
        return _nothing_created
    return _pass(call.client("maas"), spec, inputs, machineraid.finalize)


async def _nothing_created() -> Outcome:
    return Outcome.done("no RAID was created in MAAS", {}, [])


register_kind(MACHINE_RAID, backend=BACKEND, reconcile=_raid_pass, finalize=_raid_finalize)
