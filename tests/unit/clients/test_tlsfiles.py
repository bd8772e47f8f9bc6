"""The TLS file watcher: a context is rebuilt when the files' content changes (a Secret volume's
symlink swap, a file replaced in place), not when they are only touched, not while a replaced
pair cannot be loaded yet, and no more often than the check interval; the rotating transport
sends new requests over the new context and closes the old pool after its grace period."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from stratum.clients.linstor import LinstorConfig
from stratum.clients.tlsfiles import RotatingTransport, TlsFiles, Verify, ca_files
from support.pki import Authority, SecretVolume


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Builds:
    """A build function that reads the files (as ssl would) and can be made to fail."""

    def __init__(self, *paths: Path) -> None:
        self.paths = paths
        self.seen: list[tuple[bytes, ...]] = []
        self.fail = False

    def __call__(self) -> Verify:
        if self.fail:
            raise ssl.SSLError("key values mismatch")
        self.seen.append(tuple(p.read_bytes() for p in self.paths))
        return ssl.create_default_context()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_changed_file_rebuilds_the_context_after_the_check_interval(tmp_path: Path, clock: Clock) -> None:
    cert = tmp_path / "tls.crt"
    cert.write_bytes(b"one")
    builds = Builds(cert)
    files = TlsFiles([str(cert)], builds, check_every=5, clock=clock)
    first = files.context()
    cert.write_bytes(b"two")
    assert files.context() is first, "looked again before the check interval"
    clock.now += 5
    second = files.context()
    assert second is not first and files.generation == 1
    assert builds.seen == [(b"one",), (b"two",)]
    clock.now += 5
    assert files.context() is second


def test_a_touch_or_identical_copy_does_not_rebuild(tmp_path: Path, clock: Clock) -> None:
    cert = tmp_path / "tls.crt"
    cert.write_bytes(b"same")
    builds = Builds(cert)
    files = TlsFiles([str(cert)], builds, check_every=0, clock=clock)
    replacement = tmp_path / "new.crt"
    replacement.write_bytes(b"same")
    replacement.replace(cert)  # new inode, same content
    files.context()
    assert files.generation == 0 and len(builds.seen) == 1


def test_a_secret_volume_symlink_swap_is_seen(tmp_path: Path, clock: Clock) -> None:
    volume = SecretVolume(tmp_path / "secret")
    volume.write({"tls.crt": b"cert-1", "tls.key": b"key-1"})
    paths = [Path(volume.path("tls.crt")), Path(volume.path("tls.key"))]
    builds = Builds(*paths)
    files = TlsFiles([str(p) for p in paths], builds, check_every=0, clock=clock)
    volume.write({"tls.crt": b"cert-2", "tls.key": b"key-2"})
    files.context()
    assert files.generation == 1
    assert builds.seen == [(b"cert-1", b"key-1"), (b"cert-2", b"key-2")]


def test_a_pair_that_cannot_be_loaded_yet_keeps_the_old_context_until_it_can(
    tmp_path: Path, clock: Clock
) -> None:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_bytes(b"cert-1")
    key.write_bytes(b"key-1")
    builds = Builds(cert, key)
    files = TlsFiles([str(cert), str(key)], builds, check_every=0, clock=clock)
    old = files.context()
    cert.write_bytes(b"cert-2")  # the key follows a moment later
    builds.fail = True
    assert files.context() is old and files.generation == 0
    key.write_bytes(b"key-2")
    builds.fail = False
    assert files.context() is not old and files.generation == 1
    assert builds.seen[-1] == (b"cert-2", b"key-2")


def test_a_missing_file_is_a_change_that_waits_for_the_file(tmp_path: Path, clock: Clock) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"ca-1")
    builds = Builds(ca)
    files = TlsFiles([str(ca)], builds, check_every=0, clock=clock)
    ca.unlink()
    builds.fail = True
    files.context()
    assert files.generation == 0
    ca.write_bytes(b"ca-2")
    builds.fail = False
    files.context()
    assert files.generation == 1


def test_no_files_means_the_system_trust_store_forever(clock: Clock) -> None:
    files = ca_files(None)
    assert files.context() is True and files.paths == ()


def test_linstor_config_watches_its_ca_and_client_pair(tmp_path: Path) -> None:
    authority = Authority(tmp_path / "ca")
    client = authority.issue("client")
    config = LinstorConfig(
        controllers=("https://127.0.0.1:3371",),
        root_ca=str(authority.cert),
        user_certificate=str(client.cert),
        user_key=str(client.key),
    )
    files = config.tls_files()
    assert files.paths == (str(authority.cert), str(client.cert), str(client.key))
    assert isinstance(files.context(), ssl.SSLContext)


class Recording(RotatingTransport):
    """Each pool is a MockTransport that answers with the number of the pool that served it."""

    def __init__(self, tls: TlsFiles, clock: Clock) -> None:
        self.pools: list[httpx.MockTransport] = []
        self.closed: list[int] = []
        super().__init__(tls, limits=httpx.Limits(), grace=30, clock=clock)

    def _open(self, verify: Verify) -> httpx.AsyncBaseTransport:
        number = len(self.pools)
        owner = self

        class Pool(httpx.MockTransport):
            async def aclose(self) -> None:
                owner.closed.append(number)

        pool = Pool(lambda request: httpx.Response(200, text=str(number)))
        self.pools.append(pool)
        return pool


async def test_new_requests_use_the_new_context_and_the_old_pool_closes_after_the_grace(
    tmp_path: Path, clock: Clock
) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"ca-1")
    transport = Recording(TlsFiles([str(ca)], Builds(ca), check_every=0, clock=clock), clock)
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("https://backend/")).text == "0"
        ca.write_bytes(b"ca-2")
        assert (await http.get("https://backend/")).text == "1"
        assert transport.closed == [], "closed the old pool while its requests may still run"
        clock.now += 31
        assert (await http.get("https://backend/")).text == "1"
        assert transport.closed == [0]
    assert transport.closed == [0, 1]
