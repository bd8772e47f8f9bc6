"""The LINSTOR REST client: controller failover, retries, typed answers and errors."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import httpx

from stratum.clients.errors import Backend, BackendError, BackendRefused
from stratum.clients.linstor import apicallrc
from stratum.clients.linstor.apicallrc import ApiCallRc, LinstorError, parse_answers
from stratum.clients.linstor.cache import LinstorSharedReads
from stratum.clients.linstor.config import LinstorConfig
from stratum.clients.linstor.models import (
    ControllerVersion,
    MaxVolumeSizes,
    Node,
    Resource,
    ResourceDefinition,
    ResourceGroup,
    Snapshot,
    VolumeGroup,
)
from stratum.clients.linstor.version import Controller, UnsupportedController
from stratum.clients.observe import RequestObserver, ignore_request
from stratum.clients.recording import PlannedRequest, Recorder, recorder_for
from stratum.clients.retry import RetryPolicy, ServerFault, Wording, send_with_retries
from stratum.clients.shared import guard_write
from stratum.clients.tlsfiles import RotatingTransport

BACKEND = Backend.LINSTOR
VERSION_PATH = "/v1/controller/version"
Params = dict[str, str | int | Sequence[str]]


class LinstorClient:
    """One client for all controllers in LS_CONTROLLERS; the first that answers is used until it
    stops answering (failover in order)."""

    def __init__(
        self,
        config: LinstorConfig,
        *,
        retry: RetryPolicy | None = None,
        observer: RequestObserver = ignore_request,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self.observer = observer
        self._active = 0
        self.shared = LinstorSharedReads(self.request)
        self._controller: Controller | None = None
        self._controller_read = asyncio.Lock()
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            headers={"Accept": "application/json", **config.extra_headers},
            transport=transport or RotatingTransport(config.tls_files(), limits=limits),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> LinstorClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------ transport

    async def request(
        self, method: str, path: str, *, json: Any = None, params: Params | None = None, raw: bool = False
    ) -> Any:
        """The decoded JSON answer (with `raw`: a successful answer's text, undecoded);
        LinstorError for an error answer, BackendUnavailable when no controller answers,
        UnsupportedController before any request to a controller whose REST API is too old (its
        version is read with the first request)."""
        if path != VERSION_PATH:
            controller = await self.controller()
            if not controller.supported:
                raise UnsupportedController(controller.refusal())
        if (recorder := recorder_for(method)) is not None:
            return await self._plan(recorder, method, path, json)
        guard_write(BACKEND, method, path)
        return await self._send(method, path, json=json, params=params, raw=raw)

    async def _send(
        self, method: str, path: str, *, json: Any = None, params: Params | None = None, raw: bool = False
    ) -> Any:
        controllers = self.config.controllers
        tried: list[str] = []
        wording = Wording(
            ambiguous=lambda last: (
                f"LINSTOR controller {tried[-1]}: {last}; the request may or may not have been applied"
            ),
            exhausted=lambda last: f"no LINSTOR controller answered ({tried[-1]}: {last})",
        )

        async def send() -> Any:
            base = controllers[self._active % len(controllers)]
            tried.append(base)
            started = time.monotonic()
            try:
                response = await self._http.request(method, base + path, json=json, params=params)
            except httpx.TransportError:
                self.observer(BACKEND.label, method, "unreachable", time.monotonic() - started)
                raise
            self.observer(BACKEND.label, method, str(response.status_code), time.monotonic() - started)
            return response.text if raw and response.is_success else _answer(response, method, path)

        def fail_over() -> None:
            self._active += 1

        return await send_with_retries(
            self.retry, BACKEND, method, send, wording, targets=len(controllers), on_unreachable=fail_over
        )

    async def _plan(self, recorder: Recorder, method: str, path: str, body: Any) -> Any:
        """Plan mode (stratum.clients.recording): record the change instead of sending it.
        LINSTOR answers a change with a list of messages; an empty one reads as success. A PUT
        reads what is at its path first, for the old values."""
        before = None
        if method == "PUT":
            with contextlib.suppress(BackendError):
                before = await self.request("GET", path)
        recorder.record(PlannedRequest(BACKEND.label, method, path, body, before))
        return []

    async def _get_one(self, path: str, *, missing: tuple[int, ...]) -> Any | None:
        try:
            return await self.request("GET", path)
        except LinstorError as exc:
            if exc.status == 404 or exc.has_code(*missing):
                return None
            raise

    async def _mutate(
        self, method: str, path: str, body: Any = None, params: Params | None = None
    ) -> list[ApiCallRc]:
        payload = await self.request(method, path, json=body, params=params)
        return parse_answers(payload) or []

    # ------------------------------------------------------------------------ controller

    async def version(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", VERSION_PATH)
        return result

    async def controller(self) -> Controller:
        """The controller's version and what it supports, read once per client (a controller
        upgrade restarts it, and the operator's connections with it)."""
        if self._controller is None:
            async with self._controller_read:  # passes starting together wait for one read
                if self._controller is None:
                    self._controller = Controller.of(ControllerVersion.model_validate(await self.version()))
        return self._controller

    async def list_nodes(self, names: Sequence[str] = ()) -> list[Node]:
        params: Params = {"nodes": list(names)} if names else {}
        return [Node.model_validate(i) for i in await self.request("GET", "/v1/nodes", params=params)]

    # ------------------------------------------------------------------------ resource groups

    async def list_resource_groups(self, names: Sequence[str] = ()) -> list[ResourceGroup]:
        params: Params = {"resource_groups": list(names)} if names else {}
        return [
            ResourceGroup.model_validate(i)
            for i in await self.request("GET", "/v1/resource-groups", params=params)
        ]

    async def get_resource_group(self, name: str) -> ResourceGroup | None:
        if hit := await self.shared.resource_group(name):
            return hit.value
        data = await self._get_one(f"/v1/resource-groups/{name}", missing=(apicallrc.FAIL_NOT_FOUND_RSC_GRP,))
        return None if data is None else ResourceGroup.model_validate(data)

    async def create_resource_group(
        self, name: str, *, description: str | None, select_filter: dict[str, Any]
    ) -> list[ApiCallRc]:
        body: dict[str, Any] = {"name": name, "select_filter": select_filter}
        if description is not None:
            body["description"] = description
        return await self._mutate("POST", "/v1/resource-groups", body)

    async def modify_resource_group(
        self,
        name: str,
        *,
        description: str | None = None,
        select_filter: dict[str, Any] | None = None,
        override_props: dict[str, str] | None = None,
        delete_props: Sequence[str] = (),
    ) -> list[ApiCallRc]:
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if select_filter is not None:
            body["select_filter"] = select_filter
        if override_props:
            body["override_props"] = override_props
        if delete_props:
            body["delete_props"] = list(delete_props)
        return await self._mutate("PUT", f"/v1/resource-groups/{name}", body)

    async def delete_resource_group(self, name: str) -> list[ApiCallRc]:
        return await self._mutate("DELETE", f"/v1/resource-groups/{name}")

    async def list_volume_groups(self, group: str) -> list[VolumeGroup]:
        async def fetch() -> list[VolumeGroup]:
            return [
                VolumeGroup.model_validate(i)
                for i in await self.request("GET", f"/v1/resource-groups/{group}/volume-groups")
            ]

        hit = await self.shared.volume_groups(group, fetch)
        return hit.value if hit else await fetch()

    async def create_volume_group(self, group: str, number: int, props: dict[str, str]) -> list[ApiCallRc]:
        body: dict[str, Any] = {"volume_number": number}
        if props:
            body["props"] = props
        return await self._mutate("POST", f"/v1/resource-groups/{group}/volume-groups", body)

    async def modify_volume_group(
        self, group: str, number: int, *, override_props: dict[str, str], delete_props: Sequence[str]
    ) -> list[ApiCallRc]:
        return await self._mutate(
            "PUT",
            f"/v1/resource-groups/{group}/volume-groups/{number}",
            {"override_props": override_props, "delete_props": list(delete_props)},
        )

    async def query_max_volume_size(self, group: str) -> MaxVolumeSizes:
        async def fetch() -> MaxVolumeSizes:
            return MaxVolumeSizes.model_validate(
                await self.request("GET", f"/v1/resource-groups/{group}/query-max-volume-size")
            )

        hit = await self.shared.max_volume_size(group, fetch)
        return hit.value if hit else await fetch()

    async def spawn(
        self,
        group: str,
        name: str,
        sizes_kib: Sequence[int],
        *,
        props: dict[str, str],
        definitions_only: bool = False,
    ) -> list[ApiCallRc]:
        body: dict[str, Any] = {
            "resource_definition_name": name,
            "volume_sizes": list(sizes_kib),
            "resource_definition_props": props,
        }
        if definitions_only:
            body["definitions_only"] = True
        return await self._mutate("POST", f"/v1/resource-groups/{group}/spawn", body)

    async def adjust_resource_group(self, name: str) -> list[ApiCallRc]:
        """Place the resources of every definition of the group as its select filter now asks
        (linstor-server ResourceGroups.java `adjustResourceGroup`)."""
        return await self._mutate("POST", f"/v1/resource-groups/{name}/adjust", {})

    # ------------------------------------------------------------------------ resource definitions

    async def list_resource_definitions(
        self, names: Sequence[str] = (), *, with_volume_definitions: bool = True
    ) -> list[ResourceDefinition]:
        if hit := await self.shared.resource_definitions(names):
            return hit.value  # (drift passes: with volume definitions, whatever was asked)
        params: Params = {"with_volume_definitions": str(with_volume_definitions).lower()}
        if names:
            params["resource_definitions"] = list(names)
        return [
            ResourceDefinition.model_validate(i)
            for i in await self.request("GET", "/v1/resource-definitions", params=params)
        ]

    async def get_resource_definition(self, name: str) -> ResourceDefinition | None:
        """The definition with its volume definitions, or None."""
        if hit := await self.shared.resource_definition(name):
            return hit.value
        found = await self.list_resource_definitions([name])
        return next((rd for rd in found if rd.name.lower() == name.lower()), None)

    async def create_resource_definition(
        self, name: str, *, group: str, props: dict[str, str]
    ) -> list[ApiCallRc]:
        body = {"resource_definition": {"name": name, "resource_group_name": group, "props": props}}
        return await self._mutate("POST", "/v1/resource-definitions", body)

    async def modify_resource_definition(
        self, name: str, *, override_props: dict[str, str], delete_props: Sequence[str] = ()
    ) -> list[ApiCallRc]:
        body: dict[str, Any] = {"override_props": override_props}
        if delete_props:
            body["delete_props"] = list(delete_props)
        return await self._mutate("PUT", f"/v1/resource-definitions/{name}", body)

    async def delete_resource_definition(self, name: str) -> list[ApiCallRc]:
        return await self._mutate("DELETE", f"/v1/resource-definitions/{name}")

    async def create_volume_definition(self, name: str, number: int, size_kib: int) -> list[ApiCallRc]:
        body = {"volume_definition": {"volume_number": number, "size_kib": size_kib}}
        return await self._mutate("POST", f"/v1/resource-definitions/{name}/volume-definitions", body)

    async def resize_volume_definition(self, name: str, number: int, size_kib: int) -> list[ApiCallRc]:
        return await self._mutate(
            "PUT", f"/v1/resource-definitions/{name}/volume-definitions/{number}", {"size_kib": size_kib}
        )

    # ------------------------------------------------------------------------ resources

    async def list_resources(
        self, resources: Sequence[str] = (), nodes: Sequence[str] = ()
    ) -> list[Resource]:
        """Resources with their volumes (the view endpoint), optionally filtered."""
        if not nodes and (hit := await self.shared.resources(resources)):
            return hit.value
        params: Params = {}
        if resources:
            params["resources"] = list(resources)
        if nodes:
            params["nodes"] = list(nodes)
        return [
            Resource.model_validate(i) for i in await self.request("GET", "/v1/view/resources", params=params)
        ]

    async def list_resources_of(self, definitions: Sequence[str], *, max_named: int) -> list[Resource]:
        """The resources of these definitions; with more than `max_named` of them, every resource
        (the query then names none: a URL has a length limit), so the caller picks its own. A
        drift pass gets exactly these from the shared list."""
        if hit := await self.shared.resources(definitions):
            return hit.value
        return await self.list_resources(definitions if len(definitions) <= max_named else ())

    async def create_resource(
        self, name: str, node: str, *, diskless: bool, props: dict[str, str] | None = None
    ) -> list[ApiCallRc]:
        resource: dict[str, Any] = {"node_name": node}
        if diskless:
            resource["flags"] = ["DRBD_DISKLESS"]
        if props:
            resource["props"] = props
        return await self._mutate(
            "POST", f"/v1/resource-definitions/{name}/resources/{node}", {"resource": resource}
        )

    async def toggle_disk(
        self, name: str, node: str, *, diskful: bool, pool: str | None = None
    ) -> list[ApiCallRc]:
        # The path form is what every released controller and python-linstor understand.
        target = "diskful" if diskful else "diskless"
        suffix = f"/{pool}" if pool else ""
        return await self._mutate(
            "PUT", f"/v1/resource-definitions/{name}/resources/{node}/toggle-disk/{target}{suffix}"
        )

    async def modify_resource(
        self, name: str, node: str, *, override_props: dict[str, str], delete_props: Sequence[str] = ()
    ) -> list[ApiCallRc]:
        body: dict[str, Any] = {"override_props": override_props}
        if delete_props:
            body["delete_props"] = list(delete_props)
        return await self._mutate("PUT", f"/v1/resource-definitions/{name}/resources/{node}", body)

    async def autoplace(self, name: str, select_filter: dict[str, Any] | None = None) -> list[ApiCallRc]:
        return await self._mutate(
            "POST", f"/v1/resource-definitions/{name}/autoplace", {"select_filter": select_filter or {}}
        )

    async def delete_resource(self, name: str, node: str) -> list[ApiCallRc]:
        return await self._mutate("DELETE", f"/v1/resource-definitions/{name}/resources/{node}")

    # ------------------------------------------------------------------------ snapshots

    async def list_snapshots(self, resource: str) -> list[Snapshot]:
        try:
            data = await self.request("GET", f"/v1/resource-definitions/{resource}/snapshots")
        except LinstorError as exc:
            if exc.status == 404:
                return []
            raise
        return [Snapshot.model_validate(i) for i in data]

    async def get_snapshot(self, resource: str, name: str) -> Snapshot | None:
        if hit := await self.shared.snapshot(resource, name):
            return hit.value
        data = await self._get_one(
            f"/v1/resource-definitions/{resource}/snapshots/{name}",
            missing=(apicallrc.FAIL_NOT_FOUND_SNAPSHOT, apicallrc.FAIL_NOT_FOUND_RSC_DFN),
        )
        return None if data is None else Snapshot.model_validate(data)

    async def create_snapshot(self, resource: str, name: str, *, props: dict[str, str]) -> list[ApiCallRc]:
        body: dict[str, Any] = {"name": name}
        if props:
            body["snapshot_definition_props"] = props
        return await self._mutate("POST", f"/v1/resource-definitions/{resource}/snapshots", body)

    async def delete_snapshot(self, resource: str, name: str) -> list[ApiCallRc]:
        return await self._mutate("DELETE", f"/v1/resource-definitions/{resource}/snapshots/{name}")

    async def restore_volume_definitions(self, resource: str, snapshot: str, target: str) -> list[ApiCallRc]:
        return await self._mutate(
            "POST",
            f"/v1/resource-definitions/{resource}/snapshot-restore-volume-definition/{snapshot}",
            {"to_resource": target},
        )

    async def restore_resources(self, resource: str, snapshot: str, target: str) -> list[ApiCallRc]:
        return await self._mutate(
            "POST",
            f"/v1/resource-definitions/{resource}/snapshot-restore-resource/{snapshot}",
            {"to_resource": target},
        )

    async def rollback(self, resource: str, snapshot: str) -> list[ApiCallRc]:
        return await self._mutate("POST", f"/v1/resource-definitions/{resource}/snapshot-rollback/{snapshot}")


def _answer(response: httpx.Response, method: str, path: str) -> Any:
    payload = _json(response)
    if response.is_success:
        return payload
    answers = parse_answers(payload)
    if answers is not None and any(a.is_error for a in answers):
        error = LinstorError(response.status_code, answers)
        if error.has_code(apicallrc.FAIL_UNKNOWN_ERROR):
            # An unhandled controller exception is not about the request: worth another try
            # when repeating the request changes nothing.
            raise ServerFault(error.message, error)
        raise error
    if response.status_code >= 500:
        # A server fault without an answer list (proxy, crash).
        raise ServerFault(f"HTTP {response.status_code} {response.text[:200]}")
    raise BackendRefused(
        BACKEND,
        f"LINSTOR {method} {path}: HTTP {response.status_code} {response.text[:300]}",
        status=response.status_code,
    )


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
