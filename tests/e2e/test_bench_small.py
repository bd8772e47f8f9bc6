"""Keeps bench/run.py working: every scenario at the small size, end to end, exit code 0 and the
JSON keys the issue asks for. (The numbers themselves are the benchmark's business, not a test's.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1200)
def test_small_benchmark_runs_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--size", "small", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1150,
        check=False,
    )
    assert proc.returncode == 0, f"bench failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-6000:]}"
    assert "scenario" in proc.stdout  # the table
    results = json.loads(out.read_text())
    assert results["ok"] is True
    assert results["size"] == "small"

    scale = results["scale"]
    assert scale["notReadyCount"] == 0 and scale["verify"]["ok"] and scale["cleanup"]["ok"]
    for kind in ("ResourceGroup", "Resource", "MachineRaid", "all"):
        assert {"p50", "p95", "max"} <= set(scale["readySeconds"][kind])
    assert {"linstor", "maas", "apiserver", "apiserverWrites"} <= set(scale["perObject"])
    assert {"peakRssMiB", "cpuSeconds"} <= set(scale["operator"])
    assert scale["operator"]["peakRssMiB"] > 0

    idle = results["idle"]
    assert {
        "apiserverWrites",
        "linstorWrites",
        "maasWrites",
        "linstorReadsPerObject",
        "maasReadsPerObject",
    } <= set(idle["perMinute"])

    faults = results["faults"]
    assert faults["endsReady"] and faults["verify"]["ok"] and faults["cleanup"]["ok"]
    assert [e["event"] for e in faults["events"]].count("SIGKILL and restart") == 1
    for part in ("linstor", "maas"):
        assert faults["verify"][part]["duplicates"] == faults["verify"][part]["orphans"] == []
        assert faults["verify"][part]["lost"] == []

    assert results["baseline"]["ok"] and results["baseline"]["seconds"] > 0
    assert {"time", "requests"} <= set(results["ratio"])
