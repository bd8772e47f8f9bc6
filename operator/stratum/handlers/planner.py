"""`stratum plan -f FILE...`: the backend changes the operator would make for these manifests.

Each object goes through its kind's own reconcile pass (the one the operator runs) with the
backend clients in plan mode (stratum.clients.recording): reads go to the live backends, every
change is recorded instead of sent. Nothing is written anywhere.

What a pass knows besides the spec comes, as in the operator, from the Kubernetes objects: when
KUBECONFIG is set, the live objects of the same names give the uid (which backend objects are
this object's own) and status, and every live object feeds the indexes the passes look
references up in (a Resource's ResourceGroup); the files' objects take precedence. Without
KUBECONFIG only the files count, so an object is planned as if it were applied for the first time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

import httpx
import kopf
import pydantic
import yaml

from stratum.api.crds import VERSION, Kind
from stratum.clients.errors import BackendError
from stratum.clients.kube import KubeConnection
from stratum.clients.observe import ignore_request
from stratum.handlers import controls, linstor, linstor_backup, maas, maas_set
from stratum.handlers.backends import open_kube
from stratum.handlers.metrics import Metrics
from stratum.handlers.registration import Call, PassFactory
from stratum.handlers.runtime import KUBE, Clients, Runtime
from stratum.handlers.settings import OperatorSettings
from stratum.reconcile import reasons

EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2
PASSES: dict[tuple[str, str], tuple[Kind, PassFactory]] = {
    (kind.group, kind.kind): (kind, reconcile)
    for kind, reconcile, _ in (*linstor.KINDS, *linstor_backup.PLANNED, *maas.KINDS, *maas_set.KINDS)
}


class PlanError(Exception):
    """A manifest that is not a valid Stratum object, or a backend or cluster that cannot be read."""


@dataclass
class Target:
    kind: Kind
    reconcile: PassFactory
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def title(self) -> str:
        return f"{self.kind.kind}/{self.name} ({self.kind.group})"


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(paths: Sequence[str]) -> list[str]:
    """The paths, with a directory standing for its manifest files (as `kubectl apply -f DIR`)."""
    files: list[str] = []
    for path in paths:
        if Path(path).is_dir():
            files += sorted(str(p) for p in Path(path).iterdir() if p.suffix in MANIFEST_SUFFIXES)
        else:
            files.append(path)
    return files


def load_manifests(paths: Sequence[str], stdin: TextIO) -> list[tuple[str, dict[str, Any]]]:
    """(source, document) for every object in the files or directories; `-` reads standard input;
    a List's items count."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in manifest_files(paths):
        try:
            text = stdin.read() if path == "-" else Path(path).read_text()
            loaded = [d for d in yaml.safe_load_all(text) if d is not None]
        except (OSError, yaml.YAMLError) as exc:
            raise PlanError(f"{path}: {exc}") from exc
        for doc in loaded:
            if not isinstance(doc, dict):
                raise PlanError(f"{path}: not a Kubernetes object: {doc!r:.80}")
            items = doc.get("items") if doc.get("kind") == "List" else [doc]
            docs += [(path, item) for item in items or []]
    return docs


def target(source: str, doc: Mapping[str, Any]) -> Target:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    found = PASSES.get((group, str(doc.get("kind"))))
    if found is None or version != VERSION:
        raise PlanError(f"{source}: {doc.get('apiVersion')} {doc.get('kind')} is not a Stratum kind")
    kind, reconcile = found
    name = (doc.get("metadata") or {}).get("name")
    if not name:
        raise PlanError(f"{source}: a {kind.kind} without metadata.name")
    try:
        kind.spec.model_validate(doc.get("spec") or {})
    except pydantic.ValidationError as exc:
        raise PlanError(f"{source}: {kind.kind}/{name}: {exc}") from exc
    body = {
        "apiVersion": doc["apiVersion"],
        "kind": kind.kind,
        "metadata": dict(doc.get("metadata") or {}),
        "spec": dict(doc.get("spec") or {}),
        "status": dict(doc.get("status") or {}),
    }
    return Target(kind, reconcile, body)


class Cluster:
    """The live Stratum objects, read (never written) with the kubeconfig's credentials."""

    def __init__(self, connection: KubeConnection) -> None:
        self._http = connection.http_client()

    async def close(self) -> None:
        await self._http.aclose()

    async def objects(self, kind: Kind) -> list[dict[str, Any]]:
        try:
            response = await self._http.get(f"/apis/{kind.group}/{VERSION}/{kind.plural}")
        except httpx.TransportError as exc:
            raise PlanError(f"the Kubernetes API server is unreachable: {exc}") from exc
        if response.status_code == 404:
            return []  # the CRD is not installed: no live objects of this kind
        if not response.is_success:
            raise PlanError(f"listing {kind.plural}: HTTP {response.status_code} {response.text[:200]}")
        items: list[dict[str, Any]] = response.json().get("items") or []
        return items


def merge_live(target: Target, live: Mapping[str, Any] | None) -> None:
    """The file's spec on the live object's identity and status (what the operator would see)."""
    if live is None:
        return
    metadata = live.get("metadata") or {}
    target.body["metadata"].update({k: metadata[k] for k in ("uid", "generation") if k in metadata})
    target.body["status"] = dict(live.get("status") or {})


INDEXES = (*linstor.INDEXES, *linstor_backup.INDEXES, *maas.INDEXES, *maas_set.INDEXES)


def build_indexes(bodies: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[Any]]]:
    """The operator's kopf indexes, from the same index functions: every value each object gives
    under a key, as kopf keeps them. An object given twice (live, then from a file) counts once,
    as given last."""
    latest = {(b.get("apiVersion"), b.get("kind"), b["metadata"]["name"]): b for b in bodies}
    indexes: dict[str, dict[str, list[Any]]] = {index_id: {} for _, index_id, _ in INDEXES}
    for body in latest.values():
        for kind, index_id, index in INDEXES:
            if body.get("kind") != kind.kind or not str(body.get("apiVersion", "")).startswith(
                f"{kind.group}/"
            ):
                continue
            metadata = kopf.Body(cast(kopf.RawBody, body)).metadata
            entries = index(
                name=metadata.name,
                uid=metadata.uid,
                spec=body["spec"],
                status=body.get("status") or {},
                meta=metadata,
            )
            for key, value in entries.items():
                indexes[index_id].setdefault(key, []).append(value)
    return indexes


def open_clients(settings: OperatorSettings) -> Clients:
    clients = Clients()
    linstor_client = linstor.open_client(settings, ignore_request)
    if linstor_client is not None:
        clients.add(linstor.CLIENT, linstor_client)
    maas_client = maas.open_client(settings, ignore_request)
    if maas_client is not None:
        clients.add(maas.CLIENT, maas_client)
    # A MachineRaidSet's plan records its children's changes; a Remote's pass reads its Secret.
    kube = open_kube(settings)
    if kube is not None:
        clients.add(KUBE, kube)
    return clients


class _NoEvents:
    def post(self, obj: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        """A plan posts no Events."""


async def plan_one(target: Target, runtime: Runtime, indexes: Mapping[str, Any], out: TextIO) -> bool:
    """Print what would change for one object; True when something would."""
    body = kopf.Body(cast(kopf.RawBody, target.body))
    out.write(f"{target.title}:\n")
    if controls.is_paused(body):
        out.write(f"  paused ({controls.PAUSED_ANNOTATION}): the operator makes no backend call\n")
        return False
    if controls.is_observing(target.body["spec"]):
        out.write("  managementPolicy Observe: the operator writes nothing (differences go to status)\n")
        return False
    call = Call(body, target.body["spec"], target.body["status"], kopf.Memo(runtime=runtime), indexes)
    try:
        plan = await controls.plan_pass(target.reconcile(call))
    except BackendError as exc:
        raise PlanError(f"{target.title}: {exc.message}") from exc
    outcome = plan.outcome
    if outcome is not None and (outcome.reason.failure or outcome.reason is reasons.NOT_CONFIGURED):
        raise PlanError(f"{target.title}: {outcome.reason}: {outcome.message}")
    for line in plan.changes:
        out.write(f"  {line}\n")
    if plan.depends:
        out.write("  later steps depend on these changes; they are planned once these are made\n")
    elif outcome is not None and not plan.changes:
        state = (
            "no changes" if outcome.ready else f"no changes now; waits: {outcome.reason}: {outcome.message}"
        )
        out.write(f"  {state}\n")
    return bool(plan.changes)


async def plan(paths: Sequence[str], env: Mapping[str, str], out: TextIO, stdin: TextIO) -> int:
    targets = [target(source, doc) for source, doc in load_manifests(paths, stdin)]
    live: list[dict[str, Any]] = []
    if env.get("KUBECONFIG"):
        cluster = Cluster(KubeConnection.load())
        try:
            for kind, _ in PASSES.values():
                live += await cluster.objects(kind)
        finally:
            await cluster.close()
    by_key = {(o.get("kind"), (o.get("metadata") or {}).get("name")): o for o in live}
    for t in targets:
        merge_live(t, by_key.get((t.kind.kind, t.name)))
    indexes = build_indexes([*live, *(t.body for t in targets)])
    settings = OperatorSettings(env=dict(env))
    runtime = Runtime(
        settings=settings, metrics=Metrics(), events=_NoEvents(), clients=open_clients(settings)
    )
    changed = False
    try:
        for t in targets:
            changed = await plan_one(t, runtime, indexes, out) or changed
    finally:
        await runtime.clients.close()
    return EXIT_CHANGES if changed else EXIT_NO_CHANGES


def run_plan(paths: Sequence[str], env: Mapping[str, str], out: TextIO, err: TextIO, stdin: TextIO) -> int:
    """The exit code: 0 nothing to change, 2 changes planned, 1 an error (said on `err`)."""
    try:
        return asyncio.run(plan(paths, env, out, stdin))
    except PlanError as exc:
        err.write(f"stratum plan: {exc}\n")
        return EXIT_ERROR
