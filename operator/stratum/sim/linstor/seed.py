"""Seed files: the controller version and the nodes with their storage pools.

```yaml
version: 1.33.2
nodes:
  - name: n1
    props: {Aux/zone: a}
    storagePools:
      - {name: thin, provider: LVM_THIN, capacityKib: 104857600, freeKib: 104857600}
```
Simulator extensions (all optional): per node `type` (SATELLITE, COMBINED, ...), `online`
(false = satellite offline), `layers` (supported layer kinds) and `flags` (e.g. [EVACUATE]); per
pool `props`; top level `controllerProps`, `masterPassphrase` (the controller was started with
one, as LS_MASTER_PASSPHRASE does; S3 remotes need it) and `drbd: {syncSeconds: 0,
resizeSeconds: 0}` (how long a resync of a replica added to existing data and a resize take; 0 = at
once).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .model import ALL_LAYERS, ALL_PROVIDERS, Node, State, StoragePool
from .names import key, name_problem

DEFAULT_VERSION = "1.33.2"

SeedLike = Mapping[str, Any] | str | Path | None


class SeedError(ValueError):
    """The seed does not describe a valid controller."""


def read_seed(source: SeedLike) -> dict[str, Any]:
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return dict(source)
    text = Path(source).read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise SeedError("the seed must be a YAML mapping")
    return data


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SeedError(f"{what} must be a non-negative integer (KiB)")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise SeedError(f"{what} must be true or false")
    return value


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise SeedError(f"{what} must be a non-negative number of seconds")
    return float(value)


def load_seed(source: SeedLike, version: str | None = None) -> State:
    data = read_seed(source)
    state = State(str(version or data.get("version") or DEFAULT_VERSION))
    ctrl = data.get("controllerProps") or {}
    if not isinstance(ctrl, Mapping):
        raise SeedError("controllerProps must be a mapping")
    state.ctrl_props.update({str(k): str(v) for k, v in ctrl.items()})
    if data.get("masterPassphrase"):
        state.backup.master_passphrase = str(data["masterPassphrase"])
    drbd = data.get("drbd") or {}
    if not isinstance(drbd, Mapping):
        raise SeedError("drbd must be a mapping")
    state.sync_seconds = _seconds(drbd.get("syncSeconds", 0), "drbd.syncSeconds")
    state.resize_seconds = _seconds(drbd.get("resizeSeconds", 0), "drbd.resizeSeconds")
    for raw in data.get("nodes") or []:
        if not isinstance(raw, Mapping) or not raw.get("name"):
            raise SeedError("every node needs a name")
        name = str(raw["name"])
        if state.node(name) is not None:
            raise SeedError(f"node {name} is listed twice")
        layers = tuple(str(layer).upper() for layer in raw.get("layers") or ALL_LAYERS)
        node = Node(
            name=name,
            type=str(raw.get("type") or "SATELLITE").upper(),
            props={str(k): str(v) for k, v in (raw.get("props") or {}).items()},
            online=_flag(raw.get("online", True), f"node {name} online"),
            layers=layers,
            flags={str(f).upper() for f in raw.get("flags") or []},
        )
        state.add_node(node)
        for pool_raw in raw.get("storagePools") or []:
            if not isinstance(pool_raw, Mapping) or not pool_raw.get("name"):
                raise SeedError(f"every storage pool of node {name} needs a name")
            pool_name = str(pool_raw["name"])
            problem = name_problem(pool_name, min_len=3)
            if problem:
                raise SeedError(f"storage pool name {pool_name!r}: {problem}")
            provider = str(pool_raw.get("provider") or "LVM_THIN").upper()
            if provider not in ALL_PROVIDERS:
                raise SeedError(f"unknown provider {provider} for pool {pool_name} on {name}")
            if key(pool_name) in node.pools and provider != "DISKLESS":
                raise SeedError(f"pool {pool_name} is listed twice on {name}")
            total = _int(pool_raw.get("capacityKib", 0), f"{name}/{pool_name} capacityKib")
            free = _int(pool_raw.get("freeKib", total), f"{name}/{pool_name} freeKib")
            pool_props = {str(k): str(v) for k, v in (pool_raw.get("props") or {}).items()}
            state.add_pool(node, StoragePool(node.name, pool_name, provider, total, free, pool_props))
    return state
