"""Fixtures for the MAAS simulator tests: a running simulator per test and a raw client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from maas_helpers import MaasHttp, default_seed

from stratum.sim.maas import MaasSim


@pytest.fixture
def seed() -> dict[str, Any]:
    return default_seed()


@pytest.fixture
def sim(seed: dict[str, Any]) -> Iterator[MaasSim]:
    with MaasSim(seed) as server:
        yield server


@pytest.fixture
async def api(sim: MaasSim) -> AsyncIterator[MaasHttp]:
    async with aiohttp.ClientSession() as session:
        yield MaasHttp(session, sim)
