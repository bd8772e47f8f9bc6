"""What one reconcile pass concluded, for the handlers to write as status and conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How soon to look again when the object is not converged yet, by kind of wait.
SOON = 2.0
WAIT = 5.0
SLOW = 30.0


@dataclass
class Outcome:
    ready: bool
    reason: str
    message: str
    status: dict[str, Any] = field(default_factory=dict)
    retry_after: float | None = None
    """None when converged (only the drift timer looks again); else seconds to the next try."""
    actions: list[str] = field(default_factory=list)
    """What this pass changed in the backend, one short sentence each."""

    @classmethod
    def done(cls, message: str, status: dict[str, Any], actions: list[str], reason: str = "Ready") -> Outcome:
        return cls(True, reason, message, status, None, actions)

    @classmethod
    def waiting(
        cls,
        reason: str,
        message: str,
        status: dict[str, Any] | None = None,
        retry_after: float = WAIT,
        actions: list[str] | None = None,
    ) -> Outcome:
        return cls(False, reason, message, status or {}, retry_after, actions or [])
