"""Scenario 3: the same load with backend errors and latency, a backend outage in the middle and
the operator killed with SIGKILL; then no duplicates, orphans or losses in either backend."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import verify, workload
from bench.lifecycle import Counters, apply_and_wait, delete_all, per_object
from bench.probes import ProcessUsage
from bench.readiness import Progress
from bench.sizes import Size
from bench.stack import Stack


@dataclass
class Disruptions:
    """Fires the kills and the outage as the batch makes progress (a poll at a time)."""

    stack: Stack
    size: Size
    usage: ProcessUsage
    events: list[dict[str, Any]] = field(default_factory=list)
    outage_until: float | None = None
    plan: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Kill early, go down in the middle, kill again late (after the outage).
        self.plan = [(0.25, "kill"), (0.5, "outage")] + ([(0.75, "kill")] if self.size.kills > 1 else [])

    def __call__(self, progress: Progress) -> bool:
        now = time.time()
        if self.outage_until is not None:
            if now < self.outage_until:
                return True
            self._set_down(False)
            self.outage_until = None
            self._record("outage over", progress)
        if self.plan and progress.fraction >= self.plan[0][0]:
            _, what = self.plan.pop(0)
            if what == "kill":
                self.usage.sample(self.stack.operator_pid)
                assert self.stack.operator is not None
                self.stack.operator.kill()
                self._record("SIGKILL", progress)
                self.stack.operator.start()
                self._record("operator restarted", progress)
            else:
                self._set_down(True)
                self.outage_until = now + self.size.outage_seconds
                self._record(f"backends down for {self.size.outage_seconds:g} s", progress)
        return bool(self.plan) or self.outage_until is not None

    def _set_down(self, down: bool) -> None:
        for sim in self.stack.sims.values():
            sim.faults(down=down)

    def _record(self, what: str, progress: Progress) -> None:
        self.events.append(
            {"at": round(progress.elapsed, 1), "event": what, "readyFraction": round(progress.fraction, 3)}
        )


def run(size: Size, workdir: Path) -> dict[str, Any]:
    args = ("--drift-interval", str(size.drift_interval))
    with Stack(workdir, workload.linstor_seed(size), workload.maas_seed(size)) as stack:
        stack.start(args)
        for sim in stack.sims.values():
            sim.faults(errorRate=size.error_rate, latencyMs=size.latency_ms)
        usage = ProcessUsage()
        counters = Counters.take(stack)
        disruptions = Disruptions(stack, size, usage)
        readiness, keys, converged = apply_and_wait(stack, size, usage, on_poll=disruptions)
        requests = counters.since(stack)
        last = max((e["at"] for e in disruptions.events), default=0.0)
        latencies = readiness.latencies(keys)
        check = verify.check(stack.sims, readiness.objects)
        not_ready = readiness.not_ready(keys)
        cleanup = delete_all(stack, size, usage)
        return {
            "faults": {
                "errorRate": size.error_rate,
                "latencyMs": size.latency_ms,
                "outageSeconds": size.outage_seconds,
                "kills": size.kills,
            },
            "events": disruptions.events,
            "converged": converged,
            "convergedSeconds": latencies["batchSeconds"],
            "afterLastDisruptionSeconds": round(latencies["batchSeconds"] - last, 1)
            if latencies["batchSeconds"]
            else None,
            "notReady": not_ready[:20],
            "notReadyCount": len(not_ready),
            "readySeconds": latencies,
            "requests": requests,
            "perObject": per_object(requests, size),
            "operator": usage.as_json(),
            "verify": check,
            "cleanup": cleanup,
            "ok": converged and check["ok"] and cleanup["ok"],
        }
