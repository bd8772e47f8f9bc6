"""The key-value store, the /_sim/ endpoints, the command line and TLS."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from linstor_helpers import MASK_CTRL_CONF, MASK_MOD, Api, code, errors, node, warnings

from stratum.sim.linstor import LinstorSim, SeedError, load_seed


def test_kv_store_lifecycle(api: Api) -> None:
    assert api.get("/v1/key-value-store").body == []
    missing = api.get("/v1/key-value-store/kv1")
    assert (missing.status, code(missing.entries[0])) == (404, 316)
    assert missing.entries[0]["message"] == "Could not find key value store instance 'kv1'."
    put = api.put("/v1/key-value-store/kv1", {"override_props": {"/ns/key": "v", "any thing": "goes"}})
    assert put.status == 200
    assert put.entries[0]["ret_code"] == MASK_MOD | MASK_CTRL_CONF | 3 == 34603011
    assert put.entries[0]["message"] == "Successfully updated properties"
    one = api.get("/v1/key-value-store/KV1").body
    assert one == [{"name": "kv1", "props": {"ns/key": "v", "any thing": "goes"}}]  # a list, keys normalised
    api.ok(api.put("/v1/key-value-store/kv1", {"delete_namespaces": ["ns"]}))
    assert api.get("/v1/key-value-store").body == [{"name": "kv1", "props": {"any thing": "goes"}}]
    api.ok(api.put("/v1/key-value-store/kv1", {"delete_props": ["any thing"]}))
    assert api.get("/v1/key-value-store/kv1").status == 404  # empty instances disappear
    api.ok(api.put("/v1/key-value-store/kv2", {"override_props": {"a": "1"}}))
    assert api.delete("/v1/key-value-store/kv2").status == 200
    gone = api.delete("/v1/key-value-store/kv2")
    assert gone.status == 200 and warnings(gone.entries) == [3000]
    assert gone.entries[0]["message"] == "Deletion of kvs 'kv2' had no effect."


def test_fault_injection_and_stats(api: Api) -> None:
    api.get("/v1/nodes")
    api.get("/v1/nodes")
    stats = api.get("/_sim/stats").body
    assert stats["byPath"]["GET /v1/nodes"] == 2
    faults = api.post("/_sim/faults", {"errorRate": 1.0})
    assert faults.status == 200 and faults.body["errorRate"] == 1.0
    failing = api.get("/v1/resource-groups")
    assert failing.status == 500 and errors(failing.entries) == [998]
    assert failing.entries[0]["error_report_ids"]
    api.post("/_sim/faults", {"errorRate": 0, "down": True})
    with pytest.raises(httpx.HTTPError):
        api.get("/v1/nodes")
    assert api.get("/_sim/stats").status == 200  # /_sim/ keeps answering
    api.post("/_sim/faults", {"down": False})
    assert api.get("/v1/nodes").status == 200
    assert api.post("/_sim/faults", {"errorRate": 2}).status == 400


def test_sim_in_use_endpoint(api: Api) -> None:
    api.rd("r1", 1024)
    api.ok(
        api.post(
            "/v1/resource-definitions/r1/resources",
            [{"resource": {"node_name": "n1", "props": {"StorPoolName": "thin"}}}],
        )
    )
    assert api.post("/_sim/in-use", {"resource": "r1", "node": "n1", "inUse": True}).status == 200
    assert api.get("/v1/resource-definitions/r1/resources/n1").body["state"] == {"in_use": True}
    assert api.post("/_sim/in-use", {"resource": "r1", "node": "n9"}).status == 400


def test_seed_validation(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump({"version": "1.32.0", "nodes": [node("n1")]}))
    state = load_seed(path)
    assert state.version == (1, 32, 0) and state.node("N1") is not None
    assert set(state.node("n1").pools) == {"THIN", "DFLTDISKLESSSTORPOOL"}
    with pytest.raises(SeedError):
        load_seed({"nodes": [{"name": "n1", "storagePools": [{"name": "x", "provider": "LVM"}]}]})
    with pytest.raises(SeedError):
        load_seed({"nodes": [{"name": "n1", "storagePools": [{"name": "pool", "provider": "FLOPPY"}]}]})
    assert load_seed(None).nodes == {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, **kwargs: object) -> httpx.Response:
    last: Exception | None = None
    for _ in range(200):
        try:
            return httpx.get(url, timeout=2, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            last = exc
            time.sleep(0.05)
    raise AssertionError(f"simulator did not come up: {last}")


def test_command_line(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(yaml.safe_dump({"version": "1.33.2", "nodes": [node("n1")]}))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stratum.sim.linstor",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            str(seed),
        ],
        stderr=subprocess.PIPE,
    )
    try:
        reply = _wait_up(f"http://127.0.0.1:{port}/v1/controller/version")
        assert reply.json()["version"] == "1.33.2"
        nodes = httpx.get(f"http://127.0.0.1:{port}/v1/nodes").json()
        assert [n["name"] for n in nodes] == ["n1"]
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run(
        [sys.executable, "-m", "stratum.sim.linstor", "--seed", str(tmp_path / "missing.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "linstor-sim:" in bad.stderr


def _self_signed(tmp_path: Path, name: str) -> tuple[str, str]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_https_with_client_certificates(tmp_path: Path) -> None:
    server_cert, server_key = _self_signed(tmp_path, "server")
    client_cert, client_key = _self_signed(tmp_path, "client")
    with LinstorSim(
        seed={"nodes": []}, tls_cert=server_cert, tls_key=server_key, tls_client_ca=client_cert
    ) as sim:
        assert sim.url.startswith("https://") and sim.controller_uri.startswith("linstor+ssl://")
        ctx = ssl.create_default_context(cafile=server_cert)
        ctx.load_cert_chain(client_cert, client_key)
        ok = httpx.get(sim.url + "/v1/controller/version", verify=ctx)
        assert ok.status_code == 200
        anonymous = ssl.create_default_context(cafile=server_cert)
        with pytest.raises(httpx.HTTPError):
            httpx.get(sim.url + "/v1/controller/version", verify=anonymous)
