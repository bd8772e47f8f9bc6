"""A non-administrator's key: reads allowed, storage edits refused as MAAS refuses them.

Upstream: canonical/maas src/maasserver/api/{raid,blockdevices,partitions}.py (get_node_or_404 /
get_block_device_or_404 with NodePermission.admin raise a bare PermissionDenied; format/mount on a
Ready machine raise it with a message), middleware.py (PermissionDenied -> 403 text/plain),
auth/local.py (view/edit: unowned or own machines), api/support.py check_permission (tags, zones)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from maas_helpers import API_KEY, USER_KEY, MaasHttp, Reply, default_seed

from stratum.sim.maas import MaasSim

GLOBAL = (
    "User does not have permission to perform this operation. "
    "The user should have permission 'can_edit_global_entities'"
)


@pytest.fixture
def seed() -> dict[str, Any]:
    data = default_seed()
    data["apiKeys"] = [
        API_KEY,
        {"key": USER_KEY, "admin": False},
        {"key": "ck3:tk3:ts3", "username": "alice"},
    ]
    data["tags"] = ["storage"]
    return data


@pytest.fixture
async def user(sim: MaasSim) -> Any:
    async with aiohttp.ClientSession() as session:
        yield MaasHttp(session, sim, key=USER_KEY)


def refused(reply: Reply, text: str = "") -> bool:
    return (
        reply.status == 403
        and reply.text == text
        and reply.content_type == "text/plain; charset=utf-8"
        and "X-MAAS-API-Hash" not in reply.headers
    )


async def test_reads_are_allowed(user: MaasHttp, api: MaasHttp) -> None:
    await api.ok(
        "POST",
        "nodes/abc123/raids/",
        body={"name": "md0", "level": "raid-1", "block_devices": ["sdb", "sdc"]},
    )
    assert [m["system_id"] for m in await user.ok("GET", "machines/")] == ["abc123"]
    assert len(await user.ok("GET", "nodes/abc123/blockdevices/")) == 7
    assert [r["name"] for r in await user.ok("GET", "nodes/abc123/raids/")] == ["md0"]
    assert (await user.ok("GET", "nodes/abc123/raid/md0/"))["level"] == "raid-1"
    assert [t["name"] for t in await user.ok("GET", "tags/")] == ["storage"]
    # Machines owned by someone else are invisible to a plain user (auth/local.py _can_view).
    assert refused(await user.get("machines/def456/"))
    assert (await user.get("machines/nope00/")).status == 404


async def test_storage_edits_are_refused_with_a_bare_403(user: MaasHttp, api: MaasHttp) -> None:
    assert refused(
        await user.post("nodes/abc123/raids/", {"name": "md0", "level": "raid-1", "block_devices": [2, 3]})
    )
    raid = await api.ok(
        "POST", "nodes/abc123/raids/", body={"name": "md0", "level": "raid-1", "block_devices": [2, 3]}
    )
    assert refused(await user.put(f"nodes/abc123/raid/{raid['id']}/", {"add_block_devices": "sdd"}))
    assert refused(await user.delete(f"nodes/abc123/raid/{raid['id']}/"))
    assert refused(await user.post("nodes/abc123/blockdevices/sdf/partitions/", {"size": "10G"}))
    part = await api.ok("POST", "nodes/abc123/blockdevices/sdf/partitions/", body={"size": "10G"})
    assert refused(await user.delete(f"nodes/abc123/blockdevices/sdf/partition/{part['id']}"))
    assert refused(await user.post("nodes/abc123/blockdevices/sdd/", {"tag": "ssd"}, op="add_tag"))
    assert refused(await user.post("nodes/abc123/blockdevices/sdd/", {"tag": "ssd"}, op="remove_tag"))
    assert refused(await user.post("nodes/abc123/blockdevices/sdd/", op="set_boot_disk"))
    assert refused(await user.put("nodes/abc123/blockdevices/sdd/", {"name": "sdz"}))
    assert refused(await user.delete("nodes/abc123/blockdevices/sdd/"))
    assert refused(await user.post("machines/abc123/", op="commission"))
    # Nothing changed.
    assert [r["name"] for r in await api.ok("GET", "nodes/abc123/raids/")] == ["md0"]
    assert (await api.device("abc123", "sdd"))["name"] == "sdd"
    assert (await api.ok("GET", "machines/abc123/"))["status_name"] == "Ready"


async def test_format_and_mount_on_a_ready_machine_say_why(user: MaasHttp, api: MaasHttp) -> None:
    reply = await user.post("nodes/abc123/blockdevices/sdd/", {"fstype": "ext4"}, op="format")
    assert refused(
        reply, "Cannot format block device because you don't have the permissions on a Ready machine."
    )
    reply = await user.post("nodes/abc123/blockdevices/sdd/", {"mount_point": "/x"}, op="mount")
    assert refused(
        reply, "Cannot mount block device because you don't have the permissions on a Ready machine."
    )
    part = await api.ok("POST", "nodes/abc123/blockdevices/sdf/partitions/", body={"size": "10G"})
    reply = await user.post(
        f"nodes/abc123/blockdevices/sdf/partition/{part['id']}", {"fstype": "ext4"}, op="format"
    )
    assert refused(reply, "Cannot format partition because you don't have the permissions on a Ready node.")


async def test_a_user_may_allocate_and_format_its_own_machine(user: MaasHttp, api: MaasHttp) -> None:
    machine = await user.ok("POST", "machines/", op="allocate", body={"system_id": "abc123"})
    assert (machine["status_name"], machine["owner"]) == ("Allocated", "user-tk2")
    formatted = await user.ok("POST", "nodes/abc123/blockdevices/sdd/", op="format", body={"fstype": "ext4"})
    assert formatted["filesystem"]["fstype"] == "ext4"
    # RAID edits stay an administrator's business (and need Ready anyway).
    assert refused(
        await user.post("nodes/abc123/raids/", {"name": "md0", "level": "raid-1", "block_devices": [2, 3]})
    )


async def test_global_entities_are_refused_with_the_permission_name(user: MaasHttp) -> None:
    assert refused(await user.post("tags/", {"name": "x"}), GLOBAL)
    assert refused(await user.post("tags/storage/", {"add": "abc123"}, op="update_nodes"), GLOBAL)
    assert refused(await user.delete("tags/storage/"), GLOBAL)
    assert refused(await user.post("zones/", {"name": "z"}), GLOBAL)
    assert refused(await user.post("resourcepools/", {"name": "p"}))


async def test_a_seeded_key_may_name_its_user(sim: MaasSim) -> None:
    async with aiohttp.ClientSession() as session:
        alice = MaasHttp(session, sim, key="ck3:tk3:ts3")
        machine = await alice.ok("POST", "machines/", op="allocate", body={"system_id": "abc123"})
        assert machine["owner"] == "alice"
        # alice is an administrator (the default), so storage edits are hers to make.
        assert (
            await alice.post("nodes/abc123/blockdevices/sdd/", {"fstype": "ext4"}, op="format")
        ).status == 200
