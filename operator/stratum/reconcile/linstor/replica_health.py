"""How healthy a resource's replicas are, judged from what the controller reports of DRBD.

Pure: takes the resources of `/v1/view/resources` and answers, per replica, whether it is
reachable, UpToDate, syncing (with progress) and connected to its peers; then, for the whole
resource, whether it is usable and what is wrong. Wire facts (linstor-server
api/rest/v1/serializer/Json.java): a replica whose satellite is not connected has no `state`, no
volume state and no connections; `volumes[].state.disk_state` is DRBD's disk state;
`replication_states.{peer}` (REST >= 1.25) says SyncTarget/SyncSource with `done_percentage`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stratum.clients.linstor.models import Resource
from stratum.reconcile import reasons
from stratum.reconcile.reasons import Reason

UP_TO_DATE = "UpToDate"
SYNC_TARGET = "SyncTarget"
SYNC_SOURCE = "SyncSource"


@dataclass(frozen=True)
class ReplicaHealth:
    node: str
    diskless: bool
    reachable: bool
    disk_state: str | None
    """One state for all volumes, or the distinct ones joined by commas; None when unreachable."""
    up_to_date: bool
    sync_percent: float | None
    """Lowest progress of a running resync towards this replica (None: not syncing, or the
    controller does not report progress)."""
    syncing: bool
    disconnected_from: tuple[str, ...]
    """Peers this replica reports no DRBD connection to."""
    in_use: bool


def _sync_progress(rsc: Resource, others: Sequence[Resource]) -> tuple[bool, float | None]:
    """Whether a resync towards `rsc` runs and its lowest progress, from its own replication states
    or, when it reports none, from its peers' SyncSource entries towards it."""
    own = [
        rs
        for vol in rsc.volumes
        for rs in vol.state.replication_states.values()
        if rs.replication_state == SYNC_TARGET
    ]
    theirs = [
        rs
        for peer in others
        for vol in peer.volumes
        if (rs := vol.state.replication_states.get(rsc.node_name)) is not None
        and rs.replication_state == SYNC_SOURCE
    ]
    found = own or theirs
    percents = [rs.done_percentage for rs in found if rs.done_percentage is not None]
    return bool(found), (min(percents) if percents else None)


def _disk_state(rsc: Resource) -> str | None:
    states = [v.state.disk_state for v in rsc.volumes if v.state.disk_state]
    if not states:
        return None
    distinct = sorted(set(states), key=states.index)
    return ",".join(distinct)


def assess_replica(rsc: Resource, resources: Sequence[Resource]) -> ReplicaHealth:
    others = [r for r in resources if r is not rsc and not r.deleting]
    reachable = rsc.reported
    disk_state = _disk_state(rsc) if reachable else None
    up_to_date = (
        reachable
        and not rsc.diskless
        and bool(rsc.volumes)
        and all(v.state.disk_state == UP_TO_DATE for v in rsc.volumes)
    )
    syncing, percent = (False, None) if up_to_date or rsc.diskless else _sync_progress(rsc, others)
    # "Inconsistent" with no resync reported is still not usable data; it counts as syncing only
    # when some peer or the replica itself says so.
    peers = {p.node_name.casefold() for p in others}
    disconnected = tuple(
        sorted(
            name for name, conn in rsc.connections.items() if not conn.connected and name.casefold() in peers
        )
    )
    return ReplicaHealth(
        node=rsc.node_name,
        diskless=rsc.diskless,
        reachable=reachable,
        disk_state=disk_state,
        up_to_date=up_to_date,
        sync_percent=percent,
        syncing=syncing,
        disconnected_from=disconnected if reachable else (),
        in_use=rsc.in_use,
    )


@dataclass(frozen=True)
class Problem:
    reason: Reason
    text: str


@dataclass
class ResourceHealth:
    replicas: list[ReplicaHealth]
    wanted_diskful: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def diskful(self) -> list[ReplicaHealth]:
        return [r for r in self.replicas if not r.diskless]

    @property
    def usable(self) -> bool:
        """At least one UpToDate replica whose satellite the controller reaches."""
        return any(r.up_to_date for r in self.diskful)

    @property
    def healthy(self) -> bool:
        """Every diskful replica UpToDate and connected to its peers, none missing."""
        return not self.problems

    def summary(self) -> tuple[Reason, str] | None:
        """The most pressing reason and every problem in one message, or None when healthy."""
        if not self.problems:
            return None
        first = min(self.problems, key=lambda p: PRIORITY.index(p.reason))
        return first.reason, "; ".join(p.text for p in self.problems)


# The reason a combined message carries: what threatens the data first.
PRIORITY: list[Reason] = [
    reasons.REPLICAS_MISSING,
    reasons.REPLICA_UNREACHABLE,
    reasons.REPLICA_NOT_UP_TO_DATE,
    reasons.REPLICA_DISCONNECTED,
    reasons.SYNCING,
]


def _fmt_percent(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") + "%"


def assess(resources: Sequence[Resource], wanted_diskful: int | None = None) -> ResourceHealth:
    """Judge every replica not being deleted; `wanted_diskful` is the diskful count the spec
    and group ask for (fewer present ones are reported as missing)."""
    live = [r for r in sorted(resources, key=lambda r: r.node_name) if not r.deleting]
    health = ResourceHealth([assess_replica(r, live) for r in live], wanted_diskful)
    unreachable = [r.node for r in health.replicas if not r.reachable]
    if unreachable:
        health.problems.append(
            Problem(
                reasons.REPLICA_UNREACHABLE,
                f"satellite not connected: {', '.join(unreachable)} (state unknown to the controller)",
            )
        )
    reachable_diskful = [r for r in health.diskful if r.reachable]
    syncing = [r for r in reachable_diskful if not r.up_to_date and r.syncing]
    if syncing:
        parts = [
            f"{r.node} {_fmt_percent(r.sync_percent)}" if r.sync_percent is not None else r.node
            for r in syncing
        ]
        health.problems.append(Problem(reasons.SYNCING, f"syncing: {', '.join(parts)}"))
    bad = [r for r in reachable_diskful if not r.up_to_date and not r.syncing]
    if bad:
        parts = [f"{r.node} is {r.disk_state or 'without a disk state'}" for r in bad]
        health.problems.append(Problem(reasons.REPLICA_NOT_UP_TO_DATE, "not UpToDate: " + ", ".join(parts)))
    unreachable_set = {n.casefold() for n in unreachable}
    cut = [
        f"{r.node} to {', '.join(r.disconnected_from)}"
        for r in health.replicas
        if r.reachable and any(p.casefold() not in unreachable_set for p in r.disconnected_from)
    ]
    if cut:
        health.problems.append(Problem(reasons.REPLICA_DISCONNECTED, "not connected: " + "; ".join(cut)))
    if wanted_diskful is not None and len(health.diskful) < wanted_diskful:
        health.problems.append(
            Problem(
                reasons.REPLICAS_MISSING,
                f"{len(health.diskful)} of {wanted_diskful} diskful replicas present",
            )
        )
    return health
