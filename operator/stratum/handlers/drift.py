"""Drift: one loop per kind checks every object against its backend once per interval.

It replaces a kopf timer per object. For every object with a timer kopf keeps the object's last
body (~15 KB, half of it managedFields) and a task with its own state, and runs one handler
invocation per interval: at 11,100 objects (bench `--size xl`) that was ~40 KB of memory per
object and 11,100 invocations a minute. The loop pages through one LIST per interval instead and
runs the kind's drift check on each listed object, at most `workers` at once.

A listed object can be older than the object by the time its check runs. The check is dropped
when the object had a fresh pass since the LIST (a change handler ran on the newer object,
`Superseded`), and what it writes to status is written only onto the version it read (listed, or
left by its own write of a rollback's intent; else 409: dropped, the next sweep lists the newer
object)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import kopf

from stratum.api.crds import Kind
from stratum.clients.errors import BackendConflict, BackendError
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers import controls
from stratum.handlers.runner import Pass, Superseded
from stratum.handlers.runtime import KUBE, Runtime
from stratum.reconcile.outcome import Outcome

log = logging.getLogger("stratum")


@dataclass(frozen=True)
class Checked:
    """What one object's drift check left to write."""

    status: dict[str, Any]
    """The changes to status (empty: nothing to write)."""
    resource_version: str
    """The object's version the changes apply to: as listed, or as the pass's own status write
    (a rollback's intent) left it."""


Check = Callable[[kopf.Body, kopf.Memo, Mapping[str, Any], float], Awaitable[Checked | None]]
"""One object's drift check: (listed body, memo, kopf's indexes, when it was listed) -> what it
left to write (None: not checked)."""
PAGE = 500


def due(body: kopf.Body, runtime: Runtime, *, idle: float, now: float) -> bool:
    """Whether a listed object gets a drift check. Not when it is being deleted (its delete handler
    has it) or paused; not before this process handled it once (kopf holds handlers until its
    indexes are complete, then runs the resume or create handler: a check before that would look
    other objects up in a partial index); not within `idle` seconds of its last fresh pass."""
    if body.metadata.get("deletionTimestamp") or controls.is_paused(body):
        return False
    last = runtime.fresh_passes.get(body.metadata.uid or "")
    return last is not None and now - last >= idle


def unless_superseded(run: Pass, runtime: Runtime, uid: str, listed_at: float) -> Pass:
    """The pass, dropped (Superseded) when the object had a fresh pass after it was listed, or was
    deleted since (its delete pass forgets it: a due object is one this process knows). It is
    checked under the object's lock, where no other pass can start in between. Without the second
    test a check listed before a deletion, waiting for the lock the delete pass held, ran after it
    on the deleted object's spec and created the RAID again (bench --size xl: 33 orphans)."""

    async def checked() -> Outcome:
        last = runtime.fresh_passes.get(uid)
        if last is None:
            raise Superseded(f"{uid} was deleted after it was listed")
        if last > listed_at:
            raise Superseded(f"{uid} had a pass on a newer object")
        return await run()

    return checked


def still_current(
    kube: KubeObjects | None, kind: Kind, body: kopf.Body, version: Callable[[], str]
) -> Callable[[], Awaitable[None]]:
    """Before a drift pass changes a backend: the object must still be as the pass knows it (at
    `version`: as listed, or as its own status write left it; not being deleted), read from the
    API server; else Superseded. A correction made for an object that changed or went away since
    the LIST could undo what its newer passes did, so it is not made; the next sweep lists the
    object as it is."""

    async def confirm() -> None:
        if kube is None:
            raise Superseded(f"{kind.kind} {body.metadata.name}: no Kubernetes client to confirm it with")
        current = await kube.get(kind.api_version, kind.plural, body.metadata.name or "")
        metadata = (current or {}).get("metadata") or {}
        if current is None or metadata.get("uid") != body.metadata.uid:
            raise Superseded(f"{kind.kind} {body.metadata.name} was deleted after it was listed")
        if metadata.get("deletionTimestamp"):
            raise Superseded(f"{kind.kind} {body.metadata.name} is being deleted")
        if metadata.get("resourceVersion") != version():
            raise Superseded(f"{kind.kind} {body.metadata.name} changed after it was listed")

    return confirm


@dataclass
class Sweep:
    """What one pass over a kind did."""

    listed: int = 0
    checked: int = 0
    written: int = 0
    conflicts: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.listed} listed, {self.checked} checked, {self.written} status writes, "
            f"{self.conflicts} changed since listed, {self.failed} failed"
        )


@dataclass
class DriftLoop:
    """A kind's drift loop: started and stopped with the operator by kopf's startup and cleanup
    activities (kopf hands those its indexes, the same live views the handlers get)."""

    kind: Kind
    interval: float
    check: Check
    _task: asyncio.Task[None] | None = None

    async def start(self, memo: kopf.Memo, **kwargs: Any) -> None:
        runtime: Runtime = memo["runtime"]
        self._task = asyncio.create_task(self.run(runtime, memo, kwargs), name=f"{self.kind.singular} drift")

    async def stop(self, **_: Any) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self, runtime: Runtime, memo: kopf.Memo, indexes: Mapping[str, Any]) -> None:
        kube = runtime.clients.get(KUBE)
        if kube is None:
            log.warning("no Kubernetes client: %s are not checked for drift", self.kind.plural)
            return
        next_sweep = time.monotonic() + self.interval
        while True:
            await asyncio.sleep(max(0.0, next_sweep - time.monotonic()))
            started = time.monotonic()
            next_sweep = started + self.interval
            try:
                sweep = await self.sweep(kube, memo, indexes, workers=runtime.settings.workers)
            except BackendError as exc:
                log.warning("drift of %s: listing failed: %s", self.kind.plural, exc.message)
                continue
            except Exception:  # the loop outlives any one sweep: drift must not stop silently
                log.exception("drift of %s: the sweep failed", self.kind.plural)
                continue
            took = time.monotonic() - started
            level = logging.INFO if sweep.written or sweep.conflicts or sweep.failed else logging.DEBUG
            if took > self.interval:
                level = logging.WARNING  # the next sweep starts late: give it time or fewer objects
            log.log(level, "drift of %s: %s in %.1f s", self.kind.plural, sweep, took)

    async def sweep(
        self, kube: KubeObjects, memo: kopf.Memo, indexes: Mapping[str, Any], *, workers: int
    ) -> Sweep:
        """Every object of the kind, checked once. The pages of a LIST are one snapshot, taken
        when the first page is read: every object counts as listed then."""
        done = Sweep()
        slots = asyncio.Semaphore(workers)
        api_version = self.kind.api_version
        listed_at = time.monotonic()

        async def one(raw: dict[str, Any]) -> None:
            async with slots:
                body = kopf.Body(cast(kopf.RawBody, raw))
                try:
                    checked = await self.check(body, memo, indexes, listed_at)
                    if checked is None:
                        return
                    done.checked += 1
                    if not checked.status:
                        return
                    await kube.patch_status(
                        api_version,
                        self.kind.plural,
                        body.metadata.name or "",
                        checked.status,
                        resource_version=checked.resource_version,
                    )
                    done.written += 1
                except BackendConflict:
                    done.conflicts += 1  # changed since the LIST: the next sweep has it
                except BackendError as exc:
                    done.failed += 1
                    log.warning("drift of %s %s: %s", self.kind.kind, body.metadata.name, exc.message)
                except Exception:  # one object's failure never stops the others' checks
                    done.failed += 1
                    log.exception("drift check of %s %s failed", self.kind.kind, body.metadata.name)

        async for page in kube.pages(api_version, self.kind.plural, limit=PAGE):
            done.listed += len(page)
            await asyncio.gather(*(one(raw) for raw in page))
        return done
