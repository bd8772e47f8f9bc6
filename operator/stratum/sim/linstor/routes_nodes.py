"""Controller version/properties, nodes and storage pools."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import props as P
from .http import body_dict, mutating, paginate, query_list, reading
from .model import ALL_PROVIDERS, DFLT_DISKLESS_POOL, Node, State, StoragePool
from .names import check_node_name, check_pool_name, key
from .serialize import node_json, pool_json

DEFAULT_POOL_KIB = 104857600  # pools created over REST: 100 GiB unless the body says otherwise


def _node_or_404(state: State, name: str) -> Node:
    node = state.node(name)
    if node is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_NODE, f"Node '{name}' not found.", obj_refs={"Node": name})
    return node


@reading()
def get_version(request: web.Request, state: State) -> Any:
    return {
        "version": state.version_text,
        "git_hash": state.git_hash,
        "build_time": state.build_time,
        "rest_api_version": state.rest_api_version,
    }


@reading()
def get_ctrl_props(request: web.Request, state: State) -> Any:
    return dict(state.ctrl_props)


@mutating(rc.MASK_MOD | rc.MASK_CTRL_CONF, 200)
def set_ctrl_props(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    keys = P.apply_modify(state.ctrl_props, body_dict(body))
    return [rc.ok(rc.MODIFIED, "Successfully updated controller config", details=",".join(keys) or None)]


@reading(rc.MASK_NODE)
def list_nodes(request: web.Request, state: State) -> Any:
    names = {key(n) for n in query_list(request, "nodes")}
    filters = query_list(request, "props")
    nodes = [
        n
        for n in sorted(state.nodes.values(), key=lambda n: n.name)
        if (not names or n.key in names) and P.matches_filter(n.props, filters)
    ]
    return [node_json(n) for n in paginate(request, nodes)]


@reading(rc.MASK_NODE)
def get_node(request: web.Request, state: State) -> Any:
    return node_json(_node_or_404(state, request.match_info["node"]))


@mutating(rc.MASK_CRT | rc.MASK_NODE, 201)
def create_node(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    name = check_node_name(data.get("name"))
    if state.node(name) is not None:
        raise rc.fail(rc.FAIL_EXISTS_NODE, f"Node '{name}' already exists.", obj_refs={"Node": name})
    node_type = str(data.get("type") or "SATELLITE").upper()
    node_props = P.validate_map(data.get("props"))
    address = "127.0.0.1"
    for nif in data.get("net_interfaces") or []:
        if isinstance(nif, dict) and nif.get("address"):
            address = str(nif["address"])
            break
    node = state.add_node(Node(name=name, type=node_type, props=node_props, address=address))
    return [
        rc.ok(
            rc.CREATED,
            f"New node '{name}' registered.",
            details=f"Node '{name}' UUID is: {node.uuid}",
            obj_refs={"Node": name},
        )
    ]


@mutating(rc.MASK_MOD | rc.MASK_NODE, 200)
def modify_node(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    node = _node_or_404(state, request.match_info["node"])
    data = body_dict(body)
    keys = P.apply_modify(node.props, data)
    if data.get("node_type"):
        node.type = str(data["node_type"]).upper()
    entries = [rc.ok(rc.MODIFIED, f"Node '{node.name}' modified.", obj_refs={"Node": node.name})]
    if keys:
        entries.insert(0, P.set_props_entry(keys, rc.MASK_NODE))
    return entries


@mutating(rc.MASK_DEL | rc.MASK_NODE, 200)
def delete_node(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = request.match_info["node"]
    node = state.node(name)
    if node is None:
        return [
            rc.warn(rc.WARN_NOT_FOUND, f"Deletion of node '{name}' had no effect.", obj_refs={"Node": name})
        ]
    if node.resources:
        raise rc.fail(
            rc.FAIL_IN_USE,
            f"Node '{node.name}' still has resources deployed.",
            correction="Delete the resources on the node first.",
        )
    del state.nodes[node.key]
    return [rc.ok(rc.DELETED, f"Node '{node.name}' deleted.", obj_refs={"Node": node.name})]


def _pool_rows(state: State, request: web.Request, nodes: list[Node]) -> list[dict[str, Any]]:
    pools = {key(p) for p in query_list(request, "storage_pools")}
    filters = query_list(request, "props")
    rows: list[dict[str, Any]] = []
    for node in nodes:
        for pool in sorted(node.pools.values(), key=lambda p: p.name):
            if pools and key(pool.name) not in pools:
                continue
            if not P.matches_filter(pool.props, filters):
                continue
            rows.append(pool_json(pool, node))
    return rows


@reading(rc.MASK_STOR_POOL)
def view_pools(request: web.Request, state: State) -> Any:
    names = {key(n) for n in query_list(request, "nodes")}
    nodes = [n for n in sorted(state.nodes.values(), key=lambda n: n.name) if not names or n.key in names]
    return paginate(request, _pool_rows(state, request, nodes))


@reading(rc.MASK_STOR_POOL)
def list_node_pools(request: web.Request, state: State) -> Any:
    node = _node_or_404(state, request.match_info["node"])
    return paginate(request, [pool_json(p, node) for p in sorted(node.pools.values(), key=lambda p: p.name)])


def _pool_or_404(state: State, node: Node, name: str) -> StoragePool:
    pool = node.pool(name)
    if pool is None:
        raise rc.fail(
            rc.FAIL_NOT_FOUND_STOR_POOL,
            f"Storage pool '{name}' on node '{node.name}' not found.",
            obj_refs={"Node": node.name, "StorPool": name},
        )
    return pool


@reading(rc.MASK_STOR_POOL)
def get_node_pool(request: web.Request, state: State) -> Any:
    node = _node_or_404(state, request.match_info["node"])
    return pool_json(_pool_or_404(state, node, request.match_info["pool"]), node)


def _kib(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise rc.fail(rc.FAIL_INVLD_REQUEST, "capacities must be non-negative integers (KiB)")
    return value


@mutating(rc.MASK_CRT | rc.MASK_STOR_POOL, 201)
def create_pool(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    node = _node_or_404(state, request.match_info["node"])
    data = body_dict(body)
    name = check_pool_name(data.get("storage_pool_name"))
    provider = str(data.get("provider_kind") or "").upper()
    if provider not in ALL_PROVIDERS:
        raise rc.fail(rc.FAIL_INVLD_PROVIDER, f"Given provider kind '{provider}' is invalid")
    if node.pool(name) is not None:
        raise rc.fail(
            rc.FAIL_EXISTS_STOR_POOL,
            f"Storage pool '{name}' already exists on node '{node.name}'.",
            obj_refs={"Node": node.name, "StorPool": name},
        )
    pool_props = P.validate_map(data.get("props"))
    # Simulator extension: the capacity a real satellite would report (KiB).
    default = 0 if provider == "DISKLESS" else DEFAULT_POOL_KIB
    total = _kib(data.get("total_capacity"), default)
    free = _kib(data.get("free_capacity"), total)
    pool = state.add_pool(node, StoragePool(node.name, name, provider, total, free, pool_props))
    return [
        rc.ok(
            rc.CREATED,
            f"Storage pool '{name}' on node '{node.name}' registered.",
            details=f"Storage pool '{name}' on node '{node.name}' UUID is: {pool.uuid}",
            obj_refs={"Node": node.name, "StorPool": name},
        )
    ]


@mutating(rc.MASK_MOD | rc.MASK_STOR_POOL, 200)
def modify_pool(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    node = _node_or_404(state, request.match_info["node"])
    pool = _pool_or_404(state, node, request.match_info["pool"])
    P.apply_modify(pool.props, body_dict(body))
    return [rc.ok(rc.MODIFIED, f"Storage pool '{pool.name}' on node '{node.name}' modified.")]


@mutating(rc.MASK_DEL | rc.MASK_STOR_POOL, 200)
def delete_pool(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    node = _node_or_404(state, request.match_info["node"])
    name = request.match_info["pool"]
    pool = node.pool(name)
    if pool is None:
        return [
            rc.warn(
                rc.WARN_NOT_FOUND, f"Deletion of storage pool '{name}' on node '{node.name}' had no effect."
            )
        ]
    if any(r.pool is pool for r in node.resources.values()):
        raise rc.fail(rc.FAIL_IN_USE, f"Storage pool '{pool.name}' on node '{node.name}' still has volumes.")
    if key(pool.name) == key(DFLT_DISKLESS_POOL):
        raise rc.fail(rc.FAIL_IN_USE, f"The default diskless pool of node '{node.name}' cannot be deleted.")
    del node.pools[key(pool.name)]
    return [rc.ok(rc.DELETED, f"Storage pool '{pool.name}' on node '{node.name}' deleted.")]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/controller/version", get_version)
    r.add_get("/v1/controller/properties", get_ctrl_props)
    r.add_post("/v1/controller/properties", set_ctrl_props)
    r.add_get("/v1/nodes", list_nodes)
    r.add_post("/v1/nodes", create_node)
    r.add_get("/v1/nodes/{node}", get_node)
    r.add_put("/v1/nodes/{node}", modify_node)
    r.add_delete("/v1/nodes/{node}", delete_node)
    r.add_get("/v1/view/storage-pools", view_pools)
    r.add_get("/v1/nodes/{node}/storage-pools", list_node_pools)
    r.add_post("/v1/nodes/{node}/storage-pools", create_pool)
    r.add_get("/v1/nodes/{node}/storage-pools/{pool}", get_node_pool)
    r.add_put("/v1/nodes/{node}/storage-pools/{pool}", modify_pool)
    r.add_delete("/v1/nodes/{node}/storage-pools/{pool}", delete_pool)
