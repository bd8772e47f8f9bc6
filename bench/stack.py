"""The system under test: a real control plane, both simulators as processes of their own (so
they do not share this script's interpreter), and `stratum run` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bench.apiserver import ApiServer  # noqa: E402
from support.kube import ControlPlane  # noqa: E402
from support.operator import OperatorProcess, free_port  # noqa: E402

BIN = Path(sys.executable).parent


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

    def start(self, operator_args: tuple[str, ...]) -> Stack:
        plane_dir = self.workdir / "controlplane"
        plane_dir.mkdir(exist_ok=True)
        self.plane = ControlPlane.start(plane_dir)
        self.plane.install_crds()
        self.api = ApiServer(self.plane.kube.kubeconfig)
        self.linstor = SimProcess("linstor-sim", self._seeds[0], self.workdir)
        self.maas = SimProcess("maas-sim", self._seeds[1], self.workdir)
        env = {
            "LS_CONTROLLERS": f"linstor://127.0.0.1:{self.linstor.port}",
            "MAAS_API_URL": f"{self.maas.url}/MAAS/",
            "MAAS_API_KEY": self._seeds[1]["apiKeys"][0],
        }
        metrics = ("--metrics-port", str(free_port()), "--metrics-host", "127.0.0.1")
        self.operator = OperatorProcess(
            self.plane.kube.kubeconfig, self.workdir, env, args=operator_args + metrics
        )
        self.operator.start()
        return self

    @property
    def sims(self) -> dict[str, SimProcess]:
        assert self.linstor is not None and self.maas is not None
        return {"linstor": self.linstor, "maas": self.maas}

    @property
    def operator_pid(self) -> int | None:
        proc = self.operator.proc if self.operator else None
        return proc.pid if proc is not None and proc.poll() is None else None

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
