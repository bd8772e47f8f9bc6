"""Events as `kubectl describe` finds them: for a cluster-scoped object, in `default` with an
involvedObject that names no namespace; posted in the background, a refusal only logged."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from stratum.clients.errors import Backend, BackendRefused
from stratum.handlers.events import DROP_LOG_INTERVAL, POSTERS, KubeEvents, event_body

NOW = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
RAID = {
    "apiVersion": "maas.stratum.dev/v1alpha1",
    "kind": "MachineRaid",
    "metadata": {"name": "md0", "uid": "u-1", "resourceVersion": "42", "generation": 3},
}


def test_a_cluster_scoped_object_gets_an_event_in_default_without_a_namespace() -> None:
    event = event_body(
        RAID,
        type="Warning",
        reason="DeviceNotFound",
        message="x" * 2000,
        component="stratum",
        instance="pod-1",
        cluster_namespace="default",
        now=NOW,
    )
    assert event["metadata"] == {"generateName": "md0.", "namespace": "default"}
    assert event["involvedObject"] == {
        "apiVersion": "maas.stratum.dev/v1alpha1",
        "kind": "MachineRaid",
        "name": "md0",
        "uid": "u-1",
        "resourceVersion": "42",
    }
    assert (event["type"], event["reason"], len(event["message"])) == ("Warning", "DeviceNotFound", 1024)
    assert event["source"] == {"component": "stratum"} and event["reportingInstance"] == "pod-1"
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-02T03:04:05Z"


def test_a_namespaced_object_keeps_its_namespace() -> None:
    obj = {**RAID, "metadata": {**RAID["metadata"], "namespace": "team-a"}}
    event = event_body(
        obj,
        type="Normal",
        reason="Reconciled",
        message="m",
        component="stratum",
        instance="i",
        cluster_namespace="default",
        now=NOW,
    )
    assert event["metadata"]["namespace"] == event["involvedObject"]["namespace"] == "team-a"


class FakeEventClient:
    def __init__(self, refuse: bool = False) -> None:
        self.created: list[dict[str, Any]] = []
        self.refuse = refuse
        self.closed = False

    async def create(self, event: dict[str, Any]) -> dict[str, Any]:
        if self.refuse:
            raise BackendRefused(Backend.KUBERNETES, "HTTP 403: events is forbidden", status=403)
        self.created.append(event)
        return event

    async def close(self) -> None:
        self.closed = True


def poster(client: FakeEventClient) -> KubeEvents:
    return KubeEvents(client, component="stratum", instance="i", cluster_namespace="default")  # type: ignore[arg-type]


async def test_events_are_posted_in_the_background_and_flushed_on_close() -> None:
    client = FakeEventClient()
    events = poster(client)
    events.start()
    events.post(RAID, type="Normal", reason="Reconciled", message="created md0")
    events.post(RAID, type="Warning", reason="DeviceNotFound", message="no sdz")
    await events.close()
    assert [(e["reason"], e["message"]) for e in client.created] == [
        ("Reconciled", "created md0"),
        ("DeviceNotFound", "no sdz"),
    ]
    assert client.closed


async def test_a_refused_event_is_logged_and_the_poster_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    client = FakeEventClient(refuse=True)
    outcomes: list[str] = []
    events = poster(client)
    events.count = outcomes.append
    events.start()
    events.post(RAID, type="Normal", reason="Reconciled", message="m")
    await asyncio.wait_for(events.queue.join(), timeout=5)
    client.refuse = False
    events.post(RAID, type="Normal", reason="Ready", message="m")
    await events.close()
    assert [e["reason"] for e in client.created] == ["Ready"]
    assert "could not post event Reconciled" in caplog.text
    assert outcomes == ["failed", "posted"]  # stratum_events_total{outcome}


async def test_a_full_queue_drops_instead_of_blocking_a_pass(caplog: pytest.LogCaptureFixture) -> None:
    """Each drop is counted; the log says so once per interval, with how many (a mass deletion
    drops thousands: a line each buried the operator's log)."""
    now = [0.0]
    outcomes: list[str] = []
    events = poster(FakeEventClient())  # not started: nothing drains the queue
    events.count, events.clock = outcomes.append, lambda: now[0]
    for _ in range(events.queue.maxsize + 3):
        events.post(RAID, type="Normal", reason="Reconciled", message="m")
    assert events.queue.qsize() == events.queue.maxsize
    assert outcomes == ["dropped"] * 3
    assert caplog.text.count("event queue full") == 1 and "dropped 1 Event(s)" in caplog.text
    now[0] = DROP_LOG_INTERVAL
    events.post(RAID, type="Normal", reason="Ready", message="m")
    assert caplog.text.count("event queue full") == 2 and "dropped 3 Event(s)" in caplog.text
    assert "the latest: Ready for md0" in caplog.text
    events.post(RAID, type="Normal", reason="Ready", message="m")
    await events.close()  # the drops not yet logged are, before stopping
    assert caplog.text.count("event queue full") == 3 and outcomes == ["dropped"] * 5


async def test_events_are_posted_several_at_a_time() -> None:
    """A burst of objects turning Ready must not overflow the queue behind one slow POST."""

    class SlowClient(FakeEventClient):
        in_flight = 0
        most = 0

        async def create(self, event: dict[str, Any]) -> dict[str, Any]:
            SlowClient.in_flight += 1
            SlowClient.most = max(SlowClient.most, SlowClient.in_flight)
            await asyncio.sleep(0.01)
            SlowClient.in_flight -= 1
            return await super().create(event)

    client = SlowClient()
    events = poster(client)
    events.start()
    for i in range(40):
        events.post(RAID, type="Normal", reason="Reconciled", message=f"m{i}")
    await events.close()
    assert sorted(e["message"] for e in client.created) == sorted(f"m{i}" for i in range(40))
    assert SlowClient.most == POSTERS > 1
