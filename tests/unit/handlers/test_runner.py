"""One pass through the runner: what it patches into status, the conditions, the Events and the
retry it asks kopf for. (What crosses the API server is covered in tests/e2e.)"""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest
from fakes import body, record_events, runtime

from stratum.api.linstor import ResourceGroupStatus, SnapshotStatus
from stratum.clients.errors import Backend, BackendUnavailable
from stratum.handlers.conditions import get_condition
from stratum.handlers.runner import run_pass
from stratum.handlers.runtime import Runtime
from stratum.handlers.settings import RetryDelays
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Degradation, Outcome, Wait


async def run(
    outcome: Outcome | Exception,
    *,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    rt: Runtime | None = None,
    raise_for_retry: bool = True,
    deleting: bool = False,
    retry: int = 0,
) -> tuple[kopf.Patch, Outcome]:
    async def step() -> Outcome:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    patch = kopf.Patch()
    result = await run_pass(
        kind="ResourceGroup",
        status_model=ResourceGroupStatus,
        backend=Backend.LINSTOR,
        runtime=rt or runtime(),
        body=body(generation, status),
        patch=patch,
        status=status or {},
        generation=generation,
        run=step,
        retry=retry,
        raise_for_retry=raise_for_retry,
        deleting=deleting,
    )
    return patch, result


def condition(patch: kopf.Patch, type_: str) -> dict[str, Any]:
    found = get_condition(patch.status["conditions"], type_)
    assert found is not None
    return dict(found)


async def test_a_converged_pass_writes_its_status_fields_conditions_and_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = record_events(monkeypatch)
    status = ResourceGroupStatus(linstor_name="rg1", max_volume_size=None)
    before = {"maxVolumeSize": "1Gi"}
    patch, outcome = await run(Outcome.done("in place", status, ["created rg1"]), status=before, generation=3)
    assert outcome.ready
    assert patch.status["linstorName"] == "rg1"
    assert patch.status["maxVolumeSize"] is None  # set to None: removed from status
    assert "maxVolumeSizeCandidates" not in patch.status  # not set: left alone
    assert patch.status["observedGeneration"] == 3
    ready, synced = condition(patch, "Ready"), condition(patch, "Synced")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("True", "Ready", 3)
    assert (synced["status"], synced["reason"]) == ("True", "Reconciled")
    assert [(e.type, e.reason, e.message) for e in events.posted] == [("Normal", "Reconciled", "created rg1")]


async def test_unchanged_fields_are_not_patched(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    first, _ = await run(Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []))
    again, _ = await run(
        Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []), status=dict(first.status)
    )
    assert dict(again.status) == {}


async def test_a_waiting_pass_asks_kopf_to_retry_after_the_settings_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = record_events(monkeypatch)
    outcome = Outcome.waiting(reasons.NAME_CONFLICT, "taken", retry=Wait.SLOW)
    with pytest.raises(kopf.TemporaryError) as caught:
        await run(outcome, rt=runtime(delays=RetryDelays(slow=42)))
    assert caught.value.delay == 42
    assert [(e.reason, e.message) for e in events.posted] == [("NameConflict", "taken")]


async def test_the_drift_timer_only_records(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    patch, outcome = await run(Outcome.waiting(reasons.PLACING, "placing"), raise_for_retry=False)
    assert not outcome.ready and condition(patch, "Ready")["reason"] == "Placing"
    assert "observedGeneration" not in patch.status


async def test_a_backend_failure_is_a_condition_a_warning_and_a_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = record_events(monkeypatch)
    with pytest.raises(kopf.TemporaryError) as caught:
        await run(BackendUnavailable(Backend.LINSTOR, "no controller answered"), retry=2)
    assert caught.value.delay is not None and 4.0 <= caught.value.delay <= 8.0  # base 2 * 2**2, jittered
    assert [(e.type, e.reason) for e in events.posted] == [("Warning", "BackendUnavailable")]


async def test_a_failure_on_a_converged_object_keeps_ready_and_reports_in_synced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record_events(monkeypatch)
    converged, _ = await run(Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []))
    status = {**converged.status}
    patch, _ = await run(BackendUnavailable(Backend.LINSTOR, "down"), status=status, raise_for_retry=False)
    assert condition(patch, "Ready")["status"] == "True"
    synced = condition(patch, "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "BackendUnavailable")


async def test_an_unexpected_error_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    patch, outcome = await run(ValueError("boom"), raise_for_retry=False)
    assert outcome.reason == "InternalError" and "ValueError: boom" in outcome.message
    assert condition(patch, "Ready")["reason"] == "InternalError"


async def test_deleting_reports_deleting_and_not_the_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    patch, outcome = await run(Outcome.done("gone", None, []), deleting=True)
    ready = condition(patch, "Ready")
    assert outcome.ready and (ready["status"], ready["reason"]) == ("False", "Deleting")
    assert "observedGeneration" not in patch.status


async def test_a_status_of_another_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    with pytest.raises(TypeError, match="SnapshotStatus"):
        await run(Outcome.done("ok", SnapshotStatus(linstor_name="s"), []))


async def test_passes_of_one_object_never_overlap(monkeypatch: pytest.MonkeyPatch) -> None:
    record_events(monkeypatch)
    rt = runtime()
    active, most = 0, 0

    async def step() -> Outcome:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.01)
        active -= 1
        return Outcome.done("ok", None, [])

    async def one() -> None:
        await run_pass(
            kind="ResourceGroup",
            status_model=ResourceGroupStatus,
            backend=Backend.LINSTOR,
            runtime=rt,
            body=body(),
            patch=kopf.Patch(),
            status={},
            generation=1,
            run=step,
        )

    await asyncio.gather(*(one() for _ in range(5)))
    assert most == 1


async def test_backend_warnings_are_warning_events_and_reach_the_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = record_events(monkeypatch)
    outcome = Outcome.done("in place", None, [])
    outcome.warnings = ["No active connection to satellite 'n2'."]
    patch, _ = await run(outcome, status={"conditions": []})
    assert (
        condition(patch, "Ready")["message"] == "in place (warnings: No active connection to satellite 'n2'.)"
    )
    assert ("Warning", "BackendWarning", "No active connection to satellite 'n2'.") in [
        (e.type, e.reason, e.message) for e in events.posted
    ]


async def test_degraded_is_a_condition_and_one_warning_per_reason_then_cleared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = record_events(monkeypatch)
    sick = Outcome.done("usable", None, [], degraded=Degradation(reasons.SYNCING, "syncing: n2 10%"))
    first, _ = await run(sick)
    degraded = condition(first, "Degraded")
    assert (degraded["status"], degraded["reason"], degraded["message"]) == (
        "True",
        "Syncing",
        "syncing: n2 10%",
    )
    assert [e.reason for e in events.posted if e.type == "Warning"] == ["Syncing"]
    later = Outcome.done("usable", None, [], degraded=Degradation(reasons.SYNCING, "syncing: n2 60%"))
    second, _ = await run(later, status=dict(first.status))
    assert condition(second, "Degraded")["message"] == "syncing: n2 60%"
    assert [e.reason for e in events.posted if e.type == "Warning"] == ["Syncing"]  # not again for progress
    healed, _ = await run(Outcome.done("usable", None, []), status={**first.status, **second.status})
    assert (condition(healed, "Degraded")["status"], condition(healed, "Degraded")["reason"]) == (
        "False",
        "Healthy",
    )
    # A kind that never reports health never gets the condition.
    plain, _ = await run(Outcome.done("in place", None, []))
    assert get_condition(plain.status["conditions"], "Degraded") is None
