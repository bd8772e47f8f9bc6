"""Who owns a backend object. The operator marks what it creates and never takes over an object
it did not create unless the user asked (spec.adopt)."""

from __future__ import annotations

import enum

from stratum.reconcile import reasons
from stratum.reconcile.reasons import Reason

OWNER_PROP = "Aux/stratum.dev/owner"
MANAGED_PROP = "Aux/stratum.dev/managed"
# LINSTOR ignores properties on resource-group create, so the group is created with this
# description first: a crash before the follow-up property update still proves authorship.
CREATION_MARKER = "stratum.dev/creating:"


class Claim(enum.Enum):
    OURS = "ours"
    ADOPT = "adopt"
    CONFLICT = "conflict"
    OWNED_ELSEWHERE = "owned-elsewhere"


def creation_marker(uid: str) -> str:
    return f"{CREATION_MARKER}{uid}"


def claim(props: dict[str, str], uid: str, adopt: bool, description: str | None = None) -> Claim:
    owner = props.get(OWNER_PROP)
    if owner == uid or description == creation_marker(uid):
        return Claim.OURS
    if owner:
        return Claim.OWNED_ELSEWHERE
    return Claim.ADOPT if adopt else Claim.CONFLICT


def conflict_reason(claimed: Claim) -> Reason:
    return reasons.NAME_CONFLICT if claimed is Claim.CONFLICT else reasons.ALREADY_OWNED


def conflict_message(what: str, name: str, claimed: Claim) -> str:
    if claimed is Claim.OWNED_ELSEWHERE:
        return (
            f"{what} '{name}' already exists and belongs to another Stratum object; "
            "use another name (spec.linstorName)"
        )
    return (
        f"{what} '{name}' already exists and was not created by this object; nothing was changed. "
        "Set spec.adopt: true to manage it, or choose another name"
    )
