"""The system under test: a real control plane, both simulators as processes of their own (so
they do not share this script's interpreter), and `stratum run` as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bench.apiserver import GROUPS, VERSION, ApiServer, Kind  # noqa: E402
from bench.probes import cpu_seconds, host_cpu_seconds  # noqa: E402
from support.kube import ControlPlane  # noqa: E402
from support.operator import OperatorProcess, free_port  # noqa: E402

BIN = Path(sys.executable).parent
HANDLER_LINE = re.compile(r" stratum: (ResourceGroup|Resource|Snapshot|MachineRaid) ")


@dataclass(frozen=True)
class Tuning:
    """Operator settings to try (experiments): `stratum run --workers`."""

    workers: int | None = None

    def apply(self, args: tuple[str, ...]) -> tuple[str, ...]:
        if self.workers is not None:
            return (*args, "--workers", str(self.workers))
        return args

    def as_json(self) -> dict[str, Any]:
        return {"workers": self.workers}


class SimProcess:
    """linstor-sim or maas-sim on a free port, with the shared /_sim/ endpoints."""

    def __init__(self, command: str, seed: dict[str, Any], workdir: Path) -> None:
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        seed_path = workdir / f"{command}-seed.yaml"
        seed_path.write_text(yaml.safe_dump(seed, sort_keys=False))
        self.log = open(workdir / f"{command}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(BIN / command), "--host", "127.0.0.1", "--port", str(self.port), "--seed", str(seed_path)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.http = httpx.Client(base_url=self.url, timeout=120)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.http.get("/_sim/stats").raise_for_status()
                break
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{command} did not start; see {self.log.name}") from None
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/_sim/stats").json()
        return data

    def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A GET that rides out injected errors (the checks run while faults are still on)."""
        for attempt in range(50):
            try:
                response = self.http.get(path, params=params)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.json()
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(min(2.0, 0.1 * (attempt + 1)))
        raise RuntimeError(f"{self.command}: GET {path} kept failing")

    def faults(self, **faults: Any) -> None:
        self.http.post("/_sim/faults", json=faults).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Stack:
    """Everything one scenario needs, started fresh so scenarios do not see each other's objects."""

    def __init__(self, workdir: Path, linstor_seed: dict[str, Any], maas_seed: dict[str, Any]) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.plane: ControlPlane | None = None
        self.linstor: SimProcess | None = None
        self.maas: SimProcess | None = None
        self.operator: OperatorProcess | None = None
        self.api: ApiServer | None = None
        self._seeds = (linstor_seed, maas_seed)
        self.startup_hangs: list[dict[str, Any]] = []

    def start_plane(self) -> ApiServer:
        """The control plane alone, with the CRDs installed and their storage settled."""
        plane_dir = self.workdir / "controlplane"
        plane_dir.mkdir(exist_ok=True)
        self.plane = ControlPlane.start(plane_dir)
        self.plane.install_crds()
        self.api = ApiServer(self.plane.kube.kubeconfig)
        self._wait_storage()
        return self.api

    def start(self, operator_args: tuple[str, ...], tuning: Tuning | None = None) -> Stack:
        self.start_plane()
        self.linstor = SimProcess("linstor-sim", self._seeds[0], self.workdir)
        self.maas = SimProcess("maas-sim", self._seeds[1], self.workdir)
        env = {
            "LS_CONTROLLERS": f"linstor://127.0.0.1:{self.linstor.port}",
            "MAAS_API_URL": f"{self.maas.url}/MAAS/",
            "MAAS_API_KEY": self._seeds[1]["apiKeys"][0],
        }
        if tuning is not None:
            operator_args = tuning.apply(operator_args)
        metrics = ("--metrics-port", str(free_port()), "--metrics-host", "127.0.0.1")
        self.operator = OperatorProcess(
            self.plane.kube.kubeconfig, self.workdir, env, args=operator_args + metrics
        )
        self.operator.start()
        self._wait_watching()
        return self

    def _wait_storage(self, timeout: float = 60) -> None:
        """Right after the CRDs are Established their storage may still answer 429 "storage is
        (re)initializing" and discovery may lag: start the operator only once both are settled for
        every kind it watches (a watch answered 429 is retried after kopf's backoff, and kopf runs
        no handler until every indexed kind is listed: that wait would be counted as the
        operator's)."""
        assert self.api is not None
        kinds = self.api.watched_kinds()
        deadline = time.monotonic() + timeout
        streak = 0
        while streak < 6 and time.monotonic() < deadline:
            codes = [self.api.list_response(kind).status_code for kind in kinds]
            streak = streak + 1 if all(c == 200 for c in codes) and self._discovered(kinds) else 0
            time.sleep(0.5)

    def _wait_watching(self, timeout: float = 30) -> None:
        """Create the objects once the operator watches every kind, as a running operator does
        when a user applies them: its start-up (listing each kind, kopf's index readiness) is not
        what a scenario measures. A start that never gets there is left to ensure_reconciling."""
        assert self.api is not None
        wanted = {k.plural for k in self.api.watched_kinds()}
        deadline = time.monotonic() + timeout
        while not wanted <= self.api.watched_now() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _discovered(self, kinds: list[Kind]) -> bool:
        """Discovery serves every kind before the operator starts."""
        assert self.api is not None
        for group in GROUPS:
            response = self.api.http.get(f"/apis/{group}/{VERSION}")
            if response.status_code != 200:
                return False
            served = {r["name"] for r in response.json().get("resources", [])}
            if not {k.plural for k in kinds if k.group == group} <= served:
                return False
        return True

    def ensure_reconciling(self, timeout: float = 30, restarts: int = 2) -> None:
        """Once objects exist the operator must start reconciling them. `stratum run` was seen to
        hang for good (5 of ~12 starts in full runs, also on restarts after SIGKILL): its log ends at
        "Initial authentication has finished" although its LISTs and WATCHes are open, and no
        handler runs. Restart it then, and record it (`operatorStartupHangs`)."""
        assert self.operator is not None
        for _ in range(restarts + 1):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if HANDLER_LINE.search(self.operator.tail(20000)):
                    return
                time.sleep(1)
            self.startup_hangs.append({"log": self.operator.log_path.name, "tail": self.operator.tail(300)})
            self.operator.kill()
            self.operator.start()
        raise RuntimeError("the operator never reconciled anything; see operatorStartupHangs")

    def restart_operator(self) -> None:
        """SIGKILL, start again, and make sure the new process gets going."""
        assert self.operator is not None
        self.operator.kill()
        self.operator.start()

    @property
    def sims(self) -> dict[str, SimProcess]:
        assert self.linstor is not None and self.maas is not None
        return {"linstor": self.linstor, "maas": self.maas}

    @property
    def operator_pid(self) -> int | None:
        proc = self.operator.proc if self.operator else None
        return proc.pid if proc is not None and proc.poll() is None else None

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds used so far by each process of the stack (the operator, the API server,
        etcd, linstor-sim) and by the whole machine (`host`: other users' processes too)."""
        pids = {"operator": self.operator_pid}
        if self.plane is not None and (self.plane.dir / "pids.json").exists():
            recorded = json.loads((self.plane.dir / "pids.json").read_text())
            pids.update({"apiserver": recorded["kube-apiserver"]["pid"], "etcd": recorded["etcd"]["pid"]})
        if self.linstor is not None:
            pids["linstorSim"] = self.linstor.proc.pid
        out = {role: cpu_seconds(pid) for role, pid in pids.items() if pid is not None}
        out["host"] = host_cpu_seconds()
        return out

    def stop(self) -> None:
        if self.operator is not None:
            self.operator.stop()
        for sim in (self.linstor, self.maas):
            if sim is not None:
                sim.stop()
        if self.api is not None:
            self.api.close()
        if self.plane is not None and not os.environ.get("BENCH_KEEP_CONTROLPLANE"):
            self.plane.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
