"""The `.meta` object of a backup and the inventory of LINSTOR objects in a bucket.

linstor-server: server/.../api/pojo/backups/BackupMetaDataPojo.java (+ RscDfnMetaPojo, VlmDfnMetaPojo,
RscMetaPojo, VlmMetaPojo, BackupMetaInfoPojo), BackupShippingUtils.getBackupMetaDataPojo,
and CtrlBackupApiHelper.loadAllLinstorS3Objects for the inventory.

`layerData` is simplified to what a restore and the backup info need: per volume the storage pool,
its provider and the snapshot's allocated and usable size (KiB).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .backupnames import MetaName, VolumeName
from .s3 import S3Client


@dataclass
class ShippedVolume:
    number: int
    size_kib: int
    allocated_kib: int
    pool: str
    provider: str
    seed: str
    props: dict[str, str] = field(default_factory=dict)


@dataclass
class ShipPlan:
    """Everything a shipment needs, captured when it starts (the snapshot may change meanwhile)."""

    meta: MetaName
    rsc: str
    node: str
    snap_uuid: str
    start_ms: int
    volumes: list[ShippedVolume]
    snap_props: dict[str, str]
    rd_props: dict[str, str]
    based_on: MetaName | None

    def volume_key(self, nr: int) -> str:
        return self.meta.volume(nr).key


def metadata(
    plan: ShipPlan, finish_ms: int, cluster_id: str, vlm_finish_ms: dict[int, int]
) -> dict[str, Any]:
    """BackupMetaDataPojo as Jackson writes it (a default ObjectMapper: null fields included)."""
    return {
        "rscName": plan.rsc,
        "nodeName": plan.node,
        "startTimestamp": plan.start_ms,
        "finishTimestamp": finish_ms,
        "basedOn": plan.based_on.key if plan.based_on else None,
        "layerData": {
            "kind": "STORAGE",
            "rscNameSuffix": "",
            "vlms": [
                {
                    "vlmNr": v.number,
                    "storPoolName": v.pool,
                    "providerKind": v.provider,
                    "snapshotAllocatedSize": v.allocated_kib,
                    "snapshotUsableSize": v.size_kib,
                }
                for v in plan.volumes
            ],
        },
        "rscDfn": {
            "snapDfnProps": dict(plan.snap_props),
            "rscDfnProps": dict(plan.rd_props),
            "flags": 0,
            "vlmDfns": {
                str(v.number): {
                    "snapVlmDfnProps": {},
                    "vlmDfnProps": dict(v.props),
                    "flags": 0,
                    "size": v.size_kib,
                }
                for v in plan.volumes
            },
        },
        "rsc": {
            "snapProps": {},
            "rscProps": {},
            "flags": 0,
            "vlms": {str(v.number): {"snapVlmProps": {}, "vlmProps": {}, "flags": 0} for v in plan.volumes},
        },
        "luksInfo": None,
        "backups": {
            str(v.number): [
                {
                    "name": plan.volume_key(v.number),
                    "finishedTimestamp": vlm_finish_ms[v.number],
                    "node": plan.node,
                }
            ]
            for v in plan.volumes
        },
        "clusterId": cluster_id,
        "snapDfnUuid": plan.snap_uuid,
    }


def volume_keys(meta: dict[str, Any]) -> dict[int, list[str]]:
    backups = meta.get("backups") or {}
    return {int(nr): [str(b["name"]) for b in items] for nr, items in backups.items()}


def volume_sizes(meta: dict[str, Any]) -> dict[int, int]:
    vlm_dfns = (meta.get("rscDfn") or {}).get("vlmDfns") or {}
    return {int(nr): int(v["size"]) for nr, v in vlm_dfns.items()}


async def read_meta(client: S3Client, key: str) -> dict[str, Any] | None:
    """The parsed metadata object, None if it is not LINSTOR's JSON (skipped, as upstream does)."""
    try:
        data = json.loads(await client.get(key))
    except ValueError:
        return None
    return data if isinstance(data, dict) and "backups" in data else None


@dataclass(eq=False)
class S3Object:
    key: str
    exists: bool = False
    meta: dict[str, Any] | None = None
    references: list[S3Object] = field(default_factory=list)
    referenced_by: list[S3Object] = field(default_factory=list)

    @property
    def is_meta(self) -> bool:
        return self.meta is not None


async def inventory(client: S3Client, keys: list[str]) -> dict[str, S3Object]:
    """Every LINSTOR object of the bucket with its links (data <- meta, meta <- incremental meta)."""
    objects: dict[str, S3Object] = {}

    def obj(k: str) -> S3Object:
        return objects.setdefault(k, S3Object(k))

    for k in keys:
        if MetaName.parse(k) is not None:
            meta = await read_meta(client, k)
            if meta is not None:
                info = obj(k)
                info.exists = True
                info.meta = meta
                for names in volume_keys(meta).values():
                    for name in names:
                        child = obj(name)
                        child.referenced_by.append(info)
                        info.references.append(child)
                based_on = meta.get("basedOn")
                if based_on:
                    base = obj(str(based_on))
                    base.referenced_by.append(info)
                    info.references.append(base)
        if VolumeName.parse(k) is not None:
            obj(k).exists = True
    return objects
