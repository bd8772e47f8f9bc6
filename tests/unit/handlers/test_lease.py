"""Leader election over a coordination.k8s.io Lease, against an in-memory Lease API: who may
take the lease, renewal, hand-over on a clean stop, and stepping down when renewals fail."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from typing import Any

import pytest

from stratum.handlers import lease as lease_module
from stratum.handlers.lease import LeaseElector, Observation

NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


class FakeLeases:
    """One namespace's Leases; `refuse_writes` answers every write with a conflict (None)."""

    def __init__(self) -> None:
        self.leases: dict[str, dict[str, Any]] = {}
        self.refuse_writes = False
        self.closed = False

    async def get(self, name: str) -> dict[str, Any] | None:
        found = self.leases.get(name)
        return copy.deepcopy(found) if found else None

    async def create(self, body: dict[str, Any]) -> dict[str, Any] | None:
        name = body["metadata"]["name"]
        if self.refuse_writes or name in self.leases:
            return None
        self.leases[name] = copy.deepcopy(body)
        return body

    async def replace(self, name: str, body: dict[str, Any]) -> dict[str, Any] | None:
        if self.refuse_writes:
            return None
        self.leases[name] = copy.deepcopy(body)
        return body

    async def close(self) -> None:
        self.closed = True


@pytest.fixture
def leases(monkeypatch: pytest.MonkeyPatch) -> FakeLeases:
    fake = FakeLeases()
    monkeypatch.setattr(
        lease_module.KubeConnection, "load", classmethod(lambda cls, service_account=None: None)
    )
    monkeypatch.setattr(lease_module, "LeaseClient", lambda connection, namespace: fake)
    return fake


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def elector(identity: str = "me", **kwargs: Any) -> LeaseElector:
    return LeaseElector(namespace="ns", name="lock", identity=identity, **kwargs)


class Clock:
    """The standby's local monotonic clock."""

    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def held_by(holder: str, renewed: dt.datetime, duration: int = 15) -> dict[str, Any]:
    return {"holderIdentity": holder, "renewTime": stamp(renewed), "leaseDurationSeconds": duration}


def test_a_lease_is_expired_when_nobody_holds_it_or_its_record_stopped_changing() -> None:
    observation = Observation()
    assert observation.expired(0.0)  # never read
    observation.observe({}, 0.0)
    assert observation.expired(0.0)  # nobody holds it
    observation.observe(held_by("a", NOW), 100.0)
    assert not observation.expired(114.9)
    observation.observe(held_by("a", NOW), 110.0)  # the same record again: no sign of life
    assert observation.expired(115.0)
    observation.observe(held_by("a", NOW + dt.timedelta(seconds=2)), 115.0)  # renewed
    assert not observation.expired(129.9) and observation.expired(130.0)


@pytest.mark.parametrize("skew", [dt.timedelta(hours=-3), dt.timedelta(hours=3)])
async def test_a_renewing_holder_with_a_skewed_clock_keeps_the_lease(
    leases: FakeLeases, skew: dt.timedelta
) -> None:
    """client-go: only a changed record counts; the holder's renewTime, hours off our clock
    either way, is never compared with local time."""
    clock = Clock()
    me = elector(clock=clock)
    for second in range(0, 120, 2):
        leases.leases["lock"] = {"spec": held_by("other", NOW + skew + dt.timedelta(seconds=second))}
        clock.now = 500.0 + second
        assert not await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    assert leases.leases["lock"]["spec"]["holderIdentity"] == "other"


@pytest.mark.parametrize("skew", [dt.timedelta(hours=-3), dt.timedelta(hours=3)])
async def test_a_stopped_holder_with_a_skewed_clock_is_taken_over_after_one_lease_duration(
    leases: FakeLeases, skew: dt.timedelta
) -> None:
    """A renewTime in the future (holder ahead) does not keep a dead holder's lease; one in the
    past (holder behind) does not hand it over before a lease duration was observed here."""
    clock = Clock()
    me = elector(clock=clock)
    leases.leases["lock"] = {"spec": held_by("other", NOW + skew)}
    assert not await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    clock.now += 14.9
    assert not await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    clock.now += 0.1
    assert await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    spec = leases.leases["lock"]["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("me", 1)


async def test_the_first_instance_creates_the_lease_and_renews_it(leases: FakeLeases) -> None:
    me = elector()
    assert await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    spec = leases.leases["lock"]["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"], spec["leaseDurationSeconds"]) == ("me", 0, 15)
    acquired = spec["acquireTime"]
    await asyncio.sleep(0.001)
    assert await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    renewed = leases.leases["lock"]["spec"]
    assert renewed["acquireTime"] == acquired and renewed["renewTime"] > spec["renewTime"]


async def test_a_held_lease_is_left_alone_and_an_expired_one_taken_over(leases: FakeLeases) -> None:
    other = elector("other")
    assert await other._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    clock = Clock()
    me = elector(clock=clock)
    assert not await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    assert leases.leases["lock"]["spec"]["holderIdentity"] == "other"
    clock.now += 60  # the holder stopped renewing a minute ago, as seen here
    assert await me._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    spec = leases.leases["lock"]["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("me", 1)


async def test_the_leader_operates_then_hands_the_lease_over(leases: FakeLeases) -> None:
    me = elector(renew_every=0.01)
    seen: list[bool] = []

    async def operate(stop: asyncio.Event) -> None:
        seen.append(me.leading)
        await asyncio.sleep(0.05)  # a few renewals happen meanwhile

    await me.run(operate, asyncio.Event())
    assert seen == [True] and not me.leading
    assert leases.leases["lock"]["spec"]["holderIdentity"] is None
    assert leases.closed


async def test_a_standby_stops_without_operating(leases: FakeLeases) -> None:
    await elector("other")._try_acquire_or_renew(leases)  # type: ignore[arg-type]
    stop = asyncio.Event()
    operated: list[int] = []

    async def operate(stop: asyncio.Event) -> None:
        operated.append(1)

    loop = asyncio.get_running_loop()
    loop.call_later(0.05, stop.set)
    await elector(renew_every=0.01).run(operate, stop)
    assert operated == [] and leases.leases["lock"]["spec"]["holderIdentity"] == "other"


@pytest.mark.timeout(10)
async def test_a_leader_that_cannot_renew_stops_reconciling_and_exits(leases: FakeLeases) -> None:
    me = elector(renew_every=0.01, renew_deadline=0.05)
    stopped: list[bool] = []

    async def operate(stop: asyncio.Event) -> None:
        leases.refuse_writes = True  # e.g. another instance took the lease meanwhile
        await stop.wait()
        stopped.append(True)

    with pytest.raises(SystemExit):
        await me.run(operate, asyncio.Event())
    assert stopped == [True] and not me.leading
