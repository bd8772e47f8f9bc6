"""Benchmark sizes: `small` keeps the script working in the tests, `full` is issue 8's numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    resources: int
    groups: int
    raids: int  # two per machine
    linstor_nodes: int
    idle_seconds: float
    drift_interval: float
    outage_seconds: float
    kills: int
    error_rate: float = 0.1
    latency_ms: float = 50.0
    converge_timeout: float = 1800.0
    delete_timeout: float = 900.0

    @property
    def machines(self) -> int:
        return (self.raids + 1) // 2

    @property
    def objects(self) -> int:
        return self.resources + self.groups + self.raids


SIZES = {
    "small": Size(
        name="small",
        resources=20,
        groups=4,
        raids=6,
        linstor_nodes=3,
        idle_seconds=30,
        drift_interval=10,
        outage_seconds=5,
        kills=1,
        converge_timeout=300,
        delete_timeout=300,
    ),
    "full": Size(
        name="full",
        resources=1000,
        groups=20,
        raids=200,
        linstor_nodes=12,
        idle_seconds=600,
        drift_interval=60,
        outage_seconds=60,
        kills=2,
    ),
}
