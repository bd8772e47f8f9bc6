"""linstor.stratum.dev/v1alpha1: SnapshotSchedule, Remote, Backup (disaster recovery)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stratum.api.common import ApiModel, DeletionPolicy, ManagedSpec, StatusBase, StatusModel, immutable
from stratum.api.linstor import ADOPT_FIELD, LinstorName

# Five cron fields (minute hour day-of-month month day-of-week: numbers, names, `*`, ranges,
# steps, lists), a named schedule, or `@every` with a Go-style duration (30s, 5m, 1h30m).
CRON_FIELD = r"[0-9A-Za-z*?/,-]+"
SCHEDULE_PATTERN = (
    rf"^(\s*{CRON_FIELD}(\s+{CRON_FIELD}){{4}}\s*"
    r"|@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
    r"|@every\s+[0-9]+[hms]([0-9]+[hms]){0,2})$"
)
# A label key: an optional DNS-subdomain prefix and a name.
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)


# --------------------------------------------------------------------------- SnapshotSchedule


class LabelSelectorRequirement(ApiModel):
    key: str = Field(max_length=316, pattern=LABEL_KEY)
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = Field(default_factory=list, max_length=64)


class LabelSelector(ApiModel):
    """A metav1.LabelSelector over Resource objects."""

    match_labels: dict[str, str] = Field(default_factory=dict, json_schema_extra={"maxProperties": 32})
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=list, max_length=32)


class SnapshotScheduleSpec(ApiModel):
    """Snapshots of Resources on a schedule, with retention."""

    schedule: str = Field(max_length=128, pattern=SCHEDULE_PATTERN)
    """Cron (5 fields, UTC), @hourly/@daily/..., or `@every 30s` (intervals aligned to the Unix epoch)."""
    resources: list[str] = Field(
        default_factory=list, max_length=256, json_schema_extra={"x-kubernetes-list-type": "set"}
    )
    """Names of Resource objects to snapshot."""
    selector: LabelSelector | None = None
    """Or: every Resource object whose labels match."""
    keep: int = Field(default=8, ge=1, le=1000)
    """Snapshot objects kept per resource (newest first); older ones this schedule made are deleted."""
    suspend: bool = False
    """No new snapshots while true (retention still applies to what exists)."""
    backup_to: str | None = Field(default=None, min_length=1, max_length=253)
    """Name of a Remote object: each snapshot is also shipped there as a full Backup object."""


class ScheduledResource(StatusModel):
    name: str
    """The Resource object."""
    snapshots: int = 0
    """Snapshot objects of this schedule that exist now."""
    last_snapshot: str | None = None
    """The newest of them."""


class SnapshotScheduleStatus(StatusBase):
    last_schedule_time: str | None = None
    """The slot last started; recorded before any object for it is created."""
    last_successful_time: str | None = None
    """The slot whose objects were all created."""
    next_schedule_time: str | None = None
    resources: list[ScheduledResource] = Field(default_factory=list)


# ------------------------------------------------------------------------------------ Remote


class S3Target(ApiModel):
    endpoint: str = Field(min_length=1, max_length=2048)
    """S3 endpoint URL, e.g. https://s3.eu-central-1.amazonaws.com."""
    bucket: str = Field(min_length=3, max_length=63)
    region: str = Field(min_length=1, max_length=64)
    use_path_style: bool = Field(
        default=False, json_schema_extra={"x-kubernetes-validations": [immutable("usePathStyle")]}
    )
    """Path-style bucket addressing; LINSTOR cannot change it later, hence immutable."""


class SecretRef(ApiModel):
    name: str = Field(min_length=1, max_length=253)
    namespace: str = Field(min_length=1, max_length=63)
    """A namespace the operator may read Secrets in (its own, by default RBAC)."""


class RemoteSpec(ManagedSpec):
    """A LINSTOR S3 remote (backup target)."""

    linstor_name: str | None = LinstorName
    """Remote name in LINSTOR (default metadata.name); immutable."""
    s3: S3Target
    credentials_secret_ref: SecretRef
    """Secret with keys accessKey and secretKey; handed to LINSTOR only."""
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the LINSTOR remote with this object (backups in the bucket stay)."""
    adopt: bool = ADOPT_FIELD


class RemoteStatus(StatusBase):
    linstor_name: str | None = None
    endpoint: str | None = None
    bucket: str | None = None
    credentials_version: str | None = None
    """resourceVersion of the Secret LINSTOR last got the keys from (never the keys)."""


# ------------------------------------------------------------------------------------ Backup


class BackupImport(ApiModel):
    """A backup already on the Remote (shipped by another cluster): observed and restorable only."""

    id: str | None = Field(default=None, min_length=1, max_length=512)
    """The LINSTOR backup id, e.g. r1_back_20261201_080000^snap1."""
    resource: str | None = Field(default=None, min_length=2, max_length=48)
    """Or: the newest backup of this LINSTOR resource at the time of import (then fixed in status)."""


class BackupSpec(ManagedSpec):
    """A snapshot shipped to a Remote through LINSTOR's backup API."""

    remote: str = Field(
        min_length=1, max_length=253, json_schema_extra={"x-kubernetes-validations": [immutable("remote")]}
    )
    """Name of the Remote object; immutable."""
    resource: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        json_schema_extra={"x-kubernetes-validations": [immutable("resource")]},
    )
    """Name of the Resource object to back up; immutable."""
    snapshot: str | None = Field(
        default=None,
        min_length=1,
        max_length=253,
        json_schema_extra={"x-kubernetes-validations": [immutable("snapshot")]},
    )
    """Name of a Snapshot object of that resource to ship; default: LINSTOR takes a new snapshot."""
    incremental: bool = True
    """LINSTOR ships only the changes since the last backup to this remote when it can."""
    import_: BackupImport | None = Field(
        default=None, alias="import", json_schema_extra={"x-kubernetes-validations": [immutable("import")]}
    )
    """An existing backup on the Remote instead of shipping one (restore in another cluster)."""
    deletion_policy: DeletionPolicy = "Delete"
    """Delete removes the backup from the remote with this object; Retain keeps it (always for imports)."""


class BackupVolumeStatus(StatusModel):
    number: int
    size: str | None = None
    """Volume size as a Kubernetes quantity (what a restore creates)."""


class BackupStatus(StatusBase):
    id: str | None = None
    """The LINSTOR backup id on the remote."""
    remote_linstor_name: str | None = None
    resource_linstor_name: str | None = None
    """The LINSTOR resource the backup was made of."""
    snapshot_linstor_name: str | None = None
    """The LINSTOR snapshot shipped."""
    snapshot_taken: bool | None = None
    """LINSTOR took the snapshot for this backup (it is deleted with the backup)."""
    based_on: str | None = None
    """The backup this incremental one builds on."""
    phase: Literal["Shipping", "Succeeded", "Failed", "Available"] | None = None
    size: str | None = None
    """Bytes to download for a restore (the whole chain), as a Kubernetes quantity."""
    volumes: list[BackupVolumeStatus] = Field(default_factory=list)
    started_at: str | None = None
    completed_at: str | None = None
