"""`stratum run` as a real subprocess against the real control plane and the simulators."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRATUM = Path(sys.executable).with_name("stratum")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OperatorProcess:
    def __init__(
        self,
        kubeconfig: Path,
        log_dir: Path,
        env: Mapping[str, str],
        args: tuple[str, ...] = ("--drift-interval", "5"),
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log_dir = log_dir
        self.extra_env = dict(env)
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def metrics_url(self) -> str:
        port = self.args[self.args.index("--metrics-port") + 1]
        return f"http://127.0.0.1:{port}/metrics"

    @property
    def health_url(self) -> str:
        return self.args[self.args.index("--liveness") + 1]

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"operator-{self.starts}.log"

    def start(self) -> OperatorProcess:
        self.starts += 1
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), **self.extra_env}
        log = open(self.log_path, "wb")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [str(STRATUM), "run", *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        self._wait_started()
        return self

    def _wait_started(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"operator exited with {self.proc.returncode}:\n{self.tail()}")
            # Logged by the startup handler right before kopf starts its watchers; a standby
            # under leader election logs the second line instead.
            text = self.log_path.read_bytes()
            if b"stratum operator started" in text or b"standing by" in text:
                return
            time.sleep(0.2)
        raise AssertionError(f"operator did not start within {timeout}s:\n{self.tail()}")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM and wait; the exit code, or None when it had to be killed."""
        code = None
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        return code

    def kill(self) -> None:
        """SIGKILL: no cleanup, as in a node crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""
