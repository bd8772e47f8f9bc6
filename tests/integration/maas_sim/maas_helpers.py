"""Helpers for the MAAS simulator tests: the default seed and a small raw HTTP client that
signs with OAuth 1.0 PLAINTEXT and sends MAAS-style form bodies (urlencoded or multipart)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from stratum.sim.maas import MaasSim

TB = 10**12
API_KEY = "ck1:tk1:ts1"

Params = Sequence[tuple[str, Any]] | dict[str, Any] | None


def default_seed() -> dict[str, Any]:
    return {
        "apiKeys": [API_KEY],
        "machines": [
            {
                "systemId": "abc123",
                "hostname": "node-1",
                "status": "Ready",
                "blockDevices": [
                    {"name": "sda", "size": TB, "bootDisk": True},
                    {"name": "sdb", "size": TB},
                    {"name": "sdc", "size": TB},
                    {"name": "sdd", "size": TB},
                    {"name": "sde", "size": 2 * TB},
                    {"name": "sdf", "size": 500 * 10**9},
                ],
            },
            {
                "systemId": "def456",
                "hostname": "node-2",
                "status": "Deployed",
                "blockDevices": [
                    {"name": "sda", "size": TB, "bootDisk": True},
                    {"name": "sdb", "size": TB},
                    {"name": "sdc", "size": TB},
                ],
            },
            {
                "systemId": "ghi789",
                "hostname": "node-3",
                "status": "Allocated",
                "blockDevices": [
                    {"name": "sda", "size": TB, "bootDisk": True},
                    {"name": "sdb", "size": TB},
                    {"name": "sdc", "size": TB},
                ],
            },
        ],
    }


@dataclass
class Reply:
    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return str(self.headers.get("Content-Type", ""))


def plaintext_header(key: str, *, realm: bool = True, secret: str | None = None) -> str:
    ck, tk, ts = key.split(":")
    parts = [
        ("oauth_nonce", str(secrets.randbelow(10**12))),
        ("oauth_timestamp", str(int(time.time()))),
        ("oauth_version", "1.0"),
        ("oauth_signature_method", "PLAINTEXT"),
        ("oauth_consumer_key", ck),
        ("oauth_token", tk),
        ("oauth_signature", quote("&" + (ts if secret is None else secret), safe="")),
    ]
    text = ", ".join(f'{k}="{v}"' for k, v in parts)
    return ('OAuth realm="OAuth", ' if realm else "OAuth ") + text


def multipart(params: Sequence[tuple[str, Any]]) -> tuple[bytes, str]:
    """A body as python-libmaas builds it: every part base64 transfer-encoded."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in params:
        encoded = base64.b64encode(str(value).encode()).decode()
        chunks.append(
            f'--{boundary}\r\nContent-Type: text/plain; charset="utf-8"\r\n'
            f"MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: form-data; name="{name}"\r\n\r\n{encoded}\r\n'
        )
    chunks.append(f"--{boundary}--\r\n")
    return "".join(chunks).encode(), f"multipart/form-data; boundary={boundary}"


def _pairs(params: Params) -> list[tuple[str, Any]]:
    if params is None:
        return []
    items = params.items() if isinstance(params, dict) else params
    out: list[tuple[str, Any]] = []
    for key, value in items:
        if isinstance(value, list | tuple):
            out += [(key, v) for v in value]
        else:
            out.append((key, value))
    return out


class MaasHttp:
    """Raw HTTP against the simulator, paths relative to /MAAS/api/2.0/."""

    def __init__(self, session: aiohttp.ClientSession, sim: MaasSim, key: str = API_KEY) -> None:
        self.session = session
        self.sim = sim
        self.key = key

    def url(self, path: str) -> str:
        if path.startswith("/"):
            return self.sim.url + path
        return self.sim.api_url + path

    async def request(
        self,
        method: str,
        path: str,
        params: Params = None,
        *,
        op: str | None = None,
        body: Params = None,
        form: str = "urlencoded",
        signed: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        query = _pairs(params)
        if op is not None:
            query.insert(0, ("op", op))
        url = self.url(path) + ("?" + urlencode(query) if query else "")
        hdrs = dict(headers or {})
        if signed:
            hdrs.setdefault("Authorization", plaintext_header(self.key))
        data: bytes | None = None
        if body is not None or method in ("POST", "PUT"):
            pairs = _pairs(body)
            if form == "multipart":
                data, ctype = multipart(pairs)
            else:
                data, ctype = urlencode(pairs).encode(), "application/x-www-form-urlencoded"
            hdrs["Content-Type"] = ctype
        async with self.session.request(method, url, data=data, headers=hdrs, allow_redirects=False) as resp:
            return Reply(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, params: Params = None, **kw: Any) -> Reply:
        return await self.request("GET", path, params, **kw)

    async def post(self, path: str, body: Params = None, **kw: Any) -> Reply:
        return await self.request("POST", path, body=body, **kw)

    async def put(self, path: str, body: Params = None, **kw: Any) -> Reply:
        return await self.request("PUT", path, body=body, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.request("DELETE", path, **kw)

    # -- shortcuts -------------------------------------------------------------------------
    async def ok(self, method: str, path: str, **kw: Any) -> Any:
        reply = await self.request(method, path, **kw)
        assert reply.status == 200, (reply.status, reply.text)
        return reply.json()

    async def create_raid(self, system_id: str, **fields: Any) -> Reply:
        return await self.post(f"nodes/{system_id}/raids/", fields)

    async def device(self, system_id: str, name: str) -> Any:
        return await self.ok("GET", f"nodes/{system_id}/blockdevices/{name}/")


USER_KEY = "ck2:tk2:ts2"  # a non-administrator's key where a test's seed adds it


async def wait_status(api: MaasHttp, system_id: str, status_name: str, within: float = 10.0) -> Any:
    """Poll the machine until it reaches `status_name`; answer the machine JSON."""
    deadline = time.monotonic() + within
    while True:
        machine = await api.ok("GET", f"machines/{system_id}/")
        if machine["status_name"] == status_name or time.monotonic() > deadline:
            assert machine["status_name"] == status_name, machine["status_name"]
            return machine
        await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
