"""Waiting for Ready: one LIST of the Ready column per kind per poll, and per-object time to
Ready from the whole objects listed once at the end."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.apiserver import KINDS, ApiServer


def parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def ready_condition(obj: dict[str, Any]) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return None


@dataclass
class Progress:
    expected: int
    ready: int
    elapsed: float

    @property
    def fraction(self) -> float:
        return self.ready / self.expected if self.expected else 1.0


@dataclass
class Readiness:
    """When this script first saw each object Ready, and the whole objects as listed when the
    wait ended."""

    started: float  # wall clock when the objects were applied
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # "Kind/name" -> object
    seen_ready: dict[str, float] = field(default_factory=dict)
    polls: int = 0
    flaps: int = 0  # Ready True -> False between two polls
    marker: float = 0.0
    ready_after_marker: dict[str, float] = field(default_factory=dict)

    def mark(self) -> None:
        """From now on, count which objects are (or become) Ready again."""
        self.marker = time.time()
        self.ready_after_marker = {}

    def poll(self, api: ApiServer) -> None:
        """Ready per object from the Ready printer column (what `kubectl get` shows)."""
        now = time.time()
        self.polls += 1
        for kind in KINDS:
            for name, ready in api.ready_column(kind).items():
                key = f"{kind.kind}/{name}"
                if ready == "True":
                    self.seen_ready.setdefault(key, now)
                    self.ready_after_marker.setdefault(key, now)
                elif self.seen_ready.pop(key, None) is not None:
                    self.flaps += 1

    def refresh(self, api: ApiServer) -> None:
        """The whole objects, for the checks and the per-object times (one LIST per kind)."""
        current: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            for obj in api.list_objects(kind):
                current[f"{kind.kind}/{obj['metadata']['name']}"] = obj
        self.objects = current

    def not_ready(self, expected: list[str]) -> list[str]:
        return [key for key in expected if key not in self.seen_ready]

    def wait(
        self,
        api: ApiServer,
        expected: list[str],
        timeout: float,
        interval: float = 1.0,
        on_poll: Callable[[Progress], None] | None = None,
    ) -> bool:
        """Poll until every expected object is Ready (`on_poll` sees each poll's progress);
        False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll(api)
            missing = self.not_ready(expected)
            if on_poll is not None:
                on_poll(Progress(len(expected), len(expected) - len(missing), time.time() - self.started))
            if not missing or time.monotonic() > deadline:
                self.refresh(api)
                return not missing
            time.sleep(interval)

    def latencies(self, expected: list[str]) -> dict[str, Any]:
        """Per kind: seconds from creationTimestamp to the Ready lastTransitionTime (both with
        one-second resolution), p50/p95/max; and from the start of the apply to the last Ready
        seen by this script (the whole batch)."""
        out: dict[str, Any] = {}
        per_kind: dict[str, list[float]] = {}
        for key in expected:
            obj = self.objects.get(key)
            cond = ready_condition(obj) if obj else None
            if not obj or not cond or cond.get("status") != "True":
                continue
            created = parse_time(obj["metadata"]["creationTimestamp"])
            per_kind.setdefault(key.split("/")[0], []).append(
                parse_time(cond["lastTransitionTime"]) - created
            )
        everything: list[float] = []
        for kind, values in sorted(per_kind.items()):
            out[kind] = summary(values)
            seen_kind = [t for k, t in self.seen_ready.items() if k.startswith(f"{kind}/") and k in expected]
            out[kind]["batchSeconds"] = round(max(seen_kind) - self.started, 1) if seen_kind else None
            everything += values
        out["all"] = summary(everything)
        seen = [self.seen_ready[k] for k in expected if k in self.seen_ready]
        out["batchSeconds"] = round(max(seen) - self.started, 1) if len(seen) == len(expected) else None
        return out


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[index]


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p95": round(percentile(values, 95), 1),
        "max": round(max(values), 1),
    }
