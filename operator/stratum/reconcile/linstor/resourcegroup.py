"""ResourceGroup: spec.placement/description/properties/volumeGroups -> a LINSTOR resource group."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from stratum.api.linstor import MaxVolumeSize, Placement, ResourceGroupSpec, ResourceGroupStatus, VolumeGroup
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import apicallrc as rc
from stratum.clients.linstor.models import MaxVolumeSizeCandidate, ResourceGroup, SelectFilter
from stratum.clients.linstor.models import VolumeGroup as ObservedVolumeGroup
from stratum.reconcile import reasons
from stratum.reconcile.linstor.ownership import (
    MANAGED_PROP,
    OWNER_PROP,
    Claim,
    claim,
    conflict_message,
    conflict_reason,
    creation_marker,
)
from stratum.reconcile.linstor.properties import PropsChange, marker_props, plan_props
from stratum.reconcile.outcome import Degradation, Outcome, Wait
from stratum.reconcile.quantities import kib_to_quantity

WHAT = "LINSTOR resource group"
MAX_NAMED = 50
# Autoplace refusals: the placement cannot be met now (nodes, space, replicas).
PLACEMENT_FAILURES = (
    rc.FAIL_NOT_ENOUGH_NODES,
    rc.FAIL_NOT_ENOUGH_FREE_SPACE,
    rc.FAIL_INSUFFICIENT_REPLICA_COUNT,
)


def linstor_name(name: str, spec: ResourceGroupSpec) -> str:
    return spec.linstor_name or name


def select_filter(placement: Placement) -> dict[str, Any]:
    """The full select filter the spec asks for. Lists are always sent (an empty list clears
    them in LINSTOR); the regex and diskless pool only when set, since null leaves them as they are."""
    body: dict[str, Any] = {
        "place_count": placement.place_count,
        "storage_pool_list": list(placement.storage_pools),
        "not_place_with_rsc": list(placement.do_not_place_with),
        "replicas_on_same": list(placement.replicas_on_same),
        "replicas_on_different": list(placement.replicas_on_different),
        "layer_stack": [layer.upper() for layer in placement.layer_list],
        "provider_list": list(placement.provider_list),
        "diskless_on_remaining": placement.diskless_on_remaining,
    }
    if placement.do_not_place_with_regex:
        body["not_place_with_rsc_regex"] = placement.do_not_place_with_regex
    if placement.diskless_storage_pool:
        body["storage_pool_diskless_list"] = [placement.diskless_storage_pool]
    return body


def _fold(items: list[str]) -> list[str]:
    return [item.casefold() for item in items]


def filter_drift(desired: dict[str, Any], observed: SelectFilter) -> list[str]:
    """Select-filter fields LINSTOR echoes back that differ from the spec. (The diskless pool
    list is not echoed, so it is only sent with other changes and on create.)"""
    drift = []
    if observed.place_count != desired["place_count"]:
        drift.append("placeCount")
    if _fold(observed.pools) != _fold(desired["storage_pool_list"]):
        drift.append("storagePools")
    if _fold(observed.not_place_with_rsc) != _fold(desired["not_place_with_rsc"]):
        drift.append("doNotPlaceWith")
    if (
        "not_place_with_rsc_regex" in desired
        and observed.not_place_with_rsc_regex != desired["not_place_with_rsc_regex"]
    ):
        drift.append("doNotPlaceWithRegex")
    if observed.replicas_on_same != desired["replicas_on_same"]:
        drift.append("replicasOnSame")
    if observed.replicas_on_different != desired["replicas_on_different"]:
        drift.append("replicasOnDifferent")
    if [s.upper() for s in observed.layer_stack] != desired["layer_stack"]:
        drift.append("layerList")
    if [p.upper() for p in observed.provider_list] != desired["provider_list"]:
        drift.append("providerList")
    if bool(observed.diskless_on_remaining) != desired["diskless_on_remaining"]:
        drift.append("disklessOnRemaining")
    return drift


@dataclass
class GroupPlan:
    select_filter: dict[str, Any] | None = None
    description: str | None = None
    props: PropsChange = field(default_factory=PropsChange)
    drift: list[str] = field(default_factory=list)

    def modify_kwargs(self) -> dict[str, Any] | None:
        if self.select_filter is None and self.description is None and not self.props:
            return None
        return {
            "description": self.description,
            "select_filter": self.select_filter,
            "override_props": self.props.override,
            "delete_props": self.props.delete,
        }


def plan_group(spec: ResourceGroupSpec, observed: ResourceGroup, uid: str) -> GroupPlan:
    """The one modify call (if any) that makes an existing group match the spec."""
    plan = GroupPlan()
    desired = select_filter(spec.placement)
    plan.drift = filter_drift(desired, observed.select_filter)
    if plan.drift:
        plan.select_filter = desired
    wanted_description = spec.description or ""
    if (observed.description or "") != wanted_description:
        plan.description = wanted_description
        plan.drift.append("description")
    plan.props = plan_props(spec.properties, observed.props, uid)
    return plan


@dataclass
class VolumeGroupAction:
    number: int
    create: bool
    props: PropsChange


def plan_volume_groups(
    wanted: list[VolumeGroup], observed: list[ObservedVolumeGroup]
) -> list[VolumeGroupAction]:
    """Create missing volume groups by number and converge their properties. Groups beyond the
    spec are left alone: removing one would change every future resource of the group."""
    by_number = {vg.volume_number: vg for vg in observed}
    actions = []
    for number, vg in enumerate(wanted):
        found = by_number.get(number)
        if found is None:
            props = {**vg.properties, **marker_props(None, vg.properties)}
            actions.append(VolumeGroupAction(number, True, PropsChange(override=props)))
            continue
        change = plan_props(vg.properties, found.props, None)
        if change:
            actions.append(VolumeGroupAction(number, False, change))
    return actions


def set_max_volume_status(status: ResourceGroupStatus, candidates: list[MaxVolumeSizeCandidate]) -> None:
    if not candidates:
        return
    best = max(candidates, key=lambda c: c.max_volume_size_kib)
    status.max_volume_size = kib_to_quantity(best.max_volume_size_kib)
    status.max_volume_size_candidates = [
        MaxVolumeSize(
            storage_pool=c.storage_pool,
            max_volume_size=kib_to_quantity(c.max_volume_size_kib),
            node_names=list(c.node_names),
        )
        for c in candidates
    ]


def placement_fingerprint(placement: Placement) -> str:
    """Names the placement a spec asks for, so a pass knows whether it was adjusted onto the
    group's existing resources (status.placementApplied) even after a crash in between."""
    text = json.dumps(select_filter(placement), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def short_of_placement(definitions: list[str], diskful_by_rd: dict[str, int], place_count: int) -> list[str]:
    """The group's resource definitions with fewer diskful replicas than placeCount."""
    return sorted(rd for rd in definitions if diskful_by_rd.get(rd.casefold(), 0) < place_count)


# ------------------------------------------------------------------------------------ I/O


async def _placement_progress(
    client: LinstorClient, group: str, place_count: int, status: ResourceGroupStatus
) -> list[str]:
    """Count the group's resource definitions and those placed as asked; the short ones."""
    definitions = [
        rd.name
        for rd in await client.list_resource_definitions(with_volume_definitions=False)
        if (rd.resource_group_name or "").casefold() == group.casefold()
    ]
    diskful: dict[str, int] = {}
    if definitions:
        # Named in the query while short; a large group reads every resource (URL length).
        wanted = {d.casefold() for d in definitions}
        found = await client.list_resources_of(definitions, max_named=MAX_NAMED)
        for rsc in (r for r in found if r.name.casefold() in wanted):
            if not rsc.diskless and not rsc.deleting:
                diskful[rsc.name.casefold()] = diskful.get(rsc.name.casefold(), 0) + 1
    short = short_of_placement(definitions, diskful, place_count)
    status.resources = len(definitions)
    status.resources_placed = len(definitions) - len(short)
    return short


async def _adjust(client: LinstorClient, group: str, actions: list[str]) -> str | None:
    """LINSTOR's own adjust: place every resource of the group as the select filter now asks
    (linstor-server ResourceGroups.java `adjust`). The refusal, when it cannot."""
    try:
        await client.adjust_resource_group(group)
    except LinstorError as exc:
        if not exc.has_code(*PLACEMENT_FAILURES):
            raise
        return exc.message
    actions.append(f"adjusted the resources of {WHAT} {group} to its placement")
    return None


async def reconcile(
    client: LinstorClient,
    name: str,
    uid: str,
    spec: ResourceGroupSpec,
    *,
    placement_applied: str | None = None,
) -> Outcome:
    """`placement_applied`: status.placementApplied as the last pass left it."""
    group = linstor_name(name, spec)
    status = ResourceGroupStatus(linstor_name=group)
    actions: list[str] = []
    observed = await client.get_resource_group(group)
    created = observed is None
    if observed is None:
        await client.create_resource_group(
            group, description=creation_marker(uid), select_filter=select_filter(spec.placement)
        )
        actions.append(f"created {WHAT} {group}")
        observed = await client.get_resource_group(group)
        if observed is None:
            return Outcome.waiting(
                reasons.CREATING, f"{WHAT} {group} was created but is not listed yet", status, actions=actions
            )
        placement_applied = placement_fingerprint(spec.placement)  # nothing spawned from it yet
    claimed = claim(observed.props, uid, spec.adopt, observed.description)
    if claimed in (Claim.CONFLICT, Claim.OWNED_ELSEWHERE):
        return Outcome.waiting(
            conflict_reason(claimed), conflict_message(WHAT, group, claimed), retry=Wait.SLOW
        )
    if claimed is Claim.ADOPT:
        actions.append(f"adopted existing {WHAT} {group}")

    plan = plan_group(spec, observed, uid)
    kwargs = plan.modify_kwargs()
    refused: str | None = None
    if kwargs is not None:
        try:
            await client.modify_resource_group(group, **kwargs)
        except LinstorError as exc:
            # A modify that sets place_count is committed, then autoplaces the group's short
            # resources at once (CtrlRscGrpApiCallHandler); their failure comes back as an error.
            if plan.select_filter is None or not exc.has_code(*PLACEMENT_FAILURES):
                raise
            refused = exc.message
        if plan.drift and not (claimed is Claim.ADOPT or actions):
            actions.append(f"corrected drift in {WHAT} {group}: {', '.join(plan.drift)}")
        elif plan.props and not actions:
            actions.append(f"updated properties of {WHAT} {group}")

    if spec.volume_groups:
        # A group this pass created has none (the REST create takes no volume groups).
        observed_vgs = [] if created else await client.list_volume_groups(group)
        for vga in plan_volume_groups(spec.volume_groups, observed_vgs):
            if vga.create:
                await client.create_volume_group(group, vga.number, vga.props.override)
                actions.append(f"created volume group {vga.number} of {group}")
            else:
                await client.modify_volume_group(
                    group, vga.number, override_props=vga.props.override, delete_props=vga.props.delete
                )

    # A placement change reaches the resources already spawned from the group (none: no adjust).
    fingerprint = placement_fingerprint(spec.placement)
    if created:  # none spawned from it yet; the drift passes count them from now on
        short: list[str] = []
        status.resources = status.resources_placed = 0
    else:
        short = await _placement_progress(client, group, spec.placement.place_count, status)
    changed = plan.select_filter is not None or (
        placement_applied is not None and placement_applied != fingerprint
    )
    if refused is None and changed and status.resources:
        refused = await _adjust(client, group, actions)
        if refused is None:
            short = await _placement_progress(client, group, spec.placement.place_count, status)
    # Recorded once LINSTOR placed as asked, so a refused adjust is tried again next pass.
    status.placement_applied = fingerprint if refused is None else placement_applied
    degraded = None
    if short:
        why = refused or "LINSTOR has not placed them (yet)"
        degraded = Degradation(
            reasons.PLACEMENT_UNMET,
            f"{len(short)} of {status.resources} resources have fewer than "
            f"{spec.placement.place_count} diskful replicas: {', '.join(short[:20])}: {why}",
        )

    try:
        sizes = await client.query_max_volume_size(group)
        set_max_volume_status(status, sizes.candidates)
    except LinstorError as exc:
        # No candidate pool right now is information, not a failure of the group.
        status.max_volume_size = None
        return Outcome.done(
            f"{WHAT} {group} is in place; no storage pool can hold a volume now: {exc.message}",
            status,
            actions,
            degraded=degraded,
        )
    message = f"{WHAT} {group} matches the spec"
    if status.resources:
        message += f"; {status.resources_placed} of {status.resources} resources placed as asked"
    return Outcome.done(message, status, actions, degraded=degraded)


async def finalize(client: LinstorClient, name: str, uid: str, spec: ResourceGroupSpec) -> Outcome:
    """Delete (or release, with Retain) the group; ready=True once the object may go."""
    group = linstor_name(name, spec)
    observed = await client.get_resource_group(group)
    if observed is None:
        return Outcome.done(f"{WHAT} {group} is gone", None, [])
    if claim(observed.props, uid, False, observed.description) is not Claim.OURS:
        return Outcome.done(f"{WHAT} {group} was not ours; left in place", None, [])
    if spec.deletion_policy == "Retain":
        await client.modify_resource_group(group, delete_props=[OWNER_PROP, MANAGED_PROP])
        return Outcome.done(f"{WHAT} {group} retained", None, [f"released {WHAT} {group} (Retain)"])
    try:
        await client.delete_resource_group(group)
    except LinstorError as exc:
        if exc.has_code(rc.FAIL_EXISTS_RSC_DFN):
            return Outcome.waiting(
                reasons.IN_USE,
                f"{WHAT} {group} still has resources; delete the Resources "
                "of this group first (deletion continues when they are gone)",
                retry=Wait.DELETION,
            )
        raise
    return Outcome.done(f"{WHAT} {group} deleted", None, [f"deleted {WHAT} {group}"])
