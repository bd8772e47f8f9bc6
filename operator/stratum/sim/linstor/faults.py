"""LINSTOR's own fault: a change the controller committed that a satellite then failed to apply.

`POST /_sim/faults {"commitThenFailRate": 0.1}` (besides errorRate/latencyMs/down): that share of
mutations is applied, then answered as the controller answers a satellite failure — the entries of
the committed change plus the satellite's error, prefixed with its node name
(CtrlSatelliteUpdateCaller `deserializeApiCallRc`: "(<node>) ..."), FAIL_UNKNOWN_ERROR with the id
of the error report the satellite wrote (satellite/.../devmgr/DeviceHandlerImpl.java; DrbdLayer
"Failed to adjust DRBD resource <rsc>"), so HTTP 500 (ApiCallRcRestUtils). The change stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..common import Faults
from . import apicallrc as rc
from . import errorreports
from .model import Node, State


@dataclass
class LinstorFaults(Faults):
    commit_then_fail_rate: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {**super().as_json(), "commitThenFailRate": self.commit_then_fail_rate}

    def update(self, body: dict[str, Any]) -> None:
        if "commitThenFailRate" in body:
            rate = float(body["commitThenFailRate"])
            if not 0.0 <= rate <= 1.0:
                raise ValueError("commitThenFailRate must be between 0 and 1")
        super().update(body)
        if "commitThenFailRate" in body:
            self.commit_then_fail_rate = float(body["commitThenFailRate"])


FAULTS_KEY: web.AppKey[LinstorFaults] = web.AppKey("linstor_faults", LinstorFaults)


def _failing_node(state: State, entries: list[rc.Entry]) -> tuple[Node, str | None] | None:
    """A connected satellite the committed change went to (None: no satellite involved)."""
    rd_name = next((e.obj_refs["RscDfn"] for e in entries if "RscDfn" in e.obj_refs), None)
    for entry in entries:
        node = state.node(entry.obj_refs.get("Node", ""))
        if node is not None and node.online:
            return node, rd_name
    rd = state.rd(rd_name) if rd_name else None
    if rd is not None:
        for res in sorted(rd.resources.values(), key=lambda r: r.node.name):
            if res.node.online:
                return res.node, rd.name
    return None


def after_commit(request: web.Request, state: State, entries: list[rc.Entry]) -> list[rc.Entry]:
    faults = request.app[FAULTS_KEY]
    rate = faults.commit_then_fail_rate
    if not rate or any(e.is_error for e in entries) or faults.rng.random() >= rate:
        return entries
    target = _failing_node(state, entries)
    if target is None:
        return entries
    node, rd_name = target
    message = f"Failed to adjust DRBD resource {rd_name}" if rd_name else "Failed to apply the update"
    report = errorreports.record(
        state,
        node.name,
        "ResourceException",
        message,
        f"{message}\nSimulated satellite failure after the controller committed "
        f"{request.method} {request.path} (commitThenFailRate).",
    )
    refs = {"Node": node.name, **({"RscDfn": rd_name} if rd_name else {})}
    failure = rc.err(
        rc.FAIL_UNKNOWN_ERROR,
        f"({node.name}) {message}",
        details="Simulated satellite failure (commitThenFailRate).",
        error_report_ids=[report.report_id],
        obj_refs=refs,
    )
    return [*entries, failure]
