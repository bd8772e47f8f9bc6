"""Without MAAS_API_URL/MAAS_API_KEY the operator still starts and MachineRaids say what to set."""

from __future__ import annotations

import argparse

import kopf
import pytest

from stratum.api.maas import MachineRaidSpec
from stratum.cli import build_parser
from stratum.handlers import maas as handlers
from stratum.handlers.backends import open_clients
from stratum.handlers.metrics import Metrics
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile.maas.machineraid import RaidInputs, reconcile
from stratum.reconcile.maas.readytag import Sibling

SPEC = MachineRaidSpec.model_validate(
    {"machine": {"hostname": "n"}, "level": "raid-1", "devices": ["a", "b"]}
)


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


def settings(env: dict[str, str]) -> OperatorSettings:
    args: argparse.Namespace = build_parser().parse_args(["run"])
    return OperatorSettings.from_args(args, env)


async def test_unconfigured_maas_is_a_clear_condition(metrics: Metrics) -> None:
    env = {"LS_CONTROLLERS": "linstor://localhost"}
    clients = open_clients(settings(env), metrics)
    try:
        assert clients.get(handlers.CLIENT) is None
        run = handlers._pass(clients.get(handlers.CLIENT), env, SPEC, RaidInputs("x", "u"), reconcile)
        outcome = await run()
    finally:
        await clients.close()
    assert (outcome.ready, outcome.reason) == (False, "NotConfigured")
    assert outcome.message == "MAAS is not configured: set MAAS_API_URL and MAAS_API_KEY"


def test_a_malformed_key_is_named_without_its_value() -> None:
    env = {"MAAS_API_URL": "http://maas:5240/MAAS/", "MAAS_API_KEY": "not-a-key-s3cr3t"}
    outcome = handlers.not_configured(env)
    assert outcome.reason == "NotConfigured"
    assert outcome.message.startswith("MAAS is not configured: MAAS_API_KEY must have the form")
    assert "s3cr3t" not in outcome.message


async def test_configured_maas_gets_a_client(metrics: Metrics) -> None:
    env = {
        "MAAS_API_URL": "http://maas:5240/MAAS",
        "MAAS_API_KEY": "a:b:c",
        "LS_CONTROLLERS": "linstor://localhost",
    }
    clients = open_clients(settings(env), metrics)
    try:
        client = clients.get(handlers.CLIENT)
        assert client is not None and client.root == "http://maas:5240/MAAS/api/2.0/"
    finally:
        await clients.close()


def test_an_unreadable_ca_file_is_named() -> None:
    env = {
        "MAAS_API_URL": "https://maas:5443/MAAS/",
        "MAAS_API_KEY": "a:b:c",
        "MAAS_CA_CERT": "/no/such/ca.pem",
    }
    outcome = handlers.not_configured(env)
    assert outcome.reason == "NotConfigured" and "MAAS_CA_CERT /no/such/ca.pem" in outcome.message


def index_entry(spec: dict[str, object], status: dict[str, object], **meta: object) -> dict[str, Sibling]:
    body = kopf.Body({"metadata": {"name": "a", "uid": "uid-a", **meta}, "spec": spec, "status": status})
    return handlers.readytag_index("a", "uid-a", body.spec, body.status, body.meta)


def test_the_ready_tag_index_keys_by_machine_and_tag() -> None:
    spec = {"machine": {"hostname": "node-1"}, "readyTag": "t"}
    ready = {"conditions": [{"type": "Ready", "status": "True"}], "systemId": "abc123"}
    entry = index_entry(spec, ready)
    assert set(entry) == {"host:node-1/t", "sid:abc123/t"} and entry["sid:abc123/t"].ready
    deleting = index_entry(spec, ready, deletionTimestamp="2026-12-01T00:00:00Z")
    assert not deleting["host:node-1/t"].ready  # a MachineRaid being deleted no longer counts as Ready
    assert not index_entry(spec, {"systemId": "abc123"})["sid:abc123/t"].ready
    assert index_entry({"machine": {"systemId": "abc123"}}, ready) == {}
