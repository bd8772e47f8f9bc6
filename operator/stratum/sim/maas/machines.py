"""Machine endpoints (`machines/`, `machines/{system_id}/`) and the anonymous `version/`.

Reads and allocation filter as maasserver/node_constraint_filter_forms.py does (ReadNodesForm,
AcquireNodeForm); the actions follow maasserver/api/machines.py and api/nodes.py (abort).
"""

from __future__ import annotations

import json

from aiohttp import web

from . import lifecycle
from .constraints import Constraints
from .enums import NODE_STATUS_SHORT, READY
from .errors import Conflict
from .forms import Form
from .permissions import can_access, require_admin
from .registry import API_PREFIX, Call, Handler, Result, action
from .render import machine_json

CAPABILITIES = [
    "networks-management",
    "static-ipaddresses",
    "ipv6-deployment-ubuntu",
    "devices-management",
    "storage-deployment-ubuntu",
    "network-deployment-ubuntu",
    "bridging-interface-ubuntu",
    "bridging-automatic-ubuntu",
    "authenticate-api",
]


@action("read", "GET")
def list_machines(call: Call) -> Result:
    """List machines; filters: hostname, id (system_id), status (short name), tags (all must
    match), pool, zone (any may match); only machines this user may view."""
    state = call.state
    constraints = Constraints.read(state, call.params)
    hostnames = set(call.params.getall("hostname", []))
    ids = set(call.params.getall("id", []))
    statuses = call.params.getall("status", [])
    wanted = {NODE_STATUS_SHORT.get(s, -1) for s in statuses}
    result = []
    for machine in state.machines.values():
        if hostnames and machine.hostname not in hostnames:
            continue
        if ids and machine.system_id not in ids:
            continue
        if statuses and machine.status not in wanted:
            continue
        if not constraints.match(machine) or not can_access(call.user, machine):
            continue
        result.append(machine_json(state, machine))
    return result


@action("read", "GET")
def read_machine(call: Call) -> Result:
    """Read a machine by system_id."""
    return machine_json(call.state, call.machine())


@action("allocate", "POST", "allocate")
def allocate(call: Call) -> Result:
    """Allocate an available (Ready) machine matching the constraints (system_id, name, tags,
    not_tags, zone, not_in_zone, pool, not_in_pool), the cheapest first."""
    state, username = call.state, call.username
    constraints = Constraints.acquire(state, call.params)
    candidates = [
        m
        for m in state.machines.values()
        if m.status == READY and m.owner in (None, username) and constraints.match(m)
    ]
    if not candidates:
        raise Conflict(constraints.unavailable_message())
    # AcquireNodeForm.reorder_nodes_by_cost: cpu_count + memory / 1024 (a stable sort keeps the
    # creation order among equals).
    machine = min(candidates, key=lambda m: m.cpu_count + m.memory / 1024)
    if not Form(call.params).boolean("dry_run"):
        lifecycle.acquire(state, machine, username)
    # Only allocate's answer carries constraints_by_type (storage/interface labels; none here).
    return {**machine_json(state, machine), "constraints_by_type": {}}


@action("commission", "POST", "commission")
def commission(call: Call) -> Result:
    """Begin commissioning (administrators only); `skip_storage` keeps the storage configuration."""
    machine = call.machine()
    require_admin(call.user)
    skip_storage = Form(call.params).boolean("skip_storage")
    lifecycle.commission(call.state, machine, call.username, skip_storage=skip_storage)
    return machine_json(call.state, machine)


@action("deploy", "POST", "deploy")
def deploy(call: Call) -> Result:
    """Deploy a machine (a Ready one is allocated to the caller first)."""
    machine = call.machine()
    lifecycle.deploy(call.state, machine, call.username)
    return machine_json(call.state, machine)


@action("release", "POST", "release")
def release(call: Call) -> Result:
    """Release a machine: Releasing, then Ready with its Ready-time storage configuration."""
    machine = call.machine()
    lifecycle.release(call.state, machine)
    return machine_json(call.state, machine)


@action("abort", "POST", "abort")
def abort(call: Call) -> Result:
    """Abort the machine's current operation (commissioning or deploying)."""
    machine = call.machine()
    lifecycle.abort(call.state, machine)
    return machine_json(call.state, machine)


@action("read", "GET")
def version(call: Call) -> Result:
    """Information about this MAAS instance."""
    body = {"capabilities": CAPABILITIES, "version": call.state.maas_version, "subversion": ""}
    return web.Response(
        status=200,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


HANDLERS = [
    Handler(
        name="MachinesHandler",
        path=API_PREFIX + "machines/",
        regex=r"^machines/$",
        params=[],
        doc="Manage the collection of all the machines in the MAAS.",
        actions=[list_machines, allocate],
    ),
    Handler(
        name="MachineHandler",
        path=API_PREFIX + "machines/{system_id}/",
        regex=r"^machines/(?P<system_id>[^/]+)/$",
        params=["system_id"],
        doc="Manage an individual machine.",
        actions=[read_machine, commission, deploy, release, abort],
    ),
    Handler(
        name="VersionHandler",
        path=API_PREFIX + "version/",
        regex=r"^version/$",
        params=[],
        doc="Information about this MAAS instance.",
        actions=[version],
        anon=True,
    ),
]
