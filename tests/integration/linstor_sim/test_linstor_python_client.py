"""The same flows through python-linstor: the low-level `Linstor` client and the high-level objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import linstor
import pytest
from linstor.resource import Resource, Volume
from linstor.resourcegroup import ResourceGroup
from linstor_helpers import GIB, Api, three_nodes

from stratum.sim.linstor import LinstorSim

Started = Callable[..., tuple[LinstorSim, Api]]


def ok(replies: list[Any]) -> list[Any]:
    assert linstor.Linstor.all_api_responses_no_error(replies), [str(r) for r in replies]
    return replies


def test_connect_and_read_the_cluster(lin: linstor.Linstor) -> None:
    assert lin.controller_version().version == "1.33.2"
    nodes = lin.node_list_raise().nodes
    assert sorted(n.name for n in nodes) == ["n1", "n2", "n3"]
    assert nodes[0].props["Aux/zone"] in {"a", "b", "c"}
    pools = lin.storage_pool_list_raise(filter_by_stor_pools=["thin"]).storage_pools
    assert len(pools) == 3 and all(p.is_thin() and p.supports_snapshots() for p in pools)
    assert pools[0].free_space.total_capacity == 100 * GIB


def test_low_level_group_spawn_autoplace_toggle(lin: linstor.Linstor) -> None:
    replies = ok(
        lin.resource_group_create(
            "rg1",
            place_count=2,
            storage_pool="thin",
            replicas_on_different=["Aux/zone"],
            property_dict={"Aux/x": "y"},
        )
    )
    assert replies[0].is_success() and replies[0].ret_code == 21233665
    rg = lin.resource_group_list_raise(filter_by_resource_groups=["rg1"]).resource_groups[0]
    assert rg.select_filter.place_count == 2 and rg.select_filter.storage_pool_list == ["thin"]
    assert rg.properties == {}  # props on create are ignored
    ok(lin.resource_group_modify("rg1", property_dict={"Aux/x": "y"}))
    ok(lin.volume_group_create("rg1"))
    dup = lin.resource_group_create("RG1")
    assert dup[0].is_error() and dup[0].ret_code & 0x7FFF == 522

    ok(lin.resource_group_spawn("rg1", "res1", ["1GiB"]))
    rscs = lin.resource_list_raise(filter_by_resources=["res1"]).resources
    diskful = [r for r in rscs if linstor.consts.FLAG_DISKLESS not in r.flags]
    tiebreaker = [r for r in rscs if linstor.consts.FLAG_TIE_BREAKER in r.flags]
    assert len(diskful) == 2 and len(tiebreaker) == 1
    vol = diskful[0].volumes[0]
    assert vol.device_path == "/dev/drbd1000" and vol.storage_pool_name == "thin"
    assert vol.drbd_data.drbd_volume_definition.minor == 1000

    not_enough = lin.resource_auto_place("res1", 4)
    assert not linstor.Linstor.all_api_responses_no_error(not_enough)
    assert linstor.Linstor.filter_api_call_response_errors(not_enough)[0].ret_code & 0x7FFF == 996

    tb_node = tiebreaker[0].node_name
    ok(lin.resource_toggle_disk(tb_node, "res1", storage_pool="thin"))  # REST 1.27: the old path
    rscs = lin.resource_list_raise(filter_by_resources=["res1"]).resources
    assert all(linstor.consts.FLAG_DISKLESS not in r.flags for r in rscs) and len(rscs) == 3
    ok(lin.resource_toggle_disk(tb_node, "res1", diskless=True))
    ok(lin.volume_dfn_modify("res1", 0, size=2 * GIB))
    vd = lin.resource_dfn_list_raise(filter_by_resource_definitions=["res1"]).resource_definitions[0]
    assert vd.volume_definitions[0].size == 2 * GIB
    qmvs = lin.resource_group_qmvs("rg1")[0]
    assert qmvs.candidates[0].storage_pool == "thin" and qmvs.candidates[0].all_thin

    ok(lin.snapshot_create(node_names=[], rsc_name="res1", snapshot_name="s1"))
    refused = lin.resource_dfn_delete("res1")
    assert refused[0].is_error() and refused[0].ret_code & 0x7FFF == 514
    ok(lin.snapshot_delete("res1", "s1"))
    ok(lin.resource_dfn_delete("res1"))
    again = lin.resource_dfn_delete("res1")
    assert linstor.Linstor.all_api_responses_no_error(again) and again[0].is_warning()
    ok(lin.resource_group_delete("rg1"))


def test_low_level_new_toggle_path_and_client(start_sim: Started) -> None:
    sim, _ = start_sim(three_nodes("1.34.0"))
    with linstor.Linstor(sim.controller_uri) as lin:
        assert lin.controller_version().rest_api_version == "1.28.0"
        lin.resource_dfn_create("res1")
        ok(lin.volume_dfn_create("res1", GIB))
        ok(lin.resource_auto_place("res1", 2))
        tb = [r for r in lin.resource_list_raise().resources if linstor.consts.FLAG_TIE_BREAKER in r.flags]
        ok(lin.resource_toggle_disk(tb[0].node_name, "res1", storage_pool="thin"))
        ok(lin.resource_toggle_disk(tb[0].node_name, "res1", drbd_client=True))
        rsc = lin.resource_list_raise(filter_by_nodes=[tb[0].node_name]).resources[0]
        assert "CLIENT" in rsc.layer_data.drbd_resource.flags
        ok(lin.resource_create([linstor.ResourceData("n3", "res1", drbd_client=True)]))


def test_high_level_resource_group_and_resources(sim: LinstorSim) -> None:
    uri = sim.controller_uri
    rg = ResourceGroup("hlrg", uri=uri)
    assert rg.nr_volumes == 1  # created with one volume group
    rg.redundancy = 2
    rg.storage_pool = "thin"
    rg.replicas_on_different = ["Aux/zone"]
    assert sim.state.rg("hlrg").select_filter["place_count"] == 2
    rg.property_dict = {"Aux/team": "storage"}
    again = ResourceGroup("hlrg", uri=uri)
    assert (
        again.redundancy == 2
        and again.storage_pool == ["thin"]
        and again.property_dict == {"Aux/team": "storage"}
    )
    assert again.query_max_volume_size()[0].candidates

    res = rg.create_resource("hlres", ["1GiB"])
    assert res.linstor_name == "hlres" and res.resource_group_name == "hlrg"
    assert len(res.diskful_nodes()) == 2
    assert res.volumes[0].device_path == "/dev/drbd1000" and res.volumes[0].minor == 1000
    assert res.volumes[0].storage_pool_name == "thin"
    spare = next(n for n in ("n1", "n2", "n3") if not res.is_diskful(n))

    res.diskful(spare)
    assert res.is_diskful(spare) and len(res.diskful_nodes()) == 3
    res.diskless(spare)
    assert res.is_diskless(spare)

    res.volumes[0].size = 2 * 1024**3
    assert sim.state.rd("hlres").vds[0].size_kib == 2 * GIB
    with pytest.raises(ValueError):
        res.volumes[0].size = 1024**3  # shrinking is refused client-side

    res.snapshot_create("snap1")
    res.volumes[0].size = 3 * 1024**3
    res.snapshot_create("snap2")
    res.snapshot_rollback("snap1")  # 1.33: any snapshot, sizes reset
    assert sim.state.rd("hlres").vds[0].size_kib == 2 * GIB

    restored = res.restore_from_snapshot("snap2", "hlcopy")
    assert restored.linstor_name == "hlcopy"
    assert sorted(restored.diskful_nodes()) == sorted(res.diskful_nodes())
    assert restored.volumes[0].size == 3 * 1024**3
    assert sim.state.rd("hlcopy").rg.name == "hlrg"

    res.snapshot_delete("snap2")
    assert set(sim.state.rd("hlres").snapshots) == {"SNAP1"}
    res.delete()  # deletes remaining snapshots first, then the definition
    assert sim.state.rd("hlres") is None
    restored.delete()
    rg.delete()
    assert sim.state.rg("hlrg") is None


def test_high_level_resource_with_external_name(sim: LinstorSim) -> None:
    res = Resource("pvc.external-1", uri=sim.controller_uri)
    res.volumes[0] = Volume("64MiB")
    res.placement.redundancy = 2
    res.autoplace()
    assert res.linstor_name == "pvc_external-1"
    assert len(res.diskful_nodes()) == 2
    rd = sim.state.rd(res.linstor_name)
    assert rd.external_name == "pvc.external-1"
    assert rd.props["DrbdOptions/Net/allow-two-primaries"] == "no"
    assert rd.vds[0].size_kib == 64 * 1024
    res.activate("n3")
    assert res.is_assigned("n3")


def test_rollback_latest_only_before_1_31(start_sim: Started) -> None:
    sim, _ = start_sim(three_nodes("1.30.0"))
    rg = ResourceGroup("oldrg", uri=sim.controller_uri)
    rg.redundancy = 2
    res = rg.create_resource("oldres", ["100MiB"])
    res.snapshot_create("s1")
    res.snapshot_create("s2")
    with pytest.raises(linstor.LinstorError, match="most recent snapshot"):
        res.snapshot_rollback("s1")
    res.snapshot_rollback("s2")


def test_kv_namespaces(sim: LinstorSim) -> None:
    kv = linstor.KV("stratum", namespace="/ops/", uri=sim.controller_uri)
    kv["owner"] = "team-a"
    kv["config/replicas"] = "3"
    assert sim.state.kvs["STRATUM"].props == {"ops/owner": "team-a", "ops/config/replicas": "3"}
    fresh = linstor.KV("stratum", namespace="/ops/", uri=sim.controller_uri)
    assert dict(fresh.items()) == {"owner": "team-a", "config/replicas": "3"}
    other = linstor.KV("stratum", namespace="/other/", uri=sim.controller_uri)
    assert dict(other.items()) == {}
    other["k"] = "v"
    root = linstor.KV("stratum", namespace="/", uri=sim.controller_uri)
    assert set(root.keys()) == {"ops/owner", "ops/config/replicas", "other/k"}
    del fresh["owner"]
    fresh.clear()
    assert sim.state.kvs["STRATUM"].props == {"other/k": "v"}
    with linstor.Linstor(sim.controller_uri) as lin:
        assert lin.keyvaluestore_list("stratum").properties == {"other/k": "v"}
        assert lin.keyvaluestores().instances() == ["stratum"]
