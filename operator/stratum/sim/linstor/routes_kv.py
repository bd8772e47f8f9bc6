"""The key-value store: instances created on demand, never whitelisted, gone when empty."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import props as P
from .http import body_dict, mutating, reading
from .model import KeyValueStore, State
from .names import check_kvs_name, key

CTX_KV = rc.MASK_MOD | rc.MASK_CTRL_CONF


def _kv_json(kv: KeyValueStore) -> dict[str, Any]:
    out: dict[str, Any] = {"name": kv.name}
    if kv.props:
        out["props"] = dict(kv.props)
    return out


@reading(rc.MASK_KVS)
def list_kvs(request: web.Request, state: State) -> Any:
    return [_kv_json(kv) for kv in sorted(state.kvs.values(), key=lambda k: k.name.upper())]


@reading(rc.MASK_KVS)
def get_kv(request: web.Request, state: State) -> Any:
    name = request.match_info["inst"]
    kv = state.kvs.get(key(name))
    if kv is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_KVS, f"Could not find key value store instance '{name}'.")
    return [_kv_json(kv)]


@mutating(CTX_KV, 200, parse_status=400)
def modify_kv(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = check_kvs_name(request.match_info["inst"])
    kv = state.kvs.get(key(name)) or KeyValueStore(name)
    new_props = dict(kv.props)
    P.apply_modify(new_props, body_dict(body), whitelist=False)
    kv.props = new_props
    if kv.props:
        state.kvs[key(name)] = kv
    else:
        state.kvs.pop(key(name), None)
    return [rc.ok(rc.MODIFIED, "Successfully updated properties", obj_refs={"KeyValueStore": kv.name})]


@mutating(rc.MASK_DEL | rc.MASK_CTRL_CONF, 200)
def delete_kv(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = request.match_info["inst"]
    kv = state.kvs.pop(key(name), None)
    if kv is None:
        return [rc.warn(rc.WARN_NOT_FOUND, f"Deletion of kvs '{name}' had no effect.")]
    return [rc.ok(rc.DELETED, f"Key value store '{kv.name}' deleted.")]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/key-value-store", list_kvs)
    r.add_get("/v1/key-value-store/{inst}", get_kv)
    r.add_put("/v1/key-value-store/{inst}", modify_kv)
    r.add_delete("/v1/key-value-store/{inst}", delete_kv)
