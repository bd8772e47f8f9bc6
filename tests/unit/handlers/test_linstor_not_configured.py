"""Without LS_CONTROLLERS (a MAAS-only install) the operator opens no LINSTOR client, and a LINSTOR
object says what to set instead of retrying against localhost. With it, the client has a
connection for every pass that may talk to LINSTOR at once."""

from __future__ import annotations

from typing import Any

import kopf
import pytest
from fakes import body, runtime

from stratum.cli import build_parser
from stratum.handlers import linstor
from stratum.handlers.backends import open_clients
from stratum.handlers.main import build_registry
from stratum.handlers.metrics import Metrics
from stratum.handlers.settings import OperatorSettings


async def test_no_controllers_opens_no_linstor_client() -> None:
    env = {"MAAS_API_URL": "http://maas:5240/MAAS/", "MAAS_API_KEY": "a:b:c"}
    clients = open_clients(OperatorSettings(env=env), Metrics())
    try:
        assert clients.get(linstor.CLIENT) is None
    finally:
        await clients.close()


async def test_a_resource_group_without_linstor_stalls_with_not_configured() -> None:
    (handler,) = [
        h
        for h in build_registry(OperatorSettings(), kopf.OperatorRegistry())._changing.get_all_handlers()
        if h.id == "reconcile_resourcegroup" and h.reason == "create"
    ]
    patch = kopf.Patch()
    rt = runtime()  # no LINSTOR client, as open_clients leaves it without LS_CONTROLLERS
    indexes: dict[str, Any] = {"resourcegroup_index": {}, "resource_index": {}, "snapshot_index": {}}
    with pytest.raises(kopf.TemporaryError):
        await handler.fn(
            body=body(name="rg1"),
            spec={"placement": {"placeCount": 1}},
            status={},
            patch=patch,
            memo=kopf.Memo(runtime=rt),
            retry=0,
            **indexes,
        )
    conditions = {c["type"]: c for c in patch.status["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", "NotConfigured")
    assert "set LS_CONTROLLERS" in conditions["Ready"]["message"]
    assert conditions["Stalled"]["status"] == "True"


@pytest.mark.parametrize(("flags", "workers"), [((), OperatorSettings.workers), (("--workers", "7"), 7)])
async def test_the_linstor_client_has_a_connection_for_every_worker(
    flags: tuple[str, ...], workers: int
) -> None:
    env = {"LS_CONTROLLERS": "linstor://controller"}
    settings = OperatorSettings.from_args(build_parser().parse_args(["run", *flags]), env)
    assert settings.workers == workers
    client = linstor.open_client(settings, Metrics().backend_request)
    assert client is not None
    try:
        assert client.config.max_connections == workers
    finally:
        await client.close()
