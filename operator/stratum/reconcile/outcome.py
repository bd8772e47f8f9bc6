"""What one reconcile pass concluded, for the handlers to write as status and conditions."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from stratum.api.common import StatusBase
from stratum.reconcile.reasons import READY, Reason


class Wait(enum.Enum):
    """How soon to look again when the object is not converged yet, by kind of wait. The
    seconds for each come from OperatorSettings (`retry_delay`)."""

    SOON = "soon"
    """A backend step that completes within seconds (a snapshot being taken)."""
    WAIT = "wait"
    """Waiting for another object or for replicas to appear."""
    SLOW = "slow"
    """Waiting for a person or a slow backend change (a conflict, a machine not Ready)."""
    DELETION = "deletion"
    """A finalizer waiting for dependants (resources, snapshots) to be deleted first."""


class Degradation(NamedTuple):
    """The backend holds the object but not in full health (a replica syncing, a member lost)."""

    reason: Reason
    message: str


@dataclass
class Outcome:
    ready: bool
    reason: Reason
    message: str
    status: StatusBase | None = None
    """The kind's status model; only the fields set on it are written (a field set to None is
    removed from status). None writes nothing besides conditions."""
    retry: Wait | None = None
    """None when converged (only the drift loop looks again); else how soon to look again."""
    actions: list[str] = field(default_factory=list)
    """What this pass changed in the backend, one short sentence each."""
    progressing: bool = False
    """Ready (usable) but still working toward the spec, e.g. an added replica not yet UpToDate:
    Ready stays True and Reconciling is True until a pass says otherwise."""
    degraded: Degradation | None = None
    """Set by kinds whose backend reports health; None means healthy (or not reported)."""
    warnings: list[str] = field(default_factory=list)
    """Warnings the backend answered (e.g. LINSTOR's ApiCallRc WARN entries), posted as Warning
    Events and appended to the condition message."""

    def __post_init__(self) -> None:
        if not isinstance(self.reason, Reason):
            raise TypeError(f"{self.reason!r} is not declared in stratum.reconcile.reasons")

    @classmethod
    def done(
        cls,
        message: str,
        status: StatusBase | None,
        actions: list[str],
        reason: Reason = READY,
        *,
        progressing: bool = False,
        degraded: Degradation | None = None,
    ) -> Outcome:
        retry = Wait.WAIT if progressing else None
        return cls(True, reason, message, status, retry, actions, progressing, degraded)

    @classmethod
    def waiting(
        cls,
        reason: Reason,
        message: str,
        status: StatusBase | None = None,
        retry: Wait = Wait.WAIT,
        actions: list[str] | None = None,
        *,
        degraded: Degradation | None = None,
    ) -> Outcome:
        return cls(False, reason, message, status, retry, actions or [], degraded=degraded)

    @property
    def converged(self) -> bool:
        """Nothing left to do toward the spec (only the drift loop looks again)."""
        return self.ready and not self.progressing


def status_patch(status: StatusBase | None) -> dict[str, Any]:
    """The camelCase fields set on a status model, as JSON: a field set to None becomes null (a
    merge patch removes it); inside a field, None values are left out as the CRD has no nulls."""
    if status is None:
        return {}
    patch: dict[str, Any] = {}
    for name in sorted(status.model_fields_set):
        info = type(status).model_fields[name]
        key = info.alias or name
        value = getattr(status, name)
        if value is None:
            patch[key] = None
        else:
            dumped = status.model_dump(mode="json", by_alias=True, include={name}, exclude_none=True)
            patch[key] = dumped[key]
    return patch
