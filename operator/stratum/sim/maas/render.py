"""JSON shapes of machines, block devices, partitions and RAIDs (the handlers' `fields`)."""

from __future__ import annotations

from typing import Any

from .enums import RAID_ACTIVE, RAID_SPARE, status_label
from .model import BlockDevice, Interface, MaasState, Machine, Partition, Place, Raid, Tag
from .sizes import human_readable_bytes, raid_size

API = "/MAAS/api/2.0/"
Json = dict[str, Any]


def partition_json(machine: Machine, partition: Partition) -> Json:
    device = machine.storage.block_devices[partition.device_id]
    fs = machine.effective_fs(partition)
    return {
        "system_id": machine.system_id,
        "device_id": device.id,
        "id": partition.id,
        "uuid": partition.uuid,
        "path": f"/dev/disk/by-dname/{device.name}-part{partition.index}",
        "type": "partition",
        "size": partition.size,
        "bootable": partition.bootable,
        "filesystem": fs.as_json() if fs is not None else None,
        "used_for": machine.used_for(partition),
        "tags": list(partition.tags),
        "resource_uri": f"{API}nodes/{machine.system_id}/blockdevices/{device.id}/partition/{partition.id}",
    }


def block_device_json(machine: Machine, device: BlockDevice) -> Json:
    fs = machine.effective_fs(device)
    table = device.partition_table
    physical = device.kind == "physical"
    return {
        "system_id": machine.system_id,
        "id": device.id,
        "name": device.name,
        "uuid": None if physical else device.uuid,
        "type": device.kind,
        "path": f"/dev/disk/by-dname/{device.name}",
        "model": device.model if physical else None,
        "serial": device.serial if physical else None,
        "id_path": device.id_path,
        "size": device.size,
        "block_size": device.block_size,
        "available_size": machine.available_size(device),
        "used_size": machine.used_size(device),
        "used_for": machine.used_for(device),
        "tags": list(device.tags),
        "filesystem": fs.as_json() if fs is not None else None,
        "partition_table_type": table.table_type if table is not None else None,
        "partitions": [partition_json(machine, p) for p in table.partitions] if table is not None else [],
        "firmware_version": device.firmware_version if physical else None,
        "storage_pool": None,
        "numa_node": device.numa_node if physical else None,
        "resource_uri": f"{API}nodes/{machine.system_id}/blockdevices/{device.id}/",
    }


def raid_json(machine: Machine, raid: Raid) -> Json:
    members = machine.raid_members(raid.id)
    size = raid_size_of(machine, raid)
    virtual = machine.storage.block_devices.get(raid.virtual_device_id)

    def device(holder: BlockDevice | Partition) -> Json:
        if isinstance(holder, Partition):
            return partition_json(machine, holder)
        return block_device_json(machine, holder)

    return {
        "system_id": machine.system_id,
        "id": raid.id,
        "uuid": raid.uuid,
        "name": raid.name,
        "level": raid.level,
        "devices": [device(h) for h, fs in members if fs.fstype == RAID_ACTIVE],
        "spare_devices": [device(h) for h, fs in members if fs.fstype == RAID_SPARE],
        "size": size,
        "human_size": human_readable_bytes(size),
        "virtual_device": block_device_json(machine, virtual) if virtual is not None else None,
        "resource_uri": f"{API}nodes/{machine.system_id}/raid/{raid.id}/",
    }


def raid_size_of(machine: Machine, raid: Raid) -> int | float:
    members = machine.raid_members(raid.id)
    sizes = [h.size for h, _ in members]
    active = sum(1 for _, fs in members if fs.fstype == RAID_ACTIVE)
    return raid_size(raid.level, sizes, active)


def tag_json(tag: Tag) -> Json:
    """api/tags.py TagHandler.fields."""
    return {
        "name": tag.name,
        "definition": tag.definition,
        "comment": tag.comment,
        "kernel_opts": tag.kernel_opts,
        "resource_uri": f"{API}tags/{tag.name}/",
    }


def zone_json(zone: Place) -> Json:
    """api/zones.py DISPLAYED_ZONE_FIELDS (zones are addressed by name)."""
    return {
        "id": zone.id,
        "name": zone.name,
        "description": zone.description,
        "resource_uri": f"{API}zones/{zone.name}/",
    }


def pool_json(pool: Place) -> Json:
    """api/resourcepools.py DISPLAYED_RESOURCEPOOL_FIELDS (pools are addressed by id)."""
    return {
        "id": pool.id,
        "name": pool.name,
        "description": pool.description,
        "resource_uri": f"{API}resourcepool/{pool.id}/",
    }


def interface_json(machine: Machine, interface: Interface) -> Json:
    """The fields of api/interfaces.py DISPLAYED_INTERFACE_FIELDS a simulated NIC has."""
    return {
        "system_id": machine.system_id,
        "id": interface.id,
        "name": interface.name,
        "type": "physical",
        "enabled": True,
        "mac_address": interface.mac_address,
        "vlan": None,
        "links": [],
        "tags": [],
        "params": "",
        "parents": [],
        "children": [],
        "vendor": None,
        "product": None,
        "firmware_version": None,
        "link_connected": True,
        "link_speed": 1000,
        "interface_speed": 1000,
        "numa_node": 0,
        "resource_uri": f"{API}nodes/{machine.system_id}/interfaces/{interface.id}/",
    }


def machine_json(state: MaasState, machine: Machine) -> Json:
    devices = machine.block_devices
    boot = machine.boot_disk()
    sid = machine.system_id
    stubs = [{"system_id": sid, "id": rid, "__incomplete__": True} for rid in sorted(machine.storage.raids)]
    return {
        "system_id": sid,
        "hostname": machine.hostname,
        "description": "",
        "hardware_uuid": None,
        "domain": {
            "authoritative": True,
            "ttl": None,
            "resource_record_count": 0,
            "name": machine.domain,
            "id": 0,
            "is_default": True,
            "resource_uri": f"{API}domains/0/",
        },
        "fqdn": f"{machine.hostname}.{machine.domain}",
        "owner": machine.owner,
        "owner_data": {},
        "locked": False,
        "cache_sets": [],
        "bcaches": [],
        "bios_boot_method": machine.bios_boot_method,
        "boot_interface": interface_json(machine, machine.interfaces[0]) if machine.interfaces else None,
        "architecture": machine.architecture,
        "min_hwe_kernel": "",
        "hwe_kernel": None,
        "cpu_count": machine.cpu_count,
        "cpu_speed": 2000,
        "memory": machine.memory,
        "swap_size": None,
        "storage": machine.storage_mb(),
        "status": machine.status,
        "osystem": machine.osystem,
        "distro_series": machine.distro_series,
        "ephemeral_deploy": False,
        "error_description": machine.error_description,
        "netboot": True,
        "power_type": "manual",
        "power_state": "unknown",
        "tag_names": list(machine.tags),
        "address_ttl": None,
        "ip_addresses": [],
        "interface_set": [interface_json(machine, i) for i in machine.interfaces],
        "zone": zone_json(state.zones[machine.zone]),
        "pool": pool_json(state.pools[machine.pool]),
        "disable_ipv4": False,
        "boot_disk": block_device_json(machine, boot) if boot is not None else None,
        "blockdevice_set": [block_device_json(machine, d) for d in devices],
        "physicalblockdevice_set": [block_device_json(machine, d) for d in devices if d.kind == "physical"],
        "virtualblockdevice_set": [block_device_json(machine, d) for d in devices if d.kind == "virtual"],
        "volume_groups": [],
        "raids": stubs,
        "status_action": "",
        "status_message": "",
        "status_name": status_label(machine.status),
        "node_type": 0,
        "node_type_name": "Machine",
        "special_filesystems": [],
        "parent": None,
        "resource_uri": f"{API}machines/{sid}/",
    }
