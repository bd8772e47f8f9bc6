"""LINSTOR reads shared by drift passes (see stratum.clients.shared): per interval, one list of
each kind a drift pass asks about (resource groups, resource definitions with their volume
definitions, resources with their states, snapshots, storage pools), each fetched on first use;
answers are cut from those lists by name, as the controller matches names (case-insensitively).
Volume groups and max volume sizes have no bulk read and are kept per group (SharedEntries).

A list is kept as each row's own JSON text, decoded (into the client's model) only when a pass
asks for that row: 10,000 resource definitions with their resources are ~12 KB a row as Python
dicts and ~2 KB as text, and a row nobody asks about costs nothing.

Each method returns a Hit with the answer, or None when the pass reads fresh (a change-driven
pass, or shared data older than its object's last fresh pass)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stratum.clients import shared
from stratum.clients.linstor.models import (
    MaxVolumeSizes,
    Resource,
    ResourceDefinition,
    ResourceGroup,
    Snapshot,
    VolumeGroup,
)
from stratum.clients.shared import Clock, SharedEntries, SharedValue

T = TypeVar("T")
Rows = dict[str, list[str]]
ALL_DEFINITIONS = "*"  # where a listing keeps every definition decoded, once asked for
Request = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Hit(Generic[T]):
    value: T


def key(name: str) -> str:
    return name.casefold()


_WHITESPACE = " \t\n\r"


def json_rows(text: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Each element of a JSON array, decoded and as its own text, one at a time (so the whole
    list is never held decoded)."""
    decoder = json.JSONDecoder()
    at = _skip(text, 0)
    if text[at : at + 1] != "[":
        raise ValueError("not a JSON array")
    at = _skip(text, at + 1)
    while text[at : at + 1] not in ("]", ""):
        row, end = decoder.raw_decode(text, at)
        yield row, text[at:end]
        at = _skip(text, end)
        if text[at : at + 1] == ",":
            at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def by_name(text: str, *fields: str) -> Rows:
    """Row texts grouped by the (case-folded) value of `fields`, joined with '/'."""
    out: Rows = defaultdict(list)
    for row, raw in json_rows(text):
        out["/".join(key(str(row.get(f, ""))) for f in fields)].append(raw)
    return dict(out)


def pools_fingerprint(rows: list[str]) -> Hashable:
    """What a max volume size depends on besides the group: every pool's free and total space
    (a satellite without connection reports none)."""
    pools = [json.loads(row) for row in rows]
    return tuple(
        sorted(
            (
                str(r.get("node_name")),
                str(r.get("storage_pool_name")),
                r.get("free_capacity"),
                r.get("total_capacity"),
            )
            for r in pools
        )
    )


class LinstorSharedReads:
    """The shared lists of one LinstorClient; `request` is the client's own (GET) request."""

    def __init__(self, request: Request, clock: Clock = time.monotonic) -> None:
        def listing(path: str, *fields: str, params: dict[str, str] | None = None) -> SharedValue[Rows]:
            async def fetch() -> Rows:
                return by_name(await request("GET", path, params=params, raw=True), *fields)

            return SharedValue(fetch, clock)

        self._groups = listing("/v1/resource-groups", "name")
        self._definitions = listing(
            "/v1/resource-definitions", "name", params={"with_volume_definitions": "true"}
        )
        self._resources = listing("/v1/view/resources", "name")
        self._snapshots = listing("/v1/view/snapshots", "resource_name", "name")
        self._pools = listing("/v1/view/storage-pools")
        self._volume_groups: SharedEntries[str, list[VolumeGroup]] = SharedEntries(clock)
        self._max_sizes: SharedEntries[str, MaxVolumeSizes] = SharedEntries(clock)
        self._decoded: dict[str, tuple[Rows, list[ResourceDefinition]]] = {}

    async def _listing(self, listing: SharedValue[Rows]) -> Rows | None:
        reads = shared.current()
        return None if reads is None else await listing.get(reads)

    async def _rows(self, listing: SharedValue[Rows], name: str) -> list[str] | None:
        rows = await self._listing(listing)
        return None if rows is None else rows.get(name, [])

    async def resource_group(self, name: str) -> Hit[ResourceGroup | None] | None:
        rows = await self._rows(self._groups, key(name))
        if rows is None:
            return None
        return Hit(ResourceGroup.model_validate_json(rows[0]) if rows else None)

    async def resource_definition(self, name: str) -> Hit[ResourceDefinition | None] | None:
        rows = await self._rows(self._definitions, key(name))
        if rows is None:
            return None
        return Hit(ResourceDefinition.model_validate_json(rows[0]) if rows else None)

    async def resource_definitions(self, names: Sequence[str]) -> Hit[list[ResourceDefinition]] | None:
        """The named definitions, or all of them (decoded once per listing and shared: the
        models are the same objects for every pass, to be read, not changed)."""
        rows = await self._listing(self._definitions)
        if rows is None:
            return None
        if names:
            texts = [t for name in dict.fromkeys(map(key, names)) for t in rows.get(name, [])]
            return Hit([ResourceDefinition.model_validate_json(t) for t in texts])
        if ALL_DEFINITIONS not in self._decoded or self._decoded[ALL_DEFINITIONS][0] is not rows:
            every = [ResourceDefinition.model_validate_json(t) for texts in rows.values() for t in texts]
            self._decoded[ALL_DEFINITIONS] = (rows, every)
        return Hit(list(self._decoded[ALL_DEFINITIONS][1]))

    async def resources(self, names: Sequence[str]) -> Hit[list[Resource]] | None:
        """The resources of the named definitions (of all, without names)."""
        rows = await self._listing(self._resources)
        if rows is None:
            return None
        wanted = dict.fromkeys(map(key, names)) if names else rows.keys()
        return Hit([Resource.model_validate_json(t) for name in wanted for t in rows.get(name, [])])

    async def snapshot(self, resource: str, name: str) -> Hit[Snapshot | None] | None:
        rows = await self._rows(self._snapshots, f"{key(resource)}/{key(name)}")
        if rows is None:
            return None
        return Hit(Snapshot.model_validate_json(rows[0]) if rows else None)

    async def volume_groups(
        self, group: str, fetch: Callable[[], Awaitable[list[VolumeGroup]]]
    ) -> Hit[list[VolumeGroup]] | None:
        """Kept per group while the group itself (as listed) is unchanged."""
        reads = shared.current()
        observed = await self.resource_group(group)
        if reads is None or observed is None or observed.value is None:
            return None
        fingerprint = observed.value.model_dump_json()
        return Hit(await self._volume_groups.get(key(group), fingerprint, fetch, reads))

    async def max_volume_size(
        self, group: str, fetch: Callable[[], Awaitable[MaxVolumeSizes]]
    ) -> Hit[MaxVolumeSizes] | None:
        """Kept per group while the group and every storage pool's free space are unchanged."""
        reads = shared.current()
        observed = await self.resource_group(group)
        if reads is None or observed is None or observed.value is None:
            return None
        pools = await self._pools.get(reads)
        if pools is None:
            return None
        fingerprint = (observed.value.model_dump_json(), pools_fingerprint(pools.get("", [])))
        return Hit(await self._max_sizes.get(key(group), fingerprint, fetch, reads))
