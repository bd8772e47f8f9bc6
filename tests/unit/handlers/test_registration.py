"""The kopf registrations are built from OperatorSettings when `stratum run` starts, so the drift
interval is the one the flag gave (never a value read at import), and each kind gets the same
set of handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import kopf
import pytest
from fakes import body, runtime

from stratum.api import crds
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.handlers import linstor
from stratum.handlers.drift import DriftLoop
from stratum.handlers.main import build_registry
from stratum.handlers.registration import Call
from stratum.handlers.settings import FINALIZER, OperatorSettings
from stratum.reconcile.linstor.refs import GroupRef, ResourceRef


def registered(settings: OperatorSettings) -> kopf.OperatorRegistry:
    return build_registry(settings, kopf.OperatorRegistry())


# The schedule has no backend object to drift: its clock timer runs a pass when a slot is due.
DRIFTING = [k for k in crds.KINDS if k is not crds.SNAPSHOT_SCHEDULE]
CLOCK = "snapshotschedule_clock"


def drift_loops(registry: kopf.OperatorRegistry) -> dict[str, DriftLoop]:
    loops = {}
    for handler in registry._activities.get_all_handlers():
        loop = getattr(handler.fn, "__self__", None)
        if isinstance(loop, DriftLoop):
            loops[handler.id] = loop
    return loops


def test_drift_loops_take_their_interval_from_the_settings() -> None:
    registry = registered(
        OperatorSettings(drift_interval=7.5, drift_idle=1.0, machine_poll_interval=3.0, schedule_tick=0.5)
    )
    loops = drift_loops(registry)
    assert sorted(loops) == sorted(f"{k.singular}_drift" for k in DRIFTING)
    # Started with the operator and stopped with it: one startup and one cleanup activity each.
    activities = [(h.id, h.activity.value) for h in registry._activities.get_all_handlers() if h.id in loops]
    assert sorted(activities) == sorted((i, a) for i in loops for a in ("startup", "cleanup"))
    # A MachineRaidSet's loop is its machine poll (a newly tagged machine gets its child soon).
    polled = f"{crds.MACHINE_RAID_SET.singular}_drift"
    assert {loop.interval for i, loop in loops.items() if i != polled} == {7.5}
    assert loops[polled].interval == 3.0
    # The schedule's clock stays a kopf timer: a few objects, a short tick.
    (clock,) = registry._spawning.get_all_handlers()
    assert (clock.id, clock.interval) == (CLOCK, 0.5)
    defaults = {i: loop.interval for i, loop in drift_loops(registered(OperatorSettings())).items()}
    assert defaults.pop(polled) == 5.0 and set(defaults.values()) == {60.0}


def test_every_kind_reconciles_on_create_update_resume_and_deletes_with_a_finalizer() -> None:
    registry = registered(OperatorSettings())
    ids = [h.id for h in registry._changing.get_all_handlers()]
    for kind in DRIFTING:
        assert ids.count(f"reconcile_{kind.singular}") == 3  # resume, create, update
        assert ids.count(f"delete_{kind.singular}") == 1
    # group, resource, snapshot, remote, backup, readyTag and MachineRaidSet children indexes
    assert len(registry._indexing.get_all_handlers()) == 7
    others = [h.id for h in registry._activities.get_all_handlers() if not h.id.endswith("_drift")]
    assert others == ["login", "register_startup.<locals>.configure"]


async def test_startup_applies_the_settings_to_kopf() -> None:
    registry = registered(OperatorSettings(kopf_error_backoff=9, request_timeout=33))
    _login, startup = [h for h in registry._activities.get_all_handlers() if not h.id.endswith("_drift")]
    kopf_settings = kopf.OperatorSettings()
    await startup.fn(settings=kopf_settings)
    assert kopf_settings.persistence.finalizer == FINALIZER
    assert kopf_settings.execution.default_backoff == 9
    assert kopf_settings.networking.request_timeout == 33
    assert kopf_settings.queueing.worker_limit is None


async def test_the_change_handler_runs_a_pass_and_patches_status() -> None:
    """The Snapshot handler waits for its Resource (found through the index) without a backend call."""
    registry = registered(OperatorSettings())
    (handler,) = [
        h
        for h in registry._changing.get_all_handlers()
        if h.id == "reconcile_snapshot" and h.reason == "create"
    ]
    patch = kopf.Patch()
    snapshot = body(name="s1")
    rt = runtime(dependency_wait=0)
    rt.clients.add(linstor.CLIENT, LinstorClient(LinstorConfig()))  # never called: nothing to read yet
    indexes: dict[str, Any] = {"resource_index": {}}
    with pytest.raises(kopf.TemporaryError) as caught:
        await handler.fn(
            body=snapshot,
            spec={"resource": "r1"},
            status={},
            patch=patch,
            memo=kopf.Memo(runtime=rt),
            retry=0,
            **indexes,
        )
    assert caught.value.delay == OperatorSettings().delays.wait
    (ready,) = [c for c in patch.status["conditions"] if c["type"] == "Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "WaitingForResource")
    await rt.clients.close()


def test_a_call_reads_typed_values_from_the_indexes() -> None:
    ref = GroupRef(linstor_name="rg1", ready=True, place_count=2)
    call = Call(body(), {}, {}, kopf.Memo(runtime=runtime()), {"resourcegroup_index": {"rg1": [ref]}})
    assert call.index("resourcegroup_index", "rg1", GroupRef) is ref
    assert call.index("resourcegroup_index", "other", GroupRef) is None
    with pytest.raises(TypeError, match="GroupRef"):
        call.index("resourcegroup_index", "rg1", str)


def test_kopf_puts_the_finalizer_on_before_any_pass_runs() -> None:
    """The delete handlers require the finalizer unconditionally, so kopf adds it in its own patch
    before the first pass touches a backend: a delete during that pass still reaches the handler."""
    registry = registered(OperatorSettings())

    def ours(handlers: Any) -> list[Any]:  # registered by register_kind (a kind's own extras aside)
        return [h for h in handlers if h.fn.__qualname__.startswith("register_kind.")]

    deletes = [h for h in ours(registry._changing.get_all_handlers()) if h.id.startswith("delete_")]
    assert len(deletes) >= 4
    assert all(h.requires_finalizer and h.when is None for h in deletes)
    changes = [h for h in ours(registry._changing.get_all_handlers()) if h.id.startswith("reconcile_")]
    assert changes and all(h.when is None for h in changes)


async def test_a_pass_waiting_for_another_object_runs_again_as_soon_as_its_index_changes() -> None:
    registry = registered(OperatorSettings())
    (handler,) = [
        h
        for h in registry._changing.get_all_handlers()
        if h.id == "reconcile_snapshot" and h.reason == "create"
    ]
    asked: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/controller/version":
            return httpx.Response(200, json={"version": "1.33.2", "rest_api_version": "1.27.0"})
        asked.append(request.url.path)
        return httpx.Response(403, text="no")

    rt = runtime(dependency_wait=30)
    client = LinstorClient(LinstorConfig(), transport=httpx.MockTransport(refuse))
    rt.clients.add(linstor.CLIENT, client)
    index: dict[str, Any] = {}

    async def resource_appears() -> None:
        await asyncio.sleep(0.3)
        index["r1"] = [ResourceRef(linstor_name="r1", exists=True)]

    appearing = asyncio.create_task(resource_appears())
    patch = kopf.Patch()
    started = time.monotonic()
    with pytest.raises(kopf.TemporaryError):
        await handler.fn(
            body=body(name="s1"),
            spec={"resource": "r1"},
            status={},
            patch=patch,
            memo=kopf.Memo(runtime=rt),
            retry=0,
            resource_index=index,
        )
    await appearing
    # The first pass waited for the Resource; the second ran at once when it appeared (and
    # reached LINSTOR, which refused), well before the 30 s wait or any kopf retry.
    assert time.monotonic() - started < 5
    assert asked == ["/v1/resource-definitions/r1/snapshots/s1"]
    (ready,) = [c for c in patch.status["conditions"] if c["type"] == "Ready"]
    assert ready["reason"] != "WaitingForResource"
    assert "finalizers" not in patch.get("metadata", {})  # kopf's own patch adds it, before the pass
    await rt.clients.close()


def test_the_schedule_clock_does_not_log_every_tick() -> None:
    from stratum.handlers.linstor_backup import QUIET_CLOCK

    registered(OperatorSettings())
    registered(OperatorSettings())
    logger = logging.getLogger("kopf.objects")
    assert logger.filters.count(QUIET_CLOCK) == 1

    def record(level: int, message: str) -> logging.LogRecord:
        return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)

    assert not QUIET_CLOCK.filter(record(logging.INFO, f"Timer '{CLOCK}' succeeded."))
    assert QUIET_CLOCK.filter(record(logging.ERROR, f"Timer '{CLOCK}' failed with an exception."))
