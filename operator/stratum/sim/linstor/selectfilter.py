"""AutoSelectFilter parsing and merging.

Canonical (stored) keys are the JSON names; `storage_pool` (single) becomes `storage_pool_list`.
Only keys that were sent (non-null) are kept, which is what "first non-null wins" merging needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import apicallrc as rc
from .model import ALL_LAYERS, ALL_PROVIDERS

LIST_KEYS = (
    "node_name_list",
    "storage_pool_list",
    "storage_pool_diskless_list",
    "not_place_with_rsc",
    "replicas_on_same",
    "replicas_on_different",
    "layer_stack",
    "provider_list",
)
SCALAR_KEYS = (
    "place_count",
    "additional_place_count",
    "not_place_with_rsc_regex",
    "diskless_on_remaining",
    "diskless_type",
)
MAP_KEYS = ("x_replicas_on_different_map",)


def _str_list(value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"select_filter.{name} must be a list")
    return [str(v) for v in value]


def parse(raw: Any) -> dict[str, Any]:
    """Request JSON -> canonical filter (no semantic checks beyond types and place_count)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, "select_filter must be an object")
    out: dict[str, Any] = {}
    for k in LIST_KEYS:
        if raw.get(k) is not None:
            out[k] = _str_list(raw[k], k)
    if raw.get("storage_pool") is not None and "storage_pool_list" not in out:
        out["storage_pool_list"] = [str(raw["storage_pool"])]
    if "storage_pool_list" in out:
        out["storage_pool_list"] = [p for p in out["storage_pool_list"] if p]
    for k in SCALAR_KEYS:
        if raw.get(k) is not None:
            out[k] = raw[k]
    for k in ("place_count", "additional_place_count"):
        if k in out and (isinstance(out[k], bool) or not isinstance(out[k], int)):
            raise rc.fail(rc.FAIL_INVLD_REQUEST, f"select_filter.{k} must be an integer")
    if "place_count" in out and out["place_count"] < 1:
        raise rc.fail(
            rc.FAIL_INVLD_PLACE_COUNT,
            f"Invalid place count: {out['place_count']}",
            cause="The place count must be at least 1.",
        )
    if "diskless_on_remaining" in out and not isinstance(out["diskless_on_remaining"], bool):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, "select_filter.diskless_on_remaining must be a boolean")
    if "layer_stack" in out:
        out["layer_stack"] = [layer.upper() for layer in out["layer_stack"]]
    if "provider_list" in out:
        out["provider_list"] = [p.upper() for p in out["provider_list"]]
    xmap = raw.get("x_replicas_on_different_map")
    if xmap is not None:
        if not isinstance(xmap, Mapping):
            raise rc.fail(rc.FAIL_INVLD_REQUEST, "select_filter.x_replicas_on_different_map must be a map")
        out["x_replicas_on_different_map"] = {str(k): int(v) for k, v in xmap.items()}
    return out


def merge(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """First non-null wins (request over resource group)."""
    out = dict(second)
    out.update({k: v for k, v in first.items() if v is not None})
    return out


def modify(stored: dict[str, Any], update: Mapping[str, Any], sent_node_list: bool) -> None:
    """RG modify: scalars replace when non-null, lists/maps replace wholesale when present.

    Quirk kept: the parser defaults node_name_list to [], so a modify carrying a select_filter
    without node_name_list clears the stored node list.
    """
    for k, v in update.items():
        stored[k] = v
    if not sent_node_list:
        stored.pop("node_name_list", None)
    for k in [k for k, v in stored.items() if isinstance(v, (list, dict)) and not v]:
        del stored[k]


def validate_kinds(flt: Mapping[str, Any]) -> None:
    """Layer and provider names are checked where placement happens (spawn, autoplace, RD create)."""
    for layer in flt.get("layer_stack") or []:
        if layer not in ALL_LAYERS:
            raise rc.fail(rc.FAIL_INVLD_LAYER_KIND, f"Given layer kind '{layer}' is invalid")
    stack = flt.get("layer_stack") or []
    if stack and stack[-1] != "STORAGE" and "STORAGE" in stack:
        raise rc.fail(rc.FAIL_INVLD_LAYER_STACK, f"Invalid layer stack: {stack}")
    for provider in flt.get("provider_list") or []:
        if provider not in ALL_PROVIDERS:
            raise rc.fail(rc.FAIL_INVLD_PROVIDER, f"Given provider kind '{provider}' is invalid")
