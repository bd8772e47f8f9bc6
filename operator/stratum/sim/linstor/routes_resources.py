"""Resources: create on a node, autoplace, toggle disk, make-available, modify, delete, lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import autoplacer, engine, readywait
from . import props as P
from . import selectfilter as sf
from .http import body_dict, int_param, mutating, paginate, query_bool, query_list, reading
from .model import DFLT_DISKLESS_POOL, DFLT_STOR_POOL, Node, Resource, ResourceDefinition, State, StoragePool
from .names import key
from .routes_definitions import rd_or_404
from .serialize import resource_json, volume_json

FAIL_EVACUATING = 975
DISKLESS_REQUEST_FLAGS = {"DISKLESS", "DRBD_DISKLESS", "NVME_INITIATOR", "EBS_INITIATOR"}
KNOWN_REQUEST_FLAGS = DISKLESS_REQUEST_FLAGS | {"INACTIVE"}


def node_or_404(state: State, name: str) -> Node:
    node = state.node(name)
    if node is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_NODE, f"Node '{name}' not found.", obj_refs={"Node": name})
    return node


def rsc_or_404(rd: ResourceDefinition, node_name: str) -> Resource:
    res = rd.resources.get(key(node_name))
    if res is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_RSC,
            f"Resource '{rd.name}' on '{node_name}' not found.",
            obj_refs={"RscDfn": rd.name, "Node": node_name},
        )
    return res


def _explicit_pool(state: State, node: Node, name: str) -> StoragePool:
    pool = node.pool(name)
    if pool is not None:
        return pool
    if not state.pool_defined(name):
        raise rc.fail(
            rc.FAIL_NOT_FOUND_STOR_POOL_DFN,
            f"Storage pool definition '{name}' not found.",
            obj_refs={"StorPool": name},
        )
    raise rc.fail(
        rc.FAIL_NOT_FOUND_STOR_POOL,
        f"Storage pool '{name}' not found on node '{node.name}'.",
        obj_refs={"StorPool": name, "Node": node.name},
    )


def resolve_diskful_pool(
    state: State, rd: ResourceDefinition, node: Node, explicit: str | None
) -> StoragePool:
    """resource prop > VD > RD > RG > node prop, then a diskful peer's pool, then DfltStorPool."""
    if explicit:
        pool = _explicit_pool(state, node, explicit)
    else:
        name: str | None = None
        for vd in sorted(rd.vds.values(), key=lambda v: v.number):
            if vd.props.get("StorPoolName"):
                name = vd.props["StorPoolName"]
                break
        for props in (rd.props, rd.rg.props, node.props):
            if name is None and props.get("StorPoolName"):
                name = props["StorPoolName"]
        if name is None:
            for peer in rd.diskful():
                if node.pool(peer.pool.name) is not None:
                    name = peer.pool.name
                    break
        name = name or DFLT_STOR_POOL
        found = node.pool(name)
        if found is None:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_DFLT_STOR_POOL,
                f"The storage pool '{name}' for resource '{rd.name}' for volume number '0' is not deployed "
                f"on node '{node.name}'.",
                details="The resource which should be deployed had at least one volume definition "
                "(volume number '0') which LinStor tried to automatically create. The default storage "
                "pool's name for this new volume is looked for in its volume definition's properties, its "
                "resource's properties, its node's properties and finally in a system wide default "
                "storage pool name defined by the LinStor controller.",
                obj_refs={"RscDfn": rd.name, "Node": node.name},
            )
        pool = found
    if pool.diskless:
        raise rc.fail(
            rc.FAIL_INVLD_STOR_POOL_NAME,
            f"Storage pool '{pool.name}' on node '{node.name}' is diskless; a diskful resource needs a "
            "storage pool with a backing device.",
        )
    return pool


def resolve_diskless_pool(
    state: State, rd: ResourceDefinition, node: Node, explicit: str | None
) -> StoragePool:
    if explicit:
        pool = _explicit_pool(state, node, explicit)
        if not pool.diskless:
            raise rc.fail(
                rc.FAIL_INVLD_STOR_POOL_NAME,
                f"Storage pool '{pool.name}' on node '{node.name}' is not diskless but the resource is "
                "flagged DISKLESS.",
            )
        return pool
    name = (
        rd.props.get("StorPoolNameDiskless") or rd.rg.props.get("StorPoolNameDiskless") or DFLT_DISKLESS_POOL
    )
    found = node.pool(name)
    if found is None or not found.diskless:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_DFLT_STOR_POOL,
            f"The diskless storage pool '{name}' is not deployed on node '{node.name}'.",
        )
    return found


@dataclass
class _Plan:
    node: Node
    diskless: bool
    client: bool
    pool: StoragePool
    props: dict[str, str]
    layers: list[str] | None
    node_id: int | None
    ports: list[int] | None
    deprecated_flag: bool


def _plan_create(state: State, rd: ResourceDefinition, item: Any) -> _Plan:
    data = body_dict(item, "resource create entry")
    spec = body_dict(data.get("resource"), "resource")
    node = node_or_404(state, str(spec.get("node_name") or ""))
    if "EVACUATE" in node.flags:
        raise rc.fail(FAIL_EVACUATING, f"Node '{node.name}' is being evacuated.")
    flags = {str(f).upper() for f in spec.get("flags") or []}
    unknown = flags - KNOWN_REQUEST_FLAGS
    if unknown:
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"Unknown resource flags: {', '.join(sorted(unknown))}")
    client = bool(data.get("drbd_client"))
    diskless = bool(flags & DISKLESS_REQUEST_FLAGS) or client
    res_props = P.validate_map(spec.get("props"))
    explicit = res_props.pop("StorPoolName", None)
    layers = [str(layer).upper() for layer in data.get("layer_list") or []] or None
    if layers:
        sf.validate_kinds({"layer_stack": layers})
    pool = (
        resolve_diskless_pool(state, rd, node, explicit)
        if diskless
        else resolve_diskful_pool(state, rd, node, explicit)
    )
    ports = data.get("drbd_tcp_ports")
    return _Plan(
        node=node,
        diskless=diskless,
        client=client,
        pool=pool,
        props=res_props,
        layers=layers,
        node_id=data.get("drbd_node_id"),
        ports=[int(p) for p in ports] if ports else None,
        deprecated_flag="DISKLESS" in flags and "DRBD_DISKLESS" not in flags,
    )


def create_resources(state: State, rd: ResourceDefinition, items: list[Any]) -> list[rc.Entry]:
    plans = [_plan_create(state, rd, item) for item in items]
    new = sum(1 for p in plans if p.node.key not in rd.resources)
    engine.check_peer_slots(rd, new)
    entries: list[rc.Entry] = []
    deployed: list[Resource] = []
    for plan in plans:
        refs = {"RscDfn": rd.name, "Node": plan.node.name}
        if plan.deprecated_flag:
            entries.append(
                rc.warn(
                    rc.WARN_DEPRECATED,
                    "The flag DISKLESS is deprecated; it was translated to DRBD_DISKLESS.",
                    obj_refs=refs,
                )
            )
        existing = rd.resources.get(plan.node.key)
        if existing is not None:
            if existing.tiebreaker and plan.diskless:
                existing.flags.discard("TIE_BREAKER")
                existing.drbd_client = plan.client
                entries.append(
                    rc.info(
                        rc.INFO_TIE_BREAKER_TAKEOVER,
                        f"Tie breaker '{rd.name}' on '{plan.node.name}' taken over as a diskless resource.",
                        obj_refs=refs,
                    )
                )
            elif existing.diskless and not plan.diskless:
                engine.set_disk(state, existing, plan.pool, diskless=False, diskful_by="user")
                deployed.append(existing)
                entries.append(
                    rc.ok(
                        rc.MASK_MOD | rc.MASK_RSC | rc.MODIFIED,
                        f"Diskless resource '{rd.name}' on '{plan.node.name}' converted to diskful.",
                        obj_refs=refs,
                    )
                )
            elif not existing.diskless and plan.diskless:
                entries.append(
                    rc.warn(
                        rc.WARN_RSC_ALREADY_HAS_DISK,
                        f"Resource '{rd.name}' on node '{plan.node.name}' already has a disk.",
                        obj_refs=refs,
                    )
                )
            else:
                entries.append(
                    rc.info(
                        rc.INFO_RSC_ALREADY_EXISTS,
                        f"Resource '{rd.name}' on node '{plan.node.name}' already exists.",
                        obj_refs=refs,
                    )
                )
            continue
        res = engine.create_resource(
            state,
            rd,
            plan.node,
            plan.pool,
            diskless=plan.diskless,
            props=plan.props,
            drbd_client=plan.client,
            diskful_by="user",
            layers=plan.layers,
            node_id=plan.node_id,
            ports=plan.ports,
        )
        entries += engine.resource_entries(res)
        deployed.append(res)
    if not rd.vds:
        entries.append(
            rc.warn(
                rc.WARN_NOT_FOUND,
                "No volumes have been defined",
                details=f"Resource definition '{rd.name}' has no volume definitions.",
                obj_refs={"RscDfn": rd.name},
            )
        )
    live = rd.live_resources()
    if live and all(r.diskless for r in live):
        entries.append(
            rc.warn(
                rc.WARN_ALL_DISKLESS,
                f"Resource '{rd.name}' is only deployed diskless.",
                obj_refs={"RscDfn": rd.name},
            )
        )
    entries += engine.after_change(state, rd)
    entries += readywait.ready_entries(state, rd, deployed)
    return entries


@mutating(rc.MASK_CRT | rc.MASK_RSC, 201)
def create_many(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    if not isinstance(body, list):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, "The body must be a list of resource create objects")
    return create_resources(state, rd, body)


@mutating(rc.MASK_CRT | rc.MASK_RSC, 201)
def create_one(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    data = dict(body_dict(body))
    spec = dict(body_dict(data.get("resource"), "resource"))
    spec["node_name"] = request.match_info["node"]
    data["resource"] = spec
    return create_resources(state, rd, [data])


@mutating(rc.MASK_CRT | rc.MASK_RSC, 201)
def autoplace(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    data = body_dict(body)
    req = sf.parse(data.get("select_filter"))
    # The top-level boolean always overwrites the filter's value (the group's setting is ignored).
    req["diskless_on_remaining"] = bool(data.get("diskless_on_remaining", False))
    if data.get("layer_list"):
        req["layer_stack"] = [str(layer).upper() for layer in data["layer_list"]]
    group = {k: v for k, v in rd.rg.select_filter.items() if k != "node_name_list"}
    merged = sf.merge(req, group)
    return engine.autoplace(state, rd, merged)


# Toggle disk ------------------------------------------------------------------------------------


def toggle_disk(
    state: State,
    rd: ResourceDefinition,
    node_name: str,
    *,
    diskless: bool,
    client: bool = False,
    pool_name: str | None = None,
    diskful_by: str = "user",
) -> list[rc.Entry]:
    node = node_or_404(state, node_name)
    res = rsc_or_404(rd, node.name)
    refs = {"RscDfn": rd.name, "Node": node.name}
    if "DRBD" not in (rd.layer_stack or []):
        raise rc.fail(rc.FAIL_INVLD_LAYER_STACK, f"Toggling the disk of '{rd.name}' needs the DRBD layer.")
    if diskless:
        if res.tiebreaker:
            return [rc.info(rc.INFO_NOOP, f"Resource '{rd.name}' on '{node.name}' is already a tiebreaker.")]
        if res.diskless:
            if res.drbd_client == client:
                return [rc.info(rc.INFO_NOOP, f"Resource '{rd.name}' on '{node.name}' is already diskless.")]
            res.drbd_client = client
            return [rc.ok(rc.MODIFIED, f"Resource '{rd.name}' on '{node.name}' modified.", obj_refs=refs)]
        if len([r for r in rd.diskful() if r.node.online]) <= 1:
            raise rc.fail(
                rc.FAIL_INSUFFICIENT_REPLICA_COUNT,
                f"Cannot remove the disk of the only diskful replica of '{rd.name}'.",
                obj_refs=refs,
            )
        pool = resolve_diskless_pool(state, rd, node, pool_name)
        engine.set_disk(state, res, pool, diskless=True)
        res.drbd_client = client
        message = f"Removal of disk from resource '{rd.name}' on node '{node.name}' registered"
    else:
        if not res.diskless:
            return [rc.info(rc.INFO_NOOP, f"Resource '{rd.name}' on '{node.name}' is already diskful.")]
        pool = resolve_diskful_pool(state, rd, node, pool_name)
        engine.set_disk(state, res, pool, diskless=False, diskful_by=diskful_by)
        message = f"Addition of disk to resource '{rd.name}' on node '{node.name}' registered"
    entries = [
        rc.ok(rc.MODIFIED, message, details=f"Resource UUID is: {res.uuid}", obj_refs=refs),
    ]
    entries += engine.after_change(state, rd)
    return entries


@mutating(rc.MASK_MOD | rc.MASK_RSC, 200)
def toggle_new(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    data = body_dict(body)
    op = str(data.get("operation") or "").upper()
    if op not in {"INTO_DRBD_DISKFUL", "INTO_DRBD_DISKLESS", "INTO_DRBD_CLIENT"}:
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"Invalid toggle-disk operation '{op}'")
    return toggle_disk(
        state,
        rd,
        request.match_info["node"],
        diskless=op != "INTO_DRBD_DISKFUL",
        client=op == "INTO_DRBD_CLIENT",
        pool_name=data.get("storage_pool") or None,
    )


@mutating(rc.MASK_MOD | rc.MASK_RSC, 200)
def toggle_diskless(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    return toggle_disk(
        state, rd, request.match_info["node"], diskless=True, pool_name=request.match_info.get("pool")
    )


@mutating(rc.MASK_MOD | rc.MASK_RSC, 200)
def toggle_diskful(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    return toggle_disk(
        state, rd, request.match_info["node"], diskless=False, pool_name=request.match_info.get("pool")
    )


@mutating(rc.MASK_CRT | rc.MASK_RSC, 200)
def make_available(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    node = node_or_404(state, request.match_info["node"])
    data = body_dict(body)
    diskful = bool(data.get("diskful"))
    refs = {"RscDfn": rd.name, "Node": node.name}
    res = rd.resources.get(node.key)
    if res is None:
        pool: StoragePool | None = None
        if not diskful:
            pool = autoplacer.diskless_pool_for(node, rd.rg.select_filter)
        if pool is None:
            explicit = None
            for name in rd.rg.select_filter.get("storage_pool_list") or []:
                if node.pool(name) is not None:
                    explicit = name
                    break
            pool = resolve_diskful_pool(state, rd, node, explicit)
        engine.check_peer_slots(rd, 1)
        created = engine.create_resource(
            state, rd, node, pool, diskless=pool.diskless, diskful_by="make-available"
        )
        return (
            engine.resource_entries(created)
            + engine.after_change(state, rd)
            + readywait.ready_entries(state, rd, [created])
        )
    if res.tiebreaker:
        res.flags.discard("TIE_BREAKER")
        entries = [
            rc.ok(rc.MODIFIED, f"Tiebreaker '{rd.name}' on '{node.name}' is now a wanted diskless resource.")
        ]
        if diskful:
            entries += toggle_disk(state, rd, node.name, diskless=False, diskful_by="make-available")
        return entries + engine.after_change(state, rd)
    if res.diskless and diskful:
        return toggle_disk(state, rd, node.name, diskless=False, diskful_by="make-available")
    return [
        rc.info(rc.INFO_NOOP, f"Resource '{rd.name}' is already available on '{node.name}'.", obj_refs=refs)
    ]


@mutating(rc.MASK_MOD | rc.MASK_RSC, 200)
def modify_resource(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd = rd_or_404(state, request.match_info["rd"])
    res = rsc_or_404(rd, request.match_info["node"])
    data = body_dict(body)
    new_props = dict(res.props)
    keys = P.apply_modify(new_props, data)
    res.props = new_props
    if data.get("drbd_client") is not None and res.diskless:
        res.drbd_client = bool(data["drbd_client"])
    entries: list[rc.Entry] = []
    if keys:
        entries.append(P.set_props_entry(keys, rc.MASK_RSC))
    entries.append(
        rc.ok(
            rc.MODIFIED,
            f"Resource '{rd.name}' on node '{res.node.name}' modified.",
            obj_refs={"RscDfn": rd.name, "Node": res.node.name},
        )
    )
    return entries


@mutating(rc.MASK_DEL | rc.MASK_RSC, 200)
def delete_resource(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    rd_name = request.match_info["rd"]
    node_name = request.match_info["node"]
    rd = state.rd(rd_name)
    res = rd.resources.get(key(node_name)) if rd else None
    if rd is None or res is None:
        return [
            rc.warn(
                rc.WARN_NOT_FOUND,
                f"Resource '{rd_name}' on node '{node_name}' not found.",
                details="Deletion of the resource had no effect.",
                obj_refs={"RscDfn": rd_name, "Node": node_name},
            )
        ]
    return delete_replica(state, res, keep_tiebreaker=query_bool(request, "keep_tiebreaker"))


def delete_replica(state: State, res: Resource, keep_tiebreaker: bool) -> list[rc.Entry]:
    """CtrlRscDeleteApiCallHandler: delete one resource (or turn it into the tiebreaker)."""
    rd = res.rd
    refs = {"RscDfn": rd.name, "Node": res.node.name}
    if res.in_use:
        raise rc.fail(
            rc.FAIL_IN_USE,
            f"Resource '{rd.name}' is still in use.",
            cause="Resource is mounted/in use.",
            correction=f"Un-mount resource '{rd.name}' on the node '{res.node.name}'.",
            obj_refs=refs,
        )
    entries: list[rc.Entry] = []
    if not res.node.online:
        # CtrlRscDeleteApiCallHandler: marked DELETE now, gone once its satellite reconnects.
        res.flags.add("DELETE")
        entries.append(
            rc.ok(
                rc.DELETED,
                f"Resource '{rd.name}' on node '{res.node.name}' marked for deletion.",
                details=f"Resource '{rd.name}' on node '{res.node.name}' UUID is: {res.uuid}",
                obj_refs=refs,
            )
        )
        return entries + readywait.satellite_updates(rd) + engine.after_change(state, rd)
    if res.tiebreaker:
        engine.remove_resource(state, res)
        if not keep_tiebreaker:
            rd.props["DrbdOptions/auto-add-quorum-tiebreaker"] = "False"
            entries.append(
                rc.info(
                    rc.INFO_PROP_SET,
                    "Tiebreaker disabled: property 'DrbdOptions/auto-add-quorum-tiebreaker' set to 'False'",
                    obj_refs={"RscDfn": rd.name},
                )
            )
    else:
        diskful = rd.diskful()
        attached = [r for r in rd.live_resources() if r.diskless and not r.tiebreaker]
        if not res.diskless and len(diskful) == 1 and attached:
            raise rc.fail(
                rc.FAIL_IN_USE,
                f"Last resource of '{rd.name}' with disk still has diskless resources attached.",
                correction="Delete the diskless resources first.",
                obj_refs=refs,
            )
        takeover = False
        if not res.diskless and not any(r.tiebreaker for r in rd.live_resources()):
            remaining = len(diskful) - 1
            voters = [r for r in attached if not r.drbd_client]
            pool = autoplacer.diskless_pool_for(res.node, rd.rg.select_filter)
            takeover = (
                engine.tiebreaker_enabled(state, rd)
                and remaining >= 2
                and remaining % 2 == 0
                and not voters
                and pool is not None
            )
            if takeover and pool is not None:
                engine.set_disk(state, res, pool, diskless=True)
                res.flags.add("TIE_BREAKER")
                entries.append(
                    rc.info(
                        rc.INFO_TIE_BREAKER_TAKEOVER,
                        f"The given resource will not be deleted but will be taken over as a linstor managed "
                        f"tiebreaker resource on '{res.node.name}'.",
                        obj_refs=refs,
                    )
                )
        if not takeover:
            engine.remove_resource(state, res)
    entries.append(
        rc.ok(
            rc.DELETED,
            f"Resource '{rd.name}' on node '{res.node.name}' deleted.",
            details=f"Resource '{rd.name}' on node '{res.node.name}' UUID was: {res.uuid}",
            obj_refs=refs,
        )
    )
    entries += engine.after_change(state, rd)
    return entries + readywait.satellite_updates(rd)


# Lists ------------------------------------------------------------------------------------------


def _sorted_resources(rd: ResourceDefinition) -> list[Resource]:
    return sorted(rd.resources.values(), key=lambda r: r.node.name.upper())


@reading(rc.MASK_RSC)
def list_rd_resources(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    return [resource_json(r, state) for r in paginate(request, _sorted_resources(rd))]


@reading(rc.MASK_RSC)
def get_rd_resource(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    return resource_json(rsc_or_404(rd, request.match_info["node"]), state)


@reading(rc.MASK_VLM)
def list_volumes(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    res = rsc_or_404(rd, request.match_info["node"])
    return [volume_json(res, v, state) for _, v in sorted(res.volumes.items())]


@reading(rc.MASK_VLM)
def get_volume(request: web.Request, state: State) -> Any:
    rd = rd_or_404(state, request.match_info["rd"])
    res = rsc_or_404(rd, request.match_info["node"])
    nr = int_param(request, "nr")
    vol = res.volumes.get(nr)
    if vol is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_VLM, f"Volume '{nr}' of resource '{rd.name}' on '{res.node.name}' not found."
        )
    return volume_json(res, vol, state)


@reading(rc.MASK_RSC)
def view_resources(request: web.Request, state: State) -> Any:
    nodes = {key(n) for n in query_list(request, "nodes")}
    names = [key(n) for n in query_list(request, "resources")]
    pools = {key(p) for p in query_list(request, "storage_pools")}
    filters = query_list(request, "props")
    rds = [state.rds[n] for n in sorted(set(names)) if n in state.rds] if names else list(state.rds.values())
    rds.sort(key=lambda d: d.name.upper())
    rows: list[Resource] = []
    for rd in rds:
        for res in _sorted_resources(rd):
            if nodes and res.node.key not in nodes:
                continue
            if pools and not any(key(v.pool.name) in pools for v in res.volumes.values()):
                continue
            if not P.matches_filter(res.props, filters):
                continue
            rows.append(res)
    return [resource_json(r, state, with_volumes=True) for r in paginate(request, rows)]


def setup(app: web.Application) -> None:
    r = app.router
    base = "/v1/resource-definitions/{rd}/resources"
    r.add_get(base, list_rd_resources)
    r.add_post(base, create_many)
    r.add_get(base + "/{node}", get_rd_resource)
    r.add_post(base + "/{node}", create_one)
    r.add_put(base + "/{node}", modify_resource)
    r.add_delete(base + "/{node}", delete_resource)
    r.add_get(base + "/{node}/volumes", list_volumes)
    r.add_get(base + "/{node}/volumes/{nr}", get_volume)
    r.add_put(base + "/{node}/toggle-disk", toggle_new)
    r.add_put(base + "/{node}/toggle-disk/diskless", toggle_diskless)
    r.add_put(base + "/{node}/toggle-disk/diskless/{pool}", toggle_diskless)
    r.add_put(base + "/{node}/toggle-disk/diskful", toggle_diskful)
    r.add_put(base + "/{node}/toggle-disk/diskful/{pool}", toggle_diskful)
    r.add_post(base + "/{node}/make-available", make_available)
    r.add_post("/v1/resource-definitions/{rd}/autoplace", autoplace)
    r.add_get("/v1/view/resources", view_resources)
