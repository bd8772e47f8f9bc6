"""Steps every operator scenario shares: apply the workload, wait for Ready while sampling the
operator, count requests, delete everything and check the backends are empty."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import verify, workload
from bench.apiserver import KINDS, RequestSnapshot, operator_requests
from bench.probes import ProcessUsage, backend_requests, by_path
from bench.readiness import Progress, Readiness
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
    linstor_objects = size.groups + size.resources
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


def apply_and_wait(
    stack: Stack,
    size: Size,
    usage: ProcessUsage,
    on_poll: Callable[[Progress], bool] | None = None,
) -> tuple[Readiness, list[str], bool]:
    """Create every object at once and poll until all are Ready (and `on_poll` is content)."""
    assert stack.api is not None
    objects = workload.everything(size)
    keys = expected_keys(objects)
    readiness = Readiness(started=time.time())
    stack.api.create_all(objects)
    stack.ensure_reconciling()

    def poll(progress: Progress) -> bool:
        usage.sample(stack.operator_pid)
        more = on_poll(progress) if on_poll is not None else False
        return more

    ok = readiness.wait(stack.api, keys, timeout=size.converge_timeout, on_poll=poll)
    return readiness, keys, ok


def delete_all(stack: Stack, size: Size, usage: ProcessUsage) -> dict[str, Any]:
    """Delete every object (all kinds at once, as `kubectl delete -f` would) and wait until they
    are gone; then the backends must hold nothing of the benchmark's."""
    assert stack.api is not None
    started = time.time()
    for kind in KINDS:
        stack.api.delete_all(kind)
    deadline = time.monotonic() + size.delete_timeout
    remaining: list[str] = []
    while time.monotonic() < deadline:
        usage.sample(stack.operator_pid)
        remaining = [f"{k.kind}/{o['metadata']['name']}" for k in KINDS for o in stack.api.list(k)]
        if not remaining:
            break
        time.sleep(1)
    seconds = round(time.time() - started, 1)
    check = verify.check(stack.sims, {})
    return {
        "seconds": seconds,
        "remaining": remaining[:20],
        "backendsEmpty": check,
        "ok": not remaining and check["ok"],
    }
