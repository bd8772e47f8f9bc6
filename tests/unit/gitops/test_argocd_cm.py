"""deploy/argocd/argocd-cm.yaml is generated from the health.lua files and must be current."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from support.argo_health import CUSTOMIZATIONS, ROOT, health_checks

GENERATOR = ROOT / "hack" / "argocd-cm"
SNIPPET = CUSTOMIZATIONS / "argocd-cm.yaml"


def _generate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "hack" / "argocd-cm"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_snippet_is_current() -> None:
    proc = _generate(ROOT, "--check")
    assert proc.returncode == 0, proc.stderr


def test_snippet_holds_every_script_byte_for_byte_under_argo_cd_keys() -> None:
    config_map = yaml.safe_load(SNIPPET.read_text())
    assert (config_map["kind"], config_map["metadata"]["name"]) == ("ConfigMap", "argocd-cm")
    expected = {
        f"resource.customizations.health.{check.group}_{check.kind}": check.script
        for check in health_checks()
    }
    assert config_map["data"] == expected


def test_check_names_a_stale_snippet_and_a_run_mends_it(tmp_path: Path) -> None:
    (tmp_path / "hack").mkdir()
    shutil.copy(GENERATOR, tmp_path / "hack" / "argocd-cm")
    shutil.copytree(CUSTOMIZATIONS, tmp_path / "deploy" / "argocd")
    script = tmp_path / "deploy" / "argocd" / "maas.stratum.dev" / "MachineRaid" / "health.lua"
    script.write_text(script.read_text().replace('"Waiting for the Ready condition"', '"No Ready yet"'))

    stale = _generate(tmp_path, "--check")
    assert stale.returncode == 1
    assert "argocd-cm.yaml is stale" in stale.stderr

    assert _generate(tmp_path).returncode == 0
    assert _generate(tmp_path, "--check").returncode == 0
    data = yaml.safe_load((tmp_path / "deploy" / "argocd" / "argocd-cm.yaml").read_text())["data"]
    assert data["resource.customizations.health.maas.stratum.dev_MachineRaid"] == script.read_text()
