"""A small S3 client (AWS Signature Version 4) for the simulator's backup shipping.

The controller and satellites of a real LINSTOR talk to the bucket with the AWS SDK; the
simulator needs only what they use: list (ListObjectsV2), put, get and delete of whole objects.
Path-style (`http://host/bucket/key`) or virtual-hosted (`http://bucket.host/key`) addressing,
as the remote's `use_path_style` says.  An endpoint without a scheme means HTTPS, as in the SDK.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import aiohttp
from yarl import URL

_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_TIMEOUT = aiohttp.ClientTimeout(total=30)


class S3Error(Exception):
    """The S3 server refused a request (status and S3 error code) or could not be reached."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class S3Target:
    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str
    path_style: bool


def _uri_encode(text: str, keep_slash: bool) -> str:
    return quote(text, safe="/-_.~" if keep_slash else "-_.~")


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign_v4(
    method: str,
    host: str,
    *,
    path: str,
    query: dict[str, str],
    payload_hash: str,
    target: S3Target,
    now: _dt.datetime,
) -> dict[str, str]:
    """The headers of a SigV4-signed request (the path must already be URI-encoded)."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            path,
            "&".join(f"{_uri_encode(k, False)}={_uri_encode(v, False)}" for k, v in sorted(query.items())),
            "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
            signed,
            payload_hash,
        ]
    )
    scope = f"{day}/{target.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + target.secret_key).encode(), day)
    for part in (target.region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={target.access_key}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return headers


class S3Client:
    def __init__(self, target: S3Target) -> None:
        self.target = target
        raw = target.endpoint if "://" in target.endpoint else "https://" + target.endpoint
        parts = urlsplit(raw)
        self._scheme = parts.scheme
        self._host = parts.netloc if target.path_style else f"{target.bucket}.{parts.netloc}"
        self._prefix = f"/{target.bucket}" if target.path_style else ""

    async def _request(
        self, method: str, key: str | None, query: dict[str, str] | None = None, body: bytes = b""
    ) -> bytes:
        path = self._prefix + ("/" + _uri_encode(key, True) if key is not None else "/")
        query = query or {}
        headers = sign_v4(
            method,
            self._host,
            path=path,
            query=query,
            payload_hash=hashlib.sha256(body).hexdigest(),
            target=self.target,
            now=_dt.datetime.now(_dt.UTC),
        )
        del headers["host"]  # aiohttp sends the URL's host itself
        qs = "&".join(f"{_uri_encode(k, False)}={_uri_encode(v, False)}" for k, v in sorted(query.items()))
        url = URL(f"{self._scheme}://{self._host}{path}" + (f"?{qs}" if qs else ""), encoded=True)
        try:
            async with (
                aiohttp.ClientSession(timeout=_TIMEOUT) as session,
                session.request(method, url, data=body or None, headers=headers) as resp,
            ):
                data = await resp.read()
                if resp.status >= 300:
                    raise _error(resp.status, data)
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise S3Error(0, "ConnectionError", str(exc) or type(exc).__name__) from exc

    async def list_objects(self, prefix: str = "") -> dict[str, int]:
        """Key -> size of every object under `prefix` (ListObjectsV2, following continuation tokens)."""
        objects: dict[str, int] = {}
        token: str | None = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            root = ET.fromstring(await self._request("GET", None, query))
            for item in root.iter(f"{_S3_NS}Contents"):
                objects[item.findtext(f"{_S3_NS}Key") or ""] = int(item.findtext(f"{_S3_NS}Size") or 0)
            if root.findtext(f"{_S3_NS}IsTruncated") != "true":
                return objects
            token = root.findtext(f"{_S3_NS}NextContinuationToken")

    async def list_keys(self, prefix: str = "") -> list[str]:
        return list(await self.list_objects(prefix))

    async def put(self, key: str, body: bytes) -> None:
        await self._request("PUT", key, body=body)

    async def get(self, key: str) -> bytes:
        return await self._request("GET", key)

    async def delete(self, key: str) -> None:
        await self._request("DELETE", key)


def _error(status: int, data: bytes) -> S3Error:
    try:
        root = ET.fromstring(data)
        return S3Error(status, root.findtext("Code") or "Error", root.findtext("Message") or "")
    except ET.ParseError:
        return S3Error(status, "Error", data[:200].decode(errors="replace"))
