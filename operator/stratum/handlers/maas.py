"""kopf registrations for MachineRaid: one reconcile on create/update/resume and the drift
timer, and a finalizer-backed delete. Without MAAS_API_URL/MAAS_API_KEY every MachineRaid
reports Ready=False (NotConfigured) instead of the operator failing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import kopf

from stratum.api.crds import MACHINE_RAID, Kind
from stratum.api.maas import MachineRaidSpec
from stratum.clients.errors import Backend
from stratum.clients.maas import NOT_CONFIGURED, MaasClient, MaasConfig, MaasConfigError
from stratum.clients.maas.models import Machine
from stratum.clients.observe import RequestObserver
from stratum.handlers.conditions import is_ready
from stratum.handlers.registration import (
    Call,
    Index,
    PassFactory,
    register_all,
)
from stratum.handlers.runner import Pass
from stratum.handlers.runtime import ClientKey
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile import reasons
from stratum.reconcile.maas import machineraid
from stratum.reconcile.maas.identity import pins_from_status
from stratum.reconcile.maas.readytag import Sibling
from stratum.reconcile.outcome import Outcome, Wait

BACKEND = Backend.MAAS
CLIENT = ClientKey("maas", MaasClient)
READY_TAG_INDEX = "machineraid_readytag_index"
log = logging.getLogger("stratum")


def open_client(settings: OperatorSettings, observer: RequestObserver) -> MaasClient | None:
    """None when the environment does not say how to reach MAAS: the LINSTOR kinds still work."""
    try:
        config = MaasConfig.from_env(settings.env)
    except MaasConfigError as exc:
        log.warning("%s", exc)
        return None
    config = replace(
        config, timeout=settings.backend_timeout, connect_timeout=settings.backend_connect_timeout
    )
    return MaasClient(config, retry=settings.client_retry, observer=observer)


def not_configured(env: Mapping[str, str]) -> Outcome:
    try:
        MaasConfig.from_env(env)
        message = NOT_CONFIGURED
    except MaasConfigError as exc:
        message = str(exc)
    if not message.startswith("MAAS is not configured"):
        message = f"MAAS is not configured: {message}"
    return Outcome.waiting(reasons.NOT_CONFIGURED, message, retry=Wait.SLOW)


def _machine_keys(spec: Mapping[str, Any], status: Mapping[str, Any]) -> set[str]:
    machine = spec.get("machine") or {}
    keys = {f"sid:{s}" for s in (machine.get("systemId"), status.get("systemId")) if s}
    return keys | ({f"host:{machine['hostname']}"} if machine.get("hostname") else set())


def readytag_index(
    name: str, uid: str, spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, **_: Any
) -> dict[str, Sibling]:
    """MachineRaids that name a readyTag, by machine (system id and hostname) and tag."""
    tag = spec.get("readyTag")
    if not tag:
        return {}
    ready = is_ready(status) and not meta.get("deletionTimestamp")
    sibling = Sibling(uid=uid, name=name, ready=ready)
    return {f"{key}/{tag}": sibling for key in _machine_keys(spec, status)}


def _siblings(call: Call) -> Callable[[Machine, str], Sequence[Sibling]]:
    index = call.indexes.get(READY_TAG_INDEX) or {}

    def lookup(machine: Machine, tag: str) -> Sequence[Sibling]:
        found: dict[str, Sibling] = {}
        for key in (f"sid:{machine.system_id}", f"host:{machine.hostname}"):
            for sibling in index.get(f"{key}/{tag}") or ():
                found[sibling.uid] = sibling
        return list(found.values())

    return lookup


def _inputs(call: Call) -> machineraid.RaidInputs:
    raid_id = call.status.get("raidId")
    applied = call.status.get("filesystem")
    recorded = [*(call.status.get("devices") or []), *(call.status.get("spareDevices") or [])]
    return machineraid.RaidInputs(
        name=call.name,
        uid=call.uid,
        recorded_raid_id=int(raid_id) if raid_id is not None else None,
        applied_filesystem=dict(applied) if applied else None,
        pins=pins_from_status(recorded),
        siblings=_siblings(call),
        recorded_ready_tag=call.status.get("readyTag"),
    )


def _pass(
    client: MaasClient | None,
    env: Mapping[str, str],
    spec: MachineRaidSpec,
    inputs: machineraid.RaidInputs,
    step: Callable[[MaasClient, MachineRaidSpec, machineraid.RaidInputs], Awaitable[Outcome]],
) -> Pass:
    async def run() -> Outcome:
        if client is None:
            return not_configured(env)
        return await step(client, spec, inputs)

    return run


def _raid_pass(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    return _pass(call.client(CLIENT), call.runtime.settings.env, spec, _inputs(call), machineraid.reconcile)


def _raid_finalize(call: Call) -> Pass:
    spec = MachineRaidSpec.model_validate(dict(call.spec))
    inputs = _inputs(call)
    if call.client(CLIENT) is None and inputs.recorded_raid_id is None:
        return _nothing_created
    return _pass(call.client(CLIENT), call.runtime.settings.env, spec, inputs, machineraid.finalize)


async def _nothing_created() -> Outcome:
    return Outcome.done("no RAID was created in MAAS", None, [])


INDEXES: tuple[tuple[Kind, str, Index], ...] = ((MACHINE_RAID, READY_TAG_INDEX, readytag_index),)
"""The kopf indexes (kind, id, function) the passes look other objects up in."""
KINDS: tuple[tuple[Kind, PassFactory, PassFactory], ...] = ((MACHINE_RAID, _raid_pass, _raid_finalize),)
"""Each kind with its reconcile and finalize passes (the operator's and `stratum plan`'s)."""


def register(settings: OperatorSettings, registry: kopf.OperatorRegistry) -> None:
    register_all(INDEXES, KINDS, backend=BACKEND, settings=settings, registry=registry)
