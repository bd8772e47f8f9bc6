"""Steps every operator scenario shares: apply the workload, wait for Ready while sampling the
operator, count requests, delete everything and check the backends are empty."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from bench import verify, workload
from bench.apiserver import KINDS, RequestSnapshot, operator_requests
from bench.console import console
from bench.probes import ProcessUsage, backend_requests, by_path
from bench.readiness import Follower, Progress, Readiness
from bench.sizes import Size
from bench.stack import Stack


def expected_keys(objects: list[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objects]


@dataclass
class Counters:
    """Request counters at one moment: the API server's and both simulators'."""

    api: RequestSnapshot
    sims: dict[str, dict[str, Any]]
    at: float = field(default_factory=time.time)

    @classmethod
    def take(cls, stack: Stack) -> Counters:
        assert stack.api is not None
        return cls(RequestSnapshot.take(stack.api), {n: s.stats() for n, s in stack.sims.items()})

    def since(self, stack: Stack) -> dict[str, Any]:
        assert stack.api is not None
        after = {n: s.stats() for n, s in stack.sims.items()}
        return {
            "seconds": round(time.time() - self.at, 1),
            "apiserver": operator_requests(stack.api, self.api),
            "backends": {n: backend_requests(self.sims[n], after[n]) for n in after},
            "busiest": {n: by_path(self.sims[n], after[n]) for n in after},
        }


def per_object(requests: dict[str, Any], size: Size) -> dict[str, float]:
    """Requests per object: LINSTOR over groups+resources, MAAS over raids, API server over all."""
    linstor_objects = size.linstor_objects
    return {
        "linstor": round(requests["backends"]["linstor"]["total"] / max(linstor_objects, 1), 2),
        "linstorWrites": round(requests["backends"]["linstor"]["writes"] / max(linstor_objects, 1), 2),
        "maas": round(requests["backends"]["maas"]["total"] / max(size.raids, 1), 2),
        "maasWrites": round(requests["backends"]["maas"]["writes"] / max(size.raids, 1), 2),
        "apiserver": round(
            (requests["apiserver"]["reads"] + requests["apiserver"]["writes"]) / size.objects, 2
        ),
        "apiserverWrites": round(requests["apiserver"]["writes"] / size.objects, 2),
    }


def create_all(stack: Stack, objects: list[dict[str, Any]], label: str, started: float) -> None:
    """POST every object, showing how many are created (11,100 POSTs take a while)."""
    assert stack.api is not None
    stack.api.create_all(
        objects,
        on_created=lambda n: console.progress(label, n, len(objects), time.time() - started, "created"),
    )
    console.finish()


def apply_and_wait(
    stack: Stack,
    size: Size,
    usage: ProcessUsage,
    label: str,
    *,
    follow: bool = False,
) -> tuple[Readiness, list[str], bool]:
    """Create every object at once and poll until all are Ready (`follow`: watch instead, from
    before the first POST; the progress is still shown every poll interval)."""
    assert stack.api is not None
    objects = workload.everything(size)
    keys = expected_keys(objects)
    readiness = Readiness(started=time.time())

    def poll(progress: Progress) -> None:
        usage.sample(stack.operator_pid)
        console.progress(label, progress.ready, progress.expected, progress.elapsed)

    def wait() -> bool:
        assert stack.api is not None
        if follower is not None:
            return follower.wait(keys, size.converge_timeout, size.poll_interval, on_poll=poll)
        return readiness.wait(
            stack.api, keys, timeout=size.converge_timeout, interval=size.poll_interval, on_poll=poll
        )

    with Follower(readiness, stack.api) if follow else contextlib.nullcontext() as follower:
        readiness.started = time.time()
        create_all(stack, objects, label, readiness.started)
        # kopf runs no handler before its indexes hold every object, so the first handler line
        # comes later the more objects there are (about 2 ms of listing and indexing each on 2
        # cores): a fixed 30 s took a busy xl start for a hang.
        stack.ensure_reconciling(timeout=30 + 0.02 * len(objects))
        ok = wait()
    console.finish()
    return readiness, keys, ok


def delete_all(stack: Stack, size: Size, usage: ProcessUsage, label: str) -> dict[str, Any]:
    """Delete every object (all kinds at once, as `kubectl delete -f` would) and wait until they
    are gone; then the backends must hold nothing of the benchmark's."""
    assert stack.api is not None
    started = time.time()
    for kind in KINDS:
        stack.api.delete_all(kind, retry_seconds=size.delete_timeout)
    deadline = time.monotonic() + size.delete_timeout
    remaining: list[str] = []
    while time.monotonic() < deadline:
        usage.sample(stack.operator_pid)
        remaining = [f"{k.kind}/{name}" for k in KINDS for name in stack.api.ready_column(k)]
        console.progress(label, size.objects - len(remaining), size.objects, time.time() - started, "deleted")
        if not remaining:
            break
        time.sleep(size.poll_interval)
    console.finish()
    seconds = round(time.time() - started, 1)
    check = verify.check(stack.sims, {})
    return {
        "seconds": seconds,
        "remaining": remaining[:20],
        "backendsEmpty": check,
        "ok": not remaining and check["ok"],
    }
