"""The fewest valid RAID updates (PUTs) that turn the current members into the wanted ones.

MAAS rules for one update (UpdateRaidForm.save): all removals run first and each one is
validated on its own (the array must keep its minimum active count after every removal), then
the additions, then one final validation. A device can only be added when it is free, and a
device removed in an update is not free yet when that update's form is checked, so moving a
device between active and spare takes two updates: remove it in one, add it in a later one.

Plan: each update removes every spare that must go and as many actives as the minimum allows
(devices that must reappear in the other role first, so they can be re-added sooner), and adds
everything that is free by then. The loop ends when nothing is left, at most a few updates.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from stratum.reconcile.maas.capacity import MAAS_MIN_ACTIVE

K = TypeVar("K", bound=Hashable)


@dataclass
class MemberUpdate(Generic[K]):
    """One PUT: removals then additions, each list in the order given."""

    remove_active: list[K] = field(default_factory=list)
    remove_spare: list[K] = field(default_factory=list)
    add_active: list[K] = field(default_factory=list)
    add_spare: list[K] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.remove_active or self.remove_spare or self.add_active or self.add_spare)


class UnreachableMembers(ValueError):
    """No valid sequence of updates leads to the wanted members (should not happen for a valid
    spec; raised rather than looping)."""


def plan_members(
    level: str,
    active: Sequence[K],
    spare: Sequence[K],
    want_active: Sequence[K],
    want_spare: Sequence[K],
) -> list[MemberUpdate[K]]:
    """Updates in order; empty when the members already match (order within a role is ignored)."""
    minimum = MAAS_MIN_ACTIVE[level]
    cur_a, cur_s = list(dict.fromkeys(active)), list(dict.fromkeys(spare))
    want_a, want_s = list(dict.fromkeys(want_active)), list(dict.fromkeys(want_spare))
    if len(want_a) < minimum:
        raise UnreachableMembers(f"{level} needs at least {minimum} active devices")
    updates: list[MemberUpdate[K]] = []
    for _ in range(len(cur_a) + len(cur_s) + len(want_a) + len(want_s) + 2):
        if set(cur_a) == set(want_a) and set(cur_s) == set(want_s):
            return updates
        update: MemberUpdate[K] = MemberUpdate()
        update.remove_spare = [k for k in cur_s if k not in want_s]
        leaving = [k for k in cur_a if k not in want_a]
        # Actives that move to spare first: they need a later update to come back.
        leaving.sort(key=lambda k: k not in want_s)
        allowed = max(len(cur_a) - minimum, 0)
        update.remove_active = leaving[:allowed]
        removed = set(update.remove_spare) | set(update.remove_active)
        cur_a = [k for k in cur_a if k not in removed]
        cur_s = [k for k in cur_s if k not in removed]
        members = set(cur_a) | set(cur_s)
        update.add_active = [k for k in want_a if k not in members and k not in removed]
        update.add_spare = [k for k in want_s if k not in members and k not in removed]
        cur_a += update.add_active
        cur_s += update.add_spare
        if not update:
            break
        updates.append(update)
    raise UnreachableMembers("no valid sequence of RAID updates reaches the wanted members")
