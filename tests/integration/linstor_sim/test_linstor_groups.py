"""Resource groups, volume groups, spawn and query-max-volume-size."""

from __future__ import annotations

from linstor_helpers import GIB, MASK_INFO, Api, code, errors, infos, node, pool, warnings

from stratum.sim.linstor import LinstorSim


def test_default_resource_group_exists(api: Api) -> None:
    groups = api.get("/v1/resource-groups").body
    assert [g["name"] for g in groups] == ["DfltRscGrp"]
    assert groups[0]["select_filter"]["place_count"] == 2


def test_props_in_the_create_body_are_ignored(api: Api) -> None:
    api.ok(api.post("/v1/resource-groups", {"name": "rg1", "props": {"Aux/a": "b"}}))
    assert "props" not in api.get("/v1/resource-groups/rg1").body
    api.ok(api.put("/v1/resource-groups/rg1", {"override_props": {"Aux/a": "b"}}))
    assert api.get("/v1/resource-groups/rg1").body["props"] == {"Aux/a": "b"}


def test_select_filter_echo_and_what_is_not_echoed(api: Api) -> None:
    api.ok(
        api.post(
            "/v1/resource-groups",
            {
                "name": "rg1",
                "description": "d",
                "peer_slots": 5,
                "select_filter": {
                    "place_count": 3,
                    "storage_pool_list": ["thin"],
                    "storage_pool_diskless_list": ["DfltDisklessStorPool"],
                    "node_name_list": ["n1"],
                    "not_place_with_rsc": ["x"],
                    "not_place_with_rsc_regex": "^db-",
                    "replicas_on_same": ["Aux/site"],
                    "replicas_on_different": ["Aux/zone"],
                    "layer_stack": ["DRBD", "STORAGE"],
                    "provider_list": ["LVM_THIN"],
                    "diskless_on_remaining": False,
                },
            },
        )
    )
    rg = api.get("/v1/resource-groups/rg1").body
    assert rg["description"] == "d"
    assert rg["select_filter"] == {
        "place_count": 3,
        "storage_pool": "thin",
        "storage_pool_list": ["thin"],
        "not_place_with_rsc": ["x"],
        "not_place_with_rsc_regex": "^db-",
        "replicas_on_same": ["Aux/site"],
        "replicas_on_different": ["Aux/zone"],
        "layer_stack": ["DRBD", "STORAGE"],
        "provider_list": ["LVM_THIN"],
        "diskless_on_remaining": False,
    }
    assert "peer_slots" not in rg


def test_modify_merges_the_filter(api: Api) -> None:
    api.rg("rg1", vgs=0, place_count=2, storage_pool_list=["thin"], replicas_on_different=["Aux/zone"])
    api.ok(api.put("/v1/resource-groups/rg1", {"select_filter": {"place_count": 3}}))
    sf = api.get("/v1/resource-groups/rg1").body["select_filter"]
    assert sf["place_count"] == 3 and sf["storage_pool_list"] == ["thin"]  # untouched fields stay
    api.ok(api.put("/v1/resource-groups/rg1", {"select_filter": {"storage_pool_list": []}}))
    sf = api.get("/v1/resource-groups/rg1").body["select_filter"]
    assert "storage_pool_list" not in sf and sf["replicas_on_different"] == ["Aux/zone"]


def test_unknown_pool_in_filter_is_accepted_with_a_warning(api: Api) -> None:
    reply = api.post("/v1/resource-groups", {"name": "rg1", "select_filter": {"storage_pool_list": ["nope"]}})
    assert reply.status == 201
    assert warnings(reply.entries) == [3000]


def test_property_whitelist(api: Api) -> None:
    api.rg("rg1", vgs=0)
    bad = api.put("/v1/resource-groups/rg1", {"override_props": {"NotAKey": "1"}})
    assert (bad.status, errors(bad.entries)) == (500, [213])
    bad_value = api.put("/v1/resource-groups/rg1", {"override_props": {"DrbdOptions/Net/protocol": "Z"}})
    assert errors(bad_value.entries) == [213]
    exact = api.put("/v1/resource-groups/rg1", {"override_props": {"DrbdOptions/ExactSize": "true"}})
    assert errors(exact.entries) == [213]
    good = api.put(
        "/v1/resource-groups/rg1",
        {"override_props": {"/DrbdOptions//Net/protocol": "C", "Aux/anything/goes": "x"}},
    )
    assert good.status == 200
    assert good.entries[0]["message"].startswith("Successfully set property key(s)")
    assert api.get("/v1/resource-groups/rg1").body["props"] == {
        "DrbdOptions/Net/protocol": "C",
        "Aux/anything/goes": "x",
    }
    api.ok(api.put("/v1/resource-groups/rg1", {"delete_props": ["Aux/anything/goes", "Aux/not-set"]}))
    api.ok(api.put("/v1/resource-groups/rg1", {"delete_namespaces": ["DrbdOptions"]}))
    assert "props" not in api.get("/v1/resource-groups/rg1").body


def test_delete_rules(api: Api) -> None:
    api.rg("rg1")
    api.ok(api.spawn("rg1", "r1", definitions_only=True))
    busy = api.delete("/v1/resource-groups/rg1")
    assert (busy.status, errors(busy.entries)) == (500, [501])
    api.ok(api.delete("/v1/resource-definitions/r1"))
    assert api.delete("/v1/resource-groups/rg1").status == 200
    dflt = api.delete("/v1/resource-groups/DfltRscGrp")
    assert dflt.status == 403


def test_volume_groups(api: Api) -> None:
    api.ok(api.post("/v1/resource-groups", {"name": "rg1"}))
    first = api.post("/v1/resource-groups/rg1/volume-groups", {})
    assert first.status == 201 and first.entries[0]["obj_refs"]["VlmNr"] == "0"
    api.ok(api.post("/v1/resource-groups/rg1/volume-groups", {"volume_number": 5, "flags": ["GROSS_SIZE"]}))
    assert api.post("/v1/resource-groups/rg1/volume-groups", {}).entries[0]["obj_refs"]["VlmNr"] == "1"
    dup = api.post("/v1/resource-groups/rg1/volume-groups", {"volume_number": 5})
    assert errors(dup.entries) == [523]
    vgs = api.get("/v1/resource-groups/rg1/volume-groups").body
    assert [v["volume_number"] for v in vgs] == [0, 1, 5] and vgs[2]["flags"] == ["GROSS_SIZE"]
    assert api.get("/v1/resource-groups/rg1/volume-groups/9").status == 404
    api.ok(api.put("/v1/resource-groups/rg1/volume-groups/5", {"flags": ["-GROSS_SIZE"]}))
    assert "flags" not in api.get("/v1/resource-groups/rg1/volume-groups/5").body
    api.ok(api.delete("/v1/resource-groups/rg1/volume-groups/5"))
    assert warnings(api.delete("/v1/resource-groups/rg1/volume-groups/5").entries) == [3000]
    api.ok(api.spawn("rg1", "r1", GIB, GIB, definitions_only=True))
    refused = api.post("/v1/resource-groups/rg1/volume-groups", {})
    assert errors(refused.entries) == [501]


def test_spawn_places_and_reports(api: Api) -> None:
    api.rg("rg1", place_count=2, storage_pool_list=["thin"])
    reply = api.spawn("rg1", "r1", 10 * GIB)
    assert reply.status == 201
    messages = [e["message"] for e in reply.entries]
    assert messages[0] == "New resource definition 'r1' created."
    assert reply.entries[0]["ret_code"] == 20447233
    assert reply.entries[1]["ret_code"] == 0x01000000 | 0x300000 | 1  # VD created
    autoplaced = next(e for e in reply.entries if "successfully autoplaced on 2 nodes" in e["message"])
    assert autoplaced["details"].startswith("Used nodes (storage pool name): ")
    assert autoplaced["obj_refs"]["StoragePool/0/0"] == "thin,LVM_THIN"
    assert 10003 in infos(reply.entries)  # tie breaker on the third node
    diskful, diskless, tb = api.placement("r1")
    assert len(diskful) == 2 and not diskless and len(tb) == 1
    rd = api.get("/v1/resource-definitions/r1").body
    assert rd["resource_group_name"] == "rg1"
    vds = api.get("/v1/resource-definitions/r1/volume-definitions").body
    assert vds[0]["size_kib"] == 10 * GIB


def test_spawn_volume_sizes_must_match_volume_groups(api: Api) -> None:
    api.rg("rg1", vgs=2)
    wrong = api.spawn("rg1", "r1", GIB)
    assert (wrong.status, errors(wrong.entries)) == (500, [228])
    assert api.get("/v1/resource-definitions/r1").status == 404  # nothing created
    partial = api.spawn("rg1", "r1", GIB, partial=True, definitions_only=True)
    assert partial.status == 201
    assert len(api.get("/v1/resource-definitions/r1/volume-definitions").body) == 1


def test_spawn_without_volume_groups_assumes_partial(api: Api) -> None:
    api.rg("rg1", vgs=0)
    reply = api.spawn("rg1", "r1", GIB, 2 * GIB, definitions_only=True)
    assert reply.status == 201
    assert any("partial mode" in e["message"] for e in reply.entries)
    assert 10000 in infos(reply.entries)
    assert [v["volume_number"] for v in api.get("/v1/resource-definitions/r1/volume-definitions").body] == [
        0,
        1,
    ]
    assert api.resources("r1") == {}


def test_spawn_is_all_or_nothing(api: Api, sim: LinstorSim) -> None:
    api.rg("rg1", place_count=4)  # only three nodes
    reply = api.spawn("rg1", "r1", GIB)
    assert (reply.status, errors(reply.entries)) == (500, [996])
    assert reply.entries[0]["message"] == "Not enough available nodes"
    assert reply.entries[0]["ret_code"] & 0x7C0000 == 0x340000  # the autoplace entry (RSC)
    assert api.get("/v1/resource-definitions/r1").status == 404
    assert sim.state.minors.allocate() == 1000  # the minor was given back
    assert all(p.reserved_kib == 0 for n in sim.state.nodes.values() for p in n.pools.values())


def test_spawn_existing_name_and_external_name(api: Api) -> None:
    api.rg("rg1")
    api.ok(api.spawn("rg1", "r1", definitions_only=True))
    dup = api.spawn("rg1", "R1", definitions_only=True)
    assert errors(dup.entries) == [501]
    ext = api.spawn(
        "rg1", "", definitions_only=True, resource_definition_external_name="pvc.with.dots/and slashes"
    )
    assert ext.status == 201
    derived = ext.entries[0]["obj_refs"]["RscDfn"]
    assert derived == "pvc_with_dots_and_slashes"
    assert api.get(f"/v1/resource-definitions/{derived}").body["external_name"] == "pvc.with.dots/and slashes"


def test_spawn_select_filter_overrides_the_group(api: Api) -> None:
    api.rg("rg1", place_count=2)
    api.ok(api.spawn("rg1", "r1", select_filter={"place_count": 3}))
    assert len(api.placement("r1")[0]) == 3


def test_modify_place_count_autoplaces_short_definitions(api: Api) -> None:
    api.rg("rg1", place_count=1)
    api.ok(api.spawn("rg1", "r1"))
    assert len(api.placement("r1")[0]) == 1
    reply = api.put("/v1/resource-groups/rg1", {"select_filter": {"place_count": 3}})
    assert reply.status == 200
    assert any("autoplaced on 2 nodes" in e["message"] for e in reply.entries)
    assert len(api.placement("r1")[0]) == 3
    lower = api.put("/v1/resource-groups/rg1", {"select_filter": {"place_count": 1}})
    assert lower.status == 200
    assert len(api.placement("r1")[0]) == 3  # never deletes


def test_query_max_volume_size(start_sim) -> None:
    _, api = start_sim(
        {
            "nodes": [
                node("n1", pool("thick", "LVM", kib=10 * GIB)),
                node("n2", pool("thick", "LVM", kib=20 * GIB)),
                node("n3", pool("thick", "LVM", kib=30 * GIB)),
            ]
        }
    )
    api.rg("rg1", place_count=2, storage_pool_list=["thick"])
    reply = api.get("/v1/resource-groups/rg1/query-max-volume-size")
    assert reply.status == 200
    assert reply.body["default_max_oversubscription_ratio"] == 20.0
    cand = reply.body["candidates"][0]
    assert cand["storage_pool"] == "thick" and cand["max_volume_size_kib"] == 20 * GIB
    assert sorted(cand["node_names"]) == ["n2", "n3"] and cand["all_thin"] is False
    api.rg("big", place_count=4)
    none = api.get("/v1/resource-groups/big/query-max-volume-size")
    assert (none.status, errors(none.entries)) == (500, [996])
    assert api.get("/v1/resource-groups/nope/query-max-volume-size").status == 404
    info = api.post("/v1/resource-groups/rg1/query-size-info", {})
    assert info.status == 200 and info.body["space_info"]["max_vlm_size_in_kib"] == 20 * GIB


def test_info_entries_carry_the_info_mask(api: Api) -> None:
    api.rg("rg1")
    reply = api.spawn("rg1", "r1", definitions_only=True)
    entry = next(e for e in reply.entries if code(e) == 10000)
    assert entry["ret_code"] & 0xC000000000000000 == MASK_INFO
