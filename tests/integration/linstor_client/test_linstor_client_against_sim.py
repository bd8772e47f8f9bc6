"""The LINSTOR client and the reconcile passes against the simulator: typed errors, failover,
retries, TLS with client certificates, and passes that write nothing when nothing changed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from stratum.api.linstor import ResourceGroupSpec, ResourceSpec, SnapshotSpec
from stratum.clients.errors import BackendUnavailable
from stratum.clients.linstor import LinstorClient, LinstorConfig, LinstorError
from stratum.clients.retry import RetryPolicy
from stratum.reconcile import reasons
from stratum.reconcile.linstor import resource, resourcegroup, snapshot
from stratum.reconcile.linstor.refs import GroupRef, ResourceRef
from stratum.reconcile.outcome import status_patch
from stratum.sim.common import ThreadedServer
from stratum.sim.linstor import LinstorSim

SEED = {
    "version": "1.33.2",
    "nodes": [
        {
            "name": f"n{i}",
            "props": {"Aux/zone": z},
            "storagePools": [
                {"name": "thin", "provider": "LVM_THIN", "capacityKib": 104857600, "freeKib": 104857600},
                {"name": "thick", "provider": "LVM", "capacityKib": 10485760, "freeKib": 10485760},
            ],
        }
        for i, z in ((1, "a"), (2, "b"), (3, "c"))
    ],
}
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
UID = "3f5d0c2a-9b7e-4c1d-8a6f-111111111111"


@pytest.fixture
def sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=SEED) as running:
        yield running


@pytest.fixture
async def client(sim: LinstorSim) -> AsyncIterator[LinstorClient]:
    async with LinstorClient(LinstorConfig(controllers=(sim.url,)), retry=FAST) as linstor:
        await linstor.controller()  # the version check of the first request, before faults
        yield linstor


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def writes(sim: LinstorSim) -> int:
    return sum(count for key, count in sim.stats.requests.items() if not key.startswith("GET "))


async def test_error_answers_become_typed_errors(client: LinstorClient) -> None:
    await client.create_resource_group("dup", description=None, select_filter={"place_count": 2})
    with pytest.raises(LinstorError) as caught:
        await client.create_resource_group("DUP", description=None, select_filter={})
    assert caught.value.status == 500
    assert caught.value.code == 522  # FAIL_EXISTS_RSC_GRP, names are case-insensitive
    assert caught.value.ret_code < 0
    assert "dup" in caught.value.message.lower()
    assert await client.get_resource_group("nope") is None
    # Idempotent delete: 200 with a warning, no error.
    answers = await client.delete_resource_group("nope")
    assert any(a.is_warning and a.code == 3000 for a in answers)


async def test_failover_to_the_next_controller(sim: LinstorSim) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    async with LinstorClient(LinstorConfig(controllers=(dead, sim.url)), retry=FAST) as linstor:
        version = await linstor.version()
        assert version["version"] == "1.33.2"
        # The working controller stays active: no more attempts on the dead one.
        assert linstor.config.controllers[linstor._active % 2] == sim.url


async def test_no_controller_answers(sim: LinstorSim) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    async with LinstorClient(LinstorConfig(controllers=(dead,)), retry=FAST) as linstor:
        with pytest.raises(BackendUnavailable, match="no LINSTOR controller answered"):
            await linstor.version()


async def test_a_dropped_post_is_not_resent_but_a_get_is(sim: LinstorSim, client: LinstorClient) -> None:
    sim.faults.update({"down": True})
    try:
        with pytest.raises(BackendUnavailable, match="may or may not have been applied"):
            await client.create_resource_group("rg-down", description=None, select_filter={})
        posts = sim.stats.requests["POST /v1/resource-groups"]
        assert posts == 1
        with pytest.raises(BackendUnavailable):
            await client.list_resource_groups()
        assert sim.stats.requests["GET /v1/resource-groups"] == FAST.attempts
    finally:
        sim.faults.update({"down": False})


@pytest.fixture
def flaky_gateway() -> Iterator[tuple[ThreadedServer, list[int]]]:
    """A proxy-like server: 502 without an answer list twice, then a version answer."""
    calls: list[int] = []

    async def version(_: web.Request) -> web.Response:
        calls.append(1)
        if len(calls) <= 2:
            return web.Response(status=502, text="bad gateway")
        return web.json_response({"version": "1.33.2"})

    def app() -> web.Application:
        application = web.Application()
        application.router.add_get("/v1/controller/version", version)
        return application

    with ThreadedServer(app) as server:
        yield server, calls


async def test_server_faults_without_answers_are_retried(
    flaky_gateway: tuple[ThreadedServer, list[int]],
) -> None:
    server, calls = flaky_gateway
    async with LinstorClient(LinstorConfig(controllers=(server.url,)), retry=FAST) as linstor:
        assert (await linstor.version())["version"] == "1.33.2"
    assert len(calls) == 3


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=test-ca",
        cwd=d,
    )
    (d / "server.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name in ("server", "client"):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN={name}",
            cwd=d,
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            f"{name}.crt",
            "-extfile",
            f"{name}.ext",
            cwd=d,
        )
    return d


async def test_tls_with_root_ca_and_client_certificate(pki: Path) -> None:
    with LinstorSim(
        seed=SEED,
        tls_cert=str(pki / "server.crt"),
        tls_key=str(pki / "server.key"),
        tls_client_ca=str(pki / "ca.crt"),
    ) as tls_sim:
        env = {
            "LS_CONTROLLERS": tls_sim.controller_uri,
            "LS_ROOT_CA": str(pki / "ca.crt"),
            "LS_USER_CERTIFICATE": str(pki / "client.crt"),
            "LS_USER_KEY": str(pki / "client.key"),
        }
        async with LinstorClient(LinstorConfig.from_env(env), retry=FAST) as linstor:
            assert (await linstor.version())["version"] == "1.33.2"
        # Without the client certificate the controller refuses the handshake.
        bare = {k: v for k, v in env.items() if k in ("LS_CONTROLLERS", "LS_ROOT_CA")}
        async with LinstorClient(LinstorConfig.from_env(bare), retry=FAST) as linstor:
            with pytest.raises(BackendUnavailable):
                await linstor.version()


def group_spec(**kwargs: Any) -> ResourceGroupSpec:
    return ResourceGroupSpec.model_validate(
        {
            "placement": {"placeCount": 2, "storagePools": ["thin"], "replicasOnDifferent": ["Aux/zone"]},
            "volumeGroups": [{}],
            "properties": {"DrbdOptions/Net/protocol": "C"},
            **kwargs,
        }
    )


async def test_second_group_pass_writes_nothing(sim: LinstorSim, client: LinstorClient) -> None:
    first = await resourcegroup.reconcile(client, "rg1", UID, group_spec())
    assert first.ready and first.actions
    before = writes(sim)
    again = await resourcegroup.reconcile(client, "rg1", UID, group_spec())
    assert again.ready and again.actions == []
    assert writes(sim) == before, sim.stats.as_json()
    assert status_patch(again.status)["maxVolumeSize"].endswith("i")


async def test_resource_passes_are_idempotent_and_write_nothing_when_converged(
    sim: LinstorSim, client: LinstorClient
) -> None:
    await resourcegroup.reconcile(client, "rg1", UID, group_spec())
    group = GroupRef(linstor_name="rg1", ready=True, place_count=2)
    spec = ResourceSpec.model_validate(
        {
            "resourceGroup": "rg1",
            "volumes": [{"size": "1Gi"}],
            "disklessNodes": ["n3"],
            "properties": {"Aux/app": "db"},
        }
    )
    inputs = resource.ResourceInputs(name="r1", uid="uid-r1", group=group)
    first = await resource.reconcile(client, spec, inputs)
    assert first.ready, first.message
    before = writes(sim)
    for _ in range(2):
        again = await resource.reconcile(client, spec, inputs)
        assert again.ready and again.actions == []
    assert writes(sim) == before, sim.stats.as_json()
    assert len([rd for rd in await client.list_resource_definitions() if rd.name == "r1"]) == 1


async def test_a_crash_between_group_create_and_properties_is_not_a_conflict(
    sim: LinstorSim, client: LinstorClient
) -> None:
    # The first pass died right after the create call: the group exists with only the creation marker.
    await client.create_resource_group(
        "rg-crash", description=f"stratum.dev/creating:{UID}", select_filter={"place_count": 2}
    )
    outcome = await resourcegroup.reconcile(client, "rg-crash", UID, group_spec())
    assert outcome.ready, outcome.message
    observed = await client.get_resource_group("rg-crash")
    assert observed is not None and observed.props["Aux/stratum.dev/owner"] == UID
    assert not observed.description


async def test_grow_then_snapshot_and_restore(sim: LinstorSim, client: LinstorClient) -> None:
    await resourcegroup.reconcile(client, "rg1", UID, group_spec())
    group = GroupRef(linstor_name="rg1", ready=True, place_count=2)
    small = ResourceSpec.model_validate({"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}]})
    inputs = resource.ResourceInputs(name="r1", uid="uid-r1", group=group)
    assert (await resource.reconcile(client, small, inputs)).ready
    big = small.model_copy(update={"volumes": [small.volumes[0].model_copy(update={"size": "3Gi"})]})
    grown = await resource.reconcile(client, big, inputs)
    assert status_patch(grown.status)["volumes"][0]["size"] == "3Gi"
    snap = await snapshot.reconcile(
        client,
        "s1",
        "uid-s1",
        spec=SnapshotSpec(resource="r1"),
        resource=ResourceRef(linstor_name="r1", exists=True),
        recorded=None,
    )
    assert snap.ready and status_patch(snap.status)["volumes"] == [{"number": 0, "size": "3Gi"}]
    from stratum.reconcile.linstor.refs import SnapshotRef

    restore = ResourceSpec.model_validate(
        {"resourceGroup": "rg1", "volumes": [{"size": "3Gi"}], "restoreFrom": {"snapshot": "s1"}}
    )
    restored = await resource.reconcile(
        client,
        restore,
        resource.ResourceInputs(
            name="r2",
            uid="uid-r2",
            group=group,
            restore_snapshot=SnapshotRef(linstor_name="s1", resource_linstor_name="r1", ready=True),
        ),
    )
    assert restored.ready, restored.message
    assert len([r for r in status_patch(restored.status)["replicas"] if not r["diskless"]]) == 2
    # Deleting the source is refused while its snapshot exists; the message says what to do.
    blocked = await resource.finalize(client, small, "r1", "uid-r1")
    assert not blocked.ready and blocked.reason == "HasSnapshots"
    assert (
        await snapshot.finalize(
            client,
            "s1",
            "uid-s1",
            spec=SnapshotSpec(resource="r1"),
            resource_linstor_name="r1",
            recorded="s1",
        )
    ).ready
    assert (await resource.finalize(client, small, "r1", "uid-r1")).ready
    assert await client.get_resource_definition("r1") is None


async def test_thick_pools_cannot_snapshot(sim: LinstorSim, client: LinstorClient) -> None:
    thick = ResourceGroupSpec.model_validate({"placement": {"placeCount": 2, "storagePools": ["thick"]}})
    await resourcegroup.reconcile(client, "rg-thick", UID, thick)
    spec = ResourceSpec.model_validate({"resourceGroup": "rg-thick", "volumes": [{"size": "1Gi"}]})
    group = GroupRef(linstor_name="rg-thick", ready=True, place_count=2)
    assert (await resource.reconcile(client, spec, resource.ResourceInputs("rt", "uid-rt", group))).ready
    with pytest.raises(LinstorError) as caught:
        await snapshot.reconcile(
            client,
            "st",
            "uid-st",
            spec=SnapshotSpec(resource="rt"),
            resource=ResourceRef(linstor_name="rt", exists=True),
            recorded=None,
        )
    assert reasons.for_error(caught.value) == "SnapshotsNotSupported"


async def test_concurrent_passes_on_different_objects(sim: LinstorSim, client: LinstorClient) -> None:
    await resourcegroup.reconcile(client, "rg1", UID, group_spec())
    group = GroupRef(linstor_name="rg1", ready=True, place_count=2)
    spec = ResourceSpec.model_validate({"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}]})
    outcomes = await asyncio.gather(
        *[
            resource.reconcile(client, spec, resource.ResourceInputs(f"c{i}", f"uid-c{i}", group))
            for i in range(10)
        ]
    )
    assert all(o.ready for o in outcomes)
    names = [rd.name for rd in await client.list_resource_definitions()]
    assert sorted(n for n in names if n.startswith("c")) == sorted(f"c{i}" for i in range(10))


async def test_unknown_controller_errors_are_retried_only_for_idempotent_requests(
    sim: LinstorSim, client: LinstorClient
) -> None:
    sim.faults.update({"errorRate": 1.0})  # every request: 500 with FAIL_UNKNOWN_ERROR (998)
    try:
        with pytest.raises(LinstorError) as caught:
            await client.list_resource_groups()
        assert caught.value.code == 998
        assert sim.stats.requests["GET /v1/resource-groups"] == FAST.attempts
        with pytest.raises(LinstorError):
            await client.create_resource_group("rg-998", description=None, select_filter={})
        assert sim.stats.requests["POST /v1/resource-groups"] == 1
    finally:
        sim.faults.update({"errorRate": 0.0})
