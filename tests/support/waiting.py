"""Polling for what the operator does in the background (status, Events, backend objects)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def eventually(what: str, check: Callable[[], Any], timeout: float = 90, interval: float = 0.5) -> Any:
    """The first truthy result of `check`, asked every `interval` seconds until `timeout`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: never happened; last {last!r}")
