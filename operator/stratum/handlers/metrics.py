"""Prometheus metrics: reconciles, errors, duration and passes in flight per kind; drift
corrections; backend requests, latency and reachability; objects per Ready state and Degraded;
Events posted and lost; the leader; build info and the process/platform/GC collectors."""

from __future__ import annotations

import collections
import contextlib
import platform
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

import stratum

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
READY_VALUES = ("True", "False", "Unknown")
REQUEST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self) -> None:
        # Our own registry, not prometheus_client's global one: one Metrics per process or test.
        self.registry = CollectorRegistry()
        self.reconcile_total = Counter(
            "stratum_reconcile_total",
            "Reconcile passes by kind and result (Ready or the reason).",
            ["kind", "result"],
            registry=self.registry,
        )
        self.reconcile_errors = Counter(
            "stratum_reconcile_errors_total",
            "Reconcile passes that raised (backend or internal errors).",
            ["kind"],
            registry=self.registry,
        )
        self.reconcile_seconds = Histogram(
            "stratum_reconcile_duration_seconds",
            "Duration of one reconcile pass.",
            ["kind"],
            buckets=RECONCILE_BUCKETS,
            registry=self.registry,
        )
        self.backend_requests = Counter(
            "stratum_backend_requests_total",
            "Requests to LINSTOR or MAAS by method and outcome (HTTP status, or unreachable).",
            ["backend", "method", "outcome"],
            registry=self.registry,
        )
        self.backend_seconds = Histogram(
            "stratum_backend_request_duration_seconds",
            "Backend request latency.",
            ["backend", "outcome"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self.objects = Gauge(
            "stratum_objects",
            "Objects per kind and Ready condition status.",
            ["kind", "ready"],
            registry=self.registry,
        )
        self.objects_degraded = Gauge(
            "stratum_objects_degraded",
            "Objects per kind whose Degraded condition is True.",
            ["kind"],
            registry=self.registry,
        )
        self.reconcile_in_flight = Gauge(
            "stratum_reconcile_in_flight",
            "Reconcile passes running now (including those waiting for a backend slot).",
            ["kind"],
            registry=self.registry,
        )
        self.drift_corrections = Counter(
            "stratum_drift_corrections_total",
            "Drift passes that had to change something in the backend.",
            ["kind"],
            registry=self.registry,
        )
        self.backend_up = Gauge(
            "stratum_backend_up",
            "1 when the last request to the backend got an answer, 0 when it did not reach it.",
            ["backend"],
            registry=self.registry,
        )
        self.events = Counter(
            "stratum_events_total",
            "Kubernetes Events by outcome: posted, failed (refused), dropped (queue full).",
            ["outcome"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "stratum_leader",
            "1 while this process reconciles (it holds the Lease, or runs without election).",
            registry=self.registry,
        )
        Gauge(
            "stratum_build_info",
            "Always 1; the labels say which build runs.",
            ["version", "python_version"],
            registry=self.registry,
        ).labels(stratum.__version__, platform.python_version()).set(1)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self._ready: dict[str, dict[str, str]] = defaultdict(dict)
        self._ready_counts: dict[str, collections.Counter[str]] = defaultdict(collections.Counter)
        self._degraded: dict[str, set[str]] = defaultdict(set)

    def reconciled(self, kind: str, result: str, *, error: bool, seconds: float) -> None:
        self.reconcile_total.labels(kind, result).inc()
        self.reconcile_seconds.labels(kind).observe(seconds)
        self.reconcile_errors.labels(kind)  # exported as 0 before the first error
        self.drift_corrections.labels(kind)
        if error:
            self.reconcile_errors.labels(kind).inc()

    @contextlib.contextmanager
    def in_flight(self, kind: str) -> Iterator[None]:
        gauge = self.reconcile_in_flight.labels(kind)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    def drift_corrected(self, kind: str) -> None:
        self.drift_corrections.labels(kind).inc()

    def event(self, outcome: str) -> None:
        self.events.labels(outcome).inc()

    def set_leader(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    def backend_request(self, backend: str, method: str, outcome: str, seconds: float) -> None:
        self.backend_requests.labels(backend, method, outcome).inc()
        self.backend_seconds.labels(backend, outcome).observe(seconds)
        self.backend_up.labels(backend).set(0 if outcome == "unreachable" else 1)

    def object_degraded(self, kind: str, uid: str, degraded: bool) -> None:
        """Track whether one object's Degraded condition is True."""
        objects = self._degraded[kind]
        if degraded:
            objects.add(uid)
        else:
            objects.discard(uid)
        self.objects_degraded.labels(kind).set(len(objects))

    def object_state(self, kind: str, uid: str, ready: str | None) -> None:
        """Track one object's Ready status ("True"/"False"/"Unknown"), None when it is gone.
        Counted as states change: every pass calls this, and counting all of a kind's objects
        each time made each pass cost as much as there are objects (11,100 at xl)."""
        states, counts = self._ready[kind], self._ready_counts[kind]
        if ready is None:
            self.object_degraded(kind, uid, False)
            before = states.pop(uid, None)
        else:
            before, states[uid] = states.get(uid), ready
        if before == ready and before is not None:
            return
        if before is not None:
            counts[before] -= 1
        if ready is not None:
            counts[ready] += 1
        for value in READY_VALUES:
            self.objects.labels(kind, value).set(counts[value])

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        start_http_server(port, addr=host, registry=self.registry)
