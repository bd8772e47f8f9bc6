"""Scenarios 1 and 2: everything applied at once until Ready (scale), then drift timers only
(idle); then everything deleted and the backends checked empty."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench import verify, workload
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
        readiness, keys, converged = apply_and_wait(stack, size, usage)
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
        cleanup = delete_all(stack, size, usage)
        results["scale"]["cleanup"] = cleanup
        results["scale"]["ok"] = results["scale"]["ok"] and cleanup["ok"]
        results["scale"]["operator"].update(usage.as_json())
    return results


def _idle(stack: Stack, size: Size, usage: ProcessUsage, objects: int) -> dict[str, Any]:
    """Only drift timers run: writes should be zero; reads are the cost of drift detection."""
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
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        got = window.since(stack)
        series.append(
            {
                "apiserverWrites": got["apiserver"]["writes"],
                "linstorWrites": got["backends"]["linstor"]["writes"],
                "maasWrites": got["backends"]["maas"]["writes"],
                "linstorReads": got["backends"]["linstor"]["reads"],
                "maasReads": got["backends"]["maas"]["reads"],
            }
        )
    total = start.since(stack)
    minutes = total["seconds"] / 60
    linstor_objects = size.groups + size.resources
    rate = lambda n, per=1: round(n / minutes / per, 3)  # noqa: E731
    return {
        "seconds": total["seconds"],
        "driftInterval": size.drift_interval,
        "perMinute": {
            "apiserverWrites": rate(total["apiserver"]["writes"]),
            "linstorWrites": rate(total["backends"]["linstor"]["writes"]),
            "maasWrites": rate(total["backends"]["maas"]["writes"]),
            "apiserverReadsPerObject": rate(total["apiserver"]["reads"], objects),
            "linstorReadsPerObject": rate(total["backends"]["linstor"]["reads"], linstor_objects),
            "maasReadsPerObject": rate(total["backends"]["maas"]["reads"], size.raids),
            "operatorCpuSeconds": rate(usage.cpu_seconds - cpu_before),
        },
        "windows": series,
        "requests": total,
        "ok": True,
    }
