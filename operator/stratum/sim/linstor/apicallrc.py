"""ApiCallRc entries: the 64-bit return codes and the HTTP status they map to.

Every mutating LINSTOR call answers with a JSON list of entries. `ret_code` is a signed Java long:
severity in bits 62-63, operation in bits 24-25, object type in bits 18-22 and the code in the low
15 bits. The controller ORs the handler's *context* operation/object into every entry whose own
operation/object bits are zero.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from dataclasses import dataclass, field
from typing import Any

# Severity.
MASK_ERROR = 0xC000000000000000
MASK_WARN = 0x8000000000000000
MASK_INFO = 0x4000000000000000
MASK_SEVERITY = 0xC000000000000000

# Operation.
MASK_CRT = 0x01000000
MASK_MOD = 0x02000000
MASK_DEL = 0x03000000
MASK_OP = 0x03000000

# Object type.
MASK_VLM_GRP = 0x480000
MASK_RSC_GRP = 0x440000
MASK_KVS = 0x400000
MASK_NODE = 0x3C0000
MASK_RSC_DFN = 0x380000
MASK_RSC = 0x340000
MASK_VLM_DFN = 0x300000
MASK_VLM = 0x2C0000
MASK_STOR_POOL = 0x140000
MASK_CTRL_CONF = 0x100000
MASK_SNAPSHOT = 0x0C0000
MASK_OBJ = 0x7C0000

MASK_CODE = 0x7FFF

# Success codes.
CREATED = 1
DELETED = 2
MODIFIED = 3

# Invalid input.
FAIL_INVLD_NODE_NAME = 200
FAIL_INVLD_RSC_NAME = 202
FAIL_INVLD_VLM_NR = 205
FAIL_INVLD_VLM_SIZE = 206
FAIL_INVLD_MINOR_NR = 207
FAIL_INVLD_STOR_POOL_NAME = 208
FAIL_INVLD_PROP = 213
FAIL_INVLD_SNAPSHOT_NAME = 218
FAIL_INVLD_PLACE_COUNT = 219
FAIL_INVLD_KVS_NAME = 223
FAIL_INVLD_LAYER_KIND = 224
FAIL_INVLD_LAYER_STACK = 225
FAIL_INVLD_PROVIDER = 227
FAIL_INVLD_VLM_SIZES = 228
FAIL_INVLD_REQUEST = 234
FAIL_INVLD_RSC_GRP_NAME = 237

# Not found.
FAIL_NOT_FOUND_NODE = 300
FAIL_NOT_FOUND_RSC_DFN = 301
FAIL_NOT_FOUND_RSC = 302
FAIL_NOT_FOUND_VLM_DFN = 303
FAIL_NOT_FOUND_VLM = 304
FAIL_NOT_FOUND_STOR_POOL_DFN = 309
FAIL_NOT_FOUND_STOR_POOL = 310
FAIL_NOT_FOUND_DFLT_STOR_POOL = 311
FAIL_NOT_FOUND_SNAPSHOT_DFN = 313
FAIL_NOT_FOUND_SNAPSHOT = 315
FAIL_NOT_FOUND_KVS = 316
FAIL_NOT_FOUND_RSC_GRP = 317
FAIL_NOT_FOUND_VLM_GRP = 318

# Access denied.
FAIL_ACC_DENIED_RSC_GRP = 419

# Already exists.
FAIL_EXISTS_NODE = 500
FAIL_EXISTS_RSC_DFN = 501
FAIL_EXISTS_RSC = 502
FAIL_EXISTS_VLM_DFN = 503
FAIL_EXISTS_STOR_POOL = 510
FAIL_EXISTS_SNAPSHOT_DFN = 514
FAIL_EXISTS_EXT_NAME = 517
FAIL_EXISTS_RSC_GRP = 522
FAIL_EXISTS_VLM_GRP = 523

# Exhausted pools.
FAIL_POOL_EXHAUSTED_VLM_NR = 800
FAIL_POOL_EXHAUSTED_MINOR_NR = 801
FAIL_POOL_EXHAUSTED_TCP_PORT = 802
FAIL_POOL_EXHAUSTED_NODE_ID = 803

# Other failures.
FAIL_NOT_ALL_UPTODATE = 974
FAIL_NOT_ENOUGH_FREE_SPACE = 980
FAIL_UNDECIDABLE_AUTOPLACMENT = 985
FAIL_INSUFFICIENT_REPLICA_COUNT = 991
FAIL_INSUFFICIENT_PEER_SLOTS = 993
FAIL_SNAPSHOTS_NOT_SUPPORTED = 994
FAIL_NOT_CONNECTED = 995
FAIL_NOT_ENOUGH_NODES = 996
FAIL_IN_USE = 997
FAIL_UNKNOWN_ERROR = 998

# Warnings.
WARN_NOT_CONNECTED = 1002
WARN_RSC_ALREADY_DEPLOYED = 1006
WARN_RSC_ALREADY_HAS_DISK = 1007
WARN_ALL_DISKLESS = 1009
WARN_STORAGE_KIND_ADDED = 1012
WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER = 1013
WARN_VLMDFN_RESIZE_SAME_SIZE = 1023
WARN_NOT_FOUND = 3000
WARN_DEPRECATED = 4000

# Information.
INFO_NO_RSC_SPAWNED = 10000
INFO_PROP_SET = 10002
INFO_TIE_BREAKER_CREATED = 10003
INFO_TIE_BREAKER_DELETING = 10004
INFO_PROP_REMOVED = 10005
INFO_TIE_BREAKER_TAKEOVER = 10006
INFO_NOOP = 10007
INFO_RSC_ALREADY_EXISTS = 10008

# "Unable to parse input json." (ERROR | 0x0FFFFFFFFFFFFFFD).
API_CALL_PARSE_ERROR = MASK_ERROR | 0x0FFFFFFFFFFFFFFD


def to_signed(value: int) -> int:
    """The unsigned 64-bit pattern as the signed Java long that goes on the wire."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= (1 << 63) else value


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).astimezone().isoformat(timespec="milliseconds")


@dataclass
class Entry:
    """One ApiCallRc entry. `code` holds severity/op/object bits plus the low code."""

    code: int
    message: str
    cause: str | None = None
    details: str | None = None
    correction: str | None = None
    obj_refs: dict[str, str] = field(default_factory=dict)
    error_report_ids: list[str] = field(default_factory=list)

    @property
    def is_error(self) -> bool:
        return (self.code & MASK_SEVERITY) == MASK_ERROR

    def with_context(self, context: int) -> Entry:
        code = self.code
        if code & MASK_OP == 0:
            code |= context & MASK_OP
        if code & MASK_OBJ == 0:
            code |= context & MASK_OBJ
        return Entry(
            code,
            self.message,
            self.cause,
            self.details,
            self.correction,
            dict(self.obj_refs),
            list(self.error_report_ids),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ret_code": to_signed(self.code), "message": self.message}
        for key in ("cause", "details", "correction"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.obj_refs:
            out["obj_refs"] = dict(self.obj_refs)
        if self.error_report_ids:
            out["error_report_ids"] = list(self.error_report_ids)
        out["created_at"] = now_iso()
        return out


def ok(code: int, message: str, **kw: Any) -> Entry:
    return Entry(code, message, **kw)


def info(code: int, message: str, **kw: Any) -> Entry:
    return Entry(MASK_INFO | code, message, **kw)


def warn(code: int, message: str, **kw: Any) -> Entry:
    return Entry(MASK_WARN | code, message, **kw)


def err(code: int, message: str, **kw: Any) -> Entry:
    return Entry(MASK_ERROR | code, message, **kw)


class ApiError(Exception):
    """Raised by operations: the call fails with these entries (state is left untouched)."""

    def __init__(self, *entries: Entry, status: int | None = None) -> None:
        super().__init__(entries[0].message if entries else "error")
        self.entries = list(entries)
        self.status = status


def fail(code: int, message: str, **kw: Any) -> ApiError:
    return ApiError(err(code, message, **kw))


def http_status(entries: list[Entry], success: int) -> int:
    """ApiCallRcRestUtils.toResponse: the first full-ERROR entry decides; else `success`."""
    for entry in entries:
        if entry.is_error:
            code = entry.code & MASK_CODE
            if 300 <= code <= 399:
                return 404
            if 400 <= code <= 499:
                return 403
            return 500
    return success


def new_uuid() -> str:
    return str(uuid.uuid4())


def error_report_id() -> str:
    return f"SIM-{uuid.uuid4().hex[:6].upper()}-000000"
