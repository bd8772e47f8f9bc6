"""kopf settings, set explicitly: our own finalizer and annotation prefix, bounded timeouts,
a worker limit that protects the backends, and quiet event posting."""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf

PREFIX = "stratum.dev"
FINALIZER = f"{PREFIX}/finalizer"

# Read at import: the decorators need them. `stratum run` sets these from its flags.
DRIFT_INTERVAL = float(os.environ.get("STRATUM_DRIFT_INTERVAL", "60"))
WORKER_LIMIT = int(os.environ.get("STRATUM_WORKERS", "20"))


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
    settings.queueing.worker_limit = WORKER_LIMIT
    settings.execution.default_backoff = 15
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
    logging.getLogger("stratum").info("stratum operator started")
