"""The filesystem on the array's md device: format and mount as the spec says, change it when
the spec changes, and remove only what Stratum applied when the spec drops it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from stratum.api.maas import FilesystemSpec, FilesystemStatus
from stratum.clients.maas.models import Filesystem

NO_MOUNT_POINT = {"swap"}
"""Filesystems MAAS "mounts" without a mount point (it stores the literal "none")."""


@dataclass(frozen=True)
class FsStep:
    op: Literal["format", "mount", "unmount", "unformat"]
    fstype: str | None = None
    mount_point: str | None = None
    mount_options: str | None = None

    def describe(self, device: str) -> str:
        if self.op == "format":
            return f"formatted {device} as {self.fstype}"
        if self.op == "mount":
            where = self.mount_point or "(no mount point)"
            opts = f" with options {self.mount_options}" if self.mount_options else ""
            return f"mounted {device} at {where}{opts}"
        return f"{'unmounted' if self.op == 'unmount' else 'removed the filesystem from'} {device}"


def wanted_mount_point(spec: FilesystemSpec) -> str:
    return "none" if spec.fstype in NO_MOUNT_POINT else (spec.mount_point or "")


def _mounted(fs: Filesystem) -> bool:
    return bool(fs.mount_point)


def plan_filesystem(
    want: FilesystemSpec | None, observed: Filesystem | None, applied: Mapping[str, Any] | None
) -> list[FsStep]:
    """Steps in order. `applied` is the filesystem Stratum recorded in status (what it set)."""
    if want is None:
        if observed is None or not applied or observed.fstype != applied.get("fstype"):
            return []  # not ours to remove
        steps = [FsStep("unmount")] if _mounted(observed) else []
        return [*steps, FsStep("unformat")]
    mount = FsStep(
        "mount",
        mount_point=None if want.fstype in NO_MOUNT_POINT else want.mount_point,
        mount_options=want.mount_options or None,
    )
    if observed is None or observed.fstype != want.fstype:
        return [FsStep("format", fstype=want.fstype), mount]
    same_point = (observed.mount_point or "") == wanted_mount_point(want)
    same_options = (observed.mount_options or "") == (want.mount_options or "")
    return [] if same_point and same_options else [mount]


def filesystem_status(observed: Filesystem | None) -> FilesystemStatus | None:
    if observed is None:
        return None
    return FilesystemStatus(
        fstype=observed.fstype or None,
        uuid=observed.uuid or None,
        mount_point=observed.mount_point or None,
        mount_options=observed.mount_options or None,
    )
