"""The backend clients, built from the settings and the environment the backends' own tools use."""

from __future__ import annotations

import logging

from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers import linstor, maas
from stratum.handlers.metrics import Metrics
from stratum.handlers.runtime import KUBE, Clients
from stratum.handlers.settings import OperatorSettings

log = logging.getLogger("stratum")


def open_clients(settings: OperatorSettings, metrics: Metrics) -> Clients:
    clients = Clients()
    linstor_client = linstor.open_client(settings, metrics.backend_request)
    if linstor_client is not None:
        clients.add(linstor.CLIENT, linstor_client)
    maas_client = maas.open_client(settings, metrics.backend_request)
    if maas_client is not None:
        clients.add(maas.CLIENT, maas_client)
    kube = open_kube(settings)
    if kube is not None:
        clients.add(KUBE, kube)
    return clients


def open_kube(settings: OperatorSettings) -> KubeObjects | None:
    """The operator's own Kubernetes client (drift listings, a set's children, a schedule's
    snapshots, a Remote's Secret), or None without a kubeconfig or service account."""
    try:
        connection = KubeConnection.load(settings.service_account_dir)
        return KubeObjects(connection, timeout=settings.request_timeout)
    except (OSError, RuntimeError) as exc:
        log.warning("no Kubernetes client for drift, sets, schedules and remotes: %s", exc)
        return None
