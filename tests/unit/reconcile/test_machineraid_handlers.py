"""Without MAAS_API_URL/MAAS_API_KEY the operator still starts and MachineRaids say what to set."""

from __future__ import annotations

import pytest

from stratum.api.maas import MachineRaidSpec
from stratum.handlers import maas as handlers
from stratum.handlers.backends import open_clients
from stratum.handlers.metrics import Metrics
from stratum.reconcile.machineraid import RaidInputs, reconcile

SPEC = MachineRaidSpec.model_validate(
    {"machine": {"hostname": "n"}, "level": "raid-1", "devices": ["a", "b"]}
)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


async def test_unconfigured_maas_is_a_clear_condition(
    monkeypatch: pytest.MonkeyPatch, metrics: Metrics
) -> None:
    monkeypatch.delenv("MAAS_API_URL", raising=False)
    monkeypatch.delenv("MAAS_API_KEY", raising=False)
    monkeypatch.setenv("LS_CONTROLLERS", "linstor://localhost")
    clients = open_clients(metrics)
    try:
        assert "maas" not in clients
        run = handlers._pass(clients.get("maas"), SPEC, RaidInputs("x", "u"), reconcile)
        outcome = await run()
    finally:
        for client in clients.values():
            await client.close()
    assert (outcome.ready, outcome.reason) == (False, "NotConfigured")
    assert outcome.message == "MAAS is not configured: set MAAS_API_URL and MAAS_API_KEY"


def test_a_malformed_key_is_named_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAAS_API_URL", "http://maas:5240/MAAS/")
    monkeypatch.setenv("MAAS_API_KEY", "not-a-key-s3cr3t")
    outcome = handlers._not_configured()
    assert outcome.reason == "NotConfigured"
    assert outcome.message.startswith("MAAS is not configured: MAAS_API_KEY must have the form")
    assert "s3cr3t" not in outcome.message


async def test_configured_maas_gets_a_client(monkeypatch: pytest.MonkeyPatch, metrics: Metrics) -> None:
    monkeypatch.setenv("MAAS_API_URL", "http://maas:5240/MAAS")
    monkeypatch.setenv("MAAS_API_KEY", "a:b:c")
    monkeypatch.setenv("LS_CONTROLLERS", "linstor://localhost")
    clients = open_clients(metrics)
    try:
        assert clients["maas"].root == "http://maas:5240/MAAS/api/2.0/"
    finally:
        for client in clients.values():
            await client.close()
