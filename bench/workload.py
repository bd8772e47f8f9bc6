"""What the benchmark creates: simulator seeds and the Kubernetes objects, all named `bench-*`."""

from __future__ import annotations

from typing import Any

from bench.sizes import Size

PREFIX = "bench"
API_KEY = "benchconsumer00000:benchtoken00000001:benchsecret0000000000000000002"
VOLUME = "1Gi"
POOL_KIB = 10 * 1024**3  # 10 TiB per node: capacity never limits placement
DISK = 1_000_000_000_000
LINSTOR_GROUP = "linstor.stratum.dev/v1alpha1"
MAAS_GROUP = "maas.stratum.dev/v1alpha1"


def linstor_seed(size: Size) -> dict[str, Any]:
    zones = "abc"
    return {
        "version": "1.33.2",
        "nodes": [
            {
                "name": f"n{i}",
                "props": {"Aux/zone": zones[i % 3]},
                "storagePools": [
                    {"name": "thin", "provider": "LVM_THIN", "capacityKib": POOL_KIB, "freeKib": POOL_KIB}
                ],
            }
            for i in range(1, size.linstor_nodes + 1)
        ],
    }


def machine_id(i: int) -> str:
    return f"bm{i:04d}"


def maas_seed(size: Size) -> dict[str, Any]:
    disks = [{"name": "sda", "size": DISK // 2, "bootDisk": True}]
    disks += [{"name": f"sd{c}", "size": DISK} for c in "bcdefg"]
    return {
        "apiKeys": [API_KEY],
        "machines": [
            {
                "systemId": machine_id(i),
                "hostname": f"{PREFIX}-m{i}",
                "status": "Ready",
                "blockDevices": disks,
            }
            for i in range(size.machines)
        ],
    }


def group_name(i: int) -> str:
    return f"{PREFIX}-g{i:02d}"


def resource_name(i: int) -> str:
    return f"{PREFIX}-r{i:04d}"


def raid_name(i: int) -> str:
    return f"{PREFIX}-md{i:04d}"


def groups(size: Size) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": LINSTOR_GROUP,
            "kind": "ResourceGroup",
            "metadata": {"name": group_name(i)},
            "spec": {
                "description": "benchmark group",
                "placement": {"placeCount": 2, "storagePools": ["thin"]},
                "volumeGroups": [{"properties": {}}],
                "properties": {"DrbdOptions/Net/protocol": "C"},
            },
        }
        for i in range(size.groups)
    ]


def resources(size: Size) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": LINSTOR_GROUP,
            "kind": "Resource",
            "metadata": {"name": resource_name(i)},
            "spec": {"resourceGroup": group_name(i % size.groups), "volumes": [{"size": VOLUME}]},
        }
        for i in range(size.resources)
    ]


def raid_spec(i: int) -> dict[str, Any]:
    """Even raids: a RAID-1 on sdb+sdc with ext4; odd: a RAID-5 on sdd-sdf with spare sdg."""
    machine = {"systemId": machine_id(i // 2)}
    if i % 2 == 0:
        return {
            "machine": machine,
            "level": "raid-1",
            "devices": ["sdb", "sdc"],
            "filesystem": {"fstype": "ext4", "mountPoint": f"/srv/{raid_name(i)}"},
        }
    return {"machine": machine, "level": "raid-5", "devices": ["sdd", "sde", "sdf"], "spareDevices": ["sdg"]}


def raids(size: Size) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": MAAS_GROUP,
            "kind": "MachineRaid",
            "metadata": {"name": raid_name(i)},
            "spec": raid_spec(i),
        }
        for i in range(size.raids)
    ]


def everything(size: Size) -> list[dict[str, Any]]:
    return groups(size) + resources(size) + raids(size)
