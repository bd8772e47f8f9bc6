"""Zones (maasserver/api/zones.py: `zones/`, `zones/{name}/`) and resource pools
(maasserver/api/resourcepools.py: `resourcepools/`, `resourcepool/{id}/`, by id or name).

Names follow MODEL_NAME_VALIDATOR (maasserver/fields.py). Zone writes need
`can_edit_global_entities`; pool writes need the pool-admin permission (a bare
PermissionDenied). The default zone and pool cannot be deleted; deleting a zone moves its
machines to the default zone (Node.zone uses the default on delete).
"""

from __future__ import annotations

import re

from .errors import BadRequest, FormErrors, NotFound
from .forms import Form
from .model import Place
from .permissions import require_admin, require_global_edit
from .registry import API_PREFIX, Call, Handler, Result, action, deleted
from .render import pool_json, zone_json

MODEL_NAME_RE = re.compile(r"^\w[ \w-]*$")


def _clean(call: Call, places: dict[str, Place], current: Place | None, noun: str) -> tuple[str, str]:
    form = Form(call.params)
    name = form.char("name", required=current is None)
    if name:
        if not MODEL_NAME_RE.match(name):
            form.add_error("name", "Enter a valid value.")
        elif name in places and (current is None or name != current.name):
            form.add_error("name", f"{noun} with this Name already exists.")
    if not form.valid:
        raise FormErrors(form.errors)
    raw = form.raw("description")
    description = raw if raw is not None else (current.description if current is not None else "")
    return name or (current.name if current is not None else ""), description


def _rename(places: dict[str, Place], place: Place, name: str, description: str) -> dict[str, Place]:
    old = place.name
    place.name, place.description = name, description
    return {(name if k == old else k): v for k, v in places.items()}


# -- zones ----------------------------------------------------------------------------------
def _zone(call: Call) -> Place:
    zone = call.state.zones.get(call.args["name"])
    if zone is None:
        raise NotFound("No Zone matches the given query.")
    return zone


@action("read", "GET")
def list_zones(call: Call) -> Result:
    """List zones (ordered by name)."""
    return [zone_json(z) for z in sorted(call.state.zones.values(), key=lambda z: z.name)]


@action("create", "POST")
def create_zone(call: Call) -> Result:
    """Create a zone (name, description)."""
    require_global_edit(call.user)
    state = call.state
    name, description = _clean(call, state.zones, None, "Zone")
    zone = state.zone(name)
    zone.description = description
    return zone_json(zone)


@action("read", "GET")
def read_zone(call: Call) -> Result:
    """Read a zone by name."""
    return zone_json(_zone(call))


@action("update", "PUT")
def update_zone(call: Call) -> Result:
    """Update (or rename) a zone."""
    require_global_edit(call.user)
    state, zone = call.state, _zone(call)
    old = zone.name
    name, description = _clean(call, state.zones, zone, "Zone")
    state.zones = _rename(state.zones, zone, name, description)
    for machine in state.machines.values():
        if machine.zone == old:
            machine.zone = name
    return zone_json(zone)


@action("delete", "DELETE")
def delete_zone(call: Call) -> Result:
    """Delete a zone; its machines move to the default zone."""
    require_global_edit(call.user)
    state, zone = call.state, _zone(call)
    if zone.id == 1:
        raise BadRequest("This zone is the default zone, it cannot be deleted.")
    del state.zones[zone.name]
    for machine in state.machines.values():
        if machine.zone == zone.name:
            machine.zone = "default"
    return deleted()


# -- resource pools -------------------------------------------------------------------------
def _pool(call: Call) -> Place:
    """get_resource_pool_or_404: by id when the key is a number, else by name."""
    key = call.args["id"]
    for pool in call.state.pools.values():
        if (key.isdigit() and pool.id == int(key)) or pool.name == key:
            return pool
    raise NotFound("No ResourcePool matches the given query.")


@action("read", "GET")
def list_pools(call: Call) -> Result:
    """List resource pools (ordered by id)."""
    return [pool_json(p) for p in sorted(call.state.pools.values(), key=lambda p: p.id)]


@action("create", "POST")
def create_pool(call: Call) -> Result:
    """Create a resource pool (name, description)."""
    require_admin(call.user)
    state = call.state
    name, description = _clean(call, state.pools, None, "Resource pool")
    pool = state.pool(name)
    pool.description = description
    return pool_json(pool)


@action("read", "GET")
def read_pool(call: Call) -> Result:
    """Read a resource pool by id or name."""
    return pool_json(_pool(call))


@action("update", "PUT")
def update_pool(call: Call) -> Result:
    """Update (or rename) a resource pool."""
    require_admin(call.user)
    state, pool = call.state, _pool(call)
    old = pool.name
    name, description = _clean(call, state.pools, pool, "Resource pool")
    state.pools = _rename(state.pools, pool, name, description)
    for machine in state.machines.values():
        if machine.pool == old:
            machine.pool = name
    return pool_json(pool)


@action("delete", "DELETE")
def delete_pool(call: Call) -> Result:
    """Delete an empty resource pool (not the default one)."""
    require_admin(call.user)
    state, pool = call.state, _pool(call)
    if pool.id == 0:
        raise BadRequest("This is the default pool, it cannot be deleted.")
    if any(m.pool == pool.name for m in state.machines.values()):
        raise BadRequest("Pool has machines in it, it cannot be deleted.")
    del state.pools[pool.name]
    return deleted()


HANDLERS = [
    Handler(
        name="ZonesHandler",
        path=API_PREFIX + "zones/",
        regex=r"^zones/$",
        params=[],
        doc="Manage physical zones.",
        actions=[create_zone, list_zones],
    ),
    Handler(
        name="ZoneHandler",
        path=API_PREFIX + "zones/{name}/",
        regex=r"^zones/(?P<name>[^/]+)/$",
        params=["name"],
        doc="Manage a physical zone.",
        actions=[read_zone, update_zone, delete_zone],
    ),
    Handler(
        name="ResourcePoolsHandler",
        path=API_PREFIX + "resourcepools/",
        regex=r"^resourcepools/$",
        params=[],
        doc="Manage resource pools.",
        actions=[create_pool, list_pools],
    ),
    Handler(
        name="ResourcePoolHandler",
        path=API_PREFIX + "resourcepool/{id}/",
        regex=r"^resourcepool/(?P<id>[^/]+)/$",
        params=["id"],
        doc="Manage a resource pool.",
        actions=[read_pool, update_pool, delete_pool],
    ),
]
