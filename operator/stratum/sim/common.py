"""Plumbing shared by both simulators: fault injection, request stats and a server runner.

`POST /_sim/faults` takes `{"errorRate": 0.1, "latencyMs": 50, "down": false}` (any subset);
`GET /_sim/faults` reads it back; `GET /_sim/stats` returns request counts per method and
path. The `/_sim/` endpoints keep answering while the rest of the API is "down".
"""

from __future__ import annotations

import asyncio
import random
import ssl
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SIM_PREFIX = "/_sim/"

ErrorFactory = Callable[[web.Request], web.StreamResponse]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Faults:
    """What the simulator does to requests outside `/_sim/`."""

    error_rate: float = 0.0
    latency_ms: float = 0.0
    down: bool = False
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"errorRate": self.error_rate, "latencyMs": self.latency_ms, "down": self.down}

    def update(self, body: dict[str, Any]) -> None:
        if "errorRate" in body:
            rate = float(body["errorRate"])
            if not 0.0 <= rate <= 1.0:
                raise ValueError("errorRate must be between 0 and 1")
            self.error_rate = rate
        if "latencyMs" in body:
            latency = float(body["latencyMs"])
            if latency < 0:
                raise ValueError("latencyMs must not be negative")
            self.latency_ms = latency
        if "down" in body:
            self.down = bool(body["down"])


@dataclass
class Stats:
    """Request counts per `METHOD path` (the path without its query string)."""

    requests: Counter[str] = field(default_factory=Counter)

    def record(self, method: str, path: str) -> None:
        self.requests[f"{method} {path}"] += 1

    def as_json(self) -> dict[str, Any]:
        by_method: Counter[str] = Counter()
        for key, count in self.requests.items():
            by_method[key.split(" ", 1)[0]] += count
        return {
            "total": sum(self.requests.values()),
            "byMethod": dict(by_method),
            "byPath": dict(sorted(self.requests.items())),
        }


def install_sim_endpoints(
    app: web.Application, faults: Faults, stats: Stats, error_factory: ErrorFactory
) -> None:
    """Add the `/_sim/` routes and the fault/stats middleware to a simulator app.

    `error_factory` builds the backend-specific response for an injected error, so each
    simulator fails the way its real server does.
    """

    async def get_faults(_: web.Request) -> web.Response:
        return web.json_response(faults.as_json())

    async def post_faults(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            faults.update(body)
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(faults.as_json())

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(stats.as_json())

    async def reset_stats(_: web.Request) -> web.Response:
        stats.requests.clear()
        return web.json_response(stats.as_json())

    @web.middleware
    async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(SIM_PREFIX):
            return await handler(request)
        stats.record(request.method, request.path)
        if faults.down:
            # A stopped server: the connection drops without an answer.
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("simulated outage")
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000.0)
        if faults.error_rate and faults.rng.random() < faults.error_rate:
            return error_factory(request)
        return await handler(request)

    app.middlewares.append(fault_middleware)
    app.router.add_get(SIM_PREFIX + "faults", get_faults)
    app.router.add_post(SIM_PREFIX + "faults", post_faults)
    app.router.add_get(SIM_PREFIX + "stats", get_stats)
    app.router.add_delete(SIM_PREFIX + "stats", reset_stats)


def ssl_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    if not certfile:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certfile, keyfile)
    return ctx


class ThreadedServer:
    """Runs an aiohttp app on its own event loop in a daemon thread.

    For tests: synchronous clients (python-linstor, python-libmaas) and async ones alike can
    talk to it. `port=0` picks a free port; `url` is known once `start()` returns.
    """

    def __init__(
        self,
        app_factory: Callable[[], web.Application],
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_ctx: ssl.SSLContext | None = None,
    ) -> None:
        self._app_factory = app_factory
        self.host = host
        self.port = port
        self._ssl = ssl_ctx
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def start(self) -> ThreadedServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"sim-{self.port}", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise failure[0]
        return self

    async def _start_site(self) -> None:
        self.app = self._app_factory()
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self._ssl)
        await site.start()
        server = site._server
        if server is not None and self.port == 0:
            sockets = getattr(server, "sockets", None) or []
            self.port = int(sockets[0].getsockname()[1])

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop = None
        self._thread = None

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def serve(app: web.Application, host: str, port: int, ssl_ctx: ssl.SSLContext | None = None) -> None:
    """Serve in the foreground until interrupted (the console scripts)."""
    web.run_app(app, host=host, port=port, ssl_context=ssl_ctx, access_log=None, print=None)
