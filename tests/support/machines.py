"""Machines for the MAAS simulator's seed or `add_machine`."""

from __future__ import annotations

from typing import Any

GB = 10**9


def ready_machine(system_id: str, hostname: str, *data_disks: str) -> dict[str, Any]:
    """A Ready machine with a 500 GB boot disk `sda` and 1000 GB `data_disks` (sdb, sdc...)."""
    return {
        "systemId": system_id,
        "hostname": hostname,
        "status": "Ready",
        "blockDevices": [
            {"name": "sda", "size": 500 * GB, "bootDisk": True},
            *({"name": name, "size": 1000 * GB} for name in data_disks),
        ],
    }
