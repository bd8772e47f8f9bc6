"""kstatus verdicts from the kstatus library itself (sigs.k8s.io/cli-utils, what Flux uses).

The Go helper in tests/tools/kstatus is built with the machine's Go toolchain on first use and
cached under ~/.cache/stratum/tools (or $STRATUM_CACHE/tools), keyed by the hash of its sources
and go.sum, so a version bump or an edit rebuilds it. `python tests/support/kstatus.py` builds it
and prints its path.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "tests" / "tools" / "kstatus"
CACHE_ROOT = Path(os.environ.get("STRATUM_CACHE", Path.home() / ".cache" / "stratum"))


@dataclass(frozen=True)
class Verdict:
    source: str
    api_version: str
    kind: str
    name: str
    status: str
    """Current, InProgress, Failed, Terminating, NotFound or Unknown."""
    message: str


def source_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted([*SOURCE.glob("*.go"), SOURCE / "go.mod", SOURCE / "go.sum"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def binary() -> Path:
    """The built helper, building it first if this version of the sources was never built."""
    target = CACHE_ROOT / "tools" / f"kstatus-{source_digest()}" / "kstatus"
    if target.is_file():
        return target
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("kstatus: needs the go toolchain on PATH")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"kstatus.{os.getpid()}.partial")
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    proc = subprocess.run(
        [go, "build", "-trimpath", "-o", str(partial), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kstatus: go build failed:\n{proc.stderr}")
    os.replace(partial, target)  # atomic: a concurrent build of the same sources wins or loses whole
    return target


def compute(*objects: Mapping[str, Any]) -> list[Verdict]:
    """kstatus's status.Compute for each object, in order."""
    stream = "".join(json.dumps(obj) + "\n" for obj in objects)
    return _run([], stream)


def compute_files(*paths: Path) -> list[Verdict]:
    """The same for every object in YAML or JSON files (several documents or a List per file)."""
    return _run([str(p) for p in paths], None)


def _run(args: list[str], stdin: str | None) -> list[Verdict]:
    proc = subprocess.run(
        [str(binary()), *args], input=stdin, capture_output=True, text=True, check=False, timeout=60
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kstatus failed ({proc.returncode}): {proc.stderr}")
    return [
        Verdict(v["source"], v["apiVersion"], v["kind"], v["name"], v["status"], v["message"])
        for v in json.loads(proc.stdout)
    ]


if __name__ == "__main__":
    sys.stdout.write(f"{binary()}\n")
