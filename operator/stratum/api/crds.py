"""The custom resources and the CRDs generated from their models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from stratum.api import linstor, linstor_backup, maas
from stratum.api.common import KOPF_STATUS, StatusBase
from stratum.api.schema import JsonSchema, structural_schema

VERSION = "v1alpha1"
CATEGORY = "stratum"


@dataclass(frozen=True)
class Kind:
    """One custom resource kind: its names, models and how kubectl shows it."""

    group: str
    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[StatusBase]
    description: str
    columns: tuple[tuple[str, str, str], ...]  # name, type, jsonPath
    wide_columns: tuple[tuple[str, str, str], ...] = ()
    rules: tuple[dict[str, Any], ...] = field(default=())

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{self.group}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{VERSION}"


def _name_default_rule(field_name: str, what: str) -> dict[str, Any]:
    """metadata.name is the default backend name, so it must obey the backend's rules."""
    pattern = linstor.LINSTOR_NAME_PATTERN.replace("\\", "\\\\")
    return {
        "rule": f"has(self.spec.{field_name}) || (self.metadata.name.matches('{pattern}') "
        "&& size(self.metadata.name) <= 48)",
        "message": f"metadata.name is not a valid LINSTOR {what} name (2-48 letters, digits, '_' or "
        f"'-', starting with a letter or '_'): set spec.{field_name}",
        "fieldPath": f".spec.{field_name}",
    }


def _field_kept(parent: str, name: str) -> dict[str, Any]:
    """A root transition rule: an optional field may not be added or removed after creation."""
    shown = name.strip("_")
    return {
        "rule": f"has(oldSelf.{parent}.{name}) == has(self.{parent}.{name})",
        "message": f"{parent}.{shown} cannot be added or removed after creation",
        "fieldPath": f".{parent}.{shown}",
    }


_READY = ("Ready", "string", ".status.conditions[?(@.type=='Ready')].status")
_REASON = ("Reason", "string", ".status.conditions[?(@.type=='Ready')].reason")
_AGE = ("Age", "date", ".metadata.creationTimestamp")

RESOURCE_GROUP = Kind(
    group=linstor.GROUP,
    kind="ResourceGroup",
    plural="resourcegroups",
    short_names=("lrg",),
    spec=linstor.ResourceGroupSpec,
    status=linstor.ResourceGroupStatus,
    description="A LINSTOR resource group: placement rules and properties shared by its resources.",
    columns=(
        _READY,
        _REASON,
        ("LINSTOR", "string", ".status.linstorName"),
        ("Replicas", "integer", ".spec.placement.placeCount"),
        ("Pools", "string", ".spec.placement.storagePools"),
        _AGE,
    ),
    wide_columns=(("MaxVolume", "string", ".status.maxVolumeSize"),),
    rules=(_name_default_rule("linstorName", "resource group"),),
)

RESOURCE = Kind(
    group=linstor.GROUP,
    kind="Resource",
    plural="resources",
    short_names=("lr",),
    spec=linstor.ResourceSpec,
    status=linstor.ResourceStatus,
    description="A LINSTOR resource: a replicated DRBD volume set spawned from a ResourceGroup.",
    columns=(
        _READY,
        _REASON,
        ("LINSTOR", "string", ".status.linstorName"),
        ("Group", "string", ".spec.resourceGroup"),
        ("Size", "string", ".spec.volumes[0].size"),
        _AGE,
    ),
    wide_columns=(("Device", "string", ".status.volumes[0].devicePath"),),
    rules=(
        _name_default_rule("linstorName", "resource"),
        {
            "rule": "!((has(self.spec.linstorName) ? self.spec.linstorName : self.metadata.name)"
            ".lowerAscii() in ['all', 'proxy'])",
            "message": "'all' and 'proxy' are reserved LINSTOR resource names: set spec.linstorName",
            "fieldPath": ".spec.linstorName",
        },
        {
            "rule": "!has(self.spec.diskfulNodes) || !has(self.spec.disklessNodes) || "
            "self.spec.diskfulNodes.all(n, !(n in self.spec.disklessNodes))",
            "message": "a node cannot be both diskful and diskless",
            "fieldPath": ".spec.disklessNodes",
        },
    ),
)

SNAPSHOT = Kind(
    group=linstor.GROUP,
    kind="Snapshot",
    plural="snapshots",
    short_names=("lsnap",),
    spec=linstor.SnapshotSpec,
    status=linstor.SnapshotStatus,
    description="A LINSTOR snapshot of a Resource.",
    columns=(
        _READY,
        _REASON,
        ("LINSTOR", "string", ".status.linstorName"),
        ("Resource", "string", ".spec.resource"),
        ("Created", "string", ".status.createdAt"),
        _AGE,
    ),
    rules=(_name_default_rule("linstorName", "snapshot"),),
)

MACHINE_RAID = Kind(
    group=maas.GROUP,
    kind="MachineRaid",
    plural="machineraids",
    short_names=("mraid",),
    spec=maas.MachineRaidSpec,
    status=maas.MachineRaidStatus,
    description="A software RAID array on a MAAS machine, optionally formatted and mounted.",
    columns=(
        _READY,
        _REASON,
        ("Machine", "string", ".status.systemId"),
        ("RAID", "string", ".status.raidName"),
        ("Level", "string", ".spec.level"),
        ("Size", "integer", ".status.size"),
        _AGE,
    ),
    wide_columns=(
        ("Mount", "string", ".spec.filesystem.mountPoint"),
        ("MachineStatus", "string", ".status.machineStatus"),
    ),
)

MACHINE_RAID_SET = Kind(
    group=maas.GROUP,
    kind="MachineRaidSet",
    plural="machineraidsets",
    short_names=("mraidset",),
    spec=maas.MachineRaidSetSpec,
    status=maas.MachineRaidSetStatus,
    description="One RAID layout for every MAAS machine that matches: a MachineRaid per machine.",
    columns=(
        _READY,
        _REASON,
        ("Matched", "integer", ".status.matched"),
        ("ReadyRaids", "integer", ".status.ready"),
        ("Stalled", "integer", ".status.stalled"),
        ("Waiting", "integer", ".status.waiting"),
        _AGE,
    ),
    wide_columns=(
        ("Level", "string", ".spec.template.level"),
        ("Tags", "string", ".spec.machineSelector.tags"),
    ),
    rules=(
        {
            "rule": "size(self.metadata.name) <= 63",
            "message": "a MachineRaidSet's name is a label value on its MachineRaids: at most 63 characters",
        },
    ),
)

SNAPSHOT_SCHEDULE = Kind(
    group=linstor.GROUP,
    kind="SnapshotSchedule",
    plural="snapshotschedules",
    short_names=("lsched",),
    spec=linstor_backup.SnapshotScheduleSpec,
    status=linstor_backup.SnapshotScheduleStatus,
    description="Snapshot objects of Resources taken on a schedule, with retention.",
    columns=(
        _READY,
        _REASON,
        ("Schedule", "string", ".spec.schedule"),
        ("Keep", "integer", ".spec.keep"),
        ("Suspend", "boolean", ".spec.suspend"),
        ("Last", "date", ".status.lastScheduleTime"),
        ("Next", "string", ".status.nextScheduleTime"),
        _AGE,
    ),
    wide_columns=(("BackupTo", "string", ".spec.backupTo"),),
    rules=(
        {
            "rule": "(has(self.spec.resources) && size(self.spec.resources) > 0) != has(self.spec.selector)",
            "message": "set exactly one of spec.resources and spec.selector",
            "fieldPath": ".spec.resources",
        },
        {
            "rule": "size(self.metadata.name) <= 63",
            "message": "metadata.name is at most 63 characters: it is the stratum.dev/schedule label "
            "of the objects the schedule creates",
        },
    ),
)

REMOTE = Kind(
    group=linstor.GROUP,
    kind="Remote",
    plural="remotes",
    short_names=("lremote",),
    spec=linstor_backup.RemoteSpec,
    status=linstor_backup.RemoteStatus,
    description="A LINSTOR S3 remote: where Backups are shipped; credentials come from a Secret.",
    columns=(
        _READY,
        _REASON,
        ("LINSTOR", "string", ".status.linstorName"),
        ("Endpoint", "string", ".spec.s3.endpoint"),
        ("Bucket", "string", ".spec.s3.bucket"),
        _AGE,
    ),
    wide_columns=(("Region", "string", ".spec.s3.region"),),
    rules=(_name_default_rule("linstorName", "remote"),),
)

BACKUP = Kind(
    group=linstor.GROUP,
    kind="Backup",
    plural="backups",
    short_names=("lbackup",),
    spec=linstor_backup.BackupSpec,
    status=linstor_backup.BackupStatus,
    description="A LINSTOR backup: a snapshot shipped to a Remote, or one imported from it.",
    columns=(
        _READY,
        _REASON,
        ("Remote", "string", ".spec.remote"),
        ("Resource", "string", ".status.resourceLinstorName"),
        ("Phase", "string", ".status.phase"),
        ("Size", "string", ".status.size"),
        ("Completed", "date", ".status.completedAt"),
        _AGE,
    ),
    wide_columns=(("ID", "string", ".status.id"),),
    rules=(
        {
            "rule": "has(self.spec.resource) != has(self.spec.__import__)",
            "message": "set exactly one of spec.resource (ship a backup) and spec.import (an existing one)",
            "fieldPath": ".spec.resource",
        },
        *(_field_kept("spec", f) for f in ("resource", "snapshot", "__import__")),
        {
            "rule": "!has(self.spec.__import__) || !has(self.spec.snapshot)",
            "message": "spec.snapshot cannot be combined with spec.import",
            "fieldPath": ".spec.snapshot",
        },
        {
            "rule": "!has(self.spec.__import__) || "
            "has(self.spec.__import__.id) != has(self.spec.__import__.resource)",
            "message": "spec.import needs exactly one of id and resource",
            "fieldPath": ".spec.import",
        },
    ),
)

KINDS: tuple[Kind, ...] = (
    RESOURCE_GROUP,
    RESOURCE,
    SNAPSHOT,
    SNAPSHOT_SCHEDULE,
    REMOTE,
    BACKUP,
    MACHINE_RAID,
    MACHINE_RAID_SET,
)


def _immutable_once_set(field_name: str) -> dict[str, Any]:
    """A field that may not be added or removed after creation (restoreFrom)."""
    return {
        "rule": f"has(oldSelf.{field_name}) == has(self.{field_name})",
        "message": f"{field_name} cannot be added or removed after creation",
    }


def openapi_schema(kind: Kind) -> JsonSchema:
    spec = structural_schema(kind.spec)
    if kind is RESOURCE:
        spec.setdefault("x-kubernetes-validations", []).append(_immutable_once_set("restoreFrom"))
    status = structural_schema(kind.status)
    status["properties"][KOPF_STATUS] = {
        "type": "object",
        "description": "kopf's state of this object: handler progress and the last handled spec.",
        # Free-form, else the API server prunes what kopf writes and kopf loses its state.
        "x-kubernetes-preserve-unknown-fields": True,
    }
    schema: JsonSchema = {
        "type": "object",
        "description": kind.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion of this object."},
            "kind": {"type": "string", "description": "Kind of this object."},
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }
    if kind.rules:
        schema["x-kubernetes-validations"] = list(kind.rules)
    return schema


def crd(kind: Kind) -> dict[str, Any]:
    columns: list[dict[str, Any]] = [{"name": n, "type": t, "jsonPath": p} for n, t, p in kind.columns]
    columns += [{"name": n, "type": t, "jsonPath": p, "priority": 1} for n, t, p in kind.wide_columns]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": kind.crd_name},
        "spec": {
            "group": kind.group,
            "scope": "Cluster",
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.singular,
                "shortNames": list(kind.short_names),
                "categories": [CATEGORY],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {"openAPIV3Schema": openapi_schema(kind)},
                }
            ],
        },
    }


def render(kind: Kind) -> str:
    """Deterministic YAML (sorted keys) so the committed files diff cleanly."""
    header = "# Generated by `stratum crds` from operator/stratum/api; do not edit.\n"
    return header + yaml.safe_dump(crd(kind), sort_keys=True, width=100)


def render_all() -> str:
    return "---\n".join(render(kind) for kind in KINDS)


def file_name(kind: Kind) -> str:
    return f"{kind.group}_{kind.plural}.yaml"
