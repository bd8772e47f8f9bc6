"""A liveness endpoint of the process itself, for leader election where kopf (and its own probe)
only runs on the leader."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web


async def serve_health(url: str | None, role: Callable[[], str]) -> web.AppRunner | None:
    """Serve GET <path> -> 200 {"role": "leader"|"standby"} at a URL like http://0.0.0.0:8080/healthz."""
    if not url:
        return None
    parts = urlsplit(url)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"role": role()})

    app = web.Application()
    app.router.add_get(parts.path or "/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, parts.hostname or "0.0.0.0", parts.port or 8080).start()
    return runner
