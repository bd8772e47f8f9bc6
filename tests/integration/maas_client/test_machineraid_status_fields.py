"""MachineRaid's status, as declared in its CRD, against what the passes write: every declared
field is written by some pass, and nothing undeclared is."""

from __future__ import annotations

from stratum.api import crds
from stratum.api.maas import MachineRaidSpec, MachineRaidStatus
from stratum.clients.maas import MaasClient
from stratum.handlers import controls
from stratum.reconcile.maas.machineraid import RaidInputs, reconcile
from stratum.reconcile.outcome import status_patch
from support.status_paths import declared, written


async def test_every_declared_status_field_is_written_and_nothing_else(client: MaasClient) -> None:
    spec = MachineRaidSpec.model_validate(
        {
            "machine": {"hostname": "node-1"},
            "level": "raid-1",
            "devices": ["sdb", "sdc"],
            "spareDevices": ["sdd"],
            "partitions": [{"disk": "sde", "size": "100G"}, {"disk": "sde", "spare": True}],
            "readyTag": "storage-ready",
            "filesystem": {"fstype": "ext4", "mountPoint": "/data", "mountOptions": "noatime"},
        }
    )
    inputs = RaidInputs("data", "3f5d0c2a-9b7e-4c1d-8a6f-222222222222")
    outcome = await reconcile(client, spec, inputs)
    assert outcome.ready, outcome.message
    # managementPolicy Observe writes the differences of a spec the array does not match.
    remount = spec.model_copy(
        update={"filesystem": spec.filesystem.model_copy(update={"mount_options": "relatime"})}
    )
    observed = await controls.observe(lambda: reconcile(client, remount, inputs), MachineRaidStatus)()
    assert observed.status is not None and observed.status.differences, observed.message
    found = written(status_patch(outcome.status)) | written(status_patch(observed.status))
    wanted = declared(crds.MACHINE_RAID)
    assert wanted - found == set(), "declared but never written"
    assert found - wanted == set(), "written but not declared"
