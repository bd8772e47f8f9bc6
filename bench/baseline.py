"""Scenario 4: the same groups and resources created by a plain sequential python-linstor
script, as a user would write it, against a fresh simulator with the same seed (and, for the
`latency` scenario, the same injected latency as the operator's simulator)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import linstor

from bench import verify, workload
from bench.console import console
from bench.lifecycle import expected_keys
from bench.probes import backend_requests
from bench.sizes import Size
from bench.stack import SimProcess


def create_everything(uri: str, size: Size, label: str) -> list[str]:
    """The user's script: create each group, then spawn each resource, one call at a time."""
    errors: list[str] = []
    started = time.time()
    total = size.linstor_objects
    with linstor.Linstor(uri) as lin:
        for i in range(size.groups):
            name = workload.group_name(i)
            replies = lin.resource_group_create(
                name, description="benchmark group", place_count=2, storage_pool=["thin"]
            )
            replies += lin.resource_group_modify(name, property_dict={"DrbdOptions/Net/protocol": "C"})
            replies += lin.volume_group_create(name)
            if not linstor.Linstor.all_api_responses_no_error(replies):
                errors.append(f"{name}: {replies}")
            console.progress(label, i + 1, total, time.time() - started, "created")
        for i in range(size.resources):
            name = workload.resource_name(i)
            # python-linstor takes "1GiB", not the Kubernetes quantity "1Gi".
            replies = lin.resource_group_spawn(
                workload.group_name(i % size.groups), name, [workload.VOLUME + "B"]
            )
            if not linstor.Linstor.all_api_responses_no_error(replies):
                errors.append(f"{name}: {replies}")
            console.progress(label, size.groups + i + 1, total, time.time() - started, "created")
    console.finish()
    return errors


def run(size: Size, workdir: Path, latency_ms: float = 0.0, label: str = "baseline") -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    sim = SimProcess("linstor-sim", workload.linstor_seed(size), workdir)
    try:
        if latency_ms:
            sim.faults(latencyMs=latency_ms)
        before = sim.stats()
        started = time.monotonic()
        errors = create_everything(f"linstor://127.0.0.1:{sim.port}", size, label)
        seconds = time.monotonic() - started
        requests = backend_requests(before, sim.stats())
        sim.faults(latencyMs=0)  # the checks need not wait
        # The same check as the operator's: the script's objects are the workload's, by name.
        objects = workload.groups(size) + workload.resources(size)
        check = verify.check_linstor(sim, dict(zip(expected_keys(objects), objects, strict=True)))
    finally:
        sim.stop()
    problems = sum(len(check[key]) for key in ("duplicates", "orphans", "lost", "wrong"))
    return {
        "seconds": round(seconds, 2),
        "latencyMs": latency_ms,
        "requests": requests,
        "requestsPerObject": round(requests["total"] / size.linstor_objects, 2),
        "verify": {"ok": problems == 0, "linstor": check},
        "errors": errors[:10],
        "ok": not errors and problems == 0,
    }
