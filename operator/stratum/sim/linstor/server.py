"""`LinstorSim`: the simulator as a Python object for tests (runs in a background thread)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..common import Stats, ThreadedServer
from .app import build_app
from .faults import LinstorFaults
from .model import State
from .seed import SeedLike, load_seed
from .tls import server_ssl_context


class LinstorSim:
    """An in-memory LINSTOR controller serving REST API v1.

    >>> with LinstorSim(seed={"nodes": [{"name": "n1"}]}) as sim:
    ...     sim.url  # http://127.0.0.1:<port>

    `state` is the live controller database (read it in tests; mutate it only between requests).
    """

    def __init__(
        self,
        seed: SeedLike = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        tls_client_ca: str | None = None,
    ) -> None:
        self.state: State = load_seed(seed, version)
        self.faults = LinstorFaults()
        self.stats = Stats()
        self.host = host
        self.port = port
        self._ssl = server_ssl_context(tls_cert, tls_key, tls_client_ca)
        self._server: ThreadedServer | None = None

    def make_app(self) -> web.Application:
        """A fresh aiohttp app over this simulator's state (e.g. for aiohttp's test client)."""
        return build_app(self.state, self.faults, self.stats)

    def start(self) -> LinstorSim:
        if self._server is None:
            server = ThreadedServer(self.make_app, self.host, self.port, self._ssl)
            server.start()
            self._server = server
            self.port = server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def controller_uri(self) -> str:
        """The address as LS_CONTROLLERS / python-linstor take it (linstor:// or linstor+ssl://)."""
        scheme = "linstor+ssl" if self._ssl else "linstor"
        return f"{scheme}://{self.host}:{self.port}"

    def set_in_use(self, resource: str, node: str, in_use: bool = True) -> None:
        self.state.set_in_use(resource, node, in_use)

    def __enter__(self) -> LinstorSim:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
