"""Every condition reason the operator writes, in one place: what it means, whether progress
needs a person (it then drives `Stalled=True` and is posted as a Warning Event), and which
backend errors map to it.

To add a reason: declare it below with `Reason(...)`; Outcome only accepts a Reason, so a reason
that is not declared here cannot reach a condition. Clients never choose reasons: they raise
error kinds (stratum.clients.errors) and `for_error` maps those here.
"""

from __future__ import annotations

from typing import Literal

from stratum.clients.errors import (
    Backend,
    BackendConflict,
    BackendError,
    BackendForbidden,
    BackendNotConfigured,
    BackendNotFound,
    BackendUnavailable,
)

EventType = Literal["Normal", "Warning"]


class Reason(str):
    """A condition reason: the one CamelCase word itself (so it compares equal to its name),
    plus what the catalogue says about it."""

    meaning: str
    stalls: bool
    """True when the object cannot progress until a person changes the spec or the backend."""
    failure: bool
    """A backend or operator failure: worth a Warning even when retrying may fix it."""

    def __new__(cls, name: str, meaning: str, *, stalls: bool = False, failure: bool = False) -> Reason:
        if name in CATALOGUE:
            raise ValueError(f"reason {name} is declared twice")
        reason = super().__new__(cls, name)
        reason.meaning = meaning
        reason.stalls = stalls
        reason.failure = failure
        CATALOGUE[name] = reason
        return reason

    @property
    def event_type(self) -> EventType:
        return "Warning" if self.stalls or self.failure else "Normal"


CATALOGUE: dict[str, Reason] = {}

# ----------------------------------------------------------------------------- every kind
READY = Reason("Ready", "the backend holds what the spec asks for")
RECONCILED = Reason("Reconciled", "the last pass reached the backend")
DELETING = Reason("Deleting", "the object is being deleted; its backend object is gone or released")
BACKEND_UNAVAILABLE = Reason(
    "BackendUnavailable", "the backend did not answer or failed on its side; retrying", failure=True
)
BACKEND_ERROR = Reason(
    "BackendError", "the backend refused a request; the message says why", stalls=True, failure=True
)
NOT_FOUND = Reason("NotFound", "the backend no longer has an object the pass needed; retrying", failure=True)
INTERNAL_ERROR = Reason("InternalError", "the operator failed unexpectedly; retrying", failure=True)
FORBIDDEN = Reason("Forbidden", "the backend user may not make this change", stalls=True)
UNAUTHORIZED = Reason("Unauthorized", "the backend does not accept the operator's credentials", stalls=True)
NOT_CONFIGURED = Reason("NotConfigured", "the operator has no settings for this backend", stalls=True)
NAME_CONFLICT = Reason(
    "NameConflict", "a backend object of that name exists and was not created by this object", stalls=True
)
ALREADY_OWNED = Reason("AlreadyOwned", "the backend object belongs to another Stratum object", stalls=True)
CREATING = Reason("Creating", "the backend object is being created")
PROGRESSING = Reason("Progressing", "the object is usable; a change of its spec is still being realized")
HEALTHY = Reason("Healthy", "the backend reports the object in full health")
BACKEND_WARNING = Reason("BackendWarning", "the backend carried out a change but answered with a warning")

# ----------------------------------------------------------------------------- LINSTOR
WAITING_FOR_RESOURCE_GROUP = Reason("WaitingForResourceGroup", "the ResourceGroup is not Ready yet")
WAITING_FOR_RESOURCE = Reason("WaitingForResource", "the Resource does not exist yet")
WAITING_FOR_SNAPSHOT = Reason("WaitingForSnapshot", "the Snapshot is not Ready yet")
PLACING = Reason("Placing", "replicas are being placed on the nodes the spec names")
LARGER_THAN_SPEC = Reason("LargerThanSpec", "a volume is larger than the spec asks; volumes cannot shrink")
INVALID_ROLLBACK = Reason("InvalidRollback", "the rollback names a snapshot of another resource", stalls=True)
SNAPSHOT_LOST = Reason("Lost", "the snapshot was deleted outside Stratum", stalls=True)
SNAPSHOT_FAILED = Reason("Failed", "LINSTOR failed to take the snapshot", stalls=True)
IN_USE = Reason("InUse", "the backend object is still in use; deletion continues once it is not")
HAS_SNAPSHOTS = Reason("HasSnapshots", "the resource still has snapshots; deletion continues once they go")
INVALID_PROPERTY = Reason("InvalidProperty", "LINSTOR refused a property key or value", stalls=True)
INVALID_VOLUME_SIZE = Reason("InvalidVolumeSize", "LINSTOR refused a volume size", stalls=True)
RESOURCE_GROUP_MISSING = Reason("ResourceGroupMissing", "LINSTOR has no such resource group (yet)")
NOT_ENOUGH_FREE_SPACE = Reason(
    "NotEnoughFreeSpace", "no storage pool has room for the volume", stalls=True, failure=True
)
SNAPSHOTS_NOT_SUPPORTED = Reason(
    "SnapshotsNotSupported", "the storage pools of the resource cannot take snapshots", stalls=True
)
NOT_CONNECTED = Reason("NotConnected", "a satellite the change needs is not connected", failure=True)
NOT_ENOUGH_NODES = Reason(
    "NotEnoughNodes", "fewer nodes can hold a replica than the placement asks for", stalls=True, failure=True
)
LINSTOR_ERROR = Reason("LinstorError", "LINSTOR refused a request; the message says why", stalls=True)
SATELLITE_FAILED = Reason(
    "SatelliteFailed",
    "the controller committed the change but a satellite failed to apply it; the next pass reads "
    "what LINSTOR holds and continues from there",
    failure=True,
)
SYNCING = Reason("Syncing", "diskful replicas are syncing; Ready once every one is UpToDate and connected")
REPLICA_UNREACHABLE = Reason(
    "ReplicaUnreachable", "the satellite of a replica is not connected; its state is unknown"
)
REPLICA_NOT_UP_TO_DATE = Reason(
    "ReplicaNotUpToDate", "a diskful replica is neither UpToDate nor syncing (Outdated, failed disk...)"
)
REPLICA_DISCONNECTED = Reason("ReplicaDisconnected", "a replica has no DRBD connection to a reachable peer")
REPLICAS_MISSING = Reason("ReplicasMissing", "fewer diskful replicas than the placement asks for")
NO_USABLE_REPLICA = Reason(
    "NoUsableReplica", "no reachable UpToDate replica is left: the data is not usable now", failure=True
)
RESIZE_BLOCKED = Reason(
    "ResizeBlocked", "a resize waits until every replica is UpToDate and its satellite connected"
)
RESIZING = Reason("Resizing", "LINSTOR is growing the volumes (RESIZE flag set)")
ROLLBACK_REFUSED = Reason(
    "RollbackRefused", "a rollback precondition is not met; the message says what to change", stalls=True
)
ROLLBACK_UNCERTAIN = Reason(
    "RollbackUncertain",
    "a rollback was sent but its result is unknown; it is never repeated on its own: check the data, "
    "then set a new requestId to ask again",
    stalls=True,
)
UNSUPPORTED_CONTROLLER = Reason(
    "UnsupportedController", "the LINSTOR controller's REST API is older than Stratum supports", stalls=True
)
PLACEMENT_UNMET = Reason(
    "PlacementUnmet", "resources of the group cannot be placed as the placement asks", failure=True
)

# ----------------------------------------------------------------------------- MAAS
MACHINE_NOT_FOUND = Reason("MachineNotFound", "no MAAS machine matches spec.machine", stalls=True)
MACHINE_AMBIGUOUS = Reason("MachineAmbiguous", "several MAAS machines match spec.machine", stalls=True)
MACHINE_NOT_READY = Reason(
    "MachineNotReady", "MAAS changes storage only on Ready machines; waiting until the machine is Ready"
)
LEVEL_MISMATCH = Reason("LevelMismatch", "the array has another RAID level than the spec", stalls=True)
DEVICE_NOT_FOUND = Reason("DeviceNotFound", "a listed device does not exist on the machine", stalls=True)
DUPLICATE_DEVICE = Reason("DuplicateDevice", "a device is listed twice (by name and id)", stalls=True)
DEVICE_PARTITIONED = Reason("DevicePartitioned", "a listed disk has a partition table", stalls=True)
DEVICE_IS_BOOT_DISK = Reason("DeviceIsBootDisk", "a listed disk is the machine's boot disk", stalls=True)
DEVICE_IN_USE = Reason("DeviceInUse", "a listed device is used by something else", stalls=True)
DEVICE_TOO_SMALL = Reason("DeviceTooSmall", "a listed device is too small for the array", stalls=True)
MAAS_INVALID = Reason("Invalid", "MAAS refused the request as invalid", stalls=True)
MAAS_REJECTED = Reason("MaasRejected", "MAAS refused a request; the message says why", stalls=True)
DEVICES_CHANGED = Reason(
    "DevicesChanged",
    "a physical disk the array was built on (pinned by serial/id_path) is gone or replaced; "
    "Stratum creates nothing on other disks",
    stalls=True,
)
NOT_ENOUGH_SPACE = Reason("NotEnoughSpace", "a disk has too little free space for a partition", stalls=True)
NOT_ENOUGH_DEVICES = Reason(
    "NotEnoughDevices",
    "the machine has fewer free disks matching spec.deviceSelector than it asks for",
    stalls=True,
)
# MachineRaidSet
MACHINES_WAITING = Reason("MachinesWaiting", "some machines' MachineRaids are not Ready yet")
MACHINES_STALLED = Reason(
    "MachinesStalled", "every machine's MachineRaid that is not Ready needs a person", stalls=True
)
SELECTOR_UNKNOWN = Reason(
    "SelectorUnknown", "MAAS has no tag, pool or zone of that name; no child was changed", stalls=True
)
DELETING_CHILDREN = Reason("DeletingChildren", "the set waits for its MachineRaids to be deleted first")
CHILD_REFUSED = Reason(
    "ChildRefused", "the API server refused a change to a MachineRaid the set owns", stalls=True
)

# ----------------------------------------------------------------------------- day-2 controls

PAUSED = Reason("Paused", 'annotation stratum.dev/paused is "true": no backend call until it is removed')
RESUMED = Reason("Resumed", "annotation stratum.dev/paused was removed: reconciling again")
OBSERVED = Reason(
    "Observed", "managementPolicy Observe: the backend object matches the spec; nothing is written"
)
DIFFERS_FROM_SPEC = Reason(
    "DiffersFromSpec",
    "managementPolicy Observe: the backend object differs from the spec (status.differences); "
    "nothing is written until managementPolicy is Full",
    stalls=True,
)

# LINSTOR ret codes users can act on (low 15 bits of the ret_code; the names are those of
# clients/linstor/apicallrc.py, which this module may not import: it serves MAAS kinds too and
# the MAAS modules stay independent of LINSTOR's. A unit test keeps the two in step.)
LINSTOR_CODES: dict[int, Reason] = {
    213: INVALID_PROPERTY,  # FAIL_INVLD_PROP
    206: INVALID_VOLUME_SIZE,  # FAIL_INVLD_VLM_SIZE
    317: RESOURCE_GROUP_MISSING,  # FAIL_NOT_FOUND_RSC_GRP
    980: NOT_ENOUGH_FREE_SPACE,  # FAIL_NOT_ENOUGH_FREE_SPACE
    994: SNAPSHOTS_NOT_SUPPORTED,  # FAIL_SNAPSHOTS_NOT_SUPPORTED
    995: NOT_CONNECTED,  # FAIL_NOT_CONNECTED
    996: NOT_ENOUGH_NODES,  # FAIL_NOT_ENOUGH_NODES
    997: IN_USE,  # FAIL_IN_USE
    998: SATELLITE_FAILED,  # FAIL_UNKNOWN_ERROR: committed on the controller, failed on a satellite
}


def for_error(error: BackendError) -> Reason:
    """The reason a user reads for a failed backend call: by error kind, then by the backend's
    own detail (LINSTOR ret code, HTTP status)."""
    if isinstance(error, BackendNotConfigured):
        return NOT_CONFIGURED
    if isinstance(error, BackendUnavailable):
        return BACKEND_UNAVAILABLE
    if isinstance(error, BackendForbidden):
        return UNAUTHORIZED if error.status == 401 else FORBIDDEN
    if error.backend is Backend.LINSTOR:
        if error.detail.get("unsupportedController"):
            return UNSUPPORTED_CONTROLLER
        code = error.detail.get("code")
        if isinstance(code, int):
            return LINSTOR_CODES.get(code, LINSTOR_ERROR)
    if isinstance(error, BackendNotFound):
        return NOT_FOUND
    if error.backend is Backend.MAAS:
        if isinstance(error, BackendConflict):
            return MACHINE_NOT_READY  # 409 is MAAS's NodeStateViolation
        return MAAS_INVALID if error.status == 400 else MAAS_REJECTED
    return BACKEND_ERROR


# ----------------------------------------------------------------------------- schedules, remotes, backups
INVALID_SCHEDULE = Reason("InvalidSchedule", "spec.schedule cannot be understood", stalls=True)
SECRET_MISSING = Reason(
    "SecretMissing", "the credentials Secret (or its accessKey/secretKey) is not there", stalls=True
)
REMOTE_REFUSED = Reason(
    "RemoteRefused",
    "LINSTOR refused the remote: bucket unreachable with these settings and keys",
    stalls=True,
)
WAITING_FOR_REMOTE = Reason("WaitingForRemote", "the Remote is not Ready yet")
SHIPPING = Reason("Shipping", "LINSTOR is shipping the backup to the remote")
BACKUP_FAILED = Reason(
    "BackupFailed", "LINSTOR failed to ship the backup; delete this object to retry", stalls=True
)
BACKUP_NOT_FOUND = Reason("BackupNotFound", "the remote has no such backup", stalls=True)
WAITING_FOR_BACKUP = Reason("WaitingForBackup", "the Backup is not Ready yet")
RESTORING = Reason("Restoring", "LINSTOR is downloading the backup into the resource")
HAS_BACKUPS = Reason(
    "HasBackups", "Backup objects still need the remote to be deleted; deletion continues once they go"
)
HAS_DEPENDENT_BACKUPS = Reason(
    "HasDependentBackups", "incremental backups build on this one; deletion continues once they go"
)
