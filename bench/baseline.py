"""Scenario 4: the same groups and resources created by a plain sequential python-linstor
script, as a user would write it, against a fresh simulator with the same seed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import linstor

from bench import workload
from bench.probes import backend_requests
from bench.sizes import Size
from bench.stack import SimProcess
from bench.verify import DISKLESS


def create_everything(uri: str, size: Size) -> list[str]:
    """The user's script: create each group, then spawn each resource, one call at a time."""
    errors: list[str] = []
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
        for i in range(size.resources):
            name = workload.resource_name(i)
            # python-linstor takes "1GiB", not the Kubernetes quantity "1Gi".
            replies = lin.resource_group_spawn(
                workload.group_name(i % size.groups), name, [workload.VOLUME + "B"]
            )
            if not linstor.Linstor.all_api_responses_no_error(replies):
                errors.append(f"{name}: {replies}")
    return errors


def run(size: Size, workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    sim = SimProcess("linstor-sim", workload.linstor_seed(size), workdir)
    try:
        before = sim.stats()
        started = time.monotonic()
        errors = create_everything(f"linstor://127.0.0.1:{sim.port}", size)
        seconds = time.monotonic() - started
        requests = backend_requests(before, sim.stats())
        rds = sim.get_json("/v1/resource-definitions")
        placed = sim.get_json("/v1/view/resources")
    finally:
        sim.stop()
    objects = size.groups + size.resources
    diskful = sum(1 for r in placed if not DISKLESS & set(r.get("flags") or []))
    return {
        "seconds": round(seconds, 2),
        "requests": requests,
        "requestsPerObject": round(requests["total"] / objects, 2),
        "resourceDefinitions": len(rds),
        "diskfulReplicas": diskful,
        "errors": errors[:10],
        "ok": not errors and len(rds) == size.resources and diskful == 2 * size.resources,
    }
