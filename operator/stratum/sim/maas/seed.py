"""Seed files (YAML or a dict) and the machine specs `/_sim/machines` takes.

```yaml
apiKeys: ["ck:tk:ts"]
machines:
  - systemId: abc123
    hostname: node-1
    status: Ready                  # a MAAS status name (or number)
    architecture: amd64/generic    # optional
    biosBootMethod: uefi           # optional: uefi (default) | pxe
    blockDevices:                  # ids are assigned from 1 in file order, across machines
      - {name: sda, size: 1000000000000, bootDisk: true}
      - {name: sdb, size: 1000000000000, model: SSD, serial: S1, tags: [ssd]}
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
from .model import MaasState, Machine
from .partitions import add_partition


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
        state.add_api_key(str(key))
    for spec in seed.get("machines") or []:
        add_machine_from_spec(state, spec)


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
    )
    if system_id in state.machines:
        raise ValueError(f"machine {system_id} already exists")
    if any(m.hostname == hostname for m in state.machines.values()):
        raise ValueError(f"hostname {hostname} already in use")
    for dev in spec.get("blockDevices") or []:
        if not isinstance(dev, dict) or "name" not in dev or "size" not in dev:
            raise ValueError("a block device needs a name and a size")
        device = state.add_block_device(
            machine,
            str(dev["name"]),
            int(dev["size"]),
            block_size=int(dev.get("blockSize", 512)),
            model=dev.get("model"),
            serial=dev.get("serial"),
            id_path=dev.get("idPath") or dev.get("path"),
            tags=[str(t) for t in dev.get("tags") or []],
        )
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
    return machine


def _seed_fs(state: MaasState, machine: Machine, holder: Any, spec: dict[str, Any]) -> None:
    if not spec.get("fstype"):
        return
    fs = add_filesystem(state, machine, holder, str(spec["fstype"]), label=spec.get("label"))
    if spec.get("mountPoint"):
        fs.mount_point = str(spec["mountPoint"])
        fs.mount_options = str(spec.get("mountOptions", ""))
