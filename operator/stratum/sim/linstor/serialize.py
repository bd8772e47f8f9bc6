"""Wire shapes (JsonGenTypes). Every class is "omit empty": no null, no empty list or map.

Booleans `false` and numbers `0` are still sent.
"""

from __future__ import annotations

from typing import Any

from . import drbdstate
from .apicallrc import MASK_STOR_POOL, MASK_WARN, to_signed
from .model import (
    LONG_MAX,
    Node,
    Resource,
    ResourceDefinition,
    ResourceGroup,
    Snapshot,
    State,
    StoragePool,
    Volume,
    VolumeDefinition,
    VolumeGroup,
)

SELECT_FILTER_OUT = (
    "place_count",
    "storage_pool",
    "storage_pool_list",
    "not_place_with_rsc",
    "not_place_with_rsc_regex",
    "replicas_on_same",
    "replicas_on_different",
    "x_replicas_on_different_map",
    "layer_stack",
    "provider_list",
    "diskless_on_remaining",
)


def compact(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop None and empty containers (Jackson NON_EMPTY)."""
    return {
        k: v for k, v in obj.items() if v is not None and not (isinstance(v, (list, dict, str)) and not v)
    }


def node_json(node: Node) -> dict[str, Any]:
    providers = sorted(
        {p.provider for p in node.pools.values()} | {"DISKLESS", "LVM", "LVM_THIN", "ZFS", "ZFS_THIN"}
    )
    return compact(
        {
            "name": node.name,
            "type": node.type,
            "flags": sorted(node.flags),
            "props": {"CurStltConnName": "default", "NodeUname": node.name, **node.props},
            "net_interfaces": [
                {
                    "name": "default",
                    "address": node.address,
                    "satellite_port": 3366,
                    "satellite_encryption_type": "PLAIN",
                    "is_active": True,
                    "uuid": node.uuid,
                }
            ],
            "connection_status": "ONLINE" if node.online else "OFFLINE",
            "uuid": node.uuid,
            "storage_providers": providers,
            "resource_layers": list(node.layers),
        }
    )


def pool_json(pool: StoragePool, node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {
        "storage_pool_name": pool.name,
        "node_name": node.name,
        "provider_kind": pool.provider,
        "props": dict(pool.props),
        "static_traits": {
            "Provisioning": "Thin" if pool.thin else "Fat",
            "SupportsSnapshots": "true" if pool.supports_snapshots else "false",
        },
        "free_space_mgr_name": f"{node.name};{pool.name}",
        "uuid": pool.uuid,
        "supports_snapshots": pool.supports_snapshots,
        "external_locking": False,
    }
    if node.online:
        if pool.diskless:
            out["free_capacity"] = LONG_MAX
            out["total_capacity"] = LONG_MAX
        else:
            out["free_capacity"] = pool.reported_free_kib
            out["total_capacity"] = pool.total_kib
    else:
        out["reports"] = [
            {
                "ret_code": to_signed(MASK_WARN | MASK_STOR_POOL | 1002),
                "message": f"No active connection to satellite '{node.name}'",
            }
        ]
    if not pool.diskless:
        out["static_traits"]["AllocationUnit"] = "4096" if pool.provider.startswith("LVM") else "8"
    return compact(out)


def select_filter_json(sf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"place_count": sf.get("place_count") or 2}
    pools = sf.get("storage_pool_list")
    if pools and len(pools) == 1:
        out["storage_pool"] = pools[0]
    for k in SELECT_FILTER_OUT[2:]:
        if sf.get(k) is not None:
            out[k] = sf[k]
    return compact(out)


def rg_json(rg: ResourceGroup) -> dict[str, Any]:
    return compact(
        {
            "name": rg.name,
            "description": rg.description,
            "props": dict(rg.props),
            "select_filter": select_filter_json(rg.select_filter),
            "uuid": rg.uuid,
        }
    )


def vg_json(vg: VolumeGroup) -> dict[str, Any]:
    return compact(
        {"volume_number": vg.number, "props": dict(vg.props), "flags": list(vg.flags), "uuid": vg.uuid}
    )


def rd_layer_data(rd: ResourceDefinition, state: State) -> list[dict[str, Any]]:
    if not rd.layer_stack:
        return []
    out: list[dict[str, Any]] = []
    for layer in rd.layer_stack:
        if layer == "DRBD":
            port = rd.port if rd.port is not None else -1
            if state.per_node_ports and not rd.explicit_port:
                port = -1
            out.append(
                {
                    "type": "DRBD",
                    "data": {
                        "peer_slots": rd.effective_peer_slots(),
                        "al_stripes": 1,
                        "al_stripe_size_kib": 32,
                        "port": port,
                        "transport_type": "IP",
                        "secret": rd.secret,
                        "down": False,
                    },
                }
            )
        else:
            out.append({"type": layer})
    return out


def vd_json(vd: VolumeDefinition, rd: ResourceDefinition) -> dict[str, Any]:
    layers: list[dict[str, Any]] = []
    stack = rd.layer_stack or []
    for layer in stack:
        if layer == "DRBD":
            layers.append(
                {
                    "type": "DRBD",
                    "data": {
                        "volume_number": vd.number,
                        "minor_number": vd.minor,
                    },
                }
            )
        else:
            layers.append({"type": layer})
    return compact(
        {
            "volume_number": vd.number,
            "size_kib": vd.size_kib,
            "props": dict(vd.props),
            "flags": list(vd.flags),
            "uuid": vd.uuid,
            "layer_data": layers,
        }
    )


def rd_json(rd: ResourceDefinition, state: State, with_vds: bool = False) -> dict[str, Any]:
    return compact(
        {
            "name": rd.name,
            "external_name": rd.external_name,
            "props": dict(rd.props),
            "flags": list(rd.flags),
            "uuid": rd.uuid,
            "resource_group_name": rd.rg.name,
            "layer_data": rd_layer_data(rd, state),
            "volume_definitions": [vd_json(vd, rd) for _, vd in sorted(rd.vds.items())] if with_vds else None,
        }
    )


def resource_flags(res: Resource) -> list[str]:
    """Composite flags pull in their parts (DRBD_DISKLESS -> DISKLESS, TIE_BREAKER -> both)."""
    flags = set(res.flags)
    if "DRBD_DISKLESS" in flags:
        flags.add("DISKLESS")
    if "TIE_BREAKER" in flags:
        flags |= {"DISKLESS", "DRBD_DISKLESS"}
    return sorted(flags)


def _backing_device(res: Resource, vol: Volume) -> str | None:
    pool = vol.pool
    if pool.diskless:
        return None
    suffix = f"{res.rd.name}_{vol.number:05d}"
    if pool.provider.startswith("ZFS"):
        zpool = pool.props.get("StorDriver/ZPool") or pool.props.get("StorDriver/ZPoolThin") or pool.name
        return f"/dev/zvol/{zpool}/{suffix}"
    if pool.provider.startswith("FILE"):
        return f"/dev/loop{vol.number}"
    vg = pool.props.get("StorDriver/LvmVg") or pool.name
    return f"/dev/{vg}/{suffix}"


def volume_json(res: Resource, vol: Volume, state: State) -> dict[str, Any]:
    vd = res.rd.vds.get(vol.number)
    minor = vd.minor if vd else 0
    usable = vd.size_kib if vd else 0
    device = f"/dev/drbd{minor}"
    backing = _backing_device(res, vol)
    layers: list[dict[str, Any]] = []
    stack = res.rd.layer_stack or ["DRBD", "STORAGE"]
    for layer in stack:
        if layer == "DRBD":
            layers.append(
                {
                    "type": "DRBD",
                    "data": compact(
                        {
                            "drbd_volume_definition": {
                                "volume_number": vol.number,
                                "minor_number": minor,
                            },
                            "device_path": device,
                            "backing_device": backing,
                            "meta_disk": "internal" if backing else None,
                            "allocated_size_kib": vol.allocated_kib if backing else 0,
                            "usable_size_kib": usable,
                            "disk_state": drbdstate.disk_state(state, res, vol)
                            if drbdstate.reported(res)
                            else None,
                        }
                    ),
                }
            )
        elif layer == "STORAGE":
            layers.append(
                {
                    "type": "STORAGE",
                    "data": compact(
                        {
                            "volume_number": vol.number,
                            "device_path": backing,
                            "allocated_size_kib": vol.allocated_kib if backing else 0,
                            "usable_size_kib": vol.allocated_kib if backing else 0,
                            "disk_state": "[]" if backing else "Diskless",
                        }
                    ),
                }
            )
        else:
            layers.append({"type": layer, "data": {"volume_number": vol.number}})
    top_device = device if "DRBD" in stack else backing
    return compact(
        {
            "volume_number": vol.number,
            "storage_pool_name": vol.pool.name,
            "provider_kind": vol.pool.provider,
            "device_path": top_device,
            "allocated_size_kib": vol.allocated_kib if backing else 0,
            "props": dict(vol.props),
            "uuid": vol.uuid,
            "state": drbdstate.volume_state_json(state, res, vol),
            "layer_data_list": layers,
        }
    )


def _layer_object(res: Resource, state: State) -> dict[str, Any]:
    stack = res.rd.layer_stack or ["DRBD", "STORAGE"]
    storage = {
        "type": "STORAGE",
        "storage": {
            "storage_volumes": [
                compact(
                    {
                        "volume_number": v.number,
                        "device_path": _backing_device(res, v),
                        "allocated_size_kib": v.allocated_kib if not v.pool.diskless else 0,
                        "usable_size_kib": v.allocated_kib if not v.pool.diskless else 0,
                        "disk_state": "Diskless" if v.pool.diskless else "[]",
                    }
                )
                for _, v in sorted(res.volumes.items())
            ]
        },
    }
    if "DRBD" not in stack:
        return storage
    peers = drbdstate.connections_json(res) if drbdstate.reported(res) else None
    drbd_flags: list[str] = []
    if res.diskless:
        drbd_flags.append("DISKLESS")
    if res.drbd_client:
        drbd_flags.append("CLIENT")
    drbd_flags.append("INITIALIZED")
    port = res.rd.port if res.rd.port is not None else -1
    drbd = compact(
        {
            "drbd_resource_definition": {
                "peer_slots": res.rd.effective_peer_slots(),
                "al_stripes": 1,
                "al_stripe_size_kib": 32,
                "port": -1 if state.per_node_ports and not res.rd.explicit_port else port,
                "transport_type": "IP",
                "secret": res.rd.secret,
                "down": False,
            },
            "node_id": res.node_id,
            "peer_slots": res.rd.effective_peer_slots(),
            "al_stripes": 1,
            "al_size": 32,
            "flags": drbd_flags,
            "drbd_volumes": [
                {
                    "drbd_volume_definition": {
                        "volume_number": v.number,
                        "minor_number": res.rd.vds[v.number].minor if v.number in res.rd.vds else 0,
                    },
                    "device_path": f"/dev/drbd{res.rd.vds[v.number].minor}"
                    if v.number in res.rd.vds
                    else None,
                }
                for _, v in sorted(res.volumes.items())
            ],
            "connections": peers,
            "promotion_score": 0 if res.diskless else 10102,
            "may_promote": not res.in_use and not any(o.in_use for o in res.rd.resources.values()),
            "tcp_ports": list(res.ports) if state.per_node_ports else [port],
        }
    )
    return {"type": "DRBD", "drbd": drbd, "children": [storage]}


def resource_json(res: Resource, state: State, with_volumes: bool = False) -> dict[str, Any]:
    eff = {k: {"value": v, "type": "RESOURCE"} for k, v in res.props.items()}
    return compact(
        {
            "name": res.rd.name,
            "node_name": res.node.name,
            "props": dict(res.props),
            "effective_props": eff,
            "flags": resource_flags(res),
            "uuid": res.uuid,
            "create_timestamp": res.create_ts,
            "state": {"in_use": res.in_use} if drbdstate.reported(res) else None,
            "layer_object": _layer_object(res, state),
            "volumes": [volume_json(res, v, state) for _, v in sorted(res.volumes.items())]
            if with_volumes
            else None,
        }
    )


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    return compact(
        {
            "name": snap.name,
            "resource_name": snap.rd_name,
            "nodes": [s.node_name for s in snap.nodes.values()],
            "flags": list(snap.flags),
            "snapshot_definition_props": dict(snap.props),
            "resource_definition_props": dict(snap.rd_props),
            "props": {**snap.rd_props, **snap.props},
            "volume_definitions": [
                compact(
                    {
                        "volume_number": vd.number,
                        "size_kib": vd.size_kib,
                        "volume_definition_props": dict(vd.props),
                    }
                )
                for vd in snap.vds
            ],
            "uuid": snap.uuid,
            "snapshots": [
                compact(
                    {
                        "snapshot_name": snap.name,
                        "node_name": s.node_name,
                        "create_timestamp": s.create_ts,
                        "flags": list(snap.flags),
                        "uuid": s.uuid,
                        "resource_props": dict(s.resource_props),
                        "snapshot_volumes": [
                            {"uuid": v.uuid, "vlm_nr": v.number, "state": "Successful"} for v in s.volumes
                        ],
                    }
                )
                for s in snap.nodes.values()
            ],
        }
    )
