"""URL dispatch as Django + piston do it for `/MAAS/api/2.0/`.

Exact trailing-slash rules (Django's APPEND_SLASH answers 301 to the slashed URL when only
that one exists; the partition detail route has no trailing slash), `?op=` (or a body
`op`, or the `/op-<name>` path suffix), 405 for methods a handler lacks, 400
`Unrecognised signature` for unknown (method, op) pairs, OAuth on every non-anonymous
handler, and one atomic state change per request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from multidict import MultiDict

from . import blockdevices, machines, partitions, places, raids, tags
from .auth import authenticate
from .describe import api_hash, describe
from .errors import ApiError, BadRequest, NotAllowed, ServerError, not_found_page
from .forms import read_params
from .lifecycle import advance
from .model import MaasState
from .registry import API_PREFIX, Call, Handler

log = logging.getLogger(__name__)

HANDLERS: list[Handler] = [
    *machines.HANDLERS,
    *blockdevices.HANDLERS,
    *partitions.HANDLERS,
    *raids.HANDLERS,
    *tags.HANDLERS,
    *places.HANDLERS,
]
API_HASH = api_hash(HANDLERS)


def _match(rel: str) -> tuple[Handler, dict[str, str]] | None:
    for handler in HANDLERS:
        m = handler.pattern.match(rel)
        if m is None and handler.op_pattern is not None:
            m = handler.op_pattern.match(rel)
        if m is not None:
            return handler, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def _exists(rel: str) -> bool:
    return rel == "describe/" or _match(rel) is not None


def _json(data: Any) -> web.Response:
    body = json.dumps(data).encode("utf-8")
    return web.Response(status=200, body=body, headers={"Content-Type": "application/json; charset=utf-8"})


def _with_hash(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["X-MAAS-API-Hash"] = API_HASH
    return response


class Dispatcher:
    def __init__(self, state: MaasState) -> None:
        self.state = state

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/MAAS/api/1.0/"):
            return web.Response(
                status=410, text="The 1.0 API is no longer available. Please use API version 2.0."
            )
        if path.startswith("/MAAS/api/version/"):
            return web.Response(text="2.0", content_type="text/plain")
        if not path.startswith(API_PREFIX):
            return self._no_route(request, None)
        rel = path[len(API_PREFIX) :]
        if rel == "describe/":
            # A plain Django view (no piston resource): anonymous, no X-MAAS-API-Hash header.
            base = f"{request.scheme}://{request.host}"
            return _json_plain(describe(HANDLERS, base))
        found = _match(rel)
        if found is None:
            return self._no_route(request, rel)
        handler, args = found
        path_op = args.pop("_op", None)
        params = await read_params(request)
        query = request.query
        op = query.get("op") or params.get("op") or path_op or None
        user = None
        if not handler.anon:
            try:
                with self.state.lock:
                    user = authenticate(self.state, request.headers.get("Authorization", ""), query, params)
            except ApiError as exc:
                return self._error(exc)
        if request.method not in handler.allowed_methods:
            return self._error(NotAllowed(handler.allowed_methods))
        action = handler.find(request.method, op)
        if action is None:
            return self._error(BadRequest(f"Unrecognised signature: method={request.method} op={op}"))
        call_params = params if request.method in ("POST", "PUT") else MultiDict(query)
        call = Call(state=self.state, method=request.method, op=op, args=args, params=call_params, user=user)
        with self.state.lock:
            advance(self.state)
            try:
                result = action.fn(call)
            except ApiError as exc:
                call.rollback()
                return self._error(exc)
            except Exception as exc:  # an unhandled exception: Django's 500
                call.rollback()
                log.exception("maas-sim handler failed")
                return self._error(ServerError(str(exc)))
            call.commit()
        response = result if isinstance(result, web.StreamResponse) else _json(result)
        return _with_hash(response)

    def _error(self, exc: ApiError) -> web.StreamResponse:
        response = exc.response()
        return _with_hash(response) if exc.with_hash else response

    def _no_route(self, request: web.Request, rel: str | None) -> web.StreamResponse:
        if rel is not None and not rel.endswith("/") and _exists(rel + "/"):
            location = request.path + "/"
            if request.query_string:
                location += "?" + request.query_string
            return web.Response(status=301, headers={"Location": location})
        return not_found_page()


def _json_plain(data: Any) -> web.Response:
    body = json.dumps(data, sort_keys=True).encode("utf-8")
    return web.Response(status=200, body=body, headers={"Content-Type": "application/json"})
