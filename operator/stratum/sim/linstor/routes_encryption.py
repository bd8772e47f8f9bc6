"""The controller's master passphrase: `GET/POST /v1/encryption/passphrase`.

linstor-server: api/rest/v1/Encryption.java, CtrlConfApiCallHandler.setPassphrase / masterPassphraseStatus.
S3 remotes need it (their keys are stored encrypted with the master key).  A seed's
`masterPassphrase` stands for a controller started with one (LS_MASTER_PASSPHRASE).
"""

from __future__ import annotations

from aiohttp import web

from . import apicallrc as rc
from . import backuprc as B
from .http import body_dict, entries_response, read_body, state_of

CTX_CRYPT = rc.MASK_CRT | rc.MASK_CTRL_CONF


async def passphrase_status(request: web.Request) -> web.Response:
    unlocked = bool(state_of(request).backup.master_passphrase)
    return web.json_response({"status": "unlocked" if unlocked else "unset"})


async def create_passphrase(request: web.Request) -> web.Response:
    state = state_of(request)
    try:
        data = body_dict(await read_body(request, 500))
        new = str(data.get("new_passphrase") or "")
        if state.backup.master_passphrase:
            raise rc.fail(
                B.FAIL_EXISTS_CRYPT_PASSPHRASE,
                "Could not create new crypt passphrase as it already exists",
                cause="A passphrase was already defined",
                correction="Use the crypt-modify-passphrase command instead of crypt-create-passphrase",
            )
    except rc.ApiError as exc:
        return entries_response(exc.entries, 201, CTX_CRYPT, exc.status)
    state.backup.master_passphrase = new
    return entries_response([rc.ok(rc.CREATED, "Crypt passphrase created.")], 201, CTX_CRYPT)


def setup(app: web.Application) -> None:
    app.router.add_get("/v1/encryption/passphrase", passphrase_status)
    app.router.add_post("/v1/encryption/passphrase", create_passphrase)
