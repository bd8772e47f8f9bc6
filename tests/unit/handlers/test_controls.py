"""Pause and managementPolicy Observe through the registered kopf handlers: a paused object gets
no pass at all, Observe runs the kind's own pass with every change recorded, not sent."""

from __future__ import annotations

from typing import Any

import httpx
import kopf
import pytest
from fakes import Events, body, drift, drift_check, runtime

from stratum.api.linstor import Placement
from stratum.clients.linstor import LinstorClient, LinstorConfig
from stratum.handlers import controls, linstor
from stratum.handlers.drift import Checked
from stratum.handlers.main import build_registry
from stratum.handlers.runtime import Runtime
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.linstor.properties import marker_props
from stratum.reconcile.linstor.resourcegroup import select_filter

UID = "uid-rg1"
PLACEMENT = {"placeCount": 2, "storagePools": ["thin"]}
READY = {
    "type": "Ready",
    "status": "True",
    "reason": "Ready",
    "message": "ok",
    "lastTransitionTime": "2026-01-01T00:00:00Z",
    "observedGeneration": 1,
}


class Linstor:
    """LINSTOR with one group, created by the object with UID; counts what it is sent."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.group = {
            "name": "rg1",
            "description": "",
            "select_filter": select_filter(Placement.model_validate(PLACEMENT)),
            "props": marker_props(UID, {}),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.method)
        if request.method == "GET" and request.url.path == "/v1/resource-groups/rg1":
            return httpx.Response(200, json=self.group)
        if request.method == "GET" and request.url.path == "/v1/resource-groups":
            return httpx.Response(200, json=[self.group])  # what drift passes read, shared
        if request.method == "GET" and request.url.path == "/v1/resource-definitions":
            return httpx.Response(200, json=[])  # nothing spawned from the group yet
        if request.method == "GET" and request.url.path == "/v1/controller/version":
            return httpx.Response(200, json={"version": "1.33.2", "rest_api_version": "1.27.0"})
        return httpx.Response(404, json=[{"ret_code": -4611686018427387598, "message": "not here"}])


def handler(kind: str, reason: str) -> Any:
    registry = build_registry(OperatorSettings(), kopf.OperatorRegistry())
    return next(
        h
        for h in registry._changing.get_all_handlers()
        if h.id == f"{'delete' if reason == 'delete' else 'reconcile'}_{kind}"
        and (reason == "delete" or h.reason == reason)
    )


def group_body(*, annotations: dict[str, str] | None = None, generation: int = 1, **spec: Any) -> kopf.Body:
    raw = dict(body(generation=generation, status={"conditions": [READY]}, name="rg1"))
    raw["metadata"] = {**raw["metadata"], "annotations": annotations or {}}
    raw["spec"] = {"placement": PLACEMENT, **spec}
    return kopf.Body(raw)


async def run(
    fn: Any, obj: kopf.Body, backend: Linstor, events: Events | None = None, **kwargs: Any
) -> kopf.Patch:
    """Call a registered handler's function on `obj`, with a LINSTOR client that talks to `backend`."""
    rt = linstor_runtime(backend, events)
    patch = kopf.Patch()
    try:
        await fn(
            body=obj,
            spec=obj["spec"],
            status=obj["status"],
            patch=patch,
            memo=kopf.Memo(runtime=rt),
            resourcegroup_index={},
            **kwargs,
        )
    finally:
        await rt.clients.close()
    return patch


def linstor_runtime(backend: Linstor, events: Events | None = None) -> Runtime:
    rt = runtime(events)
    rt.clients.add(
        linstor.CLIENT,
        LinstorClient(
            LinstorConfig(controllers=("http://linstor:3370",)), transport=httpx.MockTransport(backend)
        ),
    )
    return rt


async def call(
    kind: str, reason: str, obj: kopf.Body, backend: Linstor, events: Events | None = None
) -> kopf.Patch:
    return await run(handler(kind, reason).fn, obj, backend, events, retry=0)


def conditions(patch: kopf.Patch) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in patch.status.get("conditions", [])}


async def test_a_paused_object_gets_no_backend_call_and_keeps_ready() -> None:
    backend = Linstor()
    obj = group_body(annotations={controls.PAUSED_ANNOTATION: "true"}, generation=2)
    patch = await call("resourcegroup", "update", obj, backend)
    assert backend.methods == []
    conds = conditions(patch)
    assert set(conds) == {"Ready", "Synced"}
    assert conds["Ready"] == READY  # as the last pass left it
    assert (conds["Synced"]["status"], conds["Synced"]["reason"]) == ("False", "Paused")
    assert "observedGeneration" not in patch.status  # generation 2 was not looked at


async def test_deleting_a_paused_object_waits_and_calls_nothing() -> None:
    backend = Linstor()
    obj = group_body(annotations={controls.PAUSED_ANNOTATION: "true"})
    with pytest.raises(kopf.TemporaryError):
        await call("resourcegroup", "delete", obj, backend)
    assert backend.methods == []


async def test_observe_reports_differences_and_sends_no_change() -> None:
    backend = Linstor()
    obj = group_body(managementPolicy="Observe", placement={**PLACEMENT, "placeCount": 3})
    with pytest.raises(kopf.TemporaryError):  # looked at again later: the backend may change
        await call("resourcegroup", "update", obj, backend)
    patch = await _observe(obj, backend)
    assert set(backend.methods) == {"GET"}
    assert patch.status["differences"] == ["PUT /v1/resource-groups/rg1: select_filter.place_count: 2 → 3"]
    ready = conditions(patch)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "DiffersFromSpec")
    assert conditions(patch)["Stalled"]["status"] == "True"


async def test_observe_of_a_matching_object_is_ready_and_lists_no_difference() -> None:
    backend = Linstor()
    patch = await call("resourcegroup", "update", group_body(managementPolicy="Observe"), backend)
    assert set(backend.methods) == {"GET"}
    assert patch.status["differences"] == []
    assert conditions(patch)["Ready"]["reason"] == "Observed"


async def test_observe_of_a_group_stratum_did_not_create_takes_no_ownership() -> None:
    backend = Linstor()
    backend.group["props"] = {"Aux/other": "x"}
    patch = await call("resourcegroup", "update", group_body(managementPolicy="Observe"), backend)
    assert set(backend.methods) == {"GET"}
    assert patch.status["differences"] == []  # the ownership markers Full would add are not differences


async def test_deleting_an_observed_object_deletes_nothing() -> None:
    backend = Linstor()
    await call("resourcegroup", "delete", group_body(managementPolicy="Observe"), backend)
    assert backend.methods == []


async def test_pausing_and_resuming_post_one_event_each() -> None:
    registry = build_registry(OperatorSettings(), kopf.OperatorRegistry())
    (toggle,) = [h for h in registry._changing.get_all_handlers() if h.id.startswith("resourcegroup_pause/")]
    events = Events()
    memo = kopf.Memo(runtime=runtime(events))
    for old, new in ((None, "true"), ("true", "true"), ("true", None), (None, "false")):
        await toggle.fn(body=group_body(), old=old, new=new, memo=memo)
    assert [e.reason for e in events.posted] == ["Paused", "Resumed"]


async def _observe(obj: kopf.Body, backend: Linstor) -> Checked:
    """A drift check's pass (records only, never raises)."""
    check = drift_check(build_registry(OperatorSettings(), kopf.OperatorRegistry()), "resourcegroup")
    rt = linstor_runtime(backend)
    try:
        return await drift(check, obj, kopf.Memo(runtime=rt), {"resourcegroup_index": {}})
    finally:
        await rt.clients.close()


@pytest.mark.parametrize(
    "ours",
    [
        # Written by earlier versions, which kept kopf's state in annotations: kopf marked the
        # prefix as its own with <prefix>/kopf-managed.
        {"stratum.dev/kopf-managed": "yes", "stratum.dev/other": "x"},
        # Created since kopf's state is in status: nothing marks the prefix.
        {"stratum.dev/released-from-machineraidset": "set1", "stratum.dev/other": "x"},
    ],
    ids=["upgraded", "new"],
)
async def test_the_pause_annotation_is_in_the_diff_that_fires_update_handlers(ours: dict[str, str]) -> None:
    """The diff base drops the annotations under our prefix (stratum.dev) and kopf's status field,
    the progress storage clears its records; the field handler keeps the pause annotation in."""
    registry = build_registry(OperatorSettings(), kopf.OperatorRegistry())
    kopf_settings = kopf.OperatorSettings()
    OperatorSettings().configure_kopf(kopf_settings)  # what the startup handler does
    resource = kopf.Resource("linstor.stratum.dev", "v1alpha1", "resourcegroups")
    obj = group_body(annotations={**ours, "team": "storage", controls.PAUSED_ANNOTATION: "true"})
    obj["status"]["kopf"] = {"progress": {"reconcile_resourcegroup": {"retries": 1}}}
    storage = kopf_settings.persistence.diffbase_storage
    unwatched = storage.build(body=obj)
    assert unwatched["metadata"]["annotations"] == {"team": "storage"}  # every stratum.dev one dropped
    essence = storage.build(body=obj, extra_fields=registry._changing.get_extra_fields(resource=resource))
    diffed = kopf_settings.persistence.progress_storage.clear(essence=essence)
    assert diffed["metadata"]["annotations"] == {"team": "storage", controls.PAUSED_ANNOTATION: "true"}
    assert diffed["spec"] == obj["spec"]
    assert "status" not in diffed
