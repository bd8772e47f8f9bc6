"""DRBD states over time, as the satellites report them to the controller.

The satellite publishes per resource `in_use` and the DRBD connection state to every peer, per
volume the disk state and per peer the replication state with `done_percentage` while syncing
(linstor-server: satellite/.../layer/drbd/drbdstate/{DiskState,ReplState,DrbdVolume}.java; the
controller copies them to the REST view in api/rest/v1/serializer/Json.java
`apiToResourceWithVolumes` / `apiToVolumeState`). A satellite that is not connected has no state:
its resources carry no `state`, no volume state and no connections.

Initial sync (satellite/.../layer/drbd/DrbdLayer.java `createMetaData`,
server/.../utils/layer/DrbdLayerUtils.java `skipInitSync`): while a volume definition is not yet
DRBD_INITIALIZED, the node named in `Linstor/Drbd/InitialUptoDateOn` wins and is UpToDate at once;
the other new replicas skip the initial sync when thinly backed (or ZFS) unless the resource
definition, its group or the controller sets `DrbdOptions/ForceInitialSync` (copied to the RD as
`DrbdOptions/ForceInitialSyncPermanent`, CtrlRscCrtApiHelper `copyForceInitialSyncProp`), else they
fully sync from the winner.
Once DRBD_INITIALIZED, a replica added to the existing data resyncs (SyncTarget) before UpToDate.
"""

from __future__ import annotations

from typing import Any

from .model import THIN_PROVIDERS, Resource, ResourceDefinition, State, Volume, VolumeDefinition
from .props import is_true

FORCE_INITIAL_SYNC = "DrbdOptions/ForceInitialSync"
FORCE_INITIAL_SYNC_PERMA = "DrbdOptions/ForceInitialSyncPermanent"
DRBD_INITIALIZED = "DRBD_INITIALIZED"
SKIP_SYNC_PROVIDERS = THIN_PROVIDERS | {"ZFS"}


def has_drbd(rd: ResourceDefinition) -> bool:
    return "DRBD" in (rd.layer_stack or [])


def start_volume(state: State, res: Resource, vd: VolumeDefinition, vol: Volume, restored: bool) -> None:
    """Decide how a freshly created DRBD volume starts: UpToDate at once or resyncing."""
    if res.diskless or not has_drbd(res.rd) or restored:
        return
    if DRBD_INITIALIZED not in vd.flags:
        if vd.initial_uptodate_on is None:
            vd.initial_uptodate_on = res.node.name
            return
        forced = _force_initial_sync(state, res.rd)
        if vol.pool.provider in SKIP_SYNC_PROVIDERS and not forced:
            return
    begin_sync(state, res, vol)


def _force_initial_sync(state: State, rd: ResourceDefinition) -> bool:
    if is_true(rd.props.get(FORCE_INITIAL_SYNC_PERMA)):
        return True
    for props in (rd.props, rd.rg.props, state.ctrl_props):
        if FORCE_INITIAL_SYNC in props:
            return is_true(props[FORCE_INITIAL_SYNC])
    return False


def _sync_source(state: State, res: Resource, nr: int) -> bool:
    """A connected peer with an UpToDate disk for this volume to resync from."""
    for peer in _peers(res):
        peer_vol = peer.volumes.get(nr)
        if not peer.node.online or peer.diskless or peer_vol is None:
            continue
        if not peer_vol.awaiting_source and sync_fraction(state, peer_vol) is None:
            return True
    return False


def begin_sync(state: State, res: Resource, vol: Volume) -> None:
    """Start a resync towards `vol`; without a reachable UpToDate peer it waits for one."""
    vol.awaiting_source = not _sync_source(state, res, vol.number)
    if vol.awaiting_source or state.sync_seconds <= 0:
        vol.sync_start = None
        return
    vol.sync_start = state.now()
    vol.sync_seconds = state.sync_seconds


def resume_waiting(state: State, rd: ResourceDefinition) -> None:
    """A satellite came back: resyncs that had no source can start now."""
    for res in rd.resources.values():
        if not res.node.online:
            continue
        for vol in res.volumes.values():
            if vol.awaiting_source:
                begin_sync(state, res, vol)


def mark_initialized(rd: ResourceDefinition) -> None:
    """The controller sets DRBD_INITIALIZED once the first deployment is done (CtrlRscCrtApiHelper
    `setInitialized`)."""
    for vd in rd.vds.values():
        if DRBD_INITIALIZED in vd.flags or not has_drbd(rd):
            continue
        if any(vd.number in r.volumes and not r.diskless for r in rd.resources.values()):
            vd.flags.append(DRBD_INITIALIZED)


def sync_fraction(state: State, vol: Volume) -> float | None:
    """How far a running resync is (0..1), or None when the volume is not syncing."""
    if vol.sync_start is None:
        return None
    if vol.sync_seconds <= 0:
        return None
    done = (state.now() - vol.sync_start) / vol.sync_seconds
    return None if done >= 1.0 else max(done, 0.0)


def settle(state: State, rd: ResourceDefinition) -> None:
    """Finish resyncs whose time is up (so that flags and checks see UpToDate)."""
    for res in rd.resources.values():
        for vol in res.volumes.values():
            if vol.sync_start is not None and sync_fraction(state, vol) is None:
                vol.sync_start = None


def reported(res: Resource) -> bool:
    """Whether the controller has a state for this resource: its satellite is connected."""
    return res.node.online


def disk_state(state: State, res: Resource, vol: Volume) -> str:
    if res.diskless:
        return "Diskless"
    if vol.awaiting_source or sync_fraction(state, vol) is not None:
        return "Inconsistent"
    return "UpToDate"


def up_to_date(state: State, res: Resource) -> bool:
    """SatelliteResourceStateDrbdUtils.allVolumesUpToDate: unknown (offline) counts as not UpToDate."""
    if not reported(res):
        return False
    return all(disk_state(state, res, v) == "UpToDate" for v in res.volumes.values())


def _peers(res: Resource) -> list[Resource]:
    return [o for o in res.rd.resources.values() if o is not res]


def connection_message(res: Resource, peer: Resource) -> str:
    """DRBD connection state from `res` towards `peer` (an unreachable peer: Connecting)."""
    return "Connected" if peer.node.online else "Connecting"


def connections_json(res: Resource) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for peer in _peers(res):
        message = connection_message(res, peer)
        out[peer.node.name] = {"connected": message == "Connected", "message": message}
    return out


def _replication(state: State, res: Resource, vol: Volume, peer: Resource) -> dict[str, Any]:
    if not peer.node.online:
        return {"replication_state": "Off"}
    peer_vol = peer.volumes.get(vol.number)
    own = sync_fraction(state, vol)
    theirs = sync_fraction(state, peer_vol) if peer_vol is not None else None
    if own is not None and not peer.diskless and theirs is None:
        return {"replication_state": "SyncTarget", "done_percentage": round(own * 100.0, 1)}
    if theirs is not None and not res.diskless and own is None:
        return {"replication_state": "SyncSource", "done_percentage": round(theirs * 100.0, 1)}
    return {"replication_state": "Established"}


def volume_state_json(state: State, res: Resource, vol: Volume) -> dict[str, Any] | None:
    if not reported(res):
        return None
    out: dict[str, Any] = {"disk_state": disk_state(state, res, vol)}
    if state.reports_replication_states:
        out["replication_states"] = {p.node.name: _replication(state, res, vol, p) for p in _peers(res)}
    return out


def has_uptodate_access(state: State, res: Resource) -> bool:
    """DRBD's access to UpToDate data: local UpToDate disk or a connected UpToDate peer."""
    if up_to_date(state, res):
        return True
    return any(p.node.online and not p.diskless and up_to_date(state, p) for p in _peers(res))


def is_ready(state: State, res: Resource) -> bool:
    """ResourceState.isReady: access to UpToDate data and every online peer connected."""
    return reported(res) and has_uptodate_access(state, res)
