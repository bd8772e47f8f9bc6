"""The autoplacer: counts, filters, constraints, capacity, tiebreakers and number allocation."""

from __future__ import annotations

from typing import Any

from linstor_helpers import GIB, Api, errors, infos, node, pool, warnings


def autoplace(api: Api, rd: str, **select_filter: Any) -> Any:
    body: dict[str, Any] = {"select_filter": select_filter}
    if "diskless_on_remaining" in select_filter:
        body["diskless_on_remaining"] = select_filter.pop("diskless_on_remaining")
    return api.post(f"/v1/resource-definitions/{rd}/autoplace", body)


def six_nodes(**extra: Any) -> dict[str, Any]:
    zones = ["a", "a", "b", "b", "c", "c"]
    return {
        "nodes": [
            node(
                f"n{i + 1}",
                pool(),
                pool("fast", "ZFS_THIN"),
                **{"Aux/zone": z, "Aux/site": "s1" if i < 3 else "s2"},
            )
            for i, z in enumerate(zones)
        ],
        **extra,
    }


def test_place_count_and_already_deployed(api: Api) -> None:
    api.rd("r1", GIB)
    reply = autoplace(api, "r1", place_count=2)
    assert reply.status == 201
    assert reply.entries[0]["ret_code"] == 0x01000000 | 0x340000 | 1
    assert len(api.placement("r1")[0]) == 2
    again = autoplace(api, "r1", place_count=2)
    assert again.status == 201 and warnings(again.entries) == [1006]
    assert "Skipping" in again.entries[0]["message"]
    lower = autoplace(api, "r1", place_count=1)
    assert lower.status == 201 and warnings(lower.entries) == [1006]
    assert "would have to be deleted" in lower.entries[0]["message"]
    assert len(api.placement("r1")[0]) == 2


def test_not_enough_nodes_is_500_with_criteria(api: Api) -> None:
    api.rd("r1", GIB)
    reply = autoplace(api, "r1", place_count=4)
    assert reply.status == 500
    assert reply.entries[0]["ret_code"] == -4611686018407201820
    assert "node is online" in reply.entries[0]["details"]
    assert api.resources("r1") == {}


def test_additional_place_count(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=1))
    api.ok(autoplace(api, "r1", additional_place_count=1))
    assert len(api.placement("r1")[0]) == 2


def test_storage_pool_list_and_provider_list(start_sim) -> None:
    _, api = start_sim(six_nodes())
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=3, storage_pool_list=["fast"]))
    pools = {
        v["storage_pool_name"]
        for r in api.resources("r1").values()
        for v in r["volumes"]
        if "DISKLESS" not in r.get("flags", [])
    }
    assert pools == {"fast"}
    api.rd("r2", GIB)
    api.ok(autoplace(api, "r2", place_count=2, provider_list=["LVM_THIN"]))
    res = [r for r in api.resources("r2").values() if "DISKLESS" not in r.get("flags", [])]
    assert {r["volumes"][0]["provider_kind"] for r in res} == {"LVM_THIN"}
    assert {r["props"]["StorPoolName"] for r in res} == {"thin"}
    assert {r["props"]["DiskfulBy"] for r in res} == {"auto-placer"}
    api.rd("r3", GIB)
    missing = autoplace(api, "r3", place_count=1, storage_pool_list=["nope"])
    assert errors(missing.entries) == [996]
    bad = autoplace(api, "r3", place_count=1, provider_list=["FLOPPY"])
    assert errors(bad.entries) == [227]


def test_replicas_never_share_a_node(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=3))
    assert api.placement("r1")[0] == {"n1", "n2", "n3"}


def test_do_not_place_with_and_regex(api: Api) -> None:
    api.rd("db-one", GIB)
    thin = {"StorPoolName": "thin"}
    api.ok(
        api.post(
            "/v1/resource-definitions/db-one/resources", [{"resource": {"node_name": "n1", "props": thin}}]
        )
    )
    api.rd("web", GIB)
    api.ok(
        api.post("/v1/resource-definitions/web/resources", [{"resource": {"node_name": "n2", "props": thin}}])
    )
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=1, not_place_with_rsc=["web"], not_place_with_rsc_regex="^DB-"))
    assert api.placement("r1")[0] == {"n3"}  # case-insensitive regex, list avoids n2
    api.rd("r2", GIB)
    refused = autoplace(api, "r2", place_count=3, not_place_with_rsc_regex="^db-")
    assert errors(refused.entries) == [996]
    api.rd("r3", GIB)
    bad = autoplace(api, "r3", place_count=1, not_place_with_rsc_regex="(")
    assert errors(bad.entries) == [234]


def test_replicas_on_same_and_different(start_sim) -> None:
    _, api = start_sim(six_nodes())
    api.rd("same", GIB)
    api.ok(autoplace(api, "same", place_count=3, replicas_on_same=["Aux/site"]))
    diskful = api.placement("same")[0]
    sites = {"s1" if int(n[1:]) <= 3 else "s2" for n in diskful}
    assert len(diskful) == 3 and len(sites) == 1
    api.rd("pinned", GIB)
    api.ok(autoplace(api, "pinned", place_count=2, replicas_on_same=["Aux/site=s2"]))
    assert api.placement("pinned")[0] <= {"n4", "n5", "n6"}
    api.rd("diff", GIB)
    api.ok(autoplace(api, "diff", place_count=3, replicas_on_different=["Aux/zone"]))
    zones = {
        "a" if n in ("n1", "n2") else "b" if n in ("n3", "n4") else "c" for n in api.placement("diff")[0]
    }
    assert len(zones) == 3
    api.rd("toomany", GIB)
    refused = autoplace(api, "toomany", place_count=4, replicas_on_different=["Aux/zone"])
    assert errors(refused.entries) == [996]
    api.rd("xmap", GIB)
    api.ok(
        autoplace(
            api,
            "xmap",
            place_count=4,
            replicas_on_different=["Aux/zone"],
            x_replicas_on_different_map={"Aux/zone": 2},
        )
    )
    assert len(api.placement("xmap")[0]) == 4
    # The existing replicas pin the value for a later top-up.
    api.ok(autoplace(api, "same", additional_place_count=0, place_count=3))
    api.rd("grow", GIB)
    api.ok(autoplace(api, "grow", place_count=1, replicas_on_same=["Aux/site=s1"]))
    api.ok(autoplace(api, "grow", place_count=3, replicas_on_same=["Aux/site"]))
    assert api.placement("grow")[0] <= {"n1", "n2", "n3"}


def test_diskless_on_remaining(start_sim) -> None:
    _, api = start_sim(six_nodes())
    api.rd("r1", GIB)
    reply = autoplace(api, "r1", place_count=2, diskless_on_remaining=True)
    assert reply.status == 201
    diskful, diskless, tb = api.placement("r1")
    assert len(diskful) == 2 and len(diskless) == 4 and not tb
    rsc = api.resources("r1")[next(iter(diskless))]
    assert rsc["flags"] == ["DISKLESS", "DRBD_DISKLESS"]
    assert rsc["volumes"][0]["storage_pool_name"] == "DfltDisklessStorPool"
    assert rsc["volumes"][0]["state"]["disk_state"] == "Diskless"


def test_group_diskless_on_remaining_is_ignored_by_autoplace_but_used_by_spawn(api: Api) -> None:
    api.rg("rg1", place_count=1, diskless_on_remaining=True)
    api.ok(api.spawn("rg1", "spawned"))
    assert len(api.placement("spawned")[1]) == 2
    api.rd("placed", GIB, rg="rg1")
    api.ok(api.post("/v1/resource-definitions/placed/autoplace", {"select_filter": {}}))
    assert api.placement("placed")[1] == set()


def test_layer_list_needs_node_support(start_sim) -> None:
    seed = {"nodes": [node("n1"), node("n2"), {**node("n3"), "layers": ["STORAGE"]}]}
    _, api = start_sim(seed)
    api.rd("r1", GIB)
    refused = autoplace(api, "r1", place_count=3, layer_stack=["DRBD", "STORAGE"])
    assert errors(refused.entries) == [996]
    api.ok(
        api.post(
            "/v1/resource-definitions/r1/autoplace",
            {"select_filter": {"place_count": 3}, "layer_list": ["storage"]},
        )
    )
    rd = api.get("/v1/resource-definitions/r1").body
    assert [layer["type"] for layer in rd["layer_data"]] == ["STORAGE"]
    bad = autoplace(api, "r1", place_count=1, layer_stack=["FLOPPY"])
    assert errors(bad.entries) == [224]


def test_thin_over_subscription(start_sim) -> None:
    _, api = start_sim({"nodes": [node("n1", pool(kib=10 * GIB)), node("n2", pool(kib=10 * GIB))]})
    api.rd("big", 150 * GIB)  # 15x the pool: fine with ratio 20
    api.ok(autoplace(api, "big", place_count=2))
    api.rd("more", 60 * GIB)  # 150 + 60 > 200
    refused = autoplace(api, "more", place_count=1)
    assert errors(refused.entries) == [996]
    api.rd("fits", 40 * GIB)
    api.ok(autoplace(api, "fits", place_count=1))


def test_thin_min_free_space_only_from_1_34(start_sim) -> None:
    for version, allowed in (("1.33.2", True), ("1.34.0-rc.1", False)):
        _, api = start_sim({"version": version, "nodes": [node("n1", pool(kib=10 * GIB))]})
        api.rd("first", 199 * GIB)
        api.ok(autoplace(api, "first", place_count=1))
        api.rd("edge", 1024)  # leaves the estimate (~1 GiB) under 10 % of the total
        reply = autoplace(api, "edge", place_count=1)
        assert (reply.status == 201) is allowed, version


def test_thick_pools_count_what_is_allocated(start_sim) -> None:
    _, api = start_sim({"nodes": [node("n1", pool("thick", "LVM", kib=10 * GIB))]})
    api.rd("r1", 6 * GIB)
    api.ok(autoplace(api, "r1", place_count=1))
    free = api.get("/v1/nodes/n1/storage-pools/thick").body["free_capacity"]
    assert free < 4 * GIB  # gross size includes DRBD metadata rounded to LVM extents
    api.rd("r2", 6 * GIB)
    assert errors(autoplace(api, "r2", place_count=1).entries) == [996]


def test_scoring_prefers_free_space_then_fewer_resources(start_sim) -> None:
    _, api = start_sim(
        {
            "nodes": [
                node("n1", pool("thick", "LVM", kib=10 * GIB)),
                node("n2", pool("thick", "LVM", kib=20 * GIB)),
            ]
        }
    )
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=1))
    assert api.placement("r1")[0] == {"n2"}
    _, api2 = start_sim()
    for i in range(3):
        api2.rd(f"r{i}", GIB)
        api2.ok(autoplace(api2, f"r{i}", place_count=1))
    placed = [next(iter(api2.placement(f"r{i}")[0])) for i in range(3)]
    assert sorted(placed) == ["n1", "n2", "n3"]  # equal thin pools: spread by resource count


def test_offline_and_excluded_nodes_are_not_candidates(start_sim) -> None:
    seed = {
        "nodes": [
            node("n1"),
            {**node("n2"), "online": False},
            node("n3", **{"AutoplaceTarget": "false"}),
            node("n4"),
        ]
    }
    _, api = start_sim(seed)
    api.rd("r1", GIB)
    refused = autoplace(api, "r1", place_count=3)
    assert errors(refused.entries) == [996]
    api.ok(autoplace(api, "r1", place_count=2))
    assert api.placement("r1")[0] == {"n1", "n4"}
    offline = api.get("/v1/nodes/n2/storage-pools/thin").body
    assert "free_capacity" not in offline and offline["reports"]


def test_node_name_list(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(autoplace(api, "r1", place_count=1, node_name_list=["N3"]))
    assert api.placement("r1")[0] == {"n3"}


def test_tiebreaker_lifecycle(api: Api) -> None:
    api.rd("r1", GIB)
    reply = autoplace(api, "r1", place_count=2)
    assert 10003 in infos(reply.entries)
    diskful, _, tb = api.placement("r1")
    assert len(tb) == 1
    tb_node = next(iter(tb))
    assert api.resources("r1")[tb_node]["flags"] == ["DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"]
    rd = api.get("/v1/resource-definitions/r1").body
    assert rd["props"]["DrbdOptions/Resource/quorum"] == "majority"
    # A third replica lands on the tiebreaker's node and replaces it.
    api.ok(autoplace(api, "r1", place_count=3))
    diskful, _, tb = api.placement("r1")
    assert diskful == {"n1", "n2", "n3"} and not tb


def test_tiebreaker_disabled_by_property(api: Api) -> None:
    api.rg("rg1", place_count=2)
    api.ok(
        api.put(
            "/v1/resource-groups/rg1", {"override_props": {"DrbdOptions/auto-add-quorum-tiebreaker": "False"}}
        )
    )
    api.ok(api.spawn("rg1", "r1"))
    assert api.placement("r1")[2] == set()
    assert api.get("/v1/resource-definitions/r1").body["props"]["DrbdOptions/Resource/quorum"] == "off"


def test_no_tiebreaker_node_warns(start_sim) -> None:
    _, api = start_sim({"nodes": [node("n1"), node("n2")]})
    api.rd("r1", GIB)
    reply = autoplace(api, "r1", place_count=2)
    assert reply.status == 201 and warnings(reply.entries) == [1013]


def test_minors_from_1000_and_ports_from_7000_per_node(api: Api) -> None:
    api.rd("r1", GIB, GIB)
    api.ok(autoplace(api, "r1", place_count=3))
    api.rd("r2", GIB)
    api.ok(autoplace(api, "r2", place_count=1, node_name_list=["n2"]))
    r1 = api.resources("r1")
    assert [v["device_path"] for v in r1["n1"]["volumes"]] == ["/dev/drbd1000", "/dev/drbd1001"]
    drbd_vol = r1["n1"]["volumes"][0]["layer_data_list"][0]["data"]
    assert drbd_vol["drbd_volume_definition"]["minor_number"] == 1000
    assert drbd_vol["backing_device"] == "/dev/thin/r1_00000"
    assert r1["n2"]["layer_object"]["drbd"]["tcp_ports"] == [7000]
    r2 = api.resources("r2")["n2"]
    assert r2["volumes"][0]["device_path"] == "/dev/drbd1002"
    assert r2["layer_object"]["drbd"]["tcp_ports"] == [7001]  # second resource on n2
    assert api.get("/v1/resource-definitions/r1").body["layer_data"][0]["data"]["port"] == -1
    node_ids = sorted(r["layer_object"]["drbd"]["node_id"] for r in r1.values())
    assert node_ids == [0, 1, 2]
    # Freed minors are reused (lowest free).
    api.ok(api.delete("/v1/resource-definitions/r1/volume-definitions/0"))
    api.rd("r3", GIB)
    assert (
        "layer_data" not in api.get("/v1/resource-definitions/r3/volume-definitions/0").body
    )  # no stack yet
    vd = api.get("/v1/resource-definitions", with_volume_definitions="true", resource_definitions=["r3"]).body
    assert vd[0]["volume_definitions"][0]["size_kib"] == GIB
    api.ok(autoplace(api, "r3", place_count=1))
    assert (
        api.get("/v1/resource-definitions/r3/volume-definitions/0").body["layer_data"][0]["data"][
            "minor_number"
        ]
        == 1000
    )


def test_ports_before_1_32_are_per_definition(start_sim) -> None:
    _, api = start_sim({"version": "1.31.0", "nodes": [node("n1"), node("n2"), node("n3")]})
    api.rd("r1", GIB)
    api.rd("r2", GIB)
    api.ok(autoplace(api, "r2", place_count=2))
    rd = api.get("/v1/resource-definitions/r2").body
    assert rd["layer_data"][0]["data"]["port"] == 7001
    ports = {tuple(r["layer_object"]["drbd"]["tcp_ports"]) for r in api.resources("r2").values()}
    assert ports == {(7001,)}


def test_peer_slots_limit(start_sim) -> None:
    _, api = start_sim({"nodes": [node(f"n{i}") for i in range(1, 5)]})
    api.rg("rg1", place_count=1)
    api.ok(api.post("/v1/resource-groups", {"name": "tight", "peer_slots": 1}))
    api.ok(api.post("/v1/resource-groups/tight/volume-groups", {}))
    api.ok(api.spawn("tight", "r1", select_filter={"place_count": 2}))
    refused = api.post(
        "/v1/resource-definitions/r1/autoplace", {"select_filter": {"additional_place_count": 1}}
    )
    assert errors(refused.entries) == [993]


def test_many_spawns_stay_balanced_and_numbers_unique(start_sim) -> None:
    sim, api = start_sim({"nodes": [node(f"node{i:02d}", **{"Aux/zone": f"z{i % 3}"}) for i in range(8)]})
    for g in range(4):
        api.rg(f"rg{g}", place_count=2 + g % 2, storage_pool_list=["thin"])
    for i in range(120):
        api.ok(api.spawn(f"rg{i % 4}", f"res{i:03d}", GIB))
    per_node = sorted(len(n.resources) for n in sim.state.nodes.values())
    assert per_node[-1] - per_node[0] <= 1  # fewer resources wins near-ties
    minors = [vd.minor for rd in sim.state.rds.values() for vd in rd.vds.values()]
    assert sorted(minors) == list(range(1000, 1120))
    for n in sim.state.nodes.values():
        ports = [p for r in n.resources.values() for p in r.ports]
        assert sorted(ports) == list(range(7000, 7000 + len(ports)))
    assert len(api.get("/v1/view/resources").body) == sum(per_node)
    assert len(api.get("/v1/view/resources", limit=10, offset=5).body) == 10
