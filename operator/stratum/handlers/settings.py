"""Every setting of the operator in one frozen object, built once from the command line and the
environment (`OperatorSettings.from_args`) and passed to whatever needs it: the handler
registrations, the runner, the backend clients and kopf's own settings."""

from __future__ import annotations

import argparse
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import kopf

from stratum.clients.retry import RetryPolicy
from stratum.handlers.logs import LogFormat
from stratum.handlers.persistence import StatusDiffBaseStorage, StatusProgressStorage
from stratum.reconcile.outcome import Wait

PREFIX = "stratum.dev"
FINALIZER = f"{PREFIX}/finalizer"


@dataclass(frozen=True)
class RetryDelays:
    """Seconds to the next pass of an object that is not converged, by kind of wait."""

    soon: float = 2.0
    wait: float = 5.0
    slow: float = 30.0
    deletion: float = 10.0

    def seconds(self, wait: Wait) -> float:
        return {
            Wait.SOON: self.soon,
            Wait.WAIT: self.wait,
            Wait.SLOW: self.slow,
            Wait.DELETION: self.deletion,
        }[wait]


@dataclass(frozen=True)
class Backoff:
    """After a failed pass: exponential with jitter, base 2, 4, 8 ... up to `cap` seconds."""

    base: float = 2.0
    cap: float = 120.0

    def seconds(self, retry: int) -> float:
        return float(random.uniform(0.5, 1.0) * min(self.cap, self.base * 2 ** max(retry, 0)))


@dataclass(frozen=True)
class OperatorSettings:
    drift_interval: float = 60.0
    """How often every object is re-checked against its backend (`--drift-interval`)."""
    drift_idle: float = 5.0
    """An object is not checked for drift within this long of its last pass on fresh reads."""
    shared_refresh_budget: int = 2
    """Drift passes share backend reads per interval; per-object reads the backend cannot list in
    bulk (LINSTOR volume groups, max volume sizes) are refreshed at most this many times per
    interval and kind (stratum.clients.shared)."""
    dependency_wait: float = 5.0
    """A change-driven pass that waits for another object (its ResourceGroup, Resource or
    Snapshot) runs again as soon as that object changes within this many seconds, before it
    reports the wait and leaves the retry to kopf."""
    schedule_tick: float = 1.0
    """How often each SnapshotSchedule checks whether a slot is due (a check costs no API call)."""
    machine_poll_interval: float = 5.0
    """How often each MachineRaidSet lists its machines in MAAS (one request per set), so a newly
    tagged machine gets its MachineRaid within seconds."""
    workers: int = 50
    """Reconcile passes talking to the backends at once (`--workers`), each with a LINSTOR
    connection of its own. At 200 ms per LINSTOR request, 200 Resources were Ready in 10.3 s with
    20, 6.2 s with 50 and 5.4 s with 100 (bench/README.md, latency)."""
    delays: RetryDelays = field(default_factory=RetryDelays)
    backoff: Backoff = field(default_factory=Backoff)
    client_retry: RetryPolicy = field(default_factory=RetryPolicy)
    """Retries of one backend request (connection errors, server faults)."""
    kopf_error_backoff: float = 15.0
    """kopf's delay before retrying a handler that raised something other than TemporaryError."""
    backend_timeout: float = 30.0
    """Seconds one LINSTOR or MAAS request may take."""
    backend_connect_timeout: float = 5.0
    request_timeout: float = 60.0
    """Seconds one Kubernetes API request of kopf may take."""
    api_connections: int = 64
    """kopf's connections to the API server at most. Its watch streams hold one each for good
    (one per kind: eight), the rest carry the patches. kopf's own session has no limit: every
    object whose pass ends at the same moment opens a TLS connection of its own (274 open at
    1,220 objects, ~128 KiB of buffers each; measured with tracemalloc)."""
    connect_timeout: float = 10.0
    watch_server_timeout: int = 600
    watch_client_timeout: int = 660
    event_namespace: str = "default"
    """Where Events about the (cluster-scoped) objects go: `kubectl describe` finds them there."""
    event_component: str = "stratum"
    lease_namespace: str | None = None
    lease_name: str = "stratum-operator"
    lease_seconds: int = 15
    """A standby takes over once the holder has not renewed for this long."""
    lease_renew_every: float = 2.0
    lease_renew_deadline: float = 10.0
    """The leader stops reconciling when it could not renew for this long."""
    identity: str | None = None
    service_account_dir: Path | None = None
    """Where the service-account token, ca.crt and namespace are mounted, when not where
    Kubernetes mounts them by default (`--service-account-dir`)."""
    liveness: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "0.0.0.0"
    verbose: bool = False
    log_format: LogFormat = LogFormat.TEXT
    """`--log-format`: text lines, or one JSON object per line with the object of the pass."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The environment the backend configs are read from (LS_*, MAAS_*)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str]) -> OperatorSettings:
        return cls(
            drift_interval=args.drift_interval,
            workers=cls.workers if args.workers is None else args.workers,
            lease_namespace=args.lease_namespace,
            lease_name=args.lease_name,
            identity=args.identity,
            service_account_dir=Path(args.service_account_dir) if args.service_account_dir else None,
            liveness=args.liveness,
            metrics_port=args.metrics_port,
            metrics_host=args.metrics_host,
            verbose=args.verbose,
            log_format=LogFormat(args.log_format),
            env=dict(env),
        )

    def retry_delay(self, wait: Wait) -> float:
        return self.delays.seconds(wait)

    def configure_kopf(self, settings: kopf.OperatorSettings) -> None:
        """Our own finalizer, kopf's state in status, bounded timeouts, and no worker limit."""
        settings.persistence.finalizer = FINALIZER
        # kopf's state in status.kopf: a pass's status and kopf's state go in one PATCH.
        settings.persistence.progress_storage = StatusProgressStorage(prefix=PREFIX)
        settings.persistence.diffbase_storage = StatusDiffBaseStorage(prefix=PREFIX)
        # Log lines are not mirrored to Events: kopf would post them with a namespace on the
        # involved object, where `kubectl describe` never shows them. The runner posts the Events
        # users need (handlers/events.py).
        settings.posting.enabled = False
        settings.networking.request_timeout = self.request_timeout
        settings.networking.connect_timeout = self.connect_timeout
        # No kopf worker limit: a worker holds its slot while it waits for the indexes, and the
        # indexes need workers to finish the initial listing, so a limit deadlocks a restart with
        # many objects; and idle workers keep their slot for idle_timeout, capping throughput at
        # limit/idle_timeout objects per second. The backends are protected by Runtime.backend_slots.
        settings.queueing.worker_limit = None
        settings.queueing.idle_timeout = 0.5
        # Used by kopf >= 1.45 for exceptions other than TemporaryError (the runner turns every
        # failure of a pass into TemporaryError with its own delay; this covers the rest).
        settings.execution.default_backoff = self.kopf_error_backoff
        settings.watching.server_timeout = self.watch_server_timeout
        settings.watching.client_timeout = self.watch_client_timeout
