"""`stratum run`: the operator process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Coroutine
from typing import Any

Operate = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


def run_operator(args: argparse.Namespace) -> int:
    # The handler modules read these when they register their timers and limits.
    os.environ["STRATUM_DRIFT_INTERVAL"] = str(args.drift_interval)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0


async def _main(args: argparse.Namespace) -> None:
    import kopf

    from stratum.handlers import linstor, maas, settings  # noqa: F401 - registers the handlers
    from stratum.handlers.backends import open_clients
    from stratum.handlers.metrics import Metrics
    from stratum.handlers.runner import Runtime

    metrics = Metrics()
    if args.metrics_port:
        metrics.serve(args.metrics_port, args.metrics_host)
    runtime = Runtime(metrics=metrics, clients=open_clients(metrics), workers=args.workers)

    async def operate(stop: asyncio.Event | None = None) -> None:
        await kopf.operator(
            clusterwide=True,
            standalone=True,
            # Under leader election the process serves liveness itself, standby included.
            liveness_endpoint=None if args.lease_namespace else args.liveness,
            memo=kopf.Memo(runtime=runtime),
            stop_flag=stop,
        )

    try:
        if args.lease_namespace:
            await _run_elected(args, operate)
        else:
            await operate()
    finally:
        for client in runtime.clients.values():
            await client.close()


async def _run_elected(args: argparse.Namespace, operate: Operate) -> None:
    """Leader election: a standby answers liveness and stops on SIGTERM like the leader does."""
    from stratum.handlers.health import serve_health
    from stratum.handlers.lease import LeaseElector

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    identity = args.identity or f"{socket.gethostname()}-{os.getpid()}"
    elector = LeaseElector(namespace=args.lease_namespace, name=args.lease_name, identity=identity)
    health = await serve_health(args.liveness, lambda: "leader" if elector.leading else "standby")
    try:
        await elector.run(operate, stop)
    finally:
        if health is not None:
            await health.cleanup()
