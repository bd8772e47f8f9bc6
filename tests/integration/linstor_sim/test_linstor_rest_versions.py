"""The REST API version a controller reports, and the fields/endpoints an older one refuses.

Facts: docs/rest_v1_openapi.yaml `info.version` at the release tags, CHANGELOG-OPENAPI.md (what
each version added), api/rest/v1/*.java (`new ObjectMapper()`: unknown properties fail the parse).
"""

from __future__ import annotations

from typing import Any

import pytest
from lifecycle_helpers import create_on
from linstor_helpers import GIB, three_nodes

API_CALL_PARSE_ERROR = -3458764513820540931


@pytest.mark.parametrize(
    ("version", "rest"),
    [
        ("1.24.0", "1.20.0"),
        ("1.26.1", "1.21.0"),
        ("1.28.0", "1.23.0"),
        ("1.29.2", "1.23.0"),
        ("1.31.0", "1.25.0"),
        ("1.32.3", "1.26.0"),
        ("1.33.2", "1.27.0"),
        ("1.34.0-rc.1", "1.28.0"),
    ],
)
def test_rest_api_version_per_release_openapi_info_version(start_sim: Any, version: str, rest: str) -> None:
    _, api = start_sim(three_nodes(version))
    body = api.get("/v1/controller/version").body
    assert body["version"] == version and body["rest_api_version"] == rest


def test_fields_newer_than_the_controller_are_parse_errors(start_sim: Any) -> None:
    _, old = start_sim(three_nodes("1.33.2"))
    old.rd("r1", GIB)
    client = [{"resource": {"node_name": "n1", "props": {"StorPoolName": "thin"}}, "drbd_client": False}]
    refused = old.post("/v1/resource-definitions/r1/resources", client)
    assert refused.status == 500 and refused.entries[0]["ret_code"] == API_CALL_PARSE_ERROR
    assert refused.entries[0]["message"] == "Unable to parse input json."
    assert "drbd_client" in refused.entries[0]["details"]
    assert old.resources("r1") == {}  # nothing happened
    modify = old.put("/v1/resource-definitions/r1/resources/n1", {"drbd_tiebreaker": True})
    assert modify.status == 500 and modify.entries[0]["ret_code"] == API_CALL_PARSE_ERROR

    _, new = start_sim(three_nodes("1.34.0"))
    new.rd("r1", GIB)
    assert new.post("/v1/resource-definitions/r1/resources", client).status == 201


def test_select_filter_fields_by_version(start_sim: Any) -> None:
    _, api = start_sim(three_nodes("1.28.0"))  # REST 1.23: x_replicas_on_different_map is known
    xmap = {"name": "rg1", "select_filter": {"x_replicas_on_different_map": {"Aux/zone": 2}}}
    assert api.post("/v1/resource-groups", xmap).status == 201
    ports = {"name": "rg2", "select_filter": {"port_count": 2}}
    refused = api.post("/v1/resource-groups", ports)
    assert refused.status == 400 and refused.entries[0]["ret_code"] == API_CALL_PARSE_ERROR
    api.rd("r1", GIB)
    auto = api.post("/v1/resource-definitions/r1/autoplace", {"select_filter": {"port_count": 1}})
    assert auto.status == 500 and auto.entries[0]["ret_code"] == API_CALL_PARSE_ERROR
    _, older = start_sim(three_nodes("1.26.0"))  # REST 1.21
    assert older.post("/v1/resource-groups", xmap).status == 400


def test_endpoints_newer_than_the_controller_do_not_exist(start_sim: Any) -> None:
    _, api = start_sim(three_nodes("1.31.0"))  # REST 1.25
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1", "n2"))
    toggle = api.put(
        "/v1/resource-definitions/r1/resources/n1/toggle-disk", {"operation": "INTO_DRBD_DISKLESS"}
    )
    assert toggle.status == 404 and toggle.content_type.startswith("text/html")
    api.ok(api.post("/v1/resource-definitions/r1/snapshots", {"name": "s1"}))
    modify = api.put("/v1/resource-definitions/r1/snapshots/s1", {"override_props": {"Aux/a": "b"}})
    assert modify.status == 405 and modify.content_type.startswith("text/html")
