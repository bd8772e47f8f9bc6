"""Error reports as the controller keeps them: `GET /v1/error-reports[/{id}]`.

linstor-server: api/rest/v1/ErrorReports.java (query `node`, `since`, `to`, `withContent` — false
for the list, true for one id — `limit` default 1000; `offset` ignored; one id answers a list too),
JsonGenTypes.ErrorReport (docs/rest_v1_openapi.yaml `ErrorReport`). A satellite's report is named
`ErrorReport-<instance>-<node id>-<sequence>.log` and its id is that name without prefix/suffix.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from aiohttp import web

from .http import reading
from .model import ErrorReport, State, now_ms

_INSTANCE = uuid.uuid4().hex[:8].upper()
_SEQUENCE = itertools.count()


def record(state: State, node_name: str, exception: str, message: str, text: str) -> ErrorReport:
    node_ids = {n.key: i for i, n in enumerate(state.nodes.values())}
    node_nr = node_ids.get(node_name.upper(), 0)
    report = ErrorReport(
        node_name=node_name,
        error_time=now_ms(),
        report_id=f"{_INSTANCE}-{node_nr:05d}-{next(_SEQUENCE):06d}",
        text=text,
        exception=exception,
        exception_message=message,
        version=state.version_text,
    )
    state.error_reports.append(report)
    return report


def report_json(report: ErrorReport, with_content: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "node_name": report.node_name,
        "error_time": report.error_time,
        "filename": f"ErrorReport-{report.report_id}.log",
        "module": report.module,
        "version": report.version,
        "exception": report.exception,
        "exception_message": report.exception_message,
    }
    if with_content:
        out["text"] = report.text
    return out


def _int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def _select(request: web.Request, state: State, report_id: str | None) -> list[dict[str, Any]]:
    node = request.query.get("node")
    since, to = _int(request, "since"), _int(request, "to")
    default_content = "true" if report_id else "false"
    with_content = request.query.get("withContent", default_content).lower() == "true"
    limit = _int(request, "limit")
    rows = []
    for report in state.error_reports:
        if node and report.node_name.upper() != node.upper():
            continue
        if report_id and report.report_id != report_id:
            continue
        if since is not None and report.error_time < since:
            continue
        if to is not None and report.error_time > to:
            continue
        rows.append(report_json(report, with_content))
    cap = 1000 if limit is None else limit
    return rows[:cap] if cap > 0 else rows


@reading()
def list_reports(request: web.Request, state: State) -> Any:
    return _select(request, state, None)


@reading()
def get_report(request: web.Request, state: State) -> Any:
    return _select(request, state, request.match_info["report"])


def setup(app: web.Application) -> None:
    app.router.add_get("/v1/error-reports", list_reports)
    app.router.add_get("/v1/error-reports/{report}", get_report)
