"""Retry policy shared by the backend clients."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

import httpx

# Methods whose retry after a lost response cannot duplicate anything.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 3.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so many objects do not retry in lockstep."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))

    async def sleep(self, attempt: int) -> None:
        await asyncio.sleep(self.delay(attempt))


def may_retry(method: str, exc: httpx.TransportError) -> bool:
    """A request that never left may always be resent; one that may have been processed only
    when resending it changes nothing (a POST could create twice)."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return True
    return method in IDEMPOTENT
