"""Which listed objects a drift loop checks, and a check dropped when the object had a fresh pass
after it was listed (the listed object may be older than the one that pass saw), was deleted
since, or is no longer as listed when the check is about to change a backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import kopf
import pytest
from fakes import runtime

from stratum.api import crds
from stratum.clients.kubeobjects import KubeObjects, Page
from stratum.handlers import controls
from stratum.handlers.drift import DriftLoop, due, still_current, unless_superseded
from stratum.handlers.runner import Superseded
from stratum.handlers.runtime import KUBE
from stratum.reconcile.outcome import Outcome


def listed(uid: str = "u1", **metadata: Any) -> kopf.Body:
    return kopf.Body({"metadata": {"name": "obj", "uid": uid, **metadata}, "spec": {}, "status": {}})


def test_only_objects_handled_once_and_idle_since_are_due() -> None:
    rt = runtime()
    assert not due(listed(), rt, idle=5, now=100)  # not handled by this process yet
    rt.fresh_passes["u1"] = 96.0
    assert not due(listed(), rt, idle=5, now=100)  # a pass 4 s ago
    assert due(listed(), rt, idle=5, now=101)


def test_objects_being_deleted_or_paused_are_not_due() -> None:
    rt = runtime()
    rt.fresh_passes["u1"] = 0.0
    assert not due(listed(deletionTimestamp="2026-12-01T00:00:00Z"), rt, idle=5, now=100)
    assert not due(listed(annotations={controls.PAUSED_ANNOTATION: "true"}), rt, idle=5, now=100)
    assert due(listed(annotations={controls.PAUSED_ANNOTATION: "false"}), rt, idle=5, now=100)


async def test_a_check_listed_before_the_last_fresh_pass_is_dropped_before_it_runs() -> None:
    rt = runtime()
    ran: list[str] = []

    async def run() -> Outcome:
        ran.append("ran")
        return Outcome.done("ok", None, [])

    rt.fresh_passes["u1"] = 10.0
    assert (await unless_superseded(run, rt, "u1", listed_at=11.0)()).ready
    rt.fresh_passes["u1"] = 12.0  # a change handler ran after the LIST
    with pytest.raises(Superseded):
        await unless_superseded(run, rt, "u1", listed_at=11.0)()
    assert ran == ["ran"]


async def test_the_check_is_made_under_the_objects_lock_when_the_pass_starts() -> None:
    """A change handler holding the lock finishes first; the drift pass then sees its fresh pass."""
    rt = runtime()
    rt.fresh_passes["u1"] = 10.0
    checked = unless_superseded(lambda: asyncio.sleep(0, Outcome.done("ok", None, [])), rt, "u1", 11.0)

    async def drift_pass() -> Outcome:
        async with rt.lock("u1"):
            return await checked()

    async with rt.lock("u1"):
        waiting = asyncio.create_task(drift_pass())
        await asyncio.sleep(0)
        rt.fresh_passes["u1"] = 12.0  # the change handler's pass, ending under the lock
    with pytest.raises(Superseded):
        await waiting


async def test_a_check_waiting_for_the_lock_of_a_deleted_object_is_dropped() -> None:
    """Listed before the deletion, its check waits for the lock the delete pass holds; the delete
    pass ends by forgetting the object. The check must not run on the deleted object's spec."""
    rt = runtime()
    rt.fresh_passes["u1"] = 10.0
    ran: list[str] = []

    async def run() -> Outcome:
        ran.append("ran")  # (a MachineRaid's pass would create the array again here)
        return Outcome.done("ok", None, [])

    checked = unless_superseded(run, rt, "u1", listed_at=11.0)
    lock = rt.lock("u1")

    async def drift_pass() -> Outcome:
        async with lock:
            return await checked()

    async with lock:  # the delete pass
        waiting = asyncio.create_task(drift_pass())
        await asyncio.sleep(0)
    rt.forget("u1")  # as on_delete does once the pass is done, after it let go of the lock
    with pytest.raises(Superseded, match="deleted"):
        await waiting
    assert ran == []


class Current(KubeObjects):
    """The object as the API server has it now."""

    def __init__(self, obj: dict[str, Any] | None) -> None:  # (no connection)
        self.obj = obj

    async def get(self, api_version: str, plural: str, name: str) -> dict[str, Any] | None:
        return self.obj


async def test_a_correction_is_made_only_for_the_object_as_listed() -> None:
    body = listed(resourceVersion="7")
    as_listed = {"metadata": {"name": "obj", "uid": "u1", "resourceVersion": "7"}}
    await still_current(Current(as_listed), crds.MACHINE_RAID, body, lambda: "7")()
    moved_on = [
        None,  # deleted
        {"metadata": {**as_listed["metadata"], "uid": "u2"}},  # deleted and created again
        {"metadata": {**as_listed["metadata"], "deletionTimestamp": "2026-12-01T00:00:00Z"}},
        {"metadata": {**as_listed["metadata"], "resourceVersion": "8"}},  # changed
    ]
    for now in moved_on:
        with pytest.raises(Superseded):
            await still_current(Current(now), crds.MACHINE_RAID, body, lambda: "7")()
    with pytest.raises(Superseded):
        await still_current(None, crds.MACHINE_RAID, body, lambda: "7")()


class FailingOnce(KubeObjects):
    """Objects whose first LIST fails with an error that is not a backend error (a bug)."""

    def __init__(self) -> None:  # (no connection)
        self.lists = 0

    async def pages(self, api_version: str, plural: str, limit: int = 500) -> AsyncIterator[Page]:
        self.lists += 1
        if self.lists == 1:
            raise ValueError("a bug in one sweep")
        yield [{"metadata": {"name": "obj", "uid": "u1"}}]


async def test_the_loop_outlives_a_sweep_that_failed() -> None:
    rt = runtime()
    objects = FailingOnce()
    rt.clients.add(KUBE, objects)
    checked: list[str] = []

    async def check(body: kopf.Body, memo: kopf.Memo, indexes: Mapping[str, Any], listed_at: float) -> None:
        checked.append(body.metadata.name or "")

    loop = DriftLoop(crds.RESOURCE_GROUP, 0.05, check)
    await loop.start(memo=kopf.Memo(runtime=rt))
    await asyncio.sleep(0.3)
    await loop.stop()
    assert objects.lists >= 2 and checked  # the sweeps after the failed one ran
