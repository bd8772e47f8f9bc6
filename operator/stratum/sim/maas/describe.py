"""The describe document (`GET /MAAS/api/2.0/describe/`), shaped as api/doc.py builds it.

python-libmaas builds its whole client from it: each resource's `auth` handler (or
`anon`), each action callable by name, call URLs from the handler's absolute `uri`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .registry import Handler


def _handler(handler: Handler, base_url: str) -> dict[str, Any]:
    return {
        "name": handler.name,
        "doc": handler.doc,
        "params": list(handler.params),
        "path": handler.path,
        "uri": base_url + handler.path,
        "actions": [
            {"name": a.name, "method": a.method, "op": a.op, "restful": a.restful, "doc": a.doc}
            for a in handler.actions
        ],
    }


def api_hash(handlers: list[Handler]) -> str:
    """A stable hash of the API's shape (independent of the host it is served from)."""
    doc = describe(handlers, "", with_hash=False)
    canonical = json.dumps(doc["resources"], sort_keys=True)
    return hashlib.sha1(canonical.encode()).hexdigest()


def describe(handlers: list[Handler], base_url: str, *, with_hash: bool = True) -> dict[str, Any]:
    resources = []
    for handler in handlers:
        desc = _handler(handler, base_url)
        resources.append(
            {
                "name": handler.resource or handler.name,
                "anon": desc if handler.anon else None,
                "auth": None if handler.anon else desc,
            }
        )
    resources.sort(key=lambda r: str(r["name"]))
    flat = [r["anon"] for r in resources if r["anon"] is not None]
    flat += [r["auth"] for r in resources if r["auth"] is not None]
    doc: dict[str, Any] = {"doc": "MAAS API", "resources": resources, "handlers": flat}
    if with_hash:
        doc["hash"] = api_hash(handlers)
    return doc
