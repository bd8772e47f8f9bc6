"""Just enough of the Kubernetes API for leader election and Events: connection from kubeconfig
or the in-cluster service account, coordination.k8s.io/v1 Leases and core/v1 Events. (kopf
keeps its own client private; the official client would add much memory for four calls.)"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from stratum.clients.errors import Backend, BackendRefused, BackendUnavailable

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class KubeConnection:
    server: str
    token: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False

    @classmethod
    def load(cls) -> KubeConnection:
        """KUBECONFIG (or ~/.kube/config) when present, else the in-cluster service account."""
        path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or str(Path.home() / ".kube" / "config")
        if Path(path).exists():
            return cls.from_kubeconfig(Path(path))
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise RuntimeError("no kubeconfig and not running in a cluster")
        host = f"[{host}]" if ":" in host else host
        return cls(
            server=f"https://{host}:{port}",
            token=(SERVICE_ACCOUNT / "token").read_text().strip(),
            ca_file=str(SERVICE_ACCOUNT / "ca.crt"),
        )

    @classmethod
    def from_kubeconfig(cls, path: Path) -> KubeConnection:
        config: dict[str, Any] = yaml.safe_load(path.read_text())
        context_name = config.get("current-context")
        context = _named(config.get("contexts", []), context_name)["context"]
        cluster = _named(config.get("clusters", []), context["cluster"])["cluster"]
        user = _named(config.get("users", []), context["user"])["user"]
        return cls(
            server=cluster["server"].rstrip("/"),
            token=user.get("token"),
            ca_file=cluster.get("certificate-authority")
            or _data_file(cluster.get("certificate-authority-data")),
            cert_file=user.get("client-certificate") or _data_file(user.get("client-certificate-data")),
            key_file=user.get("client-key") or _data_file(user.get("client-key-data")),
            insecure=bool(cluster.get("insecure-skip-tls-verify")),
        )

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.insecure:
            return False
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def _named(items: list[dict[str, Any]], name: str | None) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name:
            return item
    raise RuntimeError(f"kubeconfig has no entry named {name!r}")


def _data_file(data: str | None) -> str | None:
    if not data:
        return None
    handle = tempfile.NamedTemporaryFile(prefix="stratum-kube-", delete=False)  # noqa: SIM115
    with handle:
        handle.write(base64.b64decode(data))
    return handle.name


class LeaseClient:
    """GET / POST / PUT of one namespace's Leases; optimistic concurrency via resourceVersion."""

    def __init__(self, connection: KubeConnection, namespace: str) -> None:
        headers = {"Authorization": f"Bearer {connection.token}"} if connection.token else {}
        self._http = httpx.AsyncClient(
            base_url=connection.server, headers=headers, verify=connection.ssl_context(), timeout=10
        )
        self._path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"

    async def close(self) -> None:
        await self._http.aclose()

    async def get(self, name: str) -> dict[str, Any] | None:
        response = await self._call("GET", f"{self._path}/{name}")
        if response.status_code == 404:
            return None
        return _checked(response)

    async def create(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The created Lease, or None when another holder created it first."""
        response = await self._call("POST", self._path, json=body)
        return None if response.status_code == 409 else _checked(response)

    async def replace(self, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The replaced Lease, or None when it changed since it was read (409)."""
        response = await self._call("PUT", f"{self._path}/{name}", json=body)
        return None if response.status_code == 409 else _checked(response)

    async def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        try:
            return await self._http.request(method, path, json=json)
        except httpx.TransportError as exc:
            raise BackendUnavailable(Backend.KUBERNETES, f"API server unreachable: {exc}") from exc


class EventClient:
    """POST of core/v1 Events, into the namespace each Event names."""

    def __init__(self, connection: KubeConnection) -> None:
        headers = {"Authorization": f"Bearer {connection.token}"} if connection.token else {}
        self._http = httpx.AsyncClient(
            base_url=connection.server, headers=headers, verify=connection.ssl_context(), timeout=10
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def create(self, event: dict[str, Any]) -> dict[str, Any]:
        namespace = event["metadata"]["namespace"]
        try:
            response = await self._http.post(f"/api/v1/namespaces/{namespace}/events", json=event)
        except httpx.TransportError as exc:
            raise BackendUnavailable(Backend.KUBERNETES, f"API server unreachable: {exc}") from exc
        return _checked(response)


def _checked(response: httpx.Response) -> dict[str, Any]:
    if response.is_success:
        result: dict[str, Any] = response.json()
        return result
    raise BackendRefused(
        Backend.KUBERNETES, f"HTTP {response.status_code}: {response.text[:300]}", status=response.status_code
    )
