"""Drift passes on shared reads against both simulators: the backend requests of one drift round
over every object stay the same whatever the object count, the answers equal fresh reads, and a
drift pass that finds something to correct does so on fresh reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial

import pytest

from stratum.api.linstor import ResourceGroupSpec, ResourceSpec
from stratum.api.maas import MachineRaidSpec
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.linstor.cache import LinstorSharedReads
from stratum.clients.maas import ApiKey, MaasClient, MaasConfig
from stratum.clients.maas.cache import MaasSharedReads
from stratum.clients.retry import RetryPolicy
from stratum.clients.shared import SharedReads
from stratum.handlers.runner import run_reading
from stratum.reconcile.linstor import resource, resourcegroup
from stratum.reconcile.linstor.refs import GroupRef
from stratum.reconcile.maas import machineraid
from stratum.reconcile.outcome import Outcome, status_patch
from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.linstor_seeds import thin_nodes

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
TB = 10**12
API_KEY = "ck1:tk1:ts1"
LINSTOR_SEED = thin_nodes(3)
MACHINES = 3
MAAS_SEED = {
    "apiKeys": [API_KEY],
    "machines": [
        {
            "systemId": f"m{i}",
            "hostname": f"node-{i}",
            "status": "Ready",
            "blockDevices": [{"name": "sda", "size": TB, "bootDisk": True}]
            + [{"name": f"sd{c}", "size": TB} for c in "bcdefg"],
        }
        for i in range(MACHINES)
    ],
}
Pass = Callable[[], Awaitable[Outcome]]


@pytest.fixture
def linstor_sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=LINSTOR_SEED) as running:
        yield running


@pytest.fixture
def maas_sim() -> Iterator[MaasSim]:
    with MaasSim(MAAS_SEED) as running:
        yield running


def group_spec() -> ResourceGroupSpec:
    return ResourceGroupSpec.model_validate(
        {"placement": {"placeCount": 2, "storagePools": ["thin"]}, "volumeGroups": [{}]}
    )


def linstor_passes(client: LinstorClient, groups: int, per_group: int) -> list[Pass]:
    passes: list[Pass] = []
    for g in range(groups):
        passes.append(partial(resourcegroup.reconcile, client, f"rg{g}", f"uid-rg{g}", group_spec()))
        ref = GroupRef(linstor_name=f"rg{g}", ready=True, place_count=2)
        for r in range(per_group):
            rspec = ResourceSpec.model_validate({"resourceGroup": f"rg{g}", "volumes": [{"size": "1Gi"}]})
            inputs = resource.ResourceInputs(name=f"r{g}-{r}", uid=f"uid-r{g}-{r}", group=ref)
            passes.append(partial(resource.reconcile, client, rspec, inputs))
    return passes


def raid_passes(client: MaasClient, raids: int) -> list[Pass]:
    """Arrays spread over the machines, two disks each (sdb+sdc, sdd+sde, sdf+sdg)."""
    passes: list[Pass] = []
    for i in range(raids):
        machine, slot = i % MACHINES, i // MACHINES
        disks = [f"sd{'bcdefg'[2 * slot]}", f"sd{'bcdefg'[2 * slot + 1]}"]
        spec = MachineRaidSpec.model_validate(
            {"machine": {"systemId": f"m{machine}"}, "level": "raid-1", "devices": disks}
        )
        inputs = machineraid.RaidInputs(name=f"md{i}", uid=f"00000000-0000-4000-8000-{i:012d}")
        passes.append(partial(machineraid.reconcile, client, spec, inputs))
    return passes


def requests(stats: dict[str, int]) -> int:
    return sum(n for key, n in stats.items() if not key.split(" ", 1)[1].startswith("/_sim"))


def writes(stats: dict[str, int]) -> int:
    return sum(n for key, n in stats.items() if not key.startswith("GET "))


async def drift_round(passes: list[Pass], reads: SharedReads) -> list[Outcome]:
    fresh: list[int] = []
    outcomes = [await run_reading(run, reads, lambda: fresh.append(1)) for run in passes]
    assert fresh == []  # nothing to correct: every pass stayed on shared reads
    return outcomes


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("groups,per_group", [(2, 2), (5, 8)])
async def test_idle_linstor_drift_requests_per_interval_do_not_grow_with_the_objects(
    linstor_sim: LinstorSim, groups: int, per_group: int
) -> None:
    async with LinstorClient(LinstorConfig(controllers=(linstor_sim.url,)), retry=FAST) as client:
        passes = linstor_passes(client, groups, per_group)
        for run in passes:  # change-driven passes: fresh reads, creating everything
            assert (await run()).ready
        converged = [await run() for run in passes]  # what fresh reads say now
        clock = Clock()
        client.shared = LinstorSharedReads(client.request, clock)
        reads = SharedReads(max_age=60, refresh_budget=2)
        await drift_round(passes, reads)  # the first interval also fills the per-group entries
        clock.now += 60
        before = dict(linstor_sim.stats.requests)
        outcomes = await drift_round(passes, reads)
        delta = {k: n - before.get(k, 0) for k, n in linstor_sim.stats.requests.items()}
    assert writes(delta) == 0
    assert [status_patch(o.status) for o in outcomes] == [status_patch(o.status) for o in converged]
    # Four lists (groups, definitions, resources, pools) and the refresh budget of the per-group
    # reads (2 volume-group and 2 max-size reads): the same for 6 objects as for 45.
    assert requests(delta) == 8, {k: n for k, n in delta.items() if n}


async def test_linstor_drift_found_by_a_shared_read_is_corrected_on_fresh_reads(
    linstor_sim: LinstorSim,
) -> None:
    async with LinstorClient(LinstorConfig(controllers=(linstor_sim.url,)), retry=FAST) as client:
        spec = group_spec()

        def run() -> Awaitable[Outcome]:
            return resourcegroup.reconcile(client, "rg0", "uid-rg0", spec)

        assert (await run()).ready
        await client.modify_resource_group("rg0", select_filter={"place_count": 3})
        fresh: list[int] = []
        outcome = await run_reading(run, SharedReads(max_age=0.0), lambda: fresh.append(1))
        assert fresh == [1]  # the shared pass stopped before writing and ran again on fresh reads
        assert outcome.ready and any("corrected drift" in a for a in outcome.actions), outcome.actions
        observed = await client.get_resource_group("rg0")
        assert observed is not None and observed.select_filter.place_count == 2


async def test_idle_maas_drift_reads_are_per_machine_not_per_array(maas_sim: MaasSim) -> None:
    config = MaasConfig(url=maas_sim.maas_url, api_key=ApiKey.parse(API_KEY))
    counts = []
    async with MaasClient(config, retry=FAST) as client:
        for raids in (MACHINES, 3 * MACHINES):  # one array per machine, then three
            passes = raid_passes(client, raids)
            for run in passes:
                outcome = await run()
                assert outcome.ready, outcome.message
            client.shared = MaasSharedReads()  # a new interval
            before = dict(maas_sim.stats.requests)
            outcomes = await drift_round(passes, SharedReads(max_age=60))
            delta = {k: n - before.get(k, 0) for k, n in maas_sim.stats.requests.items()}
            assert all(o.ready for o in outcomes), [o.message for o in outcomes]
            assert writes(delta) == 0
            counts.append(requests(delta))
    # Machine, block devices and RAIDs: three reads per machine, whatever the arrays on it.
    assert counts == [3 * MACHINES, 3 * MACHINES], counts
