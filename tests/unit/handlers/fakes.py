"""Stand-ins for what kopf hands a handler, and a recorder for the Events it would post."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kopf
import pytest

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
    posted: list[Event] = field(default_factory=list)

    def __call__(self, _: Any, *, type: str, reason: str, message: str = "") -> None:
        self.posted.append(Event(type, reason, message))


def record_events(monkeypatch: pytest.MonkeyPatch) -> Events:
    events = Events()
    monkeypatch.setattr(kopf, "event", events)
    return events


def runtime(**settings: Any) -> Runtime:
    return Runtime(settings=OperatorSettings(**settings), metrics=Metrics())
