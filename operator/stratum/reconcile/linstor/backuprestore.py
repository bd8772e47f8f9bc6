"""Resource `restoreFrom.backup`: the resource definition (created by the Resource pass with its
ownership marks) receives a backup from an S3 remote through LINSTOR's restore; LINSTOR
downloads it onto one node and creates the first replica there, the Resource pass then places
the rest. The snapshots LINSTOR received are deleted once the replica exists, so the resource can
be deleted later like any other."""

from __future__ import annotations

from dataclasses import dataclass

from stratum.api.linstor import ResourceSpec
from stratum.clients.linstor import LinstorClient
from stratum.clients.linstor import backups as api
from stratum.clients.linstor.models import Resource, ResourceDefinition, Snapshot
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait

# Properties LINSTOR puts on a snapshot it receives (InternalApiConsts, namespace BackupShipping/Target)
RECEIVING_STATUS = "BackupShipping/Target/ShippingStatus"
RECEIVED_FROM = "BackupShipping/Target/BackupSrcRemote"


@dataclass(frozen=True)
class BackupRef:
    """A Backup object as a Resource (restoring) or a Remote (being deleted) needs it."""

    remote_linstor_name: str | None
    id: str | None
    ready: bool
    remote: str = ""
    """The Remote object it names."""
    deletes_from_remote: bool = False
    """Deleting it will delete a shipped backup through the Remote."""


@dataclass(frozen=True)
class Finished:
    """What the Resource pass writes on the definition once the data is in: its ownership
    properties, the backup id under `restored_prop`, and the restore marker removed."""

    override: dict[str, str]
    restored_prop: str
    delete: list[str]


def not_ready(spec: ResourceSpec, backup: BackupRef | None) -> Outcome | None:
    """Why the restore cannot start yet, if it cannot."""
    if backup is None or not backup.ready or not backup.id or not backup.remote_linstor_name:
        wanted = spec.restore_from.backup if spec.restore_from else "?"
        return Outcome.waiting(
            reasons.WAITING_FOR_BACKUP,
            f"Backup {wanted} is not Ready yet; the resource is restored from it once it is",
        )
    return None


async def choose_node(client: LinstorClient, spec: ResourceSpec, remote: str, backup_id: str) -> str | None:
    """The first diskful node the spec names, else the node with the most free space in the
    storage pool the backup came from."""
    if spec.diskful_nodes:
        return spec.diskful_nodes[0]
    info = await api.backup_info(client, remote, backup_id=backup_id)
    pools = [p.target_name or p.name for p in info.storpools] if info else []
    candidates = await api.list_storage_pools(client, pools)
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-(p.free_capacity or 0), p.node_name)).node_name


def _received(snapshots: list[Snapshot]) -> list[Snapshot]:
    return [s for s in snapshots if RECEIVED_FROM in s.all_props or RECEIVING_STATUS in s.all_props]


async def restore(
    client: LinstorClient,
    spec: ResourceSpec,
    backup: BackupRef | None,
    *,
    rd: ResourceDefinition,
    resources: list[Resource],
    group: str,
    finished: Finished,
    actions: list[str],
) -> Outcome | None:
    """None once the backup's data is in the resource (and `finished` is written)."""
    waiting = not_ready(spec, backup)
    if waiting is not None or backup is None:
        return waiting
    remote, backup_id = backup.remote_linstor_name or "", backup.id or ""
    received = _received(await client.list_snapshots(rd.name))
    if not resources:
        if any(s.all_props.get(RECEIVING_STATUS) == "Failed" for s in received):
            return Outcome.waiting(
                reasons.BACKUP_FAILED,
                f"LINSTOR failed to download backup {backup_id} from {remote}; see LINSTOR's error reports",
                retry=Wait.SLOW,
            )
        if not received:
            node = await choose_node(client, spec, remote, backup_id)
            if node is None:
                return Outcome.waiting(
                    reasons.NOT_ENOUGH_NODES,
                    f"no node has the storage pool backup {backup_id} came from; set spec.diskfulNodes",
                    retry=Wait.SLOW,
                )
            await api.restore_backup(
                client, remote, backup_id=backup_id, target=rd.name, node=node, resource_group=group
            )
            actions.append(f"started restoring {rd.name} from backup {backup_id} on {remote} onto {node}")
        return Outcome.waiting(
            reasons.RESTORING,
            f"restoring {rd.name} from backup {backup_id}",
            retry=Wait.SOON,
            actions=actions,
        )
    for snap in received:
        await client.delete_snapshot(rd.name, snap.name)
    await client.modify_resource_definition(
        rd.name,
        override_props={**finished.override, finished.restored_prop: backup_id},
        delete_props=finished.delete,
    )
    actions.append(f"restored {rd.name} from backup {backup_id} on {remote}")
    return None
