"""Fixtures for the LINSTOR simulator tests: a running simulator, a plain HTTP client and a
python-linstor client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import linstor
import pytest
from linstor_helpers import Api, three_nodes

from stratum.sim.linstor import LinstorSim


@pytest.fixture
def start_sim() -> Iterator[Callable[..., tuple[LinstorSim, Api]]]:
    """Start a simulator with a given seed (several per test allowed); stopped afterwards."""
    started: list[tuple[LinstorSim, Api]] = []

    def start(seed: Any = None, **kwargs: Any) -> tuple[LinstorSim, Api]:
        sim = LinstorSim(seed=three_nodes() if seed is None else seed, **kwargs).start()
        api = Api(sim.url)
        started.append((sim, api))
        return sim, api

    yield start
    for sim, api in started:
        api.close()
        sim.stop()


@pytest.fixture
def sim_api(start_sim: Callable[..., tuple[LinstorSim, Api]]) -> tuple[LinstorSim, Api]:
    """The default simulator: three nodes n1..n3 (Aux/zone a, b, c), each with a 100 GiB LVM_THIN pool."""
    return start_sim()


@pytest.fixture
def sim(sim_api: tuple[LinstorSim, Api]) -> LinstorSim:
    return sim_api[0]


@pytest.fixture
def api(sim_api: tuple[LinstorSim, Api]) -> Api:
    return sim_api[1]


@pytest.fixture
def lin(sim: LinstorSim) -> Iterator[linstor.Linstor]:
    """python-linstor's low-level client, connected to the default simulator."""
    client = linstor.Linstor(sim.controller_uri)
    client.connect()
    yield client
    client.disconnect()
