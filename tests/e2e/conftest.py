"""The operator, both simulators and the real control plane, once per test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stratum.sim.linstor import LinstorSim
from stratum.sim.maas import MaasSim
from support.kube import ControlPlane
from support.operator import OperatorProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder needs the real control plane: mark it `e2e` (`-m "not e2e"`)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def linstor_sim() -> Iterator[LinstorSim]:
    with LinstorSim(seed=ROOT / "examples" / "seeds" / "linstor.yaml") as sim:
        yield sim


@pytest.fixture(scope="session")
def maas_sim() -> Iterator[MaasSim]:
    with MaasSim(seed=ROOT / "examples" / "seeds" / "maas.yaml") as sim:
        yield sim


@pytest.fixture(scope="session")
def operator(
    controlplane: ControlPlane,
    linstor_sim: LinstorSim,
    maas_sim: MaasSim,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatorProcess]:
    env = {
        "LS_CONTROLLERS": linstor_sim.controller_uri,
        "MAAS_API_URL": maas_sim.maas_url,
        "MAAS_API_KEY": maas_sim.api_key,
    }
    proc = OperatorProcess(
        controlplane.kube.kubeconfig,
        Path(tmp_path_factory.mktemp("operator")),
        env,
        args=("--drift-interval", "5", "--metrics-port", str(free_port()), "--metrics-host", "127.0.0.1"),
    )
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(autouse=True)
def _operator_log_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "operator" in request.fixturenames:
        proc: OperatorProcess = request.getfixturevalue("operator")
        print(f"\n--- operator log ({proc.log_path}) ---\n{proc.tail()}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
