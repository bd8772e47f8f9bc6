"""Stand-ins for what kopf hands a handler, and a recorder for the Events it would post."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from stratum.api import crds
from stratum.handlers.drift import Check, Checked, DriftLoop
from stratum.handlers.metrics import Metrics
from stratum.handlers.registration import PassFactory, register_kind
from stratum.handlers.runtime import Runtime
from stratum.handlers.settings import OperatorSettings


def body(generation: int = 1, status: dict[str, Any] | None = None, name: str = "obj") -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "linstor.stratum.dev/v1alpha1",
            "kind": "ResourceGroup",
            "metadata": {"name": name, "uid": f"uid-{name}", "generation": generation},
            "spec": {},
            "status": status or {},
        }
    )


@dataclass
class Event:
    type: str
    reason: str
    message: str


@dataclass
class Events:
    """An EventSink that keeps what it is given."""

    posted: list[Event] = field(default_factory=list)

    def post(self, obj: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        self.posted.append(Event(type, reason, message))


def runtime(events: Events | None = None, **settings: Any) -> Runtime:
    return Runtime(settings=OperatorSettings(**settings), metrics=Metrics(), events=events or Events())


def drift_check(registry: kopf.OperatorRegistry, singular: str) -> Check:
    """The check a kind's drift loop runs on each listed object (the loop is registered as kopf
    startup and cleanup activities; its `start` is bound to it)."""
    (start,) = [
        h.fn
        for h in registry._activities.get_all_handlers()
        if h.id == f"{singular}_drift" and h.fn.__name__ == "start"
    ]
    loop = start.__self__  # type: ignore[attr-defined]
    assert isinstance(loop, DriftLoop)
    return loop.check


async def drift(
    check: Check, obj: kopf.Body, memo: kopf.Memo, indexes: Mapping[str, Any] | None = None
) -> Checked:
    """One drift check of an object this process has handled before (as the loop checks only
    those), listed now; what it left to write."""
    rt: Runtime = memo["runtime"]
    rt.fresh_passes.setdefault(obj.metadata.uid or "", float("-inf"))
    checked = await check(obj, memo, indexes or {}, time.monotonic())
    assert checked is not None, "the drift check skipped the object"
    return checked


def group_kind(factory: PassFactory) -> tuple[dict[str, Any], Check]:
    """The ResourceGroup kind registered with `factory` as its reconcile and finalize pass (drift
    checks at any time): kopf's change handlers by "id/reason", and the kind's drift check."""
    registry = kopf.OperatorRegistry()
    register_kind(
        crds.RESOURCE_GROUP,
        backend="linstor",
        reconcile=factory,
        finalize=factory,
        settings=OperatorSettings(drift_idle=0),
        registry=registry,
    )
    handlers = {f"{h.id}/{h.reason}": h.fn for h in registry._changing.get_all_handlers()}
    return handlers, drift_check(registry, crds.RESOURCE_GROUP.singular)
