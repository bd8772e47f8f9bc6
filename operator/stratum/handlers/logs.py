"""Log output: text (default) or JSON lines (`stratum run --log-format json`).

Every line logged during a reconcile pass carries the object it is about (kind, name, uid):
the runner sets it in a context variable around the pass, so lines from the clients and the
reconcile modules, which know nothing of Kubernetes objects, carry it too. kopf's own lines about
an object carry it in `k8s_ref` (kopf: _core/actions/loggers.py, ObjectLogger), which is used
when no pass is running."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

OBJECT_FIELDS = ("kind", "name", "uid", "namespace")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_current_object: ContextVar[dict[str, str] | None] = ContextVar("stratum_log_object", default=None)


class LogFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"


@contextlib.contextmanager
def object_context(kind: str, name: str, uid: str) -> Iterator[None]:
    """Lines logged inside (in this task and the tasks it starts) are about this object."""
    token = _current_object.set({"kind": kind, "name": name, "uid": uid})
    try:
        yield
    finally:
        _current_object.reset(token)


def record_object(record: logging.LogRecord) -> dict[str, str]:
    """The object a line is about: the running pass's, else kopf's reference, else none."""
    current = _current_object.get()
    if current is not None:
        return current
    ref = getattr(record, "k8s_ref", None)
    if isinstance(ref, dict):
        return {key: str(ref[key]) for key in OBJECT_FIELDS if ref.get(key)}
    return {}


class ObjectFilter(logging.Filter):
    """Puts the object on the record (`record.k8s_object`) for the formatters."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.k8s_object = record_object(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, RFC 3339), level, logger, message, the object's
    kind/name/uid when there is one, and the traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "k8s_object", None) or record_object(record))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(log_format: LogFormat, *, verbose: bool) -> None:
    """The root handler for the whole process (kopf's loggers propagate to it)."""
    handler = logging.StreamHandler()
    handler.addFilter(ObjectFilter())
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Request lines of the HTTP libraries would repeat what the metrics count.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
