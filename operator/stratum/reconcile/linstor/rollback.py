"""Rollback: at most once per requestId, across crashes and timeouts.

The intent {requestId, snapshot, sentAt} is written to the Resource's status through the
Kubernetes API *before* the rollback is sent (the runner's own status patch only lands after the
pass, too late when the pass dies). A later pass that finds the intent of the current requestId
without a completed `lastRollback` cannot know whether LINSTOR rolled back, so it never sends it
again on its own: it reports RollbackUncertain until the user sets a new requestId. A definite
refusal (an error answer, which LINSTOR gives before changing anything) clears the intent.

Preconditions are checked first, each refusal a reason the user can act on (linstor-server
CtrlSnapshotRollbackApiCallHandler: the snapshot must be successful, every satellite of the
resource connected, no resource in use; before LINSTOR 1.31 only the most recent snapshot).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from stratum.api.linstor import RollbackSent, RollbackStatus
from stratum.clients.linstor.models import Resource, Snapshot
from stratum.clients.linstor.version import Controller
from stratum.reconcile import reasons
from stratum.reconcile.reasons import Reason

RecordIntent = Callable[[RollbackSent | None], Awaitable[None]]


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    message: str


def _newest(snapshots: Sequence[Snapshot]) -> str | None:
    def taken(snap: Snapshot) -> int:
        return max((s.create_timestamp or 0 for s in snap.snapshots), default=0)

    found = [s for s in snapshots if not s.failed]
    return max(found, key=lambda s: (taken(s), s.name)).name if found else None


def precondition(
    *,
    request_id: str,
    snapshot: Snapshot | None,
    snapshot_name: str,
    resources: Sequence[Resource],
    all_snapshots: Sequence[Snapshot],
    controller: Controller,
) -> Refusal | None:
    """Why the rollback cannot be sent now, or None."""
    head = f"rollback {request_id} to {snapshot_name}"
    if snapshot is None or not snapshot.successful:
        state = (
            "does not exist in LINSTOR"
            if snapshot is None
            else f"is {','.join(snapshot.flags) or 'not done'}"
        )
        return Refusal(
            reasons.WAITING_FOR_SNAPSHOT, f"{head}: the snapshot {state}; waiting until it is successful"
        )
    live = [r for r in resources if not r.deleting]
    offline = sorted(r.node_name for r in live if not r.reported)
    if offline:
        return Refusal(
            reasons.NOT_CONNECTED,
            f"{head}: LINSTOR rolls back only with every satellite of the resource connected; "
            f"not connected: {', '.join(offline)}. Bring the satellite back or remove its replica",
        )
    busy = sorted(r.node_name for r in live if r.in_use)
    if busy:
        return Refusal(
            reasons.IN_USE,
            f"{head}: the resource is in use (Primary) on {', '.join(busy)}; stop the workload "
            "(unmount) there, the rollback is sent once it is not in use",
        )
    if not controller.rollback_to_any_snapshot:
        newest = _newest(all_snapshots)
        if newest is not None and newest.casefold() != snapshot.name.casefold():
            return Refusal(
                reasons.ROLLBACK_REFUSED,
                f"{head}: LINSTOR {controller.version} rolls back only to the most recent snapshot "
                f"({newest}); delete the newer snapshots or upgrade to LINSTOR >= 1.31",
            )
    return None


def uncertain(sent: RollbackSent, last: RollbackStatus | None, request_id: str) -> bool:
    """The intent of this requestId was recorded and no completion is known."""
    done = last is not None and last.request_id == request_id
    return sent.request_id == request_id and not done


def uncertain_message(sent: RollbackSent, rsc: str) -> str:
    return (
        f"rollback {sent.request_id} of {rsc} to snapshot {sent.snapshot} was recorded as sent at "
        f"{sent.sent_at} and no answer was recorded (the operator stopped or the request timed "
        "out): it may or may not have happened, and it is not sent again on its own. Check the "
        f"data (e.g. `linstor resource list -r {rsc}` and the controller's error reports), then set a new "
        "spec.rollback.requestId to roll back again, or leave it"
    )
