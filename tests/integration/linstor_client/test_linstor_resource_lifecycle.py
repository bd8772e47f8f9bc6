"""Resource passes against the simulator's DRBD lifecycle: initial sync, offline satellites,
committed-then-failed changes, pins and BalanceResources, rollback at most once, restore crash
points, blocked resizes, controller versions and group adjust."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from stratum.api.linstor import ResourceGroupSpec, ResourceSpec, RollbackSent, RollbackStatus, SnapshotSpec
from stratum.clients.linstor import LinstorClient, LinstorConfig, LinstorError
from stratum.clients.linstor.version import UnsupportedController
from stratum.clients.retry import RetryPolicy
from stratum.reconcile import reasons
from stratum.reconcile.linstor import resource, resourcegroup, snapshot
from stratum.reconcile.linstor.ownership import OWNER_PROP
from stratum.reconcile.linstor.placement import PLACED_BY
from stratum.reconcile.linstor.refs import GroupRef, ResourceRef, SnapshotRef
from stratum.reconcile.outcome import Outcome, status_patch
from stratum.sim.linstor import LinstorSim

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
GROUP = GroupRef(linstor_name="rg1", ready=True, place_count=2)


def seed(version: str = "1.33.2", pool: str = "LVM_THIN") -> dict[str, Any]:
    return {
        "version": version,
        "controllerProps": {"BalanceResourcesGracePeriod": "0"},
        "nodes": [
            {
                "name": f"n{i}",
                "storagePools": [
                    {"name": "pool", "provider": pool, "capacityKib": 104857600, "freeKib": 104857600}
                ],
            }
            for i in (1, 2, 3, 4)
        ],
    }


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[LinstorSim]:
    """Four nodes; parametrize indirectly with seed() arguments for another version or pool."""
    with LinstorSim(seed=seed(**getattr(request, "param", {}))) as running:
        yield running


@pytest.fixture
async def client(sim: LinstorSim) -> AsyncIterator[LinstorClient]:
    async with LinstorClient(LinstorConfig(controllers=(sim.url,), timeout=2), retry=FAST) as linstor:
        yield linstor


def control(sim: LinstorSim, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.post(sim.url + path, json=body or {}, timeout=5)
    response.raise_for_status()
    return response.json()


async def make_group(client: LinstorClient, place_count: int = 2) -> None:
    spec = ResourceGroupSpec.model_validate(
        {"placement": {"placeCount": place_count, "storagePools": ["pool"]}}
    )
    assert (await resourcegroup.reconcile(client, "rg1", "uid-rg1", spec)).ready


def spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec.model_validate({"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}], **kwargs})


def inputs(name: str = "r1", **kwargs: Any) -> resource.ResourceInputs:
    return resource.ResourceInputs(name=name, uid=f"uid-{name}", group=GROUP, **kwargs)


async def converge(
    client: LinstorClient, wanted: ResourceSpec, inp: resource.ResourceInputs, passes: int = 20
) -> Outcome:
    """Passes as kopf runs them (a raising pass is retried) until Ready."""
    outcome: Outcome | None = None
    for _ in range(passes):
        try:
            outcome = await resource.reconcile(client, wanted, inp)
        except LinstorError:
            await asyncio.sleep(0.05)
            continue
        if outcome.ready:
            return outcome
        await asyncio.sleep(0.2)
    raise AssertionError(f"not Ready after {passes} passes: {outcome}")


def diskful(outcome: Outcome) -> set[str]:
    return {r["node"] for r in status_patch(outcome.status)["replicas"] if not r["diskless"]}


@pytest.mark.parametrize("sim", [{"pool": "LVM"}], indirect=True)
async def test_a_new_thick_resource_is_not_ready_until_its_replicas_synced(
    sim: LinstorSim, client: LinstorClient
) -> None:
    control(sim, "/_sim/drbd", {"syncSeconds": 1.5})
    await make_group(client)
    first = await resource.reconcile(client, spec(), inputs())
    assert not first.ready and first.reason == reasons.SYNCING, first.message
    assert "%" in first.message and first.degraded is not None
    assert first.retry is not None
    await asyncio.sleep(1.6)
    done = await resource.reconcile(client, spec(), inputs())
    assert done.ready and done.reason == reasons.READY and done.degraded is None


async def test_an_offline_satellite_degrades_a_ready_resource_without_unreadying_it(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    created = await converge(client, spec(), inputs())
    node = sorted(diskful(created))[1]
    control(sim, f"/_sim/nodes/{node}", {"online": False})
    ready_before = inputs(ready_before=True, converged_at_generation=True)
    degraded = await resource.reconcile(client, spec(), ready_before)
    assert degraded.ready and degraded.degraded is not None
    assert degraded.degraded.reason == reasons.REPLICA_UNREACHABLE and node in degraded.degraded.message
    replica = next(r for r in status_patch(degraded.status)["replicas"] if r["node"] == node)
    assert replica["reachable"] is False and replica["state"] == "Unknown"
    # Not yet Ready at this generation: the same state is not Ready.
    fresh = await resource.reconcile(client, spec(), inputs())
    assert not fresh.ready and fresh.reason == reasons.REPLICA_UNREACHABLE
    control(sim, f"/_sim/nodes/{node}", {"online": True})
    healthy = await resource.reconcile(client, spec(), ready_before)
    assert healthy.ready and healthy.degraded is None


async def test_warnings_reach_the_outcome(sim: LinstorSim, client: LinstorClient) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    control(sim, "/_sim/nodes/n4", {"online": False})
    attached = await resource.reconcile(client, spec(disklessNodes=["n4"]), inputs())
    assert any("n4" in w for w in attached.warnings), attached.warnings


async def test_a_committed_then_failed_create_converges_with_one_definition(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    sim.faults.update({"commitThenFailRate": 1.0})
    failures = 0
    for _ in range(6):
        try:
            await resource.reconcile(client, spec(diskfulNodes=["n3"]), inputs())
        except LinstorError as exc:
            assert reasons.for_error(exc) == reasons.SATELLITE_FAILED
            assert exc.answers[-1].error_report_ids
            failures += 1
    assert failures >= 1
    sim.faults.update({"commitThenFailRate": 0.0})
    done = await converge(client, spec(diskfulNodes=["n3"]), inputs())
    assert len(diskful(done)) == 2 and "n3" in diskful(done)
    names = [rd.name for rd in await client.list_resource_definitions()]
    assert names.count("r1") == 1


async def test_a_pin_counts_toward_place_count_and_survives_balance(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    done = await converge(client, spec(diskfulNodes=["n3"]), inputs())
    assert len(diskful(done)) == 2 and "n3" in diskful(done)
    pinned = next(r for r in status_patch(done.status)["replicas"] if r["node"] == "n3")
    assert pinned["placedByStratum"] is True
    assert control(sim, "/_sim/balance")["removed"] == []
    again = await resource.reconcile(client, spec(diskfulNodes=["n3"]), inputs())
    assert again.ready and again.actions == []


async def test_a_pin_added_later_trims_an_unpinned_replica_so_balance_has_nothing_to_undo(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    first = await converge(client, spec(), inputs())
    spare = ({"n1", "n2", "n3", "n4"} - diskful(first)).pop()
    wanted = spec(diskfulNodes=[spare])
    outcomes = [await resource.reconcile(client, wanted, inputs()) for _ in range(3)]
    assert any("removed the replica" in a for o in outcomes for a in o.actions)
    final = outcomes[-1]
    assert final.ready and len(diskful(final)) == 2 and spare in diskful(final)
    assert control(sim, "/_sim/balance")["removed"] == []
    # Unpinned again: two replicas for placeCount 2, nothing goes.
    unpinned = await resource.reconcile(client, spec(), inputs())
    assert unpinned.ready and len(diskful(unpinned)) == 2


async def test_pinning_the_tie_breaker_node_gives_it_a_disk_in_the_groups_pool(client: LinstorClient) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    tie = next(r.node_name for r in await client.list_resources(["r1"]) if r.tie_breaker)
    wanted = spec(diskfulNodes=[tie])
    outcomes = [await resource.reconcile(client, wanted, inputs()) for _ in range(3)]
    assert f"made the replica of r1 on {tie} diskful" in outcomes[0].actions
    placed = {r.node_name: r for r in await client.list_resources(["r1"]) if not r.deleting}
    assert not placed[tie].diskless and placed[tie].volumes[0].storage_pool_name == "pool"
    assert placed[tie].props[PLACED_BY] == "uid-r1"  # Stratum's disk: the first to go once unpinned
    assert outcomes[-1].ready and len(diskful(outcomes[-1])) == 2 and tie in diskful(outcomes[-1])


async def test_a_diskless_attachment_goes_when_its_node_leaves_the_list(client: LinstorClient) -> None:
    await make_group(client)
    await converge(client, spec(disklessNodes=["n4"]), inputs())
    dropped = await resource.reconcile(client, spec(), inputs())
    assert "removed the replica of r1 on n4 (no longer wanted there)" in dropped.actions
    nodes = {r.node_name for r in await client.list_resources(["r1"]) if not r.deleting}
    assert "n4" not in nodes


# ----------------------------------------------------------------------------- rollback


async def take_snapshot(client: LinstorClient, name: str) -> SnapshotRef:
    ref = ResourceRef(linstor_name="r1", exists=True)
    taken = await snapshot.reconcile(
        client, name, f"uid-{name}", spec=SnapshotSpec(resource="r1"), resource=ref, recorded=None
    )
    assert taken.ready, taken.message
    return SnapshotRef(linstor_name=name, resource_linstor_name="r1", ready=True)


class LosingTransport(httpx.AsyncHTTPTransport):
    """The controller gets the request and answers; the answer never arrives (a timeout)."""

    def __init__(self, lose: str) -> None:
        super().__init__()
        self.lose = lose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        if self.lose in request.url.path:
            await response.aread()
            raise httpx.ReadTimeout("answer lost", request=request)
        return response


async def test_a_rollback_whose_answer_is_lost_is_not_sent_again(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    snap = await take_snapshot(client, "s1")
    recorded: list[RollbackSent | None] = []

    async def record(sent: RollbackSent | None) -> None:
        recorded.append(sent)

    wanted = spec(rollback={"snapshot": "s1", "requestId": "1"})
    config = LinstorConfig(controllers=(sim.url,))
    async with LinstorClient(config, retry=FAST, transport=LosingTransport("snapshot-rollback")) as losing:
        lost = await resource.reconcile(
            losing, wanted, inputs(rollback_snapshot=snap, record_rollback=record)
        )
    assert lost.reason == reasons.ROLLBACK_UNCERTAIN and not lost.ready
    assert recorded and recorded[0] is not None and recorded[0].request_id == "1"
    posts = "POST /v1/resource-definitions/r1/snapshot-rollback/s1"
    assert sim.stats.requests[posts] == 1
    # Next pass (e.g. after a restart): the intent is in status, no completion: never resent.
    later = await resource.reconcile(
        client, wanted, inputs(rollback_snapshot=snap, rollback_sent=recorded[0])
    )
    assert later.reason == reasons.ROLLBACK_UNCERTAIN and "new spec.rollback.requestId" in later.message
    assert sim.stats.requests[posts] == 1
    # A new requestId asks again, once.
    again = spec(rollback={"snapshot": "s1", "requestId": "2"})
    done = await resource.reconcile(client, again, inputs(rollback_snapshot=snap, rollback_sent=recorded[0]))
    assert sim.stats.requests[posts] == 2
    assert status_patch(done.status)["lastRollback"]["requestId"] == "2"
    follow = await resource.reconcile(
        client,
        again,
        inputs(
            rollback_snapshot=snap,
            last_rollback=RollbackStatus.model_validate(status_patch(done.status)["lastRollback"]),
            rollback_sent=RollbackSent.model_validate(status_patch(done.status)["rollbackSent"]),
        ),
    )
    assert sim.stats.requests[posts] == 2 and follow.reason != reasons.ROLLBACK_UNCERTAIN


async def test_rollback_preconditions_are_checked_before_anything_is_recorded(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    created = await converge(client, spec(), inputs())
    snap = await take_snapshot(client, "s1")
    recorded: list[RollbackSent | None] = []

    async def record(sent: RollbackSent | None) -> None:
        recorded.append(sent)

    wanted = spec(rollback={"snapshot": "s1", "requestId": "1"})
    node = sorted(diskful(created))[0]
    control(sim, f"/_sim/resources/r1/{node}", {"inUse": True})
    busy = await resource.reconcile(client, wanted, inputs(rollback_snapshot=snap, record_rollback=record))
    assert busy.reason == reasons.IN_USE and node in busy.message
    control(sim, f"/_sim/resources/r1/{node}", {"inUse": False})
    control(sim, f"/_sim/nodes/{node}", {"online": False})
    offline = await resource.reconcile(client, wanted, inputs(rollback_snapshot=snap, record_rollback=record))
    assert offline.reason == reasons.NOT_CONNECTED and node in offline.message
    assert recorded == [] and sim.stats.requests["POST /v1/resource-definitions/r1/snapshot-rollback/s1"] == 0


@pytest.mark.parametrize("sim", [{"version": "1.30.1"}], indirect=True)
async def test_old_controllers_roll_back_only_to_the_newest_snapshot(client: LinstorClient) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    old = await take_snapshot(client, "s1")
    await take_snapshot(client, "s2")
    refused = await resource.reconcile(
        client, spec(rollback={"snapshot": "s1", "requestId": "1"}), inputs(rollback_snapshot=old)
    )
    assert refused.reason == reasons.ROLLBACK_REFUSED and "s2" in refused.message


# ----------------------------------------------------------------------------- restore


class Crash(Exception):
    """The operator died right after this call reached LINSTOR."""


class CrashingClient(LinstorClient):
    def __init__(self, *args: Any, after: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after = after

    async def _mutate(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        answers = await super()._mutate(method, path, body, params)
        if self.after in path:
            raise Crash(path)
        return answers


@pytest.mark.parametrize(
    "crash_after",
    ["/v1/resource-definitions", "snapshot-restore-volume-definition", "snapshot-restore-resource", "/r2"],
)
async def test_a_restore_is_ours_at_every_point_a_pass_can_die(
    sim: LinstorSim, client: LinstorClient, crash_after: str
) -> None:
    await make_group(client)
    await converge(client, spec(properties={"Aux/app": "db"}), inputs())
    snap = await take_snapshot(client, "s1")
    restore = spec(restoreFrom={"snapshot": "s1"})
    target = inputs("r2", restore_snapshot=snap)
    async with CrashingClient(
        LinstorConfig(controllers=(sim.url,)), retry=FAST, after=crash_after
    ) as crashing:
        with pytest.raises(Crash):
            await resource.reconcile(crashing, restore, target)
    done = await converge(client, restore, target)
    assert done.ready, done.message
    rd = await client.get_resource_definition("r2")
    assert rd is not None and rd.props[OWNER_PROP] == "uid-r2"
    assert not any(k.startswith(resource.RESTORING_PREFIX) for k in rd.props)
    assert len(diskful(done)) == 2
    # The source keeps its own owner; the target is not claimed by the source's object.
    source = await resource.reconcile(client, spec(properties={"Aux/app": "db"}), inputs())
    assert source.ready
    names = [d.name for d in await client.list_resource_definitions()]
    assert names.count("r2") == 1


# ----------------------------------------------------------------------------- resize


async def test_a_resize_waits_for_an_offline_satellite_then_shows_progress(
    sim: LinstorSim, client: LinstorClient
) -> None:
    control(sim, "/_sim/drbd", {"resizeSeconds": 1})
    await make_group(client)
    created = await converge(client, spec(), inputs())
    node = sorted(diskful(created))[0]
    control(sim, f"/_sim/nodes/{node}", {"online": False})
    bigger = spec(volumes=[{"size": "2Gi"}])
    blocked = await resource.reconcile(client, bigger, inputs())
    assert blocked.reason == reasons.RESIZE_BLOCKED and node in blocked.message and not blocked.ready
    # On a resource that was Ready the data stays usable: Ready, still working toward the spec.
    usable = await resource.reconcile(client, bigger, inputs(ready_before=True))
    assert usable.ready and usable.progressing and usable.reason == reasons.RESIZE_BLOCKED
    assert node in usable.message and usable.degraded is not None
    assert all(
        k.startswith("GET ") or "resource-definitions/r1/volume-definitions" not in k
        for k in sim.stats.requests
    )
    control(sim, f"/_sim/nodes/{node}", {"online": True})
    resizing = await resource.reconcile(client, bigger, inputs())
    assert resizing.reason == reasons.RESIZING, resizing.message
    assert status_patch(resizing.status)["volumes"][0]["resizing"] is True
    await asyncio.sleep(1.1)
    grown = await resource.reconcile(client, bigger, inputs())
    assert grown.ready and status_patch(grown.status)["volumes"][0] == {
        **status_patch(grown.status)["volumes"][0],
        "size": "2Gi",
        "resizing": False,
    }


# ----------------------------------------------------------------------------- controller


@pytest.mark.parametrize("sim", [{"version": "1.29.2"}], indirect=True)
async def test_a_controller_too_old_is_refused_before_any_request(
    sim: LinstorSim, client: LinstorClient
) -> None:
    with pytest.raises(UnsupportedController) as caught:
        await client.list_resource_groups()
    assert reasons.for_error(caught.value) == reasons.UNSUPPORTED_CONTROLLER
    assert "1.24.0" in caught.value.message and "1.29.2" in caught.value.message
    assert set(sim.stats.requests) == {"GET /v1/controller/version"}


# ----------------------------------------------------------------------------- group adjust


async def test_a_placement_change_reaches_spawned_resources(sim: LinstorSim, client: LinstorClient) -> None:
    await make_group(client)
    for name in ("r1", "r2"):
        await converge(client, spec(), inputs(name))
    three = ResourceGroupSpec.model_validate({"placement": {"placeCount": 3, "storagePools": ["pool"]}})
    adjusted = await resourcegroup.reconcile(client, "rg1", "uid-rg1", three)
    assert adjusted.ready and any("adjusted" in a for a in adjusted.actions)
    assert status_patch(adjusted.status)["resources"] == 2
    assert status_patch(adjusted.status)["resourcesPlaced"] == 2
    five = ResourceGroupSpec.model_validate({"placement": {"placeCount": 5, "storagePools": ["pool"]}})
    unmet = await resourcegroup.reconcile(client, "rg1", "uid-rg1", five)
    assert unmet.degraded is not None and unmet.degraded.reason == reasons.PLACEMENT_UNMET
    assert "r1, r2" in unmet.degraded.message


async def test_an_adjust_lost_in_a_crash_is_made_up_by_the_next_pass(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    three = ResourceGroupSpec.model_validate({"placement": {"placeCount": 3, "storagePools": ["pool"]}})
    old = resourcegroup.placement_fingerprint(
        ResourceGroupSpec.model_validate({"placement": {"placeCount": 2, "storagePools": ["pool"]}}).placement
    )
    async with CrashingClient(
        LinstorConfig(controllers=(sim.url,)), retry=FAST, after="/v1/resource-groups/rg1"
    ) as crashing:
        with pytest.raises(Crash):
            await resourcegroup.reconcile(crashing, "rg1", "uid-rg1", three, placement_applied=old)
    before = sim.stats.requests["POST /v1/resource-groups/rg1/adjust"]
    after = await resourcegroup.reconcile(client, "rg1", "uid-rg1", three, placement_applied=old)
    assert sim.stats.requests["POST /v1/resource-groups/rg1/adjust"] == before + 1
    assert status_patch(after.status)["placementApplied"] == resourcegroup.placement_fingerprint(
        three.placement
    )
    placed = [r for r in await client.list_resources(["r1"]) if not r.diskless]
    assert len(placed) == 3
    assert all(r.props.get(PLACED_BY) is None for r in placed)


async def test_a_restore_target_left_by_a_crash_is_deleted_with_its_object(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await make_group(client)
    await converge(client, spec(), inputs())
    snap = await take_snapshot(client, "s1")
    restore = spec(restoreFrom={"snapshot": "s1"})
    async with CrashingClient(
        LinstorConfig(controllers=(sim.url,)), retry=FAST, after="snapshot-restore-resource"
    ) as crashing:
        with pytest.raises(Crash):
            await resource.reconcile(crashing, restore, inputs("r2", restore_snapshot=snap))
    copied = await client.get_resource_definition("r2")
    assert copied is not None and copied.props[OWNER_PROP] == "uid-r1"  # the source's marker, copied
    assert (await resource.finalize(client, restore, "r2", "uid-r2")).ready
    assert await client.get_resource_definition("r2") is None


async def test_a_snapshot_skipping_an_offline_node_says_so(sim: LinstorSim, client: LinstorClient) -> None:
    await make_group(client)
    created = await converge(client, spec(), inputs())
    node = sorted(diskful(created))[0]
    control(sim, f"/_sim/nodes/{node}", {"online": False})
    ref = ResourceRef(linstor_name="r1", exists=True)
    taken = await snapshot.reconcile(
        client, "s1", "uid-s1", spec=SnapshotSpec(resource="r1"), resource=ref, recorded=None
    )
    assert taken.ready and any(node in w for w in taken.warnings), taken.warnings
    assert node not in status_patch(taken.status)["nodes"]
