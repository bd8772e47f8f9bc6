"""Waiting for Ready: one LIST of the Ready column per kind per poll (or the API server's watch
events, with the whole objects), and per-object time to Ready from the whole objects."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.apiserver import KINDS, ApiServer, Kind


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

    def observe(self, key: str, obj: dict[str, Any], now: float) -> None:
        """One whole object as watched at `now`."""
        self.objects[key] = obj
        cond = ready_condition(obj)
        if cond and cond.get("status") == "True":
            self.seen_ready.setdefault(key, now)
            self.ready_after_marker.setdefault(key, now)
        elif self.seen_ready.pop(key, None) is not None:
            self.flaps += 1

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


class Follower:
    """Readiness from the API server's watch events instead of polls: each change is seen when the
    server sends it (no poll interval rounding the times up, and no LIST of every object several
    times a second competing for the same CPUs as the operator). One thread per kind: a LIST,
    then WATCHes the server ends every `window` seconds, each resumed where the last one ended."""

    def __init__(self, readiness: Readiness, api: ApiServer, window: int = 2) -> None:
        self.readiness = readiness
        self.api = api
        self.window = window
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._follow, args=(kind,), daemon=True) for kind in KINDS]
        self.errors: list[str] = []

    def __enter__(self) -> Follower:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        """Waits for the open WATCHes to end (the server counts a WATCH once it ends)."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def wait(
        self,
        expected: list[str],
        timeout: float,
        interval: float = 0.25,
        on_poll: Callable[[Progress], None] | None = None,
    ) -> bool:
        """Until every expected object was seen Ready (`on_poll` every `interval`); False on
        timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                missing = self.readiness.not_ready(expected)
            if on_poll is not None:
                progress = Progress(
                    len(expected), len(expected) - len(missing), time.time() - self.readiness.started
                )
                on_poll(progress)
            if not missing:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)

    def _follow(self, kind: Kind) -> None:
        version = ""
        while not self._stop.is_set():
            try:
                if not version:
                    items, version = self.api.list_with_version(kind)
                    now = time.time()
                    with self._lock:
                        for obj in items:
                            self.readiness.observe(f"{kind.kind}/{obj['metadata']['name']}", obj, now)
                for event in self.api.watch(kind, version, self.window):
                    if event.get("type") == "ERROR":  # e.g. 410: that version is gone, list again
                        version = ""
                        break
                    version = self._event(kind, event)
            except httpx.HTTPError as exc:  # the next round starts with a LIST again
                self.errors.append(f"{kind.kind}: {exc}")
                version = ""
                time.sleep(0.5)

    def _event(self, kind: Kind, event: dict[str, Any]) -> str:
        """Takes in one event; the resourceVersion to resume from."""
        obj = event["object"]
        version = str(obj["metadata"]["resourceVersion"])
        if event.get("type") in ("ADDED", "MODIFIED"):
            with self._lock:
                self.readiness.observe(f"{kind.kind}/{obj['metadata']['name']}", obj, time.time())
        elif event.get("type") == "DELETED":
            with self._lock:
                key = f"{kind.kind}/{obj['metadata']['name']}"
                self.readiness.objects.pop(key, None)
                self.readiness.seen_ready.pop(key, None)
        return version
