"""Snapshots: create rules, list, delete, restore to a new definition, version-dependent rollback."""

from __future__ import annotations

from linstor_helpers import GIB, MASK_CRT, MASK_SNAPSHOT, Api, code, errors, node, pool, warnings

from stratum.sim.linstor import LinstorSim


def placed(api: Api, rd: str, count: int = 2, *sizes: int) -> None:
    api.rd(rd, *(sizes or (GIB,)))
    api.ok(api.post(f"/v1/resource-definitions/{rd}/autoplace", {"select_filter": {"place_count": count}}))


def test_create_list_and_get(api: Api) -> None:
    placed(api, "r1")
    reply = api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"})
    assert reply.status == 201
    assert reply.entries[0]["ret_code"] == MASK_CRT | MASK_SNAPSHOT | 1
    snaps = api.get("/v1/resource-definitions/r1/snapshots").body
    assert [s["name"] for s in snaps] == ["s1"]
    snap = api.get("/v1/resource-definitions/R1/snapshots/S1").body
    assert snap["resource_name"] == "r1" and snap["flags"] == ["SUCCESSFUL"]
    assert sorted(snap["nodes"]) == ["n1", "n2"]  # diskful only: the tiebreaker is skipped
    assert snap["volume_definitions"] == [{"volume_number": 0, "size_kib": GIB}]
    assert {s["node_name"] for s in snap["snapshots"]} == {"n1", "n2"}
    view = api.get("/v1/view/snapshots", resources=["r1"], nodes=["n2"]).body
    assert [s["name"] for s in view] == ["s1"]
    missing = api.get("/v1/resource-definitions/r1/snapshots/nope")
    assert (missing.status, code(missing.entries[0])) == (404, 315)
    dup = api.post("/v1/resource-definitions/r1/snapshots", {"name": "S1"})
    assert dup.entries[0]["ret_code"] == -4611686018409823742
    bad = api.post("/v1/resource-definitions/r1/snapshots", {"name": "9x"})
    assert errors(bad.entries) == [218]
    no_rd = api.post("/v1/resource-definitions/nope/snapshots", {"name": "s1"})
    assert (no_rd.status, errors(no_rd.entries)) == (404, [301])


def test_thick_pools_cannot_snapshot(start_sim) -> None:
    _, api = start_sim({"nodes": [node("n1", pool("thick", "LVM"))]})
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 1}}))
    reply = api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"})
    assert (reply.status, errors(reply.entries)) == (500, [994])
    assert reply.entries[0]["message"] == "Storage driver 'LVM' does not support snapshots."
    assert api.get("/v1/resource-definitions/r1/snapshots").body == []


def test_diskless_only_and_diskless_node(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(
        api.post(
            "/v1/resource-definitions/r1/resources",
            [{"resource": {"node_name": "n1", "flags": ["DRBD_DISKLESS"]}}],
        )
    )
    only_diskless = api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"})
    assert (only_diskless.status, errors(only_diskless.entries)) == (500, [995])
    placed(api, "r2")
    tb = next(iter(api.placement("r2")[2]))
    on_diskless = api.post("/v1/resource-definitions/r2/snapshots", {"name": "s1", "nodes": [tb]})
    assert (on_diskless.status, errors(on_diskless.entries)) == (500, [994])
    one = sorted(api.placement("r2")[0])[0]
    on_node = api.post("/v1/resource-definitions/r2/snapshots", {"name": "s2", "nodes": [one]})
    assert on_node.status == 201
    assert api.get("/v1/resource-definitions/r2/snapshots/s2").body["nodes"] == [one]


def test_definition_with_snapshots_cannot_be_deleted(api: Api) -> None:
    placed(api, "r1")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    refused = api.delete("/v1/resource-definitions/r1")
    assert (refused.status, errors(refused.entries)) == (500, [514])
    assert api.get("/v1/resource-definitions/r1").status == 200
    # Snapshots survive the deletion of all resources.
    for name in api.resources("r1"):
        api.delete(f"/v1/resource-definitions/r1/resources/{name}")
    assert api.get("/v1/resource-definitions/r1/snapshots/s1").status == 200
    api.ok(api.delete("/v1/resource-definitions/r1/snapshots/s1"))
    assert api.delete("/v1/resource-definitions/r1").status == 200


def test_delete_is_idempotent_and_per_node(api: Api) -> None:
    placed(api, "r1")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    partial = api.delete("/v1/resource-definitions/r1/snapshots/s1", nodes=["n1", "n3"])
    assert partial.status == 200 and warnings(partial.entries) == [3000]
    assert api.get("/v1/resource-definitions/r1/snapshots/s1").body["nodes"] == ["n2"]
    api.ok(api.delete("/v1/resource-definitions/r1/snapshots/s1"))
    again = api.delete("/v1/resource-definitions/r1/snapshots/s1")
    assert again.status == 200 and warnings(again.entries) == [3000]


def test_restore_into_a_new_definition(api: Api) -> None:
    placed(api, "src", 2, GIB, 2 * GIB)
    api.ok(api.put("/v1/resource-definitions/src", {"override_props": {"Aux/app": "db"}}))
    api.ok(api.post("/v1/resource-definitions/src/snapshots", {"name": "s1"}))
    missing_target = api.post(
        "/v1/resource-definitions/src/snapshot-restore-volume-definition/s1", {"to_resource": "dst"}
    )
    assert missing_target.status == 404
    api.rd("dst")
    no_vds = api.post("/v1/resource-definitions/src/snapshot-restore-resource/s1", {"to_resource": "dst"})
    assert no_vds.status == 200 and warnings(no_vds.entries) == [3000]
    vds = api.post(
        "/v1/resource-definitions/src/snapshot-restore-volume-definition/s1", {"to_resource": "dst"}
    )
    assert vds.status == 200
    sizes = [v["size_kib"] for v in api.get("/v1/resource-definitions/dst/volume-definitions").body]
    assert sizes == [GIB, 2 * GIB]
    twice = api.post(
        "/v1/resource-definitions/src/snapshot-restore-volume-definition/s1", {"to_resource": "dst"}
    )
    assert errors(twice.entries) == [503]
    rsc = api.post("/v1/resource-definitions/src/snapshot-restore-resource/s1", {"to_resource": "dst"})
    assert rsc.status == 200
    assert api.placement("dst")[0] == {"n1", "n2"}
    assert api.get("/v1/resource-definitions/dst").body["props"]["Aux/app"] == "db"
    minors = sorted(v["device_path"] for v in api.resources("dst")["n1"]["volumes"])
    assert minors == ["/dev/drbd1002", "/dev/drbd1003"]
    busy = api.post("/v1/resource-definitions/src/snapshot-restore-resource/s1", {"to_resource": "dst"})
    assert errors(busy.entries) == [502]
    unknown = api.post("/v1/resource-definitions/src/snapshot-restore-resource/nope", {"to_resource": "dst"})
    assert unknown.status == 404


def test_restore_to_chosen_nodes_and_size_mismatch(api: Api) -> None:
    placed(api, "src")
    api.ok(api.post("/v1/resource-definitions/src/snapshots", {"name": "s1"}))
    api.rd("one")
    api.ok(
        api.post("/v1/resource-definitions/src/snapshot-restore-volume-definition/s1", {"to_resource": "one"})
    )
    api.ok(
        api.post(
            "/v1/resource-definitions/src/snapshot-restore-resource/s1",
            {"to_resource": "one", "nodes": ["n2"]},
        )
    )
    assert api.placement("one")[0] == {"n2"}
    api.rd("wrong", 2 * GIB)
    mismatch = api.post("/v1/resource-definitions/src/snapshot-restore-resource/s1", {"to_resource": "wrong"})
    assert errors(mismatch.entries) == [206]


def test_rollback_before_1_31_only_to_the_latest(start_sim) -> None:
    _, api = start_sim({"version": "1.30.1", "nodes": [node("n1"), node("n2"), node("n3")]})
    placed(api, "r1")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s2"}))
    old = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1", {})
    assert (old.status, errors(old.entries)) == (500, [514])
    assert old.entries[0]["message"] == "Rollback is only allowed with the most recent snapshot"
    latest = api.post("/v1/resource-definitions/r1/snapshot-rollback/s2", {})
    assert latest.status == 200
    assert api.get("/v1/resource-definitions/r1/snapshots/s2").status == 200  # kept afterwards
    api.ok(api.delete("/v1/resource-definitions/r1/snapshots/s2"))
    assert api.post("/v1/resource-definitions/r1/snapshot-rollback/s1", {}).status == 200


def test_rollback_from_1_31_to_any_snapshot_resets_sizes(sim_api: tuple[LinstorSim, Api]) -> None:
    sim, api = sim_api  # 1.33.2
    placed(api, "r1")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    api.ok(api.put("/v1/resource-definitions/r1/volume-definitions/0", {"size_kib": 2 * GIB}))
    api.ok(
        api.post("/v1/resource-definitions/r1/volume-definitions", {"volume_definition": {"size_kib": GIB}})
    )
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s2"}))
    before = api.placement("r1")
    reply = api.post("/v1/resource-definitions/r1/snapshot-rollback/s1", {})
    assert reply.status == 200
    vds = api.get("/v1/resource-definitions/r1/volume-definitions").body
    assert [(v["volume_number"], v["size_kib"]) for v in vds] == [(0, GIB)]
    assert api.placement("r1") == before
    assert [s["name"] for s in api.get("/v1/resource-definitions/r1/snapshots").body] == ["s1", "s2"]
    sim.set_in_use("r1", "n1")
    busy = api.post("/v1/resource-definitions/r1/snapshot-rollback/s2", {})
    assert (busy.status, errors(busy.entries)) == (500, [997])
    missing = api.post("/v1/resource-definitions/r1/snapshot-rollback/nope", {})
    assert (missing.status, errors(missing.entries)) == (404, [313])


def test_zfs_rollback_strategy(start_sim) -> None:
    _, api = start_sim({"nodes": [node("n1", pool("zfs", "ZFS_THIN"))]})
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 1}}))
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s2"}))
    strict = api.post(
        "/v1/resource-definitions/r1/snapshot-rollback/s1", {"zfs_rollback_strategy": "rollback"}
    )
    assert errors(strict.entries) == [514]
    assert (
        api.post(
            "/v1/resource-definitions/r1/snapshot-rollback/s1", {"zfs_rollback_strategy": "clone"}
        ).status
        == 200
    )


def test_multi_snapshot(api: Api) -> None:
    placed(api, "ra")
    placed(api, "rb")
    reply = api.post(
        "/v1/actions/snapshot/multi",
        {"snapshots": [{"name": "cg1", "resource_name": "ra"}, {"name": "cg1", "resource_name": "rb"}]},
    )
    assert reply.status == 201
    assert {s["resource_name"] for s in api.get("/v1/view/snapshots").body} == {"ra", "rb"}


def test_thin_snapshot_then_restore_keeps_minors_distinct(api: Api) -> None:
    placed(api, "r1")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    api.rd("r2")
    api.ok(
        api.post("/v1/resource-definitions/r1/snapshot-restore-volume-definition/s1", {"to_resource": "r2"})
    )
    vd = api.get("/v1/resource-definitions/r2/volume-definitions/0").body
    assert vd["size_kib"] == GIB
