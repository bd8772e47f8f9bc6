"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.kube import ControlPlane, Kube
from support.planes import running_plane


@pytest.fixture(scope="session")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """One real kube-apiserver + etcd for the whole run, with the CRDs installed."""
    with running_plane(Path(tmp_path_factory.mktemp("controlplane"))) as plane:
        yield plane


@pytest.fixture(scope="session")
def kube(controlplane: ControlPlane) -> Kube:
    return controlplane.kube


@pytest.fixture(scope="session")
def kstatus_binary() -> Path:
    """The kstatus helper (sigs.k8s.io/cli-utils), built or found in the cache once per run."""
    from support import kstatus

    return kstatus.binary()
