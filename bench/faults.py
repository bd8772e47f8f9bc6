"""Scenario 3: the same load with backend errors and latency, a backend outage in the middle and
the operator killed with SIGKILL; then no duplicates, orphans or losses in either backend.

Phases: (1) apply under faults, kill/outage as the batch progresses, until every object has been
Ready at least once since the last disruption ("converged under faults"); (2) errors and latency
off, until every object is Ready at the same time ("ends Ready", the pass/fail criterion);
(3) verify the backends; (4) errors and latency on again, delete everything, verify empty.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import verify, workload
from bench.console import console
from bench.lifecycle import Counters, create_all, delete_all, expected_keys, per_object
from bench.probes import ProcessUsage
from bench.readiness import Progress, Readiness
from bench.sizes import Size
from bench.stack import Stack, Tuning


@dataclass
class Disruptions:
    """Fires the kills and the outage as the batch makes progress (a poll at a time)."""

    stack: Stack
    size: Size
    usage: ProcessUsage
    readiness: Readiness
    events: list[dict[str, Any]] = field(default_factory=list)
    outage_until: float | None = None
    plan: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Kill early, go down in the middle, kill again late (after the outage).
        self.plan = [(0.25, "kill"), (0.5, "outage")] + ([(0.75, "kill")] if self.size.kills > 1 else [])

    @property
    def done(self) -> bool:
        return not self.plan and self.outage_until is None

    def step(self, progress: Progress) -> None:
        now = time.time()
        if self.outage_until is not None:
            if now < self.outage_until:
                return
            self._set_down(False)
            self.outage_until = None
            self._record("outage over", progress)
        if self.plan and progress.fraction >= self.plan[0][0]:
            _, what = self.plan.pop(0)
            if what == "kill":
                self.usage.sample(self.stack.operator_pid)
                self.stack.restart_operator()
                self._record("SIGKILL and restart", progress)
                self.stack.ensure_reconciling()
            else:
                self._set_down(True)
                self.outage_until = now + self.size.outage_seconds
                self._record(f"backends down for {self.size.outage_seconds:g} s", progress)

    def _set_down(self, down: bool) -> None:
        for sim in self.stack.sims.values():
            sim.faults(down=down)

    def _record(self, what: str, progress: Progress) -> None:
        console.log(f"faults: {what} at {progress.ready}/{progress.expected} Ready")
        self.readiness.mark()
        self.events.append(
            {
                "at": round(time.time() - self.readiness.started, 1),
                "event": what,
                "readyFraction": round(progress.fraction, 3),
            }
        )


def _errors(stack: Stack, size: Size, on: bool) -> None:
    for sim in stack.sims.values():
        sim.faults(errorRate=size.error_rate if on else 0.0, latencyMs=size.latency_ms if on else 0.0)


def run(size: Size, workdir: Path, tuning: Tuning | None = None) -> dict[str, Any]:
    args = ("--drift-interval", str(size.drift_interval))
    with Stack(workdir, workload.linstor_seed(size), workload.maas_seed(size)) as stack:
        stack.start(args, tuning)
        assert stack.api is not None
        _errors(stack, size, True)
        usage = ProcessUsage()
        counters = Counters.take(stack)
        objects = workload.everything(size)
        keys = expected_keys(objects)
        readiness = Readiness(started=time.time())
        disruptions = Disruptions(stack, size, usage, readiness)
        create_all(stack, objects, "faults", readiness.started)
        stack.ensure_reconciling()

        # (1) Under faults: until every object was Ready once since the last disruption.
        all_at_once: float | None = None
        converged_at: float | None = None
        deadline = time.monotonic() + size.converge_timeout
        while time.monotonic() < deadline:
            readiness.poll(stack.api)
            usage.sample(stack.operator_pid)
            missing = readiness.not_ready(keys)
            if not missing and all_at_once is None:
                all_at_once = time.time() - readiness.started
            progress = Progress(len(keys), len(keys) - len(missing), time.time() - readiness.started)
            console.progress("faults", progress.ready, progress.expected, progress.elapsed)
            disruptions.step(progress)
            if disruptions.done and all(k in readiness.ready_after_marker for k in keys):
                converged_at = max(readiness.ready_after_marker[k] for k in keys) - readiness.started
                break
            time.sleep(size.poll_interval)
        console.finish()
        requests = counters.since(stack)
        flaps = readiness.flaps

        # (2) Errors off: everything must end Ready, all at once.
        _errors(stack, size, False)
        recovery_started = time.time()
        ends_ready = readiness.wait(
            stack.api,
            keys,
            timeout=size.recovery_timeout,
            interval=size.poll_interval,
            on_poll=lambda p: console.progress("faults off", p.ready, p.expected, p.elapsed),
        )
        console.finish()
        recovered = round(time.time() - recovery_started, 1)
        not_ready = readiness.not_ready(keys)
        check = verify.check(stack.sims, readiness.objects)

        # (4) Errors on again for the deletion: finalizers must not leave orphans either.
        _errors(stack, size, True)
        cleanup = delete_all(stack, size, usage, "faults: delete")
        last = max((e["at"] for e in disruptions.events), default=0.0)
        return {
            "faults": {
                "errorRate": size.error_rate,
                "latencyMs": size.latency_ms,
                "outageSeconds": size.outage_seconds,
                "kills": size.kills,
            },
            "events": disruptions.events,
            "converged": converged_at is not None,
            "convergedSeconds": round(converged_at, 1) if converged_at is not None else None,
            "afterLastDisruptionSeconds": round(converged_at - last, 1) if converged_at is not None else None,
            "allReadyAtOnceUnderFaultsSeconds": round(all_at_once, 1) if all_at_once is not None else None,
            "readyFlapsUnderFaults": flaps,
            "endsReady": ends_ready,
            "recoverySeconds": recovered,
            "notReady": not_ready[:20],
            "notReadyCount": len(not_ready),
            "readySeconds": readiness.latencies(keys),
            "requests": requests,
            "perObject": per_object(requests, size),
            "operator": usage.as_json(),
            "verify": check,
            "operatorStartupHangs": stack.startup_hangs,
            "cleanup": cleanup,
            "ok": ends_ready and check["ok"] and cleanup["ok"],
        }
