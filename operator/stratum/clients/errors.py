"""Errors every backend client raises, so handlers can map them to conditions without
knowing which backend they came from."""

from __future__ import annotations


class BackendError(Exception):
    """A backend call failed. `reason` is the one-word condition reason for users."""

    reason = "BackendError"

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(message)
        self.backend = backend
        self.message = message


class BackendUnavailable(BackendError):
    """The backend could not be reached or answered with a server fault: retry later."""

    reason = "BackendUnavailable"


class BackendRejected(BackendError):
    """The backend understood the request and refused it: retrying the same thing fails again
    until the user or the backend state changes."""

    def __init__(self, backend: str, message: str, *, status: int, reason: str | None = None) -> None:
        super().__init__(backend, message)
        self.status = status
        if reason:
            self.reason = reason


class BackendNotFound(BackendRejected):
    """The object asked for does not exist."""

    reason = "NotFound"
