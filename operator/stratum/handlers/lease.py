"""Leader election with a coordination.k8s.io Lease, since kopf has none: only the holder runs
kopf; a standby takes over once the holder stops renewing for a lease duration."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratum.clients.errors import BackendError
from stratum.clients.kube import KubeConnection, LeaseClient

log = logging.getLogger("stratum.lease")

Operate = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _micro_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass
class Observation:
    """The Lease record as last read, and the LOCAL monotonic time it was first seen so: judged
    as client-go judges it (k8s.io/client-go/tools/leaderelection/leaderelection.go,
    tryAcquireOrRenew / isLeaseValid). The holder's renewTime is written by the holder's clock
    and never compared with ours; only a change of the record proves the holder is alive."""

    record: dict[str, Any] | None = None
    seen_at: float = 0.0

    def observe(self, spec: dict[str, Any], now: float) -> None:
        if spec != self.record:
            self.record, self.seen_at = copy.deepcopy(spec), now

    def expired(self, now: float) -> bool:
        """Nobody holds the lease, or its record has not changed for a lease duration."""
        if not self.record or not self.record.get("holderIdentity"):
            return True
        duration = int(self.record.get("leaseDurationSeconds") or 0)
        return now >= self.seen_at + duration


@dataclass
class LeaseElector:
    namespace: str
    name: str
    identity: str
    lease_seconds: int = 15
    renew_every: float = 2.0
    renew_deadline: float = 10.0

    clock: Callable[[], float] = time.monotonic
    """Local time, for judging the holder; never compared with times in the Lease."""

    service_account: Path | None = None
    """Where the service-account token is mounted, when not at Kubernetes' default path."""
    on_leading: Callable[[bool], None] = lambda leading: None
    """Told when this instance starts and stops leading (the leader metric)."""

    leading: bool = False
    observed: Observation = field(default_factory=Observation)

    async def run(self, operate: Operate, stop: asyncio.Event) -> None:
        """Stand by until the lease is ours (or `stop` is set), then run `operate(stop)` while
        renewing it."""
        client = LeaseClient(KubeConnection.load(self.service_account), self.namespace)
        try:
            if await self._wait_for_leadership(client, stop):
                self._set_leading(True)
                await self._lead(client, operate, stop)
        finally:
            self._set_leading(False)
            await client.close()

    def _set_leading(self, leading: bool) -> None:
        self.leading = leading
        self.on_leading(leading)

    async def _wait_for_leadership(self, client: LeaseClient, stop: asyncio.Event) -> bool:
        announced = False
        while not stop.is_set():
            try:
                if await self._try_acquire_or_renew(client):
                    log.info("acquired lease %s/%s as %s", self.namespace, self.name, self.identity)
                    return True
            except BackendError as exc:
                log.warning("lease check failed: %s", exc)
            if not announced:
                log.info("standing by: lease %s/%s is held by another instance", self.namespace, self.name)
                announced = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.renew_every)
        return False

    async def _lead(self, client: LeaseClient, operate: Operate, stop: asyncio.Event) -> None:
        task = asyncio.create_task(operate(stop))
        last_renewal = asyncio.get_running_loop().time()
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.renew_every)
                if task.done():
                    break
                try:
                    renewed = await self._try_acquire_or_renew(client)
                except BackendError as exc:
                    log.warning("lease renewal failed: %s", exc)
                    renewed = False
                now = asyncio.get_running_loop().time()
                if renewed:
                    last_renewal = now
                elif now - last_renewal > self.renew_deadline:
                    # Another instance may take over now: stop reconciling before it does.
                    log.error("lost lease %s/%s; stopping", self.namespace, self.name)
                    stop.set()
                    await task
                    raise SystemExit(1)
            await task
        finally:
            if not task.done():
                stop.set()
                await asyncio.wait({task}, timeout=30)
            await self._release(client)

    async def _try_acquire_or_renew(self, client: LeaseClient) -> bool:
        now = _now()
        lease = await client.get(self.name)
        if lease is None:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": self._spec(now, acquired=now, transitions=0),
            }
            return await client.create(body) is not None
        spec = lease.get("spec") or {}
        self.observed.observe(spec, self.clock())
        if spec.get("holderIdentity") == self.identity:
            acquired = _parse(spec.get("acquireTime")) or now
            lease["spec"] = self._spec(
                now, acquired=acquired, transitions=int(spec.get("leaseTransitions") or 0)
            )
            return await client.replace(self.name, lease) is not None
        if not self.observed.expired(self.clock()):
            return False
        lease["spec"] = self._spec(now, acquired=now, transitions=int(spec.get("leaseTransitions") or 0) + 1)
        return await client.replace(self.name, lease) is not None

    def _spec(self, now: dt.datetime, *, acquired: dt.datetime, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.lease_seconds,
            "acquireTime": _micro_time(acquired),
            "renewTime": _micro_time(now),
            "leaseTransitions": transitions,
        }

    async def _release(self, client: LeaseClient) -> None:
        """Hand over at once on a clean stop instead of making the standby wait out the lease."""
        try:
            lease = await client.get(self.name)
            if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                lease["spec"]["holderIdentity"] = None
                await client.replace(self.name, lease)
        except BackendError as exc:
            log.warning("could not release lease: %s", exc)
