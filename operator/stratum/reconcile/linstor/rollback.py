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

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from stratum.api.linstor import ResourceStatus, RollbackRequest, RollbackSent, RollbackStatus
from stratum.clients.errors import BackendUnavailable
from stratum.clients.linstor import LinstorClient, LinstorError
from stratum.clients.linstor import apicallrc as rc
from stratum.clients.linstor.models import Resource, Snapshot
from stratum.clients.linstor.version import Controller
from stratum.reconcile import reasons
from stratum.reconcile.linstor.refs import SnapshotRef
from stratum.reconcile.outcome import Outcome, Wait
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


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class History:
    """What status says about earlier rollbacks, and where to record the next intent."""

    last: RollbackStatus | None
    sent: RollbackSent | None
    record: RecordIntent | None
    """Stores status.rollbackSent durably before the rollback is sent (None: nowhere to store
    it, as in tests of the pass alone)."""


async def send_once(
    client: LinstorClient,
    rsc: str,
    request: RollbackRequest,
    history: History,
    *,
    snapshot: SnapshotRef | None,
    resources: Sequence[Resource],
    status: ResourceStatus,
    actions: list[str],
    warnings: list[str],
) -> Outcome | None:
    """Send the rollback the spec asks for, at most once for its requestId; an Outcome when it
    cannot (yet), None once LINSTOR rolled back."""
    if history.sent is not None:
        status.rollback_sent = history.sent
        if uncertain(history.sent, history.last, request.request_id):
            return Outcome.waiting(
                reasons.ROLLBACK_UNCERTAIN, uncertain_message(history.sent, rsc), status, retry=Wait.SLOW
            )
    head = f"rollback {request.request_id}"
    if snapshot is None or not snapshot.ready:
        return Outcome.waiting(
            reasons.WAITING_FOR_SNAPSHOT, f"{head}: Snapshot {request.snapshot} is not Ready", status
        )
    if (snapshot.resource_linstor_name or "").casefold() != rsc.casefold():
        return Outcome.waiting(
            reasons.INVALID_ROLLBACK,
            f"{head}: Snapshot {request.snapshot} is of resource {snapshot.resource_linstor_name}, not "
            f"{rsc}; point spec.rollback.snapshot at a snapshot of this resource",
            status,
            retry=Wait.SLOW,
        )
    controller = await client.controller()
    refusal = precondition(
        request_id=request.request_id,
        snapshot=await client.get_snapshot(rsc, snapshot.linstor_name),
        snapshot_name=snapshot.linstor_name,
        resources=resources,
        all_snapshots=[] if controller.rollback_to_any_snapshot else await client.list_snapshots(rsc),
        controller=controller,
    )
    if refusal is not None:
        retry = Wait.SLOW if refusal.reason.stalls else Wait.WAIT
        return Outcome.waiting(refusal.reason, refusal.message, status, retry=retry)
    intent = RollbackSent(request_id=request.request_id, snapshot=request.snapshot, sent_at=now())
    if history.record is not None:
        await history.record(intent)
    status.rollback_sent = intent
    try:
        warnings.extend(rc.warnings(await client.rollback(rsc, snapshot.linstor_name)))
    except LinstorError as exc:
        if exc.has_code(rc.FAIL_UNKNOWN_ERROR):
            # Committed on the controller, failed on a satellite: it happened, at least in part.
            return Outcome.waiting(
                reasons.ROLLBACK_UNCERTAIN,
                f"{uncertain_message(intent, rsc)}. LINSTOR answered: {exc.message}",
                status,
                retry=Wait.SLOW,
            )
        # An error answer comes before LINSTOR changes anything: nothing was rolled back.
        status.rollback_sent = None
        return Outcome.waiting(reasons.for_error(exc), f"{head} refused by LINSTOR: {exc.message}", status)
    except BackendUnavailable as exc:
        return Outcome.waiting(
            reasons.ROLLBACK_UNCERTAIN,
            f"{uncertain_message(intent, rsc)} ({exc.message})",
            status,
            retry=Wait.SLOW,
        )
    status.last_rollback = RollbackStatus(
        request_id=request.request_id, snapshot=request.snapshot, completed_at=now()
    )
    actions.append(f"rolled {rsc} back to snapshot {snapshot.linstor_name}")
    return None
