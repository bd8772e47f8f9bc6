"""How soon a MachineRaid waiting for its machine looks again: every few seconds, sooner while the
machine is in a transition that ends by itself (so a released machine is acted on within seconds)."""

from __future__ import annotations

from stratum.clients.maas.models import Machine
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.maas.machines import ready_pacing


def seconds(status: int) -> float:
    machine = Machine(system_id="abc123", status=status)
    return OperatorSettings().retry_delay(ready_pacing(machine))


def test_transitions_are_polled_every_two_seconds_resting_states_every_five() -> None:
    releasing, commissioning, deploying, deployed, allocated = 12, 1, 9, 6, 10
    assert [seconds(s) for s in (releasing, commissioning, deploying)] == [2.0, 2.0, 2.0]
    assert [seconds(s) for s in (deployed, allocated)] == [5.0, 5.0]
