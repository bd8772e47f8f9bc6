"""kopf registrations for MachineRaidSet: the common reconcile/finalize registration with a short
timer (a newly tagged machine gets its MachineRaid within seconds; each pass is one MAAS list call),
and an index of the MachineRaids by the set that owns (or released) them, so a pass reads its
children from memory instead of listing them from the API server."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import kopf

from stratum.api.crds import MACHINE_RAID, MACHINE_RAID_SET, Kind
from stratum.api.maas import SET_LABEL, MachineRaidSetSpec
from stratum.clients.errors import Backend
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers.conditions import get_condition, is_ready
from stratum.handlers.maas import CLIENT, not_configured
from stratum.handlers.registration import (
    Call,
    Index,
    PassFactory,
    register_all,
)
from stratum.handlers.runner import Pass
from stratum.handlers.runtime import KUBE
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.maas import raidset
from stratum.reconcile.outcome import Outcome

CHILDREN_INDEX = "machineraidset_children_index"
log = logging.getLogger("stratum")


def children_index(
    name: str, spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, **_: Any
) -> dict[str, raidset.Child]:
    """MachineRaids by the set that owns them (`owned/<set>`) or let them go (`released/<set>`)."""
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    owner = labels.get(SET_LABEL)
    released = annotations.get(raidset.RELEASED_ANNOTATION)
    if not owner and not released:
        return {}
    conditions = status.get("conditions") or []
    ready_condition = get_condition(conditions, "Ready") or {}
    stalled = (get_condition(conditions, "Stalled") or {}).get("status") == "True"
    child = raidset.Child(
        name=name,
        system_id=(spec.get("machine") or {}).get("systemId"),
        spec=dict(spec),
        ready=is_ready(status),
        stalled=stalled,
        reason=str(ready_condition.get("reason") or ""),
        message=str(ready_condition.get("message") or ""),
        deleting=bool(meta.get("deletionTimestamp")),
        owner_refs=tuple(dict(o) for o in meta.get("ownerReferences") or ()),
    )
    return {f"owned/{owner}": child} if owner else {f"released/{released}": child}


def _children(call: Call, kind: str) -> list[raidset.Child]:
    store: Mapping[str, Any] = call.indexes.get(CHILDREN_INDEX) or {}
    return [c for c in store.get(f"{kind}/{call.name}") or () if isinstance(c, raidset.Child)]


def _kube(call: Call) -> KubeObjects | None:
    return call.client(KUBE)


def _set_pass(call: Call) -> Pass:
    spec = MachineRaidSetSpec.model_validate(dict(call.spec))
    maas, kube = call.client(CLIENT), _kube(call)
    ref = raidset.SetRef(call.name, call.uid)
    env = call.runtime.settings.env

    async def run() -> Outcome:
        if maas is None or kube is None:
            return not_configured(env)
        # Read once this pass holds the set's lock: a pass that waited sees what the last one made.
        owned, released = _children(call, "owned"), _children(call, "released")
        return await raidset.reconcile(maas, kube, ref, spec, owned=owned, released=released)

    return run


def _set_finalize(call: Call) -> Pass:
    spec = MachineRaidSetSpec.model_validate(dict(call.spec))
    kube, ref = _kube(call), raidset.SetRef(call.name, call.uid)

    async def run() -> Outcome:
        if kube is None:
            raise RuntimeError("no Kubernetes client to delete the MachineRaidSet's children with")
        return await raidset.finalize(kube, ref, spec.deletion_policy, _children(call, "owned"))

    return run


INDEXES: tuple[tuple[Kind, str, Index], ...] = ((MACHINE_RAID, CHILDREN_INDEX, children_index),)
KINDS: tuple[tuple[Kind, PassFactory, PassFactory], ...] = ((MACHINE_RAID_SET, _set_pass, _set_finalize),)


def register(settings: OperatorSettings, registry: kopf.OperatorRegistry) -> None:
    register_all(
        INDEXES,
        KINDS,
        backend=Backend.MAAS,
        settings=settings,
        registry=registry,
        timer_interval=settings.machine_poll_interval,
    )
