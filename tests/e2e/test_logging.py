"""`stratum run --log-format json --verbose` as a real process: every line of its output is one
JSON object with time, level, logger and message; the lines of a reconcile pass and kopf's
lines about an object carry its kind, name and uid; and no secret (the MAAS API key's token
secret, the LINSTOR client key) appears anywhere in the log, debug lines included."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.kube import ControlPlane
from support.operator import OperatorProcess
from support.pki import Authority
from support.planes import own_plane

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "examples" / "seeds"


plane = own_plane("logging-plane")


OBJECTS: list[dict[str, Any]] = [
    {
        "apiVersion": "linstor.stratum.dev/v1alpha1",
        "kind": "ResourceGroup",
        "metadata": {"name": "log-rg"},
        "spec": {"placement": {"placeCount": 1}},
    },
    {
        "apiVersion": "linstor.stratum.dev/v1alpha1",
        "kind": "Resource",
        "metadata": {"name": "log-waiting"},
        "spec": {"resourceGroup": "no-such-group", "volumes": [{"size": "1Gi"}]},
    },
    {
        "apiVersion": "maas.stratum.dev/v1alpha1",
        "kind": "MachineRaid",
        "metadata": {"name": "log-raid"},
        "spec": {"machine": {"systemId": "abc123"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
    },
]


def test_json_lines_carry_the_object_and_no_secret(plane: ControlPlane, tmp_path: Path) -> None:
    kube = plane.kube
    token_secret = secrets.token_hex(16)
    api_key = f"stratumlogs{secrets.token_hex(4)}:stratumlogs{secrets.token_hex(4)}:{token_secret}"
    ca = Authority(tmp_path / "ca")
    server, client = ca.issue("linstor", server=True), ca.issue("stratum")
    key_lines = [line for line in client.key.read_text().splitlines() if not line.startswith("-----")]
    with (
        LinstorSim(
            seed=SEEDS / "linstor.yaml",
            tls_cert=str(server.cert),
            tls_key=str(server.key),
            tls_client_ca=str(ca.cert),
        ) as linstor,
        MaasSim(seed=SEEDS / "maas.yaml", api_key=api_key) as maas,
    ):
        env = {
            "LS_CONTROLLERS": linstor.controller_uri,
            "LS_ROOT_CA": str(ca.cert),
            "LS_USER_CERTIFICATE": str(client.cert),
            "LS_USER_KEY": str(client.key),
            "MAAS_API_URL": maas.maas_url,
            "MAAS_API_KEY": api_key,
        }
        operator = OperatorProcess(
            kube.kubeconfig,
            tmp_path,
            env,
            args=("--drift-interval", "3", "--log-format", "json", "--verbose"),
        ).start()
        try:
            kube.apply(OBJECTS)
            kube.wait("lrg", "log-rg")
            kube.wait("mraid", "log-raid", timeout="90s")
            kube.wait_for_reason("lr", "log-waiting", "WaitingForResourceGroup")
            uids = {
                o["metadata"]["name"]: kube.get(o["kind"], o["metadata"]["name"])["metadata"]["uid"]
                for o in OBJECTS
            }
            for obj in OBJECTS:
                kube.delete(obj["kind"], obj["metadata"]["name"])
        finally:
            operator.stop()
    text = operator.log_path.read_text()

    lines = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert len(lines) > 50
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)

    for obj in OBJECTS:
        kind, name = obj["kind"], obj["metadata"]["name"]
        about = [line for line in lines if line.get("name") == name]
        assert all((line["kind"], line["uid"]) == (kind, uids[name]) for line in about), about[:3]
        # The runner's line of each pass, and kopf's lines about its handlers.
        passes = [line for line in about if line["message"].startswith(f"{kind} {name}: ")]
        assert passes and all(line["logger"] == "stratum" for line in passes)
        assert any(line["logger"].startswith("kopf") for line in about)
        # No line names the object without carrying it.
        unattributed = [line for line in lines if "name" not in line and f"{kind} {name}:" in line["message"]]
        assert unattributed == []

    assert token_secret not in text
    assert all(key_line not in text for key_line in key_lines)
