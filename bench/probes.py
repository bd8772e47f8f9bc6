"""Measurements from outside the operator: its process (peak RSS, CPU), its /metrics, and the
simulators' request counters."""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ProcessUsage:
    """CPU seconds and peak RSS summed/maxed over every process of one role (the operator
    restarts after a SIGKILL: sample each before it goes)."""

    cpu_seconds: float = 0.0
    peak_rss_mib: float = 0.0
    _last: dict[int, float] = field(default_factory=dict)

    def sample(self, pid: int | None) -> None:
        if pid is None:
            return
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        fields = stat.rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        self.cpu_seconds += cpu - self._last.get(pid, 0.0)
        self._last[pid] = cpu
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        if match:
            self.peak_rss_mib = max(self.peak_rss_mib, int(match[1]) / 1024)

    def as_json(self) -> dict[str, float]:
        return {"cpuSeconds": round(self.cpu_seconds, 2), "peakRssMiB": round(self.peak_rss_mib, 1)}


def cpu_seconds(pid: int) -> float:
    usage = ProcessUsage()
    usage.sample(pid)
    return usage.cpu_seconds


def host_cpu_seconds() -> float:
    """CPU seconds all cores of the machine spent busy (not idle, not waiting for I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / TICKS


def backend_requests(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Requests a simulator served between two /_sim/stats answers: total, reads, writes, by method."""
    by_method: Counter[str] = Counter(after["byMethod"])
    by_method.subtract(before["byMethod"])
    reads = by_method["GET"] + by_method["HEAD"]
    total = sum(by_method.values())
    return {
        "total": total,
        "reads": reads,
        "writes": total - reads,
        **{k: v for k, v in by_method.items() if v},
    }


def by_path(before: dict[str, Any], after: dict[str, Any], top: int = 8) -> dict[str, int]:
    """The busiest `METHOD path` entries between two stats answers (ids folded to `*`)."""
    diff: Counter[str] = Counter()
    for key, count in after["byPath"].items():
        diff[_fold(key)] += count - before["byPath"].get(key, 0)
    return dict(diff.most_common(top))


def _fold(key: str) -> str:
    method, _, path = key.partition(" ")
    parts = ["*" if re.fullmatch(r"bench-[\w.-]+|bm\d+|\d+", p) else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


_METRIC = re.compile(r"^(?P<name>stratum_\w+?)(?:_total)?\{(?P<labels>[^}]*)\} (?P<value>\S+)$")


def operator_metrics(url: str) -> dict[str, Any]:
    """stratum_reconcile_total by kind and result, from the operator's /metrics."""
    try:
        text = httpx.get(url, timeout=10).text
    except httpx.HTTPError:
        return {}
    reconciles: Counter[str] = Counter()
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match and match["name"] == "stratum_reconcile":
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
            reconciles[f"{labels['kind']}:{labels['result']}"] += int(float(match["value"]))
    return {"reconciles": dict(sorted(reconciles.items()))}
