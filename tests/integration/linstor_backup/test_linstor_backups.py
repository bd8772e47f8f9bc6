"""Backups shipped to a real S3 server and restored in another simulator.

linstor-server: Backups.java, CtrlBackupCreateApiCallHandler.java, CtrlBackupApiCallHandler.java,
CtrlBackupRestoreApiCallHandler.java, S3MetafileNameInfo.java, S3VolumeNameInfo.java,
BackupMetaDataPojo.java.  The bucket is read with boto3, never with the simulator's own client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from backup_helpers import (
    GIB,
    Api,
    errors,
    next_second,
    seed,
    shipping_status,
    wait_for,
    wait_shipped,
)

from support.s3 import S3Server, bucket_keys

BACKUP_ID = re.compile(r"^back_\d{8}_\d{6}$")
FAIL_NOT_FOUND_RSC_DFN = 301
FAIL_NOT_FOUND_REMOTE = 321
FAIL_INVLD_REQUEST = 234
FAIL_DEPENDEND_BACKUP = 977


def meta_of(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return data


def setup_backup(api: Api, s3_server: S3Server, bucket: str) -> None:
    api.ok(api.s3_remote("s3", s3_server, bucket))
    api.rd("r1", 2 * GIB, 512 * 1024)


def shipped(api: Api, **extra: Any) -> str:
    """A backup of r1 to the remote s3, once it is in the bucket: its snapshot's name."""
    snap = api.backup("s3", "r1", **extra)
    wait_shipped(api, "r1", snap, "s3")
    return snap


def full_then_incremental(api: Api) -> tuple[str, str]:
    """A full backup of r1, then an incremental one based on it, both shipped."""
    full = shipped(api)
    next_second()
    return full, shipped(api, incremental=True)


def test_backup_lands_in_the_bucket(cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    cluster_a.ok(cluster_a.post("/_sim/backup", {"shipSeconds": 1.0}))
    reply = cluster_a.post("/v1/remotes/s3/backups", {"rsc_name": "r1"})
    assert reply.status == 201, reply.body
    assert reply.body[0]["message"] == "Generated snapshot name for backup of resourcer1 to remote s3"
    assert reply.body[-1]["message"] == "Shipping of resource r1 to remote s3 in progress."
    snap = reply.body[-1]["obj_refs"]["Snapshot"]
    assert BACKUP_ID.match(snap)

    # While shipping: nothing in the bucket yet, the list shows it from the controller's state.
    assert shipping_status(cluster_a, "r1", snap, "s3") == "Shipping"
    assert bucket_keys(s3, bucket) == []
    in_progress = cluster_a.get("/v1/remotes/s3/backups").body
    (entry,) = in_progress["linstor"].values()
    assert entry["shipping"] is True and "success" not in entry and entry["origin_snap"] == snap

    wait_shipped(cluster_a, "r1", snap, "s3")
    data = [f"r1_00000_{snap}", f"r1_00001_{snap}"]
    assert bucket_keys(s3, bucket) == sorted([*data, f"r1_{snap}.meta"])

    meta = meta_of(s3, bucket, f"r1_{snap}.meta")
    snapshot = cluster_a.snapshot("r1", snap)
    assert meta["rscName"] == "r1" and meta["basedOn"] is None
    assert meta["snapDfnUuid"] == snapshot["uuid"]
    assert {nr: v["size"] for nr, v in meta["rscDfn"]["vlmDfns"].items()} == {"0": 2 * GIB, "1": 512 * 1024}
    assert {nr: [b["name"] for b in v] for nr, v in meta["backups"].items()} == {
        "0": [data[0]],
        "1": [data[1]],
    }
    assert meta["nodeName"] in snapshot["nodes"]
    # Small but proportional to the volume: 2 GiB -> 32 KiB, 512 MiB -> 8 KiB (plus a header line).
    sizes = {k: s3.head_object(Bucket=bucket, Key=k)["ContentLength"] for k in data}
    assert 32 * 1024 < sizes[data[0]] < 33 * 1024 and 8 * 1024 < sizes[data[1]] < 9 * 1024

    listed = cluster_a.get("/v1/remotes/s3/backups").body
    assert listed["other"] == {}
    backup = listed["linstor"][f"r1_{snap}"]
    assert backup["id"] == f"r1_{snap}"
    assert (backup["success"], backup["shipping"], backup["restorable"]) == (True, False, True)
    assert backup["origin_rsc"] == "r1" and backup["origin_snap"] == snap
    assert backup["s3"] == {"meta_name": f"r1_{snap}.meta"}
    assert [v["s3"]["key"] for v in backup["vlms"]] == data
    assert "based_on_id" not in backup


def test_second_backup_is_incremental(cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    full, inc = full_then_incremental(cluster_a)
    next_second()
    # Without `incremental` LINSTOR makes a full backup again.
    full2 = shipped(cluster_a)

    assert meta_of(s3, bucket, f"r1_{inc}.meta")["basedOn"] == f"r1_{full}.meta"
    assert meta_of(s3, bucket, f"r1_{full2}.meta")["basedOn"] is None
    full_size = s3.head_object(Bucket=bucket, Key=f"r1_00000_{full}")["ContentLength"]
    inc_size = s3.head_object(Bucket=bucket, Key=f"r1_00000_{inc}")["ContentLength"]
    assert inc_size < full_size / 4
    listed = cluster_a.get("/v1/remotes/s3/backups").body["linstor"]
    assert sorted(listed) == sorted(f"r1_{s}" for s in (full, inc, full2))
    # (sic) upstream reports the base's metadata object name, `.meta` included.
    assert listed[f"r1_{inc}"]["based_on_id"] == f"r1_{full}.meta"
    snapshot_props = cluster_a.snapshot("r1", inc)["snapshot_definition_props"]
    assert snapshot_props["BackupShipping/Source/s3/LastFullBackupTimestamp"] == full


def test_backup_info_sums_the_chain(
    cluster_a: Api, start_sim: Callable[..., Api], s3_server: S3Server, bucket: str, s3: Any
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    full, inc = full_then_incremental(cluster_a)
    data_keys = [k for k in bucket_keys(s3, bucket) if not k.endswith(".meta")]
    dl_kib = sum(-(-s3.head_object(Bucket=bucket, Key=k)["ContentLength"] // 1024) for k in data_keys)

    cluster_b = start_sim(seed("m1", pool="fast"))
    cluster_b.ok(cluster_b.s3_remote("s3", s3_server, bucket))
    reply = cluster_b.post(
        "/v1/remotes/s3/backups/info",
        {"src_rsc_name": "r1", "node_name": "m1", "stor_pool_map": {"thin": "fast"}},
    )
    assert reply.status == 200, reply.body
    info = reply.body
    assert (info["rsc"], info["snap"], info["count"]) == ("r1", inc, 2)
    assert info["full"] == f"r1_{full}.meta" and info["latest"] == f"r1_{inc}"
    assert info["dl_size_kib"] == dl_kib
    (pool,) = info["storpools"]
    assert (pool["name"], pool["provider_kind"], pool["target_name"]) == ("thin", "LVM_THIN", "fast")
    newest = [v for v in pool["vlms"] if "alloc_size_kib" in v]
    assert sorted(v["usable_size_kib"] for v in newest) == [512 * 1024, 2 * GIB]
    assert info["alloc_size_kib"] == sum(v["alloc_size_kib"] for v in newest) >= 2 * GIB + 512 * 1024
    assert pool["remaining_space_kib"] == 100 * GIB - info["alloc_size_kib"] - dl_kib

    rename_without_node = cluster_b.post(
        "/v1/remotes/s3/backups/info", {"src_rsc_name": "r1", "stor_pool_map": {"a": "b"}}
    )
    assert rename_without_node.status == 500 and errors(rename_without_node.body) == [FAIL_INVLD_REQUEST]
    unknown = cluster_b.post("/v1/remotes/s3/backups/info", {"src_rsc_name": "zz"})
    assert unknown.status == 404 and errors(unknown.body) == [322]


def test_named_snapshot_is_part_of_the_object_names(
    cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    snap = cluster_a.backup("s3", "r1", snap_name="nightly")
    assert snap == "nightly"
    wait_shipped(cluster_a, "r1", snap, "s3")
    keys = bucket_keys(s3, bucket)
    assert len(keys) == 3
    meta = next(k for k in keys if k.endswith(".meta"))
    assert re.match(r"^r1_back_\d{8}_\d{6}\^nightly\.meta$", meta)
    listed = cluster_a.get("/v1/remotes/s3/backups", snap_name="nightly").body["linstor"]
    assert [b["origin_snap"] for b in listed.values()] == ["nightly"]


def test_restore_in_another_cluster_from_the_same_bucket(
    cluster_a: Api, start_sim: Callable[..., Api], s3_server: S3Server, bucket: str
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    before = cluster_a.volume_digests("r1")
    full = shipped(cluster_a)
    written = cluster_a.post("/_sim/write", {"resource": "r1"}).body
    after = {nr: v["sha256"] for nr, v in written["volumes"].items()}
    assert after != before
    next_second()
    inc = shipped(cluster_a, incremental=True)

    # Another cluster: other node names, another pool name, the same bucket.
    cluster_b = start_sim(seed("m1", "m2", pool="fast"))
    cluster_b.ok(cluster_b.post("/_sim/backup", {"shipSeconds": 0.3}))
    cluster_b.ok(cluster_b.s3_remote("offsite", s3_server, bucket))
    seen = cluster_b.get("/v1/remotes/offsite/backups").body["linstor"]
    assert sorted(seen) == sorted([f"r1_{full}", f"r1_{inc}"])
    assert all(b["restorable"] for b in seen.values())

    reply = cluster_b.post(
        "/v1/remotes/offsite/backups/restore",
        {
            "src_rsc_name": "r1",
            "target_rsc_name": "r1-copy",
            "node_name": "m1",
            "stor_pool_map": {"thin": "fast"},
        },
    )
    assert reply.status == 201, reply.body
    assert reply.body[-1]["message"] == (
        "Restoring backup of resource r1 from remote offsite into resource r1-copy in progress."
    )
    # The whole chain is downloaded: the full backup, then the incremental one.
    snaps = cluster_b.get("/v1/resource-definitions/r1-copy/snapshots").body
    assert [s["name"] for s in snaps] == [full, inc]
    wait_for(
        "the restored resource", lambda: cluster_b.get("/v1/resource-definitions/r1-copy/resources").body
    )

    resources = cluster_b.get("/v1/resource-definitions/r1-copy/resources").body
    assert [(r["node_name"], r["props"]["StorPoolName"]) for r in resources] == [("m1", "fast")]
    vds = cluster_b.get("/v1/resource-definitions/r1-copy/volume-definitions").body
    src_vds = cluster_a.get("/v1/resource-definitions/r1/volume-definitions").body
    assert [(v["volume_number"], v["size_kib"]) for v in vds] == [
        (v["volume_number"], v["size_kib"]) for v in src_vds
    ]
    assert cluster_b.volume_digests("r1-copy") == after
    for s in cluster_b.get("/v1/resource-definitions/r1-copy/snapshots").body:
        assert "SUCCESSFUL" in s["flags"]
        assert s["snapshot_definition_props"]["BackupShipping/Target/ShippingStatus"] == "Success"

    # The older, full backup restores the content from before the write.
    older = cluster_b.post(
        "/v1/remotes/offsite/backups/restore",
        {
            "last_backup": f"r1_{full}",
            "target_rsc_name": "r1-old",
            "node_name": "m2",
            "stor_pool_map": {"thin": "fast"},
        },
    )
    assert older.status == 201, older.body
    wait_for("the older restore", lambda: cluster_b.get("/v1/resource-definitions/r1-old/resources").body)
    assert cluster_b.volume_digests("r1-old") == before


def test_restore_refuses_a_corrupt_object(
    cluster_a: Api, start_sim: Callable[..., Api], s3_server: S3Server, bucket: str, s3: Any
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    snap = shipped(cluster_a)
    s3.put_object(Bucket=bucket, Key=f"r1_00001_{snap}", Body=b"not what was shipped")
    cluster_b = start_sim(seed("m1"))
    cluster_b.ok(cluster_b.post("/_sim/backup", {"shipSeconds": 0}))
    cluster_b.ok(cluster_b.s3_remote("s3", s3_server, bucket))
    cluster_b.ok(
        cluster_b.post(
            "/v1/remotes/s3/backups/restore",
            {"src_rsc_name": "r1", "target_rsc_name": "r9", "node_name": "m1"},
        )
    )

    def status() -> str:
        snapshot = cluster_b.snapshot("r9", snap)
        return str(snapshot["snapshot_definition_props"]["BackupShipping/Target/ShippingStatus"])

    assert wait_for("the download to fail", lambda: status() != "Shipping" and status()) == "Failed"
    assert cluster_b.get("/v1/resource-definitions/r9/resources").body == []


def test_delete_removes_the_objects(cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    full, inc = full_then_incremental(cluster_a)
    assert len(bucket_keys(s3, bucket)) == 6

    nothing = cluster_a.delete("/v1/remotes/s3/backups")
    assert nothing.status == 400 and errors(nothing.body) == [FAIL_INVLD_REQUEST]
    # The full backup has an incremental one based on it.
    refused = cluster_a.delete("/v1/remotes/s3/backups", id=f"r1_{full}")
    assert refused.status == 500 and errors(refused.body) == [FAIL_DEPENDEND_BACKUP]
    assert len(bucket_keys(s3, bucket)) == 6

    reply = cluster_a.delete("/v1/remotes/s3/backups", id=f"r1_{inc}")
    assert reply.status == 200, reply.body
    gone = sorted([f"r1_{inc}.meta", f"r1_00000_{inc}", f"r1_00001_{inc}"])
    assert reply.body[0]["message"] == f"Successfully deleted [{', '.join(gone)}]"
    assert bucket_keys(s3, bucket) == sorted([f"r1_{full}.meta", f"r1_00000_{full}", f"r1_00001_{full}"])
    # The snapshot the backup was made from goes with it.
    assert cluster_a.get(f"/v1/resource-definitions/r1/snapshots/{inc}").status == 404

    # The snapshot behind the last backup is gone: LINSTOR falls back to a full backup.
    next_second()
    again = shipped(cluster_a, incremental=True)
    assert meta_of(s3, bucket, f"r1_{again}.meta")["basedOn"] is None

    dry = cluster_a.delete("/v1/remotes/s3/backups", all="true", dryrun="true")
    assert dry.status == 200 and dry.body[0]["message"].startswith("Would delete s3 objects:")
    assert len(bucket_keys(s3, bucket)) == 6
    everything = cluster_a.delete("/v1/remotes/s3/backups", all="true", keep_snaps="true")
    assert everything.status == 200, everything.body
    assert bucket_keys(s3, bucket) == []
    assert cluster_a.get(f"/v1/resource-definitions/r1/snapshots/{full}").status == 200
    assert cluster_a.get("/v1/remotes/s3/backups").body == {"other": {}}


def test_cascading_delete_takes_the_incremental_backups(
    cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    full, inc = full_then_incremental(cluster_a)
    s3.put_object(Bucket=bucket, Key="notes.txt", Body=b"not LINSTOR's")
    assert cluster_a.get("/v1/remotes/s3/backups").body["other"] == {"files": ["notes.txt"]}

    reply = cluster_a.delete("/v1/remotes/s3/backups", id=f"r1_{full}", cascading="true")
    assert reply.status == 200, reply.body
    assert bucket_keys(s3, bucket) == ["notes.txt"]
    for snap in (full, inc):
        assert cluster_a.get(f"/v1/resource-definitions/r1/snapshots/{snap}").status == 404


def test_abort_stops_a_shipment(cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    cluster_a.ok(cluster_a.post("/_sim/backup", {"shipSeconds": 2.0}))
    snap = cluster_a.backup("s3", "r1")
    reply = cluster_a.post("/v1/remotes/s3/backups/abort", {"rsc_name": "r1", "create": True})
    assert reply.status == 200, reply.body
    assert reply.body[-1]["message"] == "Successfully aborted all in-progress backup-shipments of resource r1"
    # The aborted shipment's snapshot is deleted (CtrlBackupShippingAbortHandler).
    wait_for(
        "the snapshot to go",
        lambda: cluster_a.get(f"/v1/resource-definitions/r1/snapshots/{snap}").status == 404,
    )
    cluster_a.ok(cluster_a.post("/_sim/backup", {"shipSeconds": 0}))
    assert cluster_a.get("/v1/remotes/s3/backups").body == {"other": {}}
    # Nothing arrives later either; the next backup has no base left, so it is a full one.
    next_second()
    later = shipped(cluster_a, incremental=True)
    assert bucket_keys(s3, bucket) == sorted([f"r1_{later}.meta", f"r1_00000_{later}", f"r1_00001_{later}"])
    assert meta_of(s3, bucket, f"r1_{later}.meta")["basedOn"] is None
    assert cluster_a.post("/v1/remotes/s3/backups/abort", {"rsc_name": "r1"}).body == []


def test_backup_of_unknown_things(cluster_a: Api, s3_server: S3Server, bucket: str) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    no_remote = cluster_a.post("/v1/remotes/nope/backups", {"rsc_name": "r1"})
    assert no_remote.status == 404 and errors(no_remote.body) == [FAIL_NOT_FOUND_REMOTE]
    no_rd = cluster_a.post("/v1/remotes/s3/backups", {"rsc_name": "nope"})
    assert no_rd.status == 404 and errors(no_rd.body) == [FAIL_NOT_FOUND_RSC_DFN]
    listing = cluster_a.get("/v1/remotes/nope/backups")
    assert listing.status == 404 and errors(listing.body) == [FAIL_NOT_FOUND_REMOTE]


def test_incremental_backup_waits_for_its_base(
    cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    cluster_a.ok(cluster_a.post("/_sim/backup", {"shipSeconds": 1.5}))
    full = cluster_a.backup("s3", "r1")
    next_second()
    inc = cluster_a.backup("s3", "r1", incremental=True)
    assert shipping_status(cluster_a, "r1", full, "s3") == "Shipping"
    wait_shipped(cluster_a, "r1", full, "s3")
    # Queued behind its base (upstream "queueAnyways"): not in the bucket when the base is.
    assert shipping_status(cluster_a, "r1", inc, "s3") == "Shipping"
    assert not any(inc in k for k in bucket_keys(s3, bucket))
    wait_shipped(cluster_a, "r1", inc, "s3")
    assert meta_of(s3, bucket, f"r1_{inc}.meta")["basedOn"] == f"r1_{full}.meta"


def test_restore_can_be_aborted(
    cluster_a: Api, start_sim: Callable[..., Api], s3_server: S3Server, bucket: str
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    shipped(cluster_a)
    cluster_b = start_sim(seed("m1"))
    cluster_b.ok(cluster_b.post("/_sim/backup", {"shipSeconds": 2.0}))
    cluster_b.ok(cluster_b.s3_remote("s3", s3_server, bucket))
    body = {"src_rsc_name": "r1", "target_rsc_name": "r2", "node_name": "m1"}
    cluster_b.ok(cluster_b.post("/v1/remotes/s3/backups/restore", body))
    again = cluster_b.post("/v1/remotes/s3/backups/restore", {**body, "target_rsc_name": "r3"})
    assert again.status == 500 and errors(again.body) == [997]  # the metadata object is in use

    reply = cluster_b.post("/v1/remotes/s3/backups/abort", {"rsc_name": "r2", "restore": True})
    assert reply.body[-1]["message"] == "Successfully aborted all in-progress backup-restores of resource r2"
    wait_for(
        "the received snapshot to go",
        lambda: cluster_b.get("/v1/resource-definitions/r2/snapshots").body == [],
    )
    assert cluster_b.get("/v1/resource-definitions/r2/resources").body == []


def test_restore_into_a_deployed_definition_only_downloads(
    cluster_a: Api, start_sim: Callable[..., Api], s3_server: S3Server, bucket: str
) -> None:
    setup_backup(cluster_a, s3_server, bucket)
    snap = shipped(cluster_a)
    cluster_b = start_sim(seed("m1", "m2"))
    cluster_b.ok(cluster_b.post("/_sim/backup", {"shipSeconds": 0}))
    cluster_b.ok(cluster_b.s3_remote("s3", s3_server, bucket))
    cluster_b.rd("busy", GIB, place_count=1)
    reply = cluster_b.post(
        "/v1/remotes/s3/backups/restore", {"src_rsc_name": "r1", "target_rsc_name": "busy", "node_name": "m2"}
    )
    assert reply.status == 201 and 1019 in [e["ret_code"] & 0x7FFF for e in reply.body]
    wait_for("the download", lambda: "SUCCESSFUL" in cluster_b.snapshot("busy", snap).get("flags", []))
    # Downloaded as a snapshot, restored into nothing: the definition keeps its one volume and resource.
    assert len(cluster_b.get("/v1/resource-definitions/busy/resources").body) == 1
    assert len(cluster_b.get("/v1/resource-definitions/busy/volume-definitions").body) == 1
