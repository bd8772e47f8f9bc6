"""Pydantic JSON schema -> Kubernetes structural OpenAPI v3 schema.

Structural schemas allow no `$ref`, no `title`, no `additionalProperties: false` and no
`anyOf` that declares types; optional fields are simply not required.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

JsonSchema = dict[str, Any]

_DROP = {"title", "$defs"}
RULES = "x-kubernetes-validations"


def structural_schema(model: type[BaseModel]) -> JsonSchema:
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    return _convert(raw, defs)


def _convert(node: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    node = copy.deepcopy(node)
    if "$ref" in node:
        target = defs[node.pop("$ref").rsplit("/", 1)[-1]]
        resolved = _convert(target, defs)
        # Keys beside the $ref (description, default) win; the field's validations add to the model's.
        rules = resolved.get(RULES, []) + node.get(RULES, [])
        node = {**resolved, **{k: v for k, v in node.items() if k not in _DROP}}
        if rules:
            node[RULES] = rules
        return _convert_children(node, defs)
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        options = [o for o in node.pop("anyOf") if o.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"cannot express a union in a structural schema: {options}")
        merged = _convert(options[0], defs)
        extra_rules = node.pop("x-kubernetes-validations", [])
        node = {**merged, **node}
        if extra_rules:
            node["x-kubernetes-validations"] = merged.get("x-kubernetes-validations", []) + extra_rules
    for key in _DROP:
        node.pop(key, None)
    if node.get("additionalProperties") is False:
        node.pop("additionalProperties")
    if "default" in node and node["default"] is None:
        node.pop("default")
    return _convert_children(node, defs)


def _convert_children(node: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    for key in _DROP:
        node.pop(key, None)
    if "properties" in node:
        node["properties"] = {k: _convert(v, defs) for k, v in node["properties"].items()}
        node.setdefault("type", "object")
    if isinstance(node.get("items"), dict):
        node["items"] = _convert(node["items"], defs)
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _convert(node["additionalProperties"], defs)
    if "default" in node and node["default"] is None:
        node.pop("default")
    return node
