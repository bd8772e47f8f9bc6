"""Replica health from the DRBD states LINSTOR reports (shapes of linstor-server Json.java)."""

from __future__ import annotations

from typing import Any

from stratum.clients.linstor.models import Resource
from stratum.reconcile import reasons
from stratum.reconcile.linstor.replica_health import assess, assess_replica

DISKLESS = ["DISKLESS", "DRBD_DISKLESS"]
TIE_BREAKER = [*DISKLESS, "TIE_BREAKER"]


def rsc(
    node: str,
    disk: str | list[str] = "UpToDate",
    *,
    flags: list[str] | None = None,
    online: bool = True,
    peers: dict[str, bool] | None = None,
    replication: dict[str, dict[str, Any]] | None = None,
    in_use: bool = False,
) -> Resource:
    """A resource as /v1/view/resources shows it; offline satellites carry no state at all."""
    disks = [disk] if isinstance(disk, str) else disk
    volumes: list[dict[str, Any]] = []
    for number, state in enumerate(disks):
        volume: dict[str, Any] = {"volume_number": number}
        if online:
            volume["state"] = {"disk_state": state, "replication_states": replication or {}}
        volumes.append(volume)
    body: dict[str, Any] = {"name": "r1", "node_name": node, "flags": flags or [], "volumes": volumes}
    if online:
        body["state"] = {"in_use": in_use}
        conns = {
            p: {"connected": ok, "message": "Connected" if ok else "Connecting"}
            for p, ok in (peers or {}).items()
        }
        body["layer_object"] = {"drbd": {"connections": conns}}
    return Resource.model_validate(body)


def healthy_pair() -> list[Resource]:
    return [rsc("n1", peers={"n2": True}), rsc("n2", peers={"n1": True})]


def test_all_uptodate_and_connected_is_healthy() -> None:
    health = assess(healthy_pair(), wanted_diskful=2)
    assert health.healthy and health.usable
    assert health.summary() is None


def test_a_syncing_replica_reports_its_progress_from_its_own_replication_state() -> None:
    target = rsc(
        "n2",
        "Inconsistent",
        peers={"n1": True},
        replication={"n1": {"replication_state": "SyncTarget", "done_percentage": 41.25}},
    )
    source = rsc("n1", peers={"n2": True}, replication={"n2": {"replication_state": "SyncSource"}})
    health = assess([source, target], wanted_diskful=2)
    assert health.usable and not health.healthy
    assert health.summary() == (reasons.SYNCING, "syncing: n2 41.2%")


def test_progress_comes_from_the_peer_when_the_target_reports_none() -> None:
    source = rsc(
        "n1",
        peers={"n3": True},
        replication={"n3": {"replication_state": "SyncSource", "done_percentage": 10.0}},
    )
    target = rsc("n3", "Inconsistent", peers={"n1": True})
    replica = assess_replica(target, [source, target])
    assert replica.syncing and replica.sync_percent == 10.0


def test_before_rest_1_25_a_sync_shows_without_percent() -> None:
    """REST < 1.25 has no replication_states: Inconsistent is then not known to be syncing."""
    target = rsc("n2", "Inconsistent", peers={"n1": True})
    health = assess([rsc("n1", peers={"n2": True}), target], wanted_diskful=2)
    reason, message = health.summary() or ("", "")
    assert reason == reasons.REPLICA_NOT_UP_TO_DATE and "n2 is Inconsistent" in message


def test_an_offline_satellite_is_unreachable_and_not_counted_as_disconnected() -> None:
    resources = [rsc("n1", peers={"n2": False}), rsc("n2", online=False)]
    health = assess(resources, wanted_diskful=2)
    assert health.usable
    reason, message = health.summary() or ("", "")
    assert reason == reasons.REPLICA_UNREACHABLE
    assert "n2" in message and "not connected: n1" not in message
    replica = assess_replica(resources[1], resources)
    assert not replica.reachable and replica.disk_state is None and not replica.up_to_date


def test_a_lost_connection_between_reachable_replicas_is_reported() -> None:
    resources = [rsc("n1", peers={"n2": False}), rsc("n2", peers={"n1": False})]
    health = assess(resources, wanted_diskful=2)
    reason, message = health.summary() or ("", "")
    assert reason == reasons.REPLICA_DISCONNECTED
    assert message == "not connected: n1 to n2; n2 to n1"


def test_outdated_is_not_syncing() -> None:
    health = assess([rsc("n1", peers={"n2": True}), rsc("n2", "Outdated", peers={"n1": True})], 2)
    assert health.summary() == (reasons.REPLICA_NOT_UP_TO_DATE, "not UpToDate: n2 is Outdated")


def test_mixed_volume_states_are_joined() -> None:
    replica = assess_replica(rsc("n1", ["UpToDate", "Outdated"]), [])
    assert replica.disk_state == "UpToDate,Outdated" and not replica.up_to_date


def test_missing_replicas_count_only_diskful_and_come_first() -> None:
    resources = [rsc("n1", peers={"n3": True}), rsc("n3", "Diskless", flags=TIE_BREAKER, peers={"n1": True})]
    health = assess(resources, wanted_diskful=2)
    assert health.usable
    assert health.summary() == (reasons.REPLICAS_MISSING, "1 of 2 diskful replicas present")


def test_no_uptodate_replica_is_not_usable() -> None:
    health = assess([rsc("n1", online=False), rsc("n2", "Outdated", peers={"n1": False})], wanted_diskful=2)
    assert not health.usable
    reason, _ = health.summary() or ("", "")
    assert reason == reasons.REPLICA_UNREACHABLE


def test_diskless_replicas_never_count_as_uptodate_data() -> None:
    health = assess([rsc("n3", "Diskless", flags=DISKLESS)], wanted_diskful=None)
    assert not health.usable and health.diskful == []


def test_replicas_being_deleted_are_ignored() -> None:
    health = assess([*healthy_pair(), rsc("n3", "Outdated", flags=["DELETE"], online=False)], 2)
    assert health.healthy and [r.node for r in health.replicas] == ["n1", "n2"]


def test_in_use_is_reported() -> None:
    assert assess_replica(rsc("n1", in_use=True), []).in_use
    assert not assess_replica(rsc("n1", online=False), []).in_use
