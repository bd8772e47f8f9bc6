"""`stratum plan` knows MachineRaidSet: a set's manifest is planned by the set's own pass, and
live MachineRaids reach it through the operator's children index."""

from __future__ import annotations

from stratum.api.crds import MACHINE_RAID_SET
from stratum.handlers.maas_set import CHILDREN_INDEX
from stratum.handlers.planner import build_indexes, target

MAAS = "maas.stratum.dev/v1alpha1"


def test_a_set_is_a_target_and_its_live_children_are_indexed() -> None:
    the_set = {
        "apiVersion": MAAS,
        "kind": "MachineRaidSet",
        "metadata": {"name": "fleet"},
        "spec": {
            "machineSelector": {"tags": ["storage"]},
            "template": {"level": "raid-1", "devices": ["sdb", "sdc"]},
        },
    }
    assert target("f.yaml", the_set).kind is MACHINE_RAID_SET
    child = {
        "apiVersion": MAAS,
        "kind": "MachineRaid",
        "metadata": {"name": "fleet-abc", "labels": {"stratum.dev/machineraidset": "fleet"}},
        "spec": {"machine": {"systemId": "abc"}, "level": "raid-1", "devices": ["sdb", "sdc"]},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready"}]},
    }
    [indexed] = build_indexes([child])[CHILDREN_INDEX]["owned/fleet"]
    assert (indexed.name, indexed.system_id, indexed.ready, indexed.stalled) == (
        "fleet-abc",
        "abc",
        True,
        False,
    )
