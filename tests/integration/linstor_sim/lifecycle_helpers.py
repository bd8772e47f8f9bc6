"""Helpers for the simulator's lifecycle tests: a clock the test moves, and DRBD state readers."""

from __future__ import annotations

from typing import Any

from linstor_helpers import Api, Reply


class FakeClock:
    """Replaces the simulator's monotonic clock; tests move it between requests."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def disk_states(api: Api, rd: str) -> dict[str, str | None]:
    """node -> disk state of volume 0 (None: the controller has no state for it)."""
    return {
        node: (res["volumes"][0].get("state") or {}).get("disk_state")
        for node, res in api.resources(rd).items()
    }


def replication(api: Api, rd: str, node: str) -> dict[str, dict[str, Any]]:
    """peer -> {replication_state, done_percentage?} of volume 0 on `node`."""
    state = api.resources(rd)[node]["volumes"][0].get("state") or {}
    result: dict[str, dict[str, Any]] = state.get("replication_states", {})
    return result


def connections(api: Api, rd: str, node: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = api.resources(rd)[node]["layer_object"]["drbd"].get("connections", {})
    return result


def set_online(api: Api, node: str, online: bool) -> None:
    reply = api.post(f"/_sim/nodes/{node}", {"online": online})
    assert reply.status == 200 and reply.body["online"] is online


def messages(reply: Reply) -> list[str]:
    return [str(e["message"]) for e in reply.entries]


def create_on(api: Api, rd: str, *nodes: str, pool: str = "thin", diskless: tuple[str, ...] = ()) -> Reply:
    """POST resources on the given nodes (diskful in `pool`, diskless where listed)."""
    items: list[dict[str, Any]] = [
        {"resource": {"node_name": n, "props": {"StorPoolName": pool}}} for n in nodes
    ]
    items += [{"resource": {"node_name": n, "flags": ["DRBD_DISKLESS"]}} for n in diskless]
    return api.post(f"/v1/resource-definitions/{rd}/resources", items)
