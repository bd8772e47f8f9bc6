"""What a deployment answers after the controller pushed it to the satellites.

linstor-server: controller/.../apicallhandler/controller/CtrlRscCrtApiHelper.java `deployResources`
and `waitResourcesReady`. Every satellite of the resource definition gets the update; one that is
not connected answers WARN_NOT_CONNECTED (ResponseUtils `makeNotConnectedWarning`: the controller
keeps the change and sends it when the satellite connects). Then, when the definition has more than
one resource, the controller waits (15 s) per new DRBD resource until its satellite reports it ready
(ResourceState.isReady: access to UpToDate data, all online peers connected): "ready" on success, the
not-connected warning for a satellite that is offline, and on time-out a warning with code 0
"Resource did not become ready on node ... within reasonable time, check Satellite for errors."
The simulator does not sleep the 15 s: a resource that cannot become ready gets the warning at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import apicallrc as rc
from . import drbdstate
from .model import Node, Resource, ResourceDefinition, State


def not_connected(node: Node) -> rc.Entry:
    return rc.warn(
        rc.WARN_NOT_CONNECTED,
        f"No active connection to satellite '{node.name}'",
        details="The controller is trying to (re-) establish a connection to the satellite. The controller "
        "stored the changes and as soon the satellite is connected, it will receive this update.",
        obj_refs={"Node": node.name},
    )


def satellite_updates(rd: ResourceDefinition) -> list[rc.Entry]:
    """The update of every satellite hosting the definition: offline ones answer not-connected."""
    offline = sorted({r.node.name: r.node for r in rd.resources.values() if not r.node.online}.items())
    return [not_connected(node) for _, node in offline]


def did_not_become_ready(node: Node) -> rc.Entry:
    return rc.Entry(
        rc.MASK_WARN | rc.MASK_RSC,
        f"Resource did not become ready on node '{node.name}' within reasonable time, check Satellite "
        "for errors.",
        obj_refs={"Node": node.name},
    )


def ready_entries(state: State, rd: ResourceDefinition, deployed: Iterable[Resource]) -> list[rc.Entry]:
    entries = satellite_updates(rd)
    if not rd.vds or not drbdstate.has_drbd(rd):
        return entries
    live = rd.live_resources()
    if all(r.diskless for r in live) or len(rd.resources) <= 1:
        return entries
    for res in deployed:
        refs = {"RscDfn": rd.name, "Node": res.node.name}
        if not res.node.online:
            entries.append(not_connected(res.node))
        elif drbdstate.is_ready(state, res):
            entries.append(
                rc.ok(
                    rc.MASK_CRT | rc.MASK_RSC | rc.CREATED,
                    f"Resource '{rd.name}' on '{res.node.name}' ready",
                    obj_refs=refs,
                )
            )
        else:
            entries.append(did_not_become_ready(res.node))
    return entries
