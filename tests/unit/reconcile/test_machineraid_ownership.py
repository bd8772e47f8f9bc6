"""Which MAAS RAID is ours: uuid first, then the recorded id; a same-named one is a conflict
unless adoption was asked for."""

from __future__ import annotations

import uuid

from stratum.clients.maas.models import Raid
from stratum.reconcile.maas.ownership import find_raid, maas_accepts_uuid, owner_uuid, same_uuid

UID = "5c0f2d1e-7a3b-4c8d-9e1f-0a2b3c4d5e6f"


def raid(id_: int, name: str, uuid_: str) -> Raid:
    return Raid(id=id_, name=name, level="raid-1", uuid=uuid_)


def test_kubernetes_uids_are_uuids_maas_accepts() -> None:
    for _ in range(200):
        assert maas_accepts_uuid(str(uuid.uuid4()))
    assert owner_uuid(UID, None) == UID
    assert owner_uuid(UID, "8e4a4c4e-1b2d-4e3f-a4b5-c6d7e8f90a1b") == "8e4a4c4e-1b2d-4e3f-a4b5-c6d7e8f90a1b"


def test_a_uid_maas_would_refuse_maps_to_a_stable_v4_uuid() -> None:
    odd = "0e3b3f6a-2d1c-11ee-be56-0242ac120002"  # version 1
    assert not maas_accepts_uuid(odd)
    mapped = owner_uuid(odd, None)
    assert maas_accepts_uuid(mapped) and mapped == owner_uuid(odd, None) and mapped != odd


def test_uuid_comparison_ignores_case_and_hyphens() -> None:
    assert same_uuid(UID, UID.upper().replace("-", ""))
    assert not same_uuid(UID, None)


def test_ours_by_uuid_even_after_a_crash_before_status_was_written() -> None:
    found = find_raid(
        [raid(1, "md0", "x"), raid(2, "md0-old", UID)], uuids=[UID], recorded_id=None, name="md0", adopt=False
    )
    assert found.raid is not None and found.raid.id == 2 and not found.adopted and found.conflict is None


def test_ours_by_recorded_id_after_an_adoption_or_rename() -> None:
    found = find_raid([raid(7, "renamed", "other")], uuids=[UID], recorded_id=7, name="md0", adopt=False)
    assert found.raid is not None and found.raid.id == 7


def test_same_name_is_a_conflict_unless_adopting() -> None:
    raids = [raid(3, "md0", "someone-else")]
    conflict = find_raid(raids, uuids=[UID], recorded_id=None, name="md0", adopt=False)
    assert conflict.raid is None and conflict.conflict is not None and conflict.conflict.id == 3
    adopted = find_raid(raids, uuids=[UID], recorded_id=None, name="md0", adopt=True)
    assert adopted.raid is not None and adopted.adopted
    assert find_raid(raids, uuids=[UID], recorded_id=None, name="md1", adopt=False).raid is None
