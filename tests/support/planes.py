"""Real control planes (kube-apiserver + etcd) with the CRDs installed, for the session or a module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from support.kube import ControlPlane


@contextmanager
def running_plane(directory: Path) -> Iterator[ControlPlane]:
    """A control plane started in `directory` with the CRDs installed; stopped on exit."""
    plane = ControlPlane.start(directory)
    try:
        plane.install_crds()
        yield plane
    finally:
        plane.stop()


def own_plane(name: str) -> Callable[..., Iterator[ControlPlane]]:
    """A module-scoped `plane` fixture: a control plane of its own, so the session's operator
    never reconciles the module's objects. Use as `plane = own_plane("rotation-plane")`."""

    @pytest.fixture(scope="module")
    def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
        with running_plane(Path(tmp_path_factory.mktemp(name))) as started:
            yield started

    return plane
