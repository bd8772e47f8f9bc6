"""DRBD states over time as the REST API reports them.

Facts: satellite/.../layer/drbd/DrbdLayer.java (createMetaData: initial UpToDate winner, skip
initial sync), server/.../utils/layer/DrbdLayerUtils.java (skipInitSync: thin or ZFS unless
ForceInitialSync), api/rest/v1/serializer/Json.java (apiToVolumeState, connections),
drbdstate/{DiskState,ReplState}.java (labels), CHANGELOG-OPENAPI.md 1.25.0 (replication_states).
"""

from __future__ import annotations

import time
from typing import Any

from lifecycle_helpers import FakeClock, connections, create_on, disk_states, replication
from linstor_helpers import GIB, Api, node, pool, three_nodes


def thick_nodes(version: str = "1.33.2") -> dict[str, Any]:
    thick = pool("thick", "LVM")
    return {"version": version, "nodes": [node("n1", thick), node("n2", thick), node("n3", thick)]}


def test_new_thin_resource_skips_initial_sync_DrbdLayerUtils_skipInitSync(start_sim: Any) -> None:
    _, api = start_sim(three_nodes())
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 30}))
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 2}}))
    states = disk_states(api, "r1")
    diskful = {n for n, s in states.items() if s == "UpToDate"}
    assert len(diskful) == 2 and list(states.values()).count("Diskless") == 1
    for n in diskful:
        peers = connections(api, "r1", n)
        assert len(peers) == 2 and all(
            p == {"connected": True, "message": "Connected"} for p in peers.values()
        )
        assert all(r == {"replication_state": "Established"} for r in replication(api, "r1", n).values())
    tiebreaker = next(n for n, s in states.items() if s == "Diskless")
    rsc = api.resources("r1")[tiebreaker]
    assert rsc["flags"] == ["DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"]
    assert rsc["state"] == {"in_use": False}
    vd = api.get("/v1/resource-definitions/r1/volume-definitions/0").body
    assert "DRBD_INITIALIZED" in vd["flags"]


def test_new_thick_resource_fully_syncs_from_the_winner_DrbdLayer_createMetaData(start_sim: Any) -> None:
    sim, api = start_sim(thick_nodes())
    clock = FakeClock()
    sim.state.clock = clock
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 10}))
    api.rd("r1", GIB)
    reply = api.ok(create_on(api, "r1", "n1", "n2", pool="thick"))
    # n1 wins the UpToDate race (first in the request); n2 syncs, yet both are "ready": a
    # SyncTarget has access to UpToDate data through its peer (ResourceState.isReady).
    ready = [e["message"] for e in reply.entries if str(e["message"]).endswith("ready")]
    assert ready == ["Resource 'r1' on 'n1' ready", "Resource 'r1' on 'n2' ready"]
    # the second diskful replica brings the quorum tiebreaker (CtrlRscAutoTieBreakerHelper)
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "Inconsistent", "n3": "Diskless"}
    clock.advance(4)
    target = replication(api, "r1", "n2")["n1"]
    source = replication(api, "r1", "n1")["n2"]
    assert target == {"replication_state": "SyncTarget", "done_percentage": 40.0}
    assert source == {"replication_state": "SyncSource", "done_percentage": 40.0}
    clock.advance(6)
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "UpToDate", "n3": "Diskless"}
    established = {"replication_state": "Established"}
    assert replication(api, "r1", "n2") == {"n1": established, "n3": established}


def test_thick_replicas_placed_together_one_winner_others_sync(start_sim: Any) -> None:
    sim, api = start_sim(thick_nodes())
    sim.state.clock = FakeClock()
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 10}))
    api.rd("r1", GIB)
    api.ok(
        api.post(
            "/v1/resource-definitions/r1/autoplace",
            {"select_filter": {"place_count": 3, "storage_pool": "thick"}},
        )
    )
    states = sorted(disk_states(api, "r1").values())
    assert states == ["Inconsistent", "Inconsistent", "UpToDate"]


def test_force_initial_sync_makes_thin_replicas_sync(start_sim: Any) -> None:
    sim, api = start_sim(three_nodes())
    sim.state.clock = FakeClock()
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 10}))
    api.ok(
        api.post(
            "/v1/resource-definitions",
            {"resource_definition": {"name": "r1", "props": {"DrbdOptions/ForceInitialSync": "true"}}},
        )
    )
    api.ok(
        api.post("/v1/resource-definitions/r1/volume-definitions", {"volume_definition": {"size_kib": GIB}})
    )
    api.ok(create_on(api, "r1", "n1", "n2"))
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "Inconsistent", "n3": "Diskless"}


def test_replica_added_to_existing_data_syncs_then_uptodate_real_time(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1"))
    assert api.get("/_sim/drbd").body == {"syncSeconds": 0.0, "resizeSeconds": 0.0}
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 1.5}))
    api.ok(create_on(api, "r1", "n2"))
    assert disk_states(api, "r1")["n2"] == "Inconsistent"
    first = replication(api, "r1", "n2")["n1"]
    time.sleep(0.5)
    second = replication(api, "r1", "n2")["n1"]
    assert first["replication_state"] == second["replication_state"] == "SyncTarget"
    assert 0.0 <= first["done_percentage"] < second["done_percentage"] < 100.0
    time.sleep(1.2)
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "UpToDate", "n3": "Diskless"}


def test_toggle_diskless_to_diskful_resyncs_and_seed_sync_seconds(start_sim: Any) -> None:
    sim, api = start_sim({**three_nodes(), "drbd": {"syncSeconds": 5}})
    sim.state.clock = clock = FakeClock()
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2", diskless=("n3",)))
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "UpToDate", "n3": "Diskless"}
    api.ok(api.put("/v1/resource-definitions/r1/resources/n3/toggle-disk/diskful"))
    assert disk_states(api, "r1")["n3"] == "Inconsistent"
    clock.advance(5)
    assert disk_states(api, "r1")["n3"] == "UpToDate"


def test_replication_states_only_from_rest_1_25(start_sim: Any) -> None:
    _, api = start_sim(three_nodes("1.30.0"))
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 2}}))
    for rsc in api.resources("r1").values():
        assert set(rsc["volumes"][0]["state"]) == {"disk_state"}
