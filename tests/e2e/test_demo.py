"""`make demo ARGS=--once` on its own control plane: everything in examples/ becomes Ready."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_demo_once_converges_every_example(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["make", "-s", "demo", "ARGS=--once"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "STRATUM_DEMO_DIR": str(tmp_path / "demo")},
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert "everything is Ready" in out
    for name in ("replicated", "db-data", "db-data-snap1", "node-1-data", "node-2-bulk"):
        rows = [row for row in out.splitlines() if row.split() and row.split()[0].endswith(f"/{name}")]
        line = rows[-1]  # the `kubectl get stratum` row, after the `kubectl apply` one
        assert line.split()[1:3] == ["True", "Ready"], line
    assert "raid-1 md0 on abc123, 999999868928 bytes (expected 999999868928), ext4 at /data" in out
    assert "/dev/drbd1000 10Gi" in out
    # The demo cleaned up after itself: no control plane left running.
    assert not (tmp_path / "demo" / "controlplane" / "pids.json").exists()
