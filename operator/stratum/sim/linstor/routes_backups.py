"""Backups on S3 remotes: `/v1/remotes/{remote}/backups` (+ `/restore`, `/abort`), and the simulator
controls `/_sim/backup` (shipping time), `/_sim/volume-data` and `/_sim/write` (volume contents).

linstor-server: api/rest/v1/Backups.java (status codes: create and restore 201, delete and abort 200,
a delete without a selection 400), Json.apiToBackup / JsonGenTypes.BackupList (list shape).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import backupdelete, backupinfo, backups, restore, volumedata
from . import backuprc as B
from .http import body_dict, entries_response, query_bool, read_body, state_of
from .model import State
from .routes_definitions import rd_or_404

AsyncMutation = Callable[[State, str, dict[str, Any]], Awaitable[list[rc.Entry]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# (cascading) id | id_prefix | s3key | timestamp/resource_name/node_name | all | all_local_cluster
_DEL_ALLOWED = (
    {"id"}, {"id", "cascading"}, {"id_prefix"}, {"id_prefix", "cascading"}, {"s3key"}, {"s3key", "cascading"},
    {"trn"}, {"trn", "cascading"}, {"all"}, {"all_local_cluster"},
)  # fmt: skip


def remote_mutation(context: int, success: int) -> Callable[[AsyncMutation], Handler]:
    """`fn(state, remote, body) -> entries` as an aiohttp handler answering an ApiCallRc list."""

    def deco(fn: AsyncMutation) -> Handler:
        @wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                body = body_dict(await read_body(request, 500))
                entries = await fn(state_of(request), request.match_info["remote"], body)
            except rc.ApiError as exc:
                return entries_response(exc.entries, success, context, exc.status)
            return entries_response(entries, success, context)

        return handler

    return deco


@remote_mutation(0, 201)
async def create_backup(state: State, remote: str, body: dict[str, Any]) -> list[rc.Entry]:
    return await backups.create_backup(state, remote, body)


@remote_mutation(0, 201)
async def restore_backup(state: State, remote: str, body: dict[str, Any]) -> list[rc.Entry]:
    return await restore.restore_backup(state, remote, body)


@remote_mutation(0, 200)
async def abort_backup(state: State, remote: str, body: dict[str, Any]) -> list[rc.Entry]:
    return backups.abort(state, remote, body)


async def backup_info(request: web.Request) -> web.Response:
    try:
        body = body_dict(await read_body(request, 500))
        info = await backupinfo.backup_info(state_of(request), request.match_info["remote"], body)
    except rc.ApiError as exc:
        return entries_response(exc.entries, 200, 0, exc.status)
    return web.json_response(info)


async def list_backups(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        data = await backups.list_backups(
            state,
            request.match_info["remote"],
            request.query.get("rsc_name", ""),
            request.query.get("snap_name", ""),
        )
    except rc.ApiError as exc:
        return entries_response(exc.entries, 200, B.MASK_BACKUP, exc.status)
    return web.json_response(data)


async def delete_backups(request: web.Request) -> web.Response:
    q: dict[str, Any] = {
        name: request.query.get(name, "")
        for name in ("id", "id_prefix", "s3key", "timestamp", "resource_name", "node_name")
    }
    for flag in ("cascading", "all_local_cluster", "all", "dryrun", "keep_snaps"):
        q[flag] = query_bool(request, flag)
    chosen = {n for n in ("id", "id_prefix", "s3key", "all", "all_local_cluster", "cascading") if q[n]}
    if q["timestamp"] or q["resource_name"] or q["node_name"]:
        chosen.add("trn")
    if chosen not in _DEL_ALLOWED:
        message = (
            "You have to specify which backups you want to delete. Use 'all' to delete all backups in the "
            "specified bucket"
            if not chosen
            else "Too many parameters given. You can only use the following parameters in combination: "
            "id and cascading; s3key and cascading; since, resource_name and node_name in any combination; "
            "all other parameters can only be used on their own."
        )
        return entries_response([rc.err(rc.FAIL_INVLD_REQUEST, message)], 200, 0, 400)
    try:
        entries = await backupdelete.delete_backups(state_of(request), request.match_info["remote"], q)
    except rc.ApiError as exc:
        return entries_response(exc.entries, 200, 0, exc.status)
    return entries_response(entries, 200, 0)


# Simulator controls ------------------------------------------------------------------------------


async def get_backup_config(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).backup.config_json())


async def set_backup_config(request: web.Request) -> web.Response:
    """`{"shipSeconds": N}`: how long a shipment or a download takes."""
    state = state_of(request)
    try:
        body: Any = await request.json()
        seconds = float(body["shipSeconds"])
        if seconds < 0:
            raise ValueError("shipSeconds must not be negative")
    except (KeyError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    state.backup.ship_seconds = seconds
    return web.json_response(state.backup.config_json())


def _volume_data(state: State, rd_name: str) -> dict[str, Any]:
    rd = rd_or_404(state, rd_name)
    seeds = backups.snapshot_seeds(state, rd)
    return {
        "resource": rd.name,
        "volumes": {
            str(nr): {"sizeKib": vd.size_kib, "sha256": volumedata.digest(seeds[nr], vd.size_kib)}
            for nr, vd in sorted(rd.vds.items())
        },
    }


async def get_volume_data(request: web.Request) -> web.Response:
    """`?resource=R`: the content digest of each volume of R (equal after a restore of its backup)."""
    try:
        return web.json_response(_volume_data(state_of(request), request.query.get("resource", "")))
    except rc.ApiError as exc:
        return web.json_response({"error": exc.entries[0].message}, status=404)


async def write_volumes(request: web.Request) -> web.Response:
    """`{"resource": R}`: every volume of R gets new content (as if written to)."""
    state = state_of(request)
    try:
        body: Any = await request.json()
        rd = rd_or_404(state, str(body["resource"]))
    except (KeyError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except rc.ApiError as exc:
        return web.json_response({"error": exc.entries[0].message}, status=404)
    for nr in rd.vds:
        state.backup.volume_seeds[(rd.uuid, nr)] = rc.new_uuid()
    return web.json_response(_volume_data(state, rd.name))


def setup(app: web.Application) -> None:
    r = app.router
    base = "/v1/remotes/{remote}/backups"
    r.add_get(base, list_backups)
    r.add_post(base, create_backup)
    r.add_delete(base, delete_backups)
    r.add_post(base + "/restore", restore_backup)
    r.add_post(base + "/abort", abort_backup)
    r.add_post(base + "/info", backup_info)
    r.add_get("/_sim/backup", get_backup_config)
    r.add_post("/_sim/backup", set_backup_config)
    r.add_get("/_sim/volume-data", get_volume_data)
    r.add_post("/_sim/write", write_volumes)
