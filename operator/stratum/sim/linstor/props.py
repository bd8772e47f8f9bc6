"""Property maps: key normalisation, the (simplified) whitelist and the modify trio.

LINSTOR whitelists RG/RD/resource/node/pool properties: `Aux/*` is free-form, known keys are
validated, anything else is FAIL_INVLD_PROP. The simulator knows the namespaces and keys an
operator uses; the KV store is not whitelisted at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import apicallrc as rc

MAX_KEY_LEN = 256

# Namespaces whose keys are accepted without further checks.
FREE_NAMESPACES = (
    "Aux/",
    "DrbdOptions/Net/",
    "DrbdOptions/Disk/",
    "DrbdOptions/Resource/",
    "DrbdOptions/PeerDevice/",
    "DrbdOptions/Handlers/",
    "Autoplacer/",
    "FileSystem/",
    "StorDriver/",
    "NVMe/",
    "Writecache/",
    "Cache/",
    "BackupShipping/",
    "SnapshotShipping/",
    "Internal/",
)

KNOWN_KEYS = {
    "StorPoolName",
    "StorPoolNameDiskless",
    "DiskfulBy",
    "AutoplaceTarget",
    "BalanceResourcesEnabled",
    "BalanceResourcesGracePeriod",
    "PeerSlotsNewResource",
    "DrbdPrimarySetOn",
    "DrbdCurrentGi",
    "MinorNrAutoRange",
    "TcpPortAutoRange",
    "MaxOversubscriptionRatio",
    "MaxFreeCapacityOversubscriptionRatio",
    "MaxTotalCapacityOversubscriptionRatio",
    "AllowMixingStoragePoolDriver",
    "DrbdOptions/auto-quorum",
    "DrbdOptions/auto-add-quorum-tiebreaker",
    "DrbdOptions/auto-diskful",
    "DrbdOptions/auto-diskful-allow-cleanup",
    "DrbdOptions/AutoEvictAllowEviction",
    "DrbdOptions/ExactSize",
    "DrbdOptions/SkipDisk",
    "DrbdOptions/ForceInitialSync",
    "BalanceResourcesInterval",
    "BalanceResourcesSkipDiskLimit",
    "DrbdOptions/auto-verify-algo-allowed-list",
    "DrbdOptions/auto-verify-algo-disable",
    "CurStltConnName",
    "NodeUname",
    "SnapshotRollbackStrategy",
    "Site",
}

_ENUMS: dict[str, set[str]] = {
    "DrbdOptions/Net/protocol": {"A", "B", "C"},
    "DrbdOptions/Net/allow-two-primaries": {"yes", "no"},
    "DrbdOptions/auto-quorum": {"io-error", "suspend-io", "disabled"},
    "DrbdOptions/Resource/on-no-quorum": {"io-error", "suspend-io"},
    "DrbdOptions/Resource/on-no-data-accessible": {"io-error", "suspend-io"},
}
_BOOLEANS = {
    "DrbdOptions/auto-add-quorum-tiebreaker",
    "BalanceResourcesEnabled",
    "AutoplaceTarget",
    "DrbdOptions/ExactSize",
    "DrbdOptions/SkipDisk",
    "AllowMixingStoragePoolDriver",
}
_QUORUM = re.compile(r"^(off|majority|all|[0-9]+)$")


def normalize_key(key: str) -> str:
    """Leading and duplicate '/' are dropped (PropsContainer path rules)."""
    return "/".join(part for part in key.split("/") if part)


def _invalid(key: str, why: str) -> rc.ApiError:
    return rc.fail(rc.FAIL_INVLD_PROP, f"Invalid property key: {key}", cause=why)


def check_key(key: str, whitelist: bool) -> str:
    norm = normalize_key(key)
    if not norm or len(norm) > MAX_KEY_LEN:
        raise _invalid(key, "The key must be 1 to 256 characters long.")
    if whitelist and not (norm in KNOWN_KEYS or norm.startswith(FREE_NAMESPACES)):
        raise _invalid(key, "The key is not whitelisted.")
    return norm


def check_value(key: str, value: str) -> None:
    allowed = _ENUMS.get(key)
    if allowed is not None and value not in allowed:
        raise rc.fail(
            rc.FAIL_INVLD_PROP,
            f"Invalid property value: '{value}' for key '{key}'",
            details=f"Allowed values: {', '.join(sorted(allowed))}",
        )
    if key in _BOOLEANS and value.lower() not in {"true", "false", "yes", "no"}:
        raise rc.fail(
            rc.FAIL_INVLD_PROP,
            f"Invalid property value: '{value}' for key '{key}'",
            details="Expected a boolean (true/false)",
        )
    if key == "DrbdOptions/Resource/quorum" and not _QUORUM.match(value):
        raise rc.fail(rc.FAIL_INVLD_PROP, f"Invalid property value: '{value}' for key '{key}'")


def is_true(value: str | None) -> bool:
    return value is not None and value.lower() in {"true", "yes"}


def is_false(value: str | None) -> bool:
    return value is not None and value.lower() in {"false", "no"}


def _as_str_map(raw: Any, what: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"'{what}' must be a map")
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _as_str_list(raw: Any, what: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"'{what}' must be a list")
    return [str(x) for x in raw]


def validate_map(raw: Any, whitelist: bool = True, what: str = "props") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in _as_str_map(raw, what).items():
        norm = check_key(k, whitelist)
        if whitelist:
            check_value(norm, v)
        out[norm] = v
    return out


def apply_modify(
    props: dict[str, str],
    body: Mapping[str, Any],
    whitelist: bool = True,
    refuse: Iterable[str] = (),
) -> list[str]:
    """Validate then apply override_props/delete_props/delete_namespaces; returns the set keys.

    Validation happens before anything changes, so a failing call leaves `props` untouched.
    """
    override = validate_map(body.get("override_props"), whitelist, "override_props")
    refused = set(refuse)
    for k in override:
        if k in refused:
            raise rc.fail(
                rc.FAIL_INVLD_PROP, f"Invalid property key: {k}", cause="Not allowed on this object."
            )
    deletes = [normalize_key(k) for k in _as_str_list(body.get("delete_props"), "delete_props")]
    namespaces = [normalize_key(n) for n in _as_str_list(body.get("delete_namespaces"), "delete_namespaces")]
    for k in deletes:
        props.pop(k, None)
    for ns in namespaces:
        for k in [k for k in props if k == ns or k.startswith(ns + "/")]:
            del props[k]
    props.update(override)
    return list(override)


def matches_filter(props: Mapping[str, str], filters: list[str]) -> bool:
    """The `props` list filter: `key=value` exact, `key` must exist; all must match."""
    for item in filters:
        if "=" in item:
            k, v = item.split("=", 1)
            if props.get(normalize_key(k)) != v:
                return False
        elif normalize_key(item) not in props:
            return False
    return True


def apply_flags(flags: list[str], raw: Any) -> None:
    """Flag modify lists: `FLAG` sets, `-FLAG` clears."""
    for item in raw or []:
        text = str(item)
        if text.startswith("-"):
            if text[1:] in flags:
                flags.remove(text[1:])
        elif text not in flags:
            flags.append(text)


def set_props_entry(keys: list[str], obj_mask: int) -> rc.Entry:
    return rc.ok(rc.MASK_CRT | obj_mask | rc.CREATED, f"Successfully set property key(s): {','.join(keys)}")
