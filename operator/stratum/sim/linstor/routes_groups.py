"""Resource groups, volume groups, spawn and the size queries."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import engine
from . import props as P
from . import selectfilter as sf
from .definitions import create_rd, create_vd, drop_rd
from .http import (
    body_dict,
    entries_response,
    int_param,
    mutating,
    paginate,
    query_list,
    read_body,
    reading,
    state_of,
)
from .model import DFLT_RSC_GRP, ResourceGroup, State, VolumeGroup
from .names import check_rg_name, key, name_from_external
from .serialize import rg_json, vg_json

CTX_RG = rc.MASK_CRT | rc.MASK_RSC_GRP  # create, modify and delete all use the create op (quirk)


def rg_or_404(state: State, name: str) -> ResourceGroup:
    rg = state.rg(name)
    if rg is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_RSC_GRP,
            f"Resource group '{name}' not found.",
            obj_refs={"RscGrp": name},
        )
    return rg


def _unknown_pools_warning(state: State, flt: dict[str, Any]) -> list[rc.Entry]:
    missing = [p for p in flt.get("storage_pool_list") or [] if not state.pool_defined(p)]
    missing += [p for p in flt.get("storage_pool_diskless_list") or [] if not state.pool_defined(p)]
    if not missing:
        return []
    return [
        rc.warn(
            rc.WARN_NOT_FOUND,
            f"The following storage pools were not found: {', '.join(missing)}",
            details="The resource group was stored anyway; placement will not find these pools.",
        )
    ]


@reading(rc.MASK_RSC_GRP)
def list_rgs(request: web.Request, state: State) -> Any:
    names = {key(n) for n in query_list(request, "resource_groups")}
    filters = query_list(request, "props")
    rgs = [
        rg
        for rg in sorted(state.rgs.values(), key=lambda g: g.name.upper())
        if (not names or rg.key in names) and P.matches_filter(rg.props, filters)
    ]
    return [rg_json(rg) for rg in paginate(request, rgs)]


@reading(rc.MASK_RSC_GRP)
def get_rg(request: web.Request, state: State) -> Any:
    return rg_json(rg_or_404(state, request.match_info["rg"]))


@mutating(CTX_RG, 201, parse_status=400)
def create_rg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    name = check_rg_name(data.get("name"))
    flt = sf.parse(data.get("select_filter"))
    if state.rg(name) is not None:
        raise rc.fail(
            rc.FAIL_EXISTS_RSC_GRP,
            f"A resource group with the name '{name}' already exists.",
            obj_refs={"RscGrp": name},
        )
    peer_slots = data.get("peer_slots")
    # `props` in the create body are ignored by the controller (set them with a PUT).
    rg = ResourceGroup(
        name=name,
        description=data.get("description") or None,
        select_filter=flt,
        peer_slots=int(peer_slots) if peer_slots else None,
    )
    state.rgs[rg.key] = rg
    return [
        rc.ok(
            rc.CREATED,
            f"New resource group '{name}' created.",
            details=f"Resource group '{name}' UUID is: {rg.uuid}",
            obj_refs={"RscGrp": name},
        ),
        *_unknown_pools_warning(state, flt),
    ]


@mutating(CTX_RG, 200)
def modify_rg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    data = body_dict(body)
    raw_filter = data.get("select_filter")
    update = sf.parse(raw_filter)
    # Validate props first so that a failing call changes nothing.
    new_props = dict(rg.props)
    keys = P.apply_modify(new_props, data)
    for k in keys:
        if k == "DrbdOptions/ExactSize":
            raise rc.fail(
                rc.FAIL_INVLD_PROP, f"Invalid property key: {k}", cause="Not allowed on resource groups."
            )
    rg.props = new_props
    if data.get("description") is not None:
        rg.description = str(data["description"]) or None
    if raw_filter is not None:
        sf.modify(rg.select_filter, update, "node_name_list" in (raw_filter or {}))
    if data.get("peer_slots"):
        rg.peer_slots = int(data["peer_slots"])
    entries: list[rc.Entry] = []
    if keys:
        entries.append(P.set_props_entry(keys, rc.MASK_RSC_GRP))
    entries.append(rc.ok(rc.MODIFIED, f"Resource group '{rg.name}' modified.", obj_refs={"RscGrp": rg.name}))
    entries += _unknown_pools_warning(state, update)
    if "place_count" in update:
        # Any modify that sets place_count immediately autoplaces the group's definitions that are short.
        wanted = int(update["place_count"])
        for rd_key in sorted(rg.rds):
            rd = state.rds[rd_key]
            if not rd.vds:
                continue
            count = sum(1 for r in rd.live_resources() if not r.tiebreaker)
            if count >= wanted:
                continue
            try:
                entries += engine.autoplace(state, rd, dict(rg.select_filter))
            except rc.ApiError as exc:
                entries += exc.entries
    return entries


@mutating(CTX_RG, 200)
def delete_rg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = request.match_info["rg"]
    rg = state.rg(name)
    if rg is None:
        return [
            rc.warn(rc.WARN_NOT_FOUND, f"Resource group '{name}' not found.", obj_refs={"RscGrp": name}),
        ]
    if rg.key == key(DFLT_RSC_GRP):
        raise rc.fail(rc.FAIL_ACC_DENIED_RSC_GRP, "The default resource group cannot be deleted.")
    if rg.rds:
        in_use = ", ".join(sorted(state.rds[k].name for k in rg.rds))
        raise rc.fail(
            rc.FAIL_EXISTS_RSC_DFN,
            f"Cannot delete resource group '{rg.name}' because it has existing resource definitions.",
            details=f"Resource definitions: {in_use}",
            correction="Delete the resource definitions first or move them to another resource group.",
            obj_refs={"RscGrp": rg.name},
        )
    del state.rgs[rg.key]
    return [
        rc.ok(
            rc.DELETED,
            f"Resource group '{rg.name}' deleted.",
            details=f"Resource group '{rg.name}' UUID was: {rg.uuid}",
            obj_refs={"RscGrp": rg.name},
        )
    ]


# Volume groups ----------------------------------------------------------------------------------


def _vg_or_404(rg: ResourceGroup, nr: int) -> VolumeGroup:
    vg = rg.vgs.get(nr)
    if vg is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_VLM_GRP,
            f"Volume group with number '{nr}' of resource group '{rg.name}' not found.",
        )
    return vg


@reading(rc.MASK_VLM_GRP)
def list_vgs(request: web.Request, state: State) -> Any:
    rg = rg_or_404(state, request.match_info["rg"])
    return [vg_json(vg) for _, vg in sorted(rg.vgs.items())]


@reading(rc.MASK_VLM_GRP)
def get_vg(request: web.Request, state: State) -> Any:
    rg = rg_or_404(state, request.match_info["rg"])
    return vg_json(_vg_or_404(rg, int_param(request, "nr")))


@mutating(rc.MASK_CRT | rc.MASK_VLM_GRP, 201, parse_status=400)
def create_vg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    data = body_dict(body)
    if rg.rds:
        raise rc.fail(
            rc.FAIL_EXISTS_RSC_DFN,
            f"Volume group cannot be created while the resource group '{rg.name}' has resource definitions.",
        )
    nr = data.get("volume_number")
    if nr is None:
        nr = next(i for i in range(len(rg.vgs) + 1) if i not in rg.vgs)
    if not isinstance(nr, int) or isinstance(nr, bool) or not 0 <= nr <= 65535:
        raise rc.fail(rc.FAIL_INVLD_VLM_NR, f"Invalid volume number '{nr}'")
    if nr in rg.vgs:
        raise rc.fail(
            rc.FAIL_EXISTS_VLM_GRP, f"Volume group with number '{nr}' already exists in '{rg.name}'."
        )
    vg = VolumeGroup(nr, P.validate_map(data.get("props")), [str(f) for f in data.get("flags") or []])
    rg.vgs[nr] = vg
    return [
        rc.ok(
            rc.CREATED,
            f"Volume group with number '{nr}' of resource group '{rg.name}' created.",
            obj_refs={"RscGrp": rg.name, "VlmNr": str(nr)},
        )
    ]


@mutating(rc.MASK_MOD | rc.MASK_VLM_GRP, 200)
def modify_vg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    vg = _vg_or_404(rg, int_param(request, "nr"))
    data = body_dict(body)
    P.apply_modify(vg.props, data)
    P.apply_flags(vg.flags, data.get("flags"))
    return [rc.ok(rc.MODIFIED, f"Volume group '{vg.number}' of resource group '{rg.name}' modified.")]


@mutating(rc.MASK_DEL | rc.MASK_VLM_GRP, 200)
def delete_vg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    nr = int_param(request, "nr")
    if nr not in rg.vgs:
        return [rc.warn(rc.WARN_NOT_FOUND, f"Volume group '{nr}' of resource group '{rg.name}' not found.")]
    del rg.vgs[nr]
    return [rc.ok(rc.DELETED, f"Volume group '{nr}' of resource group '{rg.name}' deleted.")]


# Spawn ------------------------------------------------------------------------------------------


@mutating(rc.MASK_CRT | rc.MASK_RSC_GRP, 201)
def spawn(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    data = body_dict(body)
    sizes = data.get("volume_sizes") or []
    if not isinstance(sizes, list) or any(isinstance(s, bool) or not isinstance(s, int) for s in sizes):
        raise rc.fail(rc.FAIL_INVLD_VLM_SIZES, "volume_sizes must be a list of sizes in KiB")
    partial = bool(data.get("partial"))
    entries: list[rc.Entry] = []
    if not rg.vgs:
        partial = True
        entries.append(
            rc.info(
                0,
                f"Resource group '{rg.name}' has no volume groups, automatically assume partial mode",
            )
        )
    elif not partial and len(sizes) != len(rg.vgs):
        raise rc.fail(
            rc.FAIL_INVLD_VLM_SIZES,
            f"Invalid number of volume sizes: {len(sizes)}, the resource group '{rg.name}' has "
            f"{len(rg.vgs)} volume groups",
            correction="Give one size per volume group or use partial mode.",
        )
    passphrases = data.get("volume_passphrases")
    if passphrases is not None and len(passphrases) != len(sizes):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, "volume_passphrases must have one entry per volume size")
    name = data.get("resource_definition_name") or ""
    external = data.get("resource_definition_external_name") or None
    if not name and external:
        name = name_from_external(external, set(state.rds))
    request_filter = sf.parse(data.get("select_filter")) if data.get("select_filter") is not None else None
    if request_filter is None:
        merged = dict(rg.select_filter)
    else:
        merged = sf.merge(
            request_filter, {k: v for k, v in rg.select_filter.items() if k != "node_name_list"}
        )
    sf.validate_kinds(merged)
    rd_props = P.validate_map(data.get("resource_definition_props"))
    peer_slots = data.get("peer_slots")

    rd, rd_entries = create_rd(
        state,
        name,
        rg,
        external_name=external,
        props=rd_props,
        layers=merged.get("layer_stack"),
        peer_slots=int(peer_slots) if peer_slots else None,
    )
    try:
        vg_numbers = sorted(rg.vgs)
        for i, size in enumerate(sizes):
            nr = vg_numbers[i] if i < len(vg_numbers) else (max([*vg_numbers, i - 1]) + 1)
            vg = rg.vgs.get(nr)
            _, vd_entries = create_vd(
                state, rd, nr, size, props=dict(vg.props) if vg else {}, flags=list(vg.flags) if vg else []
            )
            rd_entries += vd_entries
        if data.get("definitions_only"):
            rd_entries.append(
                rc.info(
                    rc.INFO_NO_RSC_SPAWNED,
                    f"Resource definition '{rd.name}' spawned without resources (definitions only).",
                    obj_refs={"RscDfn": rd.name},
                )
            )
        else:
            rd_entries += engine.autoplace(state, rd, merged)
    except rc.ApiError:
        drop_rd(state, rd)
        raise
    return entries + rd_entries


# Size queries -----------------------------------------------------------------------------------


def _max_sizes(state: State, rg: ResourceGroup, flt: dict[str, Any]) -> list[dict[str, Any]]:
    place_count = int(flt.get("place_count") or 2)
    pool_names = {key(p) for p in flt["storage_pool_list"]} if flt.get("storage_pool_list") else None
    providers = set(flt["provider_list"]) if flt.get("provider_list") else None
    by_pool: dict[str, list[tuple[float, str, bool]]] = {}
    display: dict[str, str] = {}
    for node in state.nodes.values():
        if not node.placeable or node.type not in ("SATELLITE", "COMBINED"):
            continue
        for pool in node.pools.values():
            if pool.diskless or (pool_names is not None and key(pool.name) not in pool_names):
                continue
            if providers is not None and pool.provider not in providers:
                continue
            estimate = pool.estimated_free_kib()
            by_pool.setdefault(key(pool.name), []).append((estimate, node.name, pool.thin))
            display[key(pool.name)] = pool.name
    candidates: list[dict[str, Any]] = []
    for pk, rows in by_pool.items():
        if len(rows) < place_count:
            continue
        rows.sort(key=lambda r: (-r[0], r[1]))
        top = rows[:place_count]
        candidates.append(
            {
                "storage_pool": display[pk],
                "max_volume_size_kib": int(max(top[-1][0], 0)),
                "node_names": [r[1] for r in top],
                "all_thin": all(r[2] for r in top),
            }
        )
    candidates.sort(key=lambda c: (-c["max_volume_size_kib"], c["storage_pool"]))
    return candidates


@reading(rc.MASK_RSC_GRP)
def query_max_volume_size(request: web.Request, state: State) -> Any:
    rg = rg_or_404(state, request.match_info["rg"])
    candidates = _max_sizes(state, rg, rg.select_filter)
    if not candidates:
        raise rc.fail(
            rc.FAIL_NOT_ENOUGH_NODES, "Not enough nodes", details="No candidate storage pools found."
        )
    return {"candidates": candidates, "default_max_oversubscription_ratio": 20.0}


async def query_size_info(request: web.Request) -> web.StreamResponse:
    state = state_of(request)
    try:
        body = body_dict(await read_body(request, 500))
        rg = rg_or_404(state, request.match_info["rg"])
        flt = sf.merge(sf.parse(body.get("select_filter")), rg.select_filter)
    except rc.ApiError as exc:
        return entries_response(exc.entries, 200, rc.MASK_RSC_GRP, exc.status)
    candidates = _max_sizes(state, rg, flt)
    if not candidates:
        report = rc.err(rc.FAIL_NOT_ENOUGH_NODES, "Not enough nodes").with_context(rc.MASK_RSC_GRP)
        return web.json_response({"reports": [report.to_json()]})
    best = candidates[0]
    capacity = 0
    for node_name in best["node_names"]:
        node = state.node(node_name)
        pool = node.pool(best["storage_pool"]) if node else None
        capacity += pool.total_kib if pool else 0
    return web.json_response(
        {
            "space_info": {
                "max_vlm_size_in_kib": best["max_volume_size_kib"],
                "available_size_in_kib": best["max_volume_size_kib"],
                "capacity_in_kib": capacity,
                "next_spawn_result": [
                    {"node_name": n, "stor_pool_name": best["storage_pool"]} for n in best["node_names"]
                ],
            }
        }
    )


@mutating(rc.MASK_MOD | rc.MASK_RSC_GRP, 200)
def adjust_rg(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rg = rg_or_404(state, request.match_info["rg"])
    entries: list[rc.Entry] = []
    for rd_key in sorted(rg.rds):
        rd = state.rds[rd_key]
        if rd.vds:
            entries += engine.autoplace(state, rd, dict(rg.select_filter))
    return entries or [rc.ok(rc.MODIFIED, f"Resource group '{rg.name}' adjusted.")]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/resource-groups", list_rgs)
    r.add_post("/v1/resource-groups", create_rg)
    r.add_get("/v1/resource-groups/{rg}", get_rg)
    r.add_put("/v1/resource-groups/{rg}", modify_rg)
    r.add_delete("/v1/resource-groups/{rg}", delete_rg)
    r.add_get("/v1/resource-groups/{rg}/volume-groups", list_vgs)
    r.add_post("/v1/resource-groups/{rg}/volume-groups", create_vg)
    r.add_get("/v1/resource-groups/{rg}/volume-groups/{nr}", get_vg)
    r.add_put("/v1/resource-groups/{rg}/volume-groups/{nr}", modify_vg)
    r.add_delete("/v1/resource-groups/{rg}/volume-groups/{nr}", delete_vg)
    r.add_post("/v1/resource-groups/{rg}/spawn", spawn)
    r.add_get("/v1/resource-groups/{rg}/query-max-volume-size", query_max_volume_size)
    r.add_post("/v1/resource-groups/{rg}/query-size-info", query_size_info)
    r.add_post("/v1/resource-groups/{rg}/adjust", adjust_rg)
