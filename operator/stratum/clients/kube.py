"""Just enough of the Kubernetes API for leader election and Events: connection from kubeconfig
or the in-cluster service account, coordination.k8s.io/v1 Leases and core/v1 Events. (kopf
keeps its own client private; the official client would add much memory for four calls.)"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import ssl
import tempfile
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from stratum.clients.errors import Backend, BackendRefused, BackendUnavailable

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def kubeconfig_path() -> Path:
    """KUBECONFIG's first file, else ~/.kube/config (it may not exist)."""
    return Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")


@dataclass(frozen=True)
class ServiceAccountToken:
    """The projected token as the kubelet last wrote it, and when to read the file again."""

    token: str
    refresh_at: dt.datetime | None

    @classmethod
    def read(cls, path: Path, now: dt.datetime | None = None) -> ServiceAccountToken:
        token = path.read_text().strip()
        return cls(token, refresh_moment(token, now or dt.datetime.now(dt.UTC)))


def _claims(token: str) -> dict[str, Any]:
    """The JWT payload, unverified (only its times are used, never to trust anything)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def refresh_moment(token: str, now: dt.datetime) -> dt.datetime | None:
    """When a newer token is in the file. The kubelet rewrites a projected token once it is older
    than 80% of its lifetime (kubernetes: pkg/kubelet/token/token_manager.go, requiresRefresh); the
    lifetime is up to `kubernetes.io.warnafter` when the API server extended the expiry for old
    clients, else up to `exp`. Read again at 90%, and at the soonest a minute from now in case the
    kubelet is late. None for a token without these times (a legacy Secret token): only a 401
    makes it read again."""
    claims = _claims(token)
    issued = claims.get("iat")
    warn_after = (claims.get("kubernetes.io") or {}).get("warnafter")
    expires = warn_after or claims.get("exp")
    if not isinstance(issued, int | float) or not isinstance(expires, int | float) or expires <= issued:
        return None
    moment = dt.datetime.fromtimestamp(issued + 0.9 * (expires - issued), dt.UTC)
    return max(moment, now + dt.timedelta(seconds=60))


class TokenFileAuth(httpx.Auth):
    """`Authorization: Bearer` from a token file that the kubelet rotates: read again when the
    file changed (checked at most every `check_every` seconds, as client-go's cached file token
    source does) and once more after a 401."""

    def __init__(self, path: Path, check_every: float = 10.0) -> None:
        self._path = path
        self._check_every = check_every
        self._stamp: tuple[int, int] | None = None
        self._checked = -check_every
        self._token = ""

    def token(self, *, force: bool = False) -> str:
        now = time.monotonic()
        if force or now - self._checked >= self._check_every:
            self._checked = now
            st = self._path.stat()
            stamp = (st.st_ino, st.st_mtime_ns)
            if force or stamp != self._stamp:
                self._stamp, self._token = stamp, self._path.read_text().strip()
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self.token(force=True)}"
            yield request


@dataclass(frozen=True)
class KubeConnection:
    server: str
    token: str | None = None
    token_file: str | None = None
    """In the cluster: the projected service-account token, read again as it rotates."""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False

    @classmethod
    def load(cls, service_account: Path | None = None) -> KubeConnection:
        """KUBECONFIG (or ~/.kube/config) when present, else the in-cluster service account
        (mounted at `service_account`, by default where Kubernetes mounts it)."""
        service_account = service_account or SERVICE_ACCOUNT
        path = kubeconfig_path()
        if path.exists():
            return cls.from_kubeconfig(path)
        host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
        if not host or not port:
            raise RuntimeError("no kubeconfig and not running in a cluster")
        host = f"[{host}]" if ":" in host else host
        return cls(
            server=f"https://{host}:{port}",
            token_file=str(service_account / "token"),
            ca_file=str(service_account / "ca.crt"),
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

    def auth(self) -> httpx.Auth | None:
        if self.token_file:
            return TokenFileAuth(Path(self.token_file))
        return _StaticBearer(self.token) if self.token else None

    def http_client(
        self, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> httpx.AsyncClient:
        """The one way to talk to the API server outside kopf: TLS from the kubeconfig or the pod,
        and a bearer token read again as the kubelet rotates it (`auth`)."""
        return httpx.AsyncClient(
            base_url=self.server,
            auth=self.auth(),
            verify=self.ssl_context(),
            timeout=timeout,
            transport=transport,
        )

    def ssl_context(self) -> ssl.SSLContext | bool:
        if self.insecure:
            return False
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


class _StaticBearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


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
        self._http = connection.http_client()
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
        self._http = connection.http_client()

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
