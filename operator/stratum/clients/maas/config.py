"""Where the MAAS region is and which key to use, from the environment the MAAS CLI uses:
MAAS_API_URL (the region URL, e.g. https://maas:5443/MAAS/), MAAS_API_KEY (consumer:token:secret,
an administrator's key) and MAAS_CA_CERT (PEM file of a private CA for an https:// region)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

NOT_CONFIGURED = "MAAS is not configured: set MAAS_API_URL and MAAS_API_KEY"


def check_ca_file(path: str) -> None:
    """Refuse a MAAS_CA_CERT that is not a readable PEM CA file when the config is read, with a
    message naming the setting. The client's transport (clients/tlsfiles.py) loads the file and
    loads it again when it is replaced."""
    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ValueError, ssl.SSLError) as exc:
        raise MaasConfigError(f"MAAS_CA_CERT {path}: not a readable PEM CA certificate ({exc})") from exc


class MaasConfigError(ValueError):
    """The environment does not say how to reach MAAS. The message never contains the key."""


@dataclass(frozen=True)
class ApiKey:
    """`consumer_key:token_key:token_secret`; the consumer secret is always empty."""

    consumer_key: str
    token_key: str
    token_secret: str = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        parts = text.strip().split(":")
        if len(parts) != 3 or not all(parts):
            raise MaasConfigError(
                "MAAS_API_KEY must have the form consumer_key:token_key:token_secret "
                "(as `maas apikey` prints it)"
            )
        return cls(*parts)


def api_root(url: str) -> str:
    """The API 2.0 root for a region URL given as the MAAS CLI takes it, with or without the
    trailing slash (a URL that already ends in api/2.0 is accepted too)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MaasConfigError(
            f"MAAS_API_URL must be an http(s) URL such as http://maas:5240/MAAS/, not {url.strip()!r}"
        )
    path = parts.path.rstrip("/")
    if path.endswith("/api/2.0"):
        path = path[: -len("/api/2.0")]
    return f"{parts.scheme}://{parts.netloc}{path}/api/2.0/"


@dataclass(frozen=True)
class MaasConfig:
    url: str
    api_key: ApiKey
    timeout: float = 30.0
    connect_timeout: float = 5.0
    max_connections: int = 10
    ca_cert: str | None = None
    """PEM file of a private CA for an https:// region (MAAS_CA_CERT)."""
    multipart: bool = False
    """Send bodies as multipart/form-data (as the MAAS CLI does) instead of urlencoded forms."""

    @property
    def api_root(self) -> str:
        return api_root(self.url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MaasConfig:
        env = os.environ if env is None else env
        url = env.get("MAAS_API_URL", "").strip()
        key = env.get("MAAS_API_KEY", "").strip()
        if not url or not key:
            raise MaasConfigError(NOT_CONFIGURED)
        ca_cert = env.get("MAAS_CA_CERT", "").strip() or None
        config = cls(url=url, api_key=ApiKey.parse(key), ca_cert=ca_cert)
        api_root(url)  # validate now, not on the first request
        if ca_cert:
            check_ca_file(ca_cert)
        return config
