"""Fixtures for the backup tests: one real S3 server per run, a fresh bucket per test, simulators."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backup_helpers import Api, seed

from stratum.sim.linstor import LinstorSim
from support.s3 import S3Server, bucket_keys


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server.start(Path(tmp_path_factory.mktemp("s3server")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3(s3_server: S3Server) -> Any:
    """An independent S3 client (boto3) on the same server."""
    return s3_server.client()


@pytest.fixture
def bucket(s3: Any) -> Iterator[str]:
    name = f"backups-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    for k in bucket_keys(s3, name):
        s3.delete_object(Bucket=name, Key=k)
    s3.delete_bucket(Bucket=name)


@pytest.fixture
def start_sim() -> Iterator[Callable[..., Api]]:
    """Start a simulator (a LINSTOR cluster) from a seed; several per test are fine."""
    started: list[tuple[LinstorSim, Api]] = []

    def start(sim_seed: dict[str, Any]) -> Api:
        sim = LinstorSim(seed=sim_seed).start()
        api = Api(sim.url)
        started.append((sim, api))
        return api

    yield start
    for sim, api in started:
        api.close()
        sim.stop()


@pytest.fixture
def cluster_a(start_sim: Callable[..., Api]) -> Api:
    """Nodes n1..n3; backups ship in 0.3 s."""
    api = start_sim(seed("n1", "n2", "n3"))
    api.ok(api.post("/_sim/backup", {"shipSeconds": 0.3}))
    return api
