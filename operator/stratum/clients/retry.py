"""The one retry loop of the backend clients, with the idempotency rules in one place:

- a request that never reached the server (connection refused, connect timeout) may always be
  sent again;
- a request that did reach it and got no usable answer (the answer was lost, or the server
  failed: 5xx, LINSTOR's FAIL_UNKNOWN_ERROR) is sent again only when repeating it changes
  nothing (GET, PUT, DELETE...), never a POST, which could create twice;
- the loop sleeps between attempts (exponential backoff with full jitter), never after the last.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx

from stratum.clients.errors import Backend, BackendError, BackendUnavailable

T = TypeVar("T")

# Methods whose repetition after an ambiguous answer cannot duplicate anything.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 3.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter, so many objects do not retry in lockstep."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class ServerFault(Exception):
    """The request reached the server, which failed on its side. `error` is what to raise when
    the request may not be repeated or the attempts are used up (default: BackendUnavailable)."""

    def __init__(self, description: str, error: BackendError | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error = error


def reached_server(exc: httpx.TransportError) -> bool:
    """Whether the request may have been processed: anything but a failure to connect."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def may_resend(method: str, *, reached: bool) -> bool:
    return not reached or method in IDEMPOTENT


@dataclass(frozen=True)
class Wording:
    """How a client describes a request that failed, for the BackendUnavailable it raises."""

    ambiguous: Callable[[str], str]
    """The request may have been applied and may not be repeated; gets the last failure."""
    exhausted: Callable[[str], str]
    """Every attempt failed; gets the last failure."""


async def send_with_retries(
    policy: RetryPolicy,
    backend: Backend,
    method: str,
    send: Callable[[], Awaitable[T]],
    wording: Wording,
    *,
    targets: int = 1,
    on_unreachable: Callable[[], None] | None = None,
) -> T:
    """`send()` once per attempt: it returns the answer, raises a BackendError that ends the
    loop, a ServerFault, or an httpx.TransportError. With several `targets` (failover over
    controllers), each attempt tries every target once and the loop sleeps only between
    rounds of unreachable targets; `on_unreachable` moves to the next target."""
    tries = policy.attempts * targets
    last = "no attempt"
    fault: ServerFault | None = None
    for attempt in range(tries):
        try:
            return await send()
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}".rstrip(": ")
            fault = None
            if on_unreachable is not None:
                on_unreachable()
            if not may_resend(method, reached=reached_server(exc)):
                raise BackendUnavailable(backend, wording.ambiguous(last), detail={"method": method}) from exc
        except ServerFault as exc:
            last, fault = exc.description, exc
            if not may_resend(method, reached=True):
                raise exc.error or BackendUnavailable(
                    backend, wording.ambiguous(last), detail={"method": method}
                ) from exc
        # A failed server is asked again after a pause; unreachable targets only after a round.
        if attempt + 1 < tries and (fault is not None or (attempt + 1) % targets == 0):
            await asyncio.sleep(policy.delay(attempt // targets))
    if fault is not None and fault.error is not None:
        raise fault.error
    raise BackendUnavailable(backend, wording.exhausted(last), detail={"method": method})
