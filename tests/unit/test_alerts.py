"""The alert rules (charts/stratum/files/alerts.yaml) under the real promtool: `check rules`, and
`test rules` with one case where each alert fires and one where it stays quiet. promtool is built
from the Go module proxy by hack/tools (pinned there)."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "charts" / "stratum" / "files" / "alerts.yaml"
DEPLOY = ROOT / "deploy" / "monitoring"


@pytest.fixture(scope="session")
def promtool() -> str:
    out = subprocess.run(
        [str(ROOT / "hack" / "tools"), "bin", "promtool"], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def rules() -> list[dict[str, Any]]:
    """The chart's alert rules."""
    return list(yaml.safe_load(RULES.read_text())["groups"][0]["rules"])


def rule(alert: str) -> dict[str, Any]:
    (found,) = [r for r in rules() if r["alert"] == alert]
    return dict(found)


def run_promtool(promtool: str, *args: str) -> str:
    """promtool's output; it must succeed."""
    proc = subprocess.run([promtool, *args], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@dataclass
class Case:
    alert: str
    series: dict[str, str]
    eval_time: str
    # Labels of the expected alert beyond alertname and severity; None: the alert must not fire.
    fires_with: dict[str, str] | None
    value: str = ""
    """What {{ $value }} renders to in the annotations."""
    why: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.alert}-{'fires' if self.fires_with is not None else 'quiet'}-{self.why}"

    def expected(self) -> list[dict[str, Any]]:
        if self.fires_with is None:
            return []
        r = rule(self.alert)
        labels = {**r["labels"], **self.fires_with}

        def render(text: str) -> str:
            # The few template forms the rules use; anything else would stay and fail the test.
            text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
            return text.replace("{{ $value | humanizePercentage }}", self.value).replace(
                "{{ $value }}", self.value
            )

        return [
            {
                "exp_labels": labels,
                "exp_annotations": {k: render(v) for k, v in r["annotations"].items()},
            }
        ]


LEADER_A = {'stratum_leader{instance="a"}': "1x60"}
STANDBY_B = {'stratum_leader{instance="b"}': "0x60"}

CASES = [
    Case(
        "StratumOperatorDown",
        {'stratum_build_info{instance="a",version="0.1.0"}': "1x3 stale"},
        "15m",
        {},
        why="series-gone",
    ),
    Case(
        "StratumOperatorDown",
        {'stratum_build_info{instance="a",version="0.1.0"}': "1x30"},
        "15m",
        None,
        why="scraped",
    ),
    Case(
        "StratumOperatorDown",
        {'stratum_build_info{instance="a",version="0.1.0"}': "1x8 stale"},
        "11m",
        None,
        why="gone-less-than-5m",
    ),
    Case("StratumNoLeader", {'stratum_leader{instance="a"}': "0x20", **STANDBY_B}, "10m", {}, why="none"),
    Case("StratumNoLeader", {**LEADER_A, **STANDBY_B}, "10m", None, why="one"),
    Case(
        "StratumSeveralLeaders",
        {**LEADER_A, 'stratum_leader{instance="b"}': "1x20"},
        "10m",
        {},
        value="2",
        why="two",
    ),
    Case("StratumSeveralLeaders", {**LEADER_A, **STANDBY_B}, "10m", None, why="one"),
    Case(
        "StratumReconcileErrors",
        {
            'stratum_reconcile_total{kind="Resource",result="Ready",instance="a"}': "0+5x60",
            'stratum_reconcile_total{kind="Resource",result="BackendError",instance="a"}': "0+5x60",
            'stratum_reconcile_errors_total{kind="Resource",instance="a"}': "0+5x60",
            'stratum_reconcile_total{kind="Snapshot",result="Ready",instance="a"}': "0+10x60",
            'stratum_reconcile_errors_total{kind="Snapshot",instance="a"}': "0+0x60",
        },
        "40m",
        {"kind": "Resource"},
        value="50%",
        why="half-of-resource-passes",
    ),
    Case(
        "StratumReconcileErrors",
        {
            'stratum_reconcile_total{kind="Resource",result="Ready",instance="a"}': "0+20x60",
            'stratum_reconcile_errors_total{kind="Resource",instance="a"}': "0+1x60",
        },
        "40m",
        None,
        why="5-percent",
    ),
    Case(
        "StratumObjectsNotReady",
        {
            **LEADER_A,
            'stratum_objects{kind="Resource",ready="True",instance="a"}': "5x60",
            'stratum_objects{kind="Resource",ready="False",instance="a"}': "2x60",
            'stratum_objects{kind="Resource",ready="Unknown",instance="a"}': "1x60",
        },
        "35m",
        {"kind": "Resource"},
        value="3",
        why="for-35m",
    ),
    Case(
        "StratumObjectsNotReady",
        {**LEADER_A, 'stratum_objects{kind="Resource",ready="False",instance="a"}': "2x20 0x40"},
        "35m",
        None,
        why="ready-again",
    ),
    Case(
        "StratumObjectsNotReady",
        {
            **LEADER_A,
            **STANDBY_B,
            'stratum_objects{kind="Resource",ready="False",instance="a"}': "0x60",
            'stratum_objects{kind="Resource",ready="False",instance="b"}': "4x60",
        },
        "35m",
        None,
        why="only-the-standby-says-so",
    ),
    Case(
        "StratumObjectsDegraded",
        {**LEADER_A, 'stratum_objects_degraded{kind="MachineRaid",instance="a"}': "1x30"},
        "15m",
        {"kind": "MachineRaid"},
        value="1",
        why="for-15m",
    ),
    Case(
        "StratumObjectsDegraded",
        {**LEADER_A, 'stratum_objects_degraded{kind="MachineRaid",instance="a"}': "0x30"},
        "15m",
        None,
        why="none",
    ),
    Case(
        "StratumBackendUnavailable",
        {**LEADER_A, 'stratum_backend_up{backend="linstor",instance="a"}': "1x5 0x20"},
        "15m",
        {"backend": "linstor"},
        why="no-answer",
    ),
    Case(
        "StratumBackendUnavailable",
        {
            **LEADER_A,
            **STANDBY_B,
            'stratum_backend_up{backend="linstor",instance="a"}': "1x20",
            'stratum_backend_up{backend="linstor",instance="b"}': "0x20",
        },
        "15m",
        None,
        why="leader-gets-answers",
    ),
]


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    alerts = {r["alert"] for r in rules()}
    assert {c.alert for c in CASES if c.fires_with is not None} == alerts
    assert {c.alert for c in CASES if c.fires_with is None} == alerts


def test_promtool_check_rules(promtool: str) -> None:
    for path in (RULES, DEPLOY / "alerts.yaml"):
        assert f"SUCCESS: {len(rules())} rules found" in run_promtool(promtool, "check", "rules", str(path))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_promtool_test_rules(promtool: str, tmp_path: Path, case: Case) -> None:
    test = {
        "rule_files": [str(RULES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in case.series.items()],
                "alert_rule_test": [
                    {"eval_time": case.eval_time, "alertname": case.alert, "exp_alerts": case.expected()}
                ],
            }
        ],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    assert "SUCCESS" in run_promtool(promtool, "test", "rules", str(path))


def test_deploy_monitoring_ships_the_chart_files() -> None:
    assert (DEPLOY / "alerts.yaml").read_bytes() == RULES.read_bytes()
    assert (DEPLOY / "dashboard.json").read_bytes() == (RULES.parent / "dashboard.json").read_bytes()
    wrapped = yaml.safe_load((DEPLOY / "prometheusrule.yaml").read_text())
    assert wrapped["kind"] == "PrometheusRule"
    assert wrapped["spec"] == yaml.safe_load(RULES.read_text())


def test_dashboard_queries_are_valid_promql(promtool: str, tmp_path: Path) -> None:
    """promtool parses each dashboard query as a recording rule (Grafana's $__rate_interval
    stands in as 5m); panels are laid out on Grafana's 24-column grid with unique ids."""
    dashboard = json.loads((RULES.parent / "dashboard.json").read_text())
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels)
    assert [v["name"] for v in dashboard["templating"]["list"]] == ["datasource"]
    queries = [t["expr"] for p in panels for t in p.get("targets", [])]
    assert queries
    recording = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query{i}", "expr": q.replace("$__rate_interval", "5m")}
                    for i, q in enumerate(queries)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump(recording))
    assert f"SUCCESS: {len(queries)} rules found" in run_promtool(promtool, "check", "rules", str(path))
