"""Handler declarations shared by the URL dispatcher and the describe document."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from .errors import NotFound
from .model import ApiKey, BlockDevice, MaasState, Machine, Storage
from .permissions import require_access

API_PREFIX = "/MAAS/api/2.0/"

Result = dict[str, Any] | list[Any] | web.StreamResponse


@dataclass
class Call:
    """One API request as a handler sees it."""

    state: MaasState
    method: str
    op: str | None
    args: dict[str, str]
    params: MultiDict[str] | MultiDictProxy[str]
    user: ApiKey | None = None  # the key that signed the request (None on anonymous handlers)
    snapshots: dict[str, tuple[Machine, Storage]] = field(default_factory=dict)

    def begin(self, machine: Machine) -> None:
        """Snapshot a machine's storage before changing it (the request is atomic)."""
        if machine.system_id not in self.snapshots:
            self.snapshots[machine.system_id] = (machine, self.state.snapshot(machine))

    @property
    def username(self) -> str:
        """Who is asking (anonymous handlers never act on machines)."""
        return self.user.username if self.user is not None else "admin"

    def rollback(self) -> None:
        for machine, storage in self.snapshots.values():
            self.state.restore(machine, storage)
        self.snapshots.clear()

    def commit(self) -> None:
        for machine, _ in self.snapshots.values():
            self.state.reindex(machine)
        self.snapshots.clear()

    # -- lookups as MAAS does them -------------------------------------------------------
    def machine(self) -> Machine:
        """get_node_or_404: 404 when missing, 403 when this user may not see it."""
        machine = self.state.machines.get(self.args["system_id"])
        if machine is None:
            raise NotFound("No Machine matches the given query.")
        require_access(self.user, machine)
        return machine

    def device(self, key_name: str = "id") -> tuple[Machine, BlockDevice]:
        machine = self.state.machines.get(self.args["system_id"])
        device = machine.block_device(self.args[key_name]) if machine is not None else None
        if machine is None or device is None:
            raise NotFound("No BlockDevice matches the given query.")
        require_access(self.user, machine)
        return machine, device


HandlerFn = Callable[[Call], Result]


@dataclass
class Action:
    name: str
    method: str
    op: str | None
    fn: HandlerFn
    doc: str = ""

    @property
    def restful(self) -> bool:
        return self.op is None


@dataclass
class Handler:
    """A piston handler: one URL pattern and its (method, op) exports."""

    name: str  # e.g. "RaidsHandler"
    path: str  # describe path, e.g. "/MAAS/api/2.0/nodes/{system_id}/raids/"
    regex: str  # relative to /MAAS/api/2.0/
    params: list[str]
    doc: str
    actions: list[Action]
    anon: bool = False
    resource: str = ""  # describe resource name (defaults to name)

    def __post_init__(self) -> None:
        self.pattern = re.compile(self.regex)
        ops = sorted({a.op for a in self.actions if a.op})
        self.op_pattern = (
            re.compile(self.regex[:-2] + "/op-(?P<_op>" + "|".join(map(re.escape, ops)) + ")$")
            if ops and self.regex.endswith("/$")
            else None
        )

    @property
    def allowed_methods(self) -> list[str]:
        order = ["GET", "POST", "PUT", "DELETE"]
        methods = {a.method for a in self.actions}
        return [m for m in order if m in methods]

    def find(self, method: str, op: str | None) -> Action | None:
        for action in self.actions:
            if action.method == method and action.op == op:
                return action
        return None


def action(name: str, method: str, op: str | None = None, doc: str = "") -> Callable[[HandlerFn], Action]:
    def wrap(fn: HandlerFn) -> Action:
        return Action(name=name, method=method, op=op, fn=fn, doc=doc or (fn.__doc__ or "").strip())

    return wrap


def deleted() -> web.Response:
    """piston's rc.DELETED."""
    return web.Response(status=204)


def ok_text() -> web.Response:
    """piston's rc.ALL_OK."""
    return web.Response(status=200, text="OK", content_type="text/html", charset="utf-8")
