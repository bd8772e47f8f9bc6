"""Runs one reconcile pass for any kind and turns its Outcome (or failure) into status,
conditions, Events and kopf retries. Kind-specific modules stay a few lines each."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from stratum.clients.errors import BackendError, BackendUnavailable
from stratum.handlers.conditions import get_condition, next_conditions
from stratum.handlers.metrics import Metrics
from stratum.reconcile.outcome import Outcome

log = logging.getLogger("stratum")

Pass = Callable[[], Awaitable[Outcome]]


@dataclass
class Runtime:
    """Process-wide state the handlers share (kept in kopf's memo)."""

    metrics: Metrics
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    clients: dict[str, Any] = field(default_factory=dict)
    workers: int = 20
    """Reconcile passes talking to the backends at once (`stratum run --workers`)."""
    backend_slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.backend_slots = asyncio.Semaphore(self.workers)

    def lock(self, uid: str) -> asyncio.Lock:
        # One pass at a time per object: create/update handlers and the drift timer may fire together.
        return self.locks.setdefault(uid, asyncio.Lock())

    def forget(self, uid: str) -> None:
        self.locks.pop(uid, None)


def backoff(retry: int, base: float = 2.0, cap: float = 120.0) -> float:
    """Exponential with jitter: 2, 4, 8 … up to two minutes."""
    return float(random.uniform(0.5, 1.0) * min(cap, base * 2 ** max(retry, 0)))


def _failure(exc: Exception, backend: str) -> Outcome:
    if isinstance(exc, BackendUnavailable):
        return Outcome(False, exc.reason, f"{exc.message}; retrying", retry_after=None)
    if isinstance(exc, BackendError):
        return Outcome(False, exc.reason, f"{backend} refused: {exc.message}", retry_after=None)
    log.exception("reconcile failed unexpectedly")
    return Outcome(
        False, "InternalError", f"unexpected error: {type(exc).__name__}: {exc}; retrying", retry_after=None
    )


async def run_pass(
    *,
    kind: str,
    backend: str,
    runtime: Runtime,
    body: kopf.Body,
    patch: kopf.Patch,
    status: Mapping[str, Any],
    generation: int | None,
    run: Pass,
    retry: int = 0,
    raise_for_retry: bool = True,
    deleting: bool = False,
) -> Outcome:
    """One serialized pass. With `raise_for_retry` (change handlers) a pass that is not done
    raises kopf.TemporaryError so kopf retries with backoff; the drift timer only records."""
    uid = body.metadata.uid or body.metadata.name or ""
    started = time.monotonic()
    failed: Exception | None = None
    async with runtime.lock(uid), runtime.backend_slots:
        try:
            outcome = await run()
        except Exception as exc:  # every failure becomes a condition, never a silent loop
            failed = exc
            outcome = _failure(exc, backend)
    name = body.metadata.name
    if outcome.ready:
        log.info("%s %s: %s (%s)", kind, name, outcome.reason, "; ".join(outcome.actions) or "no change")
    else:
        log.warning("%s %s: %s: %s", kind, name, outcome.reason, outcome.message)
    conditions = _write_status(
        patch, status, generation, outcome, deleting=deleting, failed=failed is not None
    )
    ready_now = get_condition(conditions, "Ready")
    runtime.metrics.object_state(kind, uid, str(ready_now["status"]) if ready_now else "Unknown")
    runtime.metrics.reconciled(
        kind,
        outcome.reason if not outcome.ready else "Ready",
        error=failed is not None,
        seconds=time.monotonic() - started,
    )
    _post_events(body, status, outcome, failed is not None, conditions)
    if outcome.ready or not raise_for_retry:
        return outcome
    delay = outcome.retry_after if outcome.retry_after is not None else backoff(retry)
    raise kopf.TemporaryError(f"{outcome.reason}: {outcome.message}", delay=delay)


def _write_status(
    patch: kopf.Patch,
    status: Mapping[str, Any],
    generation: int | None,
    outcome: Outcome,
    *,
    deleting: bool,
    failed: bool,
) -> list[dict[str, Any]]:
    """Patch what changed; the conditions as they are now."""
    conditions = list(status.get("conditions") or [])
    reason = "Deleting" if deleting and outcome.ready else outcome.reason
    new = next_conditions(
        conditions,
        generation=generation,
        observed_generation=None if deleting else status.get("observedGeneration"),
        ready=outcome.ready and not deleting,
        reason=reason,
        message=outcome.message,
        failed=failed,
    )
    if new != conditions:
        patch.status["conditions"] = new
    for key, value in outcome.status.items():
        if status.get(key) != value:
            patch.status[key] = value
    if outcome.ready and not deleting and status.get("observedGeneration") != generation:
        patch.status["observedGeneration"] = generation
    return new


def _post_events(
    body: kopf.Body,
    status: Mapping[str, Any],
    outcome: Outcome,
    failed: bool,
    conditions: list[dict[str, Any]],
) -> None:
    for action in outcome.actions:
        kopf.event(body, type="Normal", reason="Reconciled", message=action[:1024])
    # Announce a state once, not on every retry: compare with the condition that carries it.
    kept_ready = failed and (get_condition(conditions, "Ready") or {}).get("status") == "True"
    previous = get_condition(list(status.get("conditions") or []), "Synced" if kept_ready else "Ready")
    unchanged = (
        previous is not None
        and previous.get("reason") == outcome.reason
        and previous.get("message") == outcome.message
    )
    if unchanged:
        return
    if not outcome.ready or kept_ready:
        kopf.event(
            body,
            type="Warning" if failed else "Normal",
            reason=outcome.reason,
            message=outcome.message[:1024],
        )
    elif previous is not None and previous.get("status") != "True":
        kopf.event(body, type="Normal", reason="Ready", message=outcome.message[:1024])
