"""Connections in small pools (stratum.clients.pools): as many open at once as the limit allows,
each request in the least busy pool, and a pool's slot freed when the answer is read or the
request fails."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web

from stratum.clients.pools import PER_POOL, SplitPoolTransport
from stratum.sim.common import ThreadedServer

TOGETHER = 8


class Gate:
    """Answers only once TOGETHER requests are waiting at the same time, each on the connection it
    came in on, so a client that cannot open that many connections at once never gets an answer."""

    def __init__(self) -> None:
        self.peers: set[object] = set()

    def app(self) -> web.Application:
        waiting: list[asyncio.Future[None]] = []

        async def wait(request: web.Request) -> web.Response:
            self.peers.add(request.transport.get_extra_info("peername") if request.transport else None)
            arrived = asyncio.get_running_loop().create_future()
            waiting.append(arrived)
            if len(waiting) == TOGETHER:  # the gate opens for this batch, and closes behind it
                for future in waiting:
                    future.set_result(None)
                waiting.clear()
            await arrived
            return web.json_response({"ok": True})

        application = web.Application()
        application.router.add_get("/", wait)
        return application


@pytest.fixture
def gate() -> Iterator[tuple[Gate, str]]:
    served = Gate()
    with ThreadedServer(served.app) as server:
        yield served, server.url


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_limit_is_split_into_pools_of_a_few_connections() -> None:
    for total, pools in ((20, 5), (10, 3), (8, 2), (1, 1), (100, 25)):
        transport = SplitPoolTransport(verify=True, limits=httpx.Limits(max_connections=total))
        assert len(transport._pools) == pools
        assert all(p._pool._max_connections <= PER_POOL for p in transport._pools)
        assert sum(p._pool._max_connections for p in transport._pools) >= total


async def test_requests_spread_over_the_pools_and_free_their_slot(gate: tuple[Gate, str]) -> None:
    served, url = gate
    transport = SplitPoolTransport(verify=True, limits=httpx.Limits(max_connections=TOGETHER))
    async with httpx.AsyncClient(transport=transport, timeout=5) as http:
        answers = await asyncio.gather(*(http.get(url) for _ in range(TOGETHER)))
        assert [a.json() for a in answers] == [{"ok": True}] * TOGETHER
        assert len(served.peers) == TOGETHER  # every request on a connection of its own
        assert transport._in_flight == [0, 0]
        # A failed request frees its slot too: afterwards all TOGETHER still go at once.
        refused = f"http://127.0.0.1:{closed_port()}/"
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                await http.get(refused)
        assert transport._in_flight == [0, 0]
        again = await asyncio.gather(*(http.get(url) for _ in range(TOGETHER)))
        assert all(a.status_code == 200 for a in again)
    assert transport._in_flight == [0, 0]


async def test_a_streamed_answer_holds_its_slot_until_closed(gate: tuple[Gate, str]) -> None:
    _, url = gate
    transport = SplitPoolTransport(verify=True, limits=httpx.Limits(max_connections=TOGETHER))
    async with httpx.AsyncClient(transport=transport, timeout=5) as http:
        requests = [http.build_request("GET", url) for _ in range(TOGETHER)]
        streamed = await asyncio.gather(*(http.send(r, stream=True) for r in requests))
        assert sorted(transport._in_flight) == [TOGETHER // 2, TOGETHER // 2]
        for response in streamed:
            await response.aclose()
        assert transport._in_flight == [0, 0]
