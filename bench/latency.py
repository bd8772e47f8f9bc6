"""Scenario 5 (issue 16): the same LINSTOR objects created by the operator and by the sequential
python-linstor script, each against its own linstor-sim answering every request after the same
injected latency. Real controllers answer in tens to hundreds of milliseconds; that is where the
operator's concurrency has to pay off (ratio = script seconds / operator seconds). The operator's
API-server writes are then sent again to a fresh control plane alone (bench.floor): the time no
operator could beat on this machine, and with it the ratio's ceiling here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import baseline, floor, verify, workload
from bench.console import console
from bench.lifecycle import Counters, apply_and_wait, delete_all, per_object
from bench.probes import ProcessUsage
from bench.sizes import LatencySetup, Size
from bench.stack import Stack, Tuning
from stratum.handlers.settings import OperatorSettings


def run(setup: LatencySetup, workdir: Path, tuning: Tuning | None = None) -> dict[str, Any]:
    size = setup.size()
    operator, replay = _operator(size, workdir / "operator", tuning)
    workers = tuning.workers if tuning is not None and tuning.workers else OperatorSettings.workers
    console.log(f"latency: the operator's API-server writes again, API server alone ({workers} at once)")
    alone = floor.run(replay, workdir / "floor", workers)
    console.log(f"latency: python-linstor script, {setup.objects} objects at {setup.latency_ms:g} ms")
    script = baseline.run(size, workdir / "script", latency_ms=setup.latency_ms, label="latency: script")
    operator_seconds = operator["seconds"]
    ratio = round(script["seconds"] / operator_seconds, 2) if operator_seconds else None
    ceiling = round(script["seconds"] / alone["floorSeconds"], 2) if alone["floorSeconds"] else None
    return {
        "objects": setup.objects,
        "resources": setup.resources,
        "groups": setup.groups,
        "latencyMs": setup.latency_ms,
        "operatorSeconds": operator_seconds,
        "baselineSeconds": script["seconds"],
        "ratio": ratio,
        "apiServerAlone": alone,
        "ratioCeiling": ceiling,
        "operator": operator,
        "baseline": script,
        "note": "operator seconds = from the first POST to the poll that saw the last object Ready "
        f"(polled every {size.poll_interval:g} s); script seconds = its calls, start to end; "
        "apiServerAlone: the operator's API-server writes sent again with no operator and no LINSTOR; "
        "floorSeconds = the CPU the API server and etcd spent on them / cores; ratioCeiling = script "
        "seconds / floorSeconds",
        "ok": operator["ok"] and script["ok"],
    }


def _operator(size: Size, workdir: Path, tuning: Tuning | None) -> tuple[dict[str, Any], floor.Replay]:
    args = ("--drift-interval", str(size.drift_interval))
    with Stack(workdir, workload.linstor_seed(size), workload.maas_seed(size)) as stack:
        stack.start(args, tuning)
        stack.sims["linstor"].faults(latencyMs=size.latency_ms)
        console.log(f"latency: operator, {size.linstor_objects} objects at {size.latency_ms:g} ms")
        usage = ProcessUsage()
        cpu_before = stack.cpu_seconds()
        counters = Counters.take(stack)
        readiness, keys, converged = apply_and_wait(stack, size, usage, "latency: operator", follow=True)
        cpu_after = stack.cpu_seconds()
        requests = counters.since(stack)
        seen = [readiness.seen_ready[k] for k in keys if k in readiness.seen_ready]
        seconds = round(max(seen) - readiness.started, 2) if converged and seen else None
        assert stack.api is not None
        replay = floor.capture(workload.everything(size), readiness.objects, stack.api.events())
        # Checks and the deletion run without latency: they are not what is measured.
        stack.sims["linstor"].faults(latencyMs=0)
        check = verify.check(stack.sims, readiness.objects)
        not_ready = readiness.not_ready(keys)
        cleanup = delete_all(stack, size, usage, "latency: delete")
        result = {
            "seconds": seconds,
            "notReady": not_ready[:20],
            "notReadyCount": len(not_ready),
            "readySeconds": readiness.latencies(keys),
            "requests": requests["backends"]["linstor"],
            "busiest": requests["busiest"]["linstor"],
            "perObject": per_object(requests, size),
            "operator": usage.as_json(),
            "creatingWallSeconds": requests["seconds"],
            "cpuSecondsCreating": {
                role: round(cpu_after[role] - before, 2)
                for role, before in cpu_before.items()
                if role in cpu_after
            },
            "verify": check,
            "cleanup": cleanup,
            "operatorStartupHangs": stack.startup_hangs,
            "ok": converged and check["ok"] and cleanup["ok"],
        }
        return result, replay
