"""Process-wide state the handlers share (kept in kopf's memo): settings, metrics, per-object
locks and the backend clients, looked up by typed keys."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers.events import EventSink
from stratum.handlers.metrics import Metrics
from stratum.handlers.settings import OperatorSettings


class Closable(Protocol):
    async def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


@dataclass(frozen=True)
class ClientKey(Generic[C]):
    """Names one backend client and its type, so a lookup returns that type."""

    name: str
    type: type[C]


KUBE = ClientKey("kube", KubeObjects)
"""The operator's own client for Kubernetes objects: drift listings, the objects sets and
schedules create, status written outside kopf."""


@dataclass
class Clients:
    """The backend clients that are configured; a backend without settings has none."""

    _clients: dict[str, Closable] = field(default_factory=dict)

    def add(self, key: ClientKey[C], client: C) -> None:
        self._clients[key.name] = client

    def get(self, key: ClientKey[C]) -> C | None:
        client = self._clients.get(key.name)
        if client is None:
            return None
        if not isinstance(client, key.type):
            raise TypeError(f"client {key.name} is a {type(client).__name__}, not a {key.type.__name__}")
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


@dataclass
class Runtime:
    settings: OperatorSettings
    metrics: Metrics
    events: EventSink
    clients: Clients = field(default_factory=Clients)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    fresh_passes: dict[str, float] = field(default_factory=dict)
    """time.monotonic() when each object's last pass on fresh backend reads ended."""
    backend_slots: asyncio.Semaphore = field(init=False)
    """At most settings.workers passes talk to the backends at once."""

    def __post_init__(self) -> None:
        self.backend_slots = asyncio.Semaphore(self.settings.workers)

    def lock(self, uid: str) -> asyncio.Lock:
        # One pass at a time per object: create/update handlers and drift may run together.
        return self.locks.setdefault(uid, asyncio.Lock())

    def forget(self, uid: str) -> None:
        self.locks.pop(uid, None)
        self.fresh_passes.pop(uid, None)
