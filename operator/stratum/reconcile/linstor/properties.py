"""Property convergence: set what the spec wants, remove only what the operator set before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from stratum.reconcile.linstor.ownership import MANAGED_PROP, OWNER_PROP


@dataclass
class PropsChange:
    override: dict[str, str] = field(default_factory=dict)
    delete: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.override or self.delete)


def managed_keys(observed: Mapping[str, str]) -> set[str]:
    raw = observed.get(MANAGED_PROP, "")
    return {key for key in raw.split(",") if key}


def marker_props(uid: str | None, desired: Mapping[str, str]) -> dict[str, str]:
    """The owner marker (when the object has one) plus the list of keys the operator manages."""
    markers = {MANAGED_PROP: ",".join(sorted(desired))}
    if uid is not None:
        markers[OWNER_PROP] = uid
    return markers


def plan_props(desired: Mapping[str, str], observed: Mapping[str, str], uid: str | None) -> PropsChange:
    """`uid` None for sub-objects (volume groups) that carry no owner marker of their own."""
    wanted = {**desired, **marker_props(uid, desired)}
    change = PropsChange()
    for key, value in wanted.items():
        if observed.get(key) != value:
            change.override[key] = value
    for key in sorted(managed_keys(observed) - set(desired)):
        if key in observed:
            change.delete.append(key)
    return change
