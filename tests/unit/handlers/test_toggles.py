"""The readiness ToggleSet kopf builds once `stratum run` installed ours: same answers as kopf's,
one check of the set per change instead of one per waiting worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import pytest
from kopf._cogs.aiokits import aiotoggles
from kopf._core.reactor import orchestration, running

from stratum.handlers import toggles

KOPF_TOGGLE_SET = aiotoggles.ToggleSet


class Counted:
    """all() or any(), counting how often the set's state is computed."""

    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        self.fn = fn
        self.calls = 0

    def __call__(self, states: Iterable[bool]) -> bool:
        self.calls += 1
        return self.fn(states)


async def start_up(set_type: type[aiotoggles.ToggleSet], objects: int) -> int:
    """kopf's start-up: the watcher makes a toggle per indexed object as its event arrives and
    spawns its worker; the worker runs the index handlers, drops its toggle and waits for the
    whole set (kopf _core/reactor/queueing.py, processing.py). Returns the state checks."""
    counted = Counted(all)
    indexed = set_type(counted)
    blocker = await indexed.make_toggle(name="orchestration blocker")
    done: list[int] = []

    async def worker(i: int, own: aiotoggles.Toggle) -> None:
        await asyncio.sleep(0)  # the index handlers
        await indexed.drop_toggle(own)
        await indexed.wait_for(True)
        done.append(i)

    workers = []
    for i in range(objects):
        own = await indexed.make_toggle(name=f"object {i}")
        workers.append(asyncio.create_task(worker(i, own)))
        await asyncio.sleep(0)  # the next event of the watch stream
    await asyncio.sleep(0.01)
    assert done == []  # the blocker holds every worker
    assert indexed.is_off()
    await indexed.drop_toggle(blocker)
    await asyncio.wait_for(asyncio.gather(*workers), timeout=60)
    assert sorted(done) == list(range(objects))
    assert indexed.is_on()
    return counted.calls


async def test_start_up_checks_the_set_once_per_change() -> None:
    objects = 2000
    checks = await start_up(toggles.FlipToggleSet, objects)
    assert checks <= 5 * objects  # a make, a drop, a wait and its wake-up per object


async def test_kopfs_own_set_checks_it_once_per_waiter_per_change() -> None:
    """Why ours exists: kopf's re-checks the set in every waiter on every change."""
    objects = 300
    checks = await start_up(KOPF_TOGGLE_SET, objects)
    assert checks > objects * objects // 4


async def test_waiting_for_off_and_on_follows_child_toggles() -> None:
    """The pause set (any): a child toggle's turn_to() wakes the waiters of the new state only."""
    paused = toggles.FlipToggleSet(any)
    peering = await paused.make_toggle(False, name="peering")
    await paused.wait_for(False)  # already off: returns at once
    on = asyncio.create_task(paused.wait_for(True))
    await asyncio.sleep(0.01)
    assert not on.done()
    await peering.turn_to(True)
    await asyncio.wait_for(on, timeout=1)
    off = asyncio.create_task(paused.wait_for(False))
    await asyncio.sleep(0.01)
    assert not off.done()
    await paused.drop_toggles([peering])
    await asyncio.wait_for(off, timeout=1)
    assert paused.is_off() and len(paused) == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    indexed = toggles.FlipToggleSet(all)
    toggle = await indexed.make_toggle(name="one")
    waiter = asyncio.create_task(indexed.wait_for(True))
    await asyncio.sleep(0.01)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert indexed._waiters == {True: set(), False: set()}
    await indexed.drop_toggle(toggle)
    await indexed.wait_for(True)


def test_install_makes_kopf_build_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiotoggles, "ToggleSet", KOPF_TOGGLE_SET)
    assert toggles.install()
    # kopf's reactor builds its sets through the module attribute, at start-up.
    assert orchestration.aiotoggles.ToggleSet is toggles.FlipToggleSet
    assert running.aiotoggles.ToggleSet is toggles.FlipToggleSet
    assert toggles.install()  # a second call changes nothing


def test_install_leaves_an_unknown_toggle_set_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unknown:
        pass

    monkeypatch.setattr(aiotoggles, "ToggleSet", Unknown)
    assert not toggles.install()
    assert aiotoggles.ToggleSet is Unknown
