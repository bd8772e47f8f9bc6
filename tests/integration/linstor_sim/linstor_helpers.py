"""Helpers for the LINSTOR simulator tests: a tiny JSON client and ApiCallRc decoding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

MASK_ERROR = 0xC000000000000000
MASK_WARN = 0x8000000000000000
MASK_INFO = 0x4000000000000000
MASK_SEVERITY = 0xC000000000000000
MASK_OP = 0x03000000
MASK_OBJ = 0x7C0000
MASK_CODE = 0x7FFF

MASK_CRT = 0x01000000
MASK_MOD = 0x02000000
MASK_DEL = 0x03000000
MASK_RSC_GRP = 0x440000
MASK_RSC_DFN = 0x380000
MASK_RSC = 0x340000
MASK_VLM_DFN = 0x300000
MASK_SNAPSHOT = 0x0C0000
MASK_CTRL_CONF = 0x100000

GIB = 1024 * 1024  # KiB


def code(entry: dict[str, Any]) -> int:
    return int(entry["ret_code"]) & MASK_CODE


def severity(entry: dict[str, Any]) -> int:
    return int(entry["ret_code"]) & MASK_SEVERITY


def is_error(entry: dict[str, Any]) -> bool:
    return severity(entry) == MASK_ERROR


def codes(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries]


def errors(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries if is_error(e)]


def warnings(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries if severity(e) == MASK_WARN]


def infos(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries if severity(e) == MASK_INFO]


@dataclass
class Reply:
    status: int
    body: Any
    content_type: str

    @property
    def entries(self) -> list[dict[str, Any]]:
        assert isinstance(self.body, list)
        return self.body


class Api:
    """Plain HTTP against the simulator (no LINSTOR client library involved)."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=10)

    def close(self) -> None:
        self.client.close()

    def call(
        self, method: str, path: str, body: Any = None, *, raw: bytes | None = None, **params: Any
    ) -> Reply:
        kwargs: dict[str, Any] = {"params": params} if params else {}
        if raw is not None:
            kwargs["content"] = raw
            kwargs["headers"] = {"Content-Type": "application/json"}
        elif body is not None:
            kwargs["json"] = body
        resp = self.client.request(method, path, **kwargs)
        ctype = resp.headers.get("content-type", "")
        data: Any = resp.json() if ctype.startswith("application/json") else resp.text
        return Reply(resp.status_code, data, ctype)

    def get(self, path: str, **params: Any) -> Reply:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None, **params: Any) -> Reply:
        return self.call("POST", path, body if body is not None else {}, **params)

    def put(self, path: str, body: Any = None, **params: Any) -> Reply:
        return self.call("PUT", path, body if body is not None else {}, **params)

    def delete(self, path: str, **params: Any) -> Reply:
        return self.call("DELETE", path, **params)

    # Shortcuts for set-up steps that must succeed.

    def ok(self, reply: Reply) -> Reply:
        assert reply.status < 300, (reply.status, reply.body)
        if isinstance(reply.body, list) and reply.body and "ret_code" in reply.body[0]:
            assert not errors(reply.body), reply.body
        return reply

    def rg(self, name: str, vgs: int = 1, **select_filter: Any) -> None:
        body: dict[str, Any] = {"name": name}
        if select_filter:
            body["select_filter"] = select_filter
        self.ok(self.post("/v1/resource-groups", body))
        for _ in range(vgs):
            self.ok(self.post(f"/v1/resource-groups/{name}/volume-groups", {}))

    def spawn(self, rg: str, rd: str, *sizes_kib: int, **extra: Any) -> Reply:
        body = {"resource_definition_name": rd, "volume_sizes": list(sizes_kib or (GIB,)), **extra}
        return self.post(f"/v1/resource-groups/{rg}/spawn", body)

    def rd(self, name: str, *sizes_kib: int, rg: str | None = None) -> None:
        spec: dict[str, Any] = {"name": name}
        if rg:
            spec["resource_group_name"] = rg
        self.ok(self.post("/v1/resource-definitions", {"resource_definition": spec}))
        for size in sizes_kib:
            self.ok(
                self.post(
                    f"/v1/resource-definitions/{name}/volume-definitions",
                    {"volume_definition": {"size_kib": size}},
                )
            )

    def resources(self, rd: str) -> dict[str, dict[str, Any]]:
        reply = self.get("/v1/view/resources", resources=[rd])
        assert reply.status == 200
        return {r["node_name"]: r for r in reply.body}

    def placement(self, rd: str) -> tuple[set[str], set[str], set[str]]:
        """(diskful nodes, diskless non-tiebreaker nodes, tiebreaker nodes)."""
        diskful, diskless, tb = set(), set(), set()
        for node, res in self.resources(rd).items():
            flags = res.get("flags", [])
            if "TIE_BREAKER" in flags:
                tb.add(node)
            elif "DISKLESS" in flags:
                diskless.add(node)
            else:
                diskful.add(node)
        return diskful, diskless, tb


def pool(
    name: str = "thin", provider: str = "LVM_THIN", kib: int = 100 * GIB, free: int | None = None
) -> dict[str, Any]:
    return {"name": name, "provider": provider, "capacityKib": kib, "freeKib": kib if free is None else free}


def node(name: str, *pools: dict[str, Any], **props: str) -> dict[str, Any]:
    return {"name": name, "props": dict(props), "storagePools": list(pools) or [pool()]}


def three_nodes(version: str = "1.33.2") -> dict[str, Any]:
    """The default seed: n1..n3 with Aux/zone a, b, c, each with a 100 GiB LVM_THIN pool "thin"."""
    return {
        "version": version,
        "nodes": [
            node("n1", **{"Aux/zone": "a"}),
            node("n2", **{"Aux/zone": "b"}),
            node("n3", **{"Aux/zone": "c"}),
        ],
    }
