"""Errors shaped as MAAS returns them.

MAAS answers errors in several shapes depending on where they arise: a form's field map
(JSON with charset), a model validation dict (JSON without charset), plain text for
`MAASAPIBadRequest`/`NodeStateViolation`/plain `ValidationError`, and Django's 404s.
Responses a piston handler returns (404 from the handler, 405, the 401 challenge) carry
`X-MAAS-API-Hash`; those built from exceptions by the middleware do not.
"""

from __future__ import annotations

import json

from aiohttp import web

DJANGO_404_PAGE = (
    '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
)


class ApiError(Exception):
    """An error answer. `with_hash`: whether MAAS adds X-MAAS-API-Hash to it."""

    status = 500
    with_hash = False

    def __init__(self, body: str = "", content_type: str = "text/plain; charset=utf-8") -> None:
        super().__init__(body)
        self.body = body
        self.content_type = content_type
        self.headers: dict[str, str] = {}

    def response(self) -> web.Response:
        resp = web.Response(status=self.status, body=self.body.encode("utf-8"), headers=self.headers)
        resp.headers["Content-Type"] = self.content_type
        return resp


class FormErrors(ApiError):
    """MAASAPIValidationError(form.errors): 400, JSON field map (or text for one bare message)."""

    status = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(json.dumps(errors), "application/json; charset=utf-8")
        self.errors = errors


class ModelErrors(ApiError):
    """A model ValidationError with a message dict, rendered by the exception middleware."""

    status = 400

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(json.dumps(errors), "application/json")
        self.errors = errors


class BadRequest(ApiError):
    """MAASAPIBadRequest or a plain ValidationError: 400 text."""

    status = 400


class NotFound(ApiError):
    """Http404 raised inside a handler: 404 text/plain (message may be empty)."""

    status = 404
    with_hash = True

    def __init__(self, body: str = "") -> None:
        super().__init__(body, "text/plain")


class Conflict(ApiError):
    """NodeStateViolation: 409 text."""

    status = 409


class Forbidden(ApiError):
    """Django's PermissionDenied as the exception middleware renders it (maasserver/middleware.py):
    403, text/plain, the exception's message as the body (empty for a bare `PermissionDenied()`)."""

    status = 403


class Unauthorized(ApiError):
    """OAuthUnauthorized: 401 with an OAuth challenge."""

    status = 401

    def __init__(self, body: str) -> None:
        super().__init__(body, "text/html; charset=utf-8")
        self.headers["WWW-Authenticate"] = 'OAuth realm="OAuth"'


class Challenge(ApiError):
    """piston's rc.FORBIDDEN: what an unauthenticated request to an auth-only handler gets."""

    status = 401
    with_hash = True

    def __init__(self) -> None:
        super().__init__("Forbidden", "text/html; charset=utf-8")


class NotAllowed(ApiError):
    status = 405
    with_hash = True

    def __init__(self, allowed: list[str]) -> None:
        super().__init__("", "text/html; charset=utf-8")
        self.headers["Allow"] = ", ".join(allowed)


class ServerError(ApiError):
    status = 500


def not_found_page() -> web.Response:
    """Django's own 404 (no URL matched)."""
    return web.Response(status=404, text=DJANGO_404_PAGE, content_type="text/html", charset="utf-8")


def injected_error(_: web.Request) -> web.Response:
    """What `/_sim/faults` errorRate injects: an unhandled exception as the middleware renders it."""
    return web.Response(
        status=500,
        body=b"Simulated failure (maas-sim fault injection)",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
