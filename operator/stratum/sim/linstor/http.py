"""HTTP plumbing for the REST handlers: body parsing, ApiCallRc responses, list helpers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import wraps
from typing import Any, TypeVar

from aiohttp import web

from . import apicallrc as rc
from .model import State
from .restversion import refuse_unknown_fields, route_unknown

STATE_KEY: web.AppKey[State] = web.AppKey("linstor_state", State)

# Called with the entries of every mutation that went through (e.g. to fail it after the commit).
CommitHook = Callable[[web.Request, State, list[rc.Entry]], list[rc.Entry]]
COMMIT_HOOK_KEY: web.AppKey[CommitHook] = web.AppKey("linstor_commit_hook")

T = TypeVar("T")

MutatingHandler = Callable[[web.Request, State, Any], list[rc.Entry]]
ReadHandler = Callable[[web.Request, State], Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def state_of(request: web.Request) -> State:
    return request.app[STATE_KEY]


def entries_response(
    entries: Sequence[rc.Entry], success: int, context: int, status: int | None = None
) -> web.Response:
    final = [e.with_context(context) for e in entries]
    code = status if status is not None else rc.http_status(final, success)
    return web.json_response([e.to_json() for e in final], status=code)


async def read_body(request: web.Request, parse_status: int) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise rc.ApiError(
            rc.Entry(rc.API_CALL_PARSE_ERROR, "Unable to parse input json.", details=str(exc)),
            status=parse_status,
        ) from exc


def mutating(context: int, success: int, parse_status: int = 500) -> Callable[[MutatingHandler], Handler]:
    """Wrap `fn(request, state, body) -> entries` into an aiohttp handler answering an ApiCallRc list.

    `parse_status` is 400 for the handlers that parse their JSON synchronously and 500 for the
    others (the parse-error entry carries the error bits).
    """

    def deco(fn: MutatingHandler) -> Handler:
        @wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            state = state_of(request)
            missing = route_unknown(request, state)
            if missing == 404:
                raise web.HTTPNotFound()
            if missing is not None:
                raise web.HTTPMethodNotAllowed(request.method, ["GET", "DELETE"])
            try:
                body = await read_body(request, parse_status)
                refuse_unknown_fields(request, state, body, parse_status)
                entries = fn(request, state, body)
                hook = request.app.get(COMMIT_HOOK_KEY)
                if hook is not None:
                    entries = hook(request, state, list(entries))
            except rc.ApiError as exc:
                return entries_response(exc.entries, success, context, exc.status)
            return entries_response(entries, success, context)

        return handler

    return deco


def reading(context: int = 0) -> Callable[[ReadHandler], Handler]:
    """Wrap `fn(request, state) -> JSON-able` (errors become ApiCallRc lists, e.g. 404)."""

    def deco(fn: ReadHandler) -> Handler:
        @wraps(fn)
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                data = fn(request, state_of(request))
            except rc.ApiError as exc:
                return entries_response(exc.entries, 200, context, exc.status)
            return web.json_response(data)

        return handler

    return deco


def body_dict(body: Any, what: str = "body") -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise rc.fail(rc.FAIL_INVLD_REQUEST, f"The {what} must be a JSON object")
    return body


def query_list(request: web.Request, name: str) -> list[str]:
    """Repeated keys (`?nodes=a&nodes=b`); comma lists are not split."""
    return [v for v in request.query.getall(name, []) if v != ""]


def query_bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in {"true", "1", "yes"}


def paginate(request: web.Request, items: Iterable[T]) -> list[T]:
    """limit/offset apply only when limit > 0."""
    out = list(items)
    try:
        limit = int(request.query.get("limit", "0"))
        offset = int(request.query.get("offset", "0"))
    except ValueError:
        return out
    if limit > 0:
        return out[max(offset, 0) : max(offset, 0) + limit]
    return out


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError as exc:
        raise rc.fail(rc.FAIL_INVLD_VLM_NR, f"Invalid volume number '{raw}'") from exc
