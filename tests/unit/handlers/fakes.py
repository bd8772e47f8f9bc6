"""Stand-ins for what kopf hands a handler, and a recorder for the Events it would post."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf

from stratum.handlers.metrics import Metrics
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
