"""Every metric the alert rules and the Grafana dashboard use exists in a scrape of the running
operator (taken after it reconciled something), so no panel stays empty and no alert silently
never fires because of a renamed metric."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import yaml

from support.kube import Kube
from support.operator import OperatorProcess

FILES = Path(__file__).resolve().parents[2] / "charts" / "stratum" / "files"
METRIC = re.compile(r"\b(?:stratum|process|python)_[a-z0-9_]+\b")

# The contract with the operator's metrics (operator/stratum/handlers/metrics.py).
USED = {
    "stratum_build_info",
    "stratum_leader",
    "stratum_reconcile_total",
    "stratum_reconcile_errors_total",
    "stratum_reconcile_duration_seconds_bucket",
    "stratum_reconcile_in_flight",
    "stratum_drift_corrections_total",
    "stratum_objects",
    "stratum_objects_degraded",
    "stratum_backend_up",
    "stratum_backend_requests_total",
    "stratum_backend_request_duration_seconds_bucket",
    "process_resident_memory_bytes",
    "process_cpu_seconds_total",
    "process_open_fds",
    "python_info",
}


def expressions() -> list[str]:
    rules = yaml.safe_load((FILES / "alerts.yaml").read_text())
    exprs = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    dashboard = json.loads((FILES / "dashboard.json").read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    return exprs


def test_the_rules_and_dashboard_use_exactly_the_agreed_metrics() -> None:
    assert {name for expr in expressions() for name in METRIC.findall(expr)} == USED


def exposed_names(text: str) -> set[str]:
    """Sample names, and the names of metric families announced without samples yet (a labelled
    counter before its first increment): a histogram family stands for its _bucket series."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            names |= {name, f"{name}_bucket"} if kind == "histogram" else {name}
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_every_used_metric_is_in_a_scrape(kube: Kube, operator: OperatorProcess) -> None:
    kube.apply(
        {
            "apiVersion": "linstor.stratum.dev/v1alpha1",
            "kind": "ResourceGroup",
            "metadata": {"name": "scrape-rg"},
            "spec": {"placement": {"placeCount": 1}},
        }
    )
    try:
        kube.wait("lrg", "scrape-rg")
        deadline = time.monotonic() + 30
        missing = USED
        while missing and time.monotonic() < deadline:
            missing = USED - exposed_names(httpx.get(operator.metrics_url, timeout=5).text)
            time.sleep(1)
        assert not missing, f"not exported by the operator: {sorted(missing)}"
    finally:
        kube.delete("lrg", "scrape-rg")
