"""A pass whose object changed since it was read: the write that guards a rollback (its intent)
lands only on the version the pass read, the pass's own write moves that version on, and a
conflict stops the pass before the rollback is sent: a change handler runs again on the newer
object (kopf retry), a drift check is dropped."""

from __future__ import annotations

import time
from typing import Any

import kopf
import pytest
from fakes import Events, body, drift, group_kind, runtime

from stratum.api.linstor import RollbackSent
from stratum.clients.errors import Backend, BackendConflict
from stratum.clients.kubeobjects import KubeObjects
from stratum.clients.shared import SharedReads, SharedReadWrite, reading_shared
from stratum.handlers import linstor
from stratum.handlers.registration import Call
from stratum.handlers.runner import Pass, Superseded
from stratum.handlers.runtime import KUBE
from stratum.reconcile.outcome import Outcome

SENT = RollbackSent(request_id="1", snapshot="s1", sent_at="2026-12-01T00:00:00Z")


class Writer(KubeObjects):
    """An object at `version` that refuses a status write onto any other."""

    def __init__(self, version: str) -> None:  # (no connection)
        self.version = version
        self.writes: list[tuple[str | None, dict[str, Any]]] = []

    async def patch_status(
        self,
        api_version: str,
        plural: str,
        name: str,
        status: dict[str, Any],
        *,
        resource_version: str | None = None,
    ) -> str:
        if resource_version is not None and resource_version != self.version:
            raise BackendConflict(Backend.KUBERNETES, "lr/obj changed since it was read", status=409)
        self.writes.append((resource_version, status))
        self.version = str(int(self.version) + 1)
        return self.version

    async def close(self) -> None:
        pass


def call_on(version: str, writer: Writer) -> Call:
    rt = runtime()
    rt.clients.add(KUBE, writer)
    obj = kopf.Body({**body(), "metadata": {**body().metadata, "resourceVersion": version}})
    return Call(obj, {}, {}, kopf.Memo(runtime=rt), {})


async def test_the_intent_is_written_onto_the_version_read_and_moves_it_on() -> None:
    writer = Writer("7")
    call = call_on("7", writer)
    record = linstor._rollback_recorder(call)
    await record(SENT)
    assert call.resource_version == "8"  # the pass's own write: its final status goes onto 8
    await record(None)
    assert [v for v, _ in writer.writes] == ["7", "8"] and call.resource_version == "9"


async def test_an_intent_onto_a_changed_object_stops_the_pass() -> None:
    call = call_on("6", Writer("7"))  # someone wrote status after the pass read the object
    with pytest.raises(Superseded):
        await linstor._rollback_recorder(call)(SENT)
    assert call.written_versions == []


async def test_a_pass_on_shared_reads_writes_no_intent_but_runs_again_on_fresh_reads() -> None:
    """The intent is the rollback's first write: a drift pass decides on fresh reads (after it
    confirmed its object is as listed) before writing it, so its own intent never makes its
    object look changed to that confirmation."""
    writer = Writer("7")
    record = linstor._rollback_recorder(call_on("7", writer))
    with reading_shared(SharedReads(max_age=60)), pytest.raises(SharedReadWrite):
        await record(SENT)
    assert writer.writes == []


def superseded(call: Call) -> Pass:
    async def run() -> Outcome:
        raise Superseded("obj changed since it was read")

    return run


async def test_a_superseded_change_pass_is_retried_by_kopf_and_writes_nothing() -> None:
    handlers, _ = group_kind(superseded)
    patch = kopf.Patch()
    events = Events()
    rt = runtime(events)
    with pytest.raises(kopf.TemporaryError, match="again on the newer object"):
        await handlers["reconcile_resourcegroup/update"](
            body=body(), spec={}, status={}, patch=patch, memo=kopf.Memo(runtime=rt), retry=0
        )
    assert not patch.status
    assert events.posted == []


async def test_a_superseded_drift_check_is_dropped() -> None:
    _, check = group_kind(superseded)
    rt = runtime()
    memo = kopf.Memo(runtime=rt)
    rt.fresh_passes["uid-obj"] = float("-inf")
    assert await check(body(), memo, {}, time.monotonic()) is None
    with pytest.raises(AssertionError, match="skipped"):
        await drift(check, body(), memo)
