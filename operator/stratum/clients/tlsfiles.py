"""PEM files that are replaced while the operator runs (a cert-manager renewal, a Secret volume
the kubelet updates by swapping a symlink, a rotated CA): the SSL context is rebuilt from them
when their content changes, and new connections use it, without a restart.

Both backend clients use it: LINSTOR (LS_ROOT_CA, LS_USER_CERTIFICATE, LS_USER_KEY) and MAAS
(MAAS_CA_CERT)."""

from __future__ import annotations

import hashlib
import logging
import os
import ssl
import time
from collections.abc import Callable, Sequence

import httpx

from stratum.clients.pools import SplitPoolTransport

log = logging.getLogger("stratum.tls")

Verify = ssl.SSLContext | bool
Stamp = tuple[int, int, int, int]
"""What stat says of a file: device, inode, mtime (ns), size. A changed stamp makes us read the
content; only a changed content rebuilds (a touch or a re-projected identical Secret does not)."""


def _stamp(path: str) -> Stamp | None:
    try:
        st = os.stat(path)  # follows the ..data symlink of a Secret volume
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class TlsFiles:
    """An SSL context built by `build` from `paths`, rebuilt when their content changes.

    The files are looked at no more than once per `check_every` seconds. When a rebuild fails
    (e.g. the certificate was replaced and its key not yet), the previous context stays in use
    and the next check tries again."""

    def __init__(
        self,
        paths: Sequence[str],
        build: Callable[[], Verify],
        *,
        check_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.paths = tuple(paths)
        self._build = build
        self._check_every = check_every
        self._clock = clock
        self._stamps = self._read_stamps()
        self._digest = self._read_digest()
        self._context = build()
        self._checked = clock()
        self.generation = 0
        """How many times the context was rebuilt since start."""

    def context(self) -> Verify:
        """The context to use for a new connection: rebuilt first when the files changed."""
        now = self._clock()
        if not self.paths or now - self._checked < self._check_every:
            return self._context
        self._checked = now
        stamps = self._read_stamps()
        if stamps == self._stamps:
            return self._context
        digest = self._read_digest()
        if digest == self._digest:
            self._stamps = stamps
            return self._context
        try:
            context = self._build()
        except (OSError, ssl.SSLError, ValueError) as exc:
            log.warning(
                "TLS files %s changed but cannot be used yet (%s); keeping the previous ones",
                ", ".join(self.paths),
                exc,
            )
            return self._context
        self._stamps, self._digest, self._context = stamps, digest, context
        self.generation += 1
        log.info("TLS files %s changed: new connections use them", ", ".join(self.paths))
        return context

    def _read_stamps(self) -> tuple[Stamp | None, ...]:
        return tuple(_stamp(path) for path in self.paths)

    def _read_digest(self) -> bytes:
        digest = hashlib.sha256()
        for path in self.paths:
            try:
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
            except OSError:
                digest.update(b"missing")
        return digest.digest()


class RotatingTransport(httpx.AsyncBaseTransport):
    """An httpx transport over the newest SSL context of `tls`. When the context is rebuilt, a new
    connection pool is opened for the requests that follow; the old pool is closed once a grace
    period has passed, so requests still running on it (and their bodies) finish normally."""

    def __init__(
        self,
        tls: TlsFiles,
        *,
        limits: httpx.Limits,
        grace: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tls = tls
        self._limits = limits
        self._grace = grace
        self._clock = clock
        self._generation = tls.generation
        self._current = self._open(tls.context())
        self._retired: list[tuple[float, httpx.AsyncBaseTransport]] = []

    def _open(self, verify: Verify) -> httpx.AsyncBaseTransport:
        return SplitPoolTransport(verify=verify, limits=self._limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        verify = self._tls.context()
        now = self._clock()
        if self._tls.generation != self._generation:
            self._generation = self._tls.generation
            self._retired.append((now + self._grace, self._current))
            self._current = self._open(verify)
        await self._close_retired(lambda deadline: deadline <= now)
        return await self._current.handle_async_request(request)

    async def _close_retired(self, due: Callable[[float], bool]) -> None:
        keep = []
        for deadline, transport in self._retired:
            if due(deadline):
                await transport.aclose()
            else:
                keep.append((deadline, transport))
        self._retired = keep

    async def aclose(self) -> None:
        await self._close_retired(lambda _: True)
        await self._current.aclose()


def ca_files(cafile: str | None) -> TlsFiles:
    """Server verification against a private CA file (watched), else the system's trust store."""
    if not cafile:
        return TlsFiles((), lambda: True)
    return TlsFiles((cafile,), lambda: ssl.create_default_context(cafile=cafile))
