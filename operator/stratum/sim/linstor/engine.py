"""Controller-side mechanics shared by several handlers.

Creating/deleting/toggling resource objects (node ids, ports, volumes, pool reservations), the
autoplace flow, and the helpers that run after every placement change: the quorum tiebreaker and
auto-quorum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import apicallrc as rc
from . import autoplacer, drbdstate, readywait
from . import selectfilter as sf
from .model import (
    DEFAULT_LAYER_STACK,
    Node,
    Resource,
    ResourceDefinition,
    State,
    StoragePool,
    Volume,
    VolumeDefinition,
)
from .props import is_false

QUORUM_KEY = "DrbdOptions/Resource/quorum"
MAX_NODE_ID = 31
CTX_AUTOPLACE = rc.MASK_CRT | rc.MASK_RSC


def prop_chain(state: State, rd: ResourceDefinition, key: str) -> str | None:
    for props in (rd.props, rd.rg.props, state.ctrl_props):
        if key in props:
            return props[key]
    return None


def gross_kib(size_kib: int, rd: ResourceDefinition, pool: StoragePool) -> int:
    """Backing size: net + internal DRBD metadata, rounded to the provider's allocation unit."""
    if pool.diskless:
        return 0
    gross = size_kib
    if "DRBD" in (rd.layer_stack or DEFAULT_LAYER_STACK):
        bitmap = -(-size_kib // 32768) * rd.effective_peer_slots()
        meta = 36 + bitmap
        gross += -(-meta // 4) * 4
    unit = 4096 if pool.provider.startswith("LVM") else 8 if pool.provider.startswith("ZFS") else 4
    return -(-gross // unit) * unit


def fix_layer_stack(rd: ResourceDefinition, requested: list[str] | None) -> None:
    if rd.layer_stack is None:
        rd.layer_stack = list(requested or rd.requested_layers or DEFAULT_LAYER_STACK)


def check_peer_slots(rd: ResourceDefinition, added: int) -> None:
    total = len(rd.resources) + added
    slots = rd.effective_peer_slots()
    if total > slots + 1:
        raise rc.fail(
            rc.FAIL_INSUFFICIENT_PEER_SLOTS,
            f"Resource '{rd.name}' would need {total - 1} peer slots but only {slots} are configured",
        )


def _next_node_id(rd: ResourceDefinition) -> int:
    used = {r.node_id for r in rd.resources.values()}
    for nr in range(MAX_NODE_ID + 1):
        if nr not in used:
            return nr
    raise rc.fail(rc.FAIL_POOL_EXHAUSTED_NODE_ID, "No more DRBD node ids available")


def _make_volume(rd: ResourceDefinition, vd: VolumeDefinition, pool: StoragePool) -> Volume:
    gross = gross_kib(vd.size_kib, rd, pool)
    if not pool.diskless:
        pool.reserve(rd.key, vd.number, gross)
    return Volume(vd.number, pool, gross)


def create_resource(
    state: State,
    rd: ResourceDefinition,
    node: Node,
    pool: StoragePool,
    *,
    diskless: bool,
    props: Mapping[str, str] | None = None,
    drbd_client: bool = False,
    tiebreaker: bool = False,
    diskful_by: str | None = None,
    layers: list[str] | None = None,
    node_id: int | None = None,
    ports: list[int] | None = None,
    restored: bool = False,
) -> Resource:
    """A new resource; `restored` ones come with the snapshot's data (UpToDate, no initial sync)."""
    fix_layer_stack(rd, layers)
    nid = node_id if node_id is not None else _next_node_id(rd)
    flags: set[str] = set()
    if diskless:
        flags.add("DRBD_DISKLESS")
    if tiebreaker:
        flags.add("TIE_BREAKER")
    res_props = dict(props or {})
    res_props["StorPoolName"] = pool.name
    if not diskless and diskful_by:
        res_props["DiskfulBy"] = diskful_by
    res = Resource(
        rd=rd, node=node, pool=pool, node_id=nid, props=res_props, flags=flags, drbd_client=drbd_client
    )
    if "DRBD" in (rd.layer_stack or []):
        if state.per_node_ports:
            if ports:
                for port in ports:
                    node.ports.take(port)
                res.ports = list(ports)
            else:
                allocated = node.ports.allocate()
                if allocated is None:
                    raise rc.fail(rc.FAIL_POOL_EXHAUSTED_TCP_PORT, f"No more TCP ports on node '{node.name}'")
                res.ports = [allocated]
        elif rd.port is not None:
            res.ports = [rd.port]
    rd.resources[node.key] = res
    node.resources[rd.key] = res
    for vd in rd.vds.values():
        res.volumes[vd.number] = _make_volume(rd, vd, pool)
        drbdstate.start_volume(state, res, vd, res.volumes[vd.number], restored)
    return res


def remove_resource(state: State, res: Resource) -> None:
    rd, node = res.rd, res.node
    for vol in res.volumes.values():
        vol.pool.release(rd.key, vol.number)
    if state.per_node_ports:
        for port in res.ports:
            node.ports.free(port)
    rd.resources.pop(node.key, None)
    node.resources.pop(rd.key, None)


def add_volume_everywhere(state: State, rd: ResourceDefinition, vd: VolumeDefinition) -> None:
    for res in rd.resources.values():
        res.volumes[vd.number] = _make_volume(rd, vd, res.pool)
        drbdstate.start_volume(state, res, vd, res.volumes[vd.number], restored=False)
    drbdstate.mark_initialized(rd)


def remove_volume_everywhere(rd: ResourceDefinition, nr: int) -> None:
    for res in rd.resources.values():
        vol = res.volumes.pop(nr, None)
        if vol is not None:
            vol.pool.release(rd.key, nr)


def resize_volumes(rd: ResourceDefinition, vd: VolumeDefinition) -> None:
    for res in rd.resources.values():
        vol = res.volumes.get(vd.number)
        if vol is None or vol.pool.diskless:
            continue
        vol.allocated_kib = gross_kib(vd.size_kib, rd, vol.pool)
        vol.pool.reserve(rd.key, vd.number, vol.allocated_kib)


def set_disk(
    state: State, res: Resource, pool: StoragePool, diskless: bool, diskful_by: str | None = None
) -> None:
    """Toggle a resource between diskful and diskless (or drop a tiebreaker's flag)."""
    rd = res.rd
    for vol in res.volumes.values():
        vol.pool.release(rd.key, vol.number)
    res.pool = pool
    res.props["StorPoolName"] = pool.name
    if diskless:
        res.flags.add("DRBD_DISKLESS")
        res.props.pop("DiskfulBy", None)
    else:
        res.flags -= {"DRBD_DISKLESS", "TIE_BREAKER"}
        res.drbd_client = False
        if diskful_by:
            res.props["DiskfulBy"] = diskful_by
    for nr, vd in rd.vds.items():
        res.volumes[nr] = _make_volume(rd, vd, pool)
        drbdstate.start_volume(state, res, vd, res.volumes[nr], restored=False)


def resource_entries(res: Resource, verb: str = "created") -> list[rc.Entry]:
    refs = {"RscDfn": res.rd.name, "Node": res.node.name}
    entries = [
        rc.ok(
            rc.MASK_CRT | rc.MASK_RSC | rc.CREATED,
            f"New resource '{res.rd.name}' on node '{res.node.name}' registered.",
            details=f"Resource '{res.rd.name}' on node '{res.node.name}' UUID is: {res.uuid}",
            obj_refs=refs,
        )
    ]
    for nr in sorted(res.volumes):
        entries.append(
            rc.ok(
                rc.MASK_CRT | rc.MASK_VLM | rc.CREATED,
                f"Volume with number '{nr}' on resource '{res.rd.name}' on node '{res.node.name}' "
                "successfully registered",
                obj_refs={**refs, "VlmNr": str(nr)},
            )
        )
    return entries


# Autoplace --------------------------------------------------------------------------------------


def autoplace(state: State, rd: ResourceDefinition, flt: Mapping[str, Any]) -> list[rc.Entry]:
    """Place replicas per the merged filter. Raises before changing anything if it cannot.

    Entries carry the autoplace context (create + resource), also when called from spawn or an
    RG modify.
    """
    try:
        entries = _autoplace(state, rd, flt)
    except rc.ApiError as exc:
        raise rc.ApiError(*[e.with_context(CTX_AUTOPLACE) for e in exc.entries], status=exc.status) from exc
    return [e.with_context(CTX_AUTOPLACE) for e in entries]


def _autoplace(state: State, rd: ResourceDefinition, flt: Mapping[str, Any]) -> list[rc.Entry]:
    sf.validate_kinds(flt)
    existing = rd.diskful()
    extra = int(flt.get("additional_place_count") or 0)
    place_count = int(flt.get("place_count") or 2)
    additional = extra if extra > 0 else place_count - len(existing)
    dor = bool(flt.get("diskless_on_remaining"))
    entries: list[rc.Entry] = []
    if additional < 0:
        entries.append(
            rc.warn(
                rc.WARN_RSC_ALREADY_DEPLOYED,
                f"Resource '{rd.name}' was already deployed on {len(existing)} nodes. The resource would "
                "have to be deleted from nodes to reach the placement count.",
                obj_refs={"RscDfn": rd.name},
            )
        )
    elif additional == 0 and not dor:
        entries.append(
            rc.warn(
                rc.WARN_RSC_ALREADY_DEPLOYED,
                f"Resource '{rd.name}' was already deployed on {len(existing)} nodes. Skipping.",
                obj_refs={"RscDfn": rd.name},
            )
        )
        return entries
    chosen = autoplacer.select_diskful(state, rd, flt, additional) if additional > 0 else []
    remaining: list[autoplacer.Candidate] = []
    if dor:
        if not existing and not chosen:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_RSC,
                "Cannot place 'diskless-on-remaining' without having diskful resources deployed",
            )
        remaining = autoplacer.select_diskless_remaining(state, rd, flt, {c.node.key for c in chosen})
    new_count = sum(1 for c in chosen if rd.key not in c.node.resources) + len(remaining)
    check_peer_slots(rd, new_count)

    layers = list(flt["layer_stack"]) if flt.get("layer_stack") else None
    deployed: list[Resource] = []
    for c in chosen:
        own = c.node.resources.get(rd.key)
        if own is not None and own.tiebreaker:
            set_disk(state, own, c.pool, diskless=False, diskful_by="auto-placer")
            deployed.append(own)
        else:
            deployed.append(
                create_resource(
                    state, rd, c.node, c.pool, diskless=False, diskful_by="auto-placer", layers=layers
                )
            )
    for c in remaining:
        deployed.append(create_resource(state, rd, c.node, c.pool, diskless=True, layers=layers))

    if chosen:
        used = ", ".join(f"'{c.node.name} ({c.pool.name})'" for c in chosen)
        refs: dict[str, str] = {"RscDfn": rd.name}
        for i, c in enumerate(chosen):
            refs[f"Node/{i}"] = c.node.name
            refs[f"StoragePool/{i}/0"] = f"{c.pool.name},{c.pool.provider}"
        entries.append(
            rc.ok(
                rc.MASK_CRT | rc.MASK_RSC | rc.CREATED,
                f"Resource '{rd.name}' successfully autoplaced on {len(chosen)} nodes",
                details=f"Used nodes (storage pool name): {used}",
                obj_refs=refs,
            )
        )
    for c in remaining:
        entries.append(
            rc.ok(
                rc.MASK_CRT | rc.MASK_RSC | rc.CREATED,
                f"Resource '{rd.name}' diskless on remaining node '{c.node.name}' created",
                obj_refs={"RscDfn": rd.name, "Node": c.node.name},
            )
        )
    entries.extend(after_change(state, rd))
    entries.extend(readywait.ready_entries(state, rd, deployed))
    return entries


# Auto-helpers -----------------------------------------------------------------------------------


def after_change(state: State, rd: ResourceDefinition) -> list[rc.Entry]:
    drbdstate.mark_initialized(rd)
    if "DRBD" not in (rd.layer_stack or []):
        return []
    return manage_tiebreaker(state, rd) + auto_quorum(state, rd)


def tiebreaker_enabled(state: State, rd: ResourceDefinition) -> bool:
    return not is_false(prop_chain(state, rd, "DrbdOptions/auto-add-quorum-tiebreaker"))


def tiebreaker_needed(state: State, rd: ResourceDefinition) -> bool:
    live = rd.live_resources()
    diskful = [r for r in live if not r.diskless]
    voters = [r for r in live if r.diskless and not r.tiebreaker and not r.drbd_client]
    return tiebreaker_enabled(state, rd) and len(diskful) >= 2 and len(diskful) % 2 == 0 and not voters


def manage_tiebreaker(state: State, rd: ResourceDefinition) -> list[rc.Entry]:
    entries: list[rc.Entry] = []
    tiebreakers = [r for r in rd.live_resources() if r.tiebreaker]
    needed = tiebreaker_needed(state, rd)
    if needed and not tiebreakers:
        choice = autoplacer.select_tiebreaker(state, rd)
        if choice is None:
            entries.append(
                rc.warn(
                    rc.WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER,
                    f"Could not find a suitable node to automatically create a tie breaking resource for "
                    f"'{rd.name}'.",
                    obj_refs={"RscDfn": rd.name},
                )
            )
        elif len(rd.resources) + 1 <= rd.effective_peer_slots() + 1:
            create_resource(state, rd, choice.node, choice.pool, diskless=True, tiebreaker=True)
            entries.append(
                rc.info(
                    rc.INFO_TIE_BREAKER_CREATED,
                    f"Tie breaker resource '{rd.name}' created on {choice.node.name}",
                    obj_refs={"RscDfn": rd.name, "Node": choice.node.name},
                )
            )
    elif not needed:
        for res in tiebreakers:
            remove_resource(state, res)
            entries.append(
                rc.info(
                    rc.INFO_TIE_BREAKER_DELETING,
                    f"Tie breaker resource '{rd.name}' on {res.node.name} marked for deletion",
                    obj_refs={"RscDfn": rd.name, "Node": res.node.name},
                )
            )
    return entries


def auto_quorum(state: State, rd: ResourceDefinition) -> list[rc.Entry]:
    mode = prop_chain(state, rd, "DrbdOptions/auto-quorum") or "io-error"
    if mode == "disabled":
        return []
    live = rd.live_resources()
    if not live:
        return []
    diskful = sum(1 for r in live if not r.diskless)
    voters = sum(1 for r in live if r.diskless and not r.drbd_client)
    desired = "majority" if diskful >= 3 or (diskful == 2 and voters >= 1) else "off"
    current = rd.props.get(QUORUM_KEY)
    if current == desired:
        return []
    rd.props[QUORUM_KEY] = desired
    return [
        rc.info(
            rc.INFO_PROP_SET,
            f"Resource definition property '{QUORUM_KEY}' updated from '{current or 'undefined'}' to "
            f"'{desired}' by auto-quorum",
            obj_refs={"RscDfn": rd.name},
        )
    ]
