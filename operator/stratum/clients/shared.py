"""Shared reads for drift passes: a drift (timer) pass may answer its reads from what the backend
returned to another pass moments ago, so an idle operator reads each backend a few times per
drift interval instead of a few times per object.

The runner chooses per pass, through a context variable, so reconcile code calls the same client
methods either way:
- change-driven passes (create, update, resume, delete) read fresh;
- a drift pass reads shared data no older than `max_age` nor than its sweep (`refetch_before`), and
  never data older than its own object's last fresh pass (`not_before`): its own last write is
  always seen;
- a pass reading shared data that is about to write raises `SharedReadWrite` before anything is
  sent; the runner runs it again with fresh reads, so nothing is ever written on shared data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from stratum.clients.errors import Backend, BackendRefused

T = TypeVar("T")
FAILURE_HOLD = 5.0
"""Seconds a failed shared fetch is answered with its error: passes queued behind it fail at once
instead of each trying (and retrying) the unavailable backend in turn."""
K = TypeVar("K", bound=Hashable)
Clock = Callable[[], float]


@dataclass(frozen=True)
class SharedReads:
    """How a drift pass may read: shared data fetched at most `max_age` seconds ago and not
    before `not_before` (time.monotonic() when its object's last fresh pass ended)."""

    max_age: float
    not_before: float = 0.0
    refetch_before: float = float("-inf")
    """A shared list fetched before this moment is fetched again (once, by the first pass that
    asks): a drift sweep's start, so each sweep reads the lists afresh instead of reusing the
    last sweep's, which are a little under `max_age` old when it starts."""
    refresh_budget: int = 2
    """Reads per `max_age` that refresh one object's entry the backend cannot list in bulk
    (LINSTOR volume groups, max volume size); beyond it the older entry is served."""


_CURRENT: ContextVar[SharedReads | None] = ContextVar("stratum_shared_reads", default=None)


def current() -> SharedReads | None:
    """The shared-read rules of the running pass; None: read fresh."""
    return _CURRENT.get()


@contextlib.contextmanager
def reading_shared(reads: SharedReads | None) -> Iterator[None]:
    token = _CURRENT.set(reads)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class SharedReadWrite(Exception):
    """A pass that read shared data was about to write: it must run again on fresh reads."""

    def __init__(self, backend: Backend, method: str, path: str) -> None:
        super().__init__(f"{backend} {method} {path} in a pass that read shared data")


def guard_write(backend: Backend, method: str, path: str) -> None:
    """Called by the clients before sending anything but a read."""
    if method != "GET" and current() is not None:
        raise SharedReadWrite(backend, method, path)


@dataclass
class SharedValue(Generic[T]):
    """One backend answer (a whole list) shared by every drift pass for `max_age` seconds;
    passes that want it at the same moment wait for one fetch."""

    fetch: Callable[[], Awaitable[T]]
    clock: Clock = time.monotonic
    _value: T | None = None
    _fetched_at: float = float("-inf")
    _failed: tuple[float, Exception] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, reads: SharedReads) -> T | None:
        """The shared answer, fetched again when it is too old; None when it is older than the
        pass's own object's last fresh pass (the caller then reads for itself). A failed fetch
        raises its error again for a few seconds."""
        async with self._lock:
            if self._failed is not None and self.clock() - self._failed[0] < min(FAILURE_HOLD, reads.max_age):
                raise self._failed[1]
            if self.clock() - self._fetched_at >= reads.max_age or self._fetched_at < reads.refetch_before:
                self._value = None  # let the old answer go before the new one arrives
                started = self.clock()
                try:
                    self._value = await self.fetch()
                except Exception as exc:
                    self._failed = (self.clock(), exc)
                    raise
                self._failed = None
                self._fetched_at = started
        if self._fetched_at < reads.not_before:
            return None
        return self._value


@dataclass
class _Entry(Generic[T]):
    value: T
    error: BackendRefused | None
    fetched_at: float
    fingerprint: Hashable


@dataclass
class SharedEntries(Generic[K, T]):
    """Per-object answers the backend has no bulk read for. An entry is reused while it is
    younger than `max_age` and its `fingerprint` (what the answer depends on, e.g. the group's
    select filter and the storage pools' free space) is unchanged; a stale entry is refreshed
    only while this window's `refresh_budget` lasts, else served as it is, so these reads stay
    a constant number per interval at any object count. A refused read (BackendRefused, e.g. no
    pool can hold a volume) is kept and raised again like an answer; an unavailable backend is
    not kept."""

    clock: Clock = time.monotonic
    _entries: dict[K, _Entry[T]] = field(default_factory=dict)
    _window_start: float = float("-inf")
    _refreshed: int = 0

    async def get(
        self, key: K, fingerprint: Hashable, fetch: Callable[[], Awaitable[T]], reads: SharedReads
    ) -> T:
        entry = self._entries.get(key)
        now = self.clock()
        if entry is not None and entry.fetched_at >= reads.not_before:
            current = entry.fingerprint == fingerprint and now - entry.fetched_at < reads.max_age
            if current or not self._spend(now, reads):
                return self._answer(entry)
        try:
            entry = _Entry(await fetch(), None, now, fingerprint)
        except BackendRefused as exc:
            entry = _Entry(cast(T, None), exc, now, fingerprint)
        self._entries[key] = entry
        return self._answer(entry)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def _spend(self, now: float, reads: SharedReads) -> bool:
        if now - self._window_start >= reads.max_age:
            self._window_start, self._refreshed = now, 0
        if self._refreshed >= reads.refresh_budget:
            return False
        self._refreshed += 1
        return True

    @staticmethod
    def _answer(entry: _Entry[T]) -> T:
        if entry.error is not None:
            raise entry.error
        return entry.value
