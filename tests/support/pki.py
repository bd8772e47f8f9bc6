"""Throw-away certificate authorities for TLS tests (the openssl command line), and a directory
that is updated as the kubelet updates a mounted Secret: files are symlinks through `..data`,
which is swapped atomically to a new timestamped directory."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_counter = itertools.count()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


CA_CONFIG = """\
[ ca ]
default_ca = local
[ local ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any_name
unique_subject = no
[ any_name ]
commonName = supplied
"""


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


class Authority:
    """A self-signed CA in `directory` that issues server and client certificates."""

    def __init__(self, directory: Path, name: str = "test-ca") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.crt", "-subj", f"/CN={name}",
            cwd=directory,
        )  # fmt: skip
        (directory / "index.txt").write_text("")
        (directory / "serial").write_text("1000\n")
        (directory / "ca.cnf").write_text(CA_CONFIG)
        self.cert = directory / "ca.crt"

    def issue(
        self, name: str, *, server: bool = False, lifetime: dt.timedelta = dt.timedelta(days=1)
    ) -> Issued:
        """A certificate for `name` (a server certificate for 127.0.0.1, else a client one)
        valid from an hour ago for `lifetime` from now: short lifetimes make expiry testable."""
        stem = f"{name}-{next(_counter)}"
        d = self.directory
        extensions = (
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            if server
            else "extendedKeyUsage=clientAuth\n"
        )
        (d / f"{stem}.ext").write_text(extensions)
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{stem}.key", "-out", f"{stem}.csr",
            "-subj", f"/CN={name}",
            cwd=d,
        )  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        _openssl(
            "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-notext",
            "-in", f"{stem}.csr", "-out", f"{stem}.crt", "-extfile", f"{stem}.ext",
            "-startdate", (now - dt.timedelta(hours=1)).strftime("%Y%m%d%H%M%SZ"),
            "-enddate", (now + lifetime).strftime("%Y%m%d%H%M%SZ"),
            cwd=d,
        )  # fmt: skip
        return Issued(d / f"{stem}.crt", d / f"{stem}.key")


class SecretVolume:
    """A directory laid out as the kubelet mounts a Secret; `write` replaces all keys at once."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory

    def path(self, key: str) -> str:
        return str(self.directory / key)

    def write(self, files: dict[str, bytes]) -> None:
        version = self.directory / f"..{dt.datetime.now(dt.UTC):%Y_%m_%d_%H_%M_%S.%f}"
        version.mkdir()
        for key, content in files.items():
            (version / key).write_bytes(content)
            link = self.directory / key
            if not link.is_symlink():
                link.symlink_to(Path("..data") / key)
        staged = self.directory / "..data_tmp"
        staged.symlink_to(version.name)
        os.replace(staged, self.directory / "..data")
