"""SnapshotSchedule: at each due slot, one Snapshot object per Resource (and a Backup object when
`backupTo` is set), named after the slot so a repeated slot can never create twice; then
retention deletes the oldest objects the schedule created beyond `keep` per resource.

The slot is written to status (lastScheduleTime) through the API *before* any object is created,
so a restarted operator sees it; lastSuccessfulTime follows once every object exists. A slot
recorded but not finished is finished on the next pass (creation is idempotent by name)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from stratum.api.linstor import GROUP, LINSTOR_NAME_PATTERN
from stratum.api.linstor_backup import (
    LabelSelector,
    ScheduledResource,
    SnapshotScheduleSpec,
    SnapshotScheduleStatus,
)
from stratum.clients.kubeobjects import Body, Objects
from stratum.reconcile import reasons
from stratum.reconcile.linstor.schedule import (
    Child,
    Schedule,
    ScheduleError,
    due_slot,
    format_time,
    parse_schedule,
    parse_time,
    retention_plan,
    slot_epoch,
)
from stratum.reconcile.outcome import Outcome, Wait

API_VERSION = f"{GROUP}/v1alpha1"
SCHEDULE_LABEL = "stratum.dev/schedule"
SLOT_LABEL = "stratum.dev/slot"
SNAPSHOTS = "snapshots"
BACKUPS = "backups"
RESOURCES = "resources"
SCHEDULES = "snapshotschedules"
MAX_LINSTOR_NAME = 48
MAX_OBJECT_NAME = 253


@dataclass(frozen=True)
class ScheduleObject:
    """The schedule as the handler saw it."""

    name: str
    uid: str
    created: dt.datetime
    last: dt.datetime | None
    """status.lastScheduleTime: the slot last started."""
    last_successful: dt.datetime | None


def slot_to_run(
    schedule: Schedule, spec: SnapshotScheduleSpec, obj: ScheduleObject, now: dt.datetime
) -> dt.datetime | None:
    """An unfinished recorded slot first (it is finished, never re-timed); else the due slot."""
    if obj.last is not None and obj.last != obj.last_successful:
        return obj.last
    if spec.suspend:
        return None
    return due_slot(schedule, now, obj.last, obj.created)


def next_time(schedule: Schedule, spec: SnapshotScheduleSpec, now: dt.datetime) -> dt.datetime | None:
    return None if spec.suspend else schedule.next_after(now)


# ------------------------------------------------------------------------------- names


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _fit(text: str, limit: int, salt: str) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 9].rstrip('-.')}-{_short_hash(salt)}"


def child_name(schedule: str, resource: str, slot: dt.datetime) -> str:
    """The Snapshot (and Backup) object name of one resource at one slot: deterministic."""
    suffix = f"-{slot_epoch(slot)}"
    return _fit(f"{schedule}-{resource}", MAX_OBJECT_NAME - len(suffix), f"{schedule}/{resource}") + suffix


def linstor_snapshot_name(schedule: str, slot: dt.datetime) -> str:
    """The LINSTOR snapshot name (unique per resource): the schedule and the slot, in LINSTOR's rules."""
    suffix = f"-{slot_epoch(slot)}"
    base = re.sub(r"[^A-Za-z0-9_-]", "-", schedule)
    if not base[:1].isalpha():
        base = "s" + base
    name = _fit(base, MAX_LINSTOR_NAME - len(suffix), schedule) + suffix
    assert re.match(LINSTOR_NAME_PATTERN, name), name
    return name


# ------------------------------------------------------------------------------- selectors


def label_selector(selector: LabelSelector) -> str:
    """A metav1.LabelSelector in the API server's query syntax."""
    parts = [f"{k}={v}" for k, v in sorted(selector.match_labels.items())]
    for req in selector.match_expressions:
        values = ",".join(req.values)
        parts.append(
            {
                "In": f"{req.key} in ({values})",
                "NotIn": f"{req.key} notin ({values})",
                "Exists": req.key,
                "DoesNotExist": f"!{req.key}",
            }[req.operator]
        )
    return ",".join(parts)


async def targets(objects: Objects, spec: SnapshotScheduleSpec) -> tuple[list[str], list[str]]:
    """(Resource objects to snapshot, named ones that do not exist)."""
    if spec.selector is not None:
        found = await objects.list(API_VERSION, RESOURCES, label_selector(spec.selector))
        return sorted(_name(o) for o in found if not _deleting(o)), []
    existing = {_name(o) for o in await objects.list(API_VERSION, RESOURCES) if not _deleting(o)}
    return [r for r in spec.resources if r in existing], [r for r in spec.resources if r not in existing]


def _name(obj: Body) -> str:
    return str(obj["metadata"]["name"])


def _deleting(obj: Body) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


# ------------------------------------------------------------------------------- children


def _metadata(obj: ScheduleObject, name: str, slot: dt.datetime) -> Body:
    return {
        "name": name,
        "labels": {SCHEDULE_LABEL: obj.name, SLOT_LABEL: str(slot_epoch(slot))},
        "ownerReferences": [
            {
                "apiVersion": API_VERSION,
                "kind": "SnapshotSchedule",
                "name": obj.name,
                "uid": obj.uid,
                "controller": True,
            }
        ],
    }


def snapshot_body(obj: ScheduleObject, resource: str, slot: dt.datetime) -> Body:
    return {
        "apiVersion": API_VERSION,
        "kind": "Snapshot",
        "metadata": _metadata(obj, child_name(obj.name, resource, slot), slot),
        "spec": {"resource": resource, "linstorName": linstor_snapshot_name(obj.name, slot)},
    }


def backup_body(obj: ScheduleObject, resource: str, slot: dt.datetime, remote: str) -> Body:
    # Full backups: each can be deleted by retention without breaking an incremental chain.
    name = child_name(obj.name, resource, slot)
    return {
        "apiVersion": API_VERSION,
        "kind": "Backup",
        "metadata": _metadata(obj, name, slot),
        "spec": {"remote": remote, "resource": resource, "snapshot": name, "incremental": False},
    }


def owned_children(items: list[Body], uid: str) -> list[tuple[Child, Body]]:
    """Objects this schedule created: its label, its owner reference, a slot."""
    out = []
    for item in items:
        meta = item["metadata"]
        owners = meta.get("ownerReferences") or []
        slot = (meta.get("labels") or {}).get(SLOT_LABEL, "")
        if not any(o.get("uid") == uid for o in owners) or not slot.isdigit():
            continue
        resource = str((item.get("spec") or {}).get("resource") or "")
        out.append((Child(_name(item), resource, int(slot)), item))
    return out


# ------------------------------------------------------------------------------- the pass


async def reconcile(
    objects: Objects, obj: ScheduleObject, spec: SnapshotScheduleSpec, now: dt.datetime
) -> Outcome:
    try:
        schedule = parse_schedule(spec.schedule)
    except ScheduleError as exc:
        return Outcome.waiting(
            reasons.INVALID_SCHEDULE, f"spec.schedule {spec.schedule!r}: {exc}", retry=Wait.SLOW
        )
    actions: list[str] = []
    status = SnapshotScheduleStatus()
    missing: list[str] = []
    slot = slot_to_run(schedule, spec, obj, now)
    if slot is not None:
        stamp = format_time(slot)
        if obj.last != slot:
            # Recorded before anything is created: a restart never fires this slot again.
            await objects.patch_status(API_VERSION, SCHEDULES, obj.name, {"lastScheduleTime": stamp})
        names, missing = await targets(objects, spec)
        for resource in names:
            if await objects.create(API_VERSION, SNAPSHOTS, snapshot_body(obj, resource, slot)):
                actions.append(f"created Snapshot {child_name(obj.name, resource, slot)}")
            if spec.backup_to and await objects.create(
                API_VERSION, BACKUPS, backup_body(obj, resource, slot, spec.backup_to)
            ):
                actions.append(f"created Backup {child_name(obj.name, resource, slot)} to {spec.backup_to}")
        status.last_schedule_time = stamp
        status.last_successful_time = stamp
    snapshots = owned_children(
        await objects.list(API_VERSION, SNAPSHOTS, f"{SCHEDULE_LABEL}={obj.name}"), obj.uid
    )
    doomed = retention_plan([child for child, _ in snapshots], spec.keep)
    backups: dict[str, Body] = {}
    if doomed:
        listed = await objects.list(API_VERSION, BACKUPS, f"{SCHEDULE_LABEL}={obj.name}")
        backups = {child.name: body for child, body in owned_children(listed, obj.uid)}
    for child in doomed:
        if child.name in backups:
            await objects.delete(API_VERSION, BACKUPS, child.name)
        if await objects.delete(API_VERSION, SNAPSHOTS, child.name):
            actions.append(f"deleted Snapshot {child.name} (keep {spec.keep})")
    gone = {c.name for c in doomed}
    status.resources = _counts([c for c, body in snapshots if c.name not in gone and not _deleting(body)])
    upcoming = next_time(schedule, spec, now)
    status.next_schedule_time = format_time(upcoming) if upcoming else None
    message = "suspended" if spec.suspend else f"next run at {status.next_schedule_time or 'never'}"
    if missing:
        message += f"; no Resource object named {', '.join(missing)}"
    return Outcome.done(message, status, actions)


def _counts(children: list[Child]) -> list[ScheduledResource]:
    by_resource: dict[str, list[Child]] = {}
    for child in children:
        by_resource.setdefault(child.resource, []).append(child)
    return [
        ScheduledResource(
            name=resource,
            snapshots=len(items),
            last_snapshot=max(items, key=lambda c: c.slot).name,
        )
        for resource, items in sorted(by_resource.items())
    ]


def schedule_object(body: Any) -> ScheduleObject:
    """From a kopf body (metadata and status as mappings)."""
    meta = body["metadata"]
    status = body.get("status") or {}
    created = dt.datetime.strptime(meta["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return ScheduleObject(
        name=meta["name"],
        uid=meta["uid"],
        created=created,
        last=parse_time(status.get("lastScheduleTime")),
        last_successful=parse_time(status.get("lastSuccessfulTime")),
    )


async def finalize(objects: Objects, obj: ScheduleObject) -> Outcome:
    """What the garbage collector does for owner references (clusters without one included): the
    objects this schedule created go with it. Objects orphaned first (`--cascade=orphan`) no longer
    carry its owner reference and stay."""
    actions: list[str] = []
    for plural in (BACKUPS, SNAPSHOTS):
        listed = await objects.list(API_VERSION, plural, f"{SCHEDULE_LABEL}={obj.name}")
        for child, _ in owned_children(listed, obj.uid):
            if await objects.delete(API_VERSION, plural, child.name):
                actions.append(f"deleted {plural[:-1].capitalize()} {child.name}")
    return Outcome.done(f"deleted {len(actions)} objects of schedule {obj.name}", None, actions)
