"""The aiohttp application: REST routes, error handling and the `/_sim/` endpoints."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ..common import Handler, Stats, install_sim_endpoints
from . import apicallrc as rc
from . import (
    balance,
    errorreports,
    lifecycle,
    routes_backups,
    routes_definitions,
    routes_encryption,
    routes_groups,
    routes_kv,
    routes_nodes,
    routes_remotes,
    routes_resources,
    routes_schedules,
    routes_snapshots,
)
from .faults import FAULTS_KEY, LinstorFaults, after_commit
from .http import COMMIT_HOOK_KEY, STATE_KEY
from .model import State

log = logging.getLogger(__name__)

_HTML = '<html><head><title>Error</title></head><body><h1 class="header">{status} {reason}</h1></body></html>'


def injected_error(request: web.Request) -> web.StreamResponse:
    """What an injected fault looks like: a 500 with an ApiCallRc list, as for a controller exception."""
    entry = rc.err(
        rc.FAIL_UNKNOWN_ERROR,
        "An unknown error occurred.",
        details="Simulated failure (fault injection).",
        error_report_ids=[rc.error_report_id()],
    )
    return web.json_response([entry.to_json()], status=500)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown paths/methods answer with HTML as the JAX-RS container does; crashes with an ApiCallRc."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405) and not request.path.startswith("/_sim/"):
            return web.Response(
                status=exc.status,
                text=_HTML.format(status=exc.status, reason=exc.reason),
                content_type="text/html",
            )
        raise
    except (ConnectionResetError, ConnectionError):
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        entry = rc.err(
            rc.FAIL_UNKNOWN_ERROR,
            "An unknown error occurred.",
            error_report_ids=[rc.error_report_id()],
        )
        return web.json_response([entry.to_json()], status=500)


async def _sim_in_use(request: web.Request) -> web.Response:
    """Simulator control: `{"resource": r, "node": n, "inUse": true}` marks a device as in use."""
    try:
        body: Any = await request.json()
        request.app[STATE_KEY].set_in_use(
            str(body["resource"]), str(body["node"]), bool(body.get("inUse", True))
        )
    except (KeyError, ValueError, TypeError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"ok": True})


def build_app(
    state: State, faults: LinstorFaults | None = None, stats: Stats | None = None
) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE_KEY] = state
    app[FAULTS_KEY] = faults or LinstorFaults()
    app[COMMIT_HOOK_KEY] = after_commit
    install_sim_endpoints(app, app[FAULTS_KEY], stats or Stats(), injected_error)
    app.middlewares.append(errors_middleware)
    app.router.add_post("/_sim/in-use", _sim_in_use)
    for module in (
        balance,
        errorreports,
        lifecycle,
        routes_nodes,
        routes_groups,
        routes_definitions,
        routes_resources,
        routes_snapshots,
        routes_kv,
        routes_encryption,
        routes_remotes,
        routes_backups,
        routes_schedules,
    ):
        module.setup(app)
    return app
