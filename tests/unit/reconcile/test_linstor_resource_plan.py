"""Resource plans: volumes, properties, placements; status from what LINSTOR reports."""

from __future__ import annotations

from typing import Any

from stratum.api.linstor import ResourceSpec, RollbackStatus
from stratum.clients.linstor.models import Resource, ResourceDefinition, VolumeDefinition
from stratum.reconcile.linstor.ownership import MANAGED_PROP, OWNER_PROP
from stratum.reconcile.linstor.resource import (
    ALLOW_TWO_PRIMARIES,
    plan_resource,
    replica_status,
    rollback_due,
    volume_status,
)

UID = "7d2f2b3e-1111-4a2b-8c3d-000000000001"
GIB_KIB = 1024 * 1024


def spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec.model_validate({"resourceGroup": "rg", "volumes": [{"size": "1Gi"}], **kwargs})


def rd(*sizes_kib: int, props: dict[str, str] | None = None) -> ResourceDefinition:
    base = {OWNER_PROP: UID, MANAGED_PROP: ""}
    return ResourceDefinition(
        name="r1",
        props={**base, **(props or {})},
        resource_group_name="rg",
        volume_definitions=[VolumeDefinition(volume_number=i, size_kib=s) for i, s in enumerate(sizes_kib)],
    )


def rsc(node: str, *flags: str, disk_state: str = "UpToDate") -> Resource:
    return Resource.model_validate(
        {
            "name": "r1",
            "node_name": node,
            "flags": list(flags),
            # A connected satellite reports a state (linstor-server Json.java apiToResourceWithVolumes).
            "state": {"in_use": False},
            "volumes": [
                {
                    "volume_number": 0,
                    "device_path": "/dev/drbd1000",
                    "state": {"disk_state": disk_state},
                    "layer_data_list": [
                        {
                            "type": "DRBD",
                            "data": {"drbd_volume_definition": {"volume_number": 0, "minor_number": 1000}},
                        }
                    ],
                }
            ],
        }
    )


def test_converged_resource_needs_nothing() -> None:
    plan = plan_resource(spec(), rd(GIB_KIB), [rsc("n1"), rsc("n2")], UID, place_count=2)
    assert not plan.changes


def test_growing_and_adding_volumes() -> None:
    plan = plan_resource(
        spec(volumes=[{"size": "2Gi"}, {"size": "500Mi"}]),
        rd(GIB_KIB),
        [rsc("n1"), rsc("n2")],
        UID,
        place_count=2,
    )
    assert plan.grow_volumes == [(0, 2 * GIB_KIB)]
    assert plan.create_volumes == [(1, 500 * 1024)]


def test_a_larger_volume_is_reported_not_shrunk() -> None:
    plan = plan_resource(spec(), rd(2 * GIB_KIB), [rsc("n1"), rsc("n2")], UID, place_count=2)
    assert plan.oversized == [0]
    assert not plan.grow_volumes


def test_allow_two_primaries_is_a_managed_drbd_option() -> None:
    plan = plan_resource(spec(allowTwoPrimaries=True), rd(GIB_KIB), [rsc("n1"), rsc("n2")], UID, 2)
    assert plan.props.override == {ALLOW_TWO_PRIMARIES: "yes", MANAGED_PROP: ALLOW_TWO_PRIMARIES}
    # Turned off again: the option the operator set is removed.
    managed = rd(GIB_KIB, props={ALLOW_TWO_PRIMARIES: "yes", MANAGED_PROP: ALLOW_TWO_PRIMARIES})
    plan = plan_resource(spec(), managed, [rsc("n1"), rsc("n2")], UID, 2)
    assert plan.props.delete == [ALLOW_TWO_PRIMARIES]


def test_nodes_get_the_replicas_the_spec_names() -> None:
    resources = [rsc("n1"), rsc("n2", "DISKLESS", "DRBD_DISKLESS", disk_state="Diskless")]
    plan = plan_resource(
        spec(diskfulNodes=["n1", "n2", "n4"], disklessNodes=["n3"]),
        rd(GIB_KIB),
        resources,
        UID,
        place_count=2,
    )
    assert plan.make_diskful == ["n4"]
    assert plan.toggle_diskful == ["n2"]
    assert plan.make_diskless == ["n3"]
    assert not plan.autoplace  # three diskful replicas planned >= place count 2


def test_a_diskful_replica_also_counts_as_an_attachment() -> None:
    plan = plan_resource(spec(disklessNodes=["n1"]), rd(GIB_KIB), [rsc("n1"), rsc("n2")], UID, 2)
    assert plan.make_diskless == []


def test_missing_replicas_are_topped_up_by_autoplace() -> None:
    deleting = rsc("n2", "DELETE")
    plan = plan_resource(spec(), rd(GIB_KIB), [rsc("n1"), deleting], UID, place_count=2)
    assert plan.autoplace


def test_status_lists_volumes_with_device_and_minor_and_skips_deleted_replicas() -> None:
    resources = [
        rsc("n2"),
        rsc("n1"),
        rsc("n3", "DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER", disk_state="Diskless"),
        rsc("n4", "DELETE"),
    ]
    assert [
        v.model_dump(by_alias=True, exclude_none=True) for v in volume_status(rd(GIB_KIB), resources)
    ] == [{"number": 0, "size": "1Gi", "devicePath": "/dev/drbd1000", "minor": 1000, "resizing": False}]
    assert [r.model_dump(by_alias=True, exclude_none=True) for r in replica_status(resources)] == [
        {**replica("n1"), "state": "UpToDate"},
        {**replica("n2"), "state": "UpToDate"},
        {**replica("n3"), "diskless": True, "tieBreaker": True, "state": "Diskless"},
    ]


def replica(node: str) -> dict[str, Any]:
    return {
        "node": node,
        "diskless": False,
        "tieBreaker": False,
        "reachable": True,
        "inUse": False,
        "placedByStratum": False,
    }


def test_rollback_runs_once_per_request_id() -> None:
    wanted = spec(rollback={"snapshot": "s1", "requestId": "7"})
    assert rollback_due(wanted, None)
    assert rollback_due(wanted, RollbackStatus(request_id="6", snapshot="s0", completed_at="t"))
    assert not rollback_due(wanted, RollbackStatus(request_id="7", snapshot="s1", completed_at="t"))
    assert not rollback_due(spec(), None)
