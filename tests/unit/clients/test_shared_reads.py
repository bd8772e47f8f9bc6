"""Shared reads for drift passes: expiry, sharing between passes, the object's own last fresh
pass, the refresh budget, and that a pass reading shared data never writes."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from stratum.clients.errors import Backend, BackendNotFound, BackendUnavailable
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.linstor.cache import by_name, json_rows
from stratum.clients.maas import ApiKey, MaasClient, MaasConfig
from stratum.clients.retry import RetryPolicy
from stratum.clients.shared import (
    FAILURE_HOLD,
    SharedEntries,
    SharedReads,
    SharedReadWrite,
    SharedValue,
    current,
    guard_write,
    reading_shared,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counting(value: Any, calls: list[int]) -> Any:
    async def fetch() -> Any:
        calls.append(1)
        await asyncio.sleep(0)
        return value

    return fetch


# ----------------------------------------------------------------------------- SharedValue


async def test_a_shared_value_is_fetched_once_per_max_age() -> None:
    clock, calls = Clock(), list[int]()
    value = SharedValue(counting(["a"], calls), clock)
    reads = SharedReads(max_age=60)
    assert await value.get(reads) == ["a"]
    clock.now += 59
    assert await value.get(reads) == ["a"]
    assert len(calls) == 1
    clock.now += 1
    assert await value.get(reads) == ["a"]
    assert len(calls) == 2


async def test_passes_asking_at_once_share_one_fetch() -> None:
    calls: list[int] = []
    value = SharedValue(counting(["a"], calls))
    reads = SharedReads(max_age=60)
    answers = await asyncio.gather(*(value.get(reads) for _ in range(20)))
    assert answers == [["a"]] * 20
    assert len(calls) == 1


async def test_a_new_sweep_fetches_the_value_again_once() -> None:
    """The last sweep's value is 50 s old when the next sweep starts (interval 60): fetched again
    by the sweep's first pass, shared by the others."""
    clock, calls = Clock(), list[int]()
    value = SharedValue(counting(["a"], calls), clock)
    assert await value.get(SharedReads(max_age=60, refetch_before=100)) == ["a"]
    clock.now += 50
    sweep = SharedReads(max_age=60, refetch_before=clock.now)
    answers = await asyncio.gather(*(value.get(sweep) for _ in range(5)))
    assert answers == [["a"]] * 5
    assert len(calls) == 2


async def test_data_older_than_the_objects_last_fresh_pass_is_not_used() -> None:
    clock, calls = Clock(), list[int]()
    value = SharedValue(counting(["a"], calls), clock)
    assert await value.get(SharedReads(max_age=60, not_before=50)) == ["a"]
    clock.now += 10
    # The object was written at 105, after the shared list was fetched at 100: read for itself.
    assert await value.get(SharedReads(max_age=60, not_before=105)) is None
    assert len(calls) == 1


async def test_a_failed_fetch_fails_the_passes_behind_it_at_once_then_is_tried_again() -> None:
    clock, attempts = Clock(), list[int]()

    async def flaky() -> list[str]:
        attempts.append(1)
        await asyncio.sleep(0)
        if len(attempts) == 1:
            raise RuntimeError("down")
        return ["a"]

    value = SharedValue(flaky, clock)
    reads = SharedReads(max_age=60)
    failed = await asyncio.gather(*(value.get(reads) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(f, RuntimeError) for f in failed)
    assert len(attempts) == 1  # the queued passes did not each try the backend
    clock.now += FAILURE_HOLD
    assert await value.get(reads) == ["a"]
    assert len(attempts) == 2


# ----------------------------------------------------------------------------- SharedEntries


async def test_entries_are_kept_while_young_and_their_fingerprint_is_unchanged() -> None:
    clock, calls = Clock(), list[int]()
    entries: SharedEntries[str, int] = SharedEntries(clock)
    reads = SharedReads(max_age=60, refresh_budget=5)
    assert await entries.get("g1", "f1", counting(1, calls), reads) == 1
    assert await entries.get("g1", "f1", counting(2, calls), reads) == 1
    assert len(calls) == 1
    assert await entries.get("g1", "f2", counting(3, calls), reads) == 3  # the pools changed
    clock.now += 60
    assert await entries.get("g1", "f2", counting(4, calls), reads) == 4  # too old
    assert len(calls) == 3


async def test_stale_entries_are_refreshed_only_within_the_budget_per_interval() -> None:
    clock, calls = Clock(), list[int]()
    entries: SharedEntries[str, int] = SharedEntries(clock)
    reads = SharedReads(max_age=60, refresh_budget=2)
    for group in ("a", "b", "c", "d"):  # new entries are always fetched
        await entries.get(group, "f", counting(0, calls), reads)
    assert len(calls) == 4
    clock.now += 60
    got = [await entries.get(group, "f", counting(1, calls), reads) for group in ("a", "b", "c", "d")]
    assert got == [1, 1, 0, 0]  # two refreshed, two served as they were
    assert len(calls) == 6
    clock.now += 60  # the next interval refreshes the two left
    got = [await entries.get(group, "f", counting(2, calls), reads) for group in ("c", "d", "a", "b")]
    assert got == [2, 2, 1, 1]


async def test_a_refused_read_is_kept_and_raised_again() -> None:
    calls: list[int] = []

    async def refused() -> int:
        calls.append(1)
        raise BackendNotFound(Backend.LINSTOR, "no candidates")

    entries: SharedEntries[str, int] = SharedEntries()
    reads = SharedReads(max_age=60)
    for _ in range(2):
        with pytest.raises(BackendNotFound):
            await entries.get("g", "f", refused, reads)
    assert len(calls) == 1


async def test_an_unavailable_backend_is_not_kept_as_an_answer() -> None:
    calls: list[int] = []

    async def down() -> int:
        calls.append(1)
        raise BackendUnavailable(Backend.LINSTOR, "no controller answered")

    entries: SharedEntries[str, int] = SharedEntries()
    reads = SharedReads(max_age=60)
    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            await entries.get("g", "f", down, reads)
    assert len(calls) == 2
    assert await entries.get("g", "f", counting(7, calls), reads) == 7  # back: asked again


# ----------------------------------------------------------------------------- pass rules


def test_only_reads_are_allowed_while_reading_shared_data() -> None:
    guard_write(Backend.LINSTOR, "PUT", "/v1/x")  # a fresh pass writes
    with reading_shared(SharedReads(max_age=60)):
        assert current() is not None
        guard_write(Backend.LINSTOR, "GET", "/v1/x")
        with pytest.raises(SharedReadWrite):
            guard_write(Backend.MAAS, "POST", "nodes/abc/raids/")
    assert current() is None


# ----------------------------------------------------------------------------- LINSTOR client


def filtered(rows: list[dict[str, Any]], request: httpx.Request, param: str) -> list[dict[str, Any]]:
    """The rows the controller returns for `?param=a&param=b` (names match case-insensitively)."""
    wanted = {name.lower() for name in request.url.params.get_list(param)}
    return [row for row in rows if not wanted or str(row["name"]).lower() in wanted]


def linstor_backend(log: Counter[str]) -> httpx.MockTransport:
    groups = [{"name": f"RG{i}", "select_filter": {"place_count": 2}} for i in range(3)]
    rds = [{"name": f"R{i}", "resource_group_name": "RG0", "volume_definitions": []} for i in range(5)]
    resources = [{"name": f"R{i}", "node_name": n} for i in range(5) for n in ("n1", "n2")]
    pools = [{"node_name": "n1", "storage_pool_name": "thin", "free_capacity": 10, "total_capacity": 10}]

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        log[f"{request.method} {path}"] += 1
        data: Any = []
        if request.method != "GET":
            pass
        elif path == "/v1/controller/version":
            data = {"version": "1.33.2", "rest_api_version": "1.27.0"}
        elif path == "/v1/resource-groups":
            data = groups
        elif path == "/v1/resource-definitions":
            data = filtered(rds, request, "resource_definitions")
        elif path == "/v1/view/resources":
            data = filtered(resources, request, "resources")
        elif path == "/v1/view/storage-pools":
            data = pools
        elif path.endswith("/volume-groups"):
            data = [{"volume_number": 0}]
        elif path.endswith("/query-max-volume-size"):
            data = {"candidates": [{"storage_pool": "thin", "max_volume_size_kib": 10}]}
        elif path.startswith("/v1/resource-groups/"):
            data = next(g for g in groups if str(g["name"]).lower() == path.rsplit("/", 1)[1].lower())
        return httpx.Response(200, json=data)

    return httpx.MockTransport(answer)


def linstor(log: Counter[str]) -> LinstorClient:
    return LinstorClient(
        LinstorConfig(controllers=("http://linstor:3370",)),
        retry=RetryPolicy(attempts=1),
        transport=linstor_backend(log),
    )


async def drift_reads(client: LinstorClient) -> None:
    for i in range(3):
        assert (await client.get_resource_group(f"rg{i}")) is not None
        assert [vg.volume_number for vg in await client.list_volume_groups(f"rg{i}")] == [0]
        assert (await client.query_max_volume_size(f"rg{i}")).candidates[0].max_volume_size_kib == 10
    for i in range(5):
        rd = await client.get_resource_definition(f"r{i}")
        assert rd is not None and rd.name == f"R{i}"
        assert sorted(r.node_name for r in await client.list_resources([f"r{i}"])) == ["n1", "n2"]
    assert await client.get_resource_definition("missing") is None
    assert await client.list_resources(["missing"]) == []


async def test_linstor_drift_passes_read_lists_once_and_fresh_passes_per_object() -> None:
    log: Counter[str] = Counter()
    async with linstor(log) as client:
        with reading_shared(SharedReads(max_age=60)):
            await drift_reads(client)
            await drift_reads(client)  # the next objects of the same interval
        shared = sum(n for key, n in log.items() if key != "GET /v1/controller/version")
        # Four lists, plus the per-group reads the first time they are asked for.
        assert log["GET /v1/resource-groups"] == 1
        assert log["GET /v1/resource-definitions"] == 1
        assert log["GET /v1/view/resources"] == 1
        assert log["GET /v1/view/storage-pools"] == 1
        assert shared == 4 + 3 * 2
        log.clear()
        await drift_reads(client)  # a change-driven pass reads for itself
        assert log["GET /v1/resource-definitions"] == 6
        assert log["GET /v1/view/resources"] == 6
        assert log["GET /v1/resource-groups"] == 0


async def test_a_linstor_write_on_shared_reads_is_refused_before_it_is_sent() -> None:
    log: Counter[str] = Counter()
    async with linstor(log) as client:
        with reading_shared(SharedReads(max_age=60)), pytest.raises(SharedReadWrite):
            await client.modify_resource_definition("r1", override_props={"a": "b"})
        assert not any(key.startswith("PUT") for key in log)
        await client.modify_resource_definition("r1", override_props={"a": "b"})
        assert log["PUT /v1/resource-definitions/r1"] == 1


# ----------------------------------------------------------------------------- MAAS client


def maas(log: Counter[str]) -> MaasClient:
    def answer(request: httpx.Request) -> httpx.Response:
        log[f"{request.method} {request.url.path}"] += 1
        if request.url.path.endswith("/machines/gone/"):
            return httpx.Response(404, text="No Machine matches the given query.")
        return httpx.Response(200, json=[] if request.method == "GET" else {})

    config = MaasConfig(url="http://maas:5240/MAAS/", api_key=ApiKey("a", "b", "c"))
    return MaasClient(config, retry=RetryPolicy(attempts=1), transport=httpx.MockTransport(answer))


async def test_maas_reads_are_shared_per_machine_and_dropped_when_the_machine_is_written() -> None:
    log: Counter[str] = Counter()
    async with maas(log) as client:
        with reading_shared(SharedReads(max_age=60)):
            for _ in range(3):  # three arrays on machine abc
                await client.list_block_devices("abc")
                await client.list_raids("abc")
                assert await client.get_machine("gone") is None  # a 404 is an answer too
            await client.list_raids("def")
        assert log["GET /MAAS/api/2.0/nodes/abc/blockdevices/"] == 1
        assert log["GET /MAAS/api/2.0/nodes/abc/raids/"] == 1
        assert log["GET /MAAS/api/2.0/machines/gone/"] == 1
        assert log["GET /MAAS/api/2.0/nodes/def/raids/"] == 1
        await client.delete_raid("abc", 7)  # a fresh pass writes to abc
        with reading_shared(SharedReads(max_age=60)):
            await client.list_raids("abc")
            await client.list_raids("def")
            with pytest.raises(SharedReadWrite):
                await client.delete_raid("def", 1)
        assert log["GET /MAAS/api/2.0/nodes/abc/raids/"] == 2
        assert log["GET /MAAS/api/2.0/nodes/def/raids/"] == 1
        assert log["DELETE /MAAS/api/2.0/nodes/def/raid/1/"] == 0


def test_a_listing_is_kept_as_row_texts_by_name() -> None:
    text = (
        '[\n  {"name": "R1", "node_name": "n1", "props": {"a": "[,]"}},\n'
        '  {"name": "r1", "node_name": "n2"} ,{"name":"R2"}\n]\n'
    )
    assert [raw for _, raw in json_rows(text)] == [
        '{"name": "R1", "node_name": "n1", "props": {"a": "[,]"}}',
        '{"name": "r1", "node_name": "n2"}',
        '{"name":"R2"}',
    ]
    rows = by_name(text, "name")
    assert sorted(rows) == ["r1", "r2"] and len(rows["r1"]) == 2  # names match case-insensitively
    assert list(json_rows(" [ ] ")) == []
    with pytest.raises(ValueError):
        list(json_rows('{"name": "R1"}'))


async def test_a_groups_progress_reads_its_resources_from_the_shared_lists() -> None:
    log: Counter[str] = Counter()
    async with linstor(log) as client:
        with reading_shared(SharedReads(max_age=60)):
            every = await client.list_resource_definitions(with_volume_definitions=False)
            again = await client.list_resource_definitions()
            # More names than a query may carry: fresh, every resource; shared, just these.
            found = await client.list_resources_of(["r1", "R2"], max_named=1)
        assert sorted(rd.name for rd in every) == [f"R{i}" for i in range(5)]
        assert [rd.name for rd in again] == [rd.name for rd in every]
        assert sorted((r.name, r.node_name) for r in found) == [
            ("R1", "n1"),
            ("R1", "n2"),
            ("R2", "n1"),
            ("R2", "n2"),
        ]
        assert log["GET /v1/resource-definitions"] == 1 and log["GET /v1/view/resources"] == 1
        log.clear()
        assert len(await client.list_resources_of(["r1", "r2"], max_named=1)) == 10  # fresh: all
        assert log["GET /v1/view/resources"] == 1
