"""Ready and Synced: what a pass does to the conditions."""

from __future__ import annotations

from typing import Any

from stratum.handlers.conditions import get_condition, next_conditions, set_condition

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
