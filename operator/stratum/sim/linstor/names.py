"""LINSTOR name rules. Names are case-insensitive: identity is the upper-cased form."""

from __future__ import annotations

import re

from . import apicallrc as rc

_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_HOST_LABEL}(?:\.{_HOST_LABEL})*$")

RESERVED_RSC_NAMES = {"ALL", "PROXY"}


def key(name: str) -> str:
    """Identity of a name (LINSTOR compares names upper-cased)."""
    return name.upper()


def name_problem(name: object, min_len: int = 2, max_len: int = 48) -> str | None:
    """Checks.nameCheck: length, first char letter or '_', inner chars [A-Za-z0-9_-], one letter."""
    if not isinstance(name, str) or not name:
        return "the name is empty"
    if not min_len <= len(name.encode()) <= max_len:
        return f"the name must be {min_len} to {max_len} characters long"
    if not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        return "the first character must be a letter or '_'"
    for ch in name[1:]:
        if not (ch.isascii() and (ch.isalnum() or ch in "_-")):
            return f"invalid character '{ch}'"
    if not any(ch.isascii() and ch.isalpha() for ch in name):
        return "the name must contain at least one letter"
    return None


def _invalid(code: int, kind: str, name: object, why: str) -> rc.ApiError:
    return rc.fail(
        code,
        f"The specified {kind} name '{name}' is not a valid {kind} name.",
        cause=why,
    )


def check_rsc_name(name: object) -> str:
    why = name_problem(name)
    if why is None and isinstance(name, str) and key(name) in RESERVED_RSC_NAMES:
        why = f"'{name}' is a reserved name"
    if why:
        raise _invalid(rc.FAIL_INVLD_RSC_NAME, "resource", name, why)
    assert isinstance(name, str)
    return name


def check_rg_name(name: object) -> str:
    why = name_problem(name)
    if why:
        raise _invalid(rc.FAIL_INVLD_RSC_GRP_NAME, "resource group", name, why)
    assert isinstance(name, str)
    return name


def check_snapshot_name(name: object) -> str:
    why = name_problem(name)
    if why:
        raise _invalid(rc.FAIL_INVLD_SNAPSHOT_NAME, "snapshot", name, why)
    assert isinstance(name, str)
    return name


def check_kvs_name(name: object) -> str:
    why = name_problem(name)
    if why:
        raise _invalid(rc.FAIL_INVLD_KVS_NAME, "key value store", name, why)
    assert isinstance(name, str)
    return name


def check_pool_name(name: object) -> str:
    why = name_problem(name, min_len=3)
    if why:
        raise _invalid(rc.FAIL_INVLD_STOR_POOL_NAME, "storage pool", name, why)
    assert isinstance(name, str)
    return name


def check_node_name(name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > 253 or not _HOSTNAME.match(name):
        raise _invalid(rc.FAIL_INVLD_NODE_NAME, "node", name, "node names follow the RFC 952/1123 host names")
    return name


def name_from_external(external: str, taken: set[str]) -> str:
    """A valid resource name derived from an external name (not unique → numbered suffix)."""
    chars = [ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "_" for ch in external]
    base = "".join(chars)
    if not base or not (base[0].isalpha() or base[0] == "_"):
        base = "_" + base
    if not any(ch.isalpha() for ch in base):
        base = "R" + base
    base = base[:48]
    if len(base) < 2:
        base = (base + "__")[:2]
    candidate = base
    counter = 1
    while key(candidate) in taken or key(candidate) in RESERVED_RSC_NAMES:
        suffix = f"_{counter}"
        candidate = base[: 48 - len(suffix)] + suffix
        counter += 1
    return candidate
