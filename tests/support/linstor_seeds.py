"""linstor-sim seeds the integration tests share."""

from __future__ import annotations

from typing import Any


def thin_nodes(count: int = 3) -> dict[str, Any]:
    """`count` satellites n1..nN, each with a 100 GiB LVM_THIN pool named "thin"."""
    pool = {"name": "thin", "provider": "LVM_THIN", "capacityKib": 104857600, "freeKib": 104857600}
    return {
        "version": "1.33.2",
        "nodes": [{"name": f"n{i}", "storagePools": [dict(pool)]} for i in range(1, count + 1)],
    }
