"""What a create pass sends to LINSTOR, request by request (every one waits for the controller):
a Resource in four, a ResourceGroup in six, nothing while a new Resource only waits for its
group; pins still placed before autoplace; a spawn that cannot place leaves nothing behind."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from stratum.api.linstor import ResourceGroupSpec, ResourceSpec
from stratum.clients.linstor import LinstorClient, LinstorConfig, LinstorError
from stratum.clients.linstor import apicallrc as rc
from stratum.clients.retry import RetryPolicy
from stratum.reconcile import reasons
from stratum.reconcile.linstor import resource, resourcegroup
from stratum.reconcile.linstor.refs import GroupRef
from stratum.reconcile.outcome import status_patch
from stratum.sim.linstor import LinstorSim
from support.linstor_seeds import thin_nodes

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
SEED = thin_nodes(3)
READY_GROUP = GroupRef(linstor_name="rg1", ready=True, place_count=2)


@pytest.fixture
def sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=SEED) as running:
        yield running


@pytest.fixture
async def client(sim: LinstorSim) -> AsyncIterator[LinstorClient]:
    async with LinstorClient(LinstorConfig(controllers=(sim.url,)), retry=FAST) as linstor:
        await linstor.controller()  # the version read of the first request, counted apart
        yield linstor


class Requests:
    """The requests the simulator served since the last `take`, as `METHOD path`: count."""

    def __init__(self, sim: LinstorSim) -> None:
        self.sim = sim
        self.before = Counter(sim.stats.requests)

    def take(self) -> dict[str, int]:
        now = Counter(self.sim.stats.requests)
        delta = {key: n - self.before[key] for key, n in now.items() if n != self.before[key]}
        self.before = now
        return delta


def group_spec(place_count: int = 2) -> ResourceGroupSpec:
    return ResourceGroupSpec.model_validate(
        {"placement": {"placeCount": place_count, "storagePools": ["thin"]}, "volumeGroups": [{}]}
    )


def spec(**kwargs: Any) -> ResourceSpec:
    return ResourceSpec.model_validate({"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}], **kwargs})


def inputs(name: str = "r1", **kwargs: Any) -> resource.ResourceInputs:
    return resource.ResourceInputs(
        name=name, uid=f"uid-{name}", group=kwargs.pop("group", READY_GROUP), **kwargs
    )


def diskful(status: dict[str, Any]) -> list[str]:
    return sorted(r["node"] for r in status["replicas"] if not r["diskless"])


async def test_a_group_create_pass_sends_six_requests(sim: LinstorSim, client: LinstorClient) -> None:
    requests = Requests(sim)
    outcome = await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec())
    assert outcome.ready, outcome.message
    # Read, create, read back, description and owner marker, the volume group, the size query:
    # a group this pass created has no volume groups and nothing spawned from it to count.
    assert requests.take() == {
        "GET /v1/resource-groups/rg1": 2,
        "POST /v1/resource-groups": 1,
        "PUT /v1/resource-groups/rg1": 1,
        "POST /v1/resource-groups/rg1/volume-groups": 1,
        "GET /v1/resource-groups/rg1/query-max-volume-size": 1,
    }
    status = status_patch(outcome.status)
    assert (status["resources"], status["resourcesPlaced"]) == (0, 0)
    # The next pass reads what the first one skipped, and changes nothing.
    again = await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec())
    assert again.ready and again.actions == []
    sent = requests.take()
    assert sent["GET /v1/resource-groups/rg1/volume-groups"] == 1
    assert sent["GET /v1/resource-definitions"] == 1
    assert not any(key.startswith(("POST", "PUT", "DELETE")) for key in sent), sent


async def test_a_resource_create_pass_sends_four_requests(sim: LinstorSim, client: LinstorClient) -> None:
    assert (await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec())).ready
    requests = Requests(sim)
    outcome = await resource.reconcile(client, spec(), inputs())
    assert outcome.ready, outcome.message
    # Is it there? Spawn (definition, volume and both replicas in one request), then the
    # definition and its resources read back together.
    assert requests.take() == {
        "GET /v1/resource-definitions": 2,
        "POST /v1/resource-groups/rg1/spawn": 1,
        "GET /v1/view/resources": 1,
    }
    assert outcome.actions == ["created LINSTOR resource r1", "placed the replicas of r1"]
    status = status_patch(outcome.status)
    assert len(diskful(status)) == 2 and status["volumes"][0]["size"] == "1Gi"
    # Converged: the next pass reads twice and writes nothing.
    again = await resource.reconcile(client, spec(), inputs())
    assert again.ready and again.actions == []
    assert requests.take() == {"GET /v1/resource-definitions": 1, "GET /v1/view/resources": 1}


async def test_a_new_resource_waiting_for_its_group_sends_nothing(
    sim: LinstorSim, client: LinstorClient
) -> None:
    unready = GroupRef(linstor_name="rg1", ready=False, place_count=2)
    requests = Requests(sim)
    for group in (unready, None):
        waiting = await resource.reconcile(client, spec(), inputs(group=group, created_before=False))
        assert waiting.reason == reasons.WAITING_FOR_RESOURCE_GROUP and not waiting.ready
    assert requests.take() == {}
    # One that may exist already (created before, or to be adopted) is read even so.
    for kwargs in ({"created_before": True}, {"created_before": False, "adopt": True}):
        adopt = bool(kwargs.pop("adopt", False))
        waiting = await resource.reconcile(client, spec(adopt=adopt), inputs(group=unready, **kwargs))
        assert waiting.reason == reasons.WAITING_FOR_RESOURCE_GROUP
        assert requests.take() == {"GET /v1/resource-definitions": 1}


async def test_pinned_replicas_are_placed_before_autoplace_tops_up(
    sim: LinstorSim, client: LinstorClient
) -> None:
    assert (await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec())).ready
    requests = Requests(sim)
    outcome = await resource.reconcile(client, spec(diskfulNodes=["n3"]), inputs())
    assert outcome.ready, outcome.message
    sent = requests.take()
    # Definitions only, then the pin (node-restricted autoplace, then Stratum's mark), then one
    # more replica: had the spawn placed two, the pin would have made three.
    assert sent["POST /v1/resource-groups/rg1/spawn"] == 1
    assert sent["POST /v1/resource-definitions/r1/autoplace"] == 2
    status = status_patch(outcome.status)
    assert "n3" in diskful(status) and len(diskful(status)) == 2


async def test_a_spawn_that_cannot_place_leaves_nothing_behind(
    sim: LinstorSim, client: LinstorClient
) -> None:
    """linstor-server CtrlRscGrpApiCallHandler.spawnInTransaction: the autoplace of a spawn fails
    the whole transaction, so no definition is left without replicas."""
    assert (await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec(place_count=4))).ready
    four = GroupRef(linstor_name="rg1", ready=True, place_count=4)
    with pytest.raises(LinstorError) as refused:
        await resource.reconcile(client, spec(), inputs(group=four))
    assert refused.value.has_code(rc.FAIL_NOT_ENOUGH_NODES)
    assert await client.get_resource_definition("r1") is None
    # Once the group asks for what the nodes can hold, the next pass creates it.
    assert (await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec(place_count=3))).ready
    three = GroupRef(linstor_name="rg1", ready=True, place_count=3)
    outcome = await resource.reconcile(client, spec(), inputs(group=three))
    assert outcome.ready and len(diskful(status_patch(outcome.status))) == 3


async def test_passes_starting_together_read_the_controller_version_once(sim: LinstorSim) -> None:
    async with LinstorClient(LinstorConfig(controllers=(sim.url,)), retry=FAST) as fresh:
        await asyncio.gather(*(fresh.list_resource_groups() for _ in range(10)))
    assert sim.stats.requests["GET /v1/controller/version"] == 1
    assert sim.stats.requests["GET /v1/resource-groups"] == 10
