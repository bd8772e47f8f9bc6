"""Runs one reconcile pass for any kind and turns its Outcome (or failure) into status,
conditions, Events and kopf retries. Kind-specific modules stay a few lines each."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kopf

from stratum.api.common import StatusBase
from stratum.clients.errors import BackendError, BackendUnavailable
from stratum.clients.shared import SharedReads, SharedReadWrite, reading_shared
from stratum.handlers.conditions import (
    converged_generation,
    degraded_conditions,
    get_condition,
    next_conditions,
    progress_conditions,
)
from stratum.handlers.events import EventSink
from stratum.handlers.runtime import Runtime
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, status_patch

log = logging.getLogger("stratum")

Pass = Callable[[], Awaitable[Outcome]]
OBSERVED_GENERATION = StatusBase.model_fields["observed_generation"].alias or "observedGeneration"
CONDITIONS = StatusBase.model_fields["conditions"].alias or "conditions"


class Superseded(Exception):
    """A pass built from an older version of its object than the API server or the last fresh
    pass has: a drift pass whose object had a fresh pass since it was listed (dropped before it
    runs), or a pass whose once-only intent (a rollback's) could not be written onto the version
    it read (stopped before the rollback is sent). No status is written from it; a change
    handler's is run again by kopf on the newer object."""


def failure_outcome(exc: Exception, backend: str) -> Outcome:
    """What a pass that raised reports: the reason comes from the error kind."""
    if isinstance(exc, BackendUnavailable):
        return Outcome(False, reasons.for_error(exc), f"{exc.message}; retrying")
    if isinstance(exc, BackendError):
        return Outcome(False, reasons.for_error(exc), f"{backend} refused: {exc.message}")
    log.exception("reconcile failed unexpectedly")
    return Outcome(False, reasons.INTERNAL_ERROR, f"unexpected error: {type(exc).__name__}: {exc}; retrying")


async def run_pass(
    *,
    kind: str,
    status_model: type[StatusBase],
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
    shared_reads: DriftReads | None = None,
    wait_for_inputs: Callable[[Outcome], Awaitable[Pass | None]] | None = None,
) -> Outcome:
    """One serialized pass. With `raise_for_retry` (change handlers) a pass that is not done
    raises kopf.TemporaryError so kopf retries with backoff; a drift pass only records.
    With `shared_reads` (a drift pass) the backend reads may come from other drift passes'
    (stratum.clients.shared). A pass that waits for another
    object is given to `wait_for_inputs`, which may return a pass to run at once instead of
    reporting the wait."""
    uid = body.metadata.uid or body.metadata.name or ""

    def ran_fresh() -> None:
        runtime.fresh_passes[uid] = time.monotonic()

    while True:
        started = time.monotonic()
        failed: Exception | None = None
        async with runtime.lock(uid), runtime.backend_slots:
            reads = None if shared_reads is None else drift_reads(runtime, uid, shared_reads)
            try:
                before_writing = None if shared_reads is None else shared_reads.before_writing
                outcome = await run_reading(run, reads, ran_fresh, before_writing)
            except Superseded:
                raise
            except Exception as exc:  # every failure becomes a condition, never a silent loop
                failed = exc
                outcome = failure_outcome(exc, backend)
        # (Waiting happens outside the lock and the backend slots: others run meanwhile.)
        again = None if failed or outcome.ready or wait_for_inputs is None else await wait_for_inputs(outcome)
        if again is None:
            break
        run = again
    if outcome.status is not None and not isinstance(outcome.status, status_model):
        raise TypeError(
            f"a {kind} pass returned a {type(outcome.status).__name__}, not {status_model.__name__}"
        )
    if outcome.warnings:
        outcome.message = f"{outcome.message} (warnings: {'; '.join(outcome.warnings)})"
    conditions = write_status(
        patch, status, generation, outcome, deleting=deleting, failed=failed is not None
    )
    log_outcome(kind, body.metadata.name, outcome, sorted(patch.status), drift=not raise_for_retry)
    ready_now = get_condition(conditions, "Ready")
    runtime.metrics.object_state(kind, uid, str(ready_now["status"]) if ready_now else "Unknown")
    runtime.metrics.reconciled(
        kind,
        outcome.reason if not outcome.ready else "Ready",
        error=failed is not None,
        seconds=time.monotonic() - started,
    )
    post_events(
        runtime.events,
        body,
        status=status,
        outcome=outcome,
        failed=failed is not None,
        conditions=conditions,
        deleting=deleting,
    )
    if outcome.converged or not raise_for_retry:
        return outcome
    settings = runtime.settings
    delay = (
        settings.retry_delay(outcome.retry) if outcome.retry is not None else settings.backoff.seconds(retry)
    )
    raise kopf.TemporaryError(f"{outcome.reason}: {outcome.message}", delay=delay)


def log_outcome(kind: str, name: str | None, outcome: Outcome, written: list[str], *, drift: bool) -> None:
    """A pass that is not Ready is a warning. A Ready one says what it changed in the backend and
    which status fields it wrote; a drift pass that changed neither (every object, every
    interval) is a DEBUG line."""
    if not outcome.ready:
        log.warning("%s %s: %s: %s", kind, name, outcome.reason, outcome.message)
        return
    changes = "; ".join(outcome.actions) or "no change"
    level = logging.DEBUG if drift and not outcome.actions and not written else logging.INFO
    if written:
        changes = f"{changes}; status: {', '.join(written)}"
    log.log(level, "%s %s: %s (%s)", kind, name, outcome.reason, changes)


@dataclass(frozen=True)
class DriftReads:
    """Which shared reads a drift pass may use."""

    interval: float
    """At most this old (the drift interval)."""
    since: float = float("-inf")
    """When the sweep listed the object: shared lists read before it are read again."""
    before_writing: Callable[[], Awaitable[None]] | None = None
    """Awaited before the pass runs again on fresh reads to change a backend (it may raise
    Superseded: the object is no longer as the pass read it)."""


def drift_reads(runtime: Runtime, uid: str, window: DriftReads) -> SharedReads:
    """Shared data of this sweep, never older than the object's last fresh pass."""
    return SharedReads(
        max_age=window.interval,
        not_before=runtime.fresh_passes.get(uid, float("-inf")),
        refetch_before=window.since,
        refresh_budget=runtime.settings.shared_refresh_budget,
    )


async def run_reading(
    run: Pass,
    reads: SharedReads | None,
    ran_fresh: Callable[[], None],
    before_writing: Callable[[], Awaitable[None]] | None = None,
) -> Outcome:
    """The pass on shared reads when given; one that is about to write runs again on fresh
    reads, so nothing is written on shared data (after `before_writing`, which may raise).
    `ran_fresh` is called after a fresh pass."""
    if reads is not None:
        try:
            with reading_shared(reads):
                return await run()
        except SharedReadWrite:
            if before_writing is not None:
                await before_writing()
    try:
        return await run()
    finally:
        ran_fresh()


def write_status(
    patch: kopf.Patch,
    status: Mapping[str, Any],
    generation: int | None,
    outcome: Outcome,
    *,
    deleting: bool,
    failed: bool,
) -> list[dict[str, Any]]:
    """Patch what changed; the conditions as they are now. observedGeneration is written on
    every pass, so kstatus can tell a pass at this generation that failed from no pass at all."""
    before = list(status.get(CONDITIONS) or [])
    reason = reasons.DELETING if deleting and outcome.ready else outcome.reason
    ready = outcome.ready and not deleting
    conditions = next_conditions(
        before,
        generation=generation,
        observed_generation=None if deleting else converged_generation(before),
        ready=ready,
        reason=reason,
        message=outcome.message,
        failed=failed,
    )
    kept_ready = failed and (get_condition(conditions, "Ready") or {}).get("status") == "True"
    if not kept_ready:
        # (A failed pass on a converged object changes nothing toward the spec: the pair stays.)
        stalled = not ready and reason.stalls
        working = not ready or outcome.progressing
        shown = reasons.PROGRESSING if ready and outcome.progressing else reason
        conditions = progress_conditions(
            conditions,
            generation=generation,
            working=working,
            stalled=stalled,
            reason=shown,
            message=outcome.message,
        )
    if not failed:
        conditions = degraded_conditions(conditions, generation=generation, degraded=outcome.degraded)
    if conditions != before:
        patch.status[CONDITIONS] = conditions
    for key, value in status_patch(outcome.status).items():
        if status.get(key) != value:
            patch.status[key] = value
    if status.get(OBSERVED_GENERATION) != generation:
        patch.status[OBSERVED_GENERATION] = generation
    return conditions


def post_events(
    events: EventSink,
    body: kopf.Body,
    *,
    status: Mapping[str, Any],
    outcome: Outcome,
    failed: bool,
    conditions: list[dict[str, Any]],
    deleting: bool = False,
) -> None:
    """One Event per state change, not per pass: what a pass changed in the backend (all of it in
    one Event), a new state (a wait, a failure), and Ready after a state that was not; a pass
    that changed something and became Ready posts one Ready Event that says both. Backend
    warnings are posted as they come."""
    changes = "; ".join(outcome.actions)
    for warning in outcome.warnings:
        events.post(body, type="Warning", reason=reasons.BACKEND_WARNING, message=warning)
    before = list(status.get(CONDITIONS) or [])
    degraded = outcome.degraded
    was_degraded = get_condition(before, "Degraded") or {}
    # Once per reason: a resync's progress changes the message on every pass.
    if degraded is not None and (was_degraded.get("status"), was_degraded.get("reason")) != (
        "True",
        degraded.reason,
    ):
        events.post(body, type="Warning", reason=degraded.reason, message=degraded.message)
    # Announce a state once, not on every retry: compare with the condition that carries it.
    kept_ready = failed and (get_condition(conditions, "Ready") or {}).get("status") == "True"
    previous = get_condition(before, "Synced" if kept_ready else "Ready")
    unchanged = (
        previous is not None
        and previous.get("reason") == outcome.reason
        and previous.get("message") == outcome.message
    )
    # (A delete pass that is done releases the object: what it changed is the Event, not "Ready".)
    became_ready = (
        outcome.ready
        and not deleting
        and not kept_ready
        and previous is not None
        and previous.get("status") != "True"
    )
    if became_ready and not unchanged:
        message = f"{changes}; {outcome.message}" if changes else outcome.message
        events.post(body, type="Normal", reason=reasons.READY, message=message)
        return
    if changes:
        events.post(body, type="Normal", reason=reasons.RECONCILED, message=changes)
    if not unchanged and (not outcome.ready or kept_ready):
        # A state that needs a person, or a failure, is a Warning; waiting for something is not.
        kind = "Warning" if failed else outcome.reason.event_type
        events.post(body, type=kind, reason=outcome.reason, message=outcome.message)
