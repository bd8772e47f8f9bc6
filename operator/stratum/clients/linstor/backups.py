"""LINSTOR S3 remotes and backups (linstor-server's OpenAPI: /v1/remotes, /v1/remotes/s3,
/v1/remotes/{remote}/backups[/restore|/info]), as functions over the one LinstorClient."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from stratum.clients.linstor.apicallrc import ApiCallRc, LinstorError, parse_answers
from stratum.clients.linstor.client import LinstorClient, Params
from stratum.clients.linstor.models import Wire
from stratum.clients.recording import reading, recorder_for

# ret codes (linstor-common consts.json)
FAIL_NOT_FOUND_REMOTE = 321
FAIL_NOT_FOUND_BACKUP = 322
FAIL_NOT_FOUND_SNAPSHOT_DFN = 313
FAIL_EXISTS_SNAPSHOT = 516
FAIL_EXISTS_REMOTE = 527
FAIL_DEPENDEND_BACKUP = 977
# Snapshot property namespace of a shipment (InternalApiConsts): .../Source/<remote>/ShippingStatus
SHIPPING_NAMESPACE = "BackupShipping/Source"


class S3Remote(Wire):
    remote_name: str
    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None


class BackupVolume(Wire):
    vlm_nr: int
    finished_timestamp: int | None = None


class Backup(Wire):
    """One entry of GET /v1/remotes/{remote}/backups (`linstor` map)."""

    id: str
    start_timestamp: int | None = None
    finished_timestamp: int | None = None
    origin_rsc: str
    origin_snap: str | None = None
    origin_node: str | None = None
    vlms: list[BackupVolume] = Field(default_factory=list)
    success: bool | None = None
    shipping: bool | None = None
    restorable: bool | None = None
    based_on_id: str | None = None


class BackupPoolVolume(Wire):
    name: str = ""
    dl_size_kib: int | None = None
    usable_size_kib: int | None = None


class BackupPool(Wire):
    name: str
    target_name: str | None = None
    vlms: list[BackupPoolVolume] = Field(default_factory=list)


class BackupInfo(Wire):
    """POST /v1/remotes/{remote}/backups/info: what restoring a backup would download."""

    rsc: str
    snap: str | None = None
    latest: str
    count: int = 1
    dl_size_kib: int = 0
    alloc_size_kib: int = 0
    storpools: list[BackupPool] = Field(default_factory=list)


def shipping_status_key(remote: str) -> str:
    return f"{SHIPPING_NAMESPACE}/{remote}/ShippingStatus"


async def _mutate(
    client: LinstorClient, method: str, path: str, body: Any = None, params: Params | None = None
) -> list[ApiCallRc]:
    return parse_answers(await client.request(method, path, json=body, params=params)) or []


# ------------------------------------------------------------------------------ remotes

HIDDEN = "(from the Secret)"


def _keys(method: str, access_key: str, secret_key: str) -> dict[str, str]:
    """The keys for LINSTOR; a planned request (Observe, `stratum plan`) is printed, so it only
    says where they come from."""
    if recorder_for(method) is not None:
        return {"access_key": HIDDEN, "secret_key": HIDDEN}
    return {"access_key": access_key, "secret_key": secret_key}


async def list_s3_remotes(client: LinstorClient) -> list[S3Remote]:
    return [S3Remote.model_validate(r) for r in await client.request("GET", "/v1/remotes/s3") or []]


async def create_s3_remote(
    client: LinstorClient,
    name: str,
    *,
    endpoint: str,
    bucket: str,
    region: str,
    access_key: str,
    secret_key: str,
    use_path_style: bool,
) -> list[ApiCallRc]:
    body = {
        "remote_name": name,
        "endpoint": endpoint,
        "bucket": bucket,
        "region": region,
        **_keys("POST", access_key, secret_key),
        "use_path_style": use_path_style,
    }
    return await _mutate(client, "POST", "/v1/remotes/s3", body)


async def modify_s3_remote(
    client: LinstorClient,
    name: str,
    *,
    endpoint: str,
    bucket: str,
    region: str,
    access_key: str,
    secret_key: str,
) -> list[ApiCallRc]:
    body = {
        "endpoint": endpoint,
        "bucket": bucket,
        "region": region,
        **_keys("PUT", access_key, secret_key),
    }
    return await _mutate(client, "PUT", f"/v1/remotes/s3/{name}", body)


async def delete_remote(client: LinstorClient, name: str) -> list[ApiCallRc]:
    return await _mutate(client, "DELETE", "/v1/remotes", params={"remote_name": name})


# ------------------------------------------------------------------------------ backups


async def create_backup(
    client: LinstorClient, remote: str, *, resource: str, snapshot: str, incremental: bool
) -> list[ApiCallRc]:
    body = {"rsc_name": resource, "snap_name": snapshot, "incremental": incremental}
    return await _mutate(client, "POST", f"/v1/remotes/{remote}/backups", body)


async def list_backups(
    client: LinstorClient, remote: str, *, resource: str = "", snapshot: str = ""
) -> list[Backup]:
    params: Params = {}
    if resource:
        params["rsc_name"] = resource
    if snapshot:
        params["snap_name"] = snapshot
    data = await client.request("GET", f"/v1/remotes/{remote}/backups", params=params) or {}
    return [Backup.model_validate(b) for b in (data.get("linstor") or {}).values()]


async def backup_info(
    client: LinstorClient, remote: str, *, backup_id: str = "", resource: str = ""
) -> BackupInfo | None:
    """None when the remote has no such backup."""
    body = {"last_backup": backup_id} if backup_id else {"src_rsc_name": resource}
    try:
        with reading():  # a POST that changes nothing: answered even in plan mode
            answer = await client.request("POST", f"/v1/remotes/{remote}/backups/info", json=body)
        return BackupInfo.model_validate(answer)
    except LinstorError as exc:
        if exc.has_code(FAIL_NOT_FOUND_BACKUP, FAIL_NOT_FOUND_SNAPSHOT_DFN):
            return None
        raise


async def delete_backup(
    client: LinstorClient, remote: str, backup_id: str, *, keep_snapshot: bool
) -> list[ApiCallRc]:
    """Deletes the backup's objects (and, unless `keep_snapshot`, the local snapshot it was made from)."""
    params: Params = {"id": backup_id}
    if keep_snapshot:
        params["keep_snaps"] = "true"
    return await _mutate(client, "DELETE", f"/v1/remotes/{remote}/backups", params=params)


async def restore_backup(
    client: LinstorClient, remote: str, *, backup_id: str, target: str, node: str, resource_group: str
) -> list[ApiCallRc]:
    body = {
        "last_backup": backup_id,
        "target_rsc_name": target,
        "node_name": node,
        "dst_rsc_grp": resource_group,
    }
    return await _mutate(client, "POST", f"/v1/remotes/{remote}/backups/restore", body)


class StoragePool(Wire):
    node_name: str
    storage_pool_name: str
    free_capacity: int | None = None


async def list_storage_pools(client: LinstorClient, pools: list[str]) -> list[StoragePool]:
    params: Params = {"storage_pools": pools} if pools else {}
    return [
        StoragePool.model_validate(p)
        for p in await client.request("GET", "/v1/view/storage-pools", params=params)
    ]
