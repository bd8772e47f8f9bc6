"""Finding the machine a MachineRaid names, and waiting for it to be Ready."""

from __future__ import annotations

from stratum.api.maas import MachineRaidStatus, MachineSelector
from stratum.clients.maas import MaasClient
from stratum.clients.maas.models import Machine
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait


class NotReady(Exception):
    """A pass stopped early with this outcome (machine missing, not Ready, conflict...)."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.message)
        self.outcome = outcome


def selector(sel: MachineSelector) -> str:
    return f"systemId {sel.system_id}" if sel.system_id else f"hostname {sel.hostname}"


def ready_pacing(machine: Machine) -> Wait:
    """How soon to look again at a machine that is not Ready: every few seconds while it is in a
    transition that ends by itself (Releasing, Commissioning, Deploying...), so a machine that
    turns Ready is acted on within seconds; a little less often while it rests in another state
    (Deployed, Allocated), where a person has to act. Each look is a few single-machine GETs."""
    return Wait.SOON if machine.in_transition else Wait.WAIT


async def resolve_machine(client: MaasClient, sel: MachineSelector) -> Machine:
    if sel.system_id:
        machine = await client.get_machine(sel.system_id)
        found = [machine] if machine is not None else []
    else:
        found = [m for m in await client.list_machines(hostname=sel.hostname) if m.hostname == sel.hostname]
    if not found:
        raise NotReady(
            Outcome.waiting(
                reasons.MACHINE_NOT_FOUND,
                f"no MAAS machine with {selector(sel)}; check "
                "spec.machine (the object waits until the machine exists)",
                retry=Wait.SLOW,
            )
        )
    if len(found) > 1:
        ids = ", ".join(m.system_id for m in found)
        raise NotReady(
            Outcome.waiting(
                reasons.MACHINE_AMBIGUOUS,
                f"several MAAS machines match {selector(sel)} ({ids}); use spec.machine.systemId",
                retry=Wait.SLOW,
            )
        )
    return found[0]


def not_ready(machine: Machine, pending: str, status: MachineRaidStatus) -> NotReady:
    state = machine.status_name or f"status {machine.status}"
    return NotReady(
        Outcome.waiting(
            reasons.MACHINE_NOT_READY,
            f"machine {machine.describe()} is {state}, not Ready: MAAS changes storage only "
            f"on Ready machines, so {pending} waits until it is Ready (release the machine in MAAS)",
            status,
            retry=ready_pacing(machine),
        )
    )
