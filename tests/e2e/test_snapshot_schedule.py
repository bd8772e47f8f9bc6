"""SnapshotSchedule on the real control plane with compressed time (`@every 10s`): runs create
Snapshot objects (and LINSTOR snapshots), `keep` removes the oldest of both, `suspend` stops it,
and an operator restart after downtime gives one catch-up run and never a slot twice.

A control plane and operator of its own: the test stops and restarts the operator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratum.sim.linstor import LinstorSim
from support.kube import Kube
from support.operator import OperatorProcess
from support.planes import running_plane
from support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
API = "linstor.stratum.dev/v1alpha1"
SNAPSHOTS = "snapshots.linstor.stratum.dev"
SCHEDULES = "snapshotschedules.linstor.stratum.dev"
INTERVAL = 10


RESOURCES = [
    {
        "apiVersion": API,
        "kind": "ResourceGroup",
        "metadata": {"name": "sched-rg"},
        "spec": {"placement": {"placeCount": 2, "storagePools": ["thin"]}},
    },
    *(
        {
            "apiVersion": API,
            "kind": "Resource",
            "metadata": {"name": name, "labels": {"backup": "frequent"}},
            "spec": {"resourceGroup": "sched-rg", "volumes": [{"size": "1Gi"}]},
        }
        for name in ("sched-a", "sched-b")
    ),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kube, LinstorSim, OperatorProcess]]:
    with (
        running_plane(Path(tmp_path_factory.mktemp("sched-plane"))) as plane,
        LinstorSim(seed=ROOT / "examples" / "seeds" / "linstor.yaml") as sim,
    ):
        proc = OperatorProcess(
            plane.kube.kubeconfig,
            Path(tmp_path_factory.mktemp("sched-operator")),
            {"LS_CONTROLLERS": sim.controller_uri},
            args=("--drift-interval", "3"),
        )
        proc.start()
        try:
            plane.kube.apply(RESOURCES)
            for name in ("sched-a", "sched-b"):
                plane.kube.wait("resources.linstor.stratum.dev", name)
            yield plane.kube, sim, proc
        finally:
            proc.stop()


def schedule(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "SnapshotSchedule", "metadata": {"name": name}, "spec": spec}


def children(kube: Kube, schedule_name: str) -> dict[str, dict[str, Any]]:
    items = kube.get(SNAPSHOTS)["items"]
    return {
        i["metadata"]["name"]: i
        for i in items
        if i["metadata"].get("labels", {}).get("stratum.dev/schedule") == schedule_name
        and not i["metadata"].get("deletionTimestamp")
    }


def slots(kube: Kube, schedule_name: str) -> list[int]:
    return sorted(
        {int(c["metadata"]["labels"]["stratum.dev/slot"]) for c in children(kube, schedule_name).values()}
    )


def linstor_snapshots(sim: LinstorSim, resource: str) -> set[str]:
    answer = httpx.get(f"{sim.url}/v1/resource-definitions/{resource}/snapshots", timeout=10)
    answer.raise_for_status()
    return {s["name"] for s in answer.json()}


def wait_until(what: str, check: Any, timeout: float, proc: OperatorProcess) -> Any:
    try:
        return eventually(what, check, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{proc.tail()}") from None


def test_three_runs_keep_two(env: tuple[Kube, LinstorSim, OperatorProcess]) -> None:
    kube, sim, proc = env
    started = time.monotonic()
    kube.apply(schedule("every10", schedule=f"@every {INTERVAL}s", resources=["sched-a"], keep=2))
    seen: list[int] = []

    def third_run() -> bool:
        for slot in slots(kube, "every10"):
            if slot not in seen:
                seen.append(slot)
        return len(seen) >= 3

    wait_until("three runs", third_run, timeout=4 * INTERVAL + 15, proc=proc)
    first, second, third = seen[:3]
    assert second - first == INTERVAL and third - second == INTERVAL, seen  # one run per slot
    # keep 2: the oldest Snapshot object goes, and its LINSTOR snapshot with it.
    wait_until("retention", lambda: slots(kube, "every10") == [second, third], timeout=INTERVAL, proc=proc)
    oldest = f"every10-{first}"
    wait_until(
        "the oldest LINSTOR snapshot to go",
        lambda: oldest not in linstor_snapshots(sim, "sched-a"),
        timeout=30,
        proc=proc,
    )
    names = children(kube, "every10")
    assert set(names) == {f"every10-sched-a-{second}", f"every10-sched-a-{third}"}
    owner = kube.get(SCHEDULES, "every10")["metadata"]["uid"]
    for child in names.values():
        kube.wait(SNAPSHOTS, child["metadata"]["name"])
        assert [o["uid"] for o in child["metadata"]["ownerReferences"]] == [owner]
    assert {n for n in linstor_snapshots(sim, "sched-a") if n.startswith("every10-")} == {
        f"every10-{second}",
        f"every10-{third}",
    }
    status = kube.get(SCHEDULES, "every10")["status"]
    assert status["resources"] == [
        {"name": "sched-a", "snapshots": 2, "lastSnapshot": f"every10-sched-a-{third}"}
    ]
    assert status["lastScheduleTime"] and status["nextScheduleTime"] > status["lastScheduleTime"]
    print(f"three runs and retention in {time.monotonic() - started:.1f}s")

    # suspend: no further run for more than two intervals.
    kube.patch(SCHEDULES, "every10", {"spec": {"suspend": True}})
    time.sleep(1.5)  # a slot already being run finishes
    before = slots(kube, "every10")
    time.sleep(2 * INTERVAL + 3)
    assert slots(kube, "every10") == before
    assert "nextScheduleTime" not in kube.get(SCHEDULES, "every10")["status"]
    kube.delete(SCHEDULES, "every10")


def test_restart_gives_one_catch_up_run_and_no_slot_twice(
    env: tuple[Kube, LinstorSim, OperatorProcess],
) -> None:
    kube, sim, proc = env
    kube.apply(
        schedule(
            "restart",
            schedule=f"@every {INTERVAL}s",
            selector={"matchLabels": {"backup": "frequent"}},
            keep=10,
        )
    )
    wait_until("a first run", lambda: len(slots(kube, "restart")) >= 1, timeout=2 * INTERVAL + 10, proc=proc)
    before_stop = slots(kube, "restart")
    proc.stop()
    time.sleep(2.5 * INTERVAL)  # at least two slots are missed
    proc.start()
    restarted = time.time()
    wait_until(
        "the catch-up run", lambda: len(slots(kube, "restart")) > len(before_stop), timeout=15, proc=proc
    )
    time.sleep(3)
    after = slots(kube, "restart")
    assert after[: len(before_stop)] == before_stop
    downtime = [s for s in range(before_stop[-1] + INTERVAL, int(restarted) + 1, INTERVAL)]
    assert len(downtime) >= 2, (before_stop, restarted)
    # One catch-up run for the newest missed slot at most, never one per missed slot.
    assert len([s for s in after if s in downtime]) == 1, (after, downtime)
    assert len(after) - len(before_stop) in (1, 2), after  # the catch-up, perhaps then a regular slot
    # Each slot gave exactly one Snapshot object per selected resource and one LINSTOR snapshot each.
    objects = children(kube, "restart")
    assert len(objects) == 2 * len(after)
    for resource in ("sched-a", "sched-b"):
        taken = {n for n in linstor_snapshots(sim, resource) if n.startswith("restart-")}
        wait_until(
            f"LINSTOR snapshots of {resource}",
            lambda resource=resource: (
                {n for n in linstor_snapshots(sim, resource) if n.startswith("restart-")}
                == {f"restart-{s}" for s in after}
                or None
            ),
            timeout=15,
            proc=proc,
        )
        assert taken <= {f"restart-{s}" for s in after}
    kube.delete(SCHEDULES, "restart")
