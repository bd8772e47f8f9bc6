"""Resource definitions, volume definitions and resources through plain HTTP."""

from __future__ import annotations

from linstor_helpers import GIB, Api, code, errors, infos, three_nodes, warnings

from stratum.sim.linstor import LinstorSim

THIN = {"StorPoolName": "thin"}


def create(api: Api, rd: str, node: str, **resource: object) -> object:
    return api.post(
        f"/v1/resource-definitions/{rd}/resources", [{"resource": {"node_name": node, **resource}}]
    )


def test_resource_definition_create_modify_delete(api: Api) -> None:
    reply = api.post(
        "/v1/resource-definitions",
        {
            "resource_definition": {
                "name": "r1",
                "props": {"Aux/a": "1"},
                "volume_definitions": [{"size_kib": 1}],
            }
        },
    )
    assert reply.status == 201 and reply.entries[0]["ret_code"] == 20447233
    rd = api.get("/v1/resource-definitions/R1").body
    assert rd["name"] == "r1" and rd["props"] == {"Aux/a": "1"} and rd["resource_group_name"] == "DfltRscGrp"
    assert api.get("/v1/resource-definitions/r1/volume-definitions").body == []  # VDs in the body ignored
    dup = api.post("/v1/resource-definitions", {"resource_definition": {"name": "R1"}})
    assert errors(dup.entries) == [501]
    no_rg = api.post(
        "/v1/resource-definitions", {"resource_definition": {"name": "r2", "resource_group_name": "x"}}
    )
    assert (no_rg.status, errors(no_rg.entries)) == (404, [317])
    api.rg("rg1", vgs=0)
    api.ok(
        api.put("/v1/resource-definitions/r1", {"resource_group": "rg1", "override_props": {"Aux/b": "2"}})
    )
    rd = api.get("/v1/resource-definitions/r1").body
    assert rd["resource_group_name"] == "rg1" and rd["props"] == {"Aux/a": "1", "Aux/b": "2"}
    assert api.delete("/v1/resource-definitions/r1").status == 200
    gone = api.delete("/v1/resource-definitions/r1")
    assert gone.status == 200 and warnings(gone.entries) == [3000]


def test_external_name_definition(api: Api) -> None:
    reply = api.post("/v1/resource-definitions", {"resource_definition": {"external_name": "My Volume #1"}})
    assert reply.status == 201
    name = reply.entries[0]["obj_refs"]["RscDfn"]
    assert name == "My_Volume__1"
    again = api.post("/v1/resource-definitions", {"resource_definition": {"external_name": "My Volume #1"}})
    assert errors(again.entries) == [517]


def test_layer_stack_gets_storage_appended(api: Api) -> None:
    reply = api.post(
        "/v1/resource-definitions", {"resource_definition": {"name": "r1", "layer_data": [{"type": "DRBD"}]}}
    )
    assert reply.status == 201 and warnings(reply.entries) == [1012]


def test_volume_definitions_create_and_numbering(api: Api) -> None:
    api.rd("r1")
    first = api.post(
        "/v1/resource-definitions/r1/volume-definitions", {"volume_definition": {"size_kib": GIB}}
    )
    assert first.status == 200  # 200 in code, not 201
    api.ok(
        api.post(
            "/v1/resource-definitions/r1/volume-definitions",
            {"volume_definition": {"size_kib": GIB, "volume_number": 3}},
        )
    )
    api.ok(
        api.post("/v1/resource-definitions/r1/volume-definitions", {"volume_definition": {"size_kib": GIB}})
    )
    assert [v["volume_number"] for v in api.get("/v1/resource-definitions/r1/volume-definitions").body] == [
        0,
        1,
        3,
    ]
    dup = api.post(
        "/v1/resource-definitions/r1/volume-definitions",
        {"volume_definition": {"size_kib": 1, "volume_number": 3}},
    )
    assert errors(dup.entries) == [503]
    bad = api.post("/v1/resource-definitions/r1/volume-definitions", {"volume_definition": {"size_kib": 0}})
    assert errors(bad.entries) == [206]
    pinned = api.post(
        "/v1/resource-definitions/r1/volume-definitions",
        {"volume_definition": {"size_kib": 1}, "drbd_minor_number": 1000},
    )
    assert errors(pinned.entries) == [207]  # taken
    assert api.get("/v1/resource-definitions/r1/volume-definitions/7").status == 404


def test_resize_rules(start_sim) -> None:
    from linstor_helpers import node, pool

    _, api = start_sim({"nodes": [node("n1", pool("thick", "LVM", kib=4 * GIB)), node("n2")]})
    api.rd("thin1", GIB)
    api.ok(create(api, "thin1", "n2", props=THIN))
    grown = api.put("/v1/resource-definitions/thin1/volume-definitions/0", {"size_kib": 50 * GIB})
    assert grown.status == 200  # thin pools always pass the space check
    same = api.put("/v1/resource-definitions/thin1/volume-definitions/0", {"size_kib": 50 * GIB})
    assert same.status == 200 and warnings(same.entries) == [1023]
    shrink = api.put("/v1/resource-definitions/thin1/volume-definitions/0", {"size_kib": GIB})
    assert (shrink.status, errors(shrink.entries)) == (500, [206])
    assert "Shrinking volumes is not supported by layer 'DRBD'" in shrink.entries[0]["message"]
    assert api.get("/v1/resource-definitions/thin1/volume-definitions/0").body["size_kib"] == 50 * GIB
    vol = api.resources("thin1")["n2"]["volumes"][0]
    assert vol["layer_data_list"][0]["data"]["usable_size_kib"] == 50 * GIB

    api.rd("thick1", GIB)
    api.ok(create(api, "thick1", "n1", props={"StorPoolName": "thick"}))
    no_space = api.put("/v1/resource-definitions/thick1/volume-definitions/0", {"size_kib": 5 * GIB})
    assert (no_space.status, errors(no_space.entries)) == (500, [980])
    assert "Node: n1, StorPool: thick" in no_space.entries[0]["details"]

    api.rd("empty", GIB)
    assert api.put("/v1/resource-definitions/empty/volume-definitions/0", {"size_kib": 1024}).status == 200

    api.ok(api.put("/v1/resource-definitions/thin1", {"override_props": {"DrbdOptions/ExactSize": "true"}}))
    exact = api.put("/v1/resource-definitions/thin1/volume-definitions/0", {"size_kib": 60 * GIB})
    assert errors(exact.entries) == [206]


def test_create_on_node_and_pool_resolution(api: Api) -> None:
    api.rd("r1", GIB)
    implicit = create(api, "r1", "n1")
    assert (implicit.status, errors(implicit.entries)) == (404, [311])  # DfltStorPool missing
    explicit = create(api, "r1", "n1", props={"StorPoolName": "nope"})
    assert (explicit.status, errors(explicit.entries)) == (404, [309])
    assert errors(create(api, "r1", "nope", props=THIN).entries) == [300]
    ok = create(api, "r1", "n1", props=THIN)
    assert ok.status == 201
    assert any(e["message"] == "New resource 'r1' on node 'n1' registered." for e in ok.entries)
    # A diskful peer's pool is picked up when nothing names one.
    assert create(api, "r1", "n2").status == 201
    res = api.resources("r1")
    assert res["n2"]["props"]["StorPoolName"] == "thin" and res["n2"]["props"]["DiskfulBy"] == "user"
    again = create(api, "r1", "n1", props=THIN)
    assert again.status == 201 and infos(again.entries)[0] == 10008
    single = api.post("/v1/resource-definitions/r1/resources/n3", {"resource": {"flags": ["DRBD_DISKLESS"]}})
    assert single.status == 201
    assert api.resources("r1")["n3"]["flags"] == ["DISKLESS", "DRBD_DISKLESS"]
    missing_rd = create(api, "nope", "n1")
    assert missing_rd.status == 404


def test_node_and_rd_resource_lists(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create(api, "r1", "n1", props=THIN))
    listed = api.get("/v1/resource-definitions/r1/resources").body
    assert [r["node_name"] for r in listed] == ["n1"] and "volumes" not in listed[0]
    one = api.get("/v1/resource-definitions/r1/resources/N1")
    assert one.status == 200 and one.body["node_name"] == "n1" and one.body["state"] == {"in_use": False}
    missing = api.get("/v1/resource-definitions/r1/resources/n2")
    assert (missing.status, code(missing.entries[0])) == (404, 302)
    vols = api.get("/v1/resource-definitions/r1/resources/n1/volumes").body
    assert vols[0]["device_path"] == "/dev/drbd1000" and vols[0]["storage_pool_name"] == "thin"
    view = api.get("/v1/view/resources", nodes=["n1"], storage_pools=["thin"]).body
    assert [r["name"] for r in view] == ["r1"]
    assert api.get("/v1/view/resources", nodes=["n2"]).body == []


def test_deprecated_diskless_flag_and_all_diskless(api: Api) -> None:
    api.rd("r1", GIB)
    reply = create(api, "r1", "n1", flags=["DISKLESS"])
    assert reply.status == 201
    assert set(warnings(reply.entries)) == {4000, 1009}
    assert api.resources("r1")["n1"]["flags"] == ["DISKLESS", "DRBD_DISKLESS"]


def test_no_volumes_warning(api: Api) -> None:
    api.rd("r1")
    reply = create(api, "r1", "n1", props=THIN)
    assert reply.status == 201 and 3000 in warnings(reply.entries)


def test_toggle_disk_both_paths(start_sim) -> None:
    # The unified toggle-disk endpoint exists from REST 1.28 (v1.34) on (CHANGELOG-OPENAPI.md).
    _, api = start_sim(three_nodes("1.34.0"))
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 2}}))
    diskful, _, tb = api.placement("r1")
    tb_node = next(iter(tb))
    # old path (python-linstor against REST < 1.28): diskful with a pool in the path
    reply = api.put(f"/v1/resource-definitions/r1/resources/{tb_node}/toggle-disk/diskful/thin")
    assert reply.status == 200
    assert api.placement("r1")[0] == {"n1", "n2", "n3"}
    assert api.resources("r1")[tb_node]["props"]["DiskfulBy"] == "user"
    noop = api.put(f"/v1/resource-definitions/r1/resources/{tb_node}/toggle-disk/diskful")
    assert noop.status == 200 and infos(noop.entries) == [10007]
    # new path (1.34): JSON body
    to_diskless = api.put(
        "/v1/resource-definitions/r1/resources/n1/toggle-disk", {"operation": "INTO_DRBD_DISKLESS"}
    )
    assert to_diskless.status == 200
    diskful, diskless, tb = api.placement("r1")
    assert "n1" in diskless and len(diskful) == 2 and not tb  # the diskless peer votes: no tiebreaker
    assert api.resources("r1")["n1"]["volumes"][0]["storage_pool_name"] == "DfltDisklessStorPool"
    client = api.put(
        "/v1/resource-definitions/r1/resources/n1/toggle-disk", {"operation": "INTO_DRBD_CLIENT"}
    )
    assert client.status == 200
    assert "CLIENT" in api.resources("r1")["n1"]["layer_object"]["drbd"]["flags"]
    bad = api.put("/v1/resource-definitions/r1/resources/n1/toggle-disk", {"operation": "SIDEWAYS"})
    assert errors(bad.entries) == [234]
    missing = api.put("/v1/resource-definitions/r1/resources/nope/toggle-disk/diskless")
    assert missing.status == 404


def test_toggle_refuses_removing_the_last_disk(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create(api, "r1", "n1", props=THIN))
    reply = api.put("/v1/resource-definitions/r1/resources/n1/toggle-disk/diskless")
    assert (reply.status, errors(reply.entries)) == (500, [991])


def test_diskful_request_on_diskless_converts(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create(api, "r1", "n1", props=THIN))
    api.ok(create(api, "r1", "n2", flags=["DRBD_DISKLESS"]))
    reply = create(api, "r1", "n2", props=THIN)
    assert reply.status == 201
    assert api.placement("r1")[0] == {"n1", "n2"}


def test_delete_rules(sim_api: tuple[LinstorSim, Api]) -> None:
    sim, api = sim_api
    api.rd("r1", GIB)
    api.ok(create(api, "r1", "n1", props=THIN))
    api.ok(create(api, "r1", "n2", flags=["DRBD_DISKLESS"]))
    last = api.delete("/v1/resource-definitions/r1/resources/n1")
    assert (last.status, errors(last.entries)) == (500, [997])
    assert "still has diskless resources attached" in last.entries[0]["message"]
    sim.set_in_use("r1", "n2")
    busy = api.delete("/v1/resource-definitions/r1/resources/n2")
    assert (busy.status, errors(busy.entries)) == (500, [997])
    assert busy.entries[0]["message"] == "Resource 'r1' is still in use."
    busy_rd = api.delete("/v1/resource-definitions/r1")
    assert errors(busy_rd.entries) == [997]
    busy_vd = api.delete("/v1/resource-definitions/r1/volume-definitions/0")
    assert errors(busy_vd.entries) == [997]
    sim.set_in_use("r1", "n2", False)
    api.ok(api.delete("/v1/resource-definitions/r1/resources/n2"))
    api.ok(api.delete("/v1/resource-definitions/r1/resources/n1"))
    gone = api.delete("/v1/resource-definitions/r1/resources/n1")
    assert gone.status == 200 and warnings(gone.entries) == [3000]
    assert warnings(api.delete("/v1/resource-definitions/nope/resources/n1").entries) == [3000]
    assert warnings(api.delete("/v1/resource-definitions/r1/volume-definitions/9").entries) == [3000]


def test_deleting_a_diskful_replica_hands_over_to_a_tiebreaker(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 3}}))
    reply = api.delete("/v1/resource-definitions/r1/resources/n3")
    assert reply.status == 200 and 10006 in infos(reply.entries)
    diskful, _, tb = api.placement("r1")
    assert diskful == {"n1", "n2"} and tb == {"n3"}
    # Deleting the tiebreaker by hand disables the feature on the definition.
    removed = api.delete("/v1/resource-definitions/r1/resources/n3")
    assert 10002 in infos(removed.entries)
    assert api.placement("r1")[2] == set()
    assert (
        api.get("/v1/resource-definitions/r1").body["props"]["DrbdOptions/auto-add-quorum-tiebreaker"]
        == "False"
    )


def test_make_available(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 2}}))
    tb = next(iter(api.placement("r1")[2]))
    reply = api.post(f"/v1/resource-definitions/r1/resources/{tb}/make-available", {"diskful": False})
    assert reply.status == 200
    assert tb in api.placement("r1")[1]  # the tiebreaker became a wanted diskless resource
    again = api.post(f"/v1/resource-definitions/r1/resources/{tb}/make-available", {"diskful": True})
    assert again.status == 200
    assert api.placement("r1")[0] == {"n1", "n2", "n3"}
    assert api.resources("r1")[tb]["props"]["DiskfulBy"] == "make-available"


def test_resource_modify_props(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create(api, "r1", "n1", props=THIN))
    api.ok(api.put("/v1/resource-definitions/r1/resources/n1", {"override_props": {"Aux/x": "1"}}))
    assert api.resources("r1")["n1"]["props"]["Aux/x"] == "1"


def test_rd_delete_cascades_and_frees_numbers(sim_api: tuple[LinstorSim, Api]) -> None:
    sim, api = sim_api
    api.rd("r1", GIB)
    api.ok(api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"place_count": 3}}))
    reply = api.delete("/v1/resource-definitions/r1")
    assert reply.status == 200
    assert reply.entries[-1]["ret_code"] == 0x03000000 | 0x380000 | 2
    assert sim.state.rd("r1") is None
    assert all(not n.resources for n in sim.state.nodes.values())
    assert all(p.reserved_kib == 0 for n in sim.state.nodes.values() for p in n.pools.values())
    api.rd("r2", GIB)
    api.ok(api.post("/v1/resource-definitions/r2/autoplace", {"select_filter": {"place_count": 1}}))
    res = next(iter(api.resources("r2").values()))
    assert res["volumes"][0]["device_path"] == "/dev/drbd1000"
    assert res["layer_object"]["drbd"]["tcp_ports"] == [7000]
