"""Sizes as the API server reads them and as the operator does: every size the CRD admits is parsed
by quantity_bytes to the bytes the API server itself compares with (its no-shrink rule is the
oracle), what it refuses quantity_bytes refuses, and a `.5Gi` volume is created at 512 MiB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from stratum.api.common import quantity_bytes
from stratum.sim.linstor import LinstorSim
from support.kube import ControlPlane, Kube, KubectlError
from support.operator import OperatorProcess

pytestmark = pytest.mark.e2e

LINSTOR = "linstor.stratum.dev/v1alpha1"
SIZE_MESSAGE = "must be a positive quantity from 1 byte to below 8Ei"


def resource(name: str, *sizes: str | int, rg: str = "sizes-rg") -> dict[str, Any]:
    return {
        "apiVersion": LINSTOR,
        "kind": "Resource",
        "metadata": {"name": name},
        "spec": {"resourceGroup": rg, "volumes": [{"size": s} for s in sizes]},
    }


def create(kube: Kube, obj: dict[str, Any]) -> None:
    # JSON, not YAML: kubectl's YAML reading would turn an unquoted 1e9 into a number.
    kube.run("create", "-f", "-", input=json.dumps(obj))


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    """A control plane with the CRDs and no operator: objects stay as admitted."""
    plane = ControlPlane.start(Path(tmp_path_factory.mktemp("quantity-plane")))
    try:
        plane.install_crds()
        yield plane.kube
    finally:
        plane.stop()


ADMITTED = [
    "0" * 63 + "1",
    ".5Gi",
    "1e9",
    "+1Gi",
    "1.5G",
    "1E3",
    "1.",
    "1.0001k",
    "0.000001Ti",
    "7.5Ei",
    4096,
]


@pytest.mark.parametrize("size", ADMITTED, ids=[str(s)[-12:] for s in ADMITTED])
def test_admitted_sizes_parse_to_the_bytes_the_api_server_compares(bare: Kube, size: str | int) -> None:
    name = "q-" + str(abs(hash(str(size))))[:10]
    create(bare, resource(name, size))
    try:
        expected = quantity_bytes(size)
        # The API server's no-shrink rule compares quantities: one byte less is smaller than the
        # admitted size, the parsed bytes are not.
        if expected > 1:
            smaller = bare.patch(
                "lr", name, {"spec": {"volumes": [{"size": str(expected - 1)}]}}, check=False
            )
            assert smaller.returncode != 0 and "cannot shrink" in smaller.stderr, smaller.stderr
        same = bare.patch("lr", name, {"spec": {"volumes": [{"size": str(expected)}]}}, check=False)
        assert same.returncode == 0, same.stderr
    finally:
        bare.delete("lr", name)


REFUSED = ["1m", "500u", "0.5", "0", "-1Gi", "8Ei", "1e19", "1K", "1e4294967305", " 1Gi", "1Gb", 0]


@pytest.mark.parametrize("size", REFUSED, ids=[repr(s)[:12] for s in REFUSED])
def test_refused_sizes_are_refused_by_both(bare: Kube, size: str | int) -> None:
    with pytest.raises(KubectlError) as refused:
        create(bare, resource("q-refused", size))
    assert SIZE_MESSAGE in refused.value.stderr
    with pytest.raises(ValueError):
        quantity_bytes(size)


def test_a_size_longer_than_64_characters_is_refused_by_both(bare: Kube) -> None:
    with pytest.raises(KubectlError) as refused:
        create(bare, resource("q-long", "1" * 65))
    assert "Too long: may not be more than 64 bytes" in refused.value.stderr
    with pytest.raises(ValueError, match="not a byte quantity"):
        quantity_bytes("1" * 65)


def test_a_half_gibibyte_volume_is_created_at_512_mib(
    kube: Kube, operator: OperatorProcess, linstor_sim: LinstorSim
) -> None:
    rest = httpx.Client(base_url=linstor_sim.url, timeout=10)
    kube.apply(
        {
            "apiVersion": LINSTOR,
            "kind": "ResourceGroup",
            "metadata": {"name": "sizes-rg"},
            "spec": {
                "placement": {"placeCount": 1, "storagePools": ["thin"]},
                "volumeGroups": [{"properties": {}}, {"properties": {}}],
            },
        }
    )
    create(kube, resource("sizes-half", ".5Gi", "1e9"))
    try:
        kube.wait("lr", "sizes-half")
        half = rest.get("/v1/resource-definitions/sizes-half/volume-definitions/0").json()
        assert half["size_kib"] == 512 * 1024
        # 1e9 bytes is 976562.5 KiB: LINSTOR gets the next whole KiB.
        decimal = rest.get("/v1/resource-definitions/sizes-half/volume-definitions/1").json()
        assert decimal["size_kib"] == 976563
        sizes = [v["size"] for v in kube.get("lr", "sizes-half")["status"]["volumes"]]
        assert sizes == ["512Mi", "976563Ki"]
    finally:
        kube.run("delete", "lr/sizes-half", "lrg/sizes-rg", "--wait=false")
        kube.wait_gone("lr", "sizes-half")
        kube.wait_gone("lrg", "sizes-rg")
