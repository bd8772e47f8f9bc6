"""Request fields and endpoints a controller's REST API version does not know yet.

The controller parses bodies with a plain Jackson ObjectMapper (api/rest/v1/*.java: `new
ObjectMapper()`), which fails on unknown properties: a field added in a later REST version is a
parse error on an older controller ("Unable to parse input json.", HTTP 400 or 500 per handler as
for any malformed body). Endpoints added later do not exist there: the JAX-RS container answers 404
(unknown path) or 405 (known path, other method). Versions from CHANGELOG-OPENAPI.md.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from .model import State, parse_version

RD = "/v1/resource-definitions/{rd}"
RSC = RD + "/resources/{node}"
SELECT_FILTER_FIELDS = {"x_replicas_on_different_map": "1.23.0", "port_count": "1.26.0"}
RESOURCE_CREATE_FIELDS = {
    "drbd_tcp_port_count": "1.26.0",
    "drbd_tcp_ports": "1.26.0",
    "drbd_client": "1.28.0",
}

# (method, route) -> {top-level field: REST version that added it}
BODY_FIELDS: dict[tuple[str, str], dict[str, str]] = {
    ("POST", RD + "/resources"): RESOURCE_CREATE_FIELDS,
    ("POST", RSC): RESOURCE_CREATE_FIELDS,
    ("PUT", RSC): {"drbd_client": "1.28.0", "drbd_tiebreaker": "1.28.0"},
    ("POST", RSC + "/make-available"): {"drbd_tcp_ports": "1.26.0"},
    ("POST", "/v1/resource-groups"): {"peer_slots": "1.21.0"},
    ("PUT", "/v1/resource-groups/{rg}"): {"peer_slots": "1.21.0"},
    ("POST", "/v1/resource-groups/{rg}/spawn"): {
        "peer_slots": "1.21.0",
        "volume_passphrases": "1.22.0",
        "resource_definition_props": "1.22.0",
    },
    ("POST", RD + "/volume-definitions"): {"passphrase": "1.22.0"},
    ("POST", RD + "/snapshots"): {"snapshot_definition_props": "1.24.0"},
    ("POST", RD + "/snapshot-restore-resource/{snap}"): {"stor_pool_rename": "1.21.0"},
}
# Bodies that carry an AutoSelectFilter under `select_filter`.
SELECT_FILTER_ROUTES = {
    ("POST", "/v1/resource-groups"),
    ("PUT", "/v1/resource-groups/{rg}"),
    ("POST", "/v1/resource-groups/{rg}/spawn"),
    ("POST", RD + "/autoplace"),
}
# (method, route) -> (REST version that added it, status an older container answers).
ROUTES: dict[tuple[str, str], tuple[str, int]] = {
    ("PUT", RD + "/snapshots/{snap}"): ("1.26.0", 405),
    ("PUT", RSC + "/toggle-disk"): ("1.28.0", 404),
}


def _route(request: web.Request) -> tuple[str, str]:
    resource = request.match_info.route.resource
    return request.method, resource.canonical if resource is not None else request.path


def route_unknown(request: web.Request, state: State) -> int | None:
    """The status an older controller's container answers for an endpoint it lacks (or None)."""
    added = ROUTES.get(_route(request))
    if added is not None and state.rest_version < parse_version(added[0]):
        return added[1]
    return None


def _unknown(fields: dict[str, str], data: dict[str, Any], state: State) -> list[str]:
    return [f for f, since in fields.items() if f in data and state.rest_version < parse_version(since)]


def refuse_unknown_fields(request: web.Request, state: State, body: Any, parse_status: int) -> None:
    """Raise the parse error an older controller answers for a field it does not know."""
    route = _route(request)
    items = body if isinstance(body, list) else [body]
    unknown: list[str] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        unknown += _unknown(BODY_FIELDS.get(route, {}), item, state)
        flt = item.get("select_filter")
        if route in SELECT_FILTER_ROUTES and isinstance(flt, dict):
            unknown += _unknown(SELECT_FILTER_FIELDS, flt, state)
    if unknown:
        raise rc.ApiError(
            rc.Entry(
                rc.API_CALL_PARSE_ERROR,
                "Unable to parse input json.",
                details=f'Unrecognized field "{unknown[0]}", not marked as ignorable '
                f"(REST API {state.rest_api_version})",
            ),
            status=parse_status,
        )
