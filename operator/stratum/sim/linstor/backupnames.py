"""S3 object names of LINSTOR backups.

linstor-server: server/.../backupshipping/S3MetafileNameInfo.java, S3VolumeNameInfo.java, BackupConsts.java.
- metadata: `<rsc>_back_YYYYMMDD_HHMMSS[<s3 suffix>][^<snapshot>].meta`
- data:     `<rsc>[<layer suffix>]_<vlmNr:05d>_back_YYYYMMDD_HHMMSS[<s3 suffix>][^<snapshot>]`
The `^<snapshot>` part is left out when the snapshot is named like the backup id (the generated
name `back_YYYYMMDD_HHMMSS`).  A backup's id in the REST API is its metadata name without `.meta`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

BACKUP_PREFIX = "back_"
SNAP_SEPARATOR = "^"
META_SUFFIX = ".meta"
DATE_FORMAT = "%Y%m%d_%H%M%S"

_META = re.compile(
    r"^(?P<rsc>[a-zA-Z0-9_-]{2,48})_(?P<backup_id>back_[0-9]{8}_[0-9]{6})"
    r"(?:|(?P<suffix>:?.+?))(?P<snap>\^.*)?\.meta$"
)
_VOLUME = re.compile(
    r"^(?P<rsc>[a-zA-Z0-9_-]{2,48})(?P<layer>\..+)?_(?P<vlm>[0-9]{5})_(?P<backup_id>back_[0-9]{8}_[0-9]{6})"
    r"(?P<suffix>:?.+?)?(?P<snap>\^.*)?$"
)


def backup_id_at(when: _dt.datetime) -> str:
    """BackupShippingUtils.generateBackupName: `back_` + the time to the second."""
    return BACKUP_PREFIX + when.strftime(DATE_FORMAT)


def _snap_part(snap: str | None) -> str:
    snap = (snap or "").removeprefix(SNAP_SEPARATOR)
    return snap


def _full_id(rsc: str, backup_id: str, suffix: str, snap: str) -> str:
    out = f"{rsc}_{backup_id}{suffix}"
    return out + SNAP_SEPARATOR + snap if snap and snap != backup_id else out


@dataclass(frozen=True)
class MetaName:
    rsc: str
    backup_id: str
    suffix: str
    snap: str

    @classmethod
    def at(cls, rsc: str, when: _dt.datetime, snap: str, suffix: str = "") -> MetaName:
        backup_id = backup_id_at(when)
        return cls(rsc, backup_id, suffix, snap or backup_id)

    @classmethod
    def parse(cls, key: str) -> MetaName | None:
        m = _META.match(key)
        if m is None:
            return None
        backup_id = m["backup_id"]
        return cls(m["rsc"], backup_id, m["suffix"] or "", _snap_part(m["snap"]) or backup_id)

    @property
    def time(self) -> _dt.datetime:
        return _dt.datetime.strptime(self.backup_id[len(BACKUP_PREFIX) :], DATE_FORMAT).replace(
            tzinfo=_dt.UTC
        )

    @property
    def full_id(self) -> str:
        return _full_id(self.rsc, self.backup_id, self.suffix, self.snap)

    @property
    def key(self) -> str:
        return self.full_id + META_SUFFIX

    def volume(self, vlm_nr: int, layer_suffix: str = "") -> VolumeName:
        return VolumeName(self.rsc, layer_suffix, vlm_nr, self.backup_id, self.suffix, self.snap)


@dataclass(frozen=True)
class VolumeName:
    rsc: str
    layer_suffix: str
    vlm_nr: int
    backup_id: str
    suffix: str
    snap: str

    @classmethod
    def parse(cls, key: str) -> VolumeName | None:
        m = _VOLUME.match(key)
        if m is None:
            return None
        backup_id = m["backup_id"]
        return cls(
            m["rsc"],
            m["layer"] or "",
            int(m["vlm"]),
            backup_id,
            m["suffix"] or "",
            _snap_part(m["snap"]) or backup_id,
        )

    @property
    def key(self) -> str:
        out = f"{self.rsc}{self.layer_suffix}_{self.vlm_nr:05d}_{self.backup_id}{self.suffix}"
        return out + SNAP_SEPARATOR + self.snap if self.snap and self.snap != self.backup_id else out

    @property
    def meta(self) -> MetaName:
        return MetaName(self.rsc, self.backup_id, self.suffix, self.snap)
