"""`stratum run`: the operator process. The settings are built once, then the handlers are
registered with them, then kopf runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import kopf

from stratum.clients.kube import EventClient, KubeConnection
from stratum.handlers import linstor, linstor_backup, maas, maas_set
from stratum.handlers.backends import open_clients
from stratum.handlers.events import KubeEvents
from stratum.handlers.login import register_login
from stratum.handlers.logs import configure_logging
from stratum.handlers.metrics import Metrics
from stratum.handlers.registration import register_startup
from stratum.handlers.runtime import Runtime
from stratum.handlers.settings import OperatorSettings
from stratum.handlers.toggles import install as install_flip_toggles

Operate = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def build_registry(
    settings: OperatorSettings, registry: kopf.OperatorRegistry | None = None
) -> kopf.OperatorRegistry:
    """Every kopf handler of the operator, registered with these settings, in kopf's default
    registry. Our login replaces kopf's fallback logins (it reads a rotated token again)."""
    registry = registry or kopf.get_default_registry()
    register_login(registry, settings.service_account_dir, settings.api_connections)
    register_startup(settings, registry)
    linstor.register(settings, registry)
    linstor_backup.register(settings, registry)
    maas.register(settings, registry)
    maas_set.register(settings, registry)
    return registry


def run_operator(settings: OperatorSettings) -> int:
    configure_logging(settings.log_format, verbose=settings.verbose)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(settings))
    return 0


async def _main(settings: OperatorSettings) -> None:
    install_flip_toggles()
    metrics = Metrics()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_host)
    identity = settings.identity or f"{socket.gethostname()}-{os.getpid()}"
    events = KubeEvents(
        EventClient(KubeConnection.load(settings.service_account_dir)),
        component=settings.event_component,
        instance=identity,
        cluster_namespace=settings.event_namespace,
        count=metrics.event,
    )
    runtime = Runtime(
        settings=settings, metrics=metrics, events=events, clients=open_clients(settings, metrics)
    )
    registry = build_registry(settings)

    async def operate(stop: asyncio.Event | None = None) -> None:
        await kopf.operator(
            registry=registry,
            clusterwide=True,
            standalone=True,
            # Under leader election the process serves liveness itself, standby included.
            liveness_endpoint=None if settings.lease_namespace else settings.liveness,
            memo=kopf.Memo(runtime=runtime),
            stop_flag=stop,
        )

    events.start()
    try:
        if settings.lease_namespace:
            await _run_elected(settings, identity, metrics, operate)
        else:
            metrics.set_leader(True)
            await operate()
    finally:
        await runtime.clients.close()
        await events.close()


async def _run_elected(settings: OperatorSettings, identity: str, metrics: Metrics, operate: Operate) -> None:
    """Leader election: a standby answers liveness and stops on SIGTERM like the leader does."""
    from stratum.handlers.health import serve_health
    from stratum.handlers.lease import LeaseElector

    assert settings.lease_namespace is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    elector = LeaseElector(
        namespace=settings.lease_namespace,
        name=settings.lease_name,
        identity=identity,
        lease_seconds=settings.lease_seconds,
        renew_every=settings.lease_renew_every,
        renew_deadline=settings.lease_renew_deadline,
        on_leading=metrics.set_leader,
        service_account=settings.service_account_dir,
    )
    health = await serve_health(settings.liveness, lambda: "leader" if elector.leading else "standby")
    try:
        await elector.run(operate, stop)
    finally:
        if health is not None:
            await health.cleanup()
