"""Machine endpoints (`machines/`, `machines/{system_id}/`) and the anonymous `version/`."""

from __future__ import annotations

import json

from aiohttp import web

from .enums import NODE_STATUS_SHORT
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
    """List machines; filters: hostname, id (system_id), status (short name)."""
    hostnames = set(call.params.getall("hostname", []))
    ids = set(call.params.getall("id", []))
    statuses = call.params.getall("status", [])
    wanted = {NODE_STATUS_SHORT.get(s, -1) for s in statuses}
    result = []
    for machine in call.state.machines.values():
        if hostnames and machine.hostname not in hostnames:
            continue
        if ids and machine.system_id not in ids:
            continue
        if statuses and machine.status not in wanted:
            continue
        result.append(machine_json(machine))
    return result


@action("read", "GET")
def read_machine(call: Call) -> Result:
    """Read a machine by system_id."""
    return machine_json(call.machine())


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
        actions=[list_machines],
    ),
    Handler(
        name="MachineHandler",
        path=API_PREFIX + "machines/{system_id}/",
        regex=r"^machines/(?P<system_id>[^/]+)/$",
        params=["system_id"],
        doc="Manage an individual machine.",
        actions=[read_machine],
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
