"""Wire conventions: ApiCallRc values, status mapping, omitted fields, names, parse errors, lists."""

from __future__ import annotations

import re

from linstor_helpers import (
    GIB,
    MASK_CRT,
    MASK_ERROR,
    MASK_RSC_GRP,
    MASK_WARN,
    Api,
    code,
    errors,
    node,
    pool,
    severity,
)


def test_controller_version_follows_the_seed(start_sim) -> None:
    _, api = start_sim({"version": "1.31.0", "nodes": []})
    reply = api.get("/v1/controller/version")
    assert reply.status == 200
    assert reply.body["version"] == "1.31.0"
    assert reply.body["rest_api_version"] == "1.25.0"
    assert re.fullmatch(r"[0-9a-f]{40}", reply.body["git_hash"])
    assert "build_time" in reply.body


def test_verified_ret_codes_for_resource_groups(api: Api) -> None:
    created = api.post("/v1/resource-groups", {"name": "rg1"})
    assert created.status == 201
    assert created.entries[0]["ret_code"] == 21233665  # CRT|RSC_GRP|CREATED
    assert set(created.entries[0]) >= {"ret_code", "message", "created_at", "obj_refs"}
    assert created.entries[0]["obj_refs"] == {"RscGrp": "rg1"}

    modified = api.put("/v1/resource-groups/rg1", {"description": "x"})
    assert modified.status == 200
    assert modified.entries[-1]["ret_code"] == 21233667  # modify keeps the create op mask (quirk)

    exists = api.post("/v1/resource-groups", {"name": "rg1"})
    assert exists.status == 500
    assert exists.entries[0]["ret_code"] == -4611686018406153718  # ERR|CRT|RSC_GRP|522

    deleted = api.delete("/v1/resource-groups/rg1")
    assert deleted.status == 200
    assert deleted.entries[0]["ret_code"] == 21233666

    again = api.delete("/v1/resource-groups/rg1")
    assert again.status == 200  # idempotent delete: a warning, not an error
    assert again.entries[0]["ret_code"] == -9223372036833539144  # WARN|CRT|RSC_GRP|3000


def test_ret_codes_are_signed_64_bit_with_masks(api: Api) -> None:
    reply = api.post("/v1/resource-groups", {"name": "1bad"})
    assert reply.status == 500
    rc = reply.entries[0]["ret_code"]
    assert rc < 0
    assert severity(reply.entries[0]) == MASK_ERROR
    assert rc & MASK_RSC_GRP == MASK_RSC_GRP and rc & 0x03000000 == MASK_CRT
    assert code(reply.entries[0]) == 237  # FAIL_INVLD_RSC_GRP_NAME
    # python-linstor's naive masks: an error also "is" a warning and an info.
    assert rc & MASK_WARN == MASK_WARN


def test_not_found_is_404_and_other_failures_are_500(api: Api) -> None:
    missing = api.get("/v1/resource-groups/nope")
    assert missing.status == 404
    assert code(missing.entries[0]) == 317
    missing_rd = api.get("/v1/resource-definitions/nope")
    assert (missing_rd.status, code(missing_rd.entries[0])) == (404, 301)
    missing_node = api.get("/v1/nodes/nope")
    assert (missing_node.status, code(missing_node.entries[0])) == (404, 300)
    bad_count = api.post("/v1/resource-groups", {"name": "rg1", "select_filter": {"place_count": 0}})
    assert (bad_count.status, errors(bad_count.entries)) == (500, [219])


def test_empty_fields_are_omitted(api: Api) -> None:
    api.ok(api.post("/v1/resource-groups", {"name": "plain"}))
    rg = api.get("/v1/resource-groups/plain").body
    assert "props" not in rg and "description" not in rg
    assert rg["select_filter"] == {"place_count": 2}  # a group without place_count reports 2
    api.rd("r1")
    rd = api.get("/v1/resource-definitions/r1").body
    assert "flags" not in rd and "props" not in rd and "layer_data" not in rd
    assert "volume_definitions" not in rd
    listed = api.get("/v1/resource-definitions", with_volume_definitions="true").body
    assert [d["name"] for d in listed] == ["r1"]
    assert "volume_definitions" not in listed[0]  # empty list omitted too


def test_names_are_case_insensitive_and_keep_their_spelling(api: Api) -> None:
    api.ok(api.post("/v1/resource-groups", {"name": "MixedCase"}))
    got = api.get("/v1/resource-groups/mixedcase")
    assert got.status == 200 and got.body["name"] == "MixedCase"
    dup = api.post("/v1/resource-groups", {"name": "MIXEDCASE"})
    assert errors(dup.entries) == [522]
    listed = api.get("/v1/resource-groups", resource_groups=["MIXEDcase"]).body
    assert [g["name"] for g in listed] == ["MixedCase"]


def test_name_rules(api: Api) -> None:
    for bad in ["a", "1abc", "x" * 49, "has.dot", "-lead", "__"]:
        reply = api.post("/v1/resource-groups", {"name": bad})
        assert (reply.status, errors(reply.entries)) == (500, [237]), bad
    for good in ["ab", "_a", "a-b_c", "x" * 48]:
        assert api.post("/v1/resource-groups", {"name": good}).status == 201, good
    for reserved in ["all", "PROXY"]:
        reply = api.post("/v1/resource-definitions", {"resource_definition": {"name": reserved}})
        assert errors(reply.entries) == [202]
    snap = api.post("/v1/resource-definitions/nope/snapshots", {"name": "s"})
    assert snap.status == 404  # the definition is looked up first
    kv = api.put("/v1/key-value-store/9bad", {"override_props": {"a": "b"}})
    assert (kv.status, errors(kv.entries)) == (500, [223])


def test_malformed_json_is_400_or_500_depending_on_the_handler(api: Api) -> None:
    parse_rc = -3458764513820540931
    sync = api.call("POST", "/v1/resource-groups", raw=b"{nope")
    assert sync.status == 400 and sync.entries[0]["ret_code"] == parse_rc
    kv = api.call("PUT", "/v1/key-value-store/kv1", raw=b"[")
    assert kv.status == 400
    api.ok(api.post("/v1/resource-groups", {"name": "rg1"}))
    spawn = api.call("POST", "/v1/resource-groups/rg1/spawn", raw=b"{")
    assert spawn.status == 500 and spawn.entries[0]["ret_code"] == parse_rc
    api.rd("r1")
    autoplace = api.call("POST", "/v1/resource-definitions/r1/autoplace", raw=b"{")
    assert autoplace.status == 500


def test_unknown_paths_are_html_like_the_jaxrs_container(api: Api) -> None:
    reply = api.get("/v1/no-such-thing")
    assert reply.status == 404
    assert reply.content_type.startswith("text/html")
    method = api.call("PATCH", "/v1/resource-groups")
    assert method.status == 405


def test_list_filters_limit_offset_and_props(start_sim) -> None:
    _, api = start_sim({"nodes": [node(f"n{i}", **{"Aux/site": "x" if i % 2 else "y"}) for i in range(1, 6)]})
    nodes = api.get("/v1/nodes").body
    assert [n["name"] for n in nodes] == ["n1", "n2", "n3", "n4", "n5"]
    assert nodes[0]["type"] == "SATELLITE" and nodes[0]["connection_status"] == "ONLINE"
    assert [n["name"] for n in api.get("/v1/nodes", limit=2, offset=1).body] == ["n2", "n3"]
    assert len(api.get("/v1/nodes", limit=0, offset=3).body) == 5  # offset ignored without limit
    assert [n["name"] for n in api.get("/v1/nodes", props=["Aux/site=y"]).body] == ["n2", "n4"]
    assert len(api.get("/v1/nodes", props=["Aux/site"]).body) == 5
    assert api.get("/v1/nodes", nodes=["N1", "n3"]).body[1]["name"] == "n3"
    assert api.get("/v1/nodes", nodes=["n1,n3"]).body == []  # comma lists are not split


def test_every_node_has_the_default_diskless_pool(api: Api) -> None:
    pools = api.get("/v1/view/storage-pools").body
    diskless = [p for p in pools if p["storage_pool_name"] == "DfltDisklessStorPool"]
    assert {p["node_name"] for p in diskless} == {"n1", "n2", "n3"}
    assert diskless[0]["provider_kind"] == "DISKLESS"
    assert diskless[0]["free_capacity"] == 9223372036854775807  # Long.MAX: never sum these
    thin = api.get("/v1/nodes/n1/storage-pools/THIN").body
    assert thin["total_capacity"] == 100 * GIB and thin["free_capacity"] == 100 * GIB
    assert thin["static_traits"]["Provisioning"] == "Thin" and thin["supports_snapshots"] is True
    assert thin["free_space_mgr_name"] == "n1;thin"
    missing = api.get("/v1/nodes/n1/storage-pools/nope")
    assert (missing.status, code(missing.entries[0])) == (404, 310)


def test_nodes_and_pools_can_be_created_over_rest(start_sim) -> None:
    _, api = start_sim({"nodes": []})
    assert api.post("/v1/nodes", {"name": "late", "type": "Satellite"}).status == 201
    pools = api.get("/v1/nodes/late/storage-pools").body
    assert [p["storage_pool_name"] for p in pools] == ["DfltDisklessStorPool"]
    created = api.post(
        "/v1/nodes/late/storage-pools",
        {
            "storage_pool_name": "thick",
            "provider_kind": "LVM",
            "props": {"StorDriver/LvmVg": "vg0"},
            "total_capacity": 10 * GIB,
        },
    )
    assert created.status == 201
    thick = api.get("/v1/nodes/late/storage-pools/thick").body
    assert thick["total_capacity"] == 10 * GIB and thick["static_traits"]["Provisioning"] == "Fat"
    assert thick["supports_snapshots"] is False
    assert errors(api.post("/v1/nodes", {"name": "late"}).entries) == [500]
    assert errors(api.post("/v1/nodes", {"name": "bad_name!"}).entries) == [200]


def test_seed_pools(start_sim) -> None:
    _, api = start_sim({"nodes": [node("a", pool("zfs", "ZFS", kib=5 * GIB, free=4 * GIB))]})
    zfs = api.get("/v1/nodes/a/storage-pools/zfs").body
    assert (zfs["provider_kind"], zfs["total_capacity"], zfs["free_capacity"]) == ("ZFS", 5 * GIB, 4 * GIB)
