"""Member updates as MAAS's PUT fields and as sentences for Events."""

from __future__ import annotations

from typing import TypedDict

from stratum.clients.maas.models import Member
from stratum.reconcile.maas.devices import Key
from stratum.reconcile.maas.members import MemberUpdate


def member_keys(members: list[Member]) -> list[Key]:
    return [(m.kind, m.id) for m in members]


def _ids(keys: list[Key], kind: str) -> list[int]:
    return [i for k, i in keys if k == kind]


class UpdateFields(TypedDict):
    remove_block_devices: list[int]
    remove_partitions: list[int]
    remove_spare_devices: list[int]
    remove_spare_partitions: list[int]
    add_block_devices: list[int]
    add_partitions: list[int]
    add_spare_devices: list[int]
    add_spare_partitions: list[int]


def update_kwargs(update: MemberUpdate[Key]) -> UpdateFields:
    """The PUT fields of one member update (block devices and partitions are separate fields)."""
    return {
        "remove_block_devices": _ids(update.remove_active, "device"),
        "remove_partitions": _ids(update.remove_active, "partition"),
        "remove_spare_devices": _ids(update.remove_spare, "device"),
        "remove_spare_partitions": _ids(update.remove_spare, "partition"),
        "add_block_devices": _ids(update.add_active, "device"),
        "add_partitions": _ids(update.add_active, "partition"),
        "add_spare_devices": _ids(update.add_spare, "device"),
        "add_spare_partitions": _ids(update.add_spare, "partition"),
    }


def describe_update(update: MemberUpdate[Key], names: dict[Key, str]) -> str:
    parts = []
    for label, keys in (
        ("removed", update.remove_active),
        ("removed spare", update.remove_spare),
        ("added", update.add_active),
        ("added spare", update.add_spare),
    ):
        if keys:
            parts.append(f"{label} {', '.join(names.get(k, str(k[1])) for k in keys)}")
    return "; ".join(parts)
