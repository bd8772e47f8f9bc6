"""The backend clients, built from the environment the backends' own tools use."""

from __future__ import annotations

import logging
from typing import Any

from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.maas import MaasClient, MaasConfig, MaasConfigError
from stratum.handlers.metrics import Metrics

log = logging.getLogger("stratum")


def open_clients(metrics: Metrics) -> dict[str, Any]:
    clients: dict[str, Any] = {
        "linstor": LinstorClient(LinstorConfig.from_env(), observer=metrics.backend_request),
    }
    try:
        clients["maas"] = MaasClient(MaasConfig.from_env(), observer=metrics.backend_request)
    except MaasConfigError as exc:
        # MachineRaids then report Ready=False (NotConfigured); the LINSTOR kinds still work.
        log.warning("%s", exc)
    return clients
