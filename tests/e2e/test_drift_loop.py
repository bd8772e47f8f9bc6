"""A drift loop's sweep against the real API server (no operator: a probe kind of its own): the
LIST is read in pages, each listed object is checked once, a status patch lands only on the
object as it was listed (409 otherwise, nothing written), one failing check stops no other, and
the loop sweeps once per interval until it is stopped."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import kopf
import pytest
from pydantic import BaseModel

from stratum.api.common import StatusBase
from stratum.api.crds import VERSION, Kind
from stratum.clients.errors import BackendConflict
from stratum.clients.kube import KubeConnection
from stratum.clients.kubeobjects import KubeObjects
from stratum.handlers import drift
from stratum.handlers.drift import DriftLoop
from stratum.handlers.metrics import Metrics
from stratum.handlers.runtime import KUBE, Runtime
from stratum.handlers.settings import OperatorSettings
from support.kube import Kube

GROUP = "probe.stratum.dev"
PROBE = Kind(
    group=GROUP,
    kind="DriftProbe",
    plural="driftprobes",
    short_names=(),
    spec=BaseModel,
    status=StatusBase,
    description="a kind only this test uses",
    columns=(),
)
OPEN = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": PROBE.crd_name},
    "spec": {
        "group": GROUP,
        "scope": "Cluster",
        "names": {
            "kind": PROBE.kind,
            "plural": PROBE.plural,
            "singular": PROBE.singular,
            "listKind": "DriftProbeList",
        },
        "versions": [
            {
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {"type": "object", "properties": {"spec": OPEN, "status": OPEN}}
                },
            }
        ],
    },
}
NAMES = [f"p{i}" for i in range(7)]


@pytest.fixture(scope="module")
def probes(kube: Kube) -> list[str]:
    kube.apply(CRD)
    kube.run("wait", "--for=condition=Established", f"crd/{PROBE.crd_name}", "--timeout=60s")
    kube.apply(
        [
            {"apiVersion": PROBE.api_version, "kind": PROBE.kind, "metadata": {"name": n}, "spec": {"n": i}}
            for i, n in enumerate(NAMES)
        ]
    )
    return NAMES


@pytest.fixture
async def objects(kube: Kube) -> AsyncIterator[KubeObjects]:
    client = KubeObjects(KubeConnection.from_kubeconfig(kube.kubeconfig))
    yield client
    await client.close()


class NoEvents:
    def post(self, obj: Mapping[str, Any], *, type: str, reason: str, message: str) -> None:
        raise AssertionError("a sweep posts no Event of its own")


def status_of(kube: Kube, name: str) -> dict[str, Any]:
    found: dict[str, Any] = kube.get(f"{PROBE.plural}.{GROUP}", name).get("status") or {}
    return found


async def test_a_sweep_checks_each_object_once_and_writes_only_onto_the_listed_version(
    kube: Kube, probes: list[str], objects: KubeObjects, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drift, "PAGE", 3)  # 7 objects: three pages of one snapshot
    lists: list[dict[str, str] | None] = []
    call = objects._call

    async def counted(method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET":
            lists.append(kwargs.get("params"))
        return await call(method, path, **kwargs)

    monkeypatch.setattr(objects, "_call", counted)
    seen: list[str] = []

    async def check(
        body: kopf.Body, memo: kopf.Memo, indexes: Mapping[str, Any], listed_at: float
    ) -> drift.Checked | None:
        name = body.metadata.name or ""
        seen.append(name)
        if name == "p1":
            return None  # not due
        if name == "p2":
            raise RuntimeError("a bug in one check")
        if name == "p3":  # changed by someone else after the LIST
            kube.patch(f"{PROBE.plural}.{GROUP}", name, {"spec": {"n": 33}})
        return drift.Checked({"checked": name}, str(body.metadata.get("resourceVersion")))

    sweep = await DriftLoop(PROBE, 60, check).sweep(objects, kopf.Memo(), {}, workers=2)
    assert sorted(seen) == sorted(probes)
    assert [p and p.get("limit") for p in lists] == ["3", "3", "3"]
    assert [bool(p and p.get("continue")) for p in lists] == [False, True, True]
    assert (sweep.listed, sweep.checked, sweep.written, sweep.conflicts, sweep.failed) == (7, 5, 4, 1, 1)
    for name in ("p0", "p4", "p5", "p6"):
        assert status_of(kube, name) == {"checked": name}
    for name in ("p1", "p2", "p3"):
        assert "checked" not in status_of(kube, name)


async def test_the_loop_sweeps_every_interval_until_stopped(probes: list[str], objects: KubeObjects) -> None:
    sweeps: list[int] = []

    async def check(
        body: kopf.Body, memo: kopf.Memo, indexes: Mapping[str, Any], listed_at: float
    ) -> drift.Checked | None:
        if body.metadata.name == probes[0]:
            sweeps.append(1)
        return None

    rt = Runtime(settings=OperatorSettings(), metrics=Metrics(), events=NoEvents())
    rt.clients.add(KUBE, objects)
    loop = DriftLoop(PROBE, 0.3, check)
    await loop.start(memo=kopf.Memo(runtime=rt))
    await asyncio.sleep(1.1)
    await loop.stop()
    count = len(sweeps)
    assert 2 <= count <= 4  # one per 0.3 s, the first after one interval
    await asyncio.sleep(0.5)
    assert len(sweeps) == count  # stopped


async def test_a_status_write_onto_a_version_lands_only_on_that_version(
    kube: Kube, probes: list[str], objects: KubeObjects
) -> None:
    """The write that guards a rollback (its intent) and a drift pass's status: onto the version
    the pass read, or not at all; it gives the version it left."""
    name = probes[-1]
    read = str(kube.get(f"{PROBE.plural}.{GROUP}", name)["metadata"]["resourceVersion"])
    api = PROBE.api_version
    written = await objects.patch_status(api, PROBE.plural, name, {"n": 1}, resource_version=read)
    assert written and written != read
    with pytest.raises(BackendConflict):
        await objects.patch_status(api, PROBE.plural, name, {"n": 2}, resource_version=read)
    await objects.patch_status(api, PROBE.plural, name, {"n": 3}, resource_version=written)
    assert status_of(kube, name)["n"] == 3
