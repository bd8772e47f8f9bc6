"""kopf's login, so that a rotated service-account token reaches kopf's own API client.

kopf's built-in service-account login reads the token file once and reads it again only after a
401; a projected token is rewritten by the kubelet long before it expires, and the API server
may keep accepting the old one (extended expiry) while warning about it. This login reads the
file each time kopf authenticates, and gives the credentials an expiration at the moment the
kubelet has written a newer token, so kopf authenticates again then (kopf: _cogs/structs/
credentials.py, Vault._expire) as well as on a 401 (Vault.invalidate). With a kubeconfig (outside
a cluster) kopf's own kubeconfig login is used, as KubeConnection.load prefers it too."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

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


def register_login(registry: kopf.OperatorRegistry, service_account: Path | None = None) -> None:
    async def login(settings: kopf.OperatorSettings, **kwargs: Any) -> kopf.ConnectionInfo | None:
        if kube.kubeconfig_path().exists():
            return kopf.login_with_kubeconfig(settings=settings, **kwargs)
        info = service_account_login(service_account)
        if info is not None:
            log.info("authenticated with the service-account token; next read at %s", info.expiration)
        return info

    kopf.on.login(id="login", registry=registry)(login)
