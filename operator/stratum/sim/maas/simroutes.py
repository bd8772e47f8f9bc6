"""MAAS-specific `/_sim/` endpoints (no OAuth), beside the shared faults/stats ones.

- `GET /_sim/machines` — summary of every machine.
- `POST /_sim/machines` — add a machine (a seed machine spec); 201 with the MAAS machine JSON.
- `GET /_sim/machines/{system_id}` — the MAAS machine JSON.
- `PATCH /_sim/machines/{system_id}` — `{"status": "Deployed", "hostname": ..., "owner": ...}`;
  entering an allocated state clones filesystems into acquired copies, releasing drops them.
- `DELETE /_sim/machines/{system_id}` — forget a machine.
- `POST /_sim/machines/{system_id}/rename-disks` `{"sdb": "sdc", "sdc": "sdb"}` — the kernel names
  change, as after a reboot and a hardware re-scan (the commissioning hook matches disks by serial
  and keeps their ids): ids, serials, id_path, tags and the storage configuration stay.
- `GET|POST /_sim/lifecycle` `{"commissionSeconds": 1, "deploySeconds": 1, "releaseSeconds": 1}` —
  how long commissioning, deploying and releasing take (from now on).
- `GET /_sim/apikeys` — the accepted API keys; `POST /_sim/apikeys` `{"key": "ck:tk:ts"}` (or `{}`
  to generate one; `"admin": false` for a non-administrator's key) adds one.
- `POST /_sim/reset` — back to the seed (ids restart from 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from .enums import status_from_name, status_label
from .errors import ApiError
from .lifecycle import advance
from .model import MaasState, Machine
from .render import machine_json
from .seed import add_machine_from_spec, timings_from

PREFIX = "/_sim/"


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await request.json()
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def install(app: web.Application, state: MaasState, reset: Callable[[], None]) -> None:
    async def list_machines(_: web.Request) -> web.Response:
        with state.lock:
            advance(state)
            out = [
                {
                    "systemId": m.system_id,
                    "hostname": m.hostname,
                    "status": status_label(m.status),
                    "blockDevices": len(m.storage.block_devices),
                    "raids": sorted(r.name for r in m.storage.raids.values()),
                }
                for m in state.machines.values()
            ]
        return web.json_response(out)

    async def add_machine(request: web.Request) -> web.Response:
        try:
            spec = await _body(request)
            with state.lock:
                machine = add_machine_from_spec(state, spec)
                data = machine_json(state, machine)
        except (ValueError, TypeError, ApiError) as exc:
            return _bad(str(exc))
        return web.json_response(data, status=201)

    async def get_machine(request: web.Request) -> web.Response:
        with state.lock:
            advance(state)
            machine = state.machines.get(request.match_info["system_id"])
            if machine is None:
                return _bad("no such machine", 404)
            return web.json_response(machine_json(state, machine))

    async def patch_machine(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            with state.lock:
                machine = state.machines.get(request.match_info["system_id"])
                if machine is None:
                    return _bad("no such machine", 404)
                if "hostname" in body:
                    machine.hostname = str(body["hostname"])
                if "owner" in body:
                    machine.owner = body["owner"]
                if "status" in body:
                    machine.pending = None
                    state.set_status(machine, status_from_name(body["status"]))
                data = machine_json(state, machine)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response(data)

    async def delete_machine(request: web.Request) -> web.Response:
        with state.lock:
            machine = state.machines.pop(request.match_info["system_id"], None)
            if machine is None:
                return _bad("no such machine", 404)
            machine.storage.raids.clear()
            state.reindex(machine)
        return web.Response(status=204)

    async def rename(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            with state.lock:
                machine = state.machines.get(request.match_info["system_id"])
                if machine is None:
                    return _bad("no such machine", 404)
                rename_disks(machine, {str(k): str(v) for k, v in body.items()})
                names = {d.id: d.name for d in machine.block_devices}
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response({"blockDevices": names})

    async def lifecycle(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            with state.lock:
                state.timings = timings_from(body, state.timings)
                timings = state.timings
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response(
            {
                "commissionSeconds": timings.commission_seconds,
                "deploySeconds": timings.deploy_seconds,
                "releaseSeconds": timings.release_seconds,
            }
        )

    async def list_keys(_: web.Request) -> web.Response:
        return web.json_response({"keys": [str(k) for k in state.api_keys.values()]})

    async def add_key(request: web.Request) -> web.Response:
        try:
            body = await _body(request)
            with state.lock:
                key = state.add_api_key(body.get("key"), admin=bool(body.get("admin", True)))
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response({"key": str(key)}, status=201)

    async def do_reset(_: web.Request) -> web.Response:
        reset()
        return web.json_response({"machines": len(state.machines)})

    app.router.add_get(PREFIX + "machines", list_machines)
    app.router.add_post(PREFIX + "machines", add_machine)
    app.router.add_get(PREFIX + "machines/{system_id}", get_machine)
    app.router.add_patch(PREFIX + "machines/{system_id}", patch_machine)
    app.router.add_delete(PREFIX + "machines/{system_id}", delete_machine)
    app.router.add_post(PREFIX + "machines/{system_id}/rename-disks", rename)
    app.router.add_get(PREFIX + "lifecycle", lifecycle)
    app.router.add_post(PREFIX + "lifecycle", lifecycle)
    app.router.add_get(PREFIX + "apikeys", list_keys)
    app.router.add_post(PREFIX + "apikeys", add_key)
    app.router.add_post(PREFIX + "reset", do_reset)


def rename_disks(machine: Machine, renames: dict[str, str]) -> None:
    """Give physical disks new kernel names all at once (a swap is one rename)."""
    physical = {d.name: d for d in machine.block_devices if d.kind == "physical"}
    unknown = [name for name in renames if name not in physical]
    if unknown:
        raise ValueError(f"no physical disk named {', '.join(unknown)}")
    final = {name: renames.get(name, name) for name in physical}
    others = {d.name for d in machine.block_devices if d.kind != "physical"}
    if len(set(final.values())) != len(final) or others & set(final.values()):
        raise ValueError("the new names must be unique on the machine")
    for name, device in physical.items():
        device.name = final[name]
