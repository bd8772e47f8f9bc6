"""What changes over time without a REST call: satellites leaving and returning, work that the
satellites finish later (pending deletes, the RESIZE flag), and the `/_sim/` controls that drive it.

- A satellite that loses its connection keeps its objects in the controller; the controller has no
  state for them until it reconnects (api/rest/v1/serializer/Json.java reads the peer's
  SatelliteState), and node `connection_status` reads OFFLINE (ONLINE when connected).
- A delete of a resource on an offline satellite only marks it DELETE; the satellite removes it
  when it reconnects and the controller then drops it (CtrlRscDeleteApiCallHandler "marked for
  deletion", then the satellite's deletion notice). A resource definition whose last resources wait
  like that stays flagged DELETE until then (CtrlRscDfnDeleteApiCallHandler).
- A resize keeps the volume definition's RESIZE flag until every satellite has resized
  (CtrlVlmDfnModifyApiCallHandler `markVlmDfnResize` ... `finishResize`); a satellite that is away
  resumes it when it reconnects (`resourceDefinitionConnected`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import drbdstate, engine
from .definitions import drop_rd
from .http import STATE_KEY, Handler
from .model import Node, ResourceDefinition, State, VolumeDefinition


def set_online(state: State, node: Node, online: bool) -> None:
    if online == node.online:
        return
    if not online:
        for res in node.resources.values():
            drbdstate.settle(state, res.rd)
        node.online = False
        node.offline_since = state.now()
        return
    node.online = True
    node.offline_since = None
    for res in list(node.resources.values()):
        rd = res.rd
        if "DELETE" in res.flags:
            engine.remove_resource(state, res)
            engine.after_change(state, rd)
            if "DELETE" in rd.flags and not rd.resources:
                drop_rd(state, rd)
            continue
        # A resync that was running (or due) when the satellite left starts over; so does one for
        # the writes a Primary peer made meanwhile (DRBD resyncs the out-of-sync blocks).
        written = any(p.in_use for p in rd.resources.values() if p is not res)
        for vol in res.volumes.values():
            if vol.sync_start is not None or vol.awaiting_source or (written and not res.diskless):
                drbdstate.begin_sync(state, res, vol)
        drbdstate.resume_waiting(state, rd)


def start_resize(state: State, rd: ResourceDefinition, vd: VolumeDefinition) -> None:
    if "RESIZE" not in vd.flags:
        vd.flags.append("RESIZE")
    vd.resize_until = state.now() + state.resize_seconds
    state.resizing.append((rd, vd))
    advance(state)


def advance(state: State) -> None:
    """Let the satellites finish what is due (called before every request)."""
    if not state.resizing:
        return
    now = state.now()
    waiting = []
    for rd, vd in state.resizing:
        if state.rd(rd.name) is not rd or vd.number not in rd.vds:
            continue
        all_online = all(r.node.online for r in rd.resources.values())
        if vd.resize_until is not None and now >= vd.resize_until and all_online:
            vd.flags = [f for f in vd.flags if f != "RESIZE"]
            vd.resize_until = None
        else:
            waiting.append((rd, vd))
    state.resizing = waiting


@web.middleware
async def advance_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    advance(request.app[STATE_KEY])
    return await handler(request)


# Simulator controls --------------------------------------------------------------------------------


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_object(request: web.Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _seconds(value: Any, what: str) -> float:
    seconds = float(value)
    if seconds < 0:
        raise ValueError(f"{what} must not be negative")
    return seconds


async def post_node(request: web.Request) -> web.Response:
    """`{"online": false}`: the satellite's connection is lost (true: it is back)."""
    state = request.app[STATE_KEY]
    node = state.node(request.match_info["node"])
    if node is None:
        return _bad(f"no node {request.match_info['node']}", 404)
    try:
        body = await _json_object(request)
        if "online" in body:
            set_online(state, node, bool(body["online"]))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return web.json_response({"name": node.name, "online": node.online})


def drbd_settings(state: State) -> dict[str, Any]:
    return {"syncSeconds": state.sync_seconds, "resizeSeconds": state.resize_seconds}


async def get_drbd(request: web.Request) -> web.Response:
    return web.json_response(drbd_settings(request.app[STATE_KEY]))


async def post_drbd(request: web.Request) -> web.Response:
    """`{"syncSeconds": 5, "resizeSeconds": 1}`: how long resyncs and resizes take from now on."""
    state = request.app[STATE_KEY]
    try:
        body = await _json_object(request)
        if "syncSeconds" in body:
            state.sync_seconds = _seconds(body["syncSeconds"], "syncSeconds")
        if "resizeSeconds" in body:
            state.resize_seconds = _seconds(body["resizeSeconds"], "resizeSeconds")
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return web.json_response(drbd_settings(state))


async def post_resource(request: web.Request) -> web.Response:
    """`{"inUse": true}`: the DRBD device on that node is Primary (mounted / opened)."""
    state = request.app[STATE_KEY]
    try:
        body = await _json_object(request)
        state.set_in_use(request.match_info["rd"], request.match_info["node"], bool(body.get("inUse", True)))
    except KeyError as exc:
        return _bad(str(exc), 404)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    return web.json_response({"ok": True})


def setup(app: web.Application) -> None:
    app.middlewares.append(advance_middleware)
    r = app.router
    r.add_post("/_sim/nodes/{node}", post_node)
    r.add_get("/_sim/drbd", get_drbd)
    r.add_post("/_sim/drbd", post_drbd)
    r.add_post("/_sim/resources/{rd}/{node}", post_resource)
