"""Benchmark sizes: `small` keeps the script working in the tests, `full` is issue 8's numbers,
`xl` is issue 16's ten times the scale."""

from __future__ import annotations

from dataclasses import dataclass, replace


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
    # Seconds between two LISTs of every kind while waiting: each LIST of 10,000 objects costs
    # the API server and this script real CPU, taken from the operator on a 2-core machine.
    poll_interval: float = 1.0

    @property
    def machines(self) -> int:
        return (self.raids + 1) // 2

    @property
    def objects(self) -> int:
        return self.resources + self.groups + self.raids

    @property
    def linstor_objects(self) -> int:
        return self.resources + self.groups

    @property
    def recovery_timeout(self) -> float:
        """Faults off: every object must be Ready again within two drift passes, plus slack that
        grows with the count (a drift pass over 11,100 objects is not instant)."""
        return 2 * self.drift_interval + max(120.0, self.objects / 20)


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
    "xl": Size(
        name="xl",
        resources=10_000,
        groups=100,
        raids=1000,
        # DRBD ports are per node, 7000-7999 (linstor-sim follows LINSTOR 1.32+): 10,000
        # definitions with two replicas and a diskless tie-breaker take 30,000 ports. 24 nodes
        # ran out at 24,000 (measured: "No more TCP ports on node"), so a cluster of that many
        # volumes has more nodes; 48 leave room.
        linstor_nodes=48,
        idle_seconds=600,
        drift_interval=60,
        outage_seconds=60,
        kills=2,
        # The goal is 10 minutes; the timeout is longer so a miss is measured, not cut off.
        converge_timeout=3600,
        delete_timeout=1800,
        poll_interval=5.0,
    ),
}


@dataclass(frozen=True)
class LatencySetup:
    """The `latency` scenario's workload: LINSTOR objects only (groups + resources), the same for
    the operator and the python-linstor script, each against a simulator that delays every answer."""

    resources: int = 200
    groups: int = 4
    latency_ms: float = 50.0
    linstor_nodes: int = 3
    drift_interval: float = 60.0  # the operator's default

    @property
    def objects(self) -> int:
        return self.resources + self.groups

    def size(self) -> Size:
        """As a Size, so the scale scenario's workload, stack and checks apply unchanged."""
        return replace(
            SIZES["small"],
            name="latency",
            resources=self.resources,
            groups=self.groups,
            raids=0,
            linstor_nodes=self.linstor_nodes,
            drift_interval=self.drift_interval,
            latency_ms=self.latency_ms,
            converge_timeout=600,
            delete_timeout=600,
            # Operator times are seconds at this size: a coarse poll would be a large error.
            poll_interval=0.25,
        )
