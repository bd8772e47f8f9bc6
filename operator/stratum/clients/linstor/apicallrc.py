"""LINSTOR's ApiCallRc answer list and its signed 64-bit ret_code.

python-linstor tests codes as bit subsets, which matches supersets (asking for 500 also
matches 501) and calls errors warnings; here severity and code are separate fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stratum.clients.errors import Backend, BackendRefused

MASK_SEVERITY = 0xC000000000000000
MASK_ERROR = 0xC000000000000000
MASK_WARN = 0x8000000000000000
MASK_INFO = 0x4000000000000000
MASK_CODE = 0x7FFF

# Codes the operator acts on (low 15 bits).
CREATED, DELETED, MODIFIED = 1, 2, 3
FAIL_INVLD_PROP = 213
FAIL_INVLD_VLM_SIZE = 206
FAIL_NOT_FOUND_RSC_DFN = 301
FAIL_NOT_FOUND_STOR_POOL_DFN = 309
FAIL_NOT_FOUND_STOR_POOL = 310
FAIL_NOT_FOUND_SNAPSHOT = 315
FAIL_NOT_FOUND_RSC_GRP = 317
FAIL_EXISTS_RSC_DFN = 501
FAIL_EXISTS_VLM_DFN = 503
FAIL_EXISTS_SNAPSHOT_DFN = 514
FAIL_EXISTS_RSC_GRP = 522
FAIL_EXISTS_VLM_GRP = 523
FAIL_NOT_ALL_UPTODATE = 974
FAIL_NOT_ENOUGH_FREE_SPACE = 980
FAIL_INSUFFICIENT_REPLICA_COUNT = 991
FAIL_SNAPSHOTS_NOT_SUPPORTED = 994
FAIL_NOT_CONNECTED = 995
FAIL_NOT_ENOUGH_NODES = 996
FAIL_IN_USE = 997
FAIL_UNKNOWN_ERROR = 998
WARN_NOT_FOUND = 3000


class ApiCallRc(BaseModel):
    """One entry of the answer list."""

    model_config = ConfigDict(extra="ignore")

    ret_code: int
    message: str = ""
    cause: str | None = None
    details: str | None = None
    correction: str | None = None
    obj_refs: dict[str, str] = Field(default_factory=dict)
    error_report_ids: list[str] = Field(default_factory=list)

    @property
    def severity(self) -> int:
        return self.ret_code & MASK_SEVERITY

    @property
    def code(self) -> int:
        return self.ret_code & MASK_CODE

    @property
    def is_error(self) -> bool:
        return self.severity == MASK_ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity == MASK_WARN

    def describe(self) -> str:
        parts = [self.message.rstrip(".") + "."]
        if self.cause:
            parts.append(f"Cause: {self.cause.rstrip('.')}.")
        if self.correction:
            parts.append(f"Correction: {self.correction.rstrip('.')}.")
        return " ".join(parts)


def parse_answers(payload: Any) -> list[ApiCallRc] | None:
    """The answer list, or None when the body is not an ApiCallRc list."""
    if not isinstance(payload, list) or not payload:
        return None
    if not all(isinstance(item, dict) and "ret_code" in item for item in payload):
        return None
    return [ApiCallRc.model_validate(item) for item in payload]


def warnings(answers: list[ApiCallRc]) -> list[str]:
    """The WARN entries of an answer list, described for a person (e.g. a satellite that is not
    connected, a resource that did not become ready)."""
    return [a.describe() for a in answers if a.is_warning]


class LinstorError(BackendRefused):
    """The controller answered with an error entry; `detail` carries its ret code."""

    def __init__(self, status: int, answers: list[ApiCallRc]) -> None:
        errors = [a for a in answers if a.is_error] or answers
        first = errors[0]
        super().__init__(
            Backend.LINSTOR,
            first.describe(),
            status=status,
            detail={"retCode": first.ret_code, "code": first.code},
        )
        self.answers = answers
        self.ret_code = first.ret_code
        self.code = first.code
        self.cause = first.cause
        self.correction = first.correction
        self.details = first.details

    def has_code(self, *codes: int) -> bool:
        return any(a.is_error and a.code in codes for a in self.answers)
