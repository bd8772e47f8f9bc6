"""Rollback preconditions and the once-per-requestId rule; the controller version gate."""

from __future__ import annotations

from typing import Any

import pytest

from stratum.api.linstor import RollbackSent, RollbackStatus
from stratum.clients.linstor.models import ControllerVersion, Resource, Snapshot
from stratum.clients.linstor.version import Controller
from stratum.reconcile import reasons
from stratum.reconcile.linstor.rollback import Refusal, precondition, uncertain

NEW = Controller("1.33.2", "1.27.0")
OLD = Controller("1.30.1", "1.24.0")


def rsc(node: str, *, online: bool = True, in_use: bool = False) -> Resource:
    body: dict[str, Any] = {"name": "r1", "node_name": node}
    if online:
        body["state"] = {"in_use": in_use}
    return Resource.model_validate(body)


def snap(name: str, taken: int, flags: tuple[str, ...] = ("SUCCESSFUL",)) -> Snapshot:
    return Snapshot.model_validate(
        {
            "name": name,
            "resource_name": "r1",
            "flags": list(flags),
            "snapshots": [{"node_name": "n1", "create_timestamp": taken}],
        }
    )


def check(
    snapshot: Snapshot | None, resources: list[Resource], controller: Controller = NEW, **kw: Any
) -> Refusal | None:
    return precondition(
        request_id="1",
        snapshot=snapshot,
        snapshot_name="s1",
        resources=resources,
        all_snapshots=kw.get("all_snapshots", []),
        controller=controller,
    )


def test_all_preconditions_met() -> None:
    assert check(snap("s1", 1), [rsc("n1"), rsc("n2")]) is None


def test_a_snapshot_not_successful_waits() -> None:
    refusal = check(snap("s1", 1, ("INCOMPLETE",)), [rsc("n1")])
    assert refusal is not None and refusal.reason == reasons.WAITING_FOR_SNAPSHOT
    assert "INCOMPLETE" in refusal.message
    missing = check(None, [rsc("n1")])
    assert missing is not None and "does not exist" in missing.message


def test_an_offline_satellite_is_named() -> None:
    refusal = check(snap("s1", 1), [rsc("n1"), rsc("n2", online=False)])
    assert refusal is not None and refusal.reason == reasons.NOT_CONNECTED and "n2" in refusal.message


def test_in_use_is_named_with_what_to_do() -> None:
    refusal = check(snap("s1", 1), [rsc("n1", in_use=True), rsc("n2")])
    assert refusal is not None and refusal.reason == reasons.IN_USE
    assert "n1" in refusal.message and "unmount" in refusal.message


def test_old_controllers_roll_back_only_to_the_newest_snapshot() -> None:
    older, newer = snap("s1", 1), snap("s2", 2)
    refusal = check(older, [rsc("n1")], OLD, all_snapshots=[older, newer])
    assert refusal is not None and refusal.reason == reasons.ROLLBACK_REFUSED and refusal.reason.stalls
    assert "s2" in refusal.message and "1.31" in refusal.message
    assert check(newer, [rsc("n1")], OLD, all_snapshots=[older, newer]) is None
    assert check(older, [rsc("n1")], NEW, all_snapshots=[older, newer]) is None


def test_an_intent_without_completion_is_uncertain_only_for_its_request() -> None:
    sent = RollbackSent(request_id="7", snapshot="s1", sent_at="t")
    assert uncertain(sent, None, "7")
    assert uncertain(sent, RollbackStatus(request_id="6", snapshot="s0", completed_at="t"), "7")
    assert not uncertain(sent, RollbackStatus(request_id="7", snapshot="s1", completed_at="t"), "7")
    assert not uncertain(sent, None, "8")  # a new requestId asks again


@pytest.mark.parametrize(
    ("version", "rest", "supported", "progress", "any_snapshot"),
    [
        ("1.29.2", "1.23.0", False, False, False),
        ("1.30.0", "1.24.0", True, False, False),
        ("1.31.0", "1.25.0", True, True, True),
        ("1.34.0-rc.1", "1.28.0", True, True, True),
        ("2.0.0", "2.0.0", False, True, True),
    ],
)
def test_controller_versions(
    version: str, rest: str, supported: bool, progress: bool, any_snapshot: bool
) -> None:
    controller = Controller.of(ControllerVersion(version=version, rest_api_version=rest))
    assert controller.supported is supported
    assert controller.reports_sync_progress is progress
    assert controller.rollback_to_any_snapshot is any_snapshot
    assert "REST API 1.x >= 1.24.0" in controller.refusal()
