"""The SnapshotSchedule pass against an in-memory object store: the slot is recorded before any
object is created, a crash mid-slot is finished (never re-timed, never doubled), retention
deletes only this schedule's own objects, names are deterministic and within the rules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from stratum.api.linstor import LINSTOR_NAME_PATTERN
from stratum.api.linstor_backup import SnapshotScheduleSpec
from stratum.clients.kubeobjects import Body
from stratum.reconcile.linstor.snapshotschedule import (
    ScheduleObject,
    child_name,
    finalize,
    label_selector,
    linstor_snapshot_name,
    reconcile,
)

UTC = dt.UTC
CREATED = dt.datetime(2026, 12, 1, 8, 0, 3, tzinfo=UTC)


class Crash(Exception):
    pass


class FakeObjects:
    """Objects by (plural, name); a log of calls in order; an optional crash on the n-th create."""

    def __init__(self, resources: dict[str, dict[str, str]]) -> None:
        self.store: dict[tuple[str, str], Body] = {
            ("resources", n): {"metadata": {"name": n, "labels": labels}} for n, labels in resources.items()
        }
        self.log: list[tuple[str, str]] = []
        self.crash_on_create: int | None = None
        self.creates = 0

    async def list(self, api_version: str, plural: str, label_selector: str = "") -> list[Body]:
        self.log.append(("list", plural))
        wanted = dict(part.split("=") for part in label_selector.split(",") if "=" in part)
        return [
            body
            for (p, _), body in sorted(self.store.items())
            if p == plural and all(body["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())
        ]

    async def create(self, api_version: str, plural: str, body: Body) -> bool:
        self.creates += 1
        if self.crash_on_create == self.creates:
            raise Crash
        key = (plural, body["metadata"]["name"])
        self.log.append(("create", key[1]))
        if key in self.store:
            return False
        self.store[key] = body
        return True

    async def delete(self, api_version: str, plural: str, name: str) -> bool:
        self.log.append(("delete", name))
        return self.store.pop((plural, name), None) is not None

    async def patch_status(self, api_version: str, plural: str, name: str, status: Body) -> None:
        self.log.append(("status", status["lastScheduleTime"]))

    async def read_secret(self, namespace: str, name: str) -> tuple[dict[str, str], str] | None:
        raise AssertionError("a schedule reads no Secret")

    def names(self, plural: str) -> list[str]:
        return sorted(n for p, n in self.store if p == plural)


def spec(**fields: Any) -> SnapshotScheduleSpec:
    return SnapshotScheduleSpec.model_validate({"schedule": "@every 10s", "resources": ["r1"], **fields})


def obj(last: str | None = None, successful: str | None = None) -> ScheduleObject:
    parse = lambda t: dt.datetime.fromisoformat(t).replace(tzinfo=UTC) if t else None  # noqa: E731
    return ScheduleObject("s", "uid-s", CREATED, parse(last), parse(successful))


def now(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


async def test_slot_is_recorded_before_anything_is_created() -> None:
    objects = FakeObjects({"r1": {}})
    outcome = await reconcile(objects, obj(), spec(), now("2026-12-01T08:00:11"))
    assert outcome.ready
    epoch = int(now("2026-12-01T08:00:10").timestamp())
    assert objects.log[0] == ("status", "2026-12-01T08:00:10Z")
    assert ("create", f"s-r1-{epoch}") in objects.log
    assert objects.log.index(("status", "2026-12-01T08:00:10Z")) < objects.log.index(
        ("create", f"s-r1-{epoch}")
    )
    assert outcome.status is not None
    assert outcome.status.last_successful_time == "2026-12-01T08:00:10Z"
    assert outcome.status.next_schedule_time == "2026-12-01T08:00:20Z"
    body = objects.store[("snapshots", f"s-r1-{epoch}")]
    assert body["metadata"]["labels"] == {"stratum.dev/schedule": "s", "stratum.dev/slot": str(epoch)}
    assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-s"
    assert body["spec"] == {"resource": "r1", "linstorName": f"s-{epoch}"}


async def test_nothing_runs_between_slots() -> None:
    objects = FakeObjects({"r1": {}})
    outcome = await reconcile(
        objects, obj("2026-12-01T08:00:10", "2026-12-01T08:00:10"), spec(), now("2026-12-01T08:00:19")
    )
    assert outcome.ready and not outcome.actions
    assert [c for c, _ in objects.log if c in ("create", "status")] == []


async def test_a_crash_mid_slot_finishes_that_slot_and_never_another() -> None:
    objects = FakeObjects({"r1": {}, "r2": {}})
    objects.crash_on_create = 2  # r1 created, crash before r2
    with pytest.raises(Crash):
        await reconcile(objects, obj(), spec(resources=["r1", "r2"]), now("2026-12-01T08:00:11"))
    assert objects.names("snapshots") == [f"s-r1-{1796112010}"]
    # The restarted operator reads lastScheduleTime (recorded) without lastSuccessfulTime, long after.
    later = now("2026-12-01T08:05:00")
    outcome = await reconcile(objects, obj("2026-12-01T08:00:10"), spec(resources=["r1", "r2"]), later)
    assert objects.names("snapshots") == ["s-r1-1796112010", "s-r2-1796112010"]
    assert outcome.actions == ["created Snapshot s-r2-1796112010"]
    assert outcome.status is not None and outcome.status.last_successful_time == "2026-12-01T08:00:10Z"


async def test_a_repeated_slot_creates_nothing_twice() -> None:
    objects = FakeObjects({"r1": {}})
    for _ in range(2):  # e.g. a stale status after a restart
        await reconcile(objects, obj(), spec(), now("2026-12-01T08:00:11"))
    assert objects.names("snapshots") == ["s-r1-1796112010"]


async def test_downtime_gives_one_catch_up() -> None:
    objects = FakeObjects({"r1": {}})
    last = "2026-12-01T08:00:10"
    await reconcile(objects, obj(last, last), spec(keep=100), now("2026-12-01T09:00:04"))
    assert objects.names("snapshots") == [f"s-r1-{int(now('2026-12-01T09:00:00').timestamp())}"]


async def test_retention_deletes_only_this_schedules_oldest() -> None:
    objects = FakeObjects({"r1": {}})
    for second in (10, 20, 30):
        t = f"2026-12-01T08:00:{second}"
        prev = f"2026-12-01T08:00:{second - 10:02d}" if second > 10 else None
        await reconcile(objects, obj(prev, prev), spec(keep=2), now(t))
    # Another owner's object with the same label, and a hand-made Snapshot: never touched.
    foreign = {
        "metadata": {
            "name": "s-r1-1",
            "labels": {"stratum.dev/schedule": "s", "stratum.dev/slot": "1"},
            "ownerReferences": [{"uid": "someone-else"}],
        },
        "spec": {"resource": "r1"},
    }
    objects.store[("snapshots", "s-r1-1")] = foreign
    objects.store[("snapshots", "manual")] = {"metadata": {"name": "manual"}, "spec": {"resource": "r1"}}
    outcome = await reconcile(
        objects, obj("2026-12-01T08:00:30", "2026-12-01T08:00:30"), spec(keep=2), now("2026-12-01T08:00:31")
    )
    assert objects.names("snapshots") == ["manual", "s-r1-1", "s-r1-1796112020", "s-r1-1796112030"]
    assert outcome.status is not None
    (counted,) = outcome.status.resources
    assert (counted.name, counted.snapshots, counted.last_snapshot) == ("r1", 2, "s-r1-1796112030")


async def test_backup_to_creates_full_backups_and_retention_removes_them() -> None:
    objects = FakeObjects({"r1": {}})
    await reconcile(objects, obj(), spec(keep=1, backupTo="s3"), now("2026-12-01T08:00:11"))
    (name,) = objects.names("backups")
    assert objects.store[("backups", name)]["spec"] == {
        "remote": "s3",
        "resource": "r1",
        "snapshot": name,
        "incremental": False,
    }
    last = "2026-12-01T08:00:10"
    await reconcile(objects, obj(last, last), spec(keep=1, backupTo="s3"), now("2026-12-01T08:00:21"))
    assert objects.names("backups") == ["s-r1-1796112020"] == objects.names("snapshots")


async def test_suspended_schedule_does_not_run_but_finishes_a_started_slot() -> None:
    objects = FakeObjects({"r1": {}})
    outcome = await reconcile(objects, obj(), spec(suspend=True), now("2026-12-01T08:00:11"))
    assert objects.names("snapshots") == [] and outcome.message == "suspended"
    assert outcome.status is not None and outcome.status.next_schedule_time is None
    await reconcile(objects, obj("2026-12-01T08:00:10"), spec(suspend=True), now("2026-12-01T08:00:31"))
    assert objects.names("snapshots") == ["s-r1-1796112010"]


async def test_selector_and_missing_names() -> None:
    objects = FakeObjects({"a": {"tier": "gold"}, "b": {"tier": "bronze"}})
    sel = spec(resources=[], selector={"matchLabels": {"tier": "gold"}})
    await reconcile(objects, obj(), sel, now("2026-12-01T08:00:11"))
    assert objects.names("snapshots") == ["s-a-1796112010"]
    outcome = await reconcile(objects, obj(), spec(resources=["b", "nope"]), now("2026-12-01T08:00:11"))
    assert "no Resource object named nope" in outcome.message


async def test_invalid_schedule_stalls() -> None:
    outcome = await reconcile(FakeObjects({}), obj(), spec(schedule="61 * * * *"), now("2026-12-01T08:00:11"))
    assert not outcome.ready and outcome.reason == "InvalidSchedule" and outcome.reason.stalls
    assert "minute: 61" in outcome.message


def test_label_selector_syntax() -> None:
    sel = SnapshotScheduleSpec.model_validate(
        {
            "schedule": "@daily",
            "selector": {
                "matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [
                    {"key": "x", "operator": "In", "values": ["p", "q"]},
                    {"key": "y", "operator": "NotIn", "values": ["r"]},
                    {"key": "z", "operator": "Exists"},
                    {"key": "w", "operator": "DoesNotExist"},
                ],
            },
        }
    ).selector
    assert sel is not None
    assert label_selector(sel) == "a=1,b=2,x in (p,q),y notin (r),z,!w"


def test_names_are_deterministic_and_valid() -> None:
    slot = now("2026-12-01T08:00:10")
    assert child_name("s", "r1", slot) == child_name("s", "r1", slot) == "s-r1-1796112010"
    long = child_name("x" * 200, "y" * 200, slot)
    assert len(long) <= 253 and long.endswith("-1796112010")
    assert long != child_name("x" * 200, "y" * 199 + "z", slot)
    for schedule in ("s", "9lives", "a.b.c", "k" * 63):
        name = linstor_snapshot_name(schedule, slot)
        assert len(name) <= 48 and re.match(LINSTOR_NAME_PATTERN, name), name
    assert linstor_snapshot_name("k" * 63, slot) != linstor_snapshot_name("k" * 62 + "j", slot)


async def test_deleting_the_schedule_deletes_its_own_objects_only() -> None:
    objects = FakeObjects({"r1": {}})
    await reconcile(objects, obj(), spec(backupTo="s3"), now("2026-12-01T08:00:11"))
    orphan = {
        "metadata": {"name": "orphaned", "labels": {"stratum.dev/schedule": "s", "stratum.dev/slot": "5"}},
        "spec": {"resource": "r1"},
    }
    objects.store[("snapshots", "orphaned")] = orphan
    outcome = await finalize(objects, obj())
    assert outcome.ready
    assert objects.names("snapshots") == ["orphaned"] and objects.names("backups") == []
