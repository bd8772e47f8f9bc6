"""The operator's metrics from what the handlers do: a drift pass that changed the backend
counts as a drift correction (a change-handler pass does not), passes in flight, Degraded
objects counted from the conditions a pass leaves, backend reachability, the leader, build info
and the process/platform collectors."""

from __future__ import annotations

import asyncio
import platform
from typing import Any

import kopf
import pytest
from fakes import body, drift, group_kind, runtime

import stratum
from stratum.api import crds
from stratum.handlers.conditions import get_condition
from stratum.handlers.drift import Checked
from stratum.handlers.metrics import Metrics
from stratum.handlers.registration import Call
from stratum.handlers.runner import Pass
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Degradation, Outcome

KIND = crds.RESOURCE_GROUP


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def handlers(factory: Any) -> dict[str, Any]:
    found, check = group_kind(factory)

    async def drifted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> Checked:
        return await drift(check, body, memo)

    found[f"{KIND.singular}_drift"] = drifted
    return found


async def test_a_timer_pass_that_changed_the_backend_is_a_drift_correction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    actions: list[str] = []

    def factory(call: Call) -> Pass:
        async def run() -> Outcome:
            return Outcome.done("in place", None, list(actions))

        return run

    fns = handlers(factory)
    rt = runtime()
    memo = kopf.Memo(runtime=rt)
    args = {"body": body(), "spec": {}, "status": {}, "memo": memo}
    await fns[f"{KIND.singular}_drift"](**args)
    assert value(rt.metrics, "stratum_drift_corrections_total", kind="ResourceGroup") == 0
    actions.append("created resource group obj")
    await fns[f"reconcile_{KIND.singular}/create"](patch=kopf.Patch(), retry=0, **args)
    assert value(rt.metrics, "stratum_drift_corrections_total", kind="ResourceGroup") == 0
    await fns[f"{KIND.singular}_drift"](**args)
    assert value(rt.metrics, "stratum_drift_corrections_total", kind="ResourceGroup") == 1


async def test_passes_in_flight_are_counted_while_they_run(monkeypatch: pytest.MonkeyPatch) -> None:
    release = asyncio.Event()

    def factory(call: Call) -> Pass:
        async def run() -> Outcome:
            await release.wait()
            return Outcome.done("ok", None, [])

        return run

    fns = handlers(factory)
    rt = runtime()
    timer = fns[f"{KIND.singular}_drift"]
    tasks = [asyncio.create_task(timer(body=body(name=n), memo=kopf.Memo(runtime=rt))) for n in ("a", "b")]
    await asyncio.sleep(0.01)
    assert value(rt.metrics, "stratum_reconcile_in_flight", kind="ResourceGroup") == 2
    release.set()
    await asyncio.gather(*tasks)
    assert value(rt.metrics, "stratum_reconcile_in_flight", kind="ResourceGroup") == 0


async def test_degraded_objects_are_counted_from_the_conditions_a_pass_leaves() -> None:
    sick: set[str] = set()

    def factory(call: Call) -> Pass:
        async def run() -> Outcome:
            health = Degradation(reasons.NOT_CONNECTED, "n2 is offline") if call.name in sick else None
            return Outcome.done("ok", None, [], degraded=health)

        return run

    fns = handlers(factory)
    rt = runtime()
    memo = kopf.Memo(runtime=rt)

    async def tick(name: str, status: dict[str, Any]) -> dict[str, Any]:
        """One drift pass; the status it leaves (as the next pass will read it)."""
        patch = await fns[f"{KIND.singular}_drift"](body=body(name=name, status=status), memo=memo)
        return {**status, **patch.status}

    sick.update({"a", "b"})
    a = await tick("a", {})
    await tick("b", {})
    assert value(rt.metrics, "stratum_objects_degraded", kind="ResourceGroup") == 2
    await tick("a", a)  # unchanged conditions: still counted
    assert value(rt.metrics, "stratum_objects_degraded", kind="ResourceGroup") == 2
    sick.discard("a")
    a = await tick("a", a)
    assert (get_condition(a["conditions"], "Degraded") or {}).get("status") == "False"
    assert value(rt.metrics, "stratum_objects_degraded", kind="ResourceGroup") == 1
    rt.metrics.object_state("ResourceGroup", "uid-b", None)  # deleted
    assert value(rt.metrics, "stratum_objects_degraded", kind="ResourceGroup") == 0


def test_a_backend_is_up_after_an_answer_and_down_after_a_transport_failure() -> None:
    metrics = Metrics()
    metrics.backend_request("linstor", "GET", "200", 0.01)
    assert value(metrics, "stratum_backend_up", backend="linstor") == 1
    metrics.backend_request("linstor", "GET", "unreachable", 0.01)
    assert value(metrics, "stratum_backend_up", backend="linstor") == 0
    metrics.backend_request("linstor", "POST", "500", 0.01)  # an error answer is still an answer
    assert value(metrics, "stratum_backend_up", backend="linstor") == 1


def test_leader_build_info_and_process_collectors() -> None:
    metrics = Metrics()
    assert value(metrics, "stratum_leader") == 0
    metrics.set_leader(True)
    assert value(metrics, "stratum_leader") == 1
    info = {"version": stratum.__version__, "python_version": platform.python_version()}
    assert value(metrics, "stratum_build_info", **info) == 1
    assert (value(metrics, "process_resident_memory_bytes") or 0) > 0
    assert value(metrics, "python_info", **platform_labels()) == 1


def platform_labels() -> dict[str, str]:
    major, minor, patch = platform.python_version_tuple()
    return {
        "implementation": platform.python_implementation(),
        "major": major,
        "minor": minor,
        "patchlevel": patch,
        "version": platform.python_version(),
    }


def test_objects_are_counted_per_ready_state_as_states_change() -> None:
    metrics = Metrics()

    def counts() -> tuple[float | None, ...]:
        return tuple(
            value(metrics, "stratum_objects", kind="Resource", ready=r) for r in ("True", "False", "Unknown")
        )

    metrics.object_state("Resource", "a", "Unknown")
    metrics.object_state("Resource", "b", "False")
    assert counts() == (0, 1, 1)
    metrics.object_state("Resource", "a", "True")
    metrics.object_state("Resource", "b", "True")
    metrics.object_state("Resource", "b", "True")  # the same state again (a drift pass): counted once
    assert counts() == (2, 0, 0)
    metrics.object_state("Resource", "a", None)  # deleted
    metrics.object_state("Resource", "never-seen", None)
    assert counts() == (1, 0, 0)
    metrics.object_state("Resource", "b", "False")
    assert counts() == (0, 1, 0)
    assert value(metrics, "stratum_objects", kind="ResourceGroup", ready="True") is None
