"""Restore property copying, rollback via restore (v1.31+), and the RESIZE flag over time.

Facts: CtrlSnapshotRestoreApiCallHandler + CtrlPropsHelper.copy (override), the class comment and
`recreateResources` of CtrlSnapshotRollbackApiCallHandler, `ensureNoResourcesInUse` (FAIL_IN_USE
from the satellites' in_use), CtrlVlmDfnModifyApiCallHandler (`markVlmDfnResize` .. `finishResize`,
`resourceDefinitionConnected`).
"""

from __future__ import annotations

from typing import Any

from lifecycle_helpers import FakeClock, create_on, disk_states, set_online
from linstor_helpers import GIB, Api, errors, node, three_nodes


def test_restore_overrides_the_targets_props_CtrlPropsHelper_copy(api: Api) -> None:
    api.rd("src", GIB)
    api.ok(create_on(api, "src", "n1"))
    api.ok(api.put("/v1/resource-definitions/src", {"override_props": {"Aux/owner": "a", "Aux/app": "db"}}))
    api.ok(api.post("/v1/resource-definitions/src/snapshots", {"name": "s1"}))
    api.ok(
        api.post(
            "/v1/resource-definitions",
            {"resource_definition": {"name": "dst", "props": {"Aux/owner": "b", "Aux/mine": "x"}}},
        )
    )
    base = "/v1/resource-definitions/src"
    api.ok(api.post(f"{base}/snapshot-restore-volume-definition/s1", {"to_resource": "dst"}))
    reply = api.ok(api.post(f"{base}/snapshot-restore-resource/s1", {"to_resource": "dst"}))
    assert reply.status == 200
    props = api.get("/v1/resource-definitions/dst").body["props"]
    assert props["Aux/owner"] == "a" and props["Aux/app"] == "db" and props["Aux/mine"] == "x"
    assert disk_states(api, "dst") == {"n1": "UpToDate"}  # restored data: no sync


def test_rollback_recreates_replicas_on_the_snapshot_nodes(start_sim: Any) -> None:
    sim, api = start_sim(three_nodes("1.31.0"))
    sim.state.clock = clock = FakeClock()
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2", diskless=("n3",)))
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1", "nodes": ["n1"]}))
    before = {n: r["uuid"] for n, r in api.resources("r1").items()}
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 4}))
    reply = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1")
    assert reply.status == 200
    after = api.resources("r1")
    assert set(after) == {"n1", "n2", "n3"}
    assert all(after[n]["uuid"] != before[n] for n in after)  # deleted and created again
    assert api.placement("r1") == ({"n1", "n2"}, {"n3"}, set())
    # n1 holds the snapshot (restored, UpToDate); n2 did not: it joins and resyncs
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "Inconsistent", "n3": "Diskless"}
    clock.advance(4)
    assert disk_states(api, "r1") == {"n1": "UpToDate", "n2": "UpToDate", "n3": "Diskless"}


def test_rollback_refused_while_in_use_or_offline(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2"))
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    api.ok(api.post("/_sim/resources/r1/n2", {"inUse": True}))
    busy = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1")
    assert (busy.status, errors(busy.entries)) == (500, [997])
    assert busy.entries[0]["message"] == "Resource 'r1' on node 'n2' is still in use."
    api.ok(api.post("/_sim/resources/r1/n2", {"inUse": False}))
    set_online(api, "n1", False)
    away = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1")
    assert (away.status, errors(away.entries)) == (500, [995])
    assert api.post("/_sim/resources/r1/nope", {"inUse": True}).status == 404


def test_resize_sets_then_clears_the_RESIZE_flag(start_sim: Any) -> None:
    sim, api = start_sim({**three_nodes(), "drbd": {"resizeSeconds": 3}})
    sim.state.clock = clock = FakeClock()
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2"))
    path = "/v1/resource-definitions/r1/volume-definitions/0"
    api.ok(api.put(path, {"size_kib": 2 * GIB}))
    vd = api.get(path).body
    assert vd["size_kib"] == 2 * GIB and "RESIZE" in vd["flags"]
    clock.advance(2)
    assert "RESIZE" in api.get(path).body["flags"]
    set_online(api, "n2", False)
    clock.advance(5)
    assert "RESIZE" in api.get(path).body["flags"]  # n2 has not resized yet
    set_online(api, "n2", True)
    assert "RESIZE" not in api.get(path).body["flags"]
    assert api.get("/_sim/drbd").body["resizeSeconds"] == 3.0


def test_resize_without_deployed_resources_sets_no_flag(start_sim: Any) -> None:
    _, api = start_sim({"nodes": [node("n1")], "drbd": {"resizeSeconds": 30}})
    api.rd("r1", GIB)
    api.ok(api.put("/v1/resource-definitions/r1/volume-definitions/0", {"size_kib": 2 * GIB}))
    assert "RESIZE" not in api.get("/v1/resource-definitions/r1/volume-definitions/0").body.get("flags", [])
