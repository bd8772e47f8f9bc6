"""Which MAAS RAID belongs to a MachineRaid.

MAAS RAIDs carry no tags, description or properties, so Stratum's marker is the uuid it creates
an array with: the object's uid (Kubernetes uids are version-4 UUIDs, the form MAAS accepts), or
a v4 uuid derived from it. The RAID id recorded in `status.raidId` is the second marker. Nothing
else makes an array ours: an array whose uuid equals `spec.uuid`, or whose name equals the wanted
name, was made by someone else unless `adopt: true` says to take it (NameConflict otherwise).

Crash window with `spec.uuid`: the array is always created with the uid-derived uuid. Only in a
later pass, once `status.raidId` holds the array's id (the status of the creating pass has been
written), is its uuid changed to `spec.uuid`. A crash between MAAS's answer to the create and the
status write leaves an array with the uid marker, found by it; a crash after the uuid change
finds it by the recorded id. At no moment is the array findable only by `spec.uuid`.
"""

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


def owner_uuid(uid: str) -> str:
    """The UUID a new array gets. A uid MAAS would refuse (not version 4) is mapped to a stable
    version-4 UUID derived from it."""
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
    """An array that is not ours has the wanted name or spec.uuid (nothing may be changed)."""
    conflict_by: str = ""
    """"name" or "uuid": what the conflicting array shares with the spec."""


def find_raid(
    raids: Sequence[Raid],
    *,
    owner: str,
    recorded_id: int | None,
    name: str,
    spec_uuid: str | None,
    adopt: bool,
) -> Found:
    """Ours by the recorded id, then by the owner uuid; an array with spec.uuid or the wanted
    name otherwise is a conflict unless adoption was asked for."""
    for raid in raids:
        if recorded_id is not None and raid.id == recorded_id:
            return Found(raid)
    for raid in raids:
        if same_uuid(raid.uuid, owner):
            return Found(raid)
    for by, match in (
        ("uuid", lambda r: spec_uuid is not None and same_uuid(r.uuid, spec_uuid)),
        ("name", lambda r: r.name == name),
    ):
        other = next((r for r in raids if match(r)), None)
        if other is not None:
            return Found(other, adopted=True) if adopt else Found(None, conflict=other, conflict_by=by)
    return Found(None)
