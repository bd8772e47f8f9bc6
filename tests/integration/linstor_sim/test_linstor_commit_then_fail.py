"""A change the controller committed that a satellite then failed to apply, and the error reports.

Facts: CtrlSatelliteUpdateCaller `deserializeApiCallRc` ("(<node>) " prefix), satellite
DeviceHandlerImpl (FAIL_UNKNOWN_ERROR with the error report id), DrbdLayer ("Failed to adjust DRBD
resource"), ApiCallRcRestUtils (an error entry -> HTTP 500), api/rest/v1/ErrorReports.java and
docs/rest_v1_openapi.yaml `ErrorReport`.
"""

from __future__ import annotations

from lifecycle_helpers import create_on
from linstor_helpers import GIB, MASK_ERROR, Api, errors


def test_committed_then_500_with_the_satellites_error(api: Api) -> None:
    api.rd("r1", GIB)
    faults = api.post("/_sim/faults", {"commitThenFailRate": 1.0})
    assert faults.status == 200 and faults.body["commitThenFailRate"] == 1.0
    assert faults.body["errorRate"] == 0.0 and faults.body["down"] is False
    reply = create_on(api, "r1", "n1")
    assert reply.status == 500 and errors(reply.entries) == [998]
    failure = reply.entries[-1]
    assert failure["ret_code"] & MASK_ERROR == MASK_ERROR
    assert failure["message"] == "(n1) Failed to adjust DRBD resource r1"
    assert failure["obj_refs"]["Node"] == "n1"
    report_id = failure["error_report_ids"][0]
    # the change itself was committed and answered like any other
    assert "New resource 'r1' on node 'n1' registered." in [e["message"] for e in reply.entries]
    api.ok(api.post("/_sim/faults", {"commitThenFailRate": 0}))
    assert set(api.resources("r1")) == {"n1"}
    listed = api.get("/v1/error-reports")
    assert listed.status == 200 and len(listed.body) == 1
    report = listed.body[0]
    assert report["node_name"] == "n1" and report["filename"] == f"ErrorReport-{report_id}.log"
    assert report["module"] == "SATELLITE" and "text" not in report
    assert isinstance(report["error_time"], int) and report["version"] == "1.33.2"
    one = api.get(f"/v1/error-reports/{report_id}")
    assert one.status == 200 and len(one.body) == 1
    assert "Failed to adjust DRBD resource r1" in one.body[0]["text"]
    assert api.get("/v1/error-reports", node="n2").body == []
    assert api.get("/v1/error-reports", since=report["error_time"] + 1).body == []


def test_requests_no_satellite_applies_are_not_failed(api: Api) -> None:
    api.ok(api.post("/_sim/faults", {"commitThenFailRate": 1.0}))
    api.ok(api.put("/v1/key-value-store/kv1", {"override_props": {"a": "b"}}))
    api.ok(api.post("/v1/resource-groups", {"name": "rg1"}))
    assert api.get("/v1/error-reports").body == []
    bad = api.post("/_sim/faults", {"commitThenFailRate": 2})
    assert bad.status == 400


def test_commit_then_fail_rate_is_a_rate(api: Api) -> None:
    api.rd("r1", GIB)
    api.ok(create_on(api, "r1", "n1"))  # a definition with a resource: its satellite gets the update
    api.ok(api.post("/_sim/faults", {"commitThenFailRate": 0.5}))
    statuses = [
        api.put("/v1/resource-definitions/r1", {"override_props": {f"Aux/k{i}": "v"}}).status
        for i in range(60)
    ]
    assert statuses.count(500) > 5 and statuses.count(200) > 5
    props = api.get("/v1/resource-definitions/r1").body["props"]
    assert all(f"Aux/k{i}" in props for i in range(60))  # every change was committed
