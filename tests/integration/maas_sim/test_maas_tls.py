"""`maas-sim --tls-cert F --tls-key F` serves HTTPS (flags named as linstor-sim's; `--cert`/`--key`
remain aliases), checked with a private CA the way a client given MAAS_CA_CERT would."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from maas_helpers import API_KEY, TB, free_port, plaintext_header


def private_ca_and_server_cert(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it."""
    ca_key, ca_cert = tmp_path / "ca.key", tmp_path / "ca.crt"
    key, csr, cert = tmp_path / "server.key", tmp_path / "server.csr", tmp_path / "server.crt"
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca",
         "-keyout", str(ca_key), "-out", str(ca_cert)],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=maas", "-keyout", str(key),
         "-out", str(csr)],
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
         "-CAcreateserial", "-days", "1", "-extfile", str(ext), "-out", str(cert)],
    ]  # fmt: skip
    for cmd in run:
        subprocess.run(cmd, check=True, capture_output=True)
    return ca_cert, cert, key


def get_machines(base: str, ctx: ssl.SSLContext) -> list[dict[str, object]]:
    request = urllib.request.Request(base + "/MAAS/api/2.0/machines/")
    request.add_header("Authorization", plaintext_header(API_KEY))
    with urllib.request.urlopen(request, timeout=5, context=ctx) as resp:
        return list(json.loads(resp.read()))


def serve(tmp_path: Path, flags: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        yaml.safe_dump(
            {
                "apiKeys": [API_KEY],
                "machines": [{"systemId": "m1", "blockDevices": [{"name": "sda", "size": TB}]}],
            }
        )
    )
    port = free_port()
    cmd = [sys.executable, "-m", "stratum.sim.maas", "--port", str(port), "--seed", str(seed), *flags]
    return subprocess.Popen(cmd, stderr=subprocess.PIPE), f"https://127.0.0.1:{port}"


@pytest.mark.parametrize("names", [("--tls-cert", "--tls-key"), ("--cert", "--key")])
def test_https_with_a_private_ca(tmp_path: Path, names: tuple[str, str]) -> None:
    ca, cert, key = private_ca_and_server_cert(tmp_path)
    proc, base = serve(tmp_path, [names[0], str(cert), names[1], str(key)])
    trusted = ssl.create_default_context(cafile=str(ca))
    try:
        for _ in range(200):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            try:
                machines = get_machines(base, trusted)
                break
            except (ConnectionError, urllib.error.URLError):
                time.sleep(0.05)
        else:
            raise AssertionError("maas-sim did not come up over https")
        assert [m["system_id"] for m in machines] == ["m1"]
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            get_machines(base, ssl.create_default_context())
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    _ca, cert, _key = private_ca_and_server_cert(tmp_path)
    proc, _base = serve(tmp_path, ["--tls-cert", str(cert)])
    assert proc.wait(10) == 2
    assert proc.stderr is not None and b"--tls-cert and --tls-key go together" in proc.stderr.read()
