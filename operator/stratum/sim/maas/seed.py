"""Seed files (YAML or a dict) and the machine specs `/_sim/machines` takes.

```yaml
apiKeys: ["ck:tk:ts", {key: "ck2:tk2:ts2", admin: false, username: alice}]  # admin defaults to true
lifecycle: {commissionSeconds: 1, deploySeconds: 1, releaseSeconds: 1}      # optional
tags: [storage, {name: gpu, comment: "has a GPU"}]   # optional; machines' tags are created too
zones: [dc1, {name: dc2, description: "second room"}]  # optional, besides "default"
pools: [fast]                                          # optional, besides "default"
machines:
  - systemId: abc123
    hostname: node-1
    status: Ready                  # a MAAS status name (or number)
    architecture: amd64/generic    # optional
    biosBootMethod: uefi           # optional: uefi (default) | pxe
    tags: [storage]                # optional machine tags
    pool: default                  # optional (default "default")
    zone: dc1                      # optional (default "default")
    interfaces: [{name: eth0, macAddress: "52:54:00:00:00:01"}]  # default: one boot NIC; [] = none
    blockDevices:                  # ids are assigned from 1 in file order, across machines
      - {name: sda, size: 1000000000000, bootDisk: true}
      # serial / idPath / model: the disk's identity (defaults: QEMU HARDDISK, QM<id>, its by-id path)
      # rotary / rpm: what commissioning reads (tags become [rotary, 7200rpm] or [ssd]);
      # tags: the tags the disk has now (default: as commissioning would set them when rotary is given)
      - {name: sdb, size: 1000000000000, model: ST1000, serial: S1, rotary: true, rpm: 5400}
      - {name: sdc, size: 1000000000000, serial: S2, idPath: /dev/disk/by-id/wwn-0x5000c2, tags: [ssd]}
      - name: sdc
        size: 2000000000000
        partitions:                # optional: created in order (size omitted = the rest)
          - {size: 500000000000}
          - {fstype: ext4, mountPoint: /srv}
        filesystem: {fstype: xfs, mountPoint: /data}   # optional, on the whole device
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .enums import READY, status_from_name
from .filesystems import add_filesystem
from .layouts import hardware_tags
from .lifecycle import resume
from .model import ApiKey, BlockDevice, MaasState, Machine, Tag, Timings
from .partitions import add_partition

DEFAULT_RPM = 7200


def load_seed(seed: dict[str, Any] | str | Path | None) -> dict[str, Any]:
    if seed is None:
        return {}
    if isinstance(seed, dict):
        return seed
    data = yaml.safe_load(Path(seed).read_text())
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("a maas-sim seed is a mapping with apiKeys and machines")
    return data


def apply_seed(state: MaasState, seed: dict[str, Any]) -> None:
    for key in seed.get("apiKeys") or []:
        if isinstance(key, dict):
            admin, username = bool(key.get("admin", True)), str(key.get("username", ""))
            state.add_api_key(ApiKey.parse(str(key["key"]), admin=admin, username=username))
        else:
            state.add_api_key(str(key))
    if seed.get("lifecycle"):
        state.timings = timings_from(seed["lifecycle"], Timings())
    for spec in seed.get("tags") or []:
        item = spec if isinstance(spec, dict) else {"name": spec}
        state.tags[str(item["name"])] = Tag(
            str(item["name"]),
            comment=str(item.get("comment", "")),
            definition=str(item.get("definition", "")),
            kernel_opts=str(item.get("kernelOpts", "")),
        )
    for key, add in (("zones", state.zone), ("pools", state.pool)):
        for spec in seed.get(key) or []:
            item = spec if isinstance(spec, dict) else {"name": spec}
            add(str(item["name"])).description = str(item.get("description", ""))
    for spec in seed.get("machines") or []:
        add_machine_from_spec(state, spec)


def timings_from(body: dict[str, Any], current: Timings) -> Timings:
    """`{"commissionSeconds": 1, "deploySeconds": 1, "releaseSeconds": 1}` over `current`."""
    values = {
        "commission_seconds": body.get("commissionSeconds", current.commission_seconds),
        "deploy_seconds": body.get("deploySeconds", current.deploy_seconds),
        "release_seconds": body.get("releaseSeconds", current.release_seconds),
    }
    if any(not isinstance(v, int | float) or v < 0 for v in values.values()):
        raise ValueError("lifecycle durations are numbers of seconds >= 0")
    return Timings(**{k: float(v) for k, v in values.items()})


def add_machine_from_spec(state: MaasState, spec: dict[str, Any]) -> Machine:
    if not isinstance(spec, dict):
        raise ValueError("a machine is a mapping")
    system_id = str(spec.get("systemId") or state.new_system_id())
    hostname = str(spec.get("hostname") or f"node-{system_id}")
    status = status_from_name(spec.get("status", "Ready"))
    machine = Machine(
        system_id=system_id,
        hostname=hostname,
        status=READY,
        architecture=str(spec.get("architecture", "amd64/generic")),
        bios_boot_method=str(spec.get("biosBootMethod", "uefi")),
        cpu_count=int(spec.get("cpuCount", 4)),
        memory=int(spec.get("memory", 8192)),
        owner=spec.get("owner"),
        pool=state.pool(str(spec.get("pool", "default"))).name,
        zone=state.zone(str(spec.get("zone", "default"))).name,
        tags=[state.tag(str(t)).name for t in spec.get("tags") or []],
    )
    if system_id in state.machines:
        raise ValueError(f"machine {system_id} already exists")
    if any(m.hostname == hostname for m in state.machines.values()):
        raise ValueError(f"hostname {hostname} already in use")
    interfaces = spec.get("interfaces")
    for nic in [{"name": "eth0"}] if interfaces is None else interfaces:
        state.add_interface(machine, str(nic["name"]), nic.get("macAddress"))
    for dev in spec.get("blockDevices") or []:
        if not isinstance(dev, dict) or "name" not in dev or "size" not in dev:
            raise ValueError("a block device needs a name and a size")
        device = _seed_disk(state, machine, dev)
        if dev.get("bootDisk"):
            machine.storage.boot_disk_id = device.id
        for part in dev.get("partitions") or []:
            size = part.get("size")
            partition = add_partition(state, machine, device, int(size) if size is not None else None)
            _seed_fs(state, machine, partition, part)
        if dev.get("filesystem"):
            _seed_fs(state, machine, device, dev["filesystem"])
    state.add_machine(machine)
    if status != READY:
        state.set_status(machine, status)
        resume(state, machine)
    return machine


def _seed_disk(state: MaasState, machine: Machine, dev: dict[str, Any]) -> BlockDevice:
    tags = [str(t) for t in dev["tags"]] if "tags" in dev else None
    rotary = dev.get("rotary", tags is not None and "rotary" in tags)
    device = state.add_block_device(
        machine,
        str(dev["name"]),
        int(dev["size"]),
        block_size=int(dev.get("blockSize", 512)),
        model=dev.get("model"),
        serial=dev.get("serial"),
        id_path=dev.get("idPath") or dev.get("path"),
        tags=tags,
    )
    device.rpm = int(dev.get("rpm", DEFAULT_RPM)) if rotary else 0
    if tags is None and "rotary" in dev:
        device.tags = hardware_tags(device)
    if device.id_path is None and device.serial:
        # udev's by-id name, as the commissioning hook records it (`/dev/disk/by-id/<device_id>`).
        qemu = device.model == "QEMU HARDDISK"
        bus = "scsi-0QEMU_QEMU_HARDDISK" if qemu else f"ata-{device.model or 'DISK'}"
        device.id_path = f"/dev/disk/by-id/{bus.replace(' ', '_')}_{device.serial}"
    return device


def _seed_fs(state: MaasState, machine: Machine, holder: Any, spec: dict[str, Any]) -> None:
    if not spec.get("fstype"):
        return
    fs = add_filesystem(state, machine, holder, str(spec["fstype"]), label=spec.get("label"))
    if spec.get("mountPoint"):
        fs.mount_point = str(spec["mountPoint"])
        fs.mount_options = str(spec.get("mountOptions", ""))
