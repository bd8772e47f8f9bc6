"""Resource definitions and volume definitions (create, resize, delete)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import drbdstate, engine, lifecycle, readywait
from . import props as P
from .definitions import create_rd, create_vd, drop_rd
from .http import body_dict, int_param, mutating, paginate, query_bool, query_list, reading
from .model import DFLT_RSC_GRP, ResourceDefinition, State, VolumeDefinition
from .names import key, name_from_external
from .props import is_true
from .serialize import rd_json, vd_json


def rd_or_404(state: State, name: str) -> ResourceDefinition:
    rd = state.rd(name)
    if rd is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_RSC_DFN,
            f"Resource definition '{name}' not found.",
            obj_refs={"RscDfn": name},
        )
    return rd


def vd_or_404(rd: ResourceDefinition, nr: int) -> VolumeDefinition:
    vd = rd.vds.get(nr)
    if vd is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_VLM_DFN,
            f"Volume definition with number '{nr}' of resource definition '{rd.name}' not found.",
            obj_refs={"RscDfn": rd.name, "VlmNr": str(nr)},
        )
    return vd


def in_use_error(rd: ResourceDefinition) -> rc.ApiError | None:
    for res in rd.resources.values():
        if res.in_use:
            return rc.fail(
                rc.FAIL_IN_USE,
                f"Resource '{rd.name}' is still in use.",
                cause=f"Resource is mounted/in use on node '{res.node.name}'.",
                correction=f"Un-mount resource '{rd.name}' on the node '{res.node.name}'.",
                obj_refs={"RscDfn": rd.name, "Node": res.node.name},
            )
    return None


@reading(rc.MASK_RSC_DFN)
def list_rds(request: web.Request, state: State) -> Any:
    names = {key(n) for n in query_list(request, "resource_definitions")}
    filters = query_list(request, "props")
    with_vds = query_bool(request, "with_volume_definitions")
    rds = [
        rd
        for rd in sorted(state.rds.values(), key=lambda d: d.name.upper())
        if (not names or rd.key in names) and P.matches_filter(rd.props, filters)
    ]
    return [rd_json(rd, state, with_vds) for rd in paginate(request, rds)]


@reading(rc.MASK_RSC_DFN)
def get_rd(request: web.Request, state: State) -> Any:
    return rd_json(rd_or_404(state, request.match_info["rd"]), state)


@mutating(rc.MASK_CRT | rc.MASK_RSC_DFN, 201, parse_status=400)
def create_rd_handler(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    spec = body_dict(data.get("resource_definition"), "resource_definition")
    external = spec.get("external_name") or None
    name = spec.get("name") or ""
    if not name and external:
        name = name_from_external(str(external), set(state.rds))
    rg_name = spec.get("resource_group_name") or DFLT_RSC_GRP
    rg = state.rg(rg_name)
    if rg is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_RSC_GRP,
            f"Resource group '{rg_name}' not found.",
            obj_refs={"RscGrp": rg_name},
        )
    rd_props = P.validate_map(spec.get("props"))
    layers = [str(layer.get("type")) for layer in spec.get("layer_data") or [] if isinstance(layer, dict)]
    peer_slots = data.get("drbd_peer_slots")
    port = data.get("drbd_port")
    _, entries = create_rd(
        state,
        name,
        rg,
        external_name=str(external) if external else None,
        props=rd_props,
        layers=layers or None,
        peer_slots=int(peer_slots) if peer_slots else None,
        port=int(port) if port is not None else None,
    )
    return entries


@mutating(rc.MASK_MOD | rc.MASK_RSC_DFN, 200)
def modify_rd(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    data = body_dict(body)
    new_rg = None
    if data.get("resource_group"):
        new_rg = state.rg(str(data["resource_group"]))
        if new_rg is None:
            raise rc.fail(rc.FAIL_NOT_FOUND_RSC_GRP, f"Resource group '{data['resource_group']}' not found.")
    new_props = dict(rd.props)
    keys = P.apply_modify(new_props, data)
    rd.props = new_props
    if new_rg is not None and new_rg is not rd.rg:
        rd.rg.rds.discard(rd.key)
        rd.rg = new_rg
        new_rg.rds.add(rd.key)
    if data.get("drbd_peer_slots"):
        rd.peer_slots = int(data["drbd_peer_slots"])
    entries: list[rc.Entry] = []
    if keys:
        entries.append(P.set_props_entry(keys, rc.MASK_RSC_DFN))
    entries.append(
        rc.ok(
            rc.MODIFIED,
            f"Resource definition '{rd.name}' modified.",
            details=f"Resource definition '{rd.name}' UUID is: {rd.uuid}",
            obj_refs={"RscDfn": rd.name},
        )
    )
    if keys or data.get("delete_props") or data.get("delete_namespaces"):
        entries += engine.after_change(state, rd)
    return entries


@mutating(rc.MASK_DEL | rc.MASK_RSC_DFN, 200)
def delete_rd(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = request.match_info["rd"]
    rd = state.rd(name)
    if rd is None:
        return [
            rc.warn(
                rc.WARN_NOT_FOUND,
                f"Resource definition '{name}' not found.",
                details="Deletion of the resource definition had no effect.",
                obj_refs={"RscDfn": name},
            )
        ]
    if rd.snapshots:
        raise rc.fail(
            rc.FAIL_EXISTS_SNAPSHOT_DFN,
            f"Cannot delete resource definition '{rd.name}' because it has snapshots.",
            details=f"Snapshots: {', '.join(s.name for s in rd.snapshots.values())}",
            correction="Delete the snapshots first.",
            obj_refs={"RscDfn": rd.name},
        )
    problem = in_use_error(rd)
    if problem is not None:
        raise problem
    entries: list[rc.Entry] = []
    ordered = sorted(rd.resources.values(), key=lambda r: (not r.diskless, r.node.name))
    for res in ordered:
        entries.append(
            rc.ok(
                rc.MASK_DEL | rc.MASK_RSC | rc.DELETED,
                f"Resource '{rd.name}' on node '{res.node.name}' deleted.",
                obj_refs={"RscDfn": rd.name, "Node": res.node.name},
            )
        )
    away = [r for r in ordered if not r.node.online]
    if away:
        # CtrlRscDfnDeleteApiCallHandler: flagged DELETE; the satellites that are away delete their
        # resources when they reconnect, and the definition goes with the last of them.
        entries += readywait.satellite_updates(rd)
        rd.flags = [*[f for f in rd.flags if f != "DELETE"], "DELETE"]
        for res in ordered:
            if res.node.online:
                engine.remove_resource(state, res)
            else:
                res.flags.add("DELETE")
        entries.append(
            rc.ok(
                rc.DELETED,
                f"Resource definition '{rd.name}' marked for deletion.",
                details=f"Resource definition '{rd.name}' UUID is: {rd.uuid}",
                obj_refs={"RscDfn": rd.name},
            )
        )
        return entries
    drop_rd(state, rd)
    entries.append(
        rc.ok(
            rc.DELETED,
            f"Resource definition '{rd.name}' deleted.",
            details=f"Resource definition '{rd.name}' UUID was: {rd.uuid}",
            obj_refs={"RscDfn": rd.name},
        )
    )
    return entries


# Volume definitions -----------------------------------------------------------------------------


@reading(rc.MASK_VLM_DFN)
def list_vds(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    return [vd_json(vd, rd) for _, vd in sorted(rd.vds.items())]


@reading(rc.MASK_VLM_DFN)
def get_vd(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    return vd_json(vd_or_404(rd, int_param(request, "nr")), rd)


@mutating(rc.MASK_CRT | rc.MASK_VLM_DFN, 200)
def create_vd_handler(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    data = body_dict(body)
    spec = body_dict(data.get("volume_definition"), "volume_definition")
    vd_props = P.validate_map(spec.get("props"))
    flags = [str(f) for f in spec.get("flags") or []]
    _, entries = create_vd(
        state,
        rd,
        spec.get("volume_number"),
        spec.get("size_kib"),
        props=vd_props,
        flags=flags,
        minor=data.get("drbd_minor_number"),
    )
    return entries


@mutating(rc.MASK_MOD | rc.MASK_VLM_DFN, 200)
def modify_vd(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    vd = vd_or_404(rd, int_param(request, "nr"))
    data = body_dict(body)
    entries: list[rc.Entry] = []
    new_props = dict(vd.props)
    keys = P.apply_modify(new_props, data)
    size = data.get("size_kib")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise rc.fail(rc.FAIL_INVLD_VLM_SIZE, f"Invalid volume size '{size}'")
        entries += _resize(state, rd, vd, size)
    vd.props = new_props
    P.apply_flags(vd.flags, data.get("flags"))
    if keys:
        entries.insert(0, P.set_props_entry(keys, rc.MASK_VLM_DFN))
    entries.append(
        rc.ok(
            rc.MODIFIED,
            f"Volume definition with number '{vd.number}' on resource definition '{rd.name}' modified.",
            details=f"Volume definition with number '{vd.number}' on resource definition '{rd.name}' "
            f"UUID is: {vd.uuid}",
            obj_refs={"RscDfn": rd.name, "VlmNr": str(vd.number)},
        )
    )
    return entries


def _resize(state: State, rd: ResourceDefinition, vd: VolumeDefinition, size: int) -> list[rc.Entry]:
    refs = {"RscDfn": rd.name, "VlmNr": str(vd.number)}
    if size == vd.size_kib:
        return [
            rc.warn(
                rc.WARN_VLMDFN_RESIZE_SAME_SIZE,
                f"Volume definition '{rd.name}/{vd.number}' already has the size {size} KiB.",
                obj_refs=refs,
            )
        ]
    deployed = [r for r in rd.resources.values() if vd.number in r.volumes]
    if size < vd.size_kib:
        if deployed and "DRBD" in (rd.layer_stack or []):
            raise rc.fail(
                rc.FAIL_INVLD_VLM_SIZE,
                "Shrinking volumes is not supported by layer 'DRBD'. Volumes can only grow in size.",
                obj_refs=refs,
            )
        if "RESIZE_SHRINK" not in vd.flags and deployed:
            vd.flags.append("RESIZE_SHRINK")
    else:
        if is_true(engine.prop_chain(state, rd, "DrbdOptions/ExactSize")):
            raise rc.fail(
                rc.FAIL_INVLD_VLM_SIZE,
                f"Cannot resize '{rd.name}/{vd.number}' while DrbdOptions/ExactSize is set.",
                obj_refs=refs,
            )
        short: list[str] = []
        for res in deployed:
            vol = res.volumes[vd.number]
            if vol.pool.diskless or vol.pool.thin:
                continue
            delta = engine.gross_kib(size, rd, vol.pool) - vol.allocated_kib
            if vol.pool.reported_free_kib < delta:
                short.append(f"Node: {res.node.name}, StorPool: {vol.pool.name}")
        if short:
            raise rc.fail(
                rc.FAIL_NOT_ENOUGH_FREE_SPACE,
                f"Not enough free space to resize volume definition '{rd.name}/{vd.number}'.",
                details="\n".join(short),
                obj_refs=refs,
            )
        # CtrlVlmDfnModifyApiCallHandler: every diskful DRBD replica must report UpToDate (an
        # offline satellite reports nothing, which counts as not UpToDate).
        for res in deployed:
            if res.diskless or not drbdstate.has_drbd(rd) or drbdstate.up_to_date(state, res):
                continue
            raise rc.fail(
                rc.FAIL_NOT_ALL_UPTODATE,
                "Cannot resize volume, because we have a non-UpToDate DRBD device.",
                obj_refs={**refs, "Node": res.node.name},
            )
    vd.size_kib = size
    engine.resize_volumes(rd, vd)
    if deployed:
        lifecycle.start_resize(state, rd, vd)
    return [
        rc.ok(
            rc.MASK_MOD | rc.MASK_VLM_DFN | rc.MODIFIED,
            f"Volume definition '{rd.name}/{vd.number}' resized to {size} KiB.",
            obj_refs=refs,
        )
    ]


@mutating(rc.MASK_DEL | rc.MASK_VLM_DFN, 200)
def delete_vd(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    nr = int_param(request, "nr")
    vd = rd.vds.get(nr)
    if vd is None:
        return [
            rc.warn(
                rc.WARN_NOT_FOUND,
                f"Volume definition with number '{nr}' of resource definition '{rd.name}' not found.",
                obj_refs={"RscDfn": rd.name, "VlmNr": str(nr)},
            )
        ]
    problem = in_use_error(rd)
    if problem is not None:
        raise problem
    engine.remove_volume_everywhere(rd, nr)
    state.minors.free(vd.minor)
    del rd.vds[nr]
    return [
        rc.ok(
            rc.DELETED,
            f"Volume definition with number '{nr}' of resource definition '{rd.name}' deleted.",
            obj_refs={"RscDfn": rd.name, "VlmNr": str(nr)},
        )
    ]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/resource-definitions", list_rds)
    r.add_post("/v1/resource-definitions", create_rd_handler)
    r.add_get("/v1/resource-definitions/{rd}", get_rd)
    r.add_put("/v1/resource-definitions/{rd}", modify_rd)
    r.add_delete("/v1/resource-definitions/{rd}", delete_rd)
    r.add_get("/v1/resource-definitions/{rd}/volume-definitions", list_vds)
    r.add_post("/v1/resource-definitions/{rd}/volume-definitions", create_vd_handler)
    r.add_get("/v1/resource-definitions/{rd}/volume-definitions/{nr}", get_vd)
    r.add_put("/v1/resource-definitions/{rd}/volume-definitions/{nr}", modify_vd)
    r.add_delete("/v1/resource-definitions/{rd}/volume-definitions/{nr}", delete_vd)
