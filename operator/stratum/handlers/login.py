"""kopf's login, so that a rotated service-account token reaches kopf's own API client.

kopf's built-in service-account login reads the token file once and reads it again only after a
401; a projected token is rewritten by the kubelet long before it expires, and the API server
may keep accepting the old one (extended expiry) while warning about it. This login reads the
file each time kopf authenticates, and gives the credentials an expiration at the moment the
kubelet has written a newer token, so kopf authenticates again then (kopf: _cogs/structs/
credentials.py, Vault._expire) as well as on a 401 (Vault.invalidate). With a kubeconfig (outside
a cluster) kopf's own kubeconfig login is used, as KubeConnection.load prefers it too. Either way
kopf gets a session with a bounded number of connections (`bounded_session`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import aiohttp
import kopf

from stratum.clients import kube

log = logging.getLogger("stratum.login")


def service_account_login(directory: Path | None = None) -> kopf.ConnectionInfo | None:
    """The in-cluster credentials as the files hold them now; None outside a cluster."""
    directory = directory or kube.SERVICE_ACCOUNT
    token_path = directory / "token"
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
    if not token_path.exists() or not host or not port:
        return None
    token = kube.ServiceAccountToken.read(token_path)
    namespace = directory / "namespace"
    ca = directory / "ca.crt"
    host = f"[{host}]" if ":" in host else host
    return kopf.ConnectionInfo(
        server=f"https://{host}:{port}",
        ca_path=str(ca) if ca.exists() else None,
        token=token.token,
        default_namespace=namespace.read_text().strip() if namespace.exists() else None,
        expiration=token.refresh_at,
    )


def bounded_session(info: kopf.ConnectionInfo, connections: int) -> kopf.AiohttpSession:
    """The session kopf would build from `info` (kopf _cogs/clients/auth.py), with at most
    `connections` connections instead of none; kopf closes it when the credentials expire."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, ssl=info.as_ssl_context()),
        headers=info.as_http_headers(),
        proxy=info.proxy_url,
        trust_env=info.trust_env,
    )
    return kopf.AiohttpSession(
        server=info.server,
        default_namespace=info.default_namespace,
        priority=info.priority,
        expiration=info.expiration,
        aiohttp_session=session,
    )


def register_login(
    registry: kopf.OperatorRegistry, service_account: Path | None = None, connections: int = 64
) -> None:
    async def login(settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.AiohttpSession | None:
        if kube.kubeconfig_path().exists():
            info = kopf.login_with_kubeconfig(settings=settings, **kwargs)
        else:
            info = service_account_login(service_account)
            if info is not None:
                log.info("authenticated with the service-account token; next read at %s", info.expiration)
        return None if info is None else bounded_session(info, connections)

    kopf.on.login(id="login", registry=registry)(login)
