"""Remote, Backup and `restoreFrom.backup` across two clusters sharing one real S3 bucket.

Cluster A (a control plane, a LINSTOR simulator, an operator) ships a Backup; its objects are
listed in the bucket with an independent S3 client; cluster B (its own control plane, simulator
and operator) imports the backup by id and restores it into a Resource with the same volume sizes
and the same data; a changed Secret reaches LINSTOR; deleting the Backup (Delete) empties the
bucket of its objects."""

from __future__ import annotations

import base64
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from stratum.sim.linstor import LinstorSim
from support.kube import Kube
from support.operator import STRATUM, OperatorProcess
from support.planes import running_plane
from support.s3 import S3Server, bucket_keys
from support.waiting import eventually

API = "linstor.stratum.dev/v1alpha1"
REMOTES = "remotes.linstor.stratum.dev"
BACKUPS = "backups.linstor.stratum.dev"
RESOURCES = "resources.linstor.stratum.dev"
NS = "stratum-system"
GIB_KIB = 1024 * 1024


def seed() -> dict[str, Any]:
    return {
        "version": "1.33.2",
        "masterPassphrase": "e2e-passphrase",  # LINSTOR keeps remote keys encrypted with it
        "nodes": [
            {
                "name": n,
                "storagePools": [{"name": "thin", "provider": "LVM_THIN", "capacityKib": 100 * GIB_KIB}],
            }
            for n in ("n1", "n2", "n3")
        ],
    }


@dataclass
class Cluster:
    kube: Kube
    sim: LinstorSim
    operator: OperatorProcess


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server.start(Path(tmp_path_factory.mktemp("s3")))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    name = f"dr-{uuid.uuid4().hex[:10]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def start_cluster(name: str, tmp: pytest.TempPathFactory, s3: S3Server, bucket: str) -> Iterator[Cluster]:
    with running_plane(Path(tmp.mktemp(f"{name}-plane"))) as plane, LinstorSim(seed=seed()) as sim:
        httpx.post(f"{sim.url}/_sim/backup", json={"shipSeconds": 0.5}, timeout=10).raise_for_status()
        proc = OperatorProcess(
            plane.kube.kubeconfig,
            Path(tmp.mktemp(f"{name}-operator")),
            {"LS_CONTROLLERS": sim.controller_uri},
            args=("--drift-interval", "3"),
        )
        proc.start()
        try:
            kube = plane.kube
            kube.run("create", "namespace", NS)
            kube.apply(
                [
                    secret(s3.access_key, s3.secret_key),
                    remote(s3, bucket),
                    {
                        "apiVersion": API,
                        "kind": "ResourceGroup",
                        "metadata": {"name": "dr-rg"},
                        "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
                    },
                ]
            )
            yield Cluster(kube, sim, proc)
        finally:
            proc.stop()


@pytest.fixture(scope="module")
def cluster_a(
    tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server, bucket: str
) -> Iterator[Cluster]:
    yield from start_cluster("a", tmp_path_factory, s3_server, bucket)


@pytest.fixture(scope="module")
def cluster_b(
    tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server, bucket: str
) -> Iterator[Cluster]:
    yield from start_cluster("b", tmp_path_factory, s3_server, bucket)


def secret(access_key: str, secret_key: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s3-keys", "namespace": NS},
        "data": {
            "accessKey": base64.b64encode(access_key.encode()).decode(),
            "secretKey": base64.b64encode(secret_key.encode()).decode(),
        },
    }


def remote(s3: S3Server, bucket: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Remote",
        "metadata": {"name": "offsite"},
        "spec": {
            "s3": {"endpoint": s3.endpoint, "bucket": bucket, "region": s3.region, "usePathStyle": True},
            "credentialsSecretRef": {"name": "s3-keys", "namespace": NS},
        },
    }


def resource(name: str, sizes: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Resource",
        "metadata": {"name": name},
        "spec": {"resourceGroup": "dr-rg", "volumes": [{"size": s} for s in sizes], **extra},
    }


def backup(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "Backup",
        "metadata": {"name": name},
        "spec": {"remote": "offsite", **spec},
    }


def backup_requests(sim: LinstorSim) -> dict[str, int]:
    """LINSTOR requests so far on the remote and backup endpoints (the simulator counts them)."""
    by_path = httpx.get(f"{sim.url}/_sim/stats", timeout=10).json()["byPath"]
    return {k: v for k, v in by_path.items() if "/remotes" in k}


def digests(sim: LinstorSim, rsc: str) -> dict[str, str]:
    answer = httpx.get(f"{sim.url}/_sim/volume-data", params={"resource": rsc}, timeout=10)
    answer.raise_for_status()
    return {nr: v["sha256"] for nr, v in answer.json()["volumes"].items()}


def test_ship_restore_elsewhere_and_delete(
    cluster_a: Cluster, cluster_b: Cluster, s3_server: S3Server, bucket: str
) -> None:
    a, b, s3 = cluster_a, cluster_b, s3_server.client()
    started = time.monotonic()
    a.kube.wait(REMOTES, "offsite", timeout="60s")
    a.kube.apply(resource("db", ["1Gi", "3Gi"]))
    a.kube.wait(RESOURCES, "db")

    # Ship: the backup's objects are in the bucket, as any S3 client lists them.
    a.kube.apply(backup("db-1", resource="db"))
    a.kube.wait(BACKUPS, "db-1", timeout="90s")
    shipped = a.kube.get(BACKUPS, "db-1")["status"]
    assert shipped["phase"] == "Succeeded" and shipped["completedAt"]
    assert shipped["volumes"] == [{"number": 0, "size": "1Gi"}, {"number": 1, "size": "3Gi"}]
    keys = bucket_keys(s3, bucket)
    assert f"{shipped['id']}.meta" in keys
    assert len([k for k in keys if k.startswith("db_0000")]) == 2, keys
    shipped_at = time.monotonic() - started
    shipped_requests = backup_requests(a.sim)

    # Cluster B has the same Remote; it imports the backup by id and restores it.
    b.kube.wait(REMOTES, "offsite", timeout="60s")
    b.kube.apply(backup("db-from-a", **{"import": {"id": shipped["id"]}}))
    b.kube.wait(BACKUPS, "db-from-a", timeout="60s")
    imported = b.kube.get(BACKUPS, "db-from-a")["status"]
    assert imported["phase"] == "Available" and imported["volumes"] == shipped["volumes"]
    b.kube.apply(resource("db-copy", ["1Gi", "3Gi"], restoreFrom={"backup": "db-from-a"}))
    b.kube.wait(RESOURCES, "db-copy", timeout="120s")
    restored = b.kube.get(RESOURCES, "db-copy")["status"]
    original = a.kube.get(RESOURCES, "db")["status"]
    assert (
        [v["size"] for v in restored["volumes"]] == [v["size"] for v in original["volumes"]] == ["1Gi", "3Gi"]
    )
    assert digests(b.sim, "db-copy") == digests(a.sim, "db")  # the same data, not only the sizes
    assert len([r for r in restored["replicas"] if not r["diskless"]]) == 2  # placed up to placeCount
    restored_at = time.monotonic() - started

    # Deleting the import in B leaves the backup alone; deleting it in A (Delete) removes its objects.
    b.kube.delete(BACKUPS, "db-from-a")
    assert f"{shipped['id']}.meta" in bucket_keys(s3, bucket)
    a.kube.delete(BACKUPS, "db-1")
    assert [k for k in bucket_keys(s3, bucket) if k.startswith("db_")] == []
    # Neither resource keeps a snapshot behind (the restore's received ones are cleaned up): both go.
    for cluster, name in ((b, "db-copy"), (a, "db")):
        cluster.kube.delete(RESOURCES, name, timeout="60s")
        assert not cluster.kube.exists(RESOURCES, name)
    print(f"shipped in {shipped_at:.1f}s, restored in B by {restored_at:.1f}s")
    print(f"cluster A remote/backup requests until shipped: {shipped_requests}")
    print(f"cluster B remote/backup requests until restored and the import deleted: {backup_requests(b.sim)}")


def test_a_changed_secret_reaches_linstor_and_never_status_or_logs(
    cluster_a: Cluster, s3_server: S3Server
) -> None:
    a = cluster_a
    a.kube.wait(REMOTES, "offsite", timeout="60s")
    wrong = "wrong-" + uuid.uuid4().hex
    a.kube.apply(secret(s3_server.access_key, wrong))
    cond = a.kube.wait_for_reason(REMOTES, "offsite", "RemoteRefused", timeout=30)
    assert "could not be reached" in cond["message"]
    a.kube.apply(secret(s3_server.access_key, s3_server.secret_key))
    a.kube.wait(REMOTES, "offsite", timeout="30s")
    # `stratum plan` of the Remote: in sync (exit 0); another bucket is a change (exit 2); no keys shown.
    for bucket_name, code in (None, 0), ("elsewhere", 2):
        manifest = remote(s3_server, bucket_name or a.kube.get(REMOTES, "offsite")["spec"]["s3"]["bucket"])
        planned = subprocess.run(
            [str(STRATUM), "plan", "-f", "-"],
            input=yaml.safe_dump(manifest),
            text=True,
            capture_output=True,
            env={**os.environ, "KUBECONFIG": str(a.kube.kubeconfig), "LS_CONTROLLERS": a.sim.controller_uri},
            timeout=60,
            check=False,
        )
        assert planned.returncode == code, planned.stdout + planned.stderr
        assert s3_server.secret_key not in planned.stdout + planned.stderr
    assert "elsewhere" in planned.stdout and "PUT /v1/remotes/s3/offsite" in planned.stdout, planned.stdout
    events = a.kube.run("get", "events", "-A", "-o", "json").stdout
    everything = a.kube.run("get", "remotes.linstor.stratum.dev", "-o", "json").stdout + events
    log = a.operator.log_path.read_text(errors="replace")
    for value in (wrong, s3_server.secret_key):
        assert value not in everything and value not in log


def test_schedule_ships_each_snapshot_and_keeps_the_newest(
    cluster_a: Cluster, s3_server: S3Server, bucket: str
) -> None:
    """backupTo: every run is also a full Backup object; retention deletes both, bucket included."""
    a, s3 = cluster_a, s3_server.client()
    a.kube.wait(REMOTES, "offsite", timeout="60s")
    a.kube.apply(resource("logs", ["1Gi"]))
    a.kube.wait(RESOURCES, "logs")
    a.kube.apply(
        {
            "apiVersion": API,
            "kind": "SnapshotSchedule",
            "metadata": {"name": "logs-often"},
            "spec": {"schedule": "@every 10s", "resources": ["logs"], "keep": 1, "backupTo": "offsite"},
        }
    )

    def backups_of_schedule() -> dict[str, dict[str, Any]]:
        items = a.kube.get(BACKUPS)["items"]
        return {
            i["metadata"]["name"]: i
            for i in items
            if i["metadata"].get("labels", {}).get("stratum.dev/schedule") == "logs-often"
        }

    seen: set[str] = set()

    def two_runs_shipped() -> bool:
        current = backups_of_schedule()
        seen.update(current)
        ready = [b for b in current.values() if b.get("status", {}).get("phase") == "Succeeded"]
        return len(seen) >= 2 and len(current) == 1 and len(ready) == 1

    eventually("two runs shipped, one kept", two_runs_shipped, timeout=60)
    (kept,) = backups_of_schedule().values()
    assert kept["spec"]["incremental"] is False and kept["spec"]["snapshot"] == kept["metadata"]["name"]
    kept_id = kept["status"]["id"]

    def only_the_kept_backup_in_bucket() -> bool:
        metas = [k for k in bucket_keys(s3, bucket) if k.startswith("logs_") and k.endswith(".meta")]
        return metas == [f"{kept_id}.meta"]

    eventually("only the kept backup in the bucket", only_the_kept_backup_in_bucket, timeout=30)
    a.kube.delete("snapshotschedules.linstor.stratum.dev", "logs-often")
