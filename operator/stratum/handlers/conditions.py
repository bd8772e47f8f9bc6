"""metav1.Condition bookkeeping: lastTransitionTime moves only when the status flips."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from stratum.reconcile import reasons
from stratum.reconcile.reasons import Reason

MAX_MESSAGE = 32768


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[Mapping[str, Any]] | None,
    *,
    type_: str,
    status: str,
    reason: str,
    message: str,
    generation: int | None,
    now: str | None = None,
) -> list[dict[str, Any]]:
    """The full list with `type_` set; merge patches replace lists, so callers send all of it."""
    result: list[dict[str, Any]] = []
    previous: Mapping[str, Any] | None = None
    for cond in conditions or []:
        if cond.get("type") == type_:
            previous = cond
        else:
            result.append(dict(cond))
    changed = previous is None or previous.get("status") != status
    kept = None if changed or previous is None else previous.get("lastTransitionTime")
    new = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "lastTransitionTime": kept or now or utc_now(),
    }
    if generation is not None:
        new["observedGeneration"] = generation
    result.append(new)
    return sorted(result, key=lambda c: str(c["type"]))


def get_condition(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions or [] if c.get("type") == type_), None)


def is_ready(status: Mapping[str, Any] | None) -> bool:
    cond = get_condition(list((status or {}).get("conditions") or []), "Ready")
    return cond is not None and cond.get("status") == "True"


def next_conditions(
    conditions: Sequence[Mapping[str, Any]] | None,
    *,
    generation: int | None,
    observed_generation: int | None,
    ready: bool,
    reason: str,
    message: str,
    failed: bool,
) -> list[dict[str, Any]]:
    """Ready says whether the backend holds what the spec asks for; Synced whether the last pass
    got through. A pass that fails on an object that converged at this generation leaves Ready
    alone (the backend still holds what it held: a flaky controller is not a broken volume) and
    reports the failure in Synced, as Crossplane does."""
    current = get_condition(conditions, "Ready")
    converged = current is not None and current.get("status") == "True" and observed_generation == generation
    if failed and converged:
        return set_condition(
            conditions, type_="Synced", status="False", reason=reason, message=message, generation=generation
        )
    result = set_condition(
        conditions,
        type_="Ready",
        status="True" if ready else "False",
        reason=reason,
        message=message,
        generation=generation,
    )
    if failed:
        return set_condition(
            result, type_="Synced", status="False", reason=reason, message=message, generation=generation
        )
    return set_condition(
        result,
        type_="Synced",
        status="True",
        reason=reasons.RECONCILED,
        message="the last pass reached the backend",
        generation=generation,
    )


def converged_generation(conditions: Sequence[Mapping[str, Any]] | None) -> int | None:
    """The generation at which the object was last Ready (Ready's own observedGeneration).
    status.observedGeneration cannot tell: it is written on every pass, failed ones too."""
    ready = get_condition(conditions, "Ready")
    if ready is None or ready.get("status") != "True":
        return None
    generation = ready.get("observedGeneration")
    return int(generation) if generation is not None else None


def progress_conditions(
    conditions: Sequence[Mapping[str, Any]] | None,
    *,
    generation: int | None,
    working: bool,
    stalled: bool,
    reason: Reason,
    message: str,
) -> list[dict[str, Any]]:
    """kstatus's pair (sigs.k8s.io/cli-utils pkg/kstatus/status/generic.go): Reconciling=True
    reads InProgress, Stalled=True reads Failed, both False with the generation observed reads
    Current. kstatus takes the first of the two that is True in list order, so a stalled object
    is never also Reconciling."""
    if stalled:
        pair = (("Reconciling", "False"), ("Stalled", "True"))
    elif working:
        pair = (("Reconciling", "True"), ("Stalled", "False"))
    else:
        pair = (("Reconciling", "False"), ("Stalled", "False"))
    result = [dict(c) for c in conditions or []]
    for type_, status in pair:
        result = set_condition(
            result, type_=type_, status=status, reason=reason, message=message, generation=generation
        )
    return result


def degraded_conditions(
    conditions: Sequence[Mapping[str, Any]] | None,
    *,
    generation: int | None,
    degraded: tuple[Reason, str] | None,
) -> list[dict[str, Any]]:
    """Degraded=True while the backend reports the object short of full health; once a kind has
    reported it, a healthy pass turns it False (kinds that never report it never get it)."""
    if degraded is not None:
        reason, message = degraded
        return set_condition(
            conditions, type_="Degraded", status="True", reason=reason, message=message, generation=generation
        )
    if get_condition(conditions, "Degraded") is None:
        return [dict(c) for c in conditions or []]
    return set_condition(
        conditions,
        type_="Degraded",
        status="False",
        reason=reasons.HEALTHY,
        message="the backend reports full health",
        generation=generation,
    )
