"""A MAAS region API 2.0 simulator for machine storage (block devices, partitions, RAIDs).

    from stratum.sim.maas import MaasSim

    with MaasSim(seed) as sim:          # seed: dict, YAML path or None
        sim.maas_url                    # MAAS_API_URL, e.g. http://127.0.0.1:PORT/MAAS/
        sim.api_key                     # MAAS_API_KEY (consumer:token:secret)
        sim.set_status("abc123", "Ready")
        sim.add_machine({...})          # a seed machine spec
        sim.state                       # the in-memory model (hold sim.state.lock to mutate)

Command line: `maas-sim --host H --port P --seed FILE [--api-key ck:tk:ts] [--tls-cert C --tls-key K]`.
Besides `/MAAS/api/2.0/` it serves the shared `/_sim/faults` and `/_sim/stats` and the
MAAS-specific `/_sim/machines` (and `.../rename-disks`), `/_sim/lifecycle`, `/_sim/apikeys` and
`/_sim/reset` (see `simroutes`). `--tls-cert F --tls-key F` serve HTTPS.
The seed format is in `seed`.
"""

from .model import ApiKey, MaasState, Machine
from .server import MaasSim

__all__ = ["ApiKey", "MaasSim", "MaasState", "Machine"]
