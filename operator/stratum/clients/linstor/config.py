"""Where the LINSTOR controllers are and how to talk to them, from the environment the LINSTOR
client tools use: LS_CONTROLLERS, LS_ROOT_CA, LS_USER_CERTIFICATE, LS_USER_KEY."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from stratum.clients.tlsfiles import TlsFiles

DEFAULT_PORTS = {"http": 3370, "https": 3371}
SCHEMES = {"linstor": "http", "linstor+ssl": "https", "http": "http", "https": "https"}


def parse_controllers(value: str) -> tuple[str, ...]:
    """`linstor://host[:port]` or `linstor+ssl://...` (http/https accepted), comma separated,
    in failover order; a bare host means linstor://host."""
    urls = []
    for raw in value.split(","):
        item = raw.strip()
        if not item:
            continue
        if "://" not in item:
            item = f"linstor://{item}"
        parts = urlsplit(item)
        scheme = SCHEMES.get(parts.scheme)
        if scheme is None or not parts.hostname:
            raise ValueError(
                f"LS_CONTROLLERS: cannot use {raw.strip()!r}; expected linstor://host[:port] "
                "or linstor+ssl://host[:port]"
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        urls.append(f"{scheme}://{host}:{parts.port or DEFAULT_PORTS[scheme]}")
    if not urls:
        raise ValueError("LS_CONTROLLERS names no controller")
    return tuple(urls)


@dataclass(frozen=True)
class LinstorConfig:
    controllers: tuple[str, ...] = ("http://localhost:3370",)
    root_ca: str | None = None
    user_certificate: str | None = None
    user_key: str | None = None
    timeout: float = 30.0
    connect_timeout: float = 5.0
    max_connections: int = 20
    extra_headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LinstorConfig:
        env = os.environ if env is None else env
        return cls(
            controllers=parse_controllers(env.get("LS_CONTROLLERS", "linstor://localhost")),
            root_ca=env.get("LS_ROOT_CA") or None,
            user_certificate=env.get("LS_USER_CERTIFICATE") or None,
            user_key=env.get("LS_USER_KEY") or None,
        )

    def tls_files(self) -> TlsFiles:
        """The SSL context, rebuilt when the CA or client certificate files are replaced."""
        paths = [p for p in (self.root_ca, self.user_certificate, self.user_key) if p]
        return TlsFiles(paths, self.ssl_context)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """TLS settings for https controllers: the given CA (else the system store) and an
        optional client certificate."""
        if not any(url.startswith("https://") for url in self.controllers):
            return True
        ctx = ssl.create_default_context(cafile=self.root_ca)
        if self.user_certificate:
            ctx.load_cert_chain(self.user_certificate, self.user_key)
        return ctx
