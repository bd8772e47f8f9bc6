"""The Kubernetes object client: paths, merge patch of status, 409/404 as answers, Secret data
decoded, errors as error kinds (with the API server's message, never a Secret's data)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from stratum.clients.errors import BackendForbidden, BackendUnavailable
from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.clients.recording import Recorder, recording

API = "linstor.stratum.dev/v1alpha1"


def client(handler: httpx.MockTransport) -> KubeObjects:
    return KubeObjects(KubeConnection(server="https://api", token="t0k", insecure=True), transport=handler)


async def test_calls_and_answers() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if request.method == "GET" and path.endswith("/secrets/keys"):
            data = {"accessKey": base64.b64encode(b"AK").decode()}
            return httpx.Response(200, json={"metadata": {"resourceVersion": "42"}, "data": data})
        if request.method == "GET" and path.endswith("/secrets/none"):
            return httpx.Response(404, json={"message": "not found"})
        if request.method == "GET":
            return httpx.Response(200, json={"items": [{"metadata": {"name": "a"}}]})
        if request.method == "POST":
            return httpx.Response(409 if b'"dup"' in request.content else 201, json={})
        if request.method == "DELETE":
            return httpx.Response(404 if path.endswith("/gone") else 200, json={})
        return httpx.Response(200, json={"metadata": {"resourceVersion": "43"}})

    objects = client(httpx.MockTransport(handle))
    assert await objects.list(API, "snapshots", "stratum.dev/schedule=s") == [{"metadata": {"name": "a"}}]
    assert seen[-1].url.path == "/apis/linstor.stratum.dev/v1alpha1/snapshots"
    assert seen[-1].url.params["labelSelector"] == "stratum.dev/schedule=s"
    assert seen[-1].headers["Authorization"] == "Bearer t0k"
    assert await objects.create(API, "snapshots", {"metadata": {"name": "new"}}) is True
    assert await objects.create(API, "snapshots", {"metadata": {"name": "dup"}}) is False
    assert await objects.delete(API, "snapshots", "old") is True
    assert await objects.delete(API, "snapshots", "gone") is False
    await objects.patch_status(API, "snapshotschedules", "s", {"lastScheduleTime": "x"})
    assert seen[-1].method == "PATCH" and seen[-1].url.path.endswith("/snapshotschedules/s/status")
    assert seen[-1].headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(seen[-1].content) == {"status": {"lastScheduleTime": "x"}}
    # Onto one version only (the API server answers 409 when the object moved on): the new one back.
    assert await objects.patch_status(API, "resources", "r", {"n": 1}, resource_version="42") == "43"
    assert json.loads(seen[-1].content) == {"metadata": {"resourceVersion": "42"}, "status": {"n": 1}}
    assert await objects.read_secret("ns", "keys") == ({"accessKey": "AK"}, "42")
    assert seen[-1].url.path == "/api/v1/namespaces/ns/secrets/keys"
    assert await objects.read_secret("ns", "none") is None
    await objects.close()


async def test_errors_are_kinds() -> None:
    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": 'secrets "keys" is forbidden'})

    objects = client(httpx.MockTransport(forbidden))
    with pytest.raises(BackendForbidden, match="forbidden"):
        await objects.read_secret("other", "keys")

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    objects = client(httpx.MockTransport(down))
    with pytest.raises(BackendUnavailable):
        await objects.list(API, "resources")


async def test_plan_mode_writes_no_status() -> None:
    seen: list[httpx.Request] = []
    objects = client(httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200, json={})))
    with recording(Recorder()) as recorder:
        await objects.patch_status(API, "remotes", "r", {"linstorName": "r"})
    assert seen == [] and recorder.requests == []  # not sent, and no backend change either
    await objects.patch_status(API, "remotes", "r", {"linstorName": "r"})
    assert len(seen) == 1
