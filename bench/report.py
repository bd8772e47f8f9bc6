"""The table printed at the end and the JSON written beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _pct(block: dict[str, Any]) -> str:
    if not block or not block.get("n"):
        return "-"
    return f"{block['p50']} / {block['p95']} / {block['max']} (n={block['n']})"


def _num(value: Any) -> str:
    return "-" if value is None else str(value)


def rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name in ("scale", "idle", "faults", "baseline", "latency"):
        if (results.get(name) or {}).get("error"):
            out.append((name, "CRASHED", results[name]["error"].strip().splitlines()[-1]))
    scale = results.get("scale")
    if scale and "error" not in scale:
        ready = scale["readySeconds"]
        out += [
            (
                "scale",
                "objects (groups/resources/raids)",
                "{groups}/{resources}/{raids}".format(**scale["objects"]),
            ),
            ("scale", "all Ready after (s)", _num(ready.get("batchSeconds"))),
        ]
        for kind in ("ResourceGroup", "Resource", "MachineRaid"):
            out.append(("scale", f"{kind} Ready p50/p95/max (s)", _pct(ready.get(kind, {}))))
        per = scale["perObject"]
        api = scale["requests"]["apiserver"]
        out += [
            ("scale", "LINSTOR requests / object (writes)", f"{per['linstor']} ({per['linstorWrites']})"),
            ("scale", "MAAS requests / raid (writes)", f"{per['maas']} ({per['maasWrites']})"),
            (
                "scale",
                "API server requests / object (writes)",
                f"{per['apiserver']} ({per['apiserverWrites']})",
            ),
            ("scale", "API server operator reads / writes", f"{api['reads']} / {api['writes']}"),
            ("scale", "operator peak RSS (MiB)", _num(scale["operator"].get("peakRssMiB"))),
            ("scale", "operator CPU (s, whole run)", _num(scale["operator"].get("cpuSeconds"))),
            (
                "scale",
                "operator hung at start (restarted)",
                str(len(scale.get("operatorStartupHangs") or [])),
            ),
            ("scale", "not Ready / verify", f"{scale['notReadyCount']} / {_verdict(scale['verify'])}"),
            (
                "scale",
                "delete all (s) / backends empty",
                f"{scale['cleanup']['seconds']} / {_verdict(scale['cleanup']['backendsEmpty'])}",
            ),
        ]
    idle = results.get("idle")
    if idle and "error" not in idle:
        pm = idle["perMinute"]
        out += [
            ("idle", "duration (s) / drift interval (s)", f"{idle['seconds']} / {idle['driftInterval']:g}"),
            (
                "idle",
                "API server reads / writes per min",
                f"{pm['apiserverReads']} / {pm['apiserverWrites']}",
            ),
            ("idle", "LINSTOR / MAAS writes / min", f"{pm['linstorWrites']} / {pm['maasWrites']}"),
            (
                "idle",
                "writes in the first drift interval / after it",
                f"{sum(idle['writes'].values()) - _steady(idle)} / {_steady(idle)}",
            ),
            ("idle", "API server reads / object / min", _num(pm["apiserverReadsPerObject"])),
            ("idle", "LINSTOR reads / object / min", _num(pm["linstorReadsPerObject"])),
            ("idle", "MAAS reads / raid / min", _num(pm["maasReadsPerObject"])),
            (
                "idle",
                "LINSTOR / MAAS requests / drift interval",
                f"{idle['linstorRequestsPerInterval']} / {idle['maasRequestsPerInterval']}",
            ),
            ("idle", "operator CPU s / min", _num(pm["operatorCpuSeconds"])),
        ]
    faults = results.get("faults")
    if faults and "error" not in faults:
        f = faults["faults"]
        out += [
            (
                "faults",
                "errors / latency / outage / kills",
                f"{f['errorRate']:.0%} / {f['latencyMs']:g} ms / {f['outageSeconds']:g} s / {f['kills']}",
            ),
            ("faults", "each Ready once after last disruption (s)", _num(faults["convergedSeconds"])),
            (
                "faults",
                "... counted from the last disruption (s)",
                _num(faults["afterLastDisruptionSeconds"]),
            ),
            (
                "faults",
                "all Ready at once under faults (s)",
                _num(faults["allReadyAtOnceUnderFaultsSeconds"]),
            ),
            ("faults", "Ready True->False flaps under faults", _num(faults["readyFlapsUnderFaults"])),
            (
                "faults",
                "errors off: all Ready after (s)",
                f"{faults['recoverySeconds']} ({'ok' if faults['endsReady'] else 'NOT READY'})",
            ),
            ("faults", "Ready p50/p95/max (s), all kinds", _pct(faults["readySeconds"].get("all", {}))),
            (
                "faults",
                "LINSTOR / MAAS requests / object",
                f"{faults['perObject']['linstor']} / {faults['perObject']['maas']}",
            ),
            (
                "faults",
                "operator hung at start (restarted)",
                str(len(faults.get("operatorStartupHangs") or [])),
            ),
            ("faults", "not Ready / verify", f"{faults['notReadyCount']} / {_verdict(faults['verify'])}"),
            (
                "faults",
                "delete all (s) / backends empty",
                f"{faults['cleanup']['seconds']} / {_verdict(faults['cleanup']['backendsEmpty'])}",
            ),
        ]
    base = results.get("baseline")
    if base and "error" not in base:
        out += [
            ("baseline", "python-linstor sequential (s)", _num(base["seconds"])),
            ("baseline", "LINSTOR requests / object", _num(base["requestsPerObject"])),
        ]
        ratio = results.get("ratio")
        if ratio:
            out += [
                ("baseline", "operator / script time", _num(ratio.get("time"))),
                ("baseline", "operator / script LINSTOR requests", _num(ratio.get("requests"))),
            ]
    latency = results.get("latency")
    if latency and "error" not in latency:
        op, script, alone = latency["operator"], latency["baseline"], latency["apiServerAlone"]
        server_cpu = round(alone["cpuSeconds"]["apiserver"] + alone["cpuSeconds"]["etcd"], 2)
        out += [
            (
                "latency",
                "objects (groups+resources) / latency",
                f"{latency['objects']} ({latency['groups']}+{latency['resources']}) / "
                f"{latency['latencyMs']:g} ms",
            ),
            ("latency", "operator: all Ready after (s)", _num(latency["operatorSeconds"])),
            ("latency", "python-linstor script (s)", _num(latency["baselineSeconds"])),
            ("latency", "script / operator time", _num(latency["ratio"])),
            (
                "latency",
                "its API writes again, no operator: API server + etcd CPU (s) / cores / writes per object",
                f"{_num(server_cpu)} / {alone['cores']} / {alone['writesPerObject']}",
            ),
            ("latency", "floor: that CPU / cores (s)", _num(alone["floorSeconds"])),
            (
                "latency",
                "script / floor time (the ratio's ceiling on this machine)",
                _num(latency["ratioCeiling"]),
            ),
            (
                "latency",
                "operator CPU (s) / peak RSS (MiB)",
                f"{op['operator']['cpuSeconds']} / {op['operator']['peakRssMiB']}",
            ),
            (
                "latency",
                "LINSTOR requests / object (operator / script)",
                f"{op['perObject']['linstor']} / {script['requestsPerObject']}",
            ),
            (
                "latency",
                "not Ready / verify (operator / script)",
                f"{op['notReadyCount']} / {_verdict(op['verify'])} / {_verdict(script['verify'])}",
            ),
            ("latency", "operator: backends empty after delete", _verdict(op["cleanup"]["backendsEmpty"])),
        ]
    for goal in (results.get("goals") or {}).values():
        met = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
        out.append(("goal", f"{goal['what']} {goal['target']}", f"{_num(goal['value'])} ({met})"))
    return out


def _verdict(check: dict[str, Any]) -> str:
    if check.get("ok"):
        return "ok"
    parts = []
    for backend in ("linstor", "maas"):
        for key in ("duplicates", "orphans", "lost", "wrong"):
            items = check.get(backend, {}).get(key) or []
            if items:
                parts.append(f"{backend} {key}: {len(items)}")
    return "FAILED (" + ", ".join(parts) + ")"


def table(results: dict[str, Any]) -> str:
    body = rows(results)
    width = max((len(r[1]) for r in body), default=10)
    lines = [f"{'scenario':<9} {'metric':<{width}}  value", "-" * (width + 30)]
    lines += [f"{s:<9} {m:<{width}}  {v}" for s, m, v in body]
    return "\n".join(lines)


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")


def _steady(idle: dict[str, Any]) -> int:
    steady = idle["steadyWrites"]
    return int(steady["apiserver"] + steady["linstor"] + steady["maas"])
