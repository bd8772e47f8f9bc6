"""Error kinds every backend client raises. A client says what went wrong with a request
(unavailable, refused, not found, conflict, forbidden) and carries the backend's own detail;
which condition reason a user sees is decided in one place (stratum.reconcile.reasons)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class Backend(enum.StrEnum):
    """Who answered (or did not). The value is the name users read in messages."""

    LINSTOR = "LINSTOR"
    MAAS = "MAAS"
    KUBERNETES = "Kubernetes"

    @property
    def label(self) -> str:
        """The metric label: lower case, as Prometheus labels usually are."""
        return self.value.lower()


class BackendError(Exception):
    """A backend call failed. `detail` holds the backend's own facts (HTTP status, LINSTOR
    ret code...) for the reason mapping and for logs."""

    def __init__(
        self,
        backend: Backend,
        message: str,
        *,
        status: int | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.backend = backend
        self.message = message
        self.status = status
        self.detail: Mapping[str, object] = MappingProxyType(dict(detail or {}))


class BackendNotConfigured(BackendError):
    """The operator was given no settings for this backend (e.g. a MAAS-only install)."""


class BackendUnavailable(BackendError):
    """The backend could not be reached or answered with a server fault: retry later."""


class BackendRefused(BackendError):
    """The backend understood the request and refused it: retrying the same thing fails again
    until the user or the backend state changes."""


class BackendNotFound(BackendRefused):
    """The object asked for does not exist."""


class BackendConflict(BackendRefused):
    """The object is not in a state that allows the change (e.g. a MAAS machine not Ready)."""


class BackendForbidden(BackendRefused):
    """The credentials are unknown, or their user may not do this."""
