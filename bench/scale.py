"""Scenarios 1 and 2: everything applied at once until Ready (scale), then drift only
(idle); then everything deleted and the backends checked empty."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import verify, workload
from bench.console import console
from bench.lifecycle import Counters, apply_and_wait, delete_all, per_object
from bench.probes import ProcessUsage, operator_metrics
from bench.sizes import Size
from bench.stack import Stack, Tuning


def run(
    size: Size, workdir: Path, *, scale: bool, idle: bool, tuning: Tuning | None = None
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    args = ("--drift-interval", str(size.drift_interval))
    with Stack(workdir, workload.linstor_seed(size), workload.maas_seed(size)) as stack:
        stack.start(args, tuning)
        assert stack.operator is not None
        usage = ProcessUsage()
        usage.sample(stack.operator_pid)
        counters = Counters.take(stack)
        readiness, keys, converged = apply_and_wait(stack, size, usage, "scale")
        requests = counters.since(stack)
        check = verify.check(stack.sims, readiness.objects)
        not_ready = readiness.not_ready(keys)
        results["scale"] = {
            "objects": {"resources": size.resources, "groups": size.groups, "raids": size.raids},
            "converged": converged,
            "notReady": not_ready[:20],
            "notReadyCount": len(not_ready),
            "readySeconds": readiness.latencies(keys),
            "requests": requests,
            "perObject": per_object(requests, size),
            "operator": {**usage.as_json(), **operator_metrics(stack.operator.metrics_url)},
            "verify": check,
            "operatorStartupHangs": stack.startup_hangs,
            "ok": converged and check["ok"],
        }
        if not scale:
            results["scale"]["setupOnly"] = True
        if idle and converged:
            results["idle"] = _idle(stack, size, usage, len(keys))
        try:
            cleanup = delete_all(stack, size, usage, "scale: delete")
        except Exception as exc:  # what was measured before the deletion stays in the results
            cleanup = {
                "seconds": None,
                "error": f"{type(exc).__name__}: {exc}",
                "backendsEmpty": {"ok": False},
                "ok": False,
            }
        results["scale"]["cleanup"] = cleanup
        results["scale"]["ok"] = results["scale"]["ok"] and cleanup["ok"]
        results["scale"]["operator"].update(usage.as_json())
    return results


def _idle(stack: Stack, size: Size, usage: ProcessUsage, objects: int) -> dict[str, Any]:
    """Only drift runs: writes should be zero; reads are the cost of drift detection."""
    windows = 10
    step = size.idle_seconds / windows
    cpu_before = usage.cpu_seconds
    start = Counters.take(stack)
    series = []
    for _ in range(windows):
        window = Counters.take(stack)
        deadline = time.monotonic() + step
        while time.monotonic() < deadline:
            usage.sample(stack.operator_pid)
            elapsed = time.time() - start.at
            console.progress("idle", int(elapsed), int(size.idle_seconds), elapsed, "s")
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        got = window.since(stack)
        series.append(
            {
                "startSeconds": round(len(series) * step, 1),
                "apiserverWrites": got["apiserver"]["writes"],
                "linstorWrites": got["backends"]["linstor"]["writes"],
                "maasWrites": got["backends"]["maas"]["writes"],
                "linstorReads": got["backends"]["linstor"]["reads"],
                "maasReads": got["backends"]["maas"]["reads"],
            }
        )
    console.finish()
    total = start.since(stack)
    linstor, maas, api = total["backends"]["linstor"], total["backends"]["maas"], total["apiserver"]
    minutes: float = total["seconds"] / 60
    intervals = total["seconds"] / size.drift_interval

    def rate(count: float, per: int = 1) -> float:
        return round(count / minutes / max(per, 1), 3)

    return {
        "seconds": total["seconds"],
        "driftInterval": size.drift_interval,
        "perMinute": {
            "apiserverReads": rate(api["reads"]),
            "apiserverWrites": rate(api["writes"]),
            "linstorWrites": rate(linstor["writes"]),
            "maasWrites": rate(maas["writes"]),
            "apiserverReadsPerObject": rate(api["reads"], objects),
            "linstorReadsPerObject": rate(linstor["reads"], size.linstor_objects),
            "maasReadsPerObject": rate(maas["reads"], size.raids),  # per MachineRaid
            "operatorCpuSeconds": rate(usage.cpu_seconds - cpu_before),
        },
        # Issue 16's target: at most 10 LINSTOR requests per drift interval, whatever the size.
        "linstorRequestsPerInterval": round(linstor["total"] / intervals, 1),
        "maasRequestsPerInterval": round(maas["total"] / intervals, 1),
        "writes": {"apiserver": api["writes"], "linstor": linstor["writes"], "maas": maas["writes"]},
        "steadyWrites": _steady_writes(series, size.drift_interval),
        "windows": series,
        "requests": total,
        "ok": True,
    }


def _steady_writes(windows: list[dict[str, Any]], drift_interval: float) -> dict[str, int]:
    """Writes in the windows that start a whole drift interval after the idle phase began. In
    the first interval each object's first drift pass still records what changed in the backends
    while the others were created (a ResourceGroup's resource count and maxVolumeSize, which
    LINSTOR lowers with every volume placed in its pools); after it nothing changes, and every
    write is churn."""
    steady = [w for w in windows if w["startSeconds"] >= drift_interval]
    return {
        "apiserver": sum(w["apiserverWrites"] for w in steady),
        "linstor": sum(w["linstorWrites"] for w in steady),
        "maas": sum(w["maasWrites"] for w in steady),
        "windows": len(steady),
    }
