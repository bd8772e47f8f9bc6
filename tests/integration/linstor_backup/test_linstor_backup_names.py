"""S3 object names of backups (linstor-server: S3MetafileNameInfo.java, S3VolumeNameInfo.java)."""

from __future__ import annotations

import datetime as dt

from stratum.sim.linstor.backupnames import MetaName, VolumeName

WHEN = dt.datetime(2021, 8, 24, 7, 25, 43, tzinfo=dt.UTC)


def test_generated_snapshot_name_is_left_out() -> None:
    meta = MetaName.at("my-rsc", WHEN, "")
    assert meta.key == "my-rsc_back_20210824_072543.meta"
    assert meta.snap == "back_20210824_072543"
    assert meta.volume(0).key == "my-rsc_00000_back_20210824_072543"
    assert MetaName.parse(meta.key) == meta
    assert VolumeName.parse(meta.volume(3).key) == meta.volume(3)


def test_named_snapshot_and_suffix_round_trip() -> None:
    meta = MetaName.at("pvc-1", WHEN, "nightly", suffix=":eu")
    assert meta.key == "pvc-1_back_20210824_072543:eu^nightly.meta"
    assert meta.full_id == "pvc-1_back_20210824_072543:eu^nightly"
    assert MetaName.parse(meta.key) == meta
    vol = VolumeName.parse("pvc-1_00001_back_20210824_072543:eu^nightly")
    assert vol is not None and (vol.vlm_nr, vol.suffix, vol.snap) == (1, ":eu", "nightly")
    assert vol.meta == meta
    assert MetaName.parse(meta.key[: -len(".meta")]) is None
    assert VolumeName.parse("notes.txt") is None
    assert meta.time == WHEN
