"""What a restore would download and need: `POST /v1/remotes/{remote}/backups/info`.

linstor-server: rest/v1/Backups.java (backupInfo), CtrlBackupApiCallHandler.backupInfoInTransaction,
fillBackupInfo, getRemainingSize; Json.apiToBackupInfo.  `dl_size_kib` adds up the data objects
of the whole chain (object size rounded up to KiB); `alloc_size_kib` and `usable_size_kib` come
from the newest backup only; `remaining_space_kib` is the target pool's free space after the
restore, given only with `node_name`.
"""

from __future__ import annotations

from typing import Any

from . import apicallrc as rc
from . import backuprc as B
from .backupmeta import volume_keys
from .backups import s3_failure, s3_remote_or_fail
from .model import State
from .restore import find_backup, metadata_chain, validate_selection
from .s3 import S3Error


def _java(value: Any) -> str:
    """How Java's string concatenation shows an absent value."""
    return str(value) if value else "null"


def _kib(size: int) -> int:
    return -(-size // 1024)


async def backup_info(state: State, remote_name: str, data: dict[str, Any]) -> dict[str, Any]:
    validate_selection({**data, "download_only": False, "force_restore": False})
    rename = {str(k): str(v) for k, v in (data.get("stor_pool_map") or {}).items()}
    node_name = str(data.get("node_name") or "")
    if rename and not node_name:
        raise rc.fail(
            rc.FAIL_INVLD_REQUEST,
            "Too few parameters given. When using --storpool-rename, then --target-node is also needed.",
        )
    remote = s3_remote_or_fail(state, remote_name)
    client = remote.client()
    try:
        top, objects = await find_backup(client, data)
        if top is None:
            raise rc.fail(
                B.FAIL_NOT_FOUND_BACKUP | B.MASK_BACKUP,
                f"Could not find a matching backup for resource '{_java(data.get('src_rsc_name'))}', "
                f"snapshot '{_java(data.get('src_snap_name'))}' and id '{_java(data.get('last_backup'))}' "
                f"in remote '{remote.name}'",
            )
        if top.key not in objects:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_SNAPSHOT_DFN | B.MASK_BACKUP,
                f"Could not find the needed meta-file with the name '{top.key}' in remote '{remote.name}'",
            )
        chain = await metadata_chain(client, top)
    except S3Error as exc:
        raise s3_failure(exc) from exc
    pools: dict[str, dict[str, Any]] = {}
    total_dl = total_alloc = 0
    for index, (_, meta) in enumerate(chain):
        names = volume_keys(meta)
        for vlm in (meta.get("layerData") or {}).get("vlms") or []:
            nr = int(vlm["vlmNr"])
            name = next(iter(names.get(nr, [])), "")
            entry: dict[str, Any] = {"name": name, "layer_type": "STORAGE"}
            if name in objects:
                entry["dl_size_kib"] = _kib(objects[name])
                total_dl += entry["dl_size_kib"]
            if index == 0:
                entry["alloc_size_kib"] = int(vlm.get("snapshotAllocatedSize", 0))
                entry["usable_size_kib"] = int(vlm.get("snapshotUsableSize", 0))
                total_alloc += entry["alloc_size_kib"]
            src = str(vlm["storPoolName"])
            pool = pools.setdefault(
                src,
                {
                    "name": src,
                    "provider_kind": vlm.get("providerKind"),
                    "target_name": rename.get(src, src),
                    "vlms": [],
                },
            )
            pool["vlms"].append(entry)
    if node_name:
        _remaining_space(state, node_name, pools)
    return {
        "rsc": top.rsc,
        "full": chain[-1][0].key,
        "snap": top.snap,
        "latest": top.full_id,
        "count": len(chain),
        "dl_size_kib": total_dl,
        "alloc_size_kib": total_alloc,
        "storpools": list(pools.values()),
    }


def _remaining_space(state: State, node_name: str, pools: dict[str, dict[str, Any]]) -> None:
    """getRemainingSize: free space of the target pool minus what the restore allocates and downloads."""
    node = state.node(node_name)
    if node is None:
        raise rc.fail(rc.FAIL_NOT_FOUND_NODE, f"Node '{node_name}' not found.")
    for pool in pools.values():
        target = node.pool(pool["target_name"])
        if target is None:
            raise rc.fail(
                rc.FAIL_NOT_FOUND_STOR_POOL,
                f"Storage pool '{pool['target_name']}' on node '{node.name}' not found.",
            )
        used = sum(v.get("alloc_size_kib", 0) + v.get("dl_size_kib", 0) for v in pool["vlms"])
        pool["remaining_space_kib"] = target.reported_free_kib - used
