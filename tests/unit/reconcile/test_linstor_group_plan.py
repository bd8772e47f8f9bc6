"""ResourceGroup plans: spec -> select filter, drift detection, property ownership."""

from __future__ import annotations

from stratum.api.linstor import Placement, ResourceGroupSpec, VolumeGroup
from stratum.clients.linstor.models import ResourceGroup, SelectFilter
from stratum.clients.linstor.models import VolumeGroup as ObservedVolumeGroup
from stratum.reconcile.linstor.ownership import MANAGED_PROP, OWNER_PROP
from stratum.reconcile.linstor.resourcegroup import (
    filter_drift,
    placement_fingerprint,
    plan_group,
    plan_volume_groups,
    select_filter,
    short_of_placement,
)

UID = "0b4c1f7e-5f0a-4b8e-9d7c-2a1f3e4d5c6b"


def spec(**kwargs: object) -> ResourceGroupSpec:
    return ResourceGroupSpec.model_validate(kwargs)


def test_select_filter_uses_the_wire_names_and_upper_case_layers() -> None:
    placement = Placement.model_validate(
        {
            "placeCount": 3,
            "storagePools": ["thin"],
            "disklessStoragePool": "DfltDisklessStorPool",
            "doNotPlaceWith": ["db1"],
            "doNotPlaceWithRegex": "^db-",
            "replicasOnSame": ["Aux/site"],
            "replicasOnDifferent": ["Aux/zone"],
            "disklessOnRemaining": True,
            "layerList": ["drbd", "storage"],
            "providerList": ["LVM_THIN"],
        }
    )
    assert select_filter(placement) == {
        "place_count": 3,
        "storage_pool_list": ["thin"],
        "storage_pool_diskless_list": ["DfltDisklessStorPool"],
        "not_place_with_rsc": ["db1"],
        "not_place_with_rsc_regex": "^db-",
        "replicas_on_same": ["Aux/site"],
        "replicas_on_different": ["Aux/zone"],
        "diskless_on_remaining": True,
        "layer_stack": ["DRBD", "STORAGE"],
        "provider_list": ["LVM_THIN"],
    }


def test_unset_regex_and_diskless_pool_are_not_sent() -> None:
    body = select_filter(Placement())
    assert "not_place_with_rsc_regex" not in body
    assert "storage_pool_diskless_list" not in body
    assert body["storage_pool_list"] == []  # an empty list clears LINSTOR's list


def test_no_drift_when_linstor_echoes_the_filter() -> None:
    desired = select_filter(
        Placement.model_validate(
            {"placeCount": 2, "storagePools": ["Thin"], "layerList": ["drbd", "storage"]}
        )
    )
    echoed = SelectFilter(
        place_count=2, storage_pool="thin", layer_stack=["DRBD", "STORAGE"], diskless_on_remaining=False
    )
    assert filter_drift(desired, echoed) == []


def test_every_echoed_field_is_checked_for_drift() -> None:
    desired = select_filter(
        Placement.model_validate(
            {
                "placeCount": 2,
                "storagePools": ["thin"],
                "doNotPlaceWith": ["a1"],
                "doNotPlaceWithRegex": "x",
                "replicasOnSame": ["Aux/site"],
                "replicasOnDifferent": ["Aux/zone"],
                "layerList": ["drbd", "storage"],
                "providerList": ["LVM_THIN"],
                "disklessOnRemaining": True,
            }
        )
    )
    assert filter_drift(desired, SelectFilter()) == [
        "placeCount",
        "storagePools",
        "doNotPlaceWith",
        "doNotPlaceWithRegex",
        "replicasOnSame",
        "replicasOnDifferent",
        "layerList",
        "providerList",
        "disklessOnRemaining",
    ]


def test_plan_for_a_matching_group_is_empty() -> None:
    wanted = spec(placement={"placeCount": 2}, properties={"DrbdOptions/Net/protocol": "C"})
    observed = ResourceGroup(
        name="rg",
        select_filter=SelectFilter(place_count=2, diskless_on_remaining=False),
        props={
            "DrbdOptions/Net/protocol": "C",
            OWNER_PROP: UID,
            MANAGED_PROP: "DrbdOptions/Net/protocol",
            "Aux/foreign": "x",
        },
    )
    assert plan_group(wanted, observed, UID).modify_kwargs() is None


def test_plan_resets_drift_and_removes_only_properties_it_set() -> None:
    wanted = spec(placement={"placeCount": 2}, description="fast", properties={"A/b": "1"})
    observed = ResourceGroup(
        name="rg",
        description="hand-edited",
        select_filter=SelectFilter(place_count=3),
        props={"A/b": "2", "Old/key": "v", "Aux/foreign": "x", OWNER_PROP: UID, MANAGED_PROP: "A/b,Old/key"},
    )
    plan = plan_group(wanted, observed, UID)
    kwargs = plan.modify_kwargs()
    assert kwargs is not None
    assert kwargs["select_filter"]["place_count"] == 2
    assert kwargs["description"] == "fast"
    assert kwargs["override_props"] == {"A/b": "1", MANAGED_PROP: "A/b"}
    assert kwargs["delete_props"] == ["Old/key"]
    assert "placeCount" in plan.drift and "description" in plan.drift


def test_volume_groups_are_created_by_number_and_never_deleted() -> None:
    wanted = [VolumeGroup(properties={}), VolumeGroup(properties={"StorPoolName": "thin"})]
    observed = [
        ObservedVolumeGroup(volume_number=0, props={MANAGED_PROP: ""}),
        ObservedVolumeGroup(volume_number=5),
    ]
    actions = plan_volume_groups(wanted, observed)
    assert [(a.number, a.create) for a in actions] == [(1, True)]
    assert actions[0].props.override == {"StorPoolName": "thin", MANAGED_PROP: "StorPoolName"}


def test_the_placement_fingerprint_follows_the_select_filter_only() -> None:
    base = ResourceGroupSpec.model_validate({"placement": {"placeCount": 2, "storagePools": ["thin"]}})
    same = ResourceGroupSpec.model_validate(
        {
            "placement": {"placeCount": 2, "storagePools": ["thin"]},
            "description": "other",
            "properties": {"a": "b"},
        }
    )
    more = ResourceGroupSpec.model_validate({"placement": {"placeCount": 3, "storagePools": ["thin"]}})
    assert placement_fingerprint(base.placement) == placement_fingerprint(same.placement)
    assert placement_fingerprint(base.placement) != placement_fingerprint(more.placement)


def test_resources_short_of_the_placement_are_named_in_order() -> None:
    counts = {"r1": 3, "r2": 2}
    assert short_of_placement(["R2", "r1", "r3"], counts, 3) == ["R2", "r3"]
    assert short_of_placement(["r1"], counts, 3) == []
