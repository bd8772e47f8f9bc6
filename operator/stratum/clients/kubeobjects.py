"""The few Kubernetes object calls the schedule, remote and backup kinds make themselves: create,
list and delete the objects a SnapshotSchedule owns, patch its status before acting, and read a
Secret's keys. (kopf's client is private; see clients/kube.py for why not the official client.)"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from stratum.clients.errors import (
    Backend,
    BackendConflict,
    BackendForbidden,
    BackendNotFound,
    BackendRefused,
    BackendUnavailable,
)
from stratum.clients.kube import KubeConnection
from stratum.clients.recording import PlannedRequest, recorder_for

Body = dict[str, Any]
Page = list[Body]
PatchBody = Body | list[Body]
"""A merge patch, or the operations of a JSON patch."""


class Objects(Protocol):
    """What the reconcilers use; tests give a fake with the same methods."""

    async def list(self, api_version: str, plural: str, label_selector: str = "") -> list[Body]: ...

    async def create(self, api_version: str, plural: str, body: Body) -> bool:
        """True when created, False when an object of that name exists already."""
        ...

    async def delete(self, api_version: str, plural: str, name: str) -> bool:
        """True when deleted (or being deleted), False when there was no such object."""
        ...

    async def patch_status(
        self, api_version: str, plural: str, name: str, status: Body, *, resource_version: str | None = None
    ) -> str: ...

    async def read_secret(self, namespace: str, name: str) -> tuple[dict[str, str], str] | None:
        """The decoded data and the resourceVersion, or None when there is no such Secret."""
        ...


def _collection(api_version: str, plural: str) -> str:
    prefix = "/api" if "/" not in api_version else "/apis"
    return f"{prefix}/{api_version}/{plural}"


class KubeObjects:
    """Cluster-scoped custom objects and namespaced Secrets over one httpx client."""

    def __init__(
        self,
        connection: KubeConnection,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = connection.http_client(timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def list(self, api_version: str, plural: str, label_selector: str = "") -> list[Body]:
        params = {"labelSelector": label_selector} if label_selector else None
        body = _checked(await self._call("GET", _collection(api_version, plural), params=params))
        items: list[Body] = body.get("items") or []
        return items

    async def pages(self, api_version: str, plural: str, limit: int = 500) -> AsyncIterator[Page]:
        """Every object of a kind, `limit` at a time (a LIST of 10,000 objects at once is ~40 MB
        held in memory); a continue token that expired raises BackendRefused (410)."""
        params = {"limit": str(limit)}
        while True:
            body = _checked(await self._call("GET", _collection(api_version, plural), params=params))
            yield body.get("items") or []
            token = (body.get("metadata") or {}).get("continue")
            if not token:
                return
            params = {"limit": str(limit), "continue": token}

    async def create(self, api_version: str, plural: str, body: Body) -> bool:
        response = await self._call("POST", _collection(api_version, plural), json=body)
        if response.status_code == 409:
            return False
        _checked(response)
        return True

    async def delete(self, api_version: str, plural: str, name: str) -> bool:
        response = await self._call("DELETE", f"{_collection(api_version, plural)}/{quote(name)}")
        if response.status_code == 404:
            return False
        _checked(response)
        return True

    async def patch_status(
        self, api_version: str, plural: str, name: str, status: Body, *, resource_version: str | None = None
    ) -> str:
        """A merge patch of status; with `resource_version` the API server applies it only to the
        object at that version (BackendConflict, 409, when it changed since). The object's new
        resourceVersion ("" in plan mode, where nothing is written)."""
        if recorder_for("PATCH") is not None:
            return ""  # plan mode: a status write is no backend change, and nothing is written
        body: Body = {"status": status}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        stored = _checked(
            await self._call(
                "PATCH",
                f"{_collection(api_version, plural)}/{quote(name)}/status",
                json=body,
                headers={"Content-Type": "application/merge-patch+json"},
            )
        )
        return str((stored.get("metadata") or {}).get("resourceVersion") or "")

    async def get(self, api_version: str, plural: str, name: str) -> Body | None:
        """The object, or None when there is no such object."""
        response = await self._call("GET", f"{_collection(api_version, plural)}/{quote(name)}")
        return None if response.status_code == 404 else _checked(response)

    async def patch(
        self, api_version: str, plural: str, name: str, body: PatchBody, *, json_patch: bool = False
    ) -> None:
        """A merge patch (a dict) or, with `json_patch`, a JSON patch (a list of operations)."""
        content_type = "application/json-patch+json" if json_patch else "application/merge-patch+json"
        _checked(
            await self._call(
                "PATCH",
                f"{_collection(api_version, plural)}/{quote(name)}",
                json=body,
                headers={"Content-Type": content_type},
            )
        )

    async def read_secret(self, namespace: str, name: str) -> tuple[dict[str, str], str] | None:
        response = await self._call("GET", f"/api/v1/namespaces/{quote(namespace)}/secrets/{quote(name)}")
        if response.status_code == 404:
            return None
        secret = _checked(response)
        data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
        return data, str(secret["metadata"].get("resourceVersion", ""))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if (recorder := recorder_for(method)) is not None:
            # Plan mode (stratum.clients.recording): the change is recorded and answered as done.
            recorder.record(PlannedRequest(Backend.KUBERNETES.value, method, path, json))
            return httpx.Response(201 if method == "POST" else 200, json={})
        try:
            return await self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise BackendUnavailable(Backend.KUBERNETES, f"API server unreachable: {exc}") from exc


def _checked(response: httpx.Response) -> Body:
    if response.is_success:
        result: Body = response.json()
        return result
    status = response.status_code
    # The API server's Status message names the object and the rule; it never carries Secret data.
    try:
        message = str(response.json().get("message") or response.text[:300])
    except ValueError:
        message = response.text[:300]
    if status >= 500:
        raise BackendUnavailable(Backend.KUBERNETES, f"HTTP {status}: {message}", status=status)
    error = {401: BackendForbidden, 403: BackendForbidden, 404: BackendNotFound, 409: BackendConflict}.get(
        status, BackendRefused
    )
    raise error(Backend.KUBERNETES, f"Kubernetes API: {message}", status=status)
