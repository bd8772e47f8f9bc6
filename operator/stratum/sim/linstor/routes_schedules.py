"""Backup schedules: `/v1/schedules` and `/v1/remotes/{remote}/backups/schedule/{schedule}/...`.

linstor-server: api/rest/v1/Schedules.java, Backups.java (enable/disable/delete),
CtrlScheduleApiCallHandler.java, CtrlScheduledBackupsApiCallHandler.java.  Enabling a schedule
sets `Schedule/<remote>/<schedule>/Enabled` on the resource definition, the resource group or
the controller, as upstream.  The simulator keeps schedules and their enablement but does not
run them (upstream's ScheduleBackupService); cron strings are stored as given, and messages name
a schedule without upstream's English description of its cron ("Schedule: s1, FullCron: ...").
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import apicallrc as rc
from . import backuprc as B
from .backups import registered_remote
from .http import body_dict, mutating, reading
from .model import State
from .names import key, name_problem
from .remotes import Schedule
from .routes_definitions import rd_or_404

CTX_SCHEDULE = rc.MASK_MOD | B.MASK_SCHEDULE
_FIELDS = ("full_cron", "inc_cron", "keep_local", "keep_remote", "on_failure", "max_retries")


def schedule_json(s: Schedule) -> dict[str, Any]:
    """JsonGenTypes.Schedule (NON_EMPTY: unset fields are left out)."""
    out = {
        "schedule_name": s.name,
        "full_cron": s.full_cron,
        "inc_cron": s.inc_cron,
        "keep_local": s.keep_local,
        "keep_remote": s.keep_remote,
        "on_failure": s.on_failure,
        "max_retries": s.max_retries,
    }
    return {k: v for k, v in out.items() if v is not None}


def registered_schedule(state: State, name: str) -> Schedule:
    schedule = state.backup.schedules.get(key(name))
    if schedule is None:
        raise rc.fail(
            B.FAIL_NOT_FOUND_SCHEDULE,
            f"Schedule '{name}' not registered.",
            cause=f"The specified schedule '{name}' could not be found in the database",
            correction=f"Create a schedule with the name '{name}' first.",
        )
    return schedule


def _apply(schedule: Schedule, data: dict[str, Any]) -> None:
    for field in _FIELDS:
        if data.get(field) is not None:
            setattr(schedule, field, data[field])


@reading(B.MASK_SCHEDULE)
def list_schedules(request: web.Request, state: State) -> Any:
    return {"data": [schedule_json(s) for s in sorted(state.backup.schedules.values(), key=lambda s: s.name)]}


@mutating(CTX_SCHEDULE, 200)
def create_schedule(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    data = body_dict(body)
    name = str(data.get("schedule_name") or "")
    problem = name_problem(name)
    if problem:
        raise rc.fail(B.FAIL_INVLD_SCHEDULE_NAME, f"Invalid schedule name '{name}': {problem}")
    if not data.get("full_cron"):
        # upstream fails parsing a missing cron with an unhandled exception
        raise rc.fail(
            rc.FAIL_UNKNOWN_ERROR, "An unknown error occurred.", error_report_ids=[rc.error_report_id()]
        )
    if key(name) in state.backup.schedules:
        raise rc.fail(
            B.FAIL_EXISTS_SCHEDULE,
            f"A schedule with the name '{name}' already exists. "
            "Please use a different name or try to modify the schedule instead.",
        )
    schedule = Schedule(name, str(data["full_cron"]))
    _apply(schedule, data)
    state.backup.schedules[key(name)] = schedule
    return [
        rc.ok(
            rc.CREATED,
            f"Schedule: {name} created successfully.",
            details=f"Schedule: {name} UUID is: {schedule.uuid}",
        )
    ]


@mutating(CTX_SCHEDULE, 200)
def modify_schedule(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    schedule = registered_schedule(state, request.match_info["schedule"])
    _apply(schedule, body_dict(body))
    return [
        rc.ok(
            rc.MODIFIED,
            f"Schedule: {schedule.name} modified successfully.",
            details=f"Schedule: {schedule.name} UUID is: {schedule.uuid}",
        )
    ]


@mutating(CTX_SCHEDULE, 200)
def delete_schedule(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    name = request.match_info["schedule"]
    schedule = state.backup.schedules.pop(key(name), None)
    if schedule is None:
        return [rc.warn(rc.WARN_NOT_FOUND, f"Schedule: {name} not found.")]
    return [
        rc.ok(
            rc.DELETED,
            f"Schedule: {schedule.name} marked for deletion.",
            details=f"Schedule: {schedule.name} UUID is: {schedule.uuid}",
        )
    ]


def _target_props(state: State, rsc: str | None, grp: str | None) -> dict[str, str]:
    if rsc:
        return rd_or_404(state, rsc).props
    if grp:
        rg = state.rg(grp)
        if rg is None:
            raise rc.fail(rc.FAIL_NOT_FOUND_RSC_GRP, f"Resource group '{grp}' not found.")
        return rg.props
    return state.ctrl_props


def _message(schedule: str, action: str, rsc: str | None, grp: str | None, remote: str) -> str:
    """CtrlScheduledBackupsApiCallHandler.buildSuccessMessage."""
    where = (
        f" for resource definition '{rsc}'"
        if rsc
        else f" for resource group '{grp}'"
        if grp
        else " on controller"
    )
    return f"Backup shipping schedule '{schedule}' successfully {action}{where} to remote '{remote}'."


def _toggle(request: web.Request, state: State, body: Any, enabled: bool) -> list[rc.Entry]:
    data = body_dict(body)
    remote = registered_remote(state, request.match_info["remote"])
    schedule = registered_schedule(state, request.match_info["schedule"])
    rsc, grp = data.get("rsc_name") or None, data.get("grp_name") or None
    props = _target_props(state, rsc, grp)
    prefix = f"Schedule/{remote.name}/{schedule.name}"
    props[f"{prefix}/Enabled"] = "true" if enabled else "false"
    if data.get("node_name"):
        props[f"{prefix}/PrefNode"] = str(data["node_name"])
    action = "enabled" if enabled else "disabled"
    return [rc.ok(rc.MODIFIED, _message(schedule.name, action, rsc, grp, remote.name))]


@mutating(0, 200)
def enable(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    return _toggle(request, state, body, True)


@mutating(0, 200)
def disable(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    return _toggle(request, state, body, False)


@mutating(0, 200)
def remove(request: web.Request, state: State, body: Any) -> list[rc.Entry]:
    remote = registered_remote(state, request.match_info["remote"])
    schedule = registered_schedule(state, request.match_info["schedule"])
    rsc = request.query.get("rsc_dfn_name") or None
    grp = request.query.get("rsc_grp_name") or None
    props = _target_props(state, rsc, grp)
    for leaf in ("Enabled", "PrefNode"):
        props.pop(f"Schedule/{remote.name}/{schedule.name}/{leaf}", None)
    return [rc.ok(rc.DELETED, _message(schedule.name, "deleted", rsc, grp, remote.name))]


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/v1/schedules", list_schedules)
    r.add_post("/v1/schedules", create_schedule)
    r.add_put("/v1/schedules/{schedule}", modify_schedule)
    r.add_delete("/v1/schedules/{schedule}", delete_schedule)
    base = "/v1/remotes/{remote}/backups/schedule/{schedule}"
    r.add_put(base + "/enable", enable)
    r.add_put(base + "/disable", disable)
    r.add_delete(base + "/delete", remove)
