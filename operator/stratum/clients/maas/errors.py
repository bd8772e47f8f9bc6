"""MAAS error answers as typed errors. MAAS answers a refusal either as a JSON field map
(`{"field": ["msg"], "__all__": [...]}`) or as plain text, depending on where it arose."""

from __future__ import annotations

import json
from typing import Any

import httpx

from stratum.clients.errors import Backend, BackendConflict, BackendForbidden, BackendNotFound, BackendRefused

ALL = "__all__"


class MaasError(BackendRefused):
    """MAAS refused a request. `errors` holds the field map (plain-text answers are filed
    under `__all__`)."""

    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]], *, method: str = "", path: str = ""
    ) -> None:
        super().__init__(Backend.MAAS, message, status=status, detail={"method": method, "path": path})
        self.errors = errors
        self.method = method
        self.path = path

    @property
    def messages(self) -> list[str]:
        return [m for msgs in self.errors.values() for m in msgs]


class MaasValidationError(MaasError):
    """400: the form or model validation failed."""


class MaasUnauthorized(MaasError, BackendForbidden):
    """401: the key in MAAS_API_KEY is unknown, revoked or malformed."""


class MaasForbidden(MaasError, BackendForbidden):
    """403: the key's user may not do this (RAID changes need a MAAS administrator)."""


class MaasNotFound(MaasError, BackendNotFound):
    """404: no such machine, block device, partition or RAID."""


class MaasStateConflict(MaasError, BackendConflict):
    """409: the machine is not in a state that allows the change (NodeStateViolation)."""


def parse_errors(content_type: str, text: str) -> dict[str, list[str]]:
    """Both body shapes as one field map."""
    if "json" in content_type:
        try:
            payload: Any = json.loads(text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            return {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in payload.items()}
        if isinstance(payload, list):
            return {ALL: [str(m) for m in payload]}
        if isinstance(payload, str):
            text = payload
    text = text.strip()
    return {ALL: [text]} if text else {}


def describe(errors: dict[str, list[str]]) -> str:
    parts = []
    for key, messages in errors.items():
        joined = " ".join(messages)
        parts.append(joined if key == ALL else f"{key}: {joined}")
    return "; ".join(parts)


_BY_STATUS: dict[int, type[MaasError]] = {
    400: MaasValidationError,
    401: MaasUnauthorized,
    403: MaasForbidden,
    404: MaasNotFound,
    409: MaasStateConflict,
}


def error_from_response(response: httpx.Response, method: str, path: str) -> MaasError:
    content_type = response.headers.get("content-type", "")
    errors = parse_errors(content_type, response.text if "html" not in content_type else "")
    detail = describe(errors)
    status = response.status_code
    cls = _BY_STATUS.get(status, MaasError)
    if cls is MaasUnauthorized:
        message = f"MAAS rejected the credentials in MAAS_API_KEY ({detail or 'HTTP 401'})"
    elif cls is MaasForbidden:
        message = (
            f"MAAS refused {method} {path} (HTTP 403): an administrator's API key is needed; the user "
            "of MAAS_API_KEY is not a MAAS administrator (storage, tag and commissioning changes "
            f"need one){': ' + detail if detail else ''}"
        )
    elif cls is MaasNotFound:
        message = detail or f"{path} not found in MAAS"
    else:
        message = detail or f"{method} {path}: HTTP {status}"
    return cls(status, message, errors, method=method, path=path)
