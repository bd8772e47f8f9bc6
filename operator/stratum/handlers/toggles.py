"""kopf's readiness toggles, woken only when the whole set flips.

On start-up kopf holds every object's handlers until all indexes are populated: each object of
an indexed kind gets a toggle in one ToggleSet (kopf _core/reactor/queueing.py), its worker drops
the toggle once its index handlers ran and then waits for the set to be "on"
(_core/reactor/processing.py). kopf's ToggleSet (_cogs/aiokits/aiotoggles.py) wakes every waiter
on every change through one asyncio.Condition, and each woken waiter re-takes the lock in turn:
N objects cost N² wake-ups. Measured at 11,100 objects (bench `--size xl`): no handler ran within
252 s of start, with 95% of the CPU in the condition's wait_for/notify_all.

This set keeps kopf's interface and semantics and resolves its waiters only when the aggregate
state actually changes, so start-up costs O(N). `install()` puts it where kopf builds its sets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from kopf._cogs.aiokits import aiotoggles

logger = logging.getLogger(__name__)


class _NotifyingCondition(asyncio.Condition):
    """The condition shared by the set and its toggles: a toggle's turn_to() notifies through it,
    so the set hears of every change, however it was made."""

    def __init__(self, changed: Callable[[], None]) -> None:
        super().__init__()
        self._changed = changed

    def notify_all(self) -> None:
        super().notify_all()
        self._changed()


class FlipToggleSet(aiotoggles.ToggleSet):
    """A ToggleSet whose wait_for() sleeps until the set's state is the one awaited: one check of
    the set per change instead of one per waiter per change."""

    def __init__(self, fn: Callable[[Iterable[bool]], bool]) -> None:
        super().__init__(fn)
        self._condition = _NotifyingCondition(self._changed)
        self._waiters: dict[bool, set[asyncio.Future[None]]] = {True: set(), False: set()}

    async def wait_for(self, __state: bool) -> None:
        state = bool(__state)
        while self.is_on() != state:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters[state].add(waiter)
            try:
                await waiter
            finally:
                self._waiters[state].discard(waiter)

    def _changed(self) -> None:
        state = self.is_on()
        waiters, self._waiters[state] = self._waiters[state], set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


def install() -> bool:
    """Make kopf build FlipToggleSets (its modules look `aiotoggles.ToggleSet` up when the operator
    starts). False, with a warning, when this kopf's ToggleSet is not the one this was written
    against: the operator then runs with kopf's own (slow start-up with many objects)."""
    current = aiotoggles.ToggleSet
    if current is FlipToggleSet:
        return True
    expected = ("wait_for", "make_toggle", "drop_toggle", "drop_toggles", "is_on")
    if not all(callable(getattr(current, name, None)) for name in expected):
        logger.warning("kopf's ToggleSet changed; start-up with many objects may be slow")
        return False
    aiotoggles.ToggleSet = FlipToggleSet  # type: ignore[misc]
    return True
