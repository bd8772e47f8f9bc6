"""Satellites going offline and coming back, and what the controller answers meanwhile.

Facts: api/rest/v1/serializer/Json.java (no state without the satellite's report), ResponseUtils
`makeNotConnectedWarning` (WARN_NOT_CONNECTED 1002), CtrlRscCrtApiHelper `waitResourcesReady`
(ready / not connected / "did not become ready" with code 0), CtrlSnapshotCrtHelper
`warnNodeOffline`, CtrlVlmDfnModifyApiCallHandler (FAIL_NOT_ALL_UPTODATE 974),
CtrlSnapshotRollbackApiCallHandler `ensureAllSatellitesConnected` (FAIL_NOT_CONNECTED 995),
CtrlRscDeleteApiCallHandler ("marked for deletion").
"""

from __future__ import annotations

from typing import Any

from lifecycle_helpers import (
    FakeClock,
    connections,
    create_on,
    disk_states,
    messages,
    replication,
    set_online,
)
from linstor_helpers import GIB, MASK_RSC, MASK_WARN, Api, errors, node, three_nodes, warnings


def placed(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2", diskless=("n3",)))


def test_node_offline_and_back_ReconnectorTask(api: Api) -> None:
    placed(api)
    set_online(api, "n2", False)
    assert api.get("/v1/nodes/n2").body["connection_status"] == "OFFLINE"
    assert api.get("/v1/nodes/n1").body["connection_status"] == "ONLINE"
    n2 = api.resources("r1")["n2"]
    assert "state" not in n2 and "state" not in n2["volumes"][0]
    assert "connections" not in n2["layer_object"]["drbd"]
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": None, "n3": "Diskless"}
    assert connections(api, "r1", "n1")["n2"] == {"connected": False, "message": "Connecting"}
    assert connections(api, "r1", "n1")["n3"]["connected"] is True
    assert replication(api, "r1", "n1")["n2"] == {"replication_state": "Off"}
    pools = api.get("/v1/nodes/n2/storage-pools/thin").body
    assert "free_capacity" not in pools and warnings(pools["reports"]) == [1002]
    set_online(api, "n2", True)
    assert api.get("/v1/nodes/n2").body["connection_status"] == "ONLINE"
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "UpToDate", "n3": "Diskless"}
    assert connections(api, "r1", "n1")["n2"] == {"connected": True, "message": "Connected"}


def test_seed_offline_node_is_no_autoplace_candidate(start_sim: Any) -> None:
    seed = three_nodes()
    seed["nodes"][2] = {**node("n3"), "online": False}
    _, api = start_sim(seed)
    assert api.get("/v1/nodes/n3").body["connection_status"] == "OFFLINE"
    api.rd("r1", GIB)
    reply = api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 3}})
    assert reply.status == 500 and errors(reply.entries) == [996]
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 2}}))
    assert set(api.resources("r1")) == {"n1", "n2"}  # no tiebreaker: the only other node is offline


def test_create_on_offline_node_warns_not_connected(api: Api) -> None:
    placed(api)
    api.rd("r2", GIB)
    api.ok(create_on(api, "r2", "n1"))
    set_online(api, "n3", False)
    reply = create_on(api, "r2", "n3")
    assert reply.status == 201
    assert warnings(reply.entries).count(1002) == 2  # the satellite update and the ready-wait
    assert "No active connection to satellite 'n3'" in messages(reply)
    assert disk_states(api, "r2") == {"n1": "UpToDate", "n2": "Diskless", "n3": None}
    set_online(api, "n3", True)
    assert disk_states(api, "r2") == {"n1": "UpToDate", "n2": "Diskless", "n3": "UpToDate"}


def test_ready_wait_warns_when_no_uptodate_data_is_reachable(start_sim: Any) -> None:
    sim, api = start_sim()
    sim.state.clock = clock = FakeClock()
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 2}))
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1"))
    set_online(api, "n1", False)
    reply = create_on(api, "r1", "n2")
    assert reply.status == 201
    timeout = [
        e for e in reply.entries if e["ret_code"] & 0x7FFF == 0 and "did not become ready" in e["message"]
    ]
    assert len(timeout) == 1
    assert timeout[0]["ret_code"] & (MASK_WARN | MASK_RSC) == MASK_WARN | MASK_RSC
    assert timeout[0]["message"] == (
        "Resource did not become ready on node 'n2' within reasonable time, check Satellite for errors."
    )
    assert timeout[0]["obj_refs"]["Node"] == "n2"
    clock.advance(10)
    assert disk_states(api, "r1")["n2"] == "Inconsistent"  # nothing to sync from
    set_online(api, "n1", True)
    assert disk_states(api, "r1")["n2"] == "Inconsistent"
    clock.advance(2)
    assert disk_states(api, "r1")["n2"] == "UpToDate"


def test_snapshot_skips_offline_node_with_a_warning(api: Api) -> None:
    placed(api)
    set_online(api, "n2", False)
    reply = api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"})
    assert reply.status == 201
    offline = [e for e in reply.entries if e["ret_code"] & 0xC000000000000000 == MASK_WARN]
    assert [e["message"] for e in offline] == [
        "Snapshot for resource 'r1' will not be created on node 'n2' because that node is currently offline."
    ]
    assert offline[0]["ret_code"] & 0x7FFF == 0
    assert api.get("/v1/resource-definitions/r1/snapshots/s1").body["nodes"] == ["n1"]
    set_online(api, "n1", False)
    none = api.post("/v1/resource-definitions/r1/snapshots", {"name": "s2"})
    assert none.status == 500 and errors(none.entries) == [995]


def test_resize_refused_while_a_replica_is_offline_or_syncing(start_sim: Any) -> None:
    sim, api = start_sim()
    sim.state.clock = clock = FakeClock()
    placed(api)
    set_online(api, "n2", False)
    path = "/v1/resource-definitions/r1/volume-definitions/0"
    reply = api.put(path, {"size_kib": 2 * GIB})
    assert reply.status == 500 and errors(reply.entries) == [974]
    assert reply.entries[0]["message"] == "Cannot resize volume, because we have a non-UpToDate DRBD device."
    assert api.get(path).body["size_kib"] == GIB
    set_online(api, "n2", True)
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 3}))
    api.ok(api.put("/v1/resource-definitions/r1/resources/n3/toggle-disk/diskful"))
    assert errors(api.put(path, {"size_kib": 2 * GIB}).entries) == [974]
    clock.advance(3)
    api.ok(api.put(path, {"size_kib": 2 * GIB}))


def test_rollback_refused_while_a_satellite_is_offline(api: Api) -> None:
    placed(api)
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    set_online(api, "n3", False)  # diskless, not in the snapshot: still needed connected
    reply = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1")
    assert reply.status == 500 and errors(reply.entries) == [995]
    set_online(api, "n3", True)
    api.ok(api.post("/v1/resource-definitions/r1/snapshot-rollback/s1"))


def test_delete_on_offline_node_stays_pending_until_it_returns(api: Api) -> None:
    placed(api)
    set_online(api, "n2", False)
    reply = api.delete("/v1/resource-definitions/r1/resources/n2")
    assert reply.status == 200 and 1002 in warnings(reply.entries)
    assert "Resource 'r1' on node 'n2' marked for deletion." in messages(reply)
    assert "DELETE" in api.resources("r1")["n2"]["flags"]
    set_online(api, "n2", True)
    assert "n2" not in api.resources("r1")


def test_definition_delete_waits_for_offline_satellite(api: Api) -> None:
    placed(api)
    set_online(api, "n1", False)
    reply = api.delete("/v1/resource-definitions/r1")
    assert reply.status == 200 and 1002 in warnings(reply.entries)
    rd = api.get("/v1/resource-definitions/r1")
    assert rd.status == 200 and "DELETE" in rd.body["flags"]
    assert set(api.resources("r1")) == {"n1"}
    set_online(api, "n1", True)
    assert api.get("/v1/resource-definitions/r1").status == 404
    assert api.resources("r1") == {}


def test_sim_node_control_validation(api: Api) -> None:
    assert api.post("/_sim/nodes/nope", {"online": False}).status == 404
    assert api.post("/_sim/nodes/n1", ["x"]).status == 400
    assert api.post("/_sim/drbd", {"syncSeconds": -1}).status == 400


def test_returning_replica_resyncs_what_a_primary_peer_wrote(start_sim: Any) -> None:
    sim, api = start_sim({**three_nodes(), "drbd": {"syncSeconds": 2}})
    sim.state.clock = clock = FakeClock()
    placed(api)
    set_online(api, "n2", False)
    set_online(api, "n2", True)
    assert disk_states(api, "r1")["n2"] == "UpToDate"  # nobody wrote meanwhile
    api.ok(api.post("/_sim/resources/r1/n1", {"inUse": True}))
    set_online(api, "n2", False)
    set_online(api, "n2", True)
    assert disk_states(api, "r1")["n2"] == "Inconsistent"
    assert replication(api, "r1", "n1")["n2"]["replication_state"] == "SyncSource"
    clock.advance(2)
    assert disk_states(api, "r1")["n2"] == "UpToDate"
