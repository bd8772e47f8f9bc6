"""Day-2 controls on every kind: the pause annotation and `spec.managementPolicy: Observe`.

Observe runs the kind's own reconcile pass with the backend clients in plan mode
(stratum.clients.recording): the requests it would send are recorded, not sent, and become
`status.differences`. There is no second copy of the planning code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from stratum.api.common import StatusBase
from stratum.clients.recording import PlanStop, Recorder, recording, render
from stratum.handlers.conditions import set_condition
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait

Pass = Callable[[], Awaitable[Outcome]]

PAUSED_ANNOTATION = "stratum.dev/paused"
PAUSED_FIELD = ("metadata", "annotations", PAUSED_ANNOTATION)
"""The diff that fires update handlers leaves out the annotations under our prefix
(handlers/persistence.py, as kopf did while it kept its state there), except those a handler
watches: a handler on this field keeps it in, so adding or removing it reaches the update handler
at once."""
OBSERVE = "Observe"
OWNERSHIP_MARKERS = ("props.Aux/stratum.dev/",)
"""Properties Stratum sets to mark what it owns: taking ownership is not a difference of the spec."""
PAUSED_MESSAGE = f'annotation {PAUSED_ANNOTATION} is "true": no backend call until it is removed'


def is_paused(body: kopf.Body) -> bool:
    return body.metadata.annotations.get(PAUSED_ANNOTATION) == "true"


def is_observing(spec: Mapping[str, Any]) -> bool:
    return spec.get("managementPolicy") == OBSERVE


def write_paused(
    patch: kopf.Patch, status: Mapping[str, Any], generation: int | None, *, deleting: bool
) -> None:
    """Synced=False (Paused); Ready, the kstatus pair and observedGeneration stay as the last pass
    left them: nothing was looked at."""
    message = PAUSED_MESSAGE
    if deleting:
        message += "; deletion waits until it is removed (the backend object is left as it is)"
    before = list(status.get("conditions") or [])
    conditions = set_condition(
        before, type_="Synced", status="False", reason=reasons.PAUSED, message=message, generation=generation
    )
    if conditions != before:
        patch.status["conditions"] = conditions


async def released_nothing() -> Outcome:
    return Outcome.done("managementPolicy Observe: nothing in the backend was deleted or released", None, [])


@dataclass
class Plan:
    """What one pass in plan mode would do: the recorded requests, rendered field by field,
    and how the pass ended (None when a PlanStop ended it)."""

    changes: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    stopped: bool = False

    @property
    def depends(self) -> bool:
        """Later steps read what the planned changes make: they show once those are made."""
        return bool(self.changes) and (self.stopped or self.outcome is None or not self.outcome.ready)


async def plan_pass(run: Pass) -> Plan:
    """Run one reconcile pass with every backend change recorded instead of sent."""
    recorder = Recorder()
    outcome: Outcome | None = None
    with recording(recorder):
        try:
            outcome = await run()
        except PlanStop:
            outcome = None
    changes = [
        line
        for request in recorder.requests
        for line in render(request)
        if not any(marker in line for marker in OWNERSHIP_MARKERS)
    ]
    return Plan(changes, outcome, recorder.stopped)


def observe(run: Pass, status_model: type[StatusBase]) -> Pass:
    """managementPolicy Observe: the pass, planned; its changes are the differences."""

    async def observed() -> Outcome:
        plan = await plan_pass(run)
        outcome = plan.outcome
        status = outcome.status if outcome is not None and outcome.status is not None else status_model()
        status.differences = plan.changes
        if plan.changes or outcome is None:
            message = (
                f"managementPolicy Observe: {len(plan.changes)} difference(s) from the spec in "
                "status.differences; nothing was changed in the backend (managementPolicy: Full applies them)"
            )
            if plan.depends:
                message += "; further steps depend on these and show once they are made"
            return Outcome.waiting(reasons.DIFFERS_FROM_SPEC, message, status, retry=Wait.SLOW)
        if not outcome.ready:
            return Outcome.waiting(
                outcome.reason,
                outcome.message,
                status,
                retry=outcome.retry or Wait.SLOW,
                degraded=outcome.degraded,
            )
        return Outcome.done(
            f"managementPolicy Observe: matches the spec; {outcome.message}",
            status,
            [],
            reason=reasons.OBSERVED,
            degraded=outcome.degraded,
        )

    return observed


def clearing_differences(run: Pass, status_model: type[StatusBase]) -> Pass:
    """Back under managementPolicy Full: the differences Observe reported go from status."""

    async def full() -> Outcome:
        outcome = await run()
        if outcome.status is None:
            outcome.status = status_model()
        outcome.status.differences = None
        return outcome

    return full
