"""One registration per kind: the same reconcile on create, update and resume (retried with
backoff by kopf) and in the kind's drift loop (recorded only), plus a finalizer-backed delete.
Registrations happen when `stratum run` has built its settings, never at import.

kopf adds the finalizer in a patch of its own before the first handler runs. That costs one
API-server write per object, and it is what makes deletion safe: the finalizer is on the object
before any backend object exists, so a delete that arrives during the first pass (or while the
operator is down right after it) still reaches the delete handler and leaves no orphan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import kopf

from stratum.api.crds import VERSION, Kind
from stratum.handlers import controls, drift
from stratum.handlers.conditions import get_condition
from stratum.handlers.logs import object_context
from stratum.handlers.runner import CONDITIONS, DriftReads, Pass, Superseded, run_pass
from stratum.handlers.runtime import KUBE, ClientKey, Closable, Runtime
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait

C = TypeVar("C", bound=Closable)
T = TypeVar("T")

# Outcomes that wait for another Stratum object; the pass runs again as soon as what it read
# of the other objects (kopf indexes) changes, instead of after a retry delay.
WAITS_FOR_OBJECTS = frozenset(
    {reasons.WAITING_FOR_RESOURCE_GROUP, reasons.WAITING_FOR_RESOURCE, reasons.WAITING_FOR_SNAPSHOT}
)
INDEX_POLL = 0.1
SUPERSEDED_RETRY = 1.0


@dataclass(frozen=True)
class Call:
    """What a handler invocation knows, for building one reconcile pass."""

    body: kopf.Body
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    memo: kopf.Memo
    indexes: Mapping[str, Any]
    looked_up: list[tuple[str, str, Any]] = field(default_factory=list)
    """Every index value a pass was built from, to notice when one changes."""
    written_versions: list[str] = field(default_factory=list)
    """The object's resourceVersions after each status write the pass made itself."""

    @property
    def name(self) -> str:
        return self.body.metadata.name or ""

    @property
    def uid(self) -> str:
        return self.body.metadata.uid or ""

    @property
    def resource_version(self) -> str:
        """The object's version as this pass knows it: as read, or as its own last write left it."""
        if self.written_versions:
            return self.written_versions[-1]
        return str(self.body.metadata.get("resourceVersion") or "")

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.memo["runtime"]
        return runtime

    def client(self, key: ClientKey[C]) -> C | None:
        return self.runtime.clients.get(key)

    def index(self, name: str, key: str, type_: type[T]) -> T | None:
        """The first value of an in-memory index of other objects (kopf.index), or None."""
        value = self._first(name, key)
        if value is not None and not isinstance(value, type_):
            raise TypeError(f"index {name} holds a {type(value).__name__}, not a {type_.__name__}")
        self.looked_up.append((name, key, value))
        return value

    def _first(self, name: str, key: str) -> Any:
        store = self.indexes[name].get(key)
        return next(iter(store), None) if store else None

    def inputs_changed(self) -> bool:
        """Whether an index value the pass was built from is different now (kopf's indexes are
        live views, updated as the other objects' events arrive)."""
        return any(self._first(name, key) != value for name, key, value in self.looked_up)


PassFactory = Callable[[Call], Pass]
Index = Callable[..., Mapping[str, Any]]
"""A kopf index function: (name, spec, status, ...) -> {key: value}."""


def register_index(kind: Kind, index_id: str, index: Index, registry: kopf.OperatorRegistry) -> None:
    """An index function, registered as a coroutine: kopf runs a plain function in its thread
    pool, a round trip on every event of every indexed object (~9% of the operator's CPU while
    objects are created). `stratum plan` calls the same function directly."""

    async def run(**kwargs: Any) -> Mapping[str, Any]:
        return index(**kwargs)

    kopf.index(*resource_of(kind), id=index_id, registry=registry)(run)


def waiting_for_objects(call: Call, reconcile: PassFactory) -> Callable[[Outcome], Awaitable[Pass | None]]:
    """For a change-driven pass: when it waits for another object, watch what it read of the
    other objects for up to `dependency_wait` seconds in all, and give the pass to run again
    once that changed (None: report the wait, kopf retries later)."""
    deadline = time.monotonic() + call.runtime.settings.dependency_wait
    current = call

    async def wait(outcome: Outcome) -> Pass | None:
        nonlocal current
        if outcome.reason not in WAITS_FOR_OBJECTS or not current.looked_up:
            return None
        while time.monotonic() < deadline:
            await asyncio.sleep(INDEX_POLL)
            if current.inputs_changed():
                current = replace(current, looked_up=[])
                return reconcile(current)
        return None

    return wait


def resource_of(kind: Kind) -> tuple[str, str, str]:
    return kind.group, VERSION, kind.plural


def register_all(
    indexes: Sequence[tuple[Kind, str, Index]],
    kinds: Sequence[tuple[Kind, PassFactory, PassFactory]],
    *,
    backend: str,
    settings: OperatorSettings,
    registry: kopf.OperatorRegistry,
    timer_interval: float | None = None,
) -> None:
    """A handler module's indexes and kinds, each kind with its reconcile and finalize pass."""
    for indexed, index_id, index in indexes:
        register_index(indexed, index_id, index, registry)
    for kind, reconcile, finalize in kinds:
        register_kind(
            kind,
            backend=backend,
            reconcile=reconcile,
            finalize=finalize,
            settings=settings,
            registry=registry,
            timer_interval=timer_interval,
        )


def register_kind(
    kind: Kind,
    *,
    backend: str,
    reconcile: PassFactory,
    finalize: PassFactory,
    settings: OperatorSettings,
    registry: kopf.OperatorRegistry,
    timer_interval: float | None = None,
) -> None:
    """`timer_interval` replaces the drift interval for a kind whose pass must also notice
    backend changes soon (a MachineRaidSet noticing a newly tagged machine)."""
    resource = resource_of(kind)
    interval = settings.drift_interval if timer_interval is None else timer_interval
    prefix = kind.singular

    async def on_change(
        *,
        body: kopf.Body,
        spec: kopf.Spec,
        status: kopf.Status,
        patch: kopf.Patch,
        memo: kopf.Memo,
        retry: int,
        **kwargs: Any,
    ) -> None:
        call = Call(body, spec, status, memo, kwargs)
        if controls.is_paused(body):
            controls.write_paused(patch, status, body.metadata.get("generation"), deleting=False)
            return

        def build(call: Call) -> Pass:
            return _pass(kind, call, reconcile)

        await _run(
            kind,
            backend,
            call,
            patch,
            build(call),
            retry=retry,
            raise_for_retry=True,
            wait_for_inputs=waiting_for_objects(call, build),
        )

    async def on_drift(
        body: kopf.Body, memo: kopf.Memo, indexes: Mapping[str, Any], listed_at: float
    ) -> drift.Checked | None:
        runtime: Runtime = memo["runtime"]
        if not drift.due(body, runtime, idle=settings.drift_idle, now=time.monotonic()):
            return None
        call = Call(body, body.spec, body.status, memo, indexes)
        patch = kopf.Patch()
        run = drift.unless_superseded(_pass(kind, call, reconcile), runtime, call.uid, listed_at)
        try:
            outcome = await _run(
                kind,
                backend,
                call,
                patch,
                run,
                retry=0,
                raise_for_retry=False,
                shared_reads=DriftReads(
                    interval,
                    since=listed_at,
                    before_writing=drift.still_current(
                        call.client(KUBE), kind, body, lambda: call.resource_version
                    ),
                ),
            )
        except Superseded:
            return None
        if outcome.actions:  # the backend had drifted from the spec
            runtime.metrics.drift_corrected(kind.kind)
        return drift.Checked(dict(patch.status), call.resource_version)

    async def on_delete(
        *,
        body: kopf.Body,
        spec: kopf.Spec,
        status: kopf.Status,
        patch: kopf.Patch,
        memo: kopf.Memo,
        retry: int,
        **kwargs: Any,
    ) -> None:
        call = Call(body, spec, status, memo, kwargs)
        if controls.is_paused(body):
            controls.write_paused(patch, status, body.metadata.get("generation"), deleting=True)
            raise kopf.TemporaryError(controls.PAUSED_MESSAGE, delay=settings.retry_delay(Wait.DELETION))
        run = controls.released_nothing if controls.is_observing(spec) else finalize(call)
        outcome = await _run(
            kind, backend, call, patch, run, retry=retry, raise_for_retry=True, deleting=True
        )
        if outcome.ready:
            call.runtime.forget(call.uid)
            call.runtime.metrics.object_state(kind.kind, call.uid, None)

    async def on_pause_toggled(body: kopf.Body, old: Any, new: Any, memo: kopf.Memo, **_: Any) -> None:
        if (old == "true") == (new == "true"):
            return
        paused = new == "true"
        runtime: Runtime = memo["runtime"]
        message = (
            controls.PAUSED_MESSAGE if paused else f"{controls.PAUSED_ANNOTATION} removed: reconciling again"
        )
        runtime.events.post(
            body, type="Normal", reason=reasons.PAUSED if paused else reasons.RESUMED, message=message
        )

    kopf.on.field(*resource, id=f"{prefix}_pause", field=controls.PAUSED_FIELD, registry=registry)(
        on_pause_toggled
    )
    kopf.on.resume(*resource, id=f"reconcile_{prefix}", registry=registry)(on_change)
    kopf.on.create(*resource, id=f"reconcile_{prefix}", registry=registry)(on_change)
    kopf.on.update(*resource, id=f"reconcile_{prefix}", registry=registry)(on_change)
    loop = drift.DriftLoop(kind, interval, on_drift)
    kopf.on.startup(id=f"{prefix}_drift", registry=registry)(loop.start)
    kopf.on.cleanup(id=f"{prefix}_drift", registry=registry)(loop.stop)
    kopf.on.delete(*resource, id=f"delete_{prefix}", registry=registry)(on_delete)


def _pass(kind: Kind, call: Call, reconcile: PassFactory) -> Pass:
    """The kind's pass as spec.managementPolicy says. Observe plans with adopt set, so an object
    Stratum did not create is observed too (nothing is written either way)."""
    if controls.is_observing(call.spec):
        return controls.observe(reconcile(replace(call, spec={**call.spec, "adopt": True})), kind.status)
    if call.status.get("differences") is not None:
        return controls.clearing_differences(reconcile(call), kind.status)
    return reconcile(call)


def register_startup(settings: OperatorSettings, registry: kopf.OperatorRegistry) -> None:
    """kopf's own settings, from ours."""

    async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        operator_settings.configure_kopf(settings)
        logging.getLogger("stratum").info("stratum operator started")

    operator_settings = settings
    kopf.on.startup(registry=registry)(configure)


async def _run(
    kind: Kind,
    backend: str,
    call: Call,
    patch: kopf.Patch,
    run: Pass,
    *,
    retry: int,
    raise_for_retry: bool,
    deleting: bool = False,
    shared_reads: DriftReads | None = None,
    wait_for_inputs: Callable[[Outcome], Awaitable[Pass | None]] | None = None,
) -> Outcome:
    metrics = call.runtime.metrics
    try:
        with object_context(kind.kind, call.name, call.uid), metrics.in_flight(kind.kind):
            return await run_pass(
                kind=kind.kind,
                status_model=kind.status,
                backend=backend,
                runtime=call.runtime,
                body=call.body,
                patch=patch,
                status=call.status,
                generation=call.body.metadata.get("generation"),
                retry=retry,
                run=run,
                raise_for_retry=raise_for_retry,
                deleting=deleting,
                shared_reads=shared_reads,
                wait_for_inputs=wait_for_inputs,
            )
    except Superseded as exc:
        if not raise_for_retry:
            raise
        # Nothing was written: kopf runs the handler again on the newer object.
        raise kopf.TemporaryError(f"{exc}; again on the newer object", delay=SUPERSEDED_RETRY) from exc
    finally:
        # Counted from the conditions as this pass leaves them (patched, else unchanged).
        conditions = patch.status.get(CONDITIONS) or call.status.get(CONDITIONS) or []
        degraded = get_condition(list(conditions), "Degraded") or {}
        metrics.object_degraded(kind.kind, call.uid, degraded.get("status") == "True")
