"""The `latency` scenario's floor: the API-server writes of the operator's run (the benchmark's
POST, the operator's metadata PATCH, its status PATCH and its Events, the same bodies) sent again
to a fresh control plane with no operator and no LINSTOR, as concurrently as the operator's
workers. The CPU the API server and etcd spend on them, spread over every core of the machine,
is a time no operator can beat here (its own CPU, the simulator's and the benchmark's come on
top), so `script seconds / floorSeconds` is the ratio's ceiling on this machine. The replay's
wall time is reported too; it includes this client's own CPU."""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.apiserver import BY_KIND
from bench.lifecycle import expected_keys
from bench.stack import Stack

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
# Event fields the operator sets; the server's own (name, uid, managedFields, ...) are left out.
EVENT_FIELDS = (
    "apiVersion",
    "kind",
    "involvedObject",
    "type",
    "reason",
    "message",
    "source",
    "reportingComponent",
    "reportingInstance",
    "firstTimestamp",
    "lastTimestamp",
    "count",
)


@dataclass(frozen=True)
class Replay:
    """What was written to the API server for each object while it was created."""

    manifests: list[dict[str, Any]]
    metadata: dict[str, dict[str, Any]]  # key -> the finalizers (and annotations) the operator set
    status: dict[str, dict[str, Any]]  # key -> the status it wrote
    events: dict[str, list[dict[str, Any]]]  # key -> the Events it posted about the object

    @property
    def writes(self) -> int:
        """The operator's writes (the benchmark's POSTs not counted)."""
        return 2 * len(self.manifests) + sum(len(e) for e in self.events.values())


def capture(
    manifests: list[dict[str, Any]], objects: dict[str, dict[str, Any]], events: list[dict[str, Any]]
) -> Replay:
    """From the objects as the operator left them (`Kind/name` -> object) and the cluster's Events;
    an object never seen is left out."""
    metadata: dict[str, dict[str, Any]] = {}
    status: dict[str, dict[str, Any]] = {}
    seen = [(m, k) for m, k in zip(manifests, expected_keys(manifests), strict=True) if k in objects]
    for _, key in seen:
        meta = objects[key]["metadata"]
        metadata[key] = {"finalizers": meta.get("finalizers", [])}
        if meta.get("annotations"):
            metadata[key]["annotations"] = meta["annotations"]
        status[key] = objects[key].get("status", {})
    by_object: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        ref = event["involvedObject"]
        key = f"{ref.get('kind')}/{ref.get('name')}"
        if key in status:
            body = {field: event[field] for field in EVENT_FIELDS if field in event}
            body["metadata"] = {
                "generateName": event["metadata"].get("generateName") or f"{ref.get('name')}.",
                "namespace": event["metadata"]["namespace"],
            }
            by_object[key].append(body)
    return Replay([m for m, _ in seen], metadata, status, dict(by_object))


def run(replay: Replay, workdir: Path, workers: int) -> dict[str, Any]:
    """Send the writes (each object's in order, `workers` objects at once) and time them."""
    with Stack(workdir, {}, {}) as stack:
        api = stack.start_plane()
        cpu_before, own_before = stack.cpu_seconds(), time.process_time()
        started = time.monotonic()
        asyncio.run(_send_all(api.async_client(workers), replay, workers))
        seconds = time.monotonic() - started
        cpu_after, own_after = stack.cpu_seconds(), time.process_time()
    spent = {role: round(cpu_after[role] - cpu_before[role], 2) for role in cpu_before}
    spent["client"] = round(own_after - own_before, 2)
    cores = len(os.sched_getaffinity(0))
    objects = len(replay.manifests)
    return {
        "objects": objects,
        "writes": replay.writes,
        "writesPerObject": round(replay.writes / objects, 2) if objects else 0,
        "workers": workers,
        "replaySeconds": round(seconds, 2),
        "cpuSeconds": spent,
        "cores": cores,
        "floorSeconds": round((spent["apiserver"] + spent["etcd"]) / cores, 2),
    }


async def _send_all(client: httpx.AsyncClient, replay: Replay, workers: int) -> None:
    slots = asyncio.Semaphore(workers)

    async def one(manifest: dict[str, Any], key: str) -> None:
        path = BY_KIND[manifest["kind"]].path
        name = manifest["metadata"]["name"]
        async with slots:
            await _expect(client.post(path, json=manifest), 201)
            await _expect(
                client.patch(f"{path}/{name}", json={"metadata": replay.metadata[key]}, headers=MERGE_PATCH),
                200,
            )
            await _expect(
                client.patch(
                    f"{path}/{name}/status", json={"status": replay.status[key]}, headers=MERGE_PATCH
                ),
                200,
            )
            for event in replay.events.get(key, []):
                await _expect(
                    client.post(f"/api/v1/namespaces/{event['metadata']['namespace']}/events", json=event),
                    201,
                )

    async with client:
        await asyncio.gather(
            *(one(m, k) for m, k in zip(replay.manifests, expected_keys(replay.manifests), strict=True))
        )


async def _expect(sending: Any, status: int) -> None:
    response: httpx.Response = await sending
    if response.status_code != status:
        request = response.request
        raise RuntimeError(
            f"{request.method} {request.url.path}: {response.status_code} {response.text[:300]}"
        )
