"""Pins count toward placeCount; Stratum removes only what it may (placement.py rules)."""

from __future__ import annotations

from typing import Any

from stratum.api.linstor import ResourceSpec
from stratum.clients.linstor.models import Resource
from stratum.reconcile.linstor.placement import PLACED_BY, plan_placement, wanted_diskful
from stratum.reconcile.linstor.replica_health import assess

UID = "uid-1"
DISKLESS = ["DISKLESS", "DRBD_DISKLESS"]


def spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec.model_validate({"resourceGroup": "rg", "volumes": [{"size": "1Gi"}], **kwargs})


def rsc(
    node: str, *, disk: str = "UpToDate", flags: list[str] | None = None, ours: bool = False, **state: Any
) -> Resource:
    online = state.get("online", True)
    body: dict[str, Any] = {
        "name": "r1",
        "node_name": node,
        "flags": flags or [],
        "props": {PLACED_BY: UID} if ours else {},
        "volumes": [{"volume_number": 0, **({"state": {"disk_state": disk}} if online else {})}],
    }
    if online:
        body["state"] = {"in_use": state.get("in_use", False)}
    return Resource.model_validate(body)


def plan(wanted: ResourceSpec, resources: list[Resource], place_count: int | None = 2) -> Any:
    health = assess(resources, wanted_diskful(wanted, place_count))
    return plan_placement(wanted, resources, UID, place_count, health)


def test_a_new_resource_gets_its_pin_then_autoplace_for_the_rest() -> None:
    first = plan(spec(diskfulNodes=["n3"]), [])
    assert first.make_diskful == ["n3"] and first.autoplace and not first.remove


def test_the_pin_counts_toward_place_count() -> None:
    placed = plan(spec(diskfulNodes=["n3"]), [rsc("n3", ours=True), rsc("n1")])
    assert not placed.changes


def test_more_pins_than_place_count_keep_one_replica_per_pin() -> None:
    pins = spec(diskfulNodes=["n1", "n2", "n3"])
    assert wanted_diskful(pins, 2) == 3
    assert not plan(pins, [rsc("n1", ours=True), rsc("n2", ours=True), rsc("n3", ours=True)]).changes


def test_a_pin_added_to_a_full_resource_trims_an_unpinned_replica_once_uptodate() -> None:
    wanted = spec(diskfulNodes=["n3"])
    syncing = plan(wanted, [rsc("n1"), rsc("n2"), rsc("n3", disk="Inconsistent", ours=True)])
    assert syncing.remove == [] and "n3 is UpToDate" in syncing.kept[0]
    synced = plan(wanted, [rsc("n1"), rsc("n2"), rsc("n3", ours=True)])
    assert synced.remove == ["n1"]  # never the pinned n3: BalanceResources has nothing to trim after


def test_unpinning_removes_stratums_own_replica_first_but_never_below_place_count() -> None:
    at_count = plan(spec(), [rsc("n1"), rsc("n3", ours=True)])
    assert not at_count.changes  # two diskful for placeCount 2: the former pin stays
    surplus = plan(spec(), [rsc("n1"), rsc("n2"), rsc("n3", ours=True)])
    assert surplus.remove == ["n3"]


def test_surplus_is_never_trimmed_while_a_replica_is_unreachable_or_in_use() -> None:
    assert plan(spec(), [rsc("n1"), rsc("n2", online=False), rsc("n3", ours=True)]).remove == []
    busy = plan(spec(), [rsc("n1", in_use=True), rsc("n2", in_use=True), rsc("n3", ours=True, in_use=True)])
    assert busy.remove == [] and "in use" in busy.kept[0]
    # The idle one goes, in use or not being Stratum's own.
    mixed = plan(spec(), [rsc("n1"), rsc("n2"), rsc("n3", ours=True, in_use=True)])
    assert mixed.remove == ["n1"]


def test_a_diskless_attachment_stratum_made_goes_when_the_node_leaves_the_list() -> None:
    resources = [rsc("n1"), rsc("n2"), rsc("n4", disk="Diskless", flags=DISKLESS, ours=True)]
    assert plan(spec(disklessNodes=["n4"]), resources).remove == []
    assert plan(spec(), resources).remove == ["n4"]
    busy = [rsc("n1"), rsc("n2"), rsc("n4", disk="Diskless", flags=DISKLESS, ours=True, in_use=True)]
    assert plan(spec(), busy).remove == []


def test_diskless_replicas_linstor_placed_are_left_alone() -> None:
    tie = rsc("n3", disk="Diskless", flags=[*DISKLESS, "TIE_BREAKER"])
    assert not plan(spec(), [rsc("n1"), rsc("n2"), tie]).changes


def test_nothing_is_removed_while_wanted_replicas_are_still_being_placed() -> None:
    wanted = spec(diskfulNodes=["n4"])
    pending = plan(wanted, [rsc("n1"), rsc("n2"), rsc("n3", ours=True)])
    assert pending.make_diskful == ["n4"] and pending.remove == []


def test_after_a_balance_pass_trimmed_nothing_is_re_added_beyond_place_count() -> None:
    # BalanceResources removed the unpinned surplus: pins plus autoplace already make placeCount.
    assert not plan(spec(diskfulNodes=["n3"]), [rsc("n3", ours=True), rsc("n2")]).changes
