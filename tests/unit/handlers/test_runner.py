"""One pass through the runner: what it patches into status, the conditions, the Events and the
retry it asks kopf for. (What crosses the API server is covered in tests/e2e.)"""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest
from fakes import Events, body, runtime

from stratum.api.linstor import ResourceGroupStatus, SnapshotStatus
from stratum.clients.errors import Backend, BackendUnavailable
from stratum.clients.maas.errors import MaasForbidden
from stratum.clients.shared import SharedReads, current, guard_write
from stratum.handlers.conditions import get_condition
from stratum.handlers.runner import DriftReads, Pass, Superseded, drift_reads, run_pass
from stratum.handlers.runtime import Runtime
from stratum.handlers.settings import OperatorSettings, RetryDelays
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Degradation, Outcome, Wait


async def run(
    outcome: Outcome | Exception,
    *,
    status: dict[str, Any] | None = None,
    generation: int = 1,
    rt: Runtime | None = None,
    events: Events | None = None,
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
        runtime=rt or runtime(events),
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


async def test_a_converged_pass_writes_its_status_fields_conditions_and_generation() -> None:
    events = Events()
    status = ResourceGroupStatus(linstor_name="rg1", max_volume_size=None)
    before = {"maxVolumeSize": "1Gi"}
    patch, outcome = await run(
        Outcome.done("in place", status, ["created rg1"]), status=before, generation=3, events=events
    )
    assert outcome.ready
    assert patch.status["linstorName"] == "rg1"
    assert patch.status["maxVolumeSize"] is None  # set to None: removed from status
    assert "maxVolumeSizeCandidates" not in patch.status  # not set: left alone
    assert patch.status["observedGeneration"] == 3
    ready, synced = condition(patch, "Ready"), condition(patch, "Synced")
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == ("True", "Ready", 3)
    assert (synced["status"], synced["reason"]) == ("True", "Reconciled")
    assert [(e.type, e.reason, e.message) for e in events.posted] == [("Normal", "Reconciled", "created rg1")]


async def test_unchanged_fields_are_not_patched() -> None:
    first, _ = await run(Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []))
    again, _ = await run(
        Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []), status=dict(first.status)
    )
    assert dict(again.status) == {}


async def test_kopfs_state_in_status_is_left_to_kopf() -> None:
    """status.kopf (kopf's progress and diff base, handlers/persistence.py) shares the status
    PATCH with the pass: the runner neither writes nor removes it."""
    kopf_state = {"progress": {"reconcile_resourcegroup": {"retries": 1}}, "last-handled-configuration": "{}"}
    patch, _ = await run(
        Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []),
        status={"linstorName": "old", "kopf": kopf_state},
    )
    assert patch.status["linstorName"] == "rg1"
    assert "kopf" not in patch.status


async def test_a_waiting_pass_asks_kopf_to_retry_after_the_settings_delay() -> None:
    events = Events()
    outcome = Outcome.waiting(reasons.NAME_CONFLICT, "taken", retry=Wait.SLOW)
    with pytest.raises(kopf.TemporaryError) as caught:
        await run(outcome, rt=runtime(events, delays=RetryDelays(slow=42)))
    assert caught.value.delay == 42
    assert [(e.reason, e.message) for e in events.posted] == [("NameConflict", "taken")]


async def test_the_drift_timer_only_records() -> None:
    patch, outcome = await run(Outcome.waiting(reasons.PLACING, "placing"), raise_for_retry=False)
    assert not outcome.ready and condition(patch, "Ready")["reason"] == "Placing"


async def test_a_backend_failure_is_a_condition_a_warning_and_a_backoff() -> None:
    events = Events()
    with pytest.raises(kopf.TemporaryError) as caught:
        await run(BackendUnavailable(Backend.LINSTOR, "no controller answered"), retry=2, events=events)
    assert caught.value.delay is not None and 4.0 <= caught.value.delay <= 8.0  # base 2 * 2**2, jittered
    assert [(e.type, e.reason) for e in events.posted] == [("Warning", "BackendUnavailable")]


async def test_a_failure_on_a_converged_object_keeps_ready_and_reports_in_synced() -> None:
    converged, _ = await run(Outcome.done("ok", ResourceGroupStatus(linstor_name="rg1"), []))
    status = {**converged.status}
    patch, _ = await run(BackendUnavailable(Backend.LINSTOR, "down"), status=status, raise_for_retry=False)
    assert condition(patch, "Ready")["status"] == "True"
    synced = condition(patch, "Synced")
    assert (synced["status"], synced["reason"]) == ("False", "BackendUnavailable")


async def test_an_unexpected_error_is_an_internal_error() -> None:
    patch, outcome = await run(ValueError("boom"), raise_for_retry=False)
    assert outcome.reason == "InternalError" and "ValueError: boom" in outcome.message
    assert condition(patch, "Ready")["reason"] == "InternalError"


async def test_deleting_reports_deleting() -> None:
    patch, outcome = await run(Outcome.done("gone", None, []), deleting=True)
    ready = condition(patch, "Ready")
    assert outcome.ready and (ready["status"], ready["reason"]) == ("False", "Deleting")


async def test_a_delete_pass_that_is_done_after_waiting_posts_what_it_changed_not_ready() -> None:
    events = Events()
    waiting = Outcome(False, reasons.IN_USE, "the group still has resources")
    first, _ = await run(waiting, deleting=True, raise_for_retry=False, events=events)
    done = Outcome.done("released", None, ["deleted resource group rg1"])
    await run(done, status=dict(first.status), deleting=True, events=events)
    assert [(e.type, e.reason) for e in events.posted] == [("Normal", "InUse"), ("Normal", "Reconciled")]


async def test_a_status_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="SnapshotStatus"):
        await run(Outcome.done("ok", SnapshotStatus(linstor_name="s"), []))


async def group_pass(rt: Runtime, run: Pass, reads: DriftReads | None = None) -> Outcome:
    """A ResourceGroup's pass: a change handler's, or with `reads` a drift pass (no retry)."""
    return await run_pass(
        kind="ResourceGroup",
        status_model=ResourceGroupStatus,
        backend=Backend.LINSTOR,
        runtime=rt,
        body=body(),
        patch=kopf.Patch(),
        status={},
        generation=1,
        run=run,
        raise_for_retry=reads is None,
        shared_reads=reads,
    )


async def test_passes_of_one_object_never_overlap() -> None:
    rt = runtime()
    active, most = 0, 0

    async def step() -> Outcome:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.01)
        active -= 1
        return Outcome.done("ok", None, [])

    await asyncio.gather(*(group_pass(rt, step) for _ in range(5)))
    assert most == 1


# ------------------------------------------------------------------ kstatus conditions and Events


def pair(patch: kopf.Patch) -> tuple[str, str]:
    return condition(patch, "Reconciling")["status"], condition(patch, "Stalled")["status"]


async def test_observed_generation_is_written_on_every_pass_failed_ones_too() -> None:
    converged, _ = await run(Outcome.done("ok", None, []), generation=1)
    assert converged.status["observedGeneration"] == 1
    status = dict(converged.status)
    for failure in (BackendUnavailable(Backend.LINSTOR, "down"), ValueError("bug")):
        patch, _ = await run(failure, status=status, generation=2, raise_for_retry=False)
        assert patch.status["observedGeneration"] == 2
        assert condition(patch, "Ready")["status"] == "False"  # not converged at generation 2
        assert pair(patch) == ("True", "False")  # still working toward it (kstatus: InProgress)


async def test_a_converged_object_is_neither_reconciling_nor_stalled() -> None:
    patch, _ = await run(Outcome.done("ok", None, []), generation=4)
    assert pair(patch) == ("False", "False")  # with observedGeneration 4: kstatus Current
    assert condition(patch, "Reconciling")["observedGeneration"] == 4


async def test_a_wait_reconciles_and_a_state_that_needs_a_person_stalls() -> None:
    events = Events()
    waiting, _ = await run(Outcome.waiting(reasons.PLACING, "placing"), raise_for_retry=False, events=events)
    assert pair(waiting) == ("True", "False")
    assert condition(waiting, "Reconciling")["reason"] == "Placing"
    stalled, _ = await run(
        Outcome.waiting(reasons.DEVICE_NOT_FOUND, "no sdz"), raise_for_retry=False, events=events
    )
    assert pair(stalled) == ("False", "True")  # never both: kstatus would read the first True
    assert condition(stalled, "Stalled")["reason"] == "DeviceNotFound"
    assert [(e.type, e.reason) for e in events.posted] == [
        ("Normal", "Placing"),
        ("Warning", "DeviceNotFound"),
    ]


async def test_a_refusal_that_needs_a_person_stalls_even_as_a_failure() -> None:
    forbidden = MaasForbidden(403, "RAID changes need a MAAS administrator", {})
    patch, outcome = await run(forbidden, raise_for_retry=False)
    assert outcome.reason == "Forbidden" and pair(patch) == ("False", "True")


async def test_a_stalled_object_recovers_when_the_spec_is_fixed() -> None:
    stalled, _ = await run(Outcome.waiting(reasons.NAME_CONFLICT, "taken"), raise_for_retry=False)
    patch, _ = await run(Outcome.done("ok", None, []), status=dict(stalled.status), generation=2)
    assert condition(patch, "Ready")["status"] == "True" and pair(patch) == ("False", "False")


async def test_a_failed_drift_pass_on_a_converged_object_leaves_the_pair_alone() -> None:
    converged, _ = await run(Outcome.done("ok", None, []))
    status = dict(converged.status)
    patch, _ = await run(BackendUnavailable(Backend.LINSTOR, "down"), status=status, raise_for_retry=False)
    assert condition(patch, "Ready")["status"] == "True" and pair(patch) == ("False", "False")
    assert condition(patch, "Synced")["status"] == "False"


async def test_ready_but_progressing_keeps_ready_reconciling_and_looks_again() -> None:
    outcome = Outcome.done("replica on n3 syncing", None, [], progressing=True)
    with pytest.raises(kopf.TemporaryError) as caught:
        await run(outcome)
    assert caught.value.delay == OperatorSettings().delays.wait
    patch, _ = await run(outcome, raise_for_retry=False)
    assert condition(patch, "Ready")["status"] == "True"
    assert pair(patch) == ("True", "False") and condition(patch, "Reconciling")["reason"] == "Progressing"


async def test_degraded_is_reported_with_a_warning_then_cleared() -> None:
    events = Events()
    sick = Outcome.done("usable", None, [], degraded=Degradation(reasons.NOT_CONNECTED, "n2 is offline"))
    patch, _ = await run(sick, events=events)
    degraded = condition(patch, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "NotConnected")
    assert degraded["message"] == "n2 is offline"
    assert ("Warning", "NotConnected") in [(e.type, e.reason) for e in events.posted]
    healed, _ = await run(Outcome.done("usable", None, []), status=dict(patch.status))
    healthy = condition(healed, "Degraded")
    assert (healthy["status"], healthy["reason"]) == ("False", "Healthy")
    never, _ = await run(Outcome.done("usable", None, []))
    assert "Degraded" not in {c["type"] for c in never.status["conditions"]}


async def test_one_event_per_state_change_not_per_action() -> None:
    events = Events()
    created = Outcome.done("in place", None, ["created rg1", "created volume group 0 of rg1"])
    await run(created, events=events)
    assert [(e.reason, e.message) for e in events.posted] == [
        ("Reconciled", "created rg1; created volume group 0 of rg1")
    ]
    # After a wait, the pass that creates and becomes Ready says both in one Ready Event.
    events.posted.clear()
    waiting = Outcome.waiting(reasons.WAITING_FOR_RESOURCE_GROUP, "rg not Ready")
    waited, _ = await run(waiting, events=events, raise_for_retry=False)
    await run(Outcome.done("in place", None, ["created r1"]), status=dict(waited.status), events=events)
    assert [(e.reason, e.message) for e in events.posted] == [
        ("WaitingForResourceGroup", "rg not Ready"),
        ("Ready", "created r1; in place"),
    ]


async def test_a_drift_pass_reads_shared_data_and_one_about_to_write_runs_again_on_fresh_reads() -> None:
    rt = runtime()
    rt.fresh_passes["uid-obj"] = 12.5
    seen: list[SharedReads | None] = []

    async def drift() -> Outcome:
        seen.append(current())
        if current() is not None:
            guard_write(Backend.LINSTOR, "PUT", "/v1/resource-groups/rg1")  # drift found: fix it
        return Outcome.done("corrected", None, ["corrected drift"])

    outcome = await group_pass(rt, drift, DriftReads(30))
    assert outcome.actions == ["corrected drift"]
    first, second = seen
    assert first == SharedReads(max_age=30, not_before=12.5, refresh_budget=2)
    assert second is None  # the write happened on fresh reads
    assert rt.fresh_passes["uid-obj"] > 12.5  # and counts as the object's last fresh pass


async def test_a_drift_pass_about_to_write_first_confirms_its_object() -> None:
    """The confirmation runs before the fresh reads; when it says the object moved on, the pass is
    dropped and nothing is written."""
    order: list[str] = []

    async def drift() -> Outcome:
        if current() is not None:
            order.append("shared")
            guard_write(Backend.LINSTOR, "PUT", "/v1/resource-groups/rg1")
        order.append("fresh: wrote")
        return Outcome.done("corrected", None, ["corrected drift"])

    def confirming(answer: Exception | None) -> DriftReads:
        async def confirm() -> None:
            order.append("confirm")
            if answer is not None:
                raise answer

        return DriftReads(30, before_writing=confirm)

    def handled() -> Runtime:
        rt = runtime()
        rt.fresh_passes["uid-obj"] = 0.0
        return rt

    assert (await group_pass(handled(), drift, confirming(None))).actions == ["corrected drift"]
    assert order == ["shared", "confirm", "fresh: wrote"]
    order.clear()
    with pytest.raises(Superseded):
        await group_pass(handled(), drift, confirming(Superseded("obj changed after it was listed")))
    assert order == ["shared", "confirm"]


def test_a_sweep_reads_the_lists_again_and_never_before_the_objects_last_fresh_pass() -> None:
    rt = runtime()
    rt.fresh_passes["uid-obj"] = 12.5
    assert drift_reads(rt, "uid-obj", DriftReads(60, since=70.0)) == SharedReads(
        max_age=60, not_before=12.5, refetch_before=70.0, refresh_budget=2
    )
    assert drift_reads(rt, "uid-new", DriftReads(60)).not_before == float("-inf")


async def test_backend_warnings_are_warning_events_and_reach_the_message() -> None:
    events = Events()
    outcome = Outcome.done("in place", None, [])
    outcome.warnings = ["No active connection to satellite 'n2'."]
    patch, _ = await run(outcome, status={"conditions": []}, events=events)
    assert (
        condition(patch, "Ready")["message"] == "in place (warnings: No active connection to satellite 'n2'.)"
    )
    assert ("Warning", "BackendWarning", "No active connection to satellite 'n2'.") in [
        (e.type, e.reason, e.message) for e in events.posted
    ]


async def test_a_degraded_reason_is_announced_once_not_on_every_progress_step() -> None:
    events = Events()
    sick = Outcome.done("usable", None, [], degraded=Degradation(reasons.SYNCING, "syncing: n2 10%"))
    first, _ = await run(sick, events=events)
    later = Outcome.done("usable", None, [], degraded=Degradation(reasons.SYNCING, "syncing: n2 60%"))
    second, _ = await run(later, status=dict(first.status), events=events)
    assert condition(second, "Degraded")["message"] == "syncing: n2 60%"
    assert [e.reason for e in events.posted if e.type == "Warning"] == ["Syncing"]


async def test_a_drift_pass_that_changed_nothing_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Every object, every interval: at 11,100 objects an INFO line each was 10,000 a minute. A
    drift pass that wrote status says which fields (what a status write while idle was)."""
    caplog.set_level("DEBUG", logger="stratum")
    status = ResourceGroupStatus(linstor_name="rg1")
    first, _ = await run(Outcome.done("in place", status, []), raise_for_retry=False)
    settled = dict(first.status)
    await run(Outcome.done("in place", status, []), status=settled, raise_for_retry=False)
    await run(Outcome.done("in place", status, ["set a property"]), status=settled, raise_for_retry=False)
    await run(Outcome.done("in place", status, []), status=settled)
    levels = [(r.levelname, r.getMessage().split(": ", 1)[1]) for r in caplog.records if r.name == "stratum"]
    assert levels == [
        ("INFO", "Ready (no change; status: conditions, linstorName, observedGeneration)"),
        ("DEBUG", "Ready (no change)"),
        ("INFO", "Ready (set a property)"),
        ("INFO", "Ready (no change)"),
    ]
