"""Which MAAS RAID is ours: the recorded id, then Stratum's marker uuid (derived from the uid). An
array that only shares spec.uuid or the name is a conflict unless adoption was asked for."""

from __future__ import annotations

import uuid

from stratum.clients.maas.models import Raid
from stratum.reconcile.maas.ownership import Found, find_raid, maas_accepts_uuid, owner_uuid, same_uuid

UID = "5c0f2d1e-7a3b-4c8d-9e1f-0a2b3c4d5e6f"
SPEC_UUID = "8e4a4c4e-1b2d-4e3f-a4b5-c6d7e8f90a1b"


def raid(id_: int, name: str, uuid_: str) -> Raid:
    return Raid(id=id_, name=name, level="raid-1", uuid=uuid_)


def find(
    raids: list[Raid], *, recorded: int | None = None, spec_uuid: str | None = None, adopt: bool = False
) -> Found:
    return find_raid(
        raids, owner=owner_uuid(UID), recorded_id=recorded, name="md0", spec_uuid=spec_uuid, adopt=adopt
    )


def test_kubernetes_uids_are_uuids_maas_accepts() -> None:
    for _ in range(200):
        assert maas_accepts_uuid(str(uuid.uuid4()))
    assert owner_uuid(UID) == UID


def test_a_uid_maas_would_refuse_maps_to_a_stable_v4_uuid() -> None:
    odd = "0e3b3f6a-2d1c-11ee-be56-0242ac120002"  # version 1
    assert not maas_accepts_uuid(odd)
    mapped = owner_uuid(odd)
    assert maas_accepts_uuid(mapped) and mapped == owner_uuid(odd) and mapped != odd


def test_uuid_comparison_ignores_case_and_hyphens() -> None:
    assert same_uuid(UID, UID.upper().replace("-", ""))
    assert not same_uuid(UID, None)


def test_ours_by_marker_even_after_a_crash_before_status_was_written() -> None:
    found = find([raid(1, "md0", "x"), raid(2, "md0-old", UID)])
    assert found.raid is not None and found.raid.id == 2 and not found.adopted and found.conflict is None


def test_ours_by_recorded_id_after_an_adoption_rename_or_spec_uuid() -> None:
    found = find([raid(7, "renamed", SPEC_UUID)], recorded=7, spec_uuid=SPEC_UUID)
    assert found.raid is not None and found.raid.id == 7 and not found.adopted


def test_a_matching_spec_uuid_alone_does_not_make_an_array_ours() -> None:
    raids = [raid(4, "other", SPEC_UUID)]
    conflict = find(raids, spec_uuid=SPEC_UUID)
    assert conflict.raid is None and conflict.conflict is not None and conflict.conflict_by == "uuid"
    adopted = find(raids, spec_uuid=SPEC_UUID, adopt=True)
    assert adopted.raid is not None and adopted.adopted and adopted.raid.id == 4


def test_same_name_is_a_conflict_unless_adopting() -> None:
    raids = [raid(3, "md0", "someone-else")]
    conflict = find(raids)
    assert conflict.raid is None and conflict.conflict is not None and conflict.conflict.id == 3
    assert conflict.conflict_by == "name"
    adopted = find(raids, adopt=True)
    assert adopted.raid is not None and adopted.adopted
    assert find([raid(3, "md1", "someone-else")]).raid is None
