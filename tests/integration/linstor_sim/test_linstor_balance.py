"""One BalanceResources pass (`POST /_sim/balance`) by LINSTOR >= 1.26's rules.

Facts: controller/.../autoplacer/BalanceResources.java (grace period, skips, place count),
AutoUnplacer.java (what it never removes, violation scores, storage pool rating as tie-break),
CtrlRscDeleteApiCallHandler (a removed diskful replica may be taken over as the tiebreaker).
"""

from __future__ import annotations

from typing import Any

from lifecycle_helpers import FakeClock, create_on
from linstor_helpers import GIB, Api, node, pool

THREE = [node("n1"), node("n2"), node("n3", pool(kib=50 * GIB))]  # n3: the least free space


def balanced_sim(start_sim: Any, grace: str | None = "0") -> tuple[Any, Api]:
    ctrl = {"BalanceResourcesGracePeriod": grace} if grace is not None else {}
    sim, api = start_sim({"version": "1.33.2", "nodes": THREE, "controllerProps": ctrl})
    api.rg("rg1", place_count=2)
    api.rd("r1", GIB, rg="rg1")
    api.ok(create_on(api, "r1", "n1", "n2", "n3"))
    return sim, api


def test_surplus_replica_with_least_free_space_goes_BalanceResources(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim)
    reply = api.post("/_sim/balance")
    assert reply.status == 200
    assert reply.body == {"adjusted": [], "removed": [{"resource": "r1", "node": "n3"}]}
    diskful, diskless, tiebreaker = api.placement("r1")
    # deleting one of three leaves two: the deleted one is taken over as the tiebreaker
    assert diskful == {"n1", "n2"} and not diskless and tiebreaker == {"n3"}
    assert api.post("/_sim/balance").body == {"adjusted": [], "removed": []}


def test_grace_period_protects_young_resources(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim, grace=None)  # default 3600 s
    assert api.post("/_sim/balance").body == {"adjusted": [], "removed": []}
    assert api.placement("r1")[0] == {"n1", "n2", "n3"}


def test_in_use_and_offline_replicas_are_never_removed_AutoUnplacer(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim)
    api.ok(api.post("/_sim/resources/r1/n3", {"inUse": True}))
    assert api.resources("r1")["n3"]["state"] == {"in_use": True}
    api.ok(api.post("/_sim/nodes/n1", {"online": False}))
    reply = api.post("/_sim/balance")
    assert reply.body["removed"] == [{"resource": "r1", "node": "n2"}]


def test_filter_violations_outweigh_free_space(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim)
    api.ok(api.put("/v1/resource-groups/rg1", {"select_filter": {"node_name_list": ["n2", "n3"]}}))
    assert api.post("/_sim/balance").body["removed"] == [{"resource": "r1", "node": "n1"}]


def test_disabled_or_syncing_definitions_are_skipped(start_sim: Any) -> None:
    sim, api = balanced_sim(start_sim)
    api.ok(api.put("/v1/resource-definitions/r1", {"override_props": {"BalanceResourcesEnabled": "false"}}))
    assert api.post("/_sim/balance").body["removed"] == []
    api.ok(api.put("/v1/resource-definitions/r1", {"delete_props": ["BalanceResourcesEnabled"]}))
    sim.state.clock = clock = FakeClock()
    api.ok(api.post("/_sim/drbd", {"syncSeconds": 5}))
    api.rg("rg2", place_count=1)
    api.rd("r2", GIB, rg="rg2")
    api.ok(create_on(api, "r2", "n1"))
    api.ok(create_on(api, "r2", "n2"))  # resyncing from n1
    assert api.post("/_sim/balance").body["removed"] == [{"resource": "r1", "node": "n3"}]
    clock.advance(5)
    assert api.post("/_sim/balance").body["removed"] == [{"resource": "r2", "node": "n1"}]


def test_too_few_replicas_are_topped_up(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim)
    api.rd("r2", GIB, rg="rg1")
    api.ok(create_on(api, "r2", "n1"))
    reply = api.post("/_sim/balance")
    assert reply.body["adjusted"] == ["r2"]
    assert len(api.placement("r2")[0]) == 2


def test_skip_disk_replicas_do_not_count_and_too_many_skip_the_definition(start_sim: Any) -> None:
    _, api = balanced_sim(start_sim)
    skip = {"override_props": {"DrbdOptions/SkipDisk": "true"}}
    api.ok(api.put("/v1/resource-definitions/r1/resources/n1", skip))
    assert api.post("/_sim/balance").body["removed"] == []  # n2 + n3 meet the place count
    api.ok(api.put("/v1/resource-definitions/r1/resources/n2", skip))
    assert api.post("/_sim/balance").body == {"adjusted": [], "removed": []}  # over the limit of 1
