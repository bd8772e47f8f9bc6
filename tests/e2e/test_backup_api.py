"""SnapshotSchedule, Remote, Backup and restoreFrom.backup on a real kube-apiserver: bad
manifests are refused at admission naming the field, good schedules are accepted, fields that
LINSTOR cannot change stay put."""

from __future__ import annotations

from typing import Any

import pytest

from support.kube import Kube

LINSTOR = "linstor.stratum.dev/v1alpha1"


def sched(name: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"schedule": "@every 30s", "resources": ["r1"]}
    return {
        "apiVersion": LINSTOR,
        "kind": "SnapshotSchedule",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def remote(name: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "s3": {"endpoint": "http://s3:9000", "bucket": "backups", "region": "us-east-1"},
        "credentialsSecretRef": {"name": "keys", "namespace": "stratum-system"},
    }
    return {"apiVersion": LINSTOR, "kind": "Remote", "metadata": {"name": name}, "spec": {**base, **spec}}


def backup(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Backup",
        "metadata": {"name": name},
        "spec": {"remote": "rm", **spec},
    }


def res(name: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}]}
    return {"apiVersion": LINSTOR, "kind": "Resource", "metadata": {"name": name}, "spec": {**base, **spec}}


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("cron-words", sched("b1", schedule="every hour"), "spec.schedule", "should match"),
    ("cron-four-fields", sched("b2", schedule="0 * * *"), "spec.schedule", "should match"),
    ("cron-six-fields", sched("b3", schedule="0 0 * * * *"), "spec.schedule", "should match"),
    ("every-no-unit", sched("b4", schedule="@every 10"), "spec.schedule", "should match"),
    ("every-empty", sched("b4e", schedule="@every "), "spec.schedule", "should match"),
    ("named-unknown", sched("b5", schedule="@fortnightly"), "spec.schedule", "should match"),
    ("keep-zero", sched("b6", keep=0), "spec.keep", "greater than or equal to 1"),
    (
        "names-and-selector",
        sched("b7", selector={"matchLabels": {"a": "b"}}),
        "spec.resources",
        "exactly one of spec.resources and spec.selector",
    ),
    ("neither", sched("b8", resources=[]), "spec.resources", "exactly one of spec.resources"),
    (
        "selector-operator",
        sched("b9", resources=[], selector={"matchExpressions": [{"key": "a", "operator": "Is"}]}),
        "spec.selector.matchExpressions[0].operator",
        "supported values",
    ),
    ("schedule-name-too-long", sched("s" * 64), "<nil>", "at most 63 characters"),
    (
        "remote-no-secret",
        {**remote("b10"), "spec": {"s3": remote("x")["spec"]["s3"]}},
        "spec.credentialsSecretRef",
        "Required",
    ),
    (
        "remote-short-bucket",
        remote("b11", s3={"endpoint": "http://s3", "bucket": "b", "region": "r"}),
        "spec.s3.bucket",
        "at least 3",
    ),
    (
        "backup-resource-and-import",
        backup("b12", resource="r1", **{"import": {"id": "x"}}),
        "spec.resource",
        "exactly one of spec.resource",
    ),
    ("backup-neither", backup("b13"), "spec.resource", "exactly one of spec.resource"),
    (
        "import-id-and-resource",
        backup("b14", **{"import": {"id": "x", "resource": "r1"}}),
        "spec.import",
        "exactly one of id and resource",
    ),
    (
        "import-with-snapshot",
        backup("b15", snapshot="s1", **{"import": {"id": "x"}}),
        "spec.snapshot",
        "cannot be combined",
    ),
    (
        "restore-both",
        res("b16", restoreFrom={"snapshot": "s1", "backup": "b1"}),
        "spec.restoreFrom",
        "exactly one of snapshot and backup",
    ),
    ("restore-neither", res("b17", restoreFrom={}), "spec.restoreFrom", "exactly one of snapshot and backup"),
]


@pytest.mark.parametrize(("manifest", "field", "words"), [pytest.param(m, f, w, id=i) for i, m, f, w in BAD])
def test_bad_manifest_is_refused_naming_the_field(
    kube: Kube, manifest: dict[str, Any], field: str, words: str
) -> None:
    proc = kube.create(manifest, check=False)
    assert proc.returncode != 0, f"accepted: {manifest}"
    assert "is invalid" in proc.stderr
    assert f"{field}:" in proc.stderr, proc.stderr
    assert words in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "schedule",
    ["0 */6 * * *", "*/15 8-17 * * mon-fri", "30 2 1,15 jan-jun *", "@daily", "@every 1h30m", "@every 10s"],
)
def test_good_schedules_are_accepted(kube: Kube, schedule: str) -> None:
    kube.create(sched("good-sched", schedule=schedule))
    kube.delete("lsched", "good-sched")


IMMUTABLE: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("backup-remote", backup("imm-b1", resource="r1"), {"remote": "other"}, "spec.remote"),
    ("backup-snapshot-added", backup("imm-b2", resource="r1"), {"snapshot": "s1"}, "spec.snapshot"),
    ("backup-import", backup("imm-b3", **{"import": {"id": "a"}}), {"import": {"id": "b"}}, "spec.import"),
    (
        "remote-path-style",
        remote("imm-rm1"),
        {"s3": {**remote("x")["spec"]["s3"], "usePathStyle": True}},
        "spec.s3.usePathStyle",
    ),
    (
        "restore-backup",
        res("imm-r1", restoreFrom={"backup": "b1"}),
        {"restoreFrom": {"backup": "b2"}},
        "spec.restoreFrom",
    ),
]


@pytest.mark.parametrize(
    ("manifest", "patch", "field"), [pytest.param(m, p, f, id=i) for i, m, p, f in IMMUTABLE]
)
def test_immutable_fields_refuse_changes(
    kube: Kube, manifest: dict[str, Any], patch: dict[str, Any], field: str
) -> None:
    kind, name = manifest["kind"].lower(), manifest["metadata"]["name"]
    kube.create(manifest)
    try:
        before = kube.get(kind, name)["spec"]
        proc = kube.patch(kind, name, {"spec": patch}, check=False)
        assert proc.returncode != 0, "change accepted"
        assert f"{field}:" in proc.stderr and ("immutable" in proc.stderr or "cannot be added" in proc.stderr)
        assert kube.get(kind, name)["spec"] == before
    finally:
        kube.delete(kind, name, wait=False)


def test_columns_and_short_names(kube: Kube) -> None:
    kube.create(sched("cols-sched", keep=4))
    try:
        header = kube.run("get", "lsched", "cols-sched").stdout.splitlines()[0].split()
        assert header[:6] == ["NAME", "READY", "REASON", "SCHEDULE", "KEEP", "SUSPEND"]
        for short in ("lremote", "lbackup"):
            assert kube.run("get", short).returncode == 0
    finally:
        kube.delete("lsched", "cols-sched")
