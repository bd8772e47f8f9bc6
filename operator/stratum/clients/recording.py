"""Plan mode for the backend clients. Inside `recording(recorder)` a request that would change a
backend (POST, PUT, PATCH, DELETE) is not sent: each client's request path hands it to the
recorder and answers as the backend answers a success, so an ordinary reconcile pass runs to its
end and the recorded requests ARE the changes it would make. Reads still go to the backend.

The recorder is held in a context variable: only the task that plans sees it; other passes
sharing the same client instance send their requests as usual."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EMPTY: tuple[Any, ...] = (None, [], {}, "", False)
"""Values a field the backend does not report is not shown with: they are its defaults (LINSTOR
leaves an unset select-filter field out of what it echoes), so sending them changes nothing."""

# LINSTOR modify bodies name the properties to set and to remove beside the object's `props`
# (linstor-server: rest/v1/.../json/JsonGenTypes.java, ResourceGroupModify and friends).
SET_PROPS = "override_props"
REMOVE_PROPS = "delete_props"
PROPS = "props"


@dataclass(frozen=True)
class PlannedRequest:
    backend: str
    method: str
    path: str
    """As the client sends it, with `?op=` for a MAAS operation."""
    body: Any = None
    """The JSON body (LINSTOR) or the form fields as (name, value) pairs (MAAS)."""
    before: Any = None
    """The object at `path` as it is now, where the backend has one there; for old values."""


class PlanStop(Exception):
    """The pass planned a request whose result later steps would read (a MAAS create answers
    with the new object): it ends there, and those steps are planned once the object exists."""

    def __init__(self, request: PlannedRequest) -> None:
        super().__init__(f"{request.method} {request.path}")
        self.request = request


@dataclass
class Recorder:
    requests: list[PlannedRequest] = field(default_factory=list)
    stopped: bool = False
    """A PlanStop ended the pass: later steps depend on the last request."""

    def record(self, request: PlannedRequest) -> None:
        self.requests.append(request)

    def stop(self, request: PlannedRequest) -> NoReturn:
        self.record(request)
        self.stopped = True
        raise PlanStop(request)


_active: ContextVar[Recorder | None] = ContextVar("stratum_plan_recorder", default=None)


@contextlib.contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    token = _active.set(recorder)
    try:
        yield recorder
    finally:
        _active.reset(token)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """A request that only reads although its method is a change (LINSTOR's
    `POST /v1/remotes/{remote}/backups/info`): sent even while planning."""
    token = _active.set(None)
    try:
        yield
    finally:
        _active.reset(token)


def recorder_for(method: str) -> Recorder | None:
    """The recorder when the current task plans and this request would change a backend."""
    recorder = _active.get()
    return recorder if recorder is not None and method.upper() in CHANGES else None


# ------------------------------------------------------------------------------ rendering


def render(request: PlannedRequest) -> list[str]:
    """One line per field the request changes: `name: old → new` where the old value was read,
    `name → new` where it was not. A request without fields is one line."""
    head = f"{request.method} {request.path}"
    changes = _json_changes(request) if not _is_form(request.body) else _form_changes(request)
    return [f"{head}: {change}" for change in changes] or [head]


def _is_form(body: Any) -> bool:
    return isinstance(body, list) and all(isinstance(item, tuple) and len(item) == 2 for item in body)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _change(name: str, new: Any, old: Any = None, *, known: bool = False) -> str:
    return f"{name}: {_show(old)} → {_show(new)}" if known else f"{name} → {_show(new)}"


def _leaves(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _lookup(obj: Any, dotted: str) -> tuple[bool, Any]:
    for part in dotted.split("."):
        if not isinstance(obj, Mapping) or part not in obj:
            return False, None
        obj = obj[part]
    return True, obj


def _json_changes(request: PlannedRequest) -> list[str]:
    body, before = request.body, request.before
    if not isinstance(body, Mapping):
        return [] if body is None else [_show(body)]
    out: list[str] = []
    props = before.get(PROPS, {}) if isinstance(before, Mapping) else {}
    for key, value in body.items():
        if key == SET_PROPS and isinstance(value, Mapping):
            for prop, new in value.items():
                if props.get(prop) != new:
                    out.append(_change(f"props.{prop}", new, props.get(prop), known=prop in props))
        elif key == REMOVE_PROPS and isinstance(value, list):
            out += [f"props.{prop}: {_show(props.get(prop))} → (removed)" for prop in value if prop in props]
            out += [f"props.{prop} → (removed)" for prop in value if before is None]
        else:
            for name, new in _leaves(value, key):
                known, old = _lookup(before, name)
                if known and old != new:
                    out.append(_change(name, new, old, known=True))
                elif not known and new not in EMPTY:
                    out.append(_change(name, new))
    return out


def _form_changes(request: PlannedRequest) -> list[str]:
    fields: dict[str, list[str]] = {}
    for name, value in request.body:
        fields.setdefault(name, []).append(str(value))
    before = request.before if isinstance(request.before, Mapping) else {}
    out = []
    for name, values in fields.items():
        new: Any = values[0] if len(values) == 1 else ", ".join(values)
        if name in before and not isinstance(before[name], Mapping | list):
            if str(before[name]) != new:
                out.append(_change(name, new, before[name], known=True))
        else:
            out.append(_change(name, new))
    return out
