"""S3 remotes against a real S3 server (linstor-server: Remotes.java, CtrlRemoteApiCallHandler.java)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backup_helpers import Api, code, errors, seed, warnings

from support.s3 import S3Server

MASK_MOD = 0x02000000
MASK_REMOTE = 0x040000
MASK_CRT = 0x01000000
MASK_CTRL_CONF = 0x100000
FAIL_NOT_FOUND_CRYPT_KEY = 312
FAIL_INVLD_BACKUP_CONFIG = 238
FAIL_EXISTS_REMOTE = 527
FAIL_UNKNOWN_ERROR = 998
WARN_NOT_FOUND = 3000


def test_remote_create_list_and_delete(cluster_a: Api, s3_server: S3Server, bucket: str) -> None:
    reply = cluster_a.s3_remote("s3-eu", s3_server, bucket)
    assert reply.status == 200, reply.body
    assert [e["message"] for e in reply.body] == ["Remote created"]
    # CtrlRemoteApiCallHandler: CREATED | MASK_REMOTE in a modify-operation context.
    assert reply.body[0]["ret_code"] == MASK_MOD | MASK_REMOTE | 1
    assert reply.body[0]["obj_refs"] == {"Remote": "s3-eu"}

    listed = cluster_a.get("/v1/remotes").body
    # Keys are never returned; Json.apiToS3Remote does not fill in use_path_style.
    assert listed == {
        "s3_remotes": [
            {
                "remote_name": "s3-eu",
                "endpoint": s3_server.endpoint,
                "bucket": bucket,
                "region": s3_server.region,
                "use_path_style": False,
            }
        ]
    }
    assert cluster_a.get("/v1/remotes/s3").body == listed["s3_remotes"]

    again = cluster_a.s3_remote("S3-EU", s3_server, bucket)
    assert again.status == 500 and errors(again.body) == [FAIL_EXISTS_REMOTE]

    deleted = cluster_a.delete("/v1/remotes", remote_name="s3-eu")
    assert deleted.status == 200
    assert deleted.body[0]["message"] == "Remote: s3-eu marked for deletion."
    assert cluster_a.get("/v1/remotes").body == {}
    gone = cluster_a.delete("/v1/remotes", remote_name="s3-eu")
    assert gone.status == 200 and warnings(gone.body) == [WARN_NOT_FOUND]


def test_remote_needs_the_master_passphrase(
    start_sim: Callable[..., Api], s3_server: S3Server, bucket: str
) -> None:
    api = start_sim(seed("n1", passphrase=False))
    assert api.get("/v1/encryption/passphrase").body == {"status": "unset"}
    refused = api.s3_remote("s3", s3_server, bucket)
    assert refused.status == 404 and errors(refused.body) == [FAIL_NOT_FOUND_CRYPT_KEY]
    assert refused.body[0]["correction"] == "Create or enter the master passphrase"

    created = api.post("/v1/encryption/passphrase", {"new_passphrase": "secret"})
    assert created.status == 201
    assert created.body[0]["ret_code"] == MASK_CRT | MASK_CTRL_CONF | 1
    assert api.get("/v1/encryption/passphrase").body == {"status": "unlocked"}
    assert api.s3_remote("s3", s3_server, bucket).status == 200


def test_remote_that_cannot_be_reached_is_refused(cluster_a: Api, s3_server: S3Server, bucket: str) -> None:
    body: dict[str, Any] = {
        "remote_name": "bad",
        "endpoint": s3_server.endpoint,
        "bucket": bucket,
        "region": s3_server.region,
        "access_key": s3_server.access_key,
        "secret_key": "wrong-secret",
        "use_path_style": True,
    }
    refused = cluster_a.post("/v1/remotes/s3", body)
    assert refused.status == 500 and errors(refused.body) == [FAIL_UNKNOWN_ERROR]
    assert "could not be reached" in refused.body[0]["message"]
    missing_bucket = cluster_a.post(
        "/v1/remotes/s3", {**body, "secret_key": s3_server.secret_key, "bucket": "nope"}
    )
    assert missing_bucket.status == 500 and errors(missing_bucket.body) == [FAIL_UNKNOWN_ERROR]
    incomplete = cluster_a.post("/v1/remotes/s3", {"remote_name": "x", "endpoint": s3_server.endpoint})
    assert incomplete.status == 500 and errors(incomplete.body) == [FAIL_INVLD_BACKUP_CONFIG]
    assert incomplete.body[0]["message"].endswith("missing: [bucket, region, access_key, secret_key]")
    assert cluster_a.get("/v1/remotes").body == {}


def test_remote_modify_checks_the_new_settings(
    cluster_a: Api, s3_server: S3Server, bucket: str, s3: Any
) -> None:
    cluster_a.ok(cluster_a.s3_remote("s3", s3_server, bucket))
    wrong = cluster_a.put("/v1/remotes/s3/s3", {"secret_key": "wrong"})
    assert wrong.status == 500 and errors(wrong.body) == [FAIL_UNKNOWN_ERROR]

    other = bucket + "-b"
    s3.create_bucket(Bucket=other)
    try:
        moved = cluster_a.put("/v1/remotes/s3/s3", {"bucket": other})
        assert moved.status == 200 and moved.body == []
        assert cluster_a.get("/v1/remotes/s3").body[0]["bucket"] == other
    finally:
        s3.delete_bucket(Bucket=other)
    unknown = cluster_a.put("/v1/remotes/s3/nope", {"bucket": other})
    assert unknown.status == 404 and code(unknown.body[0]) == 321


def test_unparsable_body_is_a_500(cluster_a: Api) -> None:
    """Remotes.java reads the body as a String and answers a parse error through
    ApiCallRcRestUtils.handleJsonParseException: the entry has the error bits, so 500."""
    for path in ("/v1/remotes/s3", "/v1/remotes/s3/backups", "/v1/schedules"):
        resp = cluster_a.client.post(path, content=b"{", headers={"Content-Type": "application/json"})
        assert resp.status_code == 500, path
        assert resp.json()[0]["message"] == "Unable to parse input json."
