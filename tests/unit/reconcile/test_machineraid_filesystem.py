"""Format and mount the md device; change it when the spec changes; remove only what was applied."""

from __future__ import annotations

from stratum.api.maas import FilesystemSpec
from stratum.clients.maas.models import Filesystem
from stratum.reconcile.maas.filesystem import FsStep, filesystem_status, plan_filesystem

EXT4 = FilesystemSpec.model_validate({"fstype": "ext4", "mountPoint": "/data", "mountOptions": "noatime"})


def test_unformatted_device_is_formatted_then_mounted() -> None:
    assert plan_filesystem(EXT4, None, None) == [
        FsStep("format", fstype="ext4"),
        FsStep("mount", mount_point="/data", mount_options="noatime"),
    ]


def test_matching_filesystem_needs_nothing() -> None:
    observed = Filesystem(fstype="ext4", mount_point="/data", mount_options="noatime", uuid="u")
    assert plan_filesystem(EXT4, observed, None) == []


def test_mount_changes_remount_without_formatting() -> None:
    moved = Filesystem(fstype="ext4", mount_point="/old", mount_options="noatime")
    assert plan_filesystem(EXT4, moved, None) == [
        FsStep("mount", mount_point="/data", mount_options="noatime")
    ]
    no_options = FilesystemSpec.model_validate({"fstype": "ext4", "mountPoint": "/data"})
    with_options = Filesystem(fstype="ext4", mount_point="/data", mount_options="noatime")
    assert plan_filesystem(no_options, with_options, None) == [FsStep("mount", mount_point="/data")]
    assert (
        plan_filesystem(no_options, Filesystem(fstype="ext4", mount_point="/data", mount_options=""), None)
        == []
    )


def test_fstype_change_reformats() -> None:
    observed = Filesystem(fstype="xfs", mount_point="/data", mount_options="noatime")
    assert [s.op for s in plan_filesystem(EXT4, observed, None)] == ["format", "mount"]


def test_swap_is_mounted_without_a_mount_point() -> None:
    swap = FilesystemSpec.model_validate({"fstype": "swap"})
    assert plan_filesystem(swap, None, None) == [FsStep("format", fstype="swap"), FsStep("mount")]
    assert plan_filesystem(swap, Filesystem(fstype="swap", mount_point="none"), None) == []


def test_dropping_the_filesystem_removes_only_what_stratum_applied() -> None:
    observed = Filesystem(fstype="ext4", mount_point="/data")
    assert [s.op for s in plan_filesystem(None, observed, {"fstype": "ext4"})] == ["unmount", "unformat"]
    assert plan_filesystem(None, observed, None) == []
    assert plan_filesystem(None, observed, {"fstype": "xfs"}) == []
    assert [s.op for s in plan_filesystem(None, Filesystem(fstype="ext4"), {"fstype": "ext4"})] == [
        "unformat"
    ]


def test_status_leaves_out_empty_fields() -> None:
    status = filesystem_status(Filesystem(fstype="ext4", uuid="u", mount_point="/data", mount_options=""))
    assert status is not None and status.model_dump(by_alias=True, exclude_none=True) == {
        "fstype": "ext4",
        "uuid": "u",
        "mountPoint": "/data",
    }
    assert filesystem_status(None) is None
