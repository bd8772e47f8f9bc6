"""One registration per kind: the same reconcile on create, update and resume (retried with
backoff by kopf) and on the drift timer (recorded only), plus a finalizer-backed delete.
Registrations happen when `stratum run` has built its settings, never at import."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import kopf

from stratum.api.crds import VERSION, Kind
from stratum.handlers import controls
from stratum.handlers.conditions import get_condition
from stratum.handlers.logs import object_context
from stratum.handlers.runner import CONDITIONS, Pass, run_pass
from stratum.handlers.runtime import ClientKey, Closable, Runtime
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome, Wait

C = TypeVar("C", bound=Closable)
T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """What a handler invocation knows, for building one reconcile pass."""

    body: kopf.Body
    spec: Mapping[str, Any]
    status: Mapping[str, Any]
    memo: kopf.Memo
    indexes: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.body.metadata.name or ""

    @property
    def uid(self) -> str:
        return self.body.metadata.uid or ""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.memo["runtime"]
        return runtime

    def client(self, key: ClientKey[C]) -> C | None:
        return self.runtime.clients.get(key)

    def index(self, name: str, key: str, type_: type[T]) -> T | None:
        """The first value of an in-memory index of other objects (kopf.index), or None."""
        store = self.indexes[name].get(key)
        value = next(iter(store), None) if store else None
        if value is not None and not isinstance(value, type_):
            raise TypeError(f"index {name} holds a {type(value).__name__}, not a {type_.__name__}")
        return value


PassFactory = Callable[[Call], Pass]
Index = Callable[..., Mapping[str, Any]]
"""A kopf index function: (name, spec, status, ...) -> {key: value}."""


def resource_of(kind: Kind) -> tuple[str, str, str]:
    return kind.group, VERSION, kind.plural


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
        await _run(
            kind, backend, call, patch, _pass(kind, call, reconcile), retry=retry, raise_for_retry=True
        )

    async def on_timer(
        *,
        body: kopf.Body,
        spec: kopf.Spec,
        status: kopf.Status,
        patch: kopf.Patch,
        memo: kopf.Memo,
        **kwargs: Any,
    ) -> None:
        call = Call(body, spec, status, memo, kwargs)
        if controls.is_paused(body):
            controls.write_paused(patch, status, body.metadata.get("generation"), deleting=False)
            return
        outcome = await _run(
            kind, backend, call, patch, _pass(kind, call, reconcile), retry=0, raise_for_retry=False
        )
        if outcome.actions:  # the backend had drifted from the spec
            call.runtime.metrics.drift_corrected(kind.kind)

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
    kopf.timer(
        *resource,
        id=f"{prefix}_drift",
        interval=interval,
        initial_delay=interval,
        idle=settings.drift_idle,
        registry=registry,
    )(on_timer)
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
            )
    finally:
        # Counted from the conditions as this pass leaves them (patched, else unchanged).
        conditions = patch.status.get(CONDITIONS) or call.status.get(CONDITIONS) or []
        degraded = get_condition(list(conditions), "Degraded") or {}
        metrics.object_degraded(kind.kind, call.uid, degraded.get("status") == "True")
