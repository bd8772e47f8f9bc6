"""The schedule's clock: a pass only when a slot is due, the spec changed or the periodic check is
due; the pause annotation stops it; the pass goes through the Kubernetes object client."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import kopf
from fakes import runtime

from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers import linstor_backup
from stratum.handlers.runtime import Runtime

NOW = dt.datetime.now(dt.UTC)


def schedule_body(*, annotations: dict[str, str] | None = None, **status: Any) -> kopf.Body:
    created = (NOW - dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return kopf.Body(
        {
            "apiVersion": "linstor.stratum.dev/v1alpha1",
            "kind": "SnapshotSchedule",
            "metadata": {
                "name": "s",
                "uid": "uid-s",
                "generation": 1,
                "creationTimestamp": created,
                "annotations": annotations or {},
            },
            "spec": {"schedule": "0 0 1 1 *", "resources": ["r1"]},
            "status": status,
        }
    )


class CountingObjects(KubeObjects):
    """A real client on a scripted API server that has no objects; counts the requests."""

    def __init__(self) -> None:
        self.calls = 0

        def answer(request: httpx.Request) -> httpx.Response:
            self.calls += 1
            return httpx.Response(200, json={"items": []})

        super().__init__(
            KubeConnection(server="https://api", token="t"), transport=httpx.MockTransport(answer)
        )


def rt_with(objects: CountingObjects) -> Runtime:
    rt = runtime()
    rt.clients.add(linstor_backup.KUBE, objects)
    return rt


async def tick(body: kopf.Body, rt: Runtime, memo: kopf.Memo) -> kopf.Patch:
    patch = kopf.Patch()
    await linstor_backup.on_schedule_tick(
        body=body, spec=body["spec"], status=body.get("status") or {}, patch=patch, memo=memo
    )
    return patch


async def test_first_tick_runs_a_pass_then_the_clock_idles() -> None:
    objects = CountingObjects()
    rt = rt_with(objects)
    memo = kopf.Memo(runtime=rt)
    patch = await tick(schedule_body(), rt, memo)
    assert objects.calls == 1  # the retention listing; no yearly slot is due
    assert patch.status["nextScheduleTime"]
    # The same generation observed, checked a moment ago, no slot due: nothing at all.
    observed = schedule_body(observedGeneration=1)
    patch = await tick(observed, rt, memo)
    assert objects.calls == 1 and not patch


async def test_paused_schedule_makes_no_call() -> None:
    objects = CountingObjects()
    rt = rt_with(objects)
    patch = await tick(schedule_body(annotations={"stratum.dev/paused": "true"}), rt, kopf.Memo(runtime=rt))
    assert objects.calls == 0
    (synced,) = patch.status["conditions"]
    assert (synced["type"], synced["status"], synced["reason"]) == ("Synced", "False", "Paused")
