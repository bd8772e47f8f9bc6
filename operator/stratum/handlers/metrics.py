"""Prometheus metrics: reconciles, errors and duration per kind; backend requests and latency
per backend and outcome; objects per Ready state."""

from __future__ import annotations

from collections import defaultdict

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
REQUEST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
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
        self._ready: dict[str, dict[str, str]] = defaultdict(dict)

    def reconciled(self, kind: str, result: str, *, error: bool, seconds: float) -> None:
        self.reconcile_total.labels(kind, result).inc()
        self.reconcile_seconds.labels(kind).observe(seconds)
        if error:
            self.reconcile_errors.labels(kind).inc()

    def backend_request(self, backend: str, method: str, outcome: str, seconds: float) -> None:
        self.backend_requests.labels(backend, method, outcome).inc()
        self.backend_seconds.labels(backend, outcome).observe(seconds)

    def object_state(self, kind: str, uid: str, ready: str | None) -> None:
        """Track one object's Ready status ("True"/"False"/"Unknown"), None when it is gone."""
        states = self._ready[kind]
        if ready is None:
            states.pop(uid, None)
        else:
            states[uid] = ready
        for value in ("True", "False", "Unknown"):
            self.objects.labels(kind, value).set(sum(1 for s in states.values() if s == value))

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        start_http_server(port, addr=host, registry=self.registry)
