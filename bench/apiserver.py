"""The benchmark's own API-server client (no kubectl processes: they would steal CPU from the
operator) and the API server's request counters, with the benchmark's own requests taken out."""

from __future__ import annotations

import base64
import json
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

GROUPS = ("linstor.stratum.dev", "maas.stratum.dev")
VERSION = "v1alpha1"


@dataclass(frozen=True)
class Kind:
    kind: str
    group: str
    plural: str

    @property
    def path(self) -> str:
        return f"/apis/{self.group}/{VERSION}/{self.plural}"


RESOURCE_GROUP = Kind("ResourceGroup", "linstor.stratum.dev", "resourcegroups")
RESOURCE = Kind("Resource", "linstor.stratum.dev", "resources")
MACHINE_RAID = Kind("MachineRaid", "maas.stratum.dev", "machineraids")
KINDS = (RESOURCE_GROUP, RESOURCE, MACHINE_RAID)
BY_KIND = {k.kind: k for k in KINDS}

_SAMPLE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LONGRUNNING = re.compile(r"^apiserver_longrunning_requests\{(?P<labels>[^}]*)\} (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')
# The verbs as apiserver_request_total labels them (a create is POST, an update PUT).
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
RETRY_SECONDS = 60.0
WRITE_VERBS = frozenset({"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"})
READ_VERBS = frozenset({"GET", "LIST", "WATCH"})
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


class ApiServer:
    def __init__(self, kubeconfig: Path) -> None:
        config = json.loads(kubeconfig.read_text())
        cluster = config["clusters"][0]["cluster"]
        token = config["users"][0]["user"]["token"]
        self._ca = tempfile.NamedTemporaryFile(suffix=".crt", delete=False)  # noqa: SIM115 - lives as long as self
        self._ca.write(base64.b64decode(cluster["certificate-authority-data"]))
        self._ca.close()
        self.server = cluster["server"]
        self._token = token
        self.http = httpx.Client(
            base_url=cluster["server"],
            headers={"Authorization": f"Bearer {token}"},
            verify=self._ca.name,
            timeout=120,
            limits=httpx.Limits(max_connections=16),
        )
        # Requests this script made to the Stratum kinds, by verb, to subtract from the server's counts.
        self.own: Counter[str] = Counter()
        self._own_lock = threading.Lock()  # create_all counts from several threads

    def async_client(self, connections: int) -> httpx.AsyncClient:
        """An asyncio client to the same server as the same user (for concurrent writes)."""
        return httpx.AsyncClient(
            base_url=self.server,
            headers={"Authorization": f"Bearer {self._token}"},
            verify=self._ca.name,
            timeout=120,
            limits=httpx.Limits(max_connections=connections),
        )

    def events(self) -> list[dict[str, Any]]:
        """Every Event in the cluster (all namespaces)."""
        response, _ = self._send("LIST", "GET", "/api/v1/events")
        response.raise_for_status()
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def close(self) -> None:
        self.http.close()
        Path(self._ca.name).unlink(missing_ok=True)

    def _count(self, verb: str) -> None:
        with self._own_lock:
            self.own[verb] += 1

    def _send(
        self,
        verb: str,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        *,
        retry_seconds: float = RETRY_SECONDS,
    ) -> tuple[httpx.Response, int]:
        """One of this script's requests, counted as the server counts it, and sent again while the
        server answers 429 or 5xx (a loaded API server sheds load with 429, and right after the
        CRDs are installed it may still answer "storage is (re)initializing"): a benchmark must
        not die of the load it creates. Returns the last answer and the number of attempts."""
        deadline = time.monotonic() + retry_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                # A long answer cut off by a loaded server can itself outlast the deadline.
                if time.monotonic() > deadline and attempt >= 3:
                    raise
            else:
                self._count(verb)
                if response.status_code not in RETRY_STATUS or time.monotonic() > deadline:
                    return response, attempt
            time.sleep(min(2.0, 0.2 * attempt))

    def list_objects(self, kind: Kind) -> list[dict[str, Any]]:
        return self.list_with_version(kind)[0]

    def list_with_version(self, kind: Kind) -> tuple[list[dict[str, Any]], str]:
        """The objects and the list's resourceVersion (where a watch of later changes starts)."""
        response, _ = self._send("LIST", "GET", kind.path)
        response.raise_for_status()
        body = response.json()
        items: list[dict[str, Any]] = body["items"]
        return items, str(body["metadata"]["resourceVersion"])

    def watch(self, kind: Kind, resource_version: str, seconds: int) -> Iterator[dict[str, Any]]:
        """The events of one WATCH from `resource_version`, which the server ends after `seconds`
        (counted as this script's own request, as the server counts it once it ends)."""
        params = {
            "watch": "1",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(seconds),
            "allowWatchBookmarks": "true",
        }
        self._count("WATCH")
        with self.http.stream("GET", kind.path, params=params, timeout=seconds + 30) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)

    def watched_kinds(self) -> list[Kind]:
        """Every Stratum kind whose CRD is installed: the operator watches them all."""
        response = self.http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        response.raise_for_status()
        return [
            Kind(crd["spec"]["names"]["kind"], crd["spec"]["group"], crd["spec"]["names"]["plural"])
            for crd in response.json()["items"]
            if crd["spec"]["group"] in GROUPS
        ]

    def ready_column(self, kind: Kind) -> dict[str, str]:
        """{name: the Ready column} for every object of a kind, as `kubectl get` gets it: the
        server's Table rendering of the CRD's printer columns, without the objects. A LIST of
        11,100 whole objects is ~44 MB of JSON, and parsing it every poll took most of a core
        (measured at xl); the table is ~1 MB."""
        response, _ = self._send("LIST", "GET", f"{kind.path}?includeObject=None", headers={"Accept": TABLE})
        response.raise_for_status()
        table = response.json()
        columns = [c["name"] for c in table["columnDefinitions"]]
        name, ready = columns.index("Name"), columns.index("Ready")
        return {row["cells"][name]: row["cells"][ready] or "" for row in table.get("rows") or []}

    def list_response(self, kind: Kind) -> httpx.Response:
        """One LIST as the server answers it (for waiting until it answers 200)."""
        self._count("LIST")
        return self.http.get(kind.path)

    def create_all(
        self,
        objects: list[dict[str, Any]],
        workers: int = 8,
        on_created: Callable[[int], None] | None = None,
    ) -> None:
        """POST every object, a few at a time (as `kubectl apply` of a big file would, but faster);
        `on_created` gets the running count."""

        def create(obj: dict[str, Any]) -> None:
            response, attempts = self._send("POST", "POST", BY_KIND[obj["kind"]].path, obj)
            # 409 after a retry: an earlier attempt that answered 5xx was committed after all.
            if response.status_code == 201 or (response.status_code == 409 and attempts > 1):
                return
            raise RuntimeError(f"creating {obj['metadata']['name']}: {response.status_code} {response.text}")

        with ThreadPoolExecutor(workers) as pool:
            for created, _ in enumerate(pool.map(create, objects), start=1):
                if on_created is not None:
                    on_created(created)

    def delete_all(self, kind: Kind, retry_seconds: float = RETRY_SECONDS) -> None:
        """Every object of a kind. The server deletes a collection one object at a time and gives
        up on the request after its 60 s timeout (10,000 Resources at xl, with the operator busy):
        each attempt gets further, so it is sent again for up to `retry_seconds`."""
        self._send("DELETECOLLECTION", "DELETE", kind.path, retry_seconds=retry_seconds)[0].raise_for_status()

    def watched_now(self) -> set[str]:
        """The Stratum kinds (plurals) with a WATCH open (`apiserver_longrunning_requests`)."""
        text = self.http.get("/metrics").text
        watched = set()
        for line in text.splitlines():
            match = _LONGRUNNING.match(line)
            if not match or float(match["value"]) <= 0:
                continue
            labels = dict(_LABEL.findall(match["labels"]))
            if labels.get("group") in GROUPS and labels.get("verb") == "WATCH":
                watched.add(labels.get("resource", ""))
        return watched

    def request_counts(self) -> Counter[str]:
        """apiserver_request_total for the Stratum kinds (`kinds:VERB`) and Events (`events:VERB`)."""
        text = self.http.get("/metrics").text
        counts: Counter[str] = Counter()
        for line in text.splitlines():
            match = _SAMPLE.match(line)
            if not match:
                continue
            labels = dict(_LABEL.findall(match["labels"]))
            if labels.get("group") in GROUPS:
                key = "kinds"
            elif labels.get("resource") == "events":
                key = "events"
            else:
                continue
            counts[f"{key}:{labels.get('verb', '')}"] += int(float(match["value"]))
        return counts


@dataclass
class RequestSnapshot:
    server: Counter[str]
    own: Counter[str]

    @classmethod
    def take(cls, api: ApiServer) -> RequestSnapshot:
        return cls(api.request_counts(), Counter(api.own))


def operator_requests(api: ApiServer, before: RequestSnapshot) -> dict[str, int]:
    """The operator's requests since `before`: the server's counts minus this script's own,
    as {`kinds:VERB`/`events:VERB`: n} plus `reads` and `writes` totals."""
    after = RequestSnapshot.take(api)
    diff: Counter[str] = Counter()
    for key in set(after.server) | set(before.server):
        diff[key] = after.server[key] - before.server[key]
    for verb in set(after.own) | set(before.own):
        diff[f"kinds:{verb}"] -= after.own[verb] - before.own[verb]
    out = {k: v for k, v in sorted(diff.items()) if v}
    out["reads"] = sum(v for k, v in diff.items() if k.split(":")[1] in READ_VERBS)
    out["writes"] = sum(v for k, v in diff.items() if k.split(":")[1] in WRITE_VERBS)
    return out
