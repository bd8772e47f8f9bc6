"""A status write that must land *before* a backend call, not with the pass's own status patch
(which kopf applies after the pass): the record of an intent such as a rollback about to be sent."""

from __future__ import annotations

from typing import Any

import httpx

from stratum.clients.errors import Backend, BackendConflict, BackendRefused, BackendUnavailable
from stratum.clients.kube import KubeConnection
from stratum.clients.recording import PlannedRequest, recorder_for


class StatusWriter:
    """JSON merge patches of custom objects' status subresource."""

    def __init__(self, connection: KubeConnection) -> None:
        self._http = connection.http_client()

    async def close(self) -> None:
        await self._http.aclose()

    async def patch_status(
        self,
        group: str,
        version: str,
        plural: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> str:
        """Merge `status` into the cluster-scoped object's status, only onto `resource_version`
        when given (BackendConflict when the object changed since); raises unless the API server
        stored it (the caller must not go on with the backend call otherwise). The object's new
        resourceVersion."""
        path = f"/apis/{group}/{version}/{plural}/{name}/status"
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        if (recorder := recorder_for("PATCH")) is not None:  # `stratum plan`: shown, not written
            recorder.record(PlannedRequest(Backend.KUBERNETES.label, "PATCH", path, body))
            return resource_version or ""
        try:
            response = await self._http.patch(
                path,
                json=body,
                headers={"Content-Type": "application/merge-patch+json"},
            )
        except httpx.TransportError as exc:
            raise BackendUnavailable(Backend.KUBERNETES, f"API server unreachable: {exc}") from exc
        if response.status_code == 409:
            raise BackendConflict(
                Backend.KUBERNETES, f"{plural}/{name} changed since it was read", status=409
            )
        if not response.is_success:
            raise BackendRefused(
                Backend.KUBERNETES,
                f"status patch of {plural}/{name}: HTTP {response.status_code}: {response.text[:300]}",
                status=response.status_code,
            )
        return str((response.json().get("metadata") or {}).get("resourceVersion") or "")
