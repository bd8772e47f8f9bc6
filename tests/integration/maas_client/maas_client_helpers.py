"""Helpers for the MAAS client and MachineRaid reconcile tests."""

from __future__ import annotations

from typing import Any

from stratum.clients.maas import MaasClient, MaasConfig
from stratum.clients.maas.config import ApiKey
from stratum.clients.retry import RetryPolicy
from stratum.sim.maas import MaasSim

TB = 10**12
GB = 10**9
API_KEY = "ck1:tk1:ts1"


def machine(
    system_id: str, hostname: str, *disks: int, status: str = "Ready", **extra: Any
) -> dict[str, Any]:
    """A machine with a 500 GB boot disk sda and the given disks as sdb, sdc, ..."""
    devices = [{"name": "sda", "size": 500 * GB, "bootDisk": True}]
    devices += [{"name": f"sd{chr(ord('b') + i)}", "size": size} for i, size in enumerate(disks)]
    return {"systemId": system_id, "hostname": hostname, "status": status, "blockDevices": devices, **extra}


def make_client(
    sim: MaasSim, *, multipart: bool = False, key: str = API_KEY, url: str | None = None
) -> MaasClient:
    config = MaasConfig(url=url or sim.maas_url, api_key=ApiKey.parse(key), multipart=multipart)
    return MaasClient(config, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))
