"""Field paths of a status: those the CRD schema declares and those a pass writes, so tests can
check that the two agree (every declared field is written by some pass, nothing else is)."""

from __future__ import annotations

from typing import Any

from stratum.api.common import KOPF_STATUS
from stratum.api.crds import Kind, openapi_schema

# Written by the runner for every kind (tests/unit/handlers cover them), not by the passes.
RUNNER_FIELDS = {"observedGeneration", "conditions"}
# Written by kopf (its progress and diff base, handlers/persistence.py; tests/e2e/test_rbac.py
# reads them back from the API server).
KOPF_FIELDS = {KOPF_STATUS}


def declared(kind: Kind) -> set[str]:
    """Every leaf path of the status schema in the kind's CRD that a pass writes, lists as `[]`,
    e.g. `volumes[].size`."""
    paths: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        if "properties" in node:
            for name, child in node["properties"].items():
                walk(child, f"{prefix}.{name}" if prefix else name)
        elif node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], f"{prefix}[]")
        else:
            paths.add(prefix)

    walk(openapi_schema(kind)["properties"]["status"], "")
    return {p for p in paths if p.split(".")[0].split("[")[0] not in RUNNER_FIELDS | KOPF_FIELDS}


def written(patch: dict[str, Any]) -> set[str]:
    """Every leaf path present in a status patch (null counts: it removes the field)."""
    paths: set[str] = set()

    def walk(value: Any, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for name, child in value.items():
                walk(child, f"{prefix}.{name}" if prefix else name)
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{prefix}[]")
            if not value:
                paths.add(f"{prefix}[]")
        else:
            paths.add(prefix)

    walk(patch, "")
    return paths
