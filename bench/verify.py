"""No duplicates, no orphans, nothing lost: the backends, listed directly, against the
Kubernetes objects."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.stack import SimProcess
from bench.workload import PREFIX

DEFAULT_GROUPS = {"dfltrscgrp"}
DISKLESS = {"DISKLESS", "DRBD_DISKLESS", "TIE_BREAKER"}


def _linstor_name(obj: dict[str, Any]) -> str:
    return str(
        (obj.get("status") or {}).get("linstorName")
        or obj["spec"].get("linstorName")
        or obj["metadata"]["name"]
    )


def _problems(kind: str, expected: list[str], actual: list[str]) -> dict[str, list[str]]:
    counts = Counter(name.casefold() for name in actual)
    wanted = {name.casefold() for name in expected}
    return {
        "duplicates": sorted(f"{kind} {n}" for n, c in counts.items() if c > 1),
        "orphans": sorted(f"{kind} {n}" for n in counts if n not in wanted),
        "lost": sorted(f"{kind} {n}" for n in wanted if n not in counts),
    }


def _merge(into: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, values in more.items():
        into.setdefault(key, []).extend(values)


def check_linstor(
    sim: SimProcess, objects: dict[str, dict[str, Any]], place_count: int = 2
) -> dict[str, Any]:
    groups = [o for k, o in objects.items() if k.startswith("ResourceGroup/")]
    resources = [o for k, o in objects.items() if k.startswith("Resource/")]
    rgs = [
        g["name"] for g in sim.get_json("/v1/resource-groups") if g["name"].casefold() not in DEFAULT_GROUPS
    ]
    rds = sim.get_json("/v1/resource-definitions", {"with_volume_definitions": "true"})
    placed = sim.get_json("/v1/view/resources")
    found: dict[str, list[str]] = {}
    _merge(found, _problems("resource group", [_linstor_name(g) for g in groups], rgs))
    _merge(
        found,
        _problems("resource definition", [_linstor_name(r) for r in resources], [rd["name"] for rd in rds]),
    )
    # Replicas: exactly placeCount diskful ones per definition (more would be duplicates).
    diskful = Counter(r["name"].casefold() for r in placed if not DISKLESS & set(r.get("flags") or []))
    wrong: list[str] = []
    for rd in rds:
        name = rd["name"].casefold()
        if diskful[name] > place_count:
            found["duplicates"].append(f"replicas of {name}: {diskful[name]} diskful")
        elif diskful[name] < place_count:
            found["lost"].append(f"replicas of {name}: {diskful[name]} diskful")
        if len(rd.get("volume_definitions") or []) != 1:
            wrong.append(f"{name}: {len(rd.get('volume_definitions') or [])} volumes")
    orphans = sorted({r["name"] for r in placed} - {rd["name"] for rd in rds})
    found["orphans"] += [f"resource {n}" for n in orphans]
    return {
        "counts": {"resourceGroups": len(rgs), "resourceDefinitions": len(rds), "resources": len(placed)},
        **found,
        "wrong": wrong,
    }


def check_maas(sim: SimProcess, objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    expected: dict[str, list[str]] = {}
    for key, obj in objects.items():
        if key.startswith("MachineRaid/"):
            machine = obj["spec"]["machine"].get("systemId") or obj["spec"]["machine"]["hostname"]
            expected.setdefault(machine, []).append(obj["spec"].get("raidName") or obj["metadata"]["name"])
    found: dict[str, list[str]] = {"duplicates": [], "orphans": [], "lost": []}
    raids = 0
    for machine in sim.get_json("/_sim/machines"):
        raids += len(machine["raids"])
        wanted = expected.pop(machine["systemId"], []) + expected.pop(machine["hostname"], [])
        _merge(found, _problems(f"raid on {machine['systemId']}", wanted, machine["raids"]))
    for machine, names in expected.items():
        found["lost"] += [f"raid {n} on missing machine {machine}" for n in names]
    return {"counts": {"raids": raids}, **found}


def check(sims: dict[str, SimProcess], objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Both backends against `objects` ("Kind/name" -> object; empty after the deletion)."""
    ours = {k: o for k, o in objects.items() if o["metadata"]["name"].startswith(PREFIX)}
    linstor = check_linstor(sims["linstor"], ours)
    maas = check_maas(sims["maas"], ours)
    problems = sum(len(part[key]) for part in (linstor, maas) for key in ("duplicates", "orphans", "lost"))
    problems += len(linstor["wrong"])
    return {"ok": problems == 0, "linstor": linstor, "maas": maas}
