"""The service-account token rotates under a running operator, as the kubelet rotates a
projected token: the file is replaced with a new token and the old one stops being valid.
kopf's client (watches, status patches) and the Lease client both go on with the new token,
without a restart. The operator runs as in a pod: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT,
and a token bound to a Secret (deleting the Secret revokes the token at once)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from stratum.sim.linstor import LinstorSim
from support.kube import ControlPlane, Kube
from support.operator import OperatorProcess
from support.planes import own_plane

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "stratum-token"


plane = own_plane("token-plane")


def group(name: str) -> dict[str, object]:
    return {
        "apiVersion": "linstor.stratum.dev/v1alpha1",
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": 1}},
    }


def bound_token(kube: Kube, secret: str) -> str:
    """A token of the operator's service account, valid while `secret` exists."""
    kube.run("create", "secret", "generic", secret, "-n", NAMESPACE)
    return kube.run(
        "create", "token", "stratum", "-n", NAMESPACE, "--duration", "1h",
        "--bound-object-kind", "Secret", "--bound-object-name", secret,
    ).stdout.strip()  # fmt: skip


def accepted(kube: Kube, token: str) -> bool:
    proc = kube.run("auth", "whoami", f"--token={token}", "-o", "name", check=False)
    return proc.returncode == 0


def replace(path: Path, content: str) -> None:
    staged = path.with_name(f".{path.name}.new")
    staged.write_text(content)
    os.replace(staged, path)


def lease_spec(kube: Kube) -> dict[str, str]:
    proc = kube.run("get", "lease", "-n", NAMESPACE, "stratum-operator", "-o", "yaml")
    spec: dict[str, str] = yaml.safe_load(proc.stdout)["spec"]
    return spec


def test_a_rotated_service_account_token_is_used_without_a_restart(
    plane: ControlPlane, tmp_path: Path
) -> None:
    kube = plane.kube
    kube.run("create", "namespace", NAMESPACE)
    kube.run("create", "serviceaccount", "stratum", "-n", NAMESPACE)
    kube.run(
        "create", "clusterrolebinding", "stratum-token-test", "--clusterrole=cluster-admin",
        f"--serviceaccount={NAMESPACE}:stratum",
    )  # fmt: skip
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "ca.crt").write_bytes((plane.dir / "certs" / "ca.crt").read_bytes())
    (account / "namespace").write_text(NAMESPACE)
    first = bound_token(kube, "token-1")
    replace(account / "token", first)

    server = urlsplit(yaml.safe_load(kube.kubeconfig.read_text())["clusters"][0]["cluster"]["server"])
    env = {
        "KUBERNETES_SERVICE_HOST": server.hostname or "",
        "KUBERNETES_SERVICE_PORT": str(server.port),
        "HOME": str(tmp_path),  # no ~/.kube/config either
    }
    with LinstorSim(seed=ROOT / "examples" / "seeds" / "linstor.yaml") as sim:
        env["LS_CONTROLLERS"] = sim.controller_uri
        operator = OperatorProcess(
            tmp_path / "no-kubeconfig",  # KUBECONFIG names a file that does not exist: in-cluster
            tmp_path,
            env,
            args=(
                "--drift-interval", "5", "--lease-namespace", NAMESPACE, "--identity", "op",
                "--service-account-dir", str(account),
            ),
        ).start()  # fmt: skip
        try:
            kube.apply(group("token-before"))
            kube.wait("lrg", "token-before", timeout="60s")
            assert lease_spec(kube)["holderIdentity"] == "op"

            # The kubelet writes a new token; the old one is then revoked.
            second = bound_token(kube, "token-2")
            replace(account / "token", second)
            kube.run("delete", "secret", "token-1", "-n", NAMESPACE)
            deadline = time.monotonic() + 30
            while accepted(kube, first) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not accepted(kube, first) and accepted(kube, second)

            kube.apply(group("token-after"))
            kube.wait("lrg", "token-after", timeout="60s")
            renewed = lease_spec(kube)["renewTime"]
            time.sleep(5)  # the leader renews every 2 s, now with the new token
            lease = lease_spec(kube)
            assert lease["holderIdentity"] == "op" and lease["renewTime"] > renewed
            assert operator.proc is not None and operator.proc.poll() is None and operator.starts == 1
        finally:
            operator.stop()
