"""Ready and Synced: what a pass does to the conditions."""

from __future__ import annotations

from typing import Any

from stratum.handlers.conditions import (
    converged_generation,
    degraded_conditions,
    get_condition,
    next_conditions,
    progress_conditions,
    set_condition,
)
from stratum.reconcile import reasons

T0 = "2026-01-01T00:00:00Z"


def converged() -> list[dict[str, Any]]:
    return set_condition(
        None, type_="Ready", status="True", reason="Ready", message="ok", generation=3, now=T0
    )


def test_transition_time_moves_only_when_the_status_flips() -> None:
    same = set_condition(
        converged(),
        type_="Ready",
        status="True",
        reason="Ready",
        message="still ok",
        generation=3,
        now="2026-02-02T00:00:00Z",
    )
    assert same[0]["lastTransitionTime"] == T0 and same[0]["message"] == "still ok"
    flipped = set_condition(
        converged(),
        type_="Ready",
        status="False",
        reason="X",
        message="m",
        generation=3,
        now="2026-02-02T00:00:00Z",
    )
    assert flipped[0]["lastTransitionTime"] == "2026-02-02T00:00:00Z"


def test_a_failed_drift_pass_keeps_ready_and_reports_in_synced() -> None:
    new = next_conditions(
        converged(),
        generation=3,
        observed_generation=3,
        ready=False,
        reason="BackendUnavailable",
        message="down",
        failed=True,
    )
    assert get_condition(new, "Ready") == converged()[0]
    synced = get_condition(new, "Synced")
    assert synced is not None and (synced["status"], synced["reason"]) == ("False", "BackendUnavailable")


def test_a_failure_after_a_spec_change_is_not_ready() -> None:
    new = next_conditions(
        converged(),
        generation=4,
        observed_generation=3,
        ready=False,
        reason="NotEnoughNodes",
        message="add nodes",
        failed=True,
    )
    ready = get_condition(new, "Ready")
    assert ready is not None and (ready["status"], ready["reason"]) == ("False", "NotEnoughNodes")
    assert ready["observedGeneration"] == 4


def test_a_wait_is_not_ready_but_synced() -> None:
    new = next_conditions(
        None,
        generation=1,
        observed_generation=None,
        ready=False,
        reason="WaitingForResourceGroup",
        message="m",
        failed=False,
    )
    assert [(c["type"], c["status"]) for c in new] == [("Ready", "False"), ("Synced", "True")]


def test_success_sets_both() -> None:
    new = next_conditions(
        None, generation=1, observed_generation=None, ready=True, reason="Ready", message="ok", failed=False
    )
    assert [(c["type"], c["status"], c["reason"]) for c in new] == [
        ("Ready", "True", "Ready"),
        ("Synced", "True", "Reconciled"),
    ]


# ------------------------------------------------------------------ Reconciling / Stalled / Degraded


def statuses(conditions: list[dict[str, Any]]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in conditions}


def test_the_kstatus_pair_per_state() -> None:
    args: dict[str, Any] = {"generation": 2, "reason": reasons.PLACING, "message": "m"}
    working = progress_conditions(None, working=True, stalled=False, **args)
    assert statuses(working) == {"Reconciling": "True", "Stalled": "False"}
    stalled = progress_conditions(working, working=True, stalled=True, **args)
    assert statuses(stalled) == {"Reconciling": "False", "Stalled": "True"}
    done = progress_conditions(stalled, working=False, stalled=False, **args)
    assert statuses(done) == {"Reconciling": "False", "Stalled": "False"}
    assert all(c["observedGeneration"] == 2 for c in done)


def test_the_pair_keeps_other_conditions_and_transition_times() -> None:
    pair = progress_conditions(
        converged(), generation=3, working=False, stalled=False, reason=reasons.READY, message="ok"
    )
    assert statuses(pair) == {"Ready": "True", "Reconciling": "False", "Stalled": "False"}
    again = progress_conditions(
        pair, generation=3, working=False, stalled=False, reason=reasons.READY, message="still ok"
    )
    assert [c["lastTransitionTime"] for c in again] == [c["lastTransitionTime"] for c in pair]


def test_degraded_appears_only_once_reported_and_clears() -> None:
    assert degraded_conditions(converged(), generation=3, degraded=None) == converged()
    sick = degraded_conditions(converged(), generation=3, degraded=(reasons.NOT_CONNECTED, "n2 offline"))
    assert statuses(sick)["Degraded"] == "True"
    well = degraded_conditions(sick, generation=3, degraded=None)
    cond = get_condition(well, "Degraded")
    assert cond is not None and (cond["status"], cond["reason"]) == ("False", "Healthy")


def test_the_converged_generation_is_the_one_ready_was_true_at() -> None:
    assert converged_generation(converged()) == 3
    assert converged_generation(None) is None
    not_ready = set_condition(None, type_="Ready", status="False", reason="X", message="m", generation=3)
    assert converged_generation(not_ready) is None
