"""The one retry loop of both clients: what is sent again, how often, and when it sleeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from stratum.clients import retry as retry_module
from stratum.clients.errors import Backend, BackendRefused, BackendUnavailable
from stratum.clients.retry import RetryPolicy, ServerFault, Wording, send_with_retries

POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=1.0)
WORDING = Wording(ambiguous=lambda last: f"ambiguous ({last})", exhausted=lambda last: f"exhausted ({last})")
REQUEST = httpx.Request("POST", "http://backend/")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(retry_module.asyncio, "sleep", record)
    return slept


def failing(*errors: Exception, answer: str = "ok") -> tuple[Callable[[], Awaitable[str]], list[int]]:
    """A send() raising the errors in turn, then answering."""
    calls: list[int] = []

    async def send() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return answer

    return send, calls


async def test_a_request_that_never_left_is_sent_again_even_a_post(sleeps: list[float]) -> None:
    send, calls = failing(httpx.ConnectError("refused", request=REQUEST))
    assert await send_with_retries(POLICY, Backend.MAAS, "POST", send, WORDING) == "ok"
    assert len(calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    "error", [httpx.ReadError("reset", request=REQUEST), ServerFault("HTTP 502 bad gateway")]
)
async def test_an_ambiguous_answer_to_a_post_is_not_sent_again(sleeps: list[float], error: Exception) -> None:
    send, calls = failing(error)
    with pytest.raises(BackendUnavailable, match="ambiguous") as caught:
        await send_with_retries(POLICY, Backend.LINSTOR, "POST", send, WORDING)
    assert len(calls) == 1 and sleeps == []
    assert caught.value.backend is Backend.LINSTOR


async def test_a_post_refused_by_a_server_fault_raises_its_own_error(sleeps: list[float]) -> None:
    refused = BackendRefused(Backend.LINSTOR, "unknown error", status=500)
    send, calls = failing(ServerFault("unknown error", refused))
    with pytest.raises(BackendRefused) as caught:
        await send_with_retries(POLICY, Backend.LINSTOR, "POST", send, WORDING)
    assert caught.value is refused and len(calls) == 1


async def test_idempotent_requests_are_retried_without_a_sleep_after_the_last(sleeps: list[float]) -> None:
    send, calls = failing(*[ServerFault("HTTP 503 busy")] * 5)
    with pytest.raises(BackendUnavailable, match=r"exhausted \(HTTP 503 busy\)"):
        await send_with_retries(POLICY, Backend.MAAS, "GET", send, WORDING)
    assert len(calls) == POLICY.attempts
    assert len(sleeps) == POLICY.attempts - 1
    assert all(0 <= s <= POLICY.max_delay for s in sleeps)


async def test_a_server_fault_error_is_raised_once_attempts_are_used_up(sleeps: list[float]) -> None:
    refused = BackendRefused(Backend.LINSTOR, "unknown error", status=500)
    send, calls = failing(*[ServerFault("unknown error", refused)] * 3)
    with pytest.raises(BackendRefused) as caught:
        await send_with_retries(POLICY, Backend.LINSTOR, "GET", send, WORDING)
    assert caught.value is refused and len(calls) == 3


async def test_other_backend_errors_end_the_loop_at_once(sleeps: list[float]) -> None:
    send, calls = failing(BackendRefused(Backend.MAAS, "bad", status=400))
    with pytest.raises(BackendRefused):
        await send_with_retries(POLICY, Backend.MAAS, "GET", send, WORDING)
    assert len(calls) == 1 and sleeps == []


async def test_failover_tries_every_target_before_sleeping(sleeps: list[float]) -> None:
    unreachable = httpx.ConnectError("refused", request=REQUEST)
    send, calls = failing(*[unreachable] * 5)
    moves: list[int] = []
    answer = await send_with_retries(
        POLICY, Backend.LINSTOR, "GET", send, WORDING, targets=2, on_unreachable=lambda: moves.append(1)
    )
    assert answer == "ok" and len(calls) == 6 and len(moves) == 5
    assert len(sleeps) == 2  # after each full round of two targets, not after every failure


def test_backoff_is_bounded_and_grows() -> None:
    policy = RetryPolicy(attempts=4, base_delay=0.5, max_delay=3.0)
    for attempt in range(6):
        assert 0 <= policy.delay(attempt) <= min(3.0, 0.5 * 2**attempt)
