"""Backup and Remote passes against a scripted LINSTOR (httpx MockTransport): a shipment is
started once (a retry after a crash observes), progress and failure come from the snapshot's
shipping property, deletion keeps or drops the local snapshot as it should, Remote keys are
handed over and a changed Secret is handed over again, without the keys ever in a message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from stratum.api.linstor_backup import BackupSpec, BackupStatus, RemoteSpec
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.clients.linstor.backups import HIDDEN, BackupInfo, BackupPool, BackupPoolVolume
from stratum.clients.recording import Recorder, recording
from stratum.reconcile.linstor import backup, remote
from stratum.reconcile.linstor.backup import BackupInputs, RemoteRef, info_status, taken_snapshot_name
from stratum.reconcile.linstor.refs import ResourceRef, SnapshotRef

SHIP_KEY = "BackupShipping/Source/s3/ShippingStatus"
Handler = Callable[[httpx.Request], httpx.Response]
VERSION_ROUTE = ("GET", "/v1/controller/version")
VERSION = {"version": "1.33.2", "rest_api_version": "1.27.0"}


class Linstor:
    """Answers by (method, path); records every request."""

    def __init__(self, routes: dict[tuple[str, str], Any]) -> None:
        self.routes = {VERSION_ROUTE: VERSION, **routes}
        self.requests: list[tuple[str, str, Any]] = []
        self.params: list[dict[str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) == VERSION_ROUTE:  # read once by the client, not counted
            return httpx.Response(200, json=VERSION)
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        self.params.append(dict(request.url.params))
        answer = self.routes.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(
                404, json=[{"ret_code": -4611686018427387904 | 315, "message": "not found"}]
            )
        if callable(answer):
            answer = answer(request)
        return httpx.Response(200, json=answer)

    def client(self) -> LinstorClient:
        return LinstorClient(
            LinstorConfig(controllers=("http://linstor",)), transport=httpx.MockTransport(self)
        )

    def calls(self, method: str) -> list[str]:
        return [path for m, path, _ in self.requests if m == method]


def snapshot(props: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "name": "snap1",
        "resource_name": "r1",
        "flags": ["SUCCESSFUL"],
        "snapshot_definition_props": props or {},
        "volume_definitions": [{"volume_number": 0, "size_kib": 1048576}],
    }


SNAPSHOT_PATH = "/v1/resource-definitions/r1/snapshots/snap1"


def inputs(**extra: Any) -> BackupInputs:
    base: dict[str, Any] = {
        "name": "b1",
        "uid": "0000-1111",
        "remote": RemoteRef("s3", ready=True),
        "resource": ResourceRef("r1", exists=True),
        "snapshot": SnapshotRef("snap1", "r1", ready=True),
    }
    return BackupInputs(**{**base, **extra})


SPEC = BackupSpec.model_validate({"remote": "s3", "resource": "r1", "snapshot": "snap1"})


async def test_shipping_starts_once() -> None:
    linstor = Linstor({("GET", SNAPSHOT_PATH): snapshot(), ("POST", "/v1/remotes/s3/backups"): []})
    async with linstor.client() as client:
        outcome = await backup.reconcile(client, SPEC, inputs())
    assert linstor.calls("POST") == ["/v1/remotes/s3/backups"]
    assert linstor.requests[-1][2] == {"rsc_name": "r1", "snap_name": "snap1", "incremental": True}
    assert outcome.reason == "Shipping" and outcome.status is not None
    assert outcome.status.snapshot_linstor_name == "snap1" and outcome.status.snapshot_taken is False


async def test_a_retry_after_a_crash_observes_instead_of_shipping_again() -> None:
    """The status write was lost, but LINSTOR marked the snapshot: no second shipment."""
    linstor = Linstor({("GET", SNAPSHOT_PATH): snapshot({SHIP_KEY: "Shipping"})})
    async with linstor.client() as client:
        outcome = await backup.reconcile(client, SPEC, inputs())
    assert linstor.calls("POST") == []
    assert outcome.reason == "Shipping"


async def test_failed_shipment_stalls() -> None:
    linstor = Linstor({("GET", SNAPSHOT_PATH): snapshot({SHIP_KEY: "Failed"})})
    recorded = BackupStatus(
        remote_linstor_name="s3", resource_linstor_name="r1", snapshot_linstor_name="snap1", phase="Shipping"
    )
    async with linstor.client() as client:
        outcome = await backup.reconcile(client, SPEC, inputs(recorded=recorded))
    assert outcome.reason == "BackupFailed" and outcome.reason.stalls
    assert outcome.status is not None and outcome.status.phase == "Failed"


async def test_success_reports_id_size_and_volumes() -> None:
    listing = {
        "linstor": {
            "r1_back_20261201_080000^snap1": {
                "id": "r1_back_20261201_080000^snap1",
                "origin_rsc": "r1",
                "origin_snap": "snap1",
                "start_timestamp": 1796112000000,
                "finished_timestamp": 1796112003000,
                "success": True,
            }
        },
        "other": {},
    }
    info = {
        "rsc": "r1",
        "snap": "snap1",
        "latest": "r1_back_20261201_080000^snap1",
        "dl_size_kib": 2048,
        "storpools": [
            {
                "name": "thin",
                "vlms": [{"name": "r1_00000_back_20261201_080000^snap1", "usable_size_kib": 1048576}],
            }
        ],
    }
    linstor = Linstor(
        {
            ("GET", SNAPSHOT_PATH): snapshot({SHIP_KEY: "Success"}),
            ("GET", "/v1/remotes/s3/backups"): listing,
            ("POST", "/v1/remotes/s3/backups/info"): info,
        }
    )
    recorded = BackupStatus(
        remote_linstor_name="s3", resource_linstor_name="r1", snapshot_linstor_name="snap1", phase="Shipping"
    )
    async with linstor.client() as client:
        outcome = await backup.reconcile(client, SPEC, inputs(recorded=recorded))
    assert outcome.ready and outcome.status is not None
    status = outcome.status
    assert (status.id, status.phase, status.size) == ("r1_back_20261201_080000^snap1", "Succeeded", "2Mi")
    assert status.completed_at == "2026-12-01T08:00:03Z"
    assert [(v.number, v.size) for v in status.volumes] == [(0, "1Gi")]


async def test_waits_for_the_remote_and_the_snapshot_without_calling_linstor() -> None:
    linstor = Linstor({})
    async with linstor.client() as client:
        no_remote = await backup.reconcile(client, SPEC, inputs(remote=RemoteRef("s3", ready=False)))
        no_snap = await backup.reconcile(
            client, SPEC, inputs(snapshot=SnapshotRef("snap1", "r1", ready=False))
        )
    assert (no_remote.reason, no_snap.reason) == ("WaitingForRemote", "WaitingForSnapshot")
    assert linstor.requests == []


async def test_delete_keeps_a_snapshot_object_s_snapshot_and_drops_a_taken_one() -> None:
    for taken, params in (
        (False, {"id": "r1_back_x", "keep_snaps": "true"}),
        (True, {"id": "r1_back_x"}),
    ):
        linstor = Linstor({("DELETE", "/v1/remotes/s3/backups"): []})
        recorded = BackupStatus(
            remote_linstor_name="s3", id="r1_back_x", phase="Succeeded", snapshot_taken=taken
        )
        async with linstor.client() as client:
            outcome = await backup.finalize(client, SPEC, recorded)
        assert outcome.ready
        assert linstor.calls("DELETE") == ["/v1/remotes/s3/backups"] and linstor.params == [params]


async def test_delete_waits_for_newer_incrementals() -> None:
    dependent = [{"ret_code": -4611686018427387904 | 977, "message": "r1_back_x.meta is referenced"}]
    linstor = Linstor({})
    transport = httpx.MockTransport(
        lambda r: httpx.Response(500, json=dependent) if r.method == "DELETE" else linstor(r)
    )
    recorded = BackupStatus(remote_linstor_name="s3", id="r1_back_x", phase="Succeeded")
    async with LinstorClient(LinstorConfig(controllers=("http://linstor",)), transport=transport) as client:
        outcome = await backup.finalize(client, SPEC, recorded)
    assert not outcome.ready and outcome.reason == "HasDependentBackups"


async def test_retain_and_imports_never_delete() -> None:
    linstor = Linstor({})
    recorded = BackupStatus(remote_linstor_name="s3", id="r1_back_x", phase="Succeeded")
    retain = BackupSpec.model_validate({"remote": "s3", "resource": "r1", "deletionPolicy": "Retain"})
    imported = BackupSpec.model_validate({"remote": "s3", "import": {"id": "r1_back_x"}})
    async with linstor.client() as client:
        assert (await backup.finalize(client, retain, recorded)).ready
        assert (await backup.finalize(client, imported, recorded)).ready
    assert linstor.requests == []


def test_taken_snapshot_names_follow_linstor_rules() -> None:
    assert taken_snapshot_name("nightly", "ab-cd") == "nightly"
    assert taken_snapshot_name("9-starts-with-digit", "0123-4567-89ab") == "backup-0123456789ab"
    assert taken_snapshot_name("x" * 49, "0123-4567") == "backup-01234567"


def test_info_status_reads_sizes_per_volume_number() -> None:
    info = BackupInfo(
        rsc="r1",
        latest="r1_back_x",
        dl_size_kib=3 * 1048576,
        storpools=[
            BackupPool(
                name="thin",
                vlms=[
                    BackupPoolVolume(name="r1_00001_back_20261201_080000", usable_size_kib=2 * 1048576),
                    BackupPoolVolume(name="r1_00000_back_20261201_080000", usable_size_kib=1048576),
                ],
            )
        ],
    )
    status = info_status(info)
    assert status.size == "3Gi"
    assert [(v.number, v.size) for v in status.volumes] == [(0, "1Gi"), (1, "2Gi")]


# ------------------------------------------------------------------------------------ Remote


class Secrets:
    def __init__(self, data: dict[str, str], version: str) -> None:
        self.data, self.version = data, version
        self.patched: list[tuple[str, str, Any]] = []

    async def read_secret(self, namespace: str, name: str) -> tuple[dict[str, str], str] | None:
        return (self.data, self.version) if self.data else None

    async def list(self, api_version: str, plural: str, label_selector: str = "") -> list[Any]:
        raise AssertionError

    async def create(self, api_version: str, plural: str, body: Any) -> bool:
        raise AssertionError

    async def delete(self, api_version: str, plural: str, name: str) -> bool:
        raise AssertionError

    async def patch_status(self, api_version: str, plural: str, name: str, status: Any) -> None:
        self.patched.append((plural, name, status))


REMOTE = RemoteSpec.model_validate(
    {
        "s3": {"endpoint": "http://s3", "bucket": "bkt", "region": "eu"},
        "credentialsSecretRef": {"name": "keys", "namespace": "stratum-system"},
    }
)
LISTED = [{"remote_name": "offsite", "endpoint": "http://s3", "bucket": "bkt", "region": "eu"}]


async def test_remote_is_created_with_the_secret_keys() -> None:
    linstor = Linstor({("GET", "/v1/remotes/s3"): [], ("POST", "/v1/remotes/s3"): []})
    posts_when_recorded: list[list[str]] = []

    class Recording(Secrets):
        async def patch_status(self, api_version: str, plural: str, name: str, status: Any) -> None:
            posts_when_recorded.append(linstor.calls("POST"))
            await super().patch_status(api_version, plural, name, status)

    secrets = Recording({"accessKey": "AK", "secretKey": "SK-very-secret"}, "7")
    async with linstor.client() as client:
        outcome = await remote.reconcile(client, secrets, "offsite", REMOTE, remote.Recorded(None, None))
    assert outcome.ready and outcome.status is not None and outcome.status.credentials_version == "7"
    (post,) = [body for m, _, body in linstor.requests if m == "POST"]
    assert (post["access_key"], post["secret_key"], post["remote_name"]) == (
        "AK",
        "SK-very-secret",
        "offsite",
    )
    assert "SK-very-secret" not in outcome.message + " ".join(outcome.actions)
    # Recorded as ours before LINSTOR was asked (LINSTOR keeps no owner mark on remotes).
    assert secrets.patched == [("remotes", "offsite", {"linstorName": "offsite"})]
    assert posts_when_recorded == [[]]


async def test_a_changed_secret_is_handed_over_again_and_an_unchanged_one_is_not() -> None:
    for version, modified in (("7", False), ("8", True)):
        linstor = Linstor({("GET", "/v1/remotes/s3"): LISTED, ("PUT", "/v1/remotes/s3/offsite"): []})
        secrets = Secrets({"accessKey": "AK", "secretKey": "SK2"}, version)
        async with linstor.client() as client:
            outcome = await remote.reconcile(
                client, secrets, "offsite", REMOTE, remote.Recorded("offsite", "7")
            )
        assert outcome.ready
        assert bool(linstor.calls("PUT")) is modified


async def test_a_remote_of_that_name_not_made_here_is_a_conflict() -> None:
    linstor = Linstor({("GET", "/v1/remotes/s3"): LISTED})
    secrets = Secrets({"accessKey": "AK", "secretKey": "SK"}, "1")
    async with linstor.client() as client:
        outcome = await remote.reconcile(client, secrets, "offsite", REMOTE, remote.Recorded(None, None))
    assert outcome.reason == "NameConflict" and linstor.calls("PUT") == []


async def test_missing_secret_or_key_stalls_without_calling_linstor() -> None:
    linstor = Linstor({})
    async with linstor.client() as client:
        gone = await remote.reconcile(client, Secrets({}, ""), "offsite", REMOTE, remote.Recorded(None, None))
        half = await remote.reconcile(
            client, Secrets({"accessKey": "AK"}, "1"), "offsite", REMOTE, remote.Recorded(None, None)
        )
    assert gone.reason == half.reason == "SecretMissing" and gone.reason.stalls
    assert "secretKey" in half.message
    assert linstor.requests == []


async def test_refused_remote_reports_linstor_s_words() -> None:
    refusal = [
        {"ret_code": -4611686018427387904 | 0x80000 | 4095, "message": "The remote could not be reached"}
    ]

    def refuse(_: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json=refusal)

    linstor = Linstor({("GET", "/v1/remotes/s3"): []})
    transport = httpx.MockTransport(lambda r: refuse(r) if r.method == "POST" else linstor(r))
    secrets = Secrets({"accessKey": "AK", "secretKey": "SK-secret"}, "1")
    async with LinstorClient(LinstorConfig(controllers=("http://linstor",)), transport=transport) as client:
        outcome = await remote.reconcile(client, secrets, "offsite", REMOTE, remote.Recorded(None, None))
    assert outcome.reason == "RemoteRefused" and "could not be reached" in outcome.message
    assert "SK-secret" not in outcome.message


async def test_a_succeeded_backup_is_only_looked_up_again() -> None:
    listing = {"linstor": {"r1_back_x": {"id": "r1_back_x", "origin_rsc": "r1", "success": True}}}
    linstor = Linstor({("GET", "/v1/remotes/s3/backups"): listing})
    recorded = BackupStatus(
        remote_linstor_name="s3",
        resource_linstor_name="r1",
        snapshot_linstor_name="snap1",
        id="r1_back_x",
        phase="Succeeded",
    )
    async with linstor.client() as client:
        kept = await backup.reconcile(client, SPEC, inputs(recorded=recorded))
        linstor.routes[("GET", "/v1/remotes/s3/backups")] = {"other": {}}
        lost = await backup.reconcile(client, SPEC, inputs(recorded=recorded))
    assert kept.ready and kept.status is None
    assert [m for m, _, _ in linstor.requests] == ["GET", "GET"]
    assert lost.reason == "BackupNotFound" and lost.reason.stalls


async def test_planned_remote_requests_never_carry_the_keys() -> None:
    """Observe and `stratum plan` print planned requests: the keys are not in them."""
    linstor = Linstor({("GET", "/v1/remotes/s3"): []})
    secrets = Secrets({"accessKey": "AK-visible?", "secretKey": "SK-visible?"}, "1")
    recorder = Recorder()
    async with linstor.client() as client:
        with recording(recorder):
            await remote.reconcile(client, secrets, "offsite", REMOTE, remote.Recorded(None, None))
    (planned,) = recorder.requests
    assert planned.method == "POST" and planned.body["access_key"] == planned.body["secret_key"] == HIDDEN
    assert "visible" not in repr(recorder.requests) and linstor.calls("POST") == []
