"""The kstatus helper is built (or found in the cache) once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import kstatus


@pytest.fixture(scope="session")
def kstatus_binary() -> Path:
    return kstatus.binary()
