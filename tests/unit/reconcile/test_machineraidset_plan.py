"""The MachineRaidSet pass without a cluster: the plan (create, update, release, delete, take
back), the status summary and verdict, the writes it makes through a fake Kubernetes client, and
deleting the set."""

from __future__ import annotations

from typing import Any, cast

import httpx

from stratum.api import crds
from stratum.api.maas import SET_LABEL, MachineRaidSetSpec, MachineRaidSetStatus
from stratum.clients.errors import Backend, BackendRefused
from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import Machine
from stratum.handlers import controls
from stratum.reconcile import reasons
from stratum.reconcile.maas import raidset
from stratum.reconcile.maas.raidset import Child, SetRef, child_name, desired_spec, plan, summarize, verdict
from stratum.reconcile.outcome import status_patch
from support.status_paths import declared, written

REF = SetRef("fleet", "uid-1")
TEMPLATE = {"level": "raid-1", "deviceSelector": {"count": 2, "tags": ["ssd"]}, "readyTag": "storage-ready"}


def spec(**extra: Any) -> MachineRaidSetSpec:
    return MachineRaidSetSpec.model_validate(
        {"machineSelector": {"tags": ["storage"]}, "template": TEMPLATE, **extra}
    )


def machine(sid: str, status: int = 4) -> Machine:
    return Machine(system_id=sid, hostname=f"host-{sid}", status=status)


def child(
    sid: str, *, ready: bool = True, stalled: bool = False, reason: str = "Ready", **extra: Any
) -> Child:
    fields: dict[str, Any] = {
        "name": child_name("fleet", sid),
        "system_id": sid,
        "spec": desired_spec(spec(), sid),
        "ready": ready,
        "stalled": stalled,
        "reason": reason,
        "message": "" if ready else f"{reason} on {sid}",
        "owner_refs": (REF.owner_reference(),),
    }
    return Child(**{**fields, **extra})


class FakeKube:
    def __init__(
        self, refuse: set[str] | None = None, existing: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.refuse = refuse or set()
        self.existing = existing or {}

    async def get(self, api_version: str, plural: str, name: str) -> dict[str, Any] | None:
        self.calls.append(("get", name, None))
        return self.existing.get(name)

    async def create(self, api_version: str, plural: str, body: dict[str, Any]) -> bool:
        name = body["metadata"]["name"]
        self.calls.append(("create", name, body))
        return name not in self.existing

    async def delete(self, api_version: str, plural: str, name: str) -> bool:
        self.calls.append(("delete", name, None))
        return True

    async def patch(
        self, api_version: str, plural: str, name: str, body: Any, *, json_patch: bool = False
    ) -> None:
        self.calls.append(("json-patch" if json_patch else "merge-patch", name, body))
        if name in self.refuse:
            raise BackendRefused(
                Backend.KUBERNETES, "Kubernetes API: spec.level: level is immutable", status=422
            )


class FakeMaas:
    def __init__(self, machines: list[Machine], status: int | None = None) -> None:
        self.machines, self.status, self.lists = machines, status, []

    async def list_machines(self, **filters: Any) -> list[Machine]:
        self.lists.append(filters)
        if self.status is not None:
            raise BackendRefused(Backend.MAAS, "No such tag(s): 'storage'.", status=self.status)
        return self.machines


def test_child_names_are_valid_and_unique() -> None:
    assert child_name("Fleet", "ABC123") == "fleet-abc123"


def test_desired_spec_is_the_template_plus_the_machine() -> None:
    assert desired_spec(spec(), "abc") == {
        "machine": {"systemId": "abc"},
        "level": "raid-1",
        "deviceSelector": {"count": 2, "tags": ["ssd"]},
        "readyTag": "storage-ready",
    }


def test_plan_creates_for_new_machines_and_leaves_matching_children_alone() -> None:
    todo = plan("fleet", spec(), [machine("a"), machine("b")], [child("a")], [])
    assert [name for name, _ in todo.create] == ["fleet-b"]
    assert todo.create[0][1]["machine"] == {"systemId": "b"}
    assert not (todo.update or todo.release or todo.delete or todo.adopt)


def test_plan_updates_children_whose_spec_differs_from_the_template() -> None:
    # A child written with the defaults the API server fills in is not "different".
    defaulted = child("a", spec={**desired_spec(spec(), "a"), "deletionPolicy": "Delete", "adopt": False})
    stale = child("b", spec={**desired_spec(spec(), "b"), "readyTag": "old"})
    todo = plan("fleet", spec(), [machine("a"), machine("b")], [defaulted, stale], [])
    assert [(c.name, s["readyTag"]) for c, s in todo.update] == [("fleet-b", "storage-ready")]


def test_plan_for_machines_that_leave_the_selector() -> None:
    owned = [child("a"), child("gone")]
    retain = plan("fleet", spec(), [machine("a")], owned, [])
    assert [c.name for c in retain.release] == ["fleet-gone"] and retain.delete == []
    delete = plan("fleet", spec(whenUnmatched="Delete"), [machine("a")], owned, [])
    assert [c.name for c in delete.delete] == ["fleet-gone"] and delete.release == []
    # A child already being deleted is left to finish.
    deleting = plan("fleet", spec(whenUnmatched="Delete"), [], [child("a", deleting=True)], [])
    assert deleting == raidset.Plan()


def test_plan_takes_a_released_child_back_when_its_machine_matches_again() -> None:
    back = child("a", owner_refs=())
    todo = plan("fleet", spec(), [machine("a")], [], [back])
    assert [c.name for c, _ in todo.adopt] == ["fleet-a"] and todo.create == []


def test_summary_counts_and_lines() -> None:
    machines = [machine("a"), machine("b"), machine("c"), machine("d")]
    owned = [
        child("a"),
        child("b", ready=False, reason=reasons.MACHINE_NOT_READY),
        child("c", ready=False, stalled=True, reason=reasons.NOT_ENOUGH_DEVICES),
    ]
    status = summarize(machines, owned, {"d": (reasons.CREATING, "MachineRaid fleet-d was just created")})
    assert (status.matched, status.ready, status.stalled, status.waiting) == (4, 1, 1, 2)
    assert [(ln.system_id, ln.reason, ln.stalled) for ln in status.not_ready] == [
        ("b", "MachineNotReady", False),
        ("c", "NotEnoughDevices", True),
        ("d", "Creating", False),
    ]
    assert status.not_ready[1].message == "NotEnoughDevices on c" and status.not_ready[1].hostname == "host-c"
    long = summarize([machine("b")], [child("b", ready=False, message="x" * 5000)], {})
    assert len(long.not_ready[0].message) == raidset.LINE_MESSAGE and long.not_ready[0].message.endswith("…")


def test_verdict_ready_waiting_degraded_stalled() -> None:
    ready = verdict(summarize([machine("a")], [child("a")], {}), [])
    assert (ready.ready, ready.reason, ready.message, ready.degraded) == (
        True,
        "Ready",
        "1 machine match, 1 Ready",
        None,
    )
    empty = verdict(summarize([], [], {}), [])
    assert empty.ready and empty.message == "0 machines match, 0 Ready"
    # One stalled child among progressing ones: Degraded, not Stalled (the rest still progress).
    mixed = verdict(
        summarize(
            [machine("a"), machine("b"), machine("c")],
            [
                child("a"),
                child("b", ready=False, reason="MachineNotReady"),
                child("c", ready=False, stalled=True, reason="NotEnoughDevices"),
            ],
            {},
        ),
        [],
    )
    assert (mixed.ready, mixed.reason, mixed.reason.stalls) == (False, "MachinesWaiting", False)
    assert (
        mixed.degraded is not None
        and mixed.degraded.message == "1 of 3 need a person: host-c (c): NotEnoughDevices"
    )
    # Only stalled children left: nothing progresses without a person, so the set is Stalled.
    stuck = verdict(
        summarize([machine("c")], [child("c", ready=False, stalled=True, reason="NotEnoughDevices")], {}), []
    )
    assert (stuck.ready, stuck.reason, stuck.reason.stalls) == (False, "MachinesStalled", True)


async def test_reconcile_makes_one_maas_list_and_writes_the_children() -> None:
    maas = FakeMaas([machine("a"), machine("b")])
    kube = FakeKube()
    owned = [child("b", spec={**desired_spec(spec(), "b"), "readyTag": "old"}), child("gone")]
    outcome = await raidset.reconcile(cast(MaasClient, maas), kube, REF, spec(), owned=owned, released=[])
    assert maas.lists == [{"tags": ["storage"], "pool": None, "zone": None}]
    assert [(verb, name) for verb, name, _ in kube.calls] == [
        ("create", "fleet-a"),
        ("json-patch", "fleet-b"),
        ("merge-patch", "fleet-gone"),
    ]
    created = kube.calls[0][2]
    assert created["metadata"]["labels"] == {SET_LABEL: "fleet"}
    assert created["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "maas.stratum.dev/v1alpha1",
            "kind": "MachineRaidSet",
            "name": "fleet",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert kube.calls[1][2] == [{"op": "replace", "path": "/spec", "value": desired_spec(spec(), "b")}]
    assert kube.calls[2][2] == {
        "metadata": {
            "labels": {SET_LABEL: None},
            "annotations": {raidset.RELEASED_ANNOTATION: "fleet"},
            "ownerReferences": None,
        }
    }
    assert not outcome.ready and outcome.reason == "MachinesWaiting"
    assert outcome.actions[0] == "created MachineRaid fleet-a for machine a"


async def test_a_refused_child_patch_and_a_foreign_name_become_lines_naming_the_machine() -> None:
    maas = FakeMaas([machine("a"), machine("b")])
    kube = FakeKube(refuse={"fleet-b"}, existing={"fleet-a": {"metadata": {"name": "fleet-a"}}})
    stale = child("b", spec={**desired_spec(spec(), "b"), "readyTag": "old"})
    outcome = await raidset.reconcile(cast(MaasClient, maas), kube, REF, spec(), owned=[stale], released=[])
    assert outcome.reason == reasons.CHILD_REFUSED and outcome.reason.stalls
    assert isinstance(outcome.status, MachineRaidSetStatus)
    lines = {ln.system_id: ln for ln in outcome.status.not_ready}
    assert lines["a"].reason == "NameConflict" and "does not belong to this set" in lines["a"].message
    assert lines["b"].reason == "ChildRefused" and "level is immutable" in lines["b"].message
    assert "MachineRaid fleet-b refused the template" in lines["b"].message


async def test_a_child_the_index_has_not_seen_yet_is_not_a_conflict() -> None:
    mine = {"metadata": {"name": "fleet-a", "ownerReferences": [REF.owner_reference()]}}
    kube = FakeKube(existing={"fleet-a": mine})
    outcome = await raidset.reconcile(
        cast(MaasClient, FakeMaas([machine("a")])), kube, REF, spec(), owned=[], released=[]
    )
    assert [(v, n) for v, n, _ in kube.calls] == [("create", "fleet-a"), ("get", "fleet-a")]
    assert isinstance(outcome.status, MachineRaidSetStatus)
    assert [(ln.reason, ln.stalled) for ln in outcome.status.not_ready] == [("Creating", False)]
    assert outcome.reason == "MachinesWaiting" and outcome.degraded is None


async def test_an_unknown_tag_touches_no_child() -> None:
    kube = FakeKube()
    outcome = await raidset.reconcile(
        cast(MaasClient, FakeMaas([], status=400)),
        kube,
        REF,
        spec(whenUnmatched="Delete"),
        owned=[child("a")],
        released=[],
    )
    assert (outcome.reason, kube.calls) == (reasons.SELECTOR_UNKNOWN, [])
    assert "No such tag(s)" in outcome.message


async def test_deleting_the_set_deletes_children_and_waits_or_releases_them() -> None:
    kube = FakeKube()
    owned = [child("a"), child("b", deleting=True)]
    waiting = await raidset.finalize(kube, REF, "Delete", owned)
    assert [(v, n) for v, n, _ in kube.calls] == [("delete", "fleet-a")]
    assert not waiting.ready and waiting.reason == reasons.DELETING_CHILDREN
    assert waiting.message.startswith("waiting for 2 MachineRaids to be deleted: fleet-a")
    assert (await raidset.finalize(kube, REF, "Delete", [])).ready
    kube = FakeKube()
    kept = await raidset.finalize(kube, REF, "Retain", owned)
    assert kept.ready and [(v, n) for v, n, _ in kube.calls] == [
        ("merge-patch", "fleet-a"),
        ("merge-patch", "fleet-b"),
    ]


async def test_every_declared_status_field_is_written_and_nothing_else() -> None:
    maas = cast(MaasClient, FakeMaas([machine("a"), machine("b")]))
    owned = [child("a"), child("b", ready=False, stalled=True, reason="NotEnoughDevices")]
    outcome = await raidset.reconcile(maas, FakeKube(), REF, spec(), owned=owned, released=[])
    found = written(status_patch(outcome.status))

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"plan mode sent {request.method} {request.url}")

    # managementPolicy Observe: the children the set would create are its differences.
    kube = KubeObjects(
        KubeConnection(server="https://api", insecure=True), transport=httpx.MockTransport(unreachable)
    )
    observed = await controls.observe(
        lambda: raidset.reconcile(maas, kube, REF, spec(), owned=[], released=[]), MachineRaidSetStatus
    )()
    assert observed.status is not None and observed.status.differences
    found |= written(status_patch(observed.status))
    wanted = declared(crds.MACHINE_RAID_SET)
    assert wanted - found == set(), "declared but never written"
    assert found - wanted == set(), "written but not declared"
