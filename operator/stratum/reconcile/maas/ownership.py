"""Which MAAS RAID belongs to a MachineRaid. MAAS RAIDs carry no tags or properties, so the
operator creates each array with a UUID it can recognise: spec.uuid, else the object's uid
(Kubernetes uids are version-4 UUIDs, the form MAAS accepts). The RAID id recorded in status
is the second key, so renames, adopted arrays and uuid changes are still found."""

from __future__ import annotations

import hashlib
import re
import uuid as uuidlib
from collections.abc import Sequence
from dataclasses import dataclass

from stratum.clients.maas.models import Raid

# MAAS's CreateRaidForm/UpdateRaidForm uuid check (32-36 characters, version-4 shape).
MAAS_UUID4 = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}"
)


def maas_accepts_uuid(value: str) -> bool:
    return 32 <= len(value) <= 36 and MAAS_UUID4.search(value) is not None


def owner_uuid(uid: str, spec_uuid: str | None) -> str:
    """The UUID a new array gets. A uid MAAS would refuse (not version 4) is mapped to a stable
    version-4 UUID derived from it."""
    if spec_uuid:
        return spec_uuid
    if maas_accepts_uuid(uid):
        return uid
    return str(uuidlib.UUID(bytes=hashlib.sha1(uid.encode()).digest()[:16], version=4))


def same_uuid(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.replace("-", "").lower() == b.replace("-", "").lower()


@dataclass(frozen=True)
class Found:
    raid: Raid | None
    adopted: bool = False
    conflict: Raid | None = None
    """Another array already has the wanted name (nothing may be changed)."""


def find_raid(
    raids: Sequence[Raid], *, uuids: Sequence[str], recorded_id: int | None, name: str, adopt: bool
) -> Found:
    """Ours by uuid, then by the recorded id; an array with the wanted name otherwise is a
    conflict unless adoption was asked for."""
    for raid in raids:
        if any(same_uuid(raid.uuid, u) for u in uuids):
            return Found(raid)
    for raid in raids:
        if recorded_id is not None and raid.id == recorded_id:
            return Found(raid)
    named = next((r for r in raids if r.name == name), None)
    if named is None:
        return Found(None)
    return Found(named, adopted=True) if adopt else Found(None, conflict=named)
