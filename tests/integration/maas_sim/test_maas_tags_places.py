"""Tags (canonical/maas src/maasserver/api/tags.py, forms TagForm, models/tag.py), the machine
list's tag/pool/zone filters (node_constraint_filter_forms.py ReadNodesForm), zones
(api/zones.py) and resource pools (api/resourcepools.py, models/resourcepool.py)."""

from __future__ import annotations

from typing import Any

import pytest
from maas_helpers import MaasHttp, default_seed


@pytest.fixture
def seed() -> dict[str, Any]:
    data = default_seed()
    data["machines"][0].update(tags=["storage"], zone="dc1", pool="fast")
    data["machines"][1].update(tags=["storage", "gpu"], zone="dc2")
    data["tags"] = [{"name": "empty", "comment": "nobody has it"}]
    return data


def system_ids(machines: list[Any]) -> list[str]:
    return [m["system_id"] for m in machines]


async def test_seeded_tags_and_machine_tag_names(api: MaasHttp) -> None:
    tags = await api.ok("GET", "tags/")
    assert [t["name"] for t in tags] == ["empty", "storage", "gpu"]
    assert tags[0] == {
        "name": "empty",
        "definition": "",
        "comment": "nobody has it",
        "kernel_opts": "",
        "resource_uri": "/MAAS/api/2.0/tags/empty/",
    }
    assert (await api.ok("GET", "machines/def456/"))["tag_names"] == ["storage", "gpu"]
    assert system_ids(await api.ok("GET", "tags/storage/", op="machines")) == ["abc123", "def456"]


async def test_create_read_update_delete_tag(api: MaasHttp) -> None:
    created = await api.ok("POST", "tags/", body={"name": "ssd-node", "comment": "fast"})
    assert (created["name"], created["comment"], created["definition"]) == ("ssd-node", "fast", "")
    assert (await api.ok("GET", "tags/ssd-node/"))["comment"] == "fast"
    reply = await api.post("tags/", {"name": "ssd-node"})
    assert (reply.status, reply.json()) == (400, {"name": ["Tag with this Name already exists."]})
    reply = await api.post("tags/", {"name": "bad name"})
    assert (reply.status, reply.json()) == (400, {"name": ["Enter a valid value."]})
    reply = await api.post("tags/", {})
    assert (reply.status, reply.json()) == (400, {"name": ["This field is required."]})
    await api.ok("POST", "tags/ssd-node/", op="update_nodes", body={"add": "abc123"})
    renamed = await api.ok("PUT", "tags/ssd-node/", body={"name": "flash"})
    assert renamed["resource_uri"] == "/MAAS/api/2.0/tags/flash/" and renamed["comment"] == "fast"
    assert (await api.ok("GET", "machines/abc123/"))["tag_names"] == ["storage", "flash"]
    assert (await api.delete("tags/flash/")).status == 204
    assert (await api.ok("GET", "machines/abc123/"))["tag_names"] == ["storage"]
    missing = await api.get("tags/flash/")
    assert (missing.status, missing.text) == (404, "No Tag matches the given query.")


async def test_update_nodes_adds_and_removes(api: MaasHttp) -> None:
    counts = await api.ok(
        "POST", "tags/empty/", op="update_nodes", body=[("add", "abc123"), ("add", "ghi789"), ("add", "nope")]
    )
    assert counts == {"added": 2, "removed": 0}
    assert system_ids(await api.ok("GET", "tags/empty/", op="machines")) == ["abc123", "ghi789"]
    counts = await api.ok("POST", "tags/empty/", op="update_nodes", body={"remove": "abc123"})
    assert counts == {"added": 0, "removed": 1}
    assert (await api.ok("GET", "machines/abc123/"))["tag_names"] == ["storage"]
    assert (await api.ok("GET", "machines/ghi789/"))["tag_names"] == ["empty"]
    reply = await api.post("tags/empty/", {"add": "abc123", "definition": "//node"}, op="update_nodes")
    assert (reply.status, reply.text) == (
        409,
        "Definition supplied '//node' doesn't match current definition ''",
    )


async def test_machine_list_filters(api: MaasHttp) -> None:
    assert system_ids(await api.ok("GET", "machines/", params={"tags": "storage"})) == ["abc123", "def456"]
    both = await api.ok("GET", "machines/", params=[("tags", "storage"), ("tags", "gpu")])
    assert system_ids(both) == ["def456"]
    assert system_ids(await api.ok("GET", "machines/", params={"tags": "storage,gpu"})) == ["def456"]
    assert system_ids(await api.ok("GET", "machines/", params={"pool": "fast"})) == ["abc123"]
    zones = await api.ok("GET", "machines/", params=[("zone", "dc2"), ("zone", "default")])
    assert system_ids(zones) == ["def456", "ghi789"]
    combined = await api.ok(
        "GET", "machines/", params={"tags": "storage", "zone": "dc1", "hostname": "node-1"}
    )
    assert system_ids(combined) == ["abc123"]
    assert await api.ok("GET", "machines/", params={"tags": "empty"}) == []
    reply = await api.get("machines/", params={"tags": "unknown"})
    assert (reply.status, reply.json()) == (400, {"tags": ["No such tag(s): 'unknown'."]})
    reply = await api.get("machines/", params={"pool": "nope"})
    assert (reply.status, reply.json()) == (400, {"pool": ["No such pool(s): nope."]})


async def test_zones(api: MaasHttp) -> None:
    zones = await api.ok("GET", "zones/")
    assert [z["name"] for z in zones] == ["dc1", "dc2", "default"]
    default = await api.ok("GET", "zones/default/")
    assert default == {
        "id": 1,
        "name": "default",
        "description": "",
        "resource_uri": "/MAAS/api/2.0/zones/default/",
    }
    created = await api.ok("POST", "zones/", body={"name": "dc3", "description": "third"})
    assert (created["name"], created["description"]) == ("dc3", "third")
    reply = await api.post("zones/", {"name": "dc3"})
    assert (reply.status, reply.json()) == (400, {"name": ["Zone with this Name already exists."]})
    machine = await api.ok("GET", "machines/abc123/")
    assert machine["zone"]["name"] == "dc1" and machine["zone"]["resource_uri"] == "/MAAS/api/2.0/zones/dc1/"
    assert (await api.delete("zones/dc1/")).status == 204
    assert (await api.ok("GET", "machines/abc123/"))["zone"]["name"] == "default"
    reply = await api.delete("zones/default/")
    assert (reply.status, reply.text) == (400, "This zone is the default zone, it cannot be deleted.")


async def test_resource_pools(api: MaasHttp) -> None:
    pools = await api.ok("GET", "resourcepools/")
    assert pools[0] == {
        "id": 0,
        "name": "default",
        "description": "Default pool",
        "resource_uri": "/MAAS/api/2.0/resourcepool/0/",
    }
    fast = pools[1]
    assert fast["name"] == "fast"
    assert (await api.ok("GET", f"resourcepool/{fast['id']}/"))["name"] == "fast"
    assert (await api.ok("GET", "resourcepool/fast/"))["id"] == fast["id"]
    assert (await api.ok("GET", "machines/abc123/"))["pool"] == fast
    created = await api.ok("POST", "resourcepools/", body={"name": "slow"})
    assert created["resource_uri"] == f"/MAAS/api/2.0/resourcepool/{created['id']}/"
    reply = await api.delete(f"resourcepool/{fast['id']}/")
    assert (reply.status, reply.text) == (400, "Pool has machines in it, it cannot be deleted.")
    assert (await api.delete("resourcepool/slow/")).status == 204
    missing = await api.get("resourcepool/slow/")
    assert missing.status == 404


async def test_machines_added_later_bring_their_tags_pool_and_zone(api: MaasHttp) -> None:
    spec = {"hostname": "late", "tags": ["storage", "new"], "pool": "p2", "zone": "z2", "blockDevices": []}
    async with api.session.post(api.sim.url + "/_sim/machines", json=spec) as resp:
        assert resp.status == 201
        body = await resp.json()
    assert body["tag_names"] == ["storage", "new"]
    assert (body["pool"]["name"], body["zone"]["name"]) == ("p2", "z2")
    assert "new" in [t["name"] for t in await api.ok("GET", "tags/")]
    assert len(await api.ok("GET", "machines/", params={"tags": "storage"})) == 3
