"""Backup schedules (linstor-server: Schedules.java, CtrlScheduleApiCallHandler.java,
CtrlScheduledBackupsApiCallHandler.java)."""

from __future__ import annotations

from backup_helpers import GIB, Api, code, errors, warnings

from support.s3 import S3Server

FAIL_NOT_FOUND_SCHEDULE = 323
FAIL_EXISTS_SCHEDULE = 528
MASK_MOD = 0x02000000
MASK_SCHEDULE = 0x540000


def test_schedule_crud(cluster_a: Api) -> None:
    assert cluster_a.get("/v1/schedules").body == {"data": []}
    created = cluster_a.post(
        "/v1/schedules", {"schedule_name": "nightly", "full_cron": "0 3 * * *", "keep_local": 3}
    )
    assert created.status == 200, created.body
    assert created.body[0]["ret_code"] == MASK_MOD | MASK_SCHEDULE | 1
    assert created.body[0]["message"] == "Schedule: nightly created successfully."
    dup = cluster_a.post("/v1/schedules", {"schedule_name": "NIGHTLY", "full_cron": "0 4 * * *"})
    assert dup.status == 500 and errors(dup.body) == [FAIL_EXISTS_SCHEDULE]

    cluster_a.ok(cluster_a.put("/v1/schedules/nightly", {"inc_cron": "0 * * * *", "keep_remote": 7}))
    assert cluster_a.get("/v1/schedules").body == {
        "data": [
            {
                "schedule_name": "nightly",
                "full_cron": "0 3 * * *",
                "inc_cron": "0 * * * *",
                "keep_local": 3,
                "keep_remote": 7,
                "on_failure": "SKIP",
            }
        ]
    }
    missing = cluster_a.put("/v1/schedules/weekly", {"keep_local": 1})
    assert missing.status == 404 and errors(missing.body) == [FAIL_NOT_FOUND_SCHEDULE]
    assert (
        cluster_a.delete("/v1/schedules/nightly").body[0]["message"]
        == "Schedule: nightly marked for deletion."
    )
    assert warnings(cluster_a.delete("/v1/schedules/nightly").body) == [3000]


def test_schedule_enabled_for_a_resource_definition(cluster_a: Api, s3_server: S3Server, bucket: str) -> None:
    cluster_a.ok(cluster_a.s3_remote("s3", s3_server, bucket))
    cluster_a.rd("r1", GIB)
    cluster_a.ok(cluster_a.post("/v1/schedules", {"schedule_name": "hourly", "full_cron": "0 * * * *"}))
    base = "/v1/remotes/s3/backups/schedule/hourly"

    enabled = cluster_a.put(f"{base}/enable", {"rsc_name": "r1", "node_name": "n2"})
    assert enabled.status == 200, enabled.body
    assert enabled.body[0]["message"] == (
        "Backup shipping schedule 'hourly' successfully enabled for resource definition 'r1' to remote 's3'."
    )
    props = cluster_a.get("/v1/resource-definitions/r1").body["props"]
    assert props["Schedule/s3/hourly/Enabled"] == "true" and props["Schedule/s3/hourly/PrefNode"] == "n2"

    disabled = cluster_a.put(f"{base}/disable", {})
    assert disabled.body[0]["message"].endswith("successfully disabled on controller to remote 's3'.")
    removed = cluster_a.delete(f"{base}/delete", rsc_dfn_name="r1")
    assert removed.status == 200
    assert "Schedule/s3/hourly/Enabled" not in cluster_a.get("/v1/resource-definitions/r1").body.get(
        "props", {}
    )
    unknown = cluster_a.put("/v1/remotes/s3/backups/schedule/nope/enable", {})
    assert unknown.status == 404 and code(unknown.body[0]) == FAIL_NOT_FOUND_SCHEDULE
