"""MachineRaidSet: one MachineRaid per MAAS machine the selector matches, as a DaemonSet is one Pod
per node. A pass lists the matching machines with one MAAS call (MAAS filters by tags, pool and
zone itself), compares them with the children the operator's index holds, and creates, updates,
releases or deletes children through the Kubernetes API. The arrays themselves are the children's
business: the set never talks to MAAS about storage.

Children are named `<set>-<systemId>`, labelled with the set's name and owned by it (controller
owner reference). A machine that leaves the selector under `whenUnmatched: Retain` keeps its array:
its child is *released* (owner reference and label removed, an annotation says from which set), so
it lives on as a MachineRaid of its own and deleting the set no longer deletes it; if the machine
matches again, the set takes the same child back. Nothing garbage-collects owned objects on a
control plane without kube-controller-manager, so deleting the set deletes its children itself
(deletionPolicy Delete) and waits until they are gone, or releases them (Retain).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from stratum.api.maas import (
    GROUP,
    SET_LABEL,
    MachineLine,
    MachineRaidSetSpec,
    MachineRaidSetStatus,
    MachineRaidSpec,
    MachineSelector,
)
from stratum.clients.errors import BackendError, BackendForbidden, BackendRefused
from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import Machine
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Degradation, Outcome, Wait

API_VERSION = f"{GROUP}/v1alpha1"
CHILD_PLURAL = "machineraids"
RELEASED_ANNOTATION = "stratum.dev/released-from-machineraidset"
"""On a child the set let go of (whenUnmatched Retain): the set's name, so it can take it back."""
LINE_MESSAGE = 400
"""Characters of a child's message kept in the set's line (the child has all of it)."""


class ChildObjects(Protocol):
    """The Kubernetes calls the set makes on its children (clients.kubeobjects.KubeObjects)."""

    async def create(self, api_version: str, plural: str, body: dict[str, Any]) -> bool: ...

    async def get(self, api_version: str, plural: str, name: str) -> dict[str, Any] | None: ...

    async def delete(self, api_version: str, plural: str, name: str) -> bool: ...

    async def patch(
        self,
        api_version: str,
        plural: str,
        name: str,
        body: dict[str, Any] | list[dict[str, Any]],
        *,
        json_patch: bool = False,
    ) -> None: ...


@dataclass(frozen=True)
class Child:
    """A MachineRaid as the index holds it (owned by a set, or released by one)."""

    name: str
    system_id: str | None
    spec: Mapping[str, Any]
    ready: bool
    stalled: bool
    reason: str
    message: str
    deleting: bool = False
    owner_refs: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class SetRef:
    name: str
    uid: str

    def owner_reference(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "MachineRaidSet",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def child_name(set_name: str, system_id: str) -> str:
    """`<set>-<systemId>`, lowercased: a valid object name, as the set's name has at most 63
    characters (it is a label value) and a MAAS system id is a few letters and digits."""
    return f"{set_name}-{system_id}".lower()


def desired_spec(spec: MachineRaidSetSpec, system_id: str) -> dict[str, Any]:
    """The child's spec: the template plus the machine, as it is written to the API server."""
    child = MachineRaidSpec.model_validate(
        {**spec.template.model_dump(exclude_unset=True), "machine": MachineSelector(system_id=system_id)}
    )
    return child.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=True)


def _normal(spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """A spec with the defaults filled in, to compare what the API server holds with the template."""
    try:
        model = MachineRaidSpec.model_validate(dict(spec))
    except ValidationError:
        return None
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


# ------------------------------------------------------------------------------ plan


@dataclass
class Plan:
    create: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    """(child name, spec) for machines without a child."""
    adopt: list[tuple[Child, dict[str, Any]]] = field(default_factory=list)
    """Released children whose machine matches again, with their spec."""
    update: list[tuple[Child, dict[str, Any]]] = field(default_factory=list)
    """Owned children whose spec differs from the template."""
    release: list[Child] = field(default_factory=list)
    delete: list[Child] = field(default_factory=list)


def plan(
    set_name: str,
    spec: MachineRaidSetSpec,
    machines: Sequence[Machine],
    owned: Sequence[Child],
    released: Sequence[Child],
) -> Plan:
    """What to change so that exactly the matching machines have an owned child with the template."""
    result = Plan()
    by_machine = {c.system_id: c for c in owned if c.system_id}
    released_by_name = {c.name: c for c in released}
    matching = {m.system_id for m in machines}
    for machine in sorted(machines, key=lambda m: m.system_id):
        sid = machine.system_id
        want = desired_spec(spec, sid)
        child = by_machine.get(sid)
        if child is None:
            name = child_name(set_name, sid)
            back = released_by_name.get(name)
            if back is not None and back.system_id == sid and not back.deleting:
                result.adopt.append((back, want))
            elif back is None:
                result.create.append((name, want))
            continue
        if not child.deleting and _normal(child.spec) != _normal(want):
            result.update.append((child, want))
    for child in sorted(owned, key=lambda c: c.name):
        if child.system_id in matching or child.deleting:
            continue
        (result.release if spec.when_unmatched == "Retain" else result.delete).append(child)
    return result


# ------------------------------------------------------------------------------ status


def summarize(
    machines: Sequence[Machine], owned: Sequence[Child], pending: Mapping[str, tuple[str, str]]
) -> MachineRaidSetStatus:
    """Counts and one line per matching machine whose child is not Ready. `pending` gives the
    reason and message for machines whose child this pass just created or could not write."""
    by_machine = {c.system_id: c for c in owned if c.system_id}
    status = MachineRaidSetStatus(matched=len(machines), ready=0, stalled=0, waiting=0, not_ready=[])
    for machine in sorted(machines, key=lambda m: m.system_id):
        sid = machine.system_id
        child = by_machine.get(sid)
        if sid in pending:
            reason, message = pending[sid]
            name = child.name if child else ""
        elif child is None:
            reason, message, name = reasons.CREATING, "the MachineRaid is being created", ""
        elif child.ready and not child.deleting:
            status.ready = (status.ready or 0) + 1
            continue
        else:
            reason, message, name = child.reason or "Unknown", child.message, child.name
            if child.deleting:
                reason = reasons.DELETING
                message = "the MachineRaid is being deleted; the set creates it again once it is gone"
        if sid in pending:
            stalled = reason in (reasons.CHILD_REFUSED, reasons.NAME_CONFLICT)
        else:
            stalled = child is not None and child.stalled and not child.deleting
        if stalled:
            status.stalled = (status.stalled or 0) + 1
        else:
            status.waiting = (status.waiting or 0) + 1
        line = MachineLine(
            system_id=sid,
            hostname=machine.hostname or None,
            machine_raid=name,
            reason=reason,
            message=_short(message),
            stalled=stalled,
        )
        status.not_ready.append(line)
    return status


def _short(message: str) -> str:
    """A line's message, bounded: a set's status holds one line per machine that is not Ready, and
    an object must stay far below etcd's size limit with thousands of machines."""
    return message if len(message) <= LINE_MESSAGE else message[: LINE_MESSAGE - 1] + "…"


def verdict(status: MachineRaidSetStatus, actions: list[str]) -> Outcome:
    """Ready when every matching machine's child is Ready. A stalled child does not stall the set
    while others still progress (one broken machine in forty is not a stuck fleet): it makes the
    set Degraded; the set is Stalled only when every child that is not Ready needs a person."""
    matched, ready = status.matched or 0, status.ready or 0
    stalled, waiting = status.stalled or 0, status.waiting or 0
    stalled_lines = [ln for ln in status.not_ready if ln.stalled]
    degraded = None
    if stalled:
        names = "; ".join(f"{_who(ln)}: {ln.reason}" for ln in stalled_lines[:10])
        more = f" and {len(stalled_lines) - 10} more" if len(stalled_lines) > 10 else ""
        needs = f"{stalled} of {matched} need a person: {names}{more}"
        degraded = Degradation(reasons.MACHINES_STALLED, needs)
    counts = f"{matched} machine{'s' if matched != 1 else ''} match, {ready} Ready"
    if ready == matched:
        return Outcome.done(f"{counts}", status, actions)
    if waiting:
        first = next(ln for ln in status.not_ready if ln not in stalled_lines)
        message = f"{counts}, {waiting} waiting (e.g. {_who(first)}: {first.reason}), {stalled} stalled"
        return Outcome.waiting(
            reasons.MACHINES_WAITING, message, status, Wait.WAIT, actions, degraded=degraded
        )
    refused = any(ln.reason == reasons.CHILD_REFUSED for ln in stalled_lines)
    message = f"{counts}, {stalled} stalled: {degraded.message if degraded else ''}"
    return Outcome.waiting(
        reasons.CHILD_REFUSED if refused else reasons.MACHINES_STALLED,
        message,
        status,
        Wait.SLOW,
        actions,
        degraded=degraded,
    )


def _who(line: MachineLine) -> str:
    return f"{line.hostname} ({line.system_id})" if line.hostname else line.system_id


# ------------------------------------------------------------------------------ I/O


async def reconcile(
    maas: MaasClient,
    kube: ChildObjects,
    ref: SetRef,
    spec: MachineRaidSetSpec,
    *,
    owned: Sequence[Child],
    released: Sequence[Child],
) -> Outcome:
    selector = spec.machine_selector
    try:
        machines = await maas.list_machines(tags=selector.tags, pool=selector.pool, zone=selector.zone)
    except BackendError as exc:
        if exc.status != 400:
            raise
        # MAAS answers 400 for a tag, pool or zone it does not know: no machine can be said to
        # match or not, so no child is touched.
        return Outcome.waiting(
            reasons.SELECTOR_UNKNOWN,
            f"MAAS refused spec.machineSelector: {exc.message}; create it in MAAS or fix the selector",
            retry=Wait.SLOW,
        )
    todo = plan(ref.name, spec, machines, owned, released)
    actions: list[str] = []
    pending: dict[str, tuple[str, str]] = {}
    await _apply(kube, ref, todo, actions=actions, pending=pending)
    # Children created or taken back now are in the index by the next pass: count them as waiting.
    return verdict(summarize(machines, owned, pending), actions)


async def _apply(
    kube: ChildObjects,
    ref: SetRef,
    todo: Plan,
    *,
    actions: list[str],
    pending: dict[str, tuple[str, str]],
) -> None:
    for name, child_spec in todo.create:
        sid = child_spec["machine"]["systemId"]
        body = {
            "apiVersion": API_VERSION,
            "kind": "MachineRaid",
            "metadata": {
                "name": name,
                "labels": {SET_LABEL: ref.name},
                "ownerReferences": [ref.owner_reference()],
            },
            "spec": child_spec,
        }
        try:
            created = await kube.create(API_VERSION, CHILD_PLURAL, body)
        except BackendRefused as exc:
            if isinstance(exc, BackendForbidden):
                raise
            pending[sid] = (reasons.CHILD_REFUSED, f"creating MachineRaid {name} was refused: {exc.message}")
            continue
        if created:
            actions.append(f"created MachineRaid {name} for machine {sid}")
            pending[sid] = (reasons.CREATING, f"MachineRaid {name} was just created")
        elif await _ours(kube, name, ref):
            # Created by an earlier pass that the index had not caught up with.
            pending[sid] = (reasons.CREATING, f"MachineRaid {name} was just created")
        else:
            pending[sid] = (
                reasons.NAME_CONFLICT,
                f"a MachineRaid named {name} exists and does not belong to this set: delete or rename "
                f"it, or label it {SET_LABEL}={ref.name}",
            )
    for child, child_spec in todo.adopt:
        metadata: dict[str, Any] = {
            "labels": {SET_LABEL: ref.name},
            "annotations": {RELEASED_ANNOTATION: None},
            "ownerReferences": [*_other_owners(child, ref), ref.owner_reference()],
        }
        sid = child_spec["machine"]["systemId"]
        if await _patch(kube, child, {"metadata": metadata, "spec": child_spec}, sid, pending):
            actions.append(f"took MachineRaid {child.name} back: machine {sid} matches again")
            pending[sid] = (reasons.CREATING, f"MachineRaid {child.name} was just taken back")
    for child, child_spec in todo.update:
        sid = child_spec["machine"]["systemId"]
        replace = [{"op": "replace", "path": "/spec", "value": child_spec}]
        if await _patch(kube, child, replace, sid, pending, json_patch=True):
            actions.append(f"updated MachineRaid {child.name} from the template")
    for child in todo.release:
        metadata = {
            "labels": {SET_LABEL: None},
            "annotations": {RELEASED_ANNOTATION: ref.name},
            "ownerReferences": _other_owners(child, ref) or None,
        }
        if await _patch(kube, child, {"metadata": metadata}, child.system_id or "", pending):
            actions.append(
                f"released MachineRaid {child.name}: machine {child.system_id} no longer matches "
                "(whenUnmatched Retain keeps its array)"
            )
    for child in todo.delete:
        if await kube.delete(API_VERSION, CHILD_PLURAL, child.name):
            actions.append(
                f"deleted MachineRaid {child.name}: machine {child.system_id} no longer matches "
                "(whenUnmatched Delete)"
            )


async def _ours(kube: ChildObjects, name: str, ref: SetRef) -> bool:
    existing = await kube.get(API_VERSION, CHILD_PLURAL, name)
    owners = ((existing or {}).get("metadata") or {}).get("ownerReferences") or []
    return any(o.get("uid") == ref.uid for o in owners)


def _other_owners(child: Child, ref: SetRef) -> list[dict[str, Any]]:
    return [dict(o) for o in child.owner_refs if o.get("uid") != ref.uid]


async def _patch(
    kube: ChildObjects,
    child: Child,
    body: dict[str, Any] | list[dict[str, Any]],
    sid: str,
    pending: dict[str, tuple[str, str]],
    *,
    json_patch: bool = False,
) -> bool:
    """A refusal (an immutable field, a rule of the MachineRaid CRD) becomes that machine's line."""
    try:
        await kube.patch(API_VERSION, CHILD_PLURAL, child.name, body, json_patch=json_patch)
    except BackendRefused as exc:
        if isinstance(exc, BackendForbidden):
            raise
        refused = f"MachineRaid {child.name} refused the template: {exc.message}"
        pending[sid] = (reasons.CHILD_REFUSED, refused)
        return False
    return True


async def finalize(kube: ChildObjects, ref: SetRef, deletion_policy: str, owned: Sequence[Child]) -> Outcome:
    """Delete the children (each follows its own deletionPolicy) and wait until they are gone, or
    release them all (Retain). Ready once the set may go."""
    if not owned:
        return Outcome.done("no MachineRaid belongs to the set any more", None, [])
    actions: list[str] = []
    if deletion_policy == "Retain":
        for child in owned:
            metadata = {
                "labels": {SET_LABEL: None},
                "annotations": {RELEASED_ANNOTATION: ref.name},
                "ownerReferences": _other_owners(child, ref) or None,
            }
            await kube.patch(API_VERSION, CHILD_PLURAL, child.name, {"metadata": metadata})
            actions.append(f"released MachineRaid {child.name} (deletionPolicy Retain)")
        return Outcome.done(f"released {len(owned)} MachineRaids", None, actions)
    for child in owned:
        if not child.deleting and await kube.delete(API_VERSION, CHILD_PLURAL, child.name):
            actions.append(f"deleted MachineRaid {child.name}")
    left = sorted(owned, key=lambda c: c.name)
    shown = "; ".join(f"{c.name} ({c.reason}: {c.message})" if c.message else c.name for c in left[:5])
    return Outcome.waiting(
        reasons.DELETING_CHILDREN,
        f"waiting for {len(left)} MachineRaid{'s' if len(left) != 1 else ''} to be deleted: {shown}",
        retry=Wait.WAIT,
        actions=actions,
    )
