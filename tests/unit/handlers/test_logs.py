"""Log lines: JSON lines with time, level, logger and message; lines logged during a pass carry
its object (also from tasks it starts); kopf's per-object lines carry theirs; text stays the
default and unchanged."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import kopf
import pytest
from kopf._core.actions.loggers import ObjectLogger  # kopf's per-object logger, as its handlers get it

from stratum.handlers.logs import LogFormat, configure_logging, object_context


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging(LogFormat.JSON, verbose=False)
    stream = io.StringIO()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:], level = saved
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_lines_of_a_pass_carry_its_object(captured: io.StringIO) -> None:
    log = logging.getLogger("stratum.clients.something")
    log.info("before")
    with object_context("Resource", "r1", "uid-1"):
        log.warning("during %s", "the pass")

        async def helper() -> None:
            logging.getLogger("stratum.reconcile").info("in a task the pass started")

        await asyncio.create_task(helper())
    log.info("after")
    before, during, task, after = lines(captured)
    assert set(before) == {"time", "level", "logger", "message"}
    assert before["time"].endswith("+00:00") and before["level"] == "INFO"
    assert during == {
        "time": during["time"],
        "level": "WARNING",
        "logger": "stratum.clients.something",
        "message": "during the pass",
        "kind": "Resource",
        "name": "r1",
        "uid": "uid-1",
    }
    assert (task["kind"], task["name"], task["uid"]) == ("Resource", "r1", "uid-1")
    assert "kind" not in after


def test_kopfs_object_lines_carry_their_object(captured: io.StringIO) -> None:
    obj = kopf.Body(
        {
            "apiVersion": "maas.stratum.dev/v1alpha1",
            "kind": "MachineRaid",
            "metadata": {"name": "m1", "uid": "u9"},
        }
    )
    ObjectLogger(body=obj, settings=kopf.OperatorSettings()).info("Handler 'reconcile' succeeded.")
    (line,) = lines(captured)
    assert (line["kind"], line["name"], line["uid"], line["logger"]) == (
        "MachineRaid",
        "m1",
        "u9",
        "kopf.objects",
    )
    assert "namespace" not in line  # cluster-scoped


def test_an_exception_is_one_json_line(captured: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("stratum").exception("failed")
    (line,) = lines(captured)
    assert line["message"] == "failed" and "ValueError: boom" in line["exception"]


def test_text_is_the_default_format() -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(LogFormat.TEXT, verbose=True)
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        with object_context("Resource", "r1", "uid-1"):
            logging.getLogger("stratum").debug("plain")
        assert stream.getvalue().rstrip().endswith(" DEBUG stratum: plain")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
