"""Helpers for the MAAS client and MachineRaid reconcile tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from stratum.api.maas import MachineRaidSpec
from stratum.clients.maas import MaasClient, MaasConfig
from stratum.clients.maas.config import ApiKey
from stratum.clients.retry import RetryPolicy
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.maas.identity import pins_from_status
from stratum.reconcile.maas.machineraid import RaidInputs, finalize, reconcile
from stratum.reconcile.maas.readytag import Sibling
from stratum.reconcile.outcome import Outcome, status_patch
from stratum.sim.maas import MaasSim
from stratum.sim.maas.render import raid_json

TB = 10**12
GB = 10**9
API_KEY = "ck1:tk1:ts1"


def machine(
    system_id: str, hostname: str, *disks: int, status: str = "Ready", **extra: Any
) -> dict[str, Any]:
    """A machine with a 500 GB boot disk sda and the given disks as sdb, sdc, ..."""
    devices = [{"name": "sda", "size": 500 * GB, "bootDisk": True}]
    devices += [{"name": f"sd{chr(ord('b') + i)}", "size": size} for i, size in enumerate(disks)]
    return {"systemId": system_id, "hostname": hostname, "status": status, "blockDevices": devices, **extra}


def make_client(
    sim: MaasSim, *, multipart: bool = False, key: str = API_KEY, url: str | None = None
) -> MaasClient:
    config = MaasConfig(url=url or sim.maas_url, api_key=ApiKey.parse(key), multipart=multipart)
    return MaasClient(config, retry=RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05))


WRITES = ("POST", "PUT", "DELETE")


def writes(sim: MaasSim) -> dict[str, int]:
    return {k: v for k, v in sim.stats.requests.items() if k.split(" ", 1)[0] in WRITES}


def retry_seconds(outcome: Outcome) -> float | None:
    """When the operator, with its default settings, looks at the object again."""
    return None if outcome.retry is None else OperatorSettings().retry_delay(outcome.retry)


@dataclass
class Raid:
    """One MachineRaid object: its spec, uid and the status the handlers would have written."""

    client: MaasClient
    sim: MaasSim
    spec: dict[str, Any]
    name: str = "data"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: dict[str, Any] = field(default_factory=dict)

    siblings: list[Sibling] = field(default_factory=list)

    def inputs(self) -> RaidInputs:
        recorded = [*self.status.get("devices", []), *self.status.get("spareDevices", [])]
        return RaidInputs(
            self.name,
            self.uid,
            self.status.get("raidId"),
            self.status.get("filesystem"),
            pins=pins_from_status(recorded),
            recorded_ready_tag=self.status.get("readyTag"),
            siblings=lambda _machine, _tag: self.siblings,
        )

    async def apply(self, **changes: Any) -> Outcome:
        self.spec.update(changes)
        self.sim.stats.requests.clear()
        outcome = await reconcile(self.client, MachineRaidSpec.model_validate(self.spec), self.inputs())
        for key, value in status_patch(outcome.status).items():
            if value is None:
                self.status.pop(key, None)
            else:
                self.status[key] = value
        return outcome

    async def converged(self, **changes: Any) -> Outcome:
        outcome = await self.apply(**changes)
        assert outcome.ready, outcome.message
        again = await self.apply()
        assert again.ready and again.actions == [], again.actions
        assert writes(self.sim) == {}, "an idle pass wrote to MAAS"
        return outcome

    async def delete(self) -> Outcome:
        self.sim.stats.requests.clear()
        return await finalize(self.client, MachineRaidSpec.model_validate(self.spec), self.inputs())

    def maas(self) -> dict[str, Any]:
        """The array as MAAS shows it now."""
        machine = self.sim.machine(self.status["systemId"])
        with self.sim.state.lock:
            return raid_json(machine, machine.storage.raids[self.status["raidId"]])


def names(members: list[dict[str, Any]]) -> list[str]:
    return sorted(m.get("name") or m["path"].rsplit("/", 1)[1] for m in members)


def new(client: MaasClient, sim: MaasSim, **spec: Any) -> Raid:
    body = {"machine": {"hostname": "node-1"}, "level": "raid-1", "devices": ["sdb", "sdc"], **spec}
    return Raid(client, sim, body)
