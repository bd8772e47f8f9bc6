"""Plan mode of the backend clients: changes recorded, never sent; reads still sent; rendering
field by field against what was read."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.maas import MaasClient, MaasConfig
from stratum.clients.recording import PlannedRequest, PlanStop, Recorder, recorder_for, recording, render

GROUP = {
    "name": "rg1",
    "select_filter": {"place_count": 2, "storage_pool_list": ["thin"]},
    "props": {"Aux/a": "1", "Aux/b": "2"},
}


VERSION = {"version": "1.33.2", "rest_api_version": "1.27.0"}


class Backend:
    """An httpx transport that answers GETs and counts every request by method."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.methods: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        if request.method != "GET":
            return httpx.Response(500, text="a change was sent")
        for suffix, answer in self.answers.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(200, json=answer)
        return httpx.Response(404, json=[{"ret_code": -4611686018427387598, "message": "not found"}])


def linstor(backend: Backend) -> LinstorClient:
    return LinstorClient(
        LinstorConfig(controllers=("http://linstor:3370",)), transport=httpx.MockTransport(backend)
    )


def maas(backend: Backend) -> MaasClient:
    config = MaasConfig.from_env({"MAAS_API_URL": "http://maas:5240/MAAS/", "MAAS_API_KEY": "a:b:c"})
    return MaasClient(config, transport=httpx.MockTransport(backend))


def test_only_the_planning_task_and_only_changes_are_recorded() -> None:
    recorder = Recorder()
    assert recorder_for("PUT") is None
    with recording(recorder):
        assert recorder_for("GET") is None
        assert all(recorder_for(m) is recorder for m in ("POST", "PUT", "PATCH", "DELETE", "put"))

    async def elsewhere() -> Recorder | None:
        return recorder_for("POST")

    async def main() -> tuple[Recorder | None, Recorder | None]:
        other = asyncio.create_task(elsewhere())  # created outside: its context has no recorder
        with recording(recorder):
            inside = asyncio.create_task(elsewhere())
            return await other, await inside

    assert asyncio.run(main()) == (None, recorder)
    assert recorder_for("PUT") is None


async def test_linstor_changes_are_recorded_with_what_is_there_and_answered_as_success() -> None:
    # The client reads the controller's version before its first request (a read).
    backend = Backend({"/v1/resource-groups/rg1": GROUP, "/v1/controller/version": VERSION})
    recorder = Recorder()
    async with linstor(backend) as client:
        with recording(recorder):
            assert await client.get_resource_group("rg1") is not None
            answers = await client.modify_resource_group(
                "rg1", select_filter={"place_count": 3, "storage_pool_list": ["thin"]}
            )
            await client.create_resource_group("rg2", description=None, select_filter={"place_count": 2})
            await client.delete_resource_definition("r1")
        outside = await client.get_resource_group("rg1")
    assert answers == []
    assert outside is not None
    assert set(backend.methods) == {"GET"}  # nothing that changes LINSTOR left the client
    assert [(r.method, r.path) for r in recorder.requests] == [
        ("PUT", "/v1/resource-groups/rg1"),
        ("POST", "/v1/resource-groups"),
        ("DELETE", "/v1/resource-definitions/r1"),
    ]
    assert recorder.requests[0].before == GROUP
    assert render(recorder.requests[0]) == ["PUT /v1/resource-groups/rg1: select_filter.place_count: 2 → 3"]
    assert render(recorder.requests[2]) == ["DELETE /v1/resource-definitions/r1"]


async def test_maas_create_stops_the_pass_and_item_changes_answer_with_the_object_as_it_is() -> None:
    raid = {"id": 5, "name": "md0", "level": "raid-1", "size": 10, "devices": [], "spare_devices": []}
    backend = Backend({"nodes/abc/raid/5/": raid})
    recorder = Recorder()
    async with maas(backend) as client:
        with recording(recorder):
            updated = await client.update_raid("abc", 5, name="md1")
            assert await client.delete_raid("abc", 5) is True
            with pytest.raises(PlanStop):
                await client.create_raid("abc", name="md2", level="raid-1", block_devices=[1, 2])
            with pytest.raises(PlanStop):
                await client.update_raid("abc", 9, name="gone")  # nothing there to stand in for the answer
    assert updated.name == "md0"
    assert set(backend.methods) == {"GET"}
    assert recorder.stopped
    lines = [line for request in recorder.requests for line in render(request)]
    assert lines == [
        "PUT nodes/abc/raid/5/: name: md0 → md1",
        "DELETE nodes/abc/raid/5/",
        "POST nodes/abc/raids/: name → md2",
        "POST nodes/abc/raids/: level → raid-1",
        "POST nodes/abc/raids/: block_devices → 1, 2",
        "PUT nodes/abc/raid/9/: name → gone",
    ]


def test_render_properties_set_and_removed_against_the_object_read() -> None:
    request = PlannedRequest(
        "linstor",
        "PUT",
        "/v1/resource-groups/rg1",
        {"override_props": {"Aux/a": "1", "Aux/c": "3", "Aux/b": "20"}, "delete_props": ["Aux/a", "Aux/x"]},
        GROUP,
    )
    assert render(request) == [
        "PUT /v1/resource-groups/rg1: props.Aux/c → 3",
        "PUT /v1/resource-groups/rg1: props.Aux/b: 2 → 20",
        "PUT /v1/resource-groups/rg1: props.Aux/a: 1 → (removed)",
    ]


def test_render_a_create_without_empty_fields_and_a_form_with_an_op() -> None:
    create = PlannedRequest(
        "linstor", "POST", "/v1/resource-groups", {"name": "g", "select_filter": {"a": []}}
    )
    assert render(create) == ["POST /v1/resource-groups: name → g"]
    fmt = PlannedRequest(
        "maas", "POST", "nodes/abc/blockdevices/7/?op=format", [("fstype", "ext4")], {"name": "md0"}
    )
    assert render(fmt) == ["POST nodes/abc/blockdevices/7/?op=format: fstype → ext4"]
    same = PlannedRequest("maas", "PUT", "nodes/abc/raid/5/", [("name", "md0")], {"name": "md0"})
    assert render(same) == ["PUT nodes/abc/raid/5/"]
    nested = PlannedRequest("linstor", "PUT", "/p", {"k": {"n": 1, "m": [1]}}, {"k": {"n": 2, "m": [1]}})
    assert render(nested) == ["PUT /p: k.n: 2 → 1"]
