"""A hook for counting backend requests (metrics) without clients importing the metrics code."""

from __future__ import annotations

from typing import Protocol


class RequestObserver(Protocol):
    def __call__(self, backend: str, method: str, outcome: str, seconds: float) -> None: ...


def ignore_request(backend: str, method: str, outcome: str, seconds: float) -> None:
    """The default observer: record nothing."""
