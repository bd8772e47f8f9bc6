"""`MaasSim`: the simulator as a Python object, for tests."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from ..common import Faults, Stats, ThreadedServer
from .app import make_app
from .enums import status_from_name
from .lifecycle import advance
from .model import ApiKey, MaasState, Machine
from .seed import add_machine_from_spec, apply_seed, load_seed


class MaasSim:
    """A MAAS region API 2.0 simulator serving `/MAAS/api/2.0/` from memory.

    `seed` is a dict, a YAML file path or None (empty). Without API keys in the seed (and
    no `api_key`), one key is generated; `api_key` then holds it.

        with MaasSim(seed) as sim:
            client = connect(sim.maas_url, apikey=sim.api_key)
    """

    def __init__(
        self,
        seed: dict[str, Any] | str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        ssl_ctx: ssl.SSLContext | None = None,
    ) -> None:
        self.state = MaasState()
        self.faults = Faults()
        self.stats = Stats()
        self._seed = load_seed(seed)
        self._extra_key = api_key
        self.reset()
        self._server = ThreadedServer(self.make_app, host, port, ssl_ctx)

    # -- lifecycle ----------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        return make_app(self.state, self.faults, self.stats, self.reset)

    def start(self) -> MaasSim:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MaasSim:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the seed: machines, keys and ids as at start."""
        with self.state.lock:
            self.state.clear()
            apply_seed(self.state, self._seed)
            if self._extra_key:
                self.state.add_api_key(self._extra_key)
            if not self.state.api_keys:
                self._extra_key = str(self.state.add_api_key())

    # -- addresses and credentials --------------------------------------------------------------
    @property
    def url(self) -> str:
        """Server root (the `/_sim/` endpoints live here)."""
        return self._server.url

    @property
    def maas_url(self) -> str:
        """The region URL as MAAS_API_URL takes it: `<url>/MAAS/`."""
        return self.url + "/MAAS/"

    @property
    def api_url(self) -> str:
        return self.url + "/MAAS/api/2.0/"

    @property
    def api_key(self) -> str:
        """The first accepted API key, `consumer:token:secret`."""
        return str(next(iter(self.state.api_keys.values())))

    def add_api_key(self, key: str | None = None, *, admin: bool = True) -> ApiKey:
        with self.state.lock:
            return self.state.add_api_key(key, admin=admin)

    # -- state for tests ------------------------------------------------------------------------
    def machine(self, system_id: str) -> Machine:
        """A machine, with every transition that is due finished."""
        with self.state.lock:
            advance(self.state)
            return self.state.machines[system_id]

    def add_machine(self, spec: dict[str, Any]) -> Machine:
        """Add a machine from a seed-style spec (`systemId`, `hostname`, `status`, `blockDevices`)."""
        with self.state.lock:
            return add_machine_from_spec(self.state, spec)

    def set_status(self, system_id: str, status: str | int) -> None:
        """Change a machine's status by name ("Ready", "Deployed") or number."""
        with self.state.lock:
            machine = self.state.machines[system_id]
            machine.pending = None
            self.state.set_status(machine, status_from_name(status))
