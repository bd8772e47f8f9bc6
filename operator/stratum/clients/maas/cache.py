"""MAAS reads shared by drift passes (see stratum.clients.shared): a GET answer (a machine, its
block devices, its RAIDs) is fetched once per interval and shared by every drift pass that asks
the same, so every MachineRaid on one machine costs the reads of one. A write the operator sends
for a machine drops what is kept about that machine."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from stratum.clients import shared
from stratum.clients.errors import BackendRefused
from stratum.clients.shared import Clock, SharedValue

Query = tuple[tuple[str, str | int], ...]
# nodes/<system_id>/... and machines/<system_id>/...: the machine a path is about.
_MACHINE = re.compile(r"^(?:nodes|machines)/([^/?]+)/")


def machine_of(path: str) -> str | None:
    found = _MACHINE.match(path)
    return found.group(1) if found else None


@dataclass(frozen=True)
class _Answer:
    """A GET's answer or its refusal (a missing machine is an answer too; an unreachable MAAS
    is not kept)."""

    value: Any = None
    error: BackendRefused | None = None


@dataclass
class MaasSharedReads:
    clock: Clock = time.monotonic
    _answers: dict[tuple[str, Query], SharedValue[_Answer]] = field(default_factory=dict)

    async def get(self, path: str, query: Query, fetch: Callable[[], Awaitable[Any]]) -> Any:
        """The answer to GET path?query, shared when the pass reads shared data."""
        reads = shared.current()
        if reads is None:
            return await fetch()
        answer = self._answers.get((path, query))
        if answer is None:
            answer = self._answers[(path, query)] = SharedValue(_catching(fetch), self.clock)
        got = await answer.get(reads)
        if got is None:
            return await fetch()
        if got.error is not None:
            raise got.error
        return got.value

    def written(self, path: str) -> None:
        """The operator changed something of this path's machine: its answers are out of date."""
        machine = machine_of(path)
        if machine is None:
            return
        for kept in [k for k in self._answers if machine_of(k[0]) == machine]:
            del self._answers[kept]


def _catching(fetch: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[_Answer]]:
    async def run() -> _Answer:
        try:
            return _Answer(await fetch())
        except BackendRefused as exc:
            return _Answer(error=exc)

    return run
