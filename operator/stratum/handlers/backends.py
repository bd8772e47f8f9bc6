"""The backend clients, built from the settings and the environment the backends' own tools use."""

from __future__ import annotations

from stratum.handlers import linstor, linstor_backup, maas
from stratum.handlers.metrics import Metrics
from stratum.handlers.runtime import Clients
from stratum.handlers.settings import OperatorSettings


def open_clients(settings: OperatorSettings, metrics: Metrics) -> Clients:
    clients = Clients()
    clients.add(linstor.CLIENT, linstor.open_client(settings, metrics.backend_request))
    maas_client = maas.open_client(settings, metrics.backend_request)
    if maas_client is not None:
        clients.add(maas.CLIENT, maas_client)
    kube = linstor_backup.open_kube(settings)
    if kube is not None:
        clients.add(linstor_backup.KUBE, kube)
    return clients
