"""S3 remotes: `/v1/remotes` (list all kinds, delete), `/v1/remotes/s3` (list, create, modify).

linstor-server: api/rest/v1/Remotes.java, CtrlRemoteApiCallHandler.java (createS3/changeS3/delete),
Json.apiToS3Remote (the keys are never returned, and `use_path_style` is not filled in, so a
listed remote always says false), EncryptionHelper.encrypt (no master passphrase, no remote).
Creating or modifying a remote lists the bucket first: a remote that cannot be reached with the
given endpoint and keys is refused, as upstream.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import backuprc as B
from .backups import registered_remote
from .http import body_dict, entries_response, read_body, state_of
from .model import State
from .names import key, name_problem
from .remotes import S3Remote
from .s3 import S3Error

CTX_REMOTE = rc.MASK_MOD | B.MASK_REMOTE
_UNREACHABLE = (
    "The remote could not be reached with the given parameters and therefore wasn't created.\n"
    "Please check for spelling errors and that you have the correct access-key and secret-key.\n"
    "For more information on the error, please check the error-report."
)


def s3_remote_json(remote: S3Remote) -> dict[str, Any]:
    return {
        "remote_name": remote.name,
        "endpoint": remote.endpoint,
        "bucket": remote.bucket,
        "region": remote.region,
        "use_path_style": False,
    }


def _refs(name: str) -> dict[str, str]:
    return {"Remote": name}


def _check_master_key(state: State) -> None:
    if not state.backup.master_passphrase:
        raise rc.fail(
            B.FAIL_NOT_FOUND_CRYPT_KEY,
            "Unable to create encrypt key without having a master key",
            cause="The masterkey was not initialized yet",
            correction="Create or enter the master passphrase",
        )


async def _check_reachable(remote: S3Remote) -> None:
    try:
        await remote.client().list_keys()
    except S3Error as exc:
        raise rc.fail(
            rc.FAIL_UNKNOWN_ERROR | B.MASK_BACKUP,
            _UNREACHABLE,
            details=str(exc),
            error_report_ids=[rc.error_report_id()],
        ) from exc


async def list_remotes(request: web.Request) -> web.Response:
    remotes = [
        s3_remote_json(r) for r in sorted(state_of(request).backup.remotes.values(), key=lambda r: r.name)
    ]
    # RemoteList is NON_EMPTY: the empty linstor/ebs lists are left out.
    return web.json_response({"s3_remotes": remotes} if remotes else {})


async def list_s3_remotes(request: web.Request) -> web.Response:
    remotes = sorted(state_of(request).backup.remotes.values(), key=lambda r: r.name)
    return web.json_response([s3_remote_json(r) for r in remotes])


async def create_s3_remote(request: web.Request) -> web.Response:
    state = state_of(request)
    name = ""
    try:
        data = body_dict(await read_body(request, 500))
        name = str(data.get("remote_name") or "")
        fields = ("remote_name", "endpoint", "bucket", "region", "access_key", "secret_key")
        missing = [f for f in fields if not data.get(f)]
        if missing:
            plural = "parameter is" if len(missing) == 1 else "parameters are"
            raise rc.fail(
                B.FAIL_INVLD_BACKUP_CONFIG | B.MASK_BACKUP,
                f"The remote could not be created because the following required {plural} missing: "
                f"[{', '.join(missing)}]",
            )
        problem = name_problem(name)
        if problem:
            raise rc.fail(B.FAIL_INVLD_REMOTE_NAME, f"Invalid remote name '{name}': {problem}")
        if state.backup.remote(name) is not None:
            raise rc.fail(
                B.FAIL_EXISTS_REMOTE,
                f"A remote with the name '{name}' already exists. "
                "Please use a different name or try to modify the remote instead.",
            )
        _check_master_key(state)
        remote = S3Remote(
            name,
            str(data["endpoint"]),
            str(data["bucket"]),
            str(data["region"]),
            str(data["access_key"]),
            str(data["secret_key"]),
            bool(data.get("use_path_style", False)),
        )
        await _check_reachable(remote)
    except rc.ApiError as exc:
        return entries_response(_with_refs(exc.entries, name), 200, CTX_REMOTE, exc.status)
    state.backup.remotes[key(name)] = remote
    entries = [rc.ok(rc.CREATED | B.MASK_REMOTE, "Remote created", obj_refs=_refs(name))]
    return entries_response(entries, 200, CTX_REMOTE)


def _with_refs(entries: list[rc.Entry], name: str) -> list[rc.Entry]:
    if name:
        for e in entries:
            e.obj_refs.setdefault("Remote", name)
    return entries


async def modify_s3_remote(request: web.Request) -> web.Response:
    """changeS3: only non-empty fields change (`use_path_style` cannot be changed)."""
    state = state_of(request)
    name = request.match_info["remote"]
    try:
        data = body_dict(await read_body(request, 500))
        current = registered_remote(state, name)
        changed = S3Remote(
            current.name,
            str(data.get("endpoint") or current.endpoint),
            str(data.get("bucket") or current.bucket),
            str(data.get("region") or current.region),
            str(data.get("access_key") or current.access_key),
            str(data.get("secret_key") or current.secret_key),
            current.use_path_style,
            current.uuid,
        )
        if data.get("access_key") or data.get("secret_key"):
            _check_master_key(state)
        await _check_reachable(changed)
    except rc.ApiError as exc:
        return entries_response(_with_refs(exc.entries, name), 200, CTX_REMOTE, exc.status)
    state.backup.remotes[key(name)] = changed
    # The controller answers with the satellite updates only: no entry of its own.
    return entries_response([], 200, CTX_REMOTE)


async def delete_remote(request: web.Request) -> web.Response:
    state = state_of(request)
    name = request.query.get("remote_name", "")
    remote = state.backup.remote(name)
    if remote is None:
        entry = rc.warn(rc.WARN_NOT_FOUND, f"Remote: {name} not found.", obj_refs=_refs(name))
        return entries_response([entry], 200, CTX_REMOTE)
    description = f"Remote: {remote.name}"
    if any(key(s.remote) == key(remote.name) for s in state.backup.shipments.values()):
        # Upstream marks it (MARK_DELETED) and deletes it once the shipments are done; the simulator
        # keeps it until then as well, but does not delete it later by itself.
        entry = rc.ok(
            rc.MODIFIED,
            f"{description} prepared for deletion. Waiting for ongoing shipments to complete or abort.",
            details=f"{description} UUID is: {remote.uuid}",
            obj_refs=_refs(remote.name),
        )
        return entries_response([entry], 200, CTX_REMOTE)
    del state.backup.remotes[key(remote.name)]
    entry = rc.ok(
        rc.DELETED,
        f"{description} marked for deletion.",
        details=f"{description} UUID is: {remote.uuid}",
        obj_refs=_refs(remote.name),
    )
    return entries_response([entry], 200, CTX_REMOTE)


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/remotes", list_remotes)
    r.add_delete("/v1/remotes", delete_remote)
    r.add_get("/v1/remotes/s3", list_s3_remotes)
    r.add_post("/v1/remotes/s3", create_s3_remote)
    r.add_put("/v1/remotes/s3/{remote}", modify_s3_remote)
