"""The aiohttp application of the MAAS simulator."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from ..common import Faults, Stats, install_sim_endpoints
from . import simroutes
from .dispatch import Dispatcher
from .errors import injected_error
from .model import MaasState


def make_app(state: MaasState, faults: Faults, stats: Stats, reset: Callable[[], None]) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    install_sim_endpoints(app, faults, stats, injected_error)
    simroutes.install(app, state, reset)
    dispatcher = Dispatcher(state)

    async def api(request: web.Request) -> web.StreamResponse:
        return await dispatcher(request)

    app.router.add_route("*", "/{tail:.*}", api)
    return app
