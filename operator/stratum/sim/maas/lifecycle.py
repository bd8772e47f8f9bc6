"""The machine lifecycle: commission, allocate, deploy, release, abort, and time passing.

States and transitions follow maasserver/node_status.py (NODE_TRANSITIONS) and
maasserver/models/node.py (start_commissioning, acquire, start_deploying via power_on,
start_releasing, abort_operation). The in-between states (Commissioning, Deploying, Releasing)
last as long as `/_sim/lifecycle` says; `advance` finishes whatever is due. It runs before every
request, so clients see a transition exactly when its time has come.
"""

from __future__ import annotations

import time

from .enums import (
    ALLOCATED,
    COMMISSIONING,
    DEPLOYED,
    DEPLOYING,
    FAILED_COMMISSIONING,
    FAILED_DEPLOYMENT,
    NEW,
    READY,
    RELEASING,
    status_label,
)
from .errors import Conflict
from .layouts import apply_flat_layout, clear_storage, rescan_disks
from .model import MaasState, Machine, Pending

# status_monitor.py fails an operation nothing reports back on after `node_timeout` (30 minutes).
TIMED_OUT = "Node operation '{}' timed out after 30 minutes."

# NODE_TRANSITIONS, only the edges these actions take.
COMMISSIONABLE = frozenset({0, 2, 3, 4, 8})  # New, Failed commissioning, Missing, Ready, Broken
DEPLOYABLE = frozenset({10})  # only Allocated may go to Deploying
# models/node.py RELEASABLE_STATUSES
RELEASABLE = frozenset({10, 5, 8, 9, 6, 11, 15, 13})


def _now() -> float:
    return time.monotonic()


def _transition_error(machine: Machine, new: int) -> Conflict:
    """Node._validate_status_transition."""
    return Conflict(f"Invalid transition: {status_label(machine.status)} -> {status_label(new)}.")


def commission(state: MaasState, machine: Machine, username: str, *, skip_storage: bool) -> None:
    """start_commissioning: the storage configuration is cleared now (unless skip_storage), the
    machine is Commissioning and owned by the requester; the commissioning hook runs at the end."""
    if machine.status not in COMMISSIONABLE:
        raise _transition_error(machine, COMMISSIONING)
    if not skip_storage:
        clear_storage(machine)
    state.set_status(machine, COMMISSIONING)
    machine.owner = username
    machine.error_description = ""
    machine.pending = Pending(_now() + state.timings.commission_seconds, skip_storage)


def acquire(state: MaasState, machine: Machine, username: str) -> None:
    """Machine.acquire: Allocated, owned, filesystems cloned into acquired copies."""
    machine.owner = username
    state.set_status(machine, ALLOCATED)


def deploy(state: MaasState, machine: Machine, username: str) -> None:
    """MachineHandler.deploy (api/machines.py): a Ready machine is acquired first; then only an
    Allocated machine may start deploying."""
    if machine.status == READY:
        if machine.owner is not None and machine.owner != username:
            raise Conflict("Can't allocate a machine belonging to another user.")
        acquire(state, machine, username)
    if machine.status not in DEPLOYABLE:
        raise Conflict(f"Can't deploy a machine that is in the '{status_label(machine.status)}' state")
    machine.osystem, machine.distro_series = "ubuntu", "noble"
    machine.error_description = ""
    state.set_status(machine, DEPLOYING)
    machine.pending = Pending(_now() + state.timings.deploy_seconds)


def release(state: MaasState, machine: Machine) -> None:
    """MachineHandler.release: Ready or Releasing is already done; otherwise only RELEASABLE_STATUSES."""
    if machine.status in (READY, RELEASING):
        return
    if machine.status not in RELEASABLE:
        raise Conflict(f"Machine cannot be released in its current state ('{status_label(machine.status)}').")
    state.set_status(machine, RELEASING)
    machine.pending = Pending(_now() + state.timings.release_seconds)


def abort(state: MaasState, machine: Machine) -> None:
    """Node.abort_operation: commissioning goes back to New (and loses its owner), deploying to
    Allocated (_abort_commissioning_async / _abort_deploying_async)."""
    if machine.status == COMMISSIONING:
        machine.pending = None
        machine.owner = None
        state.set_status(machine, NEW)
    elif machine.status == DEPLOYING:
        machine.pending = None
        state.set_status(machine, ALLOCATED)
    else:
        raise Conflict(
            "Cannot abort in current state: "
            f"node {machine.system_id} is in state {status_label(machine.status)}."
        )


def resume(state: MaasState, machine: Machine) -> None:
    """A machine seeded in the middle of a transition finishes it like any other."""
    durations = {
        COMMISSIONING: state.timings.commission_seconds,
        DEPLOYING: state.timings.deploy_seconds,
        RELEASING: state.timings.release_seconds,
    }
    if machine.status in durations:
        machine.pending = Pending(_now() + durations[machine.status], skip_storage=True)


def advance(state: MaasState, now: float | None = None) -> None:
    """Finish every transition whose time has come (hold state.lock)."""
    moment = _now() if now is None else now
    for machine in state.machines.values():
        pending = machine.pending
        if pending is None or pending.due > moment:
            continue
        machine.pending = None
        if machine.status == COMMISSIONING:
            _finish_commissioning(state, machine, pending)
        elif machine.status == DEPLOYING:
            _finish_deploying(state, machine)
        elif machine.status == RELEASING:
            machine.osystem = machine.distro_series = ""
            state.set_status(machine, READY)
            machine.owner = None


def _finish_deploying(state: MaasState, machine: Machine) -> None:
    """Without a network interface the machine never netboots the installer (see below)."""
    if not machine.interfaces:
        state.set_status(machine, FAILED_DEPLOYMENT)
        machine.error_description = TIMED_OUT.format("Deploying")
        return
    state.set_status(machine, DEPLOYED)


def _finish_commissioning(state: MaasState, machine: Machine, pending: Pending) -> None:
    """A machine without a network interface cannot PXE-boot the commissioning environment, so
    nothing ever reports back; the status monitor fails it (maasserver/status_monitor.py,
    NODE_FAILURE_MONITORED_STATUS_TRANSITIONS). The REST call itself is accepted (api/machines.py
    has no such check); the UI does not offer the action (node_action.py requires_networking)."""
    if not machine.interfaces:
        state.set_status(machine, FAILED_COMMISSIONING)
        machine.error_description = TIMED_OUT.format("Commissioning")
        return
    if not pending.skip_storage:
        rescan_disks(machine)
        apply_flat_layout(state, machine)
    state.set_status(machine, READY)
    machine.owner = None
