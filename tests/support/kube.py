"""kubectl against the real control plane started by hack/controlplane."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
HACK = ROOT / "hack" / "controlplane"


class KubectlError(AssertionError):
    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        super().__init__(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        self.stderr = proc.stderr
        self.stdout = proc.stdout


@dataclass
class Kube:
    """A kubeconfig plus the helpers the tests use."""

    kubeconfig: Path

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def run(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["kubectl", *args],
            check=False,
            input=input,
            text=True,
            capture_output=True,
            env=self.env,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise KubectlError(list(args), proc)
        return proc

    def apply(
        self, manifest: str | dict[str, Any] | list[dict[str, Any]], *extra: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        text = manifest if isinstance(manifest, str) else _dump(manifest)
        return self.run("apply", "-f", "-", *extra, input=text, check=check)

    def create(self, manifest: dict[str, Any], check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("create", "-f", "-", input=_dump(manifest), check=check)

    def get(self, resource: str, name: str | None = None) -> dict[str, Any]:
        args = ["get", resource, "-o", "json"] + ([name] if name else [])
        result: dict[str, Any] = json.loads(self.run(*args).stdout)
        return result

    def exists(self, resource: str, name: str) -> bool:
        return self.run("get", resource, name, "--ignore-not-found", "-o", "name").stdout.strip() != ""

    def patch(
        self,
        resource: str,
        name: str,
        patch: dict[str, Any],
        *,
        kind: str = "merge",
        subresource: str | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        args = ["patch", resource, name, "--type", kind, "-p", json.dumps(patch)]
        if subresource:
            args += ["--subresource", subresource]
        return self.run(*args, check=check)

    def delete(self, resource: str, name: str, *, wait: bool = True, timeout: str = "60s") -> None:
        self.run(
            "delete",
            resource,
            name,
            "--ignore-not-found",
            f"--wait={str(wait).lower()}",
            f"--timeout={timeout}",
            timeout=300,
        )

    def wait(
        self, resource: str, name: str, condition: str = "condition=Ready", timeout: str = "120s"
    ) -> None:
        self.run("wait", f"--for={condition}", f"{resource}/{name}", f"--timeout={timeout}", timeout=600)

    def wait_gone(self, resource: str, name: str, timeout: str = "120s") -> None:
        self.run(
            "wait", "--for=delete", f"{resource}/{name}", f"--timeout={timeout}", timeout=600, check=False
        )
        assert not self.exists(resource, name), f"{resource}/{name} still exists"

    def condition(self, resource: str, name: str, type_: str = "Ready") -> dict[str, Any] | None:
        obj = self.get(resource, name)
        for cond in obj.get("status", {}).get("conditions", []):
            if cond["type"] == type_:
                return dict(cond)
        return None

    def wait_for_reason(self, resource: str, name: str, reason: str, timeout: float = 60) -> dict[str, Any]:
        """Poll until Ready has `reason` (for Ready=False states `kubectl wait` cannot express)."""
        deadline = time.monotonic() + timeout
        cond: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            cond = self.condition(resource, name)
            if cond and cond.get("reason") == reason:
                return cond
            time.sleep(0.5)
        raise AssertionError(f"{resource}/{name}: Ready reason never became {reason}; last {cond}")


def _dump(manifest: dict[str, Any] | list[dict[str, Any]]) -> str:
    docs = manifest if isinstance(manifest, list) else [manifest]
    return yaml.safe_dump_all(docs, sort_keys=False)


@dataclass
class ControlPlane:
    dir: Path
    kube: Kube

    @classmethod
    def start(cls, directory: Path) -> ControlPlane:
        subprocess.run([str(HACK), "start", "--dir", str(directory)], check=True, timeout=1800)
        return cls(dir=directory, kube=Kube(directory / "kubeconfig"))

    def stop(self) -> None:
        subprocess.run([str(HACK), "stop", "--dir", str(self.dir)], check=False, timeout=120)

    def install_crds(self, timeout: float = 60) -> None:
        self.kube.run("apply", "--server-side", "-f", str(ROOT / "crds"))
        # `kubectl wait` fails at once ("accessor error: <nil>") when it reads a CRD before the API
        # server gave it any condition: that is "not yet", so ask again until the deadline.
        deadline = time.monotonic() + timeout
        while True:
            proc = self.kube.run(
                "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s", check=False
            )
            if proc.returncode == 0:
                return
            if "accessor error" not in proc.stderr or time.monotonic() > deadline:
                raise KubectlError(["wait", "--for=condition=Established", "crd", "--all"], proc)
            time.sleep(0.5)
