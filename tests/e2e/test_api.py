"""The CRDs on a real kube-apiserver: examples apply, bad manifests are refused naming the field,
immutable fields stay put, and kubectl shows what users need."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import Kube, KubectlError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

LINSTOR = "linstor.stratum.dev/v1alpha1"
MAAS = "maas.stratum.dev/v1alpha1"


def rg(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": 2}, **spec},
    }


def res(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": name},
        "spec": {"resourceGroup": "rg1", "volumes": [{"size": "1Gi"}], **spec},
    }


def snap(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Snapshot",
        "metadata": {"name": name},
        "spec": {"resource": "r1", **spec},
    }


def raid(name: str, **spec: Any) -> dict[str, Any]:
    base = {"machine": {"systemId": "abc123"}, "level": "raid-1", "devices": ["sdb", "sdc"]}
    return {"apiVersion": MAAS, "kind": "MachineRaid", "metadata": {"name": name}, "spec": {**base, **spec}}


SET_TEMPLATE = {"level": "raid-1", "deviceSelector": {"count": 2, "tags": ["ssd"]}}


def raidset(name: str, **spec: Any) -> dict[str, Any]:
    base = {"machineSelector": {"tags": ["storage"]}, "template": SET_TEMPLATE}
    return {
        "apiVersion": MAAS,
        "kind": "MachineRaidSet",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


# (id, manifest, field the error must name, words the message must contain)
BAD_MANIFESTS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "rg-place-count-zero",
        rg("bad-rg1", placement={"placeCount": 0}),
        "spec.placement.placeCount",
        "should be greater than or equal to 1",
    ),
    (
        "rg-linstor-name-pattern",
        rg("bad-rg2", linstorName="9starts-with-digit"),
        "spec.linstorName",
        "should match",
    ),
    (
        "rg-unknown-provider",
        rg("bad-rg3", placement={"providerList": ["CEPH"]}),
        "spec.placement.providerList[0]",
        "supported values",
    ),
    (
        "rg-unknown-layer",
        rg("bad-rg4", placement={"layerList": ["raid"]}),
        "spec.placement.layerList[0]",
        "supported values",
    ),
    ("rg-deletion-policy", rg("bad-rg5", deletionPolicy="Orphan"), "spec.deletionPolicy", "supported values"),
    (
        "rg-k8s-name-not-linstor-name",
        rg("bad.rg.dotted"),
        "spec.linstorName",
        "metadata.name is not a valid LINSTOR resource group name",
    ),
    (
        "rg-storage-pool-name",
        rg("bad-rg6", placement={"storagePools": ["x"]}),
        "spec.placement.storagePools[0]",
        "should match",
    ),
    ("res-no-volumes", res("bad-r1", volumes=[]), "spec.volumes", "should have at least 1 items"),
    (
        "res-size-not-quantity",
        res("bad-r2", volumes=[{"size": "ten gigs"}]),
        "spec.volumes[0].size",
        "positive quantity",
    ),
    ("res-size-zero", res("bad-r3", volumes=[{"size": 0}]), "spec.volumes[0].size", "positive quantity"),
    (
        "res-missing-group",
        {**res("bad-r4"), "spec": {"volumes": [{"size": "1Gi"}]}},
        "spec.resourceGroup",
        "Required value",
    ),
    (
        "res-node-both-diskful-and-diskless",
        res("bad-r5", diskfulNodes=["n1"], disklessNodes=["n1"]),
        "spec.disklessNodes",
        "both diskful and diskless",
    ),
    ("res-reserved-name", res("all"), "spec.linstorName", "reserved LINSTOR resource names"),
    (
        "res-rollback-without-request-id",
        res("bad-r6", rollback={"snapshot": "s1"}),
        "spec.rollback.requestId",
        "Required value",
    ),
    (
        "res-too-many-volumes",
        res("bad-r7", volumes=[{"size": "1Gi"}] * 9),
        "spec.volumes",
        "must have at most 8 items",
    ),
    ("snap-missing-resource", {**snap("bad-s1"), "spec": {}}, "spec.resource", "Required value"),
    (
        "snap-linstor-name-too-long",
        snap("bad-s2", linstorName="s" * 49),
        "spec.linstorName",
        "may not be more than 48",
    ),
    (
        "raid-two-selectors",
        raid("bad-m1", machine={"systemId": "abc123", "hostname": "node-1"}),
        "spec.machine",
        "exactly one of systemId or hostname",
    ),
    ("raid-no-selector", raid("bad-m2", machine={}), "spec.machine", "exactly one of systemId or hostname"),
    ("raid-unknown-level", raid("bad-m3", level="raid-4"), "spec.level", "supported values"),
    (
        "raid-1-one-device",
        raid("bad-m4", devices=["sdb"]),
        "spec.devices",
        "raid-1 needs at least 2 active devices",
    ),
    (
        "raid-5-two-devices",
        raid("bad-m5", level="raid-5"),
        "spec.devices",
        "raid-5 needs at least 3 active devices",
    ),
    (
        "raid-6-three-devices",
        raid("bad-m6", level="raid-6", devices=["sdb", "sdc", "sdd"]),
        "spec.devices",
        "raid-6 needs at least 4 active devices",
    ),
    (
        "raid-10-three-devices",
        raid("bad-m7", level="raid-10", devices=["sdb", "sdc", "sdd"]),
        "spec.devices",
        "raid-10 needs at least 4 active devices",
    ),
    (
        "raid-0-with-spare",
        raid("bad-m8", level="raid-0", spareDevices=["sdd"]),
        "spec.spareDevices",
        "raid-0 cannot have spare devices",
    ),
    (
        "raid-device-active-and-spare",
        raid("bad-m9", spareDevices=["sdc"]),
        "spec.spareDevices",
        "both active and spare",
    ),
    ("raid-duplicate-device", raid("bad-m10", devices=["sdb", "sdb"]), "spec.devices[1]", "Duplicate value"),
    (
        "raid-relative-mount-point",
        raid("bad-m11", filesystem={"fstype": "ext4", "mountPoint": "data"}),
        "spec.filesystem.mountPoint",
        "should match",
    ),
    (
        "raid-mount-point-missing",
        raid("bad-m12", filesystem={"fstype": "ext4"}),
        "spec.filesystem",
        "mountPoint is required unless fstype is swap",
    ),
    (
        "raid-unknown-fstype",
        raid("bad-m13", filesystem={"fstype": "ntfs", "mountPoint": "/d"}),
        "spec.filesystem.fstype",
        "supported values",
    ),
    ("raid-bad-uuid", raid("bad-m14", uuid="not-a-uuid"), "spec.uuid", "should match"),
    (
        "raid-devices-and-selector",
        raid("bad-m15", deviceSelector={"count": 2}),
        "spec.deviceSelector",
        "either devices or deviceSelector",
    ),
    (
        "raid-selector-bad-size",
        raid("bad-m16", devices=[], deviceSelector={"count": 2, "minSize": "1m"}),
        "spec.deviceSelector.minSize",
        "positive quantity",
    ),
    ("set-no-selector", raidset("bad-set1", machineSelector={}), "spec.machineSelector", "at least one of"),
    (
        "set-too-few-devices",
        raidset("bad-set2", template={"level": "raid-5", "deviceSelector": {"count": 2}}),
        "spec.template.devices",
        "raid-5 needs at least 3",
    ),
    (
        "set-template-uuid",
        raidset("bad-set3", template={**SET_TEMPLATE, "uuid": "6f1f3c1e-0a0b-4c2d-8e9f-0123456789ab"}),
        "spec.template.uuid",
        "needs its own",
    ),
    (
        "set-when-unmatched",
        raidset("bad-set4", whenUnmatched="Keep"),
        "spec.whenUnmatched",
        "supported values",
    ),
]


def test_every_example_applies_cleanly(kube: Kube) -> None:
    assert EXAMPLES, "examples/ is empty"
    try:
        for path in EXAMPLES:
            out = kube.run("apply", "-f", str(path)).stdout
            assert "created" in out or "configured" in out or "unchanged" in out, out
        listed = kube.run("get", "stratum", "-o", "name").stdout.split()
        for path in EXAMPLES:
            doc = yaml.safe_load(path.read_text())
            assert (
                f"{doc['kind'].lower()}.{doc['apiVersion'].split('/')[0]}/{doc['metadata']['name']}" in listed
            )
    finally:
        for path in EXAMPLES:
            kube.run("delete", "-f", str(path), "--ignore-not-found", "--wait=false")


@pytest.mark.parametrize(
    ("manifest", "field", "words"), [pytest.param(m, f, w, id=i) for i, m, f, w in BAD_MANIFESTS]
)
def test_bad_manifest_is_refused_naming_the_field(
    kube: Kube, manifest: dict[str, Any], field: str, words: str
) -> None:
    proc = kube.create(manifest, check=False)
    assert proc.returncode != 0, f"accepted: {manifest}"
    assert "is invalid" in proc.stderr
    assert f"{field}:" in proc.stderr, proc.stderr
    assert words in proc.stderr, proc.stderr


def test_bad_manifest_table_covers_every_kind_and_many_rules() -> None:
    kinds = {m["kind"] for _, m, _, _ in BAD_MANIFESTS}
    assert kinds == {"ResourceGroup", "Resource", "Snapshot", "MachineRaid", "MachineRaidSet"}
    assert len(BAD_MANIFESTS) >= 15


def test_a_machineraidset_name_fits_in_a_label_value(kube: Kube) -> None:
    proc = kube.create(raidset("s" * 64), check=False)
    assert (
        proc.returncode != 0 and "is a label value on its MachineRaids: at most 63 characters" in proc.stderr
    )


# (manifest, patch of spec, field named in the refusal)
IMMUTABLE: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("rg-linstor-name", rg("imm-rg", linstorName="imm_rg"), {"linstorName": "other"}, "spec.linstorName"),
    ("res-group", res("imm-r1"), {"resourceGroup": "rg2"}, "spec.resourceGroup"),
    ("res-linstor-name", res("imm-r2", linstorName="imm_r2"), {"linstorName": "other"}, "spec.linstorName"),
    (
        "res-restore-from",
        res("imm-r3", restoreFrom={"snapshot": "s1"}),
        {"restoreFrom": {"snapshot": "s2"}},
        "spec.restoreFrom",
    ),
    ("res-restore-from-added", res("imm-r4"), {"restoreFrom": {"snapshot": "s2"}}, "spec"),
    ("snap-resource", snap("imm-s1"), {"resource": "r2"}, "spec.resource"),
    ("raid-machine", raid("imm-m1"), {"machine": {"systemId": "zzz999"}}, "spec.machine"),
    ("raid-level", raid("imm-m2"), {"level": "raid-0"}, "spec.level"),
    ("set-template-level", raidset("imm-set1"), {"template": {"level": "raid-0"}}, "spec.template.level"),
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
        kube.delete(kind, name)


def test_volume_can_grow_but_not_shrink_or_vanish(kube: Kube) -> None:
    kube.create(res("grow-r1", volumes=[{"size": "10Gi"}, {"size": 1073741824}]))
    try:
        kube.patch("lr", "grow-r1", {"spec": {"volumes": [{"size": "20Gi"}, {"size": "2Gi"}]}})
        assert kube.get("lr", "grow-r1")["spec"]["volumes"] == [{"size": "20Gi"}, {"size": "2Gi"}]
        shrink = kube.patch(
            "lr", "grow-r1", {"spec": {"volumes": [{"size": "20Gi"}, {"size": "1Gi"}]}}, check=False
        )
        assert shrink.returncode != 0
        assert "volumes[1].size cannot shrink" in shrink.stderr
        # 20Gi written as plain bytes is the same size: allowed.
        same = kube.patch("lr", "grow-r1", {"spec": {"volumes": [{"size": 20 * 2**30}, {"size": "2Gi"}]}})
        assert same.returncode == 0
        vanish = kube.patch("lr", "grow-r1", {"spec": {"volumes": [{"size": "30Gi"}]}}, check=False)
        assert vanish.returncode != 0 and "volumes cannot be removed" in vanish.stderr
        added = kube.patch(
            "lr", "grow-r1", {"spec": {"volumes": [{"size": "30Gi"}, {"size": "2Gi"}, {"size": "1Gi"}]}}
        )
        assert added.returncode == 0
    finally:
        kube.delete("lr", "grow-r1")


def test_defaults_are_applied_by_the_api_server(kube: Kube) -> None:
    manifest = copy.deepcopy(rg("defaults-rg"))
    del manifest["spec"]["placement"]
    kube.create(manifest)
    try:
        spec = kube.get("lrg", "defaults-rg")["spec"]
        assert spec["deletionPolicy"] == "Delete"
        assert spec["adopt"] is False
        assert spec["placement"]["placeCount"] == 2
    finally:
        kube.delete("lrg", "defaults-rg")


def test_unknown_field_is_refused_by_kubectl_strict_validation(kube: Kube) -> None:
    manifest = rg("typo-rg")
    manifest["spec"]["placment"] = {"placeCount": 3}
    proc = kube.create(manifest, check=False)
    assert proc.returncode != 0
    assert 'unknown field "spec.placment"' in proc.stderr


def test_get_stratum_prints_the_columns(kube: Kube) -> None:
    kube.create(rg("cols-rg", placement={"placeCount": 3, "storagePools": ["thin"]}))
    kube.create(raid("cols-m1", level="raid-5", devices=["sdb", "sdc", "sdd"]))
    try:
        kube.patch(
            "lrg",
            "cols-rg",
            {
                "status": {
                    "linstorName": "cols-rg",
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "False",
                            "reason": "Waiting",
                            "message": "m",
                            "lastTransitionTime": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            },
            subresource="status",
        )
        out = kube.run("get", "stratum").stdout
        assert "resourcegroup.linstor.stratum.dev/cols-rg" in out
        assert "machineraid.maas.stratum.dev/cols-m1" in out
        header_rg = next(line for line in out.splitlines() if "REPLICAS" in line).split()
        assert header_rg[:6] == ["NAME", "READY", "REASON", "LINSTOR", "REPLICAS", "POOLS"]
        row = next(line for line in out.splitlines() if "/cols-rg" in line).split()
        assert row[1:5] == ["False", "Waiting", "cols-rg", "3"]
        header_raid = next(line for line in out.splitlines() if "LEVEL" in line).split()
        assert header_raid[:6] == ["NAME", "READY", "REASON", "MACHINE", "RAID", "LEVEL"]
        short = kube.run("get", "lrg,lr,lsnap,mraid").stdout
        assert "cols-rg" in short and "cols-m1" in short
    finally:
        kube.delete("lrg", "cols-rg")
        kube.delete("mraid", "cols-m1")


def test_status_is_a_subresource_and_conditions_merge_by_type(kube: Kube) -> None:
    kube.create(snap("status-s1"))
    try:
        cond = {
            "type": "Ready",
            "status": "True",
            "reason": "Created",
            "message": "",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
        # The main resource ignores status; only /status writes it.
        kube.patch("lsnap", "status-s1", {"status": {"conditions": [cond]}})
        assert "status" not in kube.get("lsnap", "status-s1") or not kube.get("lsnap", "status-s1")[
            "status"
        ].get("conditions")
        kube.patch("lsnap", "status-s1", {"status": {"conditions": [cond]}}, subresource="status")
        kube.run("wait", "--for=condition=Ready", "lsnap/status-s1", "--timeout=10s")
        dup = kube.patch(
            "lsnap", "status-s1", {"status": {"conditions": [cond, cond]}}, subresource="status", check=False
        )
        assert dup.returncode != 0 and "Duplicate value" in dup.stderr
    finally:
        kube.delete("lsnap", "status-s1")


def test_explain_describes_fields(kube: Kube) -> None:
    out = kube.run("explain", "mraid.spec.spareDevices").stdout
    assert "Spare members" in out
    out = kube.run("explain", "lrg.spec.placement.replicasOnDifferent").stdout
    assert "values must differ" in out


def test_cluster_scoped_with_category(kube: Kube) -> None:
    out = kube.run("api-resources", "--api-group=linstor.stratum.dev", "-o", "wide").stdout
    for short in ("lrg", "lr", "lsnap"):
        assert short in out
    assert "false" in out.lower()  # NAMESPACED column
    assert "stratum" in out
    with pytest.raises(KubectlError):
        kube.run("get", "lrg", "-n", "default", "nothing-here")
