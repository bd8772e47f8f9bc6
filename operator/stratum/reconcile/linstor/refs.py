"""What a reconciler needs to know about the other objects it refers to. The handlers fill
these from in-memory indexes of the Kubernetes objects, so no API call is spent on lookups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroupRef:
    linstor_name: str
    ready: bool
    place_count: int


@dataclass(frozen=True)
class ResourceRef:
    linstor_name: str
    exists: bool
    """The LINSTOR resource definition has been created (status says so)."""


@dataclass(frozen=True)
class SnapshotRef:
    linstor_name: str
    resource_linstor_name: str | None
    ready: bool
