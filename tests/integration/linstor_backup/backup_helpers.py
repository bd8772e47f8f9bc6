"""Helpers for the backup tests: a JSON client of the simulator, seeds and waits (the S3 server and
its boto3 client are tests/support/s3.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from support.s3 import S3Server

GIB = 1024 * 1024  # KiB
MASK_CODE = 0x7FFF
MASK_SEVERITY = 0xC000000000000000
MASK_ERROR = 0xC000000000000000
MASK_WARN = 0x8000000000000000
MASK_INFO = 0x4000000000000000


PASSPHRASE = "sim-master-passphrase"


def seed(*nodes: str, pool: str = "thin", passphrase: bool = True) -> dict[str, Any]:
    """Nodes with one 100 GiB LVM_THIN pool each; a controller started with a master passphrase."""
    out: dict[str, Any] = {
        "version": "1.33.2",
        "nodes": [
            {
                "name": n,
                "storagePools": [{"name": pool, "provider": "LVM_THIN", "capacityKib": 100 * GIB}],
            }
            for n in nodes
        ],
    }
    if passphrase:
        out["masterPassphrase"] = PASSPHRASE
    return out


def code(entry: dict[str, Any]) -> int:
    return int(entry["ret_code"]) & MASK_CODE


def errors(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries if int(e["ret_code"]) & MASK_SEVERITY == MASK_ERROR]


def warnings(entries: list[dict[str, Any]]) -> list[int]:
    return [code(e) for e in entries if int(e["ret_code"]) & MASK_SEVERITY == MASK_WARN]


@dataclass
class Reply:
    status: int
    body: Any


class Api:
    """Plain HTTP against a simulator."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=30)

    def close(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Reply:
        resp = self.client.request(method, path, json=body, params=params or None)
        data = (
            resp.json() if resp.headers.get("content-type", "").startswith("application/json") else resp.text
        )
        return Reply(resp.status_code, data)

    def get(self, path: str, **params: Any) -> Reply:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None) -> Reply:
        return self.call("POST", path, {} if body is None else body)

    def put(self, path: str, body: Any = None) -> Reply:
        return self.call("PUT", path, {} if body is None else body)

    def delete(self, path: str, **params: Any) -> Reply:
        return self.call("DELETE", path, **params)

    def ok(self, reply: Reply) -> Reply:
        assert reply.status < 300, (reply.status, reply.body)
        if isinstance(reply.body, list):
            assert not errors(reply.body), reply.body
        return reply

    def rd(self, name: str, *sizes_kib: int, place_count: int = 2) -> None:
        """A resource definition with these volumes, autoplaced on `place_count` nodes."""
        self.ok(self.post("/v1/resource-definitions", {"resource_definition": {"name": name}}))
        for size in sizes_kib:
            vd = {"volume_definition": {"size_kib": size}}
            self.ok(self.post(f"/v1/resource-definitions/{name}/volume-definitions", vd))
        self.ok(
            self.post(
                f"/v1/resource-definitions/{name}/autoplace", {"select_filter": {"place_count": place_count}}
            )
        )

    def s3_remote(self, name: str, server: S3Server, bucket: str) -> Reply:
        return self.post(
            "/v1/remotes/s3",
            {
                "remote_name": name,
                "endpoint": server.endpoint,
                "bucket": bucket,
                "region": server.region,
                "access_key": server.access_key,
                "secret_key": server.secret_key,
                "use_path_style": True,
            },
        )

    def snapshot(self, rd: str, snap: str) -> dict[str, Any]:
        reply = self.get(f"/v1/resource-definitions/{rd}/snapshots/{snap}")
        assert reply.status == 200, reply.body
        assert isinstance(reply.body, dict)
        return reply.body

    def backup(self, remote: str, rd: str, **extra: Any) -> str:
        """Start a backup; the snapshot name LINSTOR chose (the last entry's obj_refs)."""
        reply = self.ok(self.post(f"/v1/remotes/{remote}/backups", {"rsc_name": rd, **extra}))
        assert reply.status == 201
        return str(reply.body[-1]["obj_refs"]["Snapshot"])

    def volume_digests(self, rd: str) -> dict[str, str]:
        reply = self.get("/_sim/volume-data", resource=rd)
        assert reply.status == 200, reply.body
        return {nr: v["sha256"] for nr, v in reply.body["volumes"].items()}


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def shipping_status(api: Api, rd: str, snap: str, remote: str) -> str | None:
    props = api.snapshot(rd, snap).get("snapshot_definition_props", {})
    value = props.get(f"BackupShipping/Source/{remote}/ShippingStatus")
    return None if value is None else str(value)


def wait_shipped(api: Api, rd: str, snap: str, remote: str) -> None:
    wait_for(f"{rd}/{snap} shipped", lambda: shipping_status(api, rd, snap, remote) == "Success")


def next_second() -> None:
    """Backup ids have a resolution of one second: start the next one in a new second."""
    time.sleep(1.0 - (time.time() % 1.0) + 0.01)
