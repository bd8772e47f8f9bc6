"""The backend clients, built from the settings and the environment the backends' own tools use."""

from __future__ import annotations

from stratum.handlers import linstor, linstor_backup, maas, maas_set
from stratum.handlers.metrics import Metrics
from stratum.handlers.runtime import Clients
from stratum.handlers.settings import OperatorSettings


def open_clients(settings: OperatorSettings, metrics: Metrics) -> Clients:
    clients = Clients()
    linstor_client = linstor.open_client(settings, metrics.backend_request)
    if linstor_client is not None:
        clients.add(linstor.CLIENT, linstor_client)
    maas_client = maas.open_client(settings, metrics.backend_request)
    if maas_client is not None:
        clients.add(maas.CLIENT, maas_client)
    kube = maas_set.open_kube(settings)
    if kube is not None:
        # One client for the objects both kinds of set/schedule write (the keys share a name).
        clients.add(maas_set.KUBE, kube)
        clients.add(linstor_backup.KUBE, kube)
    return clients
