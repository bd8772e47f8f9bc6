"""The lifecycle behaviours as python-linstor sees them (states, offline nodes, failures, reports)."""

from __future__ import annotations

from typing import Any

import linstor
from lifecycle_helpers import FakeClock, set_online
from linstor_helpers import GIB, Api

from stratum.sim.linstor import LinstorSim


def codes(replies: list[Any]) -> list[int]:
    return [r.ret_code & 0x7FFF for r in replies]


def place(lin: linstor.Linstor, *nodes: str) -> None:
    replies = lin.resource_create([linstor.ResourceData(n, "r1", storage_pool="thin") for n in nodes])
    assert linstor.Linstor.all_api_responses_no_error(replies), [str(r) for r in replies]


def volume_state(lin: linstor.Linstor, node: str) -> Any:
    rsc = next(
        r for r in lin.resource_list_raise(filter_by_resources=["r1"]).resources if r.node_name == node
    )
    return rsc.volumes[0].state


def test_sync_progress_and_in_use_through_python_linstor(
    sim: LinstorSim, api: Api, lin: linstor.Linstor
) -> None:
    sim.state.clock = clock = FakeClock()
    api.rd("r1", GIB)
    place(lin, "n1")
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 4}))
    place(lin, "n2")
    clock.advance(1)
    state = volume_state(lin, "n2")
    assert state.disk_state == "Inconsistent"
    sync = state.replication_states["n1"]
    assert sync.replication_state == "SyncTarget" and sync.done_percentage == 25.0
    clock.advance(3)
    assert volume_state(lin, "n2").disk_state == "UpToDate"
    sim.set_in_use("r1", "n1")
    states = {
        s.node_name: s.in_use for s in lin.resource_list_raise(filter_by_resources=["r1"]).resource_states
    }
    assert states == {"n1": True, "n2": False, "n3": False}


def test_offline_node_and_refusals_through_python_linstor(
    sim: LinstorSim, api: Api, lin: linstor.Linstor
) -> None:
    api.rd("r1", GIB)
    place(lin, "n1", "n2")
    ok = lin.snapshot_create([], "r1", "s1")
    assert linstor.Linstor.all_api_responses_no_error(ok)
    set_online(api, "n2", False)
    nodes = {n.name: n.connection_status for n in lin.node_list_raise().nodes}
    assert nodes == {"n1": "ONLINE", "n2": "OFFLINE", "n3": "ONLINE"}
    assert volume_state(lin, "n2").disk_state is None
    resize = lin.volume_dfn_modify("r1", 0, size=2 * GIB)
    assert resize[0].is_error() and codes(resize) == [974]
    rollback = lin.snapshot_rollback("r1", "s1")
    assert rollback[0].is_error() and codes(rollback) == [995]


def test_commit_then_fail_and_error_reports_through_python_linstor(api: Api, lin: linstor.Linstor) -> None:
    api.rd("r1", GIB)
    api.ok(api.post("/_sim/faults", {"commitThenFailRate": 1.0}))
    replies = lin.resource_create([linstor.ResourceData("n1", "r1", storage_pool="thin")])
    assert not linstor.Linstor.all_api_responses_no_error(replies)
    failure = next(r for r in replies if r.is_error())
    assert failure.message == "(n1) Failed to adjust DRBD resource r1"
    report_id = failure.error_report_ids[0]
    reports = lin.error_report_list(nodes=["n1"])
    assert [r.id for r in reports] == [report_id] and reports[0].node_name == "n1"
    full = lin.error_report_list(ids=[report_id], with_content=True)
    assert "Failed to adjust DRBD resource r1" in full[0].text
    api.ok(api.post("/_sim/faults", {"commitThenFailRate": 0.0}))
    assert [r.node_name for r in lin.resource_list_raise(filter_by_resources=["r1"]).resources] == ["n1"]
