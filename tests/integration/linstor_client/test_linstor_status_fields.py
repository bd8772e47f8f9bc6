"""The LINSTOR kinds' status, as declared in their CRDs, against what the passes write: every
declared field is written by some pass of a full lifecycle, and nothing undeclared is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from stratum.api import crds
from stratum.api.common import StatusBase
from stratum.api.linstor import (
    ResourceGroupSpec,
    ResourceGroupStatus,
    ResourceSpec,
    ResourceStatus,
    SnapshotSpec,
    SnapshotStatus,
)
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.retry import RetryPolicy
from stratum.handlers import controls
from stratum.handlers.runner import Pass
from stratum.reconcile.linstor import resource, resourcegroup, snapshot
from stratum.reconcile.linstor.refs import GroupRef, ResourceRef, SnapshotRef
from stratum.reconcile.outcome import Outcome, status_patch
from stratum.sim.linstor import LinstorSim
from support.linstor_seeds import thin_nodes
from support.status_paths import declared, written

SEED = thin_nodes(3)


@pytest.fixture
def sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=SEED) as running:
        yield running


@pytest.fixture
async def client(sim: LinstorSim) -> AsyncIterator[LinstorClient]:
    retry = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.01)
    async with LinstorClient(LinstorConfig(controllers=(sim.url,)), retry=retry) as linstor:
        yield linstor


def paths(*outcomes: Outcome) -> set[str]:
    found: set[str] = set()
    for outcome in outcomes:
        assert outcome.ready, outcome.message
        found |= written(status_patch(outcome.status))
    return found


async def observed(run: Pass, status_model: type[StatusBase]) -> set[str]:
    """What a managementPolicy Observe pass writes: the differences of a spec the backend does
    not match (not Ready, so its paths are collected without the Ready check)."""
    outcome = await controls.observe(run, status_model)()
    assert outcome.status is not None and outcome.status.differences, outcome.message
    return written(status_patch(outcome.status))


def assert_matches(kind: crds.Kind, found: set[str]) -> None:
    wanted = declared(kind)
    assert wanted - found == set(), f"{kind.kind}: declared but never written"
    # A null removes a whole field, so a written prefix of a declared path is fine too.
    undeclared = {p for p in found if not any(w == p or w.startswith(f"{p}.") for w in wanted)}
    assert undeclared == set(), f"{kind.kind}: written but not declared"


async def test_every_declared_status_field_is_written_and_nothing_else(client: LinstorClient) -> None:
    group_spec = ResourceGroupSpec.model_validate({"placement": {"placeCount": 2, "storagePools": ["thin"]}})
    group = await resourcegroup.reconcile(client, "rg1", "uid-rg1", group_spec)
    three = ResourceGroupSpec.model_validate({"placement": {"placeCount": 3, "storagePools": ["thin"]}})
    group_differs = await observed(
        lambda: resourcegroup.reconcile(client, "rg1", "uid-rg1", three), ResourceGroupStatus
    )
    assert_matches(crds.RESOURCE_GROUP, paths(group) | group_differs)

    ref = GroupRef(linstor_name="rg1", ready=True, place_count=2)
    body = {"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}], "disklessNodes": ["n3"]}
    spec = ResourceSpec.model_validate(body)
    inputs = resource.ResourceInputs(name="r1", uid="uid-r1", group=ref)
    created = await resource.reconcile(client, spec, inputs)
    snap = await snapshot.reconcile(
        client,
        "s1",
        "uid-s1",
        spec=SnapshotSpec(resource="r1"),
        resource=ResourceRef(linstor_name="r1", exists=True),
        recorded=None,
    )
    snap_differs = await observed(
        lambda: snapshot.reconcile(
            client,
            "s2",
            "uid-s2",
            spec=SnapshotSpec(resource="r1"),
            resource=ResourceRef(linstor_name="r1", exists=True),
            recorded=None,
        ),
        SnapshotStatus,
    )
    assert_matches(crds.SNAPSHOT, paths(snap) | snap_differs)

    rollback = ResourceSpec.model_validate({**body, "rollback": {"snapshot": "s1", "requestId": "1"}})
    rolled_back = await resource.reconcile(
        client,
        rollback,
        resource.ResourceInputs(
            name="r1",
            uid="uid-r1",
            group=ref,
            rollback_snapshot=SnapshotRef(linstor_name="s1", resource_linstor_name="r1", ready=True),
        ),
    )
    assert rolled_back.actions == ["rolled r1 back to snapshot s1"]
    bigger = ResourceSpec.model_validate({**body, "volumes": [{"size": "2Gi"}]})
    resource_differs = await observed(lambda: resource.reconcile(client, bigger, inputs), ResourceStatus)
    assert_matches(crds.RESOURCE, paths(created, rolled_back) | resource_differs)
