"""The `maas-sim` command line, and the simulator at the scale of the operator benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from maas_helpers import TB, MaasHttp, free_port, plaintext_header

from stratum.sim.maas import MaasSim


def get(url: str, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", plaintext_header(key))
    with urllib.request.urlopen(request, timeout=5) as resp:
        return resp.status, json.loads(resp.read())


def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise AssertionError(f"maas-sim exited: {proc.stderr.read() if proc.stderr else ''!r}")
        try:
            if get(base + "/MAAS/api/2.0/version/")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("maas-sim did not come up")


def test_command_line_with_a_seed_file(tmp_path: Path) -> None:
    seed = {
        "apiKeys": ["a:b:c"],
        "machines": [
            {
                "systemId": "m1",
                "hostname": "n1",
                "status": "Ready",
                "blockDevices": [{"name": "sda", "size": TB, "bootDisk": True}, {"name": "sdb", "size": TB}],
            }
        ],
    }
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(seed))
    port = free_port()
    cmd = [sys.executable, "-m", "stratum.sim.maas", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--seed", str(path)], stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base, proc)
        status, devices = get(base + "/MAAS/api/2.0/nodes/m1/blockdevices/", "a:b:c")
        assert status == 200 and [d["id"] for d in devices] == [1, 2]
    finally:
        proc.terminate()
        proc.wait(10)


def test_command_line_without_seed_prints_a_generated_key() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "stratum.sim.maas", "--port", str(port)], stderr=subprocess.PIPE
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_up(base, proc)
        (key,) = get(base + "/_sim/apikeys")[1]["keys"]
        assert get(base + "/MAAS/api/2.0/machines/", key) == (200, [])
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stderr is not None
    assert f"API key {key}" in proc.stderr.read().decode()


async def test_two_hundred_raids_on_a_hundred_machines() -> None:
    with MaasSim({"apiKeys": ["k:t:s"]}) as sim:
        async with aiohttp.ClientSession() as session:
            api = MaasHttp(session, sim, key="k:t:s")
            for i in range(100):
                disks = [{"name": "sda", "size": TB, "bootDisk": True}]
                disks += [{"name": f"sd{c}", "size": TB} for c in "bcde"]
                spec = {"systemId": f"m{i:03d}", "hostname": f"n{i:03d}", "blockDevices": disks}
                async with session.post(sim.url + "/_sim/machines", json=spec) as resp:
                    assert resp.status == 201
            for i in range(100):
                for name, members in (("md0", ["sdb", "sdc"]), ("md1", ["sdd", "sde"])):
                    reply = await api.create_raid(
                        f"m{i:03d}", name=name, level="raid-1", block_devices=members
                    )
                    assert reply.status == 200, reply.text
            assert sum(len(m.storage.raids) for m in sim.state.machines.values()) == 200
            # Ids are global: read any RAID by id on its own node.
            raids = await api.ok("GET", "nodes/m099/raids/")
            assert [r["id"] for r in raids] == [199, 200]
            assert (await api.get("nodes/m000/raid/200/")).status == 404
