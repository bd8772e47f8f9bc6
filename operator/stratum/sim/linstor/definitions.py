"""Creating and dropping resource and volume definitions (used by RD/VD handlers, spawn, restore)."""

from __future__ import annotations

from collections.abc import Mapping

from . import apicallrc as rc
from . import engine
from . import selectfilter as sf
from .model import ResourceDefinition, ResourceGroup, State, VolumeDefinition
from .names import check_rsc_name

MAX_MINOR = (1 << 20) - 1
MAX_VLM_NR = 65535


def normalize_layers(layers: list[str] | None) -> tuple[list[str] | None, list[rc.Entry]]:
    if not layers:
        return None, []
    stack = [str(layer).upper() for layer in layers]
    sf.validate_kinds({"layer_stack": stack})
    if stack[-1] != "STORAGE":
        stack.append("STORAGE")
        return stack, [
            rc.warn(
                rc.WARN_STORAGE_KIND_ADDED,
                "The layer stack did not end with STORAGE; the STORAGE layer was added.",
            )
        ]
    return stack, []


def create_rd(
    state: State,
    name: str,
    rg: ResourceGroup,
    *,
    external_name: str | None = None,
    props: Mapping[str, str] | None = None,
    layers: list[str] | None = None,
    peer_slots: int | None = None,
    port: int | None = None,
) -> tuple[ResourceDefinition, list[rc.Entry]]:
    check_rsc_name(name)
    if state.rd(name) is not None:
        raise rc.fail(
            rc.FAIL_EXISTS_RSC_DFN,
            f"A resource definition with the name '{name}' already exists.",
            obj_refs={"RscDfn": name},
        )
    if external_name and external_name in state.external_names:
        raise rc.fail(
            rc.FAIL_EXISTS_EXT_NAME,
            f"A resource definition with the external name '{external_name}' already exists.",
        )
    stack, entries = normalize_layers(layers)
    rd = ResourceDefinition(
        name=name,
        rg=rg,
        external_name=external_name,
        props=dict(props or {}),
        requested_layers=stack,
        peer_slots=peer_slots,
    )
    if port is not None:
        if not 1 <= port <= 65535 or (not state.per_node_ports and not state.rd_ports.take(port)):
            raise rc.fail(203, f"The TCP port '{port}' is invalid or already in use.")
        rd.port = port
        rd.explicit_port = True
    elif not state.per_node_ports:
        allocated = state.rd_ports.allocate()
        if allocated is None:
            raise rc.fail(rc.FAIL_POOL_EXHAUSTED_TCP_PORT, "No more TCP ports available")
        rd.port = allocated
    state.rds[rd.key] = rd
    rg.rds.add(rd.key)
    if external_name:
        state.external_names[external_name] = rd.key
    entries.insert(
        0,
        rc.ok(
            rc.MASK_CRT | rc.MASK_RSC_DFN | rc.CREATED,
            f"New resource definition '{name}' created.",
            details=f"Resource definition '{name}' UUID is: {rd.uuid}",
            obj_refs={"RscDfn": name},
        ),
    )
    return rd, entries


def drop_rd(state: State, rd: ResourceDefinition) -> None:
    """Remove a definition and everything under it (no checks)."""
    for res in list(rd.resources.values()):
        engine.remove_resource(state, res)
    for vd in rd.vds.values():
        state.minors.free(vd.minor)
    if rd.port is not None and not state.per_node_ports:
        state.rd_ports.free(rd.port)
    state.rds.pop(rd.key, None)
    rd.rg.rds.discard(rd.key)
    if rd.external_name:
        state.external_names.pop(rd.external_name, None)


def create_vd(
    state: State,
    rd: ResourceDefinition,
    nr: int | None,
    size_kib: object,
    *,
    props: Mapping[str, str] | None = None,
    flags: list[str] | None = None,
    minor: int | None = None,
) -> tuple[VolumeDefinition, list[rc.Entry]]:
    if nr is None:
        nr = next(i for i in range(len(rd.vds) + 1) if i not in rd.vds)
    if isinstance(nr, bool) or not isinstance(nr, int) or not 0 <= nr <= MAX_VLM_NR:
        raise rc.fail(rc.FAIL_INVLD_VLM_NR, f"Invalid volume number '{nr}'")
    if nr in rd.vds:
        raise rc.fail(
            rc.FAIL_EXISTS_VLM_DFN,
            f"A volume definition with the number {nr} already exists in resource definition '{rd.name}'.",
            obj_refs={"RscDfn": rd.name, "VlmNr": str(nr)},
        )
    if isinstance(size_kib, bool) or not isinstance(size_kib, int) or size_kib < 1:
        raise rc.fail(rc.FAIL_INVLD_VLM_SIZE, f"Invalid volume size '{size_kib}'")
    if minor is not None:
        if isinstance(minor, bool) or not isinstance(minor, int) or not 0 <= minor <= MAX_MINOR:
            raise rc.fail(rc.FAIL_INVLD_MINOR_NR, f"Invalid minor number '{minor}'")
        if not state.minors.take(minor):
            raise rc.fail(rc.FAIL_INVLD_MINOR_NR, f"The minor number '{minor}' is already in use.")
        chosen = minor
    else:
        allocated = state.minors.allocate()
        if allocated is None:
            raise rc.fail(rc.FAIL_POOL_EXHAUSTED_MINOR_NR, "No more minor numbers available")
        chosen = allocated
    vd = VolumeDefinition(nr, size_kib, chosen, dict(props or {}), [f for f in (flags or []) if f])
    rd.vds[nr] = vd
    engine.add_volume_everywhere(state, rd, vd)
    return vd, [
        rc.ok(
            rc.MASK_CRT | rc.MASK_VLM_DFN | rc.CREATED,
            f"New volume definition with number '{nr}' of resource definition '{rd.name}' created.",
            details=f"Volume definition '{rd.name}/{nr}' UUID is: {vd.uuid}",
            obj_refs={"RscDfn": rd.name, "VlmNr": str(nr)},
        )
    ]
