"""What a MachineRaidSet adds to the Kubernetes object client: get, merge and JSON patches, and
plan mode (changes recorded, never sent; reads still sent)."""

from __future__ import annotations

import json

import httpx

from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.clients.recording import Recorder, recording

API = "maas.stratum.dev/v1alpha1"


def client(handler: httpx.MockTransport) -> KubeObjects:
    return KubeObjects(KubeConnection(server="https://api", token="t0k", insecure=True), transport=handler)


async def test_get_and_patches() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            found = request.url.path.endswith("/fleet-a")
            return httpx.Response(200 if found else 404, json={"metadata": {"name": "fleet-a"}})
        return httpx.Response(200, json={})

    objects = client(httpx.MockTransport(handle))
    assert await objects.get(API, "machineraids", "fleet-a") == {"metadata": {"name": "fleet-a"}}
    assert await objects.get(API, "machineraids", "other") is None
    await objects.patch(API, "machineraids", "fleet-a", {"metadata": {"labels": {"x": None}}})
    assert (
        seen[-1].method == "PATCH"
        and seen[-1].url.path == "/apis/maas.stratum.dev/v1alpha1/machineraids/fleet-a"
    )
    assert seen[-1].headers["Content-Type"] == "application/merge-patch+json"
    ops = [{"op": "replace", "path": "/spec", "value": {"level": "raid-1"}}]
    await objects.patch(API, "machineraids", "fleet-a", ops, json_patch=True)
    assert seen[-1].headers["Content-Type"] == "application/json-patch+json"
    assert json.loads(seen[-1].content) == ops
    await objects.close()


async def test_plan_mode_records_changes_and_sends_only_reads() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return httpx.Response(404, json={})

    objects = client(httpx.MockTransport(handle))
    recorder = Recorder()
    with recording(recorder):
        assert await objects.create(API, "machineraids", {"metadata": {"name": "fleet-a"}}) is True
        await objects.patch(API, "machineraids", "fleet-b", {"spec": {"level": "raid-1"}})
        assert await objects.delete(API, "machineraids", "fleet-c") is True
        assert await objects.get(API, "machineraids", "fleet-a") is None
    assert seen == ["GET"]
    assert [(r.backend, r.method, r.path) for r in recorder.requests] == [
        ("Kubernetes", "POST", "/apis/maas.stratum.dev/v1alpha1/machineraids"),
        ("Kubernetes", "PATCH", "/apis/maas.stratum.dev/v1alpha1/machineraids/fleet-b"),
        ("Kubernetes", "DELETE", "/apis/maas.stratum.dev/v1alpha1/machineraids/fleet-c"),
    ]
    await objects.close()
