"""`spec.readyTag`: a MAAS tag on the machine exactly while every MachineRaid of that machine that
names the tag is Ready, so an allocator can ask for it (`allocate tags=<tag>`) and never gets a
machine whose storage is half made.

Each MachineRaid decides for itself with what the operator knows of its siblings (an index of the
MachineRaids by machine and tag): its own pass result plus the siblings' Ready conditions. A
sibling that turns Ready adds the tag in its own pass; one that stops being Ready (or is deleted)
removes it in its own pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Sibling:
    """Another MachineRaid on the same machine naming the same tag, as the index saw it."""

    uid: str
    name: str
    ready: bool


@dataclass(frozen=True)
class TagPlan:
    create: bool = False
    add: bool = False
    remove: bool = False
    remove_old: str | None = None
    """A tag this object managed before spec.readyTag changed."""

    def __bool__(self) -> bool:
        return self.create or self.add or self.remove or self.remove_old is not None


def want_tag(self_ready: bool, siblings: Iterable[Sibling], uid: str) -> bool:
    return self_ready and all(s.ready for s in siblings if s.uid != uid)


def plan_ready_tag(
    tag: str | None,
    *,
    want: bool,
    machine_tags: Iterable[str],
    tag_exists: bool | None,
    recorded: str | None,
) -> TagPlan:
    """`tag_exists` None: not looked up (only needed when the tag must be added)."""
    tags = set(machine_tags)
    old = recorded if recorded and recorded != tag and recorded in tags else None
    if tag is None:
        return TagPlan(remove_old=old)
    if want:
        if tag in tags:
            return TagPlan(remove_old=old)
        return TagPlan(create=tag_exists is False, add=True, remove_old=old)
    return TagPlan(remove=tag in tags, remove_old=old)
