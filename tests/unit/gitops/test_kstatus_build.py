"""The kstatus helper's cache key follows its sources: a version bump or an edit rebuilds it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support import kstatus


def test_cache_key_changes_with_go_sum_and_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "kstatus"
    shutil.copytree(kstatus.SOURCE, copy)
    monkeypatch.setattr(kstatus, "SOURCE", copy)
    original = kstatus.source_digest()
    with (copy / "go.sum").open("a") as go_sum:
        go_sum.write("example.com/m v1.0.0 h1:AAAA=\n")
    bumped = kstatus.source_digest()
    (copy / "main.go").write_text((copy / "main.go").read_text() + "\n// edited\n")
    edited = kstatus.source_digest()
    assert len({original, bumped, edited}) == 3


def test_built_helper_is_cached_under_its_key(kstatus_binary: Path) -> None:
    assert kstatus_binary == kstatus.CACHE_ROOT / "tools" / f"kstatus-{kstatus.source_digest()}" / "kstatus"
    built = kstatus_binary.stat().st_mtime_ns
    assert kstatus.binary() == kstatus_binary
    assert kstatus_binary.stat().st_mtime_ns == built  # found, not rebuilt
