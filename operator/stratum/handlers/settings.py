"""kopf settings, set explicitly: our own finalizer and annotation prefix, bounded timeouts,
a worker limit that protects the backends, and quiet event posting."""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf

PREFIX = "stratum.dev"
FINALIZER = f"{PREFIX}/finalizer"

# Read at import: the decorators need it. `stratum run` sets it from its flag.
DRIFT_INTERVAL = float(os.environ.get("STRATUM_DRIFT_INTERVAL", "60"))


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # Log lines are not mirrored to Events; the handlers post the Events users need.
    settings.posting.level = logging.WARNING
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    # No kopf worker limit: a worker holds its slot while it waits for the indexes, and the
    # indexes need workers to finish the initial listing, so a limit deadlocks a restart with many
    # objects; and idle workers keep their slot for idle_timeout, capping throughput at
    # limit/idle_timeout objects per second. The backends are protected by Runtime.backend_slots.
    settings.queueing.worker_limit = None
    settings.queueing.idle_timeout = 0.5
    settings.execution.default_backoff = 15
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
    logging.getLogger("stratum").info("stratum operator started")
