"""Certificates rotate under a running operator, as cert-manager and the kubelet rotate them: the
LINSTOR client certificate is renewed by the same CA (and the old one expires), then the CA
itself is replaced (the controller restarts with a server certificate of the new CA and trusts
only client certificates of the new CA). The operator keeps reconciling without a restart."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from pathlib import Path

import httpx

from stratum.sim.linstor import LinstorSim
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess
from support.pki import Authority, Issued, SecretVolume
from support.planes import own_plane

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seeds" / "linstor.yaml"
SHORT_LIFETIME = dt.timedelta(seconds=40)


plane = own_plane("rotation-plane")


def group(name: str) -> dict[str, object]:
    return {
        "apiVersion": "linstor.stratum.dev/v1alpha1",
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": 1}},
    }


def controller(
    ca: Authority, server: Issued, port: int = 0, previous: LinstorSim | None = None
) -> LinstorSim:
    """A TLS controller that requires client certificates of `ca`; it keeps the database of
    the `previous` one (a restarted controller keeps its objects)."""
    sim = LinstorSim(
        seed=SEED,
        port=port,
        tls_cert=str(server.cert),
        tls_key=str(server.key),
        tls_client_ca=str(ca.cert),
    )
    if previous is not None:
        sim.state = previous.state
    return sim.start()


def client_files(ca: Authority, client: Issued) -> dict[str, bytes]:
    return {
        "ca.crt": ca.cert.read_bytes(),
        "tls.crt": client.cert.read_bytes(),
        "tls.key": client.key.read_bytes(),
    }


def refused(sim: LinstorSim, ca: Path, client: Issued) -> bool:
    """Whether the controller refuses a connection made with this CA and client certificate."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(client.cert), str(client.key))
    try:
        httpx.get(f"{sim.url}/v1/controller/version", verify=context, timeout=5)
    except httpx.TransportError:
        return True
    return False


def reconciled(kube: Kube, name: str) -> None:
    kube.apply(group(name))
    kube.wait("lrg", name, timeout="90s")


def test_client_certificate_and_ca_rotate_without_a_restart(plane: ControlPlane, tmp_path: Path) -> None:
    kube = plane.kube
    first = Authority(tmp_path / "ca-1", "stratum-test-ca-1")
    server = first.issue("linstor", server=True)
    expiring = first.issue("stratum", lifetime=SHORT_LIFETIME)
    expires_at = time.monotonic() + SHORT_LIFETIME.total_seconds()
    volume = SecretVolume(tmp_path / "linstor-tls")
    volume.write(client_files(first, expiring))
    sim = controller(first, server)
    env = {
        "LS_CONTROLLERS": sim.controller_uri,
        "LS_ROOT_CA": volume.path("ca.crt"),
        "LS_USER_CERTIFICATE": volume.path("tls.crt"),
        "LS_USER_KEY": volume.path("tls.key"),
    }
    operator = OperatorProcess(kube.kubeconfig, tmp_path, env, args=("--drift-interval", "5")).start()
    try:
        reconciled(kube, "before-rotation")

        # 1. cert-manager renews the client certificate (same CA); the old one then expires.
        renewed = first.issue("stratum")
        volume.write(client_files(first, renewed))
        time.sleep(max(0.0, expires_at - time.monotonic()) + 1)
        # A restart drops every connection opened with the old certificate.
        sim.stop()
        sim = controller(first, server, port=sim.port, previous=sim)
        assert refused(sim, first.cert, expiring), "the expired certificate is still accepted"
        reconciled(kube, "after-renewal")

        # 2. A new CA: the controller's certificate and the trusted client CA both change.
        second = Authority(tmp_path / "ca-2", "stratum-test-ca-2")
        server = second.issue("linstor", server=True)
        sim.stop()
        sim = controller(second, server, port=sim.port, previous=sim)
        volume.write(client_files(second, second.issue("stratum")))
        assert refused(sim, first.cert, renewed), "the old CA's client certificate is still accepted"
        reconciled(kube, "after-ca-rotation")
        # Objects created before keep being reconciled (the drift loop reaches the backend).
        for name in ("before-rotation", "after-renewal"):
            assert (kube.condition("lrg", name) or {}).get("status") == "True"

        assert operator.proc is not None and operator.proc.poll() is None and operator.starts == 1
        assert operator.tail(200000).count("new connections use them") >= 2
    finally:
        operator.stop()
        sim.stop()
