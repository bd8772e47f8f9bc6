"""Day-2 controls with the running operator on the real API server: the pause annotation,
managementPolicy Observe (and Observe → Full with adopt), and `stratum plan` / `kubectl stratum
plan`. "Writes nothing" is read from the simulators' own request counts (`/_sim/stats`)."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from stratum.clients.maas import MaasClient, MaasConfig
from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.kube import Kube
from support.machines import ready_machine
from support.operator import OperatorProcess, free_port
from support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
LINSTOR = "linstor.stratum.dev/v1alpha1"
MAAS = "maas.stratum.dev/v1alpha1"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def group(name: str, place_count: int = 2, **spec: Any) -> dict[str, Any]:
    body = {"placement": {"placeCount": place_count, "storagePools": ["thin"]}, **spec}
    return {"apiVersion": LINSTOR, "kind": "ResourceGroup", "metadata": {"name": name}, "spec": body}


def writes(sim: LinstorSim | MaasSim, *needles: str) -> Counter[str]:
    """Requests that change the backend, by `METHOD path`, whose path contains one of `needles`."""
    return Counter(
        {
            key: n
            for key, n in sim.stats.requests.items()
            if key.split(" ", 1)[0] in WRITES and any(needle in key for needle in needles)
        }
    )


def linstor_group(sim: LinstorSim, name: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{sim.url}/v1/resource-groups/{name}", timeout=10) as answer:
            found: dict[str, Any] = json.load(answer)
            return found
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def create_linstor_group(sim: LinstorSim, name: str, place_count: int) -> None:
    """A group made outside Stratum, as an administrator would with the LINSTOR client."""
    body = json.dumps(
        {"name": name, "select_filter": {"place_count": place_count, "storage_pool_list": ["thin"]}}
    )
    request = urllib.request.Request(
        f"{sim.url}/v1/resource-groups",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def conditions(kube: Kube, resource: str, name: str) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in kube.get(resource, name).get("status", {}).get("conditions", [])}


def condition_is(
    kube: Kube, resource: str, name: str, type_: str, status: str, reason: str
) -> dict[str, Any]:
    return dict(
        eventually(
            f"{resource}/{name} {type_}={status} ({reason})",
            lambda: (
                (c := conditions(kube, resource, name).get(type_))
                and c["status"] == status
                and c["reason"] == reason
                and c
            ),
            timeout=60,
        )
    )


def events(kube: Kube, name: str) -> list[str]:
    items = json.loads(
        kube.run(
            "get", "events", "-n", "default", "--field-selector", f"involvedObject.name={name}", "-o", "json"
        ).stdout
    )["items"]
    return [e["reason"] for e in items]


def annotate(kube: Kube, resource: str, name: str, paused: bool) -> None:
    value = "stratum.dev/paused=true" if paused else "stratum.dev/paused-"
    kube.run("annotate", "--overwrite", resource, name, value)


# ------------------------------------------------------------------------------- pause


def test_a_paused_object_makes_no_backend_call_until_resumed(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    kube.apply(group("d2-pause"))
    kube.wait("lrg", "d2-pause")
    kube.wait("lrg", "d2-pause", "condition=Reconciling=false")
    annotate(kube, "lrg", "d2-pause", paused=True)
    condition_is(kube, "lrg", "d2-pause", "Synced", "False", "Paused")
    path = "/v1/resource-groups/d2-pause"
    before = writes(linstor_sim, path)
    kube.patch("lrg", "d2-pause", {"spec": {"placement": {"placeCount": 3}}})
    time.sleep(8)  # longer than the drift interval (5 s) and its idle time: every handler had its chance
    assert writes(linstor_sim, path) == before
    assert linstor_group(linstor_sim, "d2-pause")["select_filter"]["place_count"] == 2
    conds = conditions(kube, "lrg", "d2-pause")
    assert conds["Ready"]["status"] == "True"  # left as it was
    assert conds["Synced"]["reason"] == "Paused"
    assert "Paused" in events(kube, "d2-pause")

    annotate(kube, "lrg", "d2-pause", paused=False)
    eventually(
        "the group is changed once resumed",
        lambda: linstor_group(linstor_sim, "d2-pause")["select_filter"]["place_count"] == 3,
        timeout=30,
    )
    condition_is(kube, "lrg", "d2-pause", "Synced", "True", "Reconciled")
    assert "Resumed" in eventually(
        "a Resumed event",
        lambda: "Resumed" in events(kube, "d2-pause") and events(kube, "d2-pause"),
        timeout=60,
    )

    # Deleting a paused object waits, finalizer and backend object in place.
    annotate(kube, "lrg", "d2-pause", paused=True)
    condition_is(kube, "lrg", "d2-pause", "Synced", "False", "Paused")
    kube.delete("lrg", "d2-pause", wait=False)
    synced = eventually(
        "the pause holds the deletion",
        lambda: "deletion waits" in (c := conditions(kube, "lrg", "d2-pause")["Synced"])["message"] and c,
        timeout=60,
    )
    assert synced["reason"] == "Paused"
    time.sleep(3)
    obj = kube.get("lrg", "d2-pause")
    assert obj["metadata"]["deletionTimestamp"] and "stratum.dev/finalizer" in obj["metadata"]["finalizers"]
    assert linstor_group(linstor_sim, "d2-pause") is not None
    annotate(kube, "lrg", "d2-pause", paused=False)
    kube.wait_gone("lrg", "d2-pause", timeout="60s")
    assert linstor_group(linstor_sim, "d2-pause") is None


# ------------------------------------------------------------------------------- Observe


def test_observe_reports_differences_writes_nothing_and_full_with_adopt_takes_over(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    create_linstor_group(linstor_sim, "d2-obs", place_count=2)
    path = "/v1/resource-groups/d2-obs"
    before = writes(linstor_sim, path)
    creates = linstor_sim.stats.requests["POST /v1/resource-groups"]

    kube.apply(group("d2-obs", place_count=3, managementPolicy="Observe"))
    ready = condition_is(kube, "lrg", "d2-obs", "Ready", "False", "DiffersFromSpec")
    assert "nothing was changed" in ready["message"]
    status = kube.get("lrg", "d2-obs")["status"]
    assert status["differences"] == ["PUT /v1/resource-groups/d2-obs: select_filter.place_count: 2 → 3"]
    assert conditions(kube, "lrg", "d2-obs")["Stalled"]["status"] == "True"

    kube.patch("lrg", "d2-obs", {"spec": {"placement": {"placeCount": 2}}})
    condition_is(kube, "lrg", "d2-obs", "Ready", "True", "Observed")
    assert kube.get("lrg", "d2-obs")["status"]["differences"] == []

    # Deleting an observed object deletes and releases nothing.
    kube.delete("lrg", "d2-obs")
    kube.wait_gone("lrg", "d2-obs")
    assert writes(linstor_sim, path) == before
    assert linstor_sim.stats.requests["POST /v1/resource-groups"] == creates
    observed = linstor_group(linstor_sim, "d2-obs")
    assert observed is not None and observed["select_filter"]["place_count"] == 2
    assert not any(key.startswith("Aux/stratum.dev/") for key in observed.get("props", {}))

    # Observe, then Full with adopt: the operator takes the group over and changes it.
    kube.apply(group("d2-obs", place_count=3, managementPolicy="Observe"))
    condition_is(kube, "lrg", "d2-obs", "Ready", "False", "DiffersFromSpec")
    assert writes(linstor_sim, path) == before
    kube.patch("lrg", "d2-obs", {"spec": {"managementPolicy": "Full", "adopt": True}})
    condition_is(kube, "lrg", "d2-obs", "Ready", "True", "Ready")
    taken = linstor_group(linstor_sim, "d2-obs")
    assert taken is not None and taken["select_filter"]["place_count"] == 3
    assert taken["props"]["Aux/stratum.dev/owner"] == kube.get("lrg", "d2-obs")["metadata"]["uid"]
    assert "differences" not in kube.get("lrg", "d2-obs")["status"]
    kube.delete("lrg", "d2-obs")
    kube.wait_gone("lrg", "d2-obs")
    assert linstor_group(linstor_sim, "d2-obs") is None


def test_observe_of_a_raid_lists_member_and_filesystem_changes_and_touches_nothing(
    kube: Kube, operator: OperatorProcess, maas_sim: MaasSim
) -> None:
    maas_sim.add_machine(ready_machine("obs01", "observe-e2e", "sdb", "sdc", "sdd"))

    async def create_outside() -> int:
        """An array made by an administrator, through the MAAS API."""
        config = MaasConfig.from_env({"MAAS_API_URL": maas_sim.maas_url, "MAAS_API_KEY": maas_sim.api_key})
        async with MaasClient(config) as client:
            devices = {d.name: d.id for d in await client.list_block_devices("obs01")}
            raid = await client.create_raid(
                "obs01", name="md-obs", level="raid-1", block_devices=[devices["sdb"], devices["sdc"]]
            )
            return raid.id

    raid_id = asyncio.run(create_outside())
    before = writes(maas_sim, "/nodes/obs01/")
    raid = {
        "apiVersion": MAAS,
        "kind": "MachineRaid",
        "metadata": {"name": "d2-obs-raid"},
        "spec": {
            "managementPolicy": "Observe",
            "machine": {"systemId": "obs01"},
            "raidName": "md-obs",
            "level": "raid-1",
            "devices": ["sdb", "sdc"],
            "spareDevices": ["sdd"],
            "filesystem": {"fstype": "ext4", "mountPoint": "/srv"},
        },
    }
    kube.apply(raid)
    condition_is(kube, "mraid", "d2-obs-raid", "Ready", "False", "DiffersFromSpec")
    differences = kube.get("mraid", "d2-obs-raid")["status"]["differences"]
    assert [d for d in differences if d.startswith(f"PUT nodes/obs01/raid/{raid_id}/: add_spare_devices → ")]
    assert [d for d in differences if "?op=format: fstype → ext4" in d]
    assert [d for d in differences if "?op=mount: mount_point → /srv" in d]
    kube.delete("mraid", "d2-obs-raid")
    kube.wait_gone("mraid", "d2-obs-raid")
    assert writes(maas_sim, "/nodes/obs01/") == before
    assert maas_sim_raids(maas_sim, "obs01") == [{"name": "md-obs", "spares": 0}]  # as it was


def maas_sim_raids(sim: MaasSim, system_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        config = MaasConfig.from_env({"MAAS_API_URL": sim.maas_url, "MAAS_API_KEY": sim.api_key})
        async with MaasClient(config) as client:
            return [
                {"name": r.name, "spares": len(r.spare_devices)} for r in await client.list_raids(system_id)
            ]

    return asyncio.run(read())


# ------------------------------------------------------------------------------- plan


def plan(
    kube: Kube,
    linstor_sim: LinstorSim,
    maas_sim: MaasSim,
    tmp_path: Path,
    *manifests: dict[str, Any],
    **env: str,
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"plan-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump_all(manifests))
    environment = {
        **kube.env,
        "PYTHONPATH": str(ROOT / "operator"),
        "LS_CONTROLLERS": linstor_sim.controller_uri,
        "MAAS_API_URL": maas_sim.maas_url,
        "MAAS_API_KEY": maas_sim.api_key,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "stratum.cli", "plan", "-f", str(path)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def all_writes(*sims: LinstorSim | MaasSim) -> int:
    return sum(sum(writes(sim, "/").values()) for sim in sims)


def test_plan_prints_changes_field_by_field_and_writes_nothing(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim, maas_sim: MaasSim, tmp_path: Path
) -> None:
    kube.apply(group("d2-plan"))
    kube.wait("lrg", "d2-plan")
    kube.wait("lrg", "d2-plan", "condition=Reconciling=false")
    maas_sim.add_machine(ready_machine("plan01", "plan-e2e", "sdb", "sdc"))
    raid = {
        "apiVersion": MAAS,
        "kind": "MachineRaid",
        "metadata": {"name": "d2-plan-raid"},
        "spec": {"machine": {"systemId": "plan01"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
    }
    time.sleep(1)  # let any pass the apply started finish before counting
    before = all_writes(linstor_sim, maas_sim)

    same = plan(kube, linstor_sim, maas_sim, tmp_path, group("d2-plan"))
    assert same.returncode == 0, same.stderr
    assert "ResourceGroup/d2-plan" in same.stdout and "no changes" in same.stdout

    changed = plan(
        kube, linstor_sim, maas_sim, tmp_path, group("d2-plan", place_count=3), group("d2-plan-new"), raid
    )
    assert changed.returncode == 2, changed.stderr
    out = changed.stdout
    assert "PUT /v1/resource-groups/d2-plan: select_filter.place_count: 2 → 3" in out
    assert "POST /v1/resource-groups: name → d2-plan-new" in out
    assert "POST nodes/plan01/raids/: block_devices → " in out and "later steps depend" in out

    bad = plan(kube, linstor_sim, maas_sim, tmp_path, group("d2-plan", place_count=0))
    assert bad.returncode == 1 and "placeCount" in bad.stderr
    alien = plan(
        kube,
        linstor_sim,
        maas_sim,
        tmp_path,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
    )
    assert alien.returncode == 1 and "not a Stratum kind" in alien.stderr
    down = plan(
        kube,
        linstor_sim,
        maas_sim,
        tmp_path,
        group("d2-plan"),
        LS_CONTROLLERS=f"linstor://127.0.0.1:{free_port()}",
    )
    assert down.returncode == 1 and "LINSTOR" in down.stderr

    assert all_writes(linstor_sim, maas_sim) == before  # nothing was written by any of the plans
    assert linstor_group(linstor_sim, "d2-plan")["select_filter"]["place_count"] == 2
    assert linstor_group(linstor_sim, "d2-plan-new") is None
    kube.delete("lrg", "d2-plan")


def test_kubectl_finds_the_plan_as_a_plugin(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim, maas_sim: MaasSim, tmp_path: Path
) -> None:
    """`kubectl stratum plan`: kubectl runs `kubectl-stratum` from PATH; the shim is what pip
    generates for the [project.scripts] entry point."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["kubectl-stratum"].split(":")
    plugin = tmp_path / "bin" / "kubectl-stratum"
    plugin.parent.mkdir()
    plugin.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    manifest = tmp_path / "new.yaml"
    manifest.write_text(yaml.safe_dump(group("d2-plugin")))
    env = {
        **kube.env,
        "PATH": f"{plugin.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "operator"),
        "LS_CONTROLLERS": linstor_sim.controller_uri,
    }
    proc = subprocess.run(
        ["kubectl", "stratum", "plan", "-f", str(manifest)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "POST /v1/resource-groups: name → d2-plugin" in proc.stdout
    assert linstor_group(linstor_sim, "d2-plugin") is None
