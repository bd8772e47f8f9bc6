"""Events where `kubectl describe` finds them. kopf posts an Event for a cluster-scoped object
into a namespace and names that namespace in involvedObject too (kopf _cogs/clients/events.py),
but kubectl looks for events whose involvedObject has no namespace; the API server accepts such
an Event only in `default` (core/v1 Event validation), as the kubelet posts them for Nodes. So
the operator posts its own, in the background, never holding up a pass."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stratum.clients.errors import BackendError
from stratum.clients.kube import EventClient
from stratum.reconcile.reasons import EventType

log = logging.getLogger("stratum.events")

MAX_MESSAGE = 1024
QUEUE_LIMIT = 1000
DROP_LOG_INTERVAL = 60.0
POSTERS = 8
"""Events posted at once. One poster at a time fell behind 1,220 objects turning Ready within
15 s (the queue overflowed and dropped Events; bench --size full); four fell behind 11,100 objects
in 215 s (1,842 dropped; bench --size xl)."""


class EventSink(Protocol):
    def post(self, obj: Mapping[str, Any], *, type: EventType, reason: str, message: str) -> None: ...


def involved_object(obj: Mapping[str, Any]) -> dict[str, str]:
    """The object reference; no namespace for a cluster-scoped object."""
    metadata = obj.get("metadata") or {}
    ref = {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
        "namespace": metadata.get("namespace"),
        "resourceVersion": metadata.get("resourceVersion"),
    }
    return {key: str(value) for key, value in ref.items() if value}


def event_body(
    obj: Mapping[str, Any],
    *,
    type: EventType,
    reason: str,
    message: str,
    component: str,
    instance: str,
    cluster_namespace: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """A core/v1 Event in the style `kubectl describe` shows (source, first/last timestamps)."""
    ref = involved_object(obj)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "generateName": f"{ref.get('name', 'object')}.",
            "namespace": ref.get("namespace", cluster_namespace),
        },
        "involvedObject": ref,
        "type": type,
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": instance,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


def _uncounted(outcome: str) -> None:
    pass


@dataclass
class KubeEvents:
    """Queues Events and posts them from a few background tasks; a full queue or a refused post
    loses the Event (conditions are the durable record). `count` gets each Event's outcome
    (posted, failed, dropped). A refused post is logged; drops come in floods (11,100 objects
    deleted at once), so they are logged at most once per DROP_LOG_INTERVAL, with their number."""

    client: EventClient
    component: str
    instance: str
    cluster_namespace: str
    count: Callable[[str], None] = _uncounted
    clock: Callable[[], float] = time.monotonic
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _unlogged_drops: int = 0
    _drop_logged_at: float = float("-inf")

    def post(self, obj: Mapping[str, Any], *, type: EventType, reason: str, message: str) -> None:
        event = event_body(
            obj,
            type=type,
            reason=reason,
            message=message,
            component=self.component,
            instance=self.instance,
            cluster_namespace=self.cluster_namespace,
            now=dt.datetime.now(dt.UTC),
        )
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.count("dropped")
            self._unlogged_drops += 1
            if self.clock() - self._drop_logged_at >= DROP_LOG_INTERVAL:
                self._log_drops(f"the latest: {reason} for {event['involvedObject'].get('name')}")

    def _log_drops(self, latest: str) -> None:
        log.warning(
            "event queue full: dropped %d Event(s) since the last such line (%s); "
            'stratum_events_total{outcome="dropped"} counts them all',
            self._unlogged_drops,
            latest,
        )
        self._unlogged_drops, self._drop_logged_at = 0, self.clock()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"stratum-events-{i}") for i in range(POSTERS)]

    async def _run(self) -> None:
        while True:
            event = await self.queue.get()
            try:
                await self.client.create(event)
                self.count("posted")
            except BackendError as exc:
                self.count("failed")
                log.warning("could not post event %s: %s", event["reason"], exc.message)
            finally:
                self.queue.task_done()

    async def close(self) -> None:
        """Post what is queued (briefly), then stop."""
        if self._unlogged_drops:
            self._log_drops("before stopping")
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.join(), timeout=5)
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()
