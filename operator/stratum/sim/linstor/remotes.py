"""Backup-related controller state: S3 remotes, the master passphrase, running shipments and restores.

Kept apart from `model.State` (which holds one `BackupState`) so the backup modules own it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from .apicallrc import new_uuid
from .names import key
from .s3 import S3Client, S3Target

DEFAULT_SHIP_SECONDS = 1.0


@dataclass(eq=False)
class S3Remote:
    """linstor-server: core/objects/remotes/S3Remote.java (keys are stored encrypted, never listed)."""

    name: str
    endpoint: str
    bucket: str
    region: str
    access_key: str
    secret_key: str
    use_path_style: bool
    uuid: str = field(default_factory=new_uuid)

    def client(self) -> S3Client:
        return S3Client(
            S3Target(
                self.endpoint, self.bucket, self.region, self.access_key, self.secret_key, self.use_path_style
            )
        )


@dataclass(eq=False)
class Shipment:
    """One backup being shipped to (direction "create") or restored from ("restore") a remote."""

    direction: str
    remote: str
    rd_name: str
    snap_name: str
    task: asyncio.Task[Any] | None = None


@dataclass(eq=False)
class Schedule:
    """linstor-server: core/objects/Schedule.java (cron strings are kept as given)."""

    name: str
    full_cron: str
    inc_cron: str | None = None
    keep_local: int | None = None
    keep_remote: int | None = None
    on_failure: str = "SKIP"
    max_retries: int | None = None
    uuid: str = field(default_factory=new_uuid)


class BackupState:
    def __init__(self) -> None:
        self.remotes: dict[str, S3Remote] = {}
        self.schedules: dict[str, Schedule] = {}
        self.master_passphrase: str | None = None
        self.cluster_id = new_uuid()
        self.ship_seconds = DEFAULT_SHIP_SECONDS
        # (resource definition key, snapshot key) -> the shipment in progress
        self.shipments: dict[tuple[str, str], Shipment] = {}
        # restores in progress, by metadata object name (BackupInfoManager.restoreContainsMetaFile)
        self.restoring_meta: set[str] = set()
        # what the simulated volumes contain (see volumedata): (definition UUID, volume number) -> seed
        self.volume_seeds: dict[tuple[str, int], str] = {}
        # the seeds a snapshot captured, by snapshot UUID
        self.snapshot_seeds: dict[str, dict[int, str]] = {}

    def remote(self, name: str) -> S3Remote | None:
        return self.remotes.get(key(name))

    def shipments_of(self, rd_name: str, direction: str, remote: str | None = None) -> list[Shipment]:
        return [
            s
            for (rd_key, _), s in self.shipments.items()
            if rd_key == key(rd_name)
            and s.direction == direction
            and (remote is None or key(s.remote) == key(remote))
        ]

    def config_json(self) -> dict[str, Any]:
        return {"shipSeconds": self.ship_seconds}
