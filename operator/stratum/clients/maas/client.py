"""The MAAS region API 2.0 client: OAuth PLAINTEXT, form bodies with repeated keys, `?op=`
operations, retries (stratum.clients.retry), typed answers and errors."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from stratum.clients.errors import Backend
from stratum.clients.maas.auth import Signer
from stratum.clients.maas.config import MaasConfig
from stratum.clients.maas.errors import MaasNotFound, error_from_response
from stratum.clients.maas.models import BlockDevice, Machine, Partition, Raid, Tag
from stratum.clients.observe import RequestObserver, ignore_request
from stratum.clients.recording import PlannedRequest, Recorder, recorder_for
from stratum.clients.retry import RetryPolicy, ServerFault, Wording, send_with_retries
from stratum.clients.tlsfiles import RotatingTransport, ca_files

BACKEND = Backend.MAAS
Field = tuple[str, str | int]
Form = Sequence[Field]


def encode_form(fields: Form) -> tuple[str, bytes]:
    """application/x-www-form-urlencoded; lists are repeated keys."""
    return "application/x-www-form-urlencoded", urlencode([(k, str(v)) for k, v in fields]).encode()


def encode_multipart(fields: Form, boundary: str | None = None) -> tuple[str, bytes]:
    """multipart/form-data with one part per field (repeated names for lists), as the MAAS CLI
    sends it; MAAS reads both encodings the same way."""
    boundary = boundary or secrets.token_hex(16)
    chunks: list[bytes] = []
    for key, value in fields:
        chunks += [
            f"--{boundary}\r\n".encode(),
            f'Content-Disposition: form-data; name="{key}"\r\n\r\n'.encode(),
            str(value).encode(),
            b"\r\n",
        ]
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks)


def _many(name: str, values: Iterable[str | int]) -> list[Field]:
    return [(name, str(v)) for v in values]


class MaasClient:
    """One client per MAAS region. Paths are relative to `<MAAS_API_URL>/api/2.0/`."""

    def __init__(
        self,
        config: MaasConfig,
        *,
        retry: RetryPolicy | None = None,
        observer: RequestObserver = ignore_request,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.root = config.api_root
        self.retry = retry or RetryPolicy()
        self.observer = observer
        self._signer = Signer(config.api_key)
        limits = httpx.Limits(
            max_connections=config.max_connections, max_keepalive_connections=config.max_connections
        )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            headers={"Accept": "application/json,*/*;q=0.9"},
            # A replaced MAAS_CA_CERT is used for new connections without a restart.
            transport=transport or RotatingTransport(ca_files(config.ca_cert), limits=limits),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> MaasClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # ------------------------------------------------------------------------ transport

    async def request(
        self, method: str, path: str, *, op: str | None = None, query: Form = (), form: Form | None = None
    ) -> Any:
        """The decoded answer (JSON, text, or None for 204). MaasError subclasses for refusals,
        BackendUnavailable when MAAS does not answer or keeps failing with 5xx."""
        if (recorder := recorder_for(method)) is not None:
            return await self._plan(recorder, method, path, op, form)
        url = self.root + path
        params = tuple(([("op", op)] if op else []) + list(query))
        headers: dict[str, str] = {}
        content: bytes | None = None
        if method in ("POST", "PUT"):
            encode = encode_multipart if self.config.multipart else encode_form
            headers["Content-Type"], content = encode(form or ())
        wording = Wording(
            ambiguous=lambda last: (
                f"MAAS at {self._host} gave no usable answer to {method} {path} "
                f"({last}); the change may or may not have been applied"
            ),
            exhausted=lambda last: f"MAAS at {self._host} did not answer {method} {path} ({last})",
        )

        async def send() -> Any:
            headers["Authorization"] = self._signer.header(url)  # fresh nonce per attempt
            started = time.monotonic()
            try:
                response = await self._http.request(
                    method, url, params=params or None, content=content, headers=headers
                )
            except httpx.TransportError:
                self.observer(BACKEND.label, method, "unreachable", time.monotonic() - started)
                raise
            self.observer(BACKEND.label, method, str(response.status_code), time.monotonic() - started)
            if response.is_success:
                return _decode(response)
            if response.status_code >= 500:
                raise ServerFault(f"HTTP {response.status_code} {response.text[:200]}".strip())
            raise error_from_response(response, method, path)

        return await send_with_retries(self.retry, BACKEND, method, send, wording)

    async def _plan(
        self, recorder: Recorder, method: str, path: str, op: str | None, form: Form | None
    ) -> Any:
        """Plan mode (stratum.clients.recording): record the change instead of sending it.
        MAAS answers a change with the object as it is afterwards; the object as it is now
        stands in for it. A create (a POST without `op`) has no object yet and later steps would
        read it, so the pass stops there."""
        target = f"{path}?op={op}" if op else path
        planned = PlannedRequest(BACKEND.label, method, target, list(form or ()))
        if method == "DELETE":
            recorder.record(planned)
            return None
        if method == "POST" and op is None:
            recorder.stop(planned)
        before = await self._get_or_none(path)
        planned = replace(planned, before=before)
        if before is None:
            recorder.stop(planned)
        recorder.record(planned)
        return before

    @property
    def _host(self) -> str:
        return urlsplit(self.root).netloc

    async def _get_or_none(self, path: str) -> Any | None:
        try:
            return await self.request("GET", path)
        except MaasNotFound:
            return None

    # ------------------------------------------------------------------------ region

    async def version(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", "version/")
        return result

    # ------------------------------------------------------------------------ machines

    async def list_machines(
        self,
        *,
        hostname: str | None = None,
        system_ids: Sequence[str] = (),
        tags: Sequence[str] = (),
        pool: str | None = None,
        zone: str | None = None,
    ) -> list[Machine]:
        """GET machines/ with MAAS's own filters (api/machines.py, MachinesHandler.read through
        maasserver/forms/filters.py): every tag must match; pool and zone by name."""
        query: list[Field] = ([("hostname", hostname)] if hostname else []) + _many("id", system_ids)
        query += _many("tags", tags) + ([("pool", pool)] if pool else []) + ([("zone", zone)] if zone else [])
        return [Machine.model_validate(m) for m in await self.request("GET", "machines/", query=query)]

    async def get_machine(self, system_id: str) -> Machine | None:
        data = await self._get_or_none(f"machines/{system_id}/")
        return None if data is None else Machine.model_validate(data)

    # ------------------------------------------------------------------------ block devices

    async def list_block_devices(self, system_id: str) -> list[BlockDevice]:
        return [
            BlockDevice.model_validate(d)
            for d in await self.request("GET", f"nodes/{system_id}/blockdevices/")
        ]

    async def _device_op(self, system_id: str, device: int, op: str, form: Form = ()) -> BlockDevice:
        return BlockDevice.model_validate(
            await self.request("POST", f"nodes/{system_id}/blockdevices/{device}/", op=op, form=form)
        )

    async def format_block_device(
        self, system_id: str, device: int, fstype: str, *, uuid: str | None = None, label: str | None = None
    ) -> BlockDevice:
        form: list[Field] = [("fstype", fstype)]
        if uuid:
            form.append(("uuid", uuid))
        if label:
            form.append(("label", label))
        return await self._device_op(system_id, device, "format", form)

    async def unformat_block_device(self, system_id: str, device: int) -> BlockDevice:
        return await self._device_op(system_id, device, "unformat")

    async def mount_block_device(
        self, system_id: str, device: int, mount_point: str | None, *, mount_options: str | None = None
    ) -> BlockDevice:
        form: list[Field] = []
        if mount_point:
            form.append(("mount_point", mount_point))
        if mount_options:
            form.append(("mount_options", mount_options))
        return await self._device_op(system_id, device, "mount", form)

    async def unmount_block_device(self, system_id: str, device: int) -> BlockDevice:
        return await self._device_op(system_id, device, "unmount")

    # ------------------------------------------------------------------------ partitions

    async def create_partition(
        self, system_id: str, device: int, *, size: int | None = None, uuid: str | None = None
    ) -> Partition:
        """MAAS rounds `size` down to 4 MiB; without it the partition takes all free space."""
        form: list[Field] = []
        if size is not None:
            form.append(("size", size))
        if uuid:
            form.append(("uuid", uuid))
        return Partition.model_validate(
            await self.request("POST", f"nodes/{system_id}/blockdevices/{device}/partitions/", form=form)
        )

    async def delete_partition(self, system_id: str, device: int, partition: int) -> bool:
        """True when deleted, False when it was already gone. The detail path has no trailing
        slash (MAAS's urls_api.py partition route)."""
        try:
            await self.request("DELETE", f"nodes/{system_id}/blockdevices/{device}/partition/{partition}")
        except MaasNotFound:
            return False
        return True

    # ------------------------------------------------------------------------ tags

    async def get_tag(self, name: str) -> Tag | None:
        data = await self._get_or_none(f"tags/{name}/")
        return None if data is None else Tag.model_validate(data)

    async def create_tag(self, name: str, *, comment: str = "") -> Tag:
        form: list[Field] = [("name", name)]
        if comment:
            form.append(("comment", comment))
        return Tag.model_validate(await self.request("POST", "tags/", form=form))

    async def update_tag_nodes(
        self, name: str, *, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> dict[str, int]:
        """Add or remove machines (system ids) from a tag: `{"added": n, "removed": m}`."""
        form: list[Field] = [*_many("add", add), *_many("remove", remove)]
        result: dict[str, int] = await self.request("POST", f"tags/{name}/", op="update_nodes", form=form)
        return result

    # ------------------------------------------------------------------------ RAIDs

    async def list_raids(self, system_id: str) -> list[Raid]:
        return [Raid.model_validate(r) for r in await self.request("GET", f"nodes/{system_id}/raids/")]

    async def get_raid(self, system_id: str, raid: int | str) -> Raid | None:
        data = await self._get_or_none(f"nodes/{system_id}/raid/{raid}/")
        return None if data is None else Raid.model_validate(data)

    async def create_raid(
        self,
        system_id: str,
        *,
        name: str,
        level: str,
        uuid: str | None = None,
        block_devices: Sequence[int | str] = (),
        partitions: Sequence[int | str] = (),
        spare_devices: Sequence[int | str] = (),
        spare_partitions: Sequence[int | str] = (),
    ) -> Raid:
        """MAAS needs an explicit name (a blank one is refused), so it is required here."""
        form: list[Field] = [("name", name), ("level", level)]
        if uuid:
            form.append(("uuid", uuid))
        form += _many("block_devices", block_devices) + _many("partitions", partitions)
        form += _many("spare_devices", spare_devices) + _many("spare_partitions", spare_partitions)
        return Raid.model_validate(await self.request("POST", f"nodes/{system_id}/raids/", form=form))

    async def update_raid(
        self,
        system_id: str,
        raid: int,
        *,
        name: str | None = None,
        uuid: str | None = None,
        add_block_devices: Sequence[int | str] = (),
        remove_block_devices: Sequence[int | str] = (),
        add_spare_devices: Sequence[int | str] = (),
        remove_spare_devices: Sequence[int | str] = (),
        add_partitions: Sequence[int | str] = (),
        remove_partitions: Sequence[int | str] = (),
        add_spare_partitions: Sequence[int | str] = (),
        remove_spare_partitions: Sequence[int | str] = (),
    ) -> Raid:
        """One PUT. MAAS applies all removals first (each validated on its own), then the
        additions, then name/uuid, then validates the array once more."""
        form: list[Field] = []
        if name:
            form.append(("name", name))
        if uuid:
            form.append(("uuid", uuid))
        for field, values in (
            ("add_block_devices", add_block_devices),
            ("remove_block_devices", remove_block_devices),
            ("add_spare_devices", add_spare_devices),
            ("remove_spare_devices", remove_spare_devices),
            ("add_partitions", add_partitions),
            ("remove_partitions", remove_partitions),
            ("add_spare_partitions", add_spare_partitions),
            ("remove_spare_partitions", remove_spare_partitions),
        ):
            form += _many(field, values)
        return Raid.model_validate(await self.request("PUT", f"nodes/{system_id}/raid/{raid}/", form=form))

    async def delete_raid(self, system_id: str, raid: int) -> bool:
        """True when deleted, False when it was already gone."""
        try:
            await self.request("DELETE", f"nodes/{system_id}/raid/{raid}/")
        except MaasNotFound:
            return False
        return True


def _decode(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    if "json" in response.headers.get("content-type", ""):
        return response.json()
    return response.text
