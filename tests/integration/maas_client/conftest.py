"""Fixtures for the MAAS client and MachineRaid reconcile tests: a simulator per test and a
client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from maas_client_helpers import API_KEY, GB, TB, machine, make_client

from stratum.clients.maas import MaasClient
from stratum.sim.maas import MaasSim


@pytest.fixture
def seed() -> dict[str, Any]:
    return {
        "apiKeys": [API_KEY],
        "machines": [
            machine("abc123", "node-1", TB, TB, TB, TB, 2 * TB, 500 * GB),
            machine("def456", "node-2", TB, TB, TB, status="Deployed"),
        ],
    }


@pytest.fixture
def sim(seed: dict[str, Any]) -> Iterator[MaasSim]:
    with MaasSim(seed) as server:
        yield server


@pytest.fixture
async def client(sim: MaasSim) -> AsyncIterator[MaasClient]:
    async with make_client(sim) as c:
        yield c
