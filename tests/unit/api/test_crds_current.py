"""The committed crds/ must be exactly what `stratum crds` generates."""

from __future__ import annotations

from pathlib import Path

from stratum.api import crds

ROOT = Path(__file__).resolve().parents[3]


def test_committed_crds_match_the_models() -> None:
    stale = []
    for kind in crds.KINDS:
        path = ROOT / "crds" / crds.file_name(kind)
        if not path.exists() or path.read_text() != crds.render(kind):
            stale.append(path.name)
    assert not stale, f"crds/ is stale ({', '.join(stale)}): run `make crds`"


def test_no_extra_files_in_crds() -> None:
    expected = {crds.file_name(kind) for kind in crds.KINDS}
    assert {p.name for p in (ROOT / "crds").glob("*.yaml")} == expected


def test_every_kind_has_status_conditions_keyed_by_type() -> None:
    for kind in crds.KINDS:
        version = crds.crd(kind)["spec"]["versions"][0]
        assert version["subresources"] == {"status": {}}
        conditions = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["conditions"]
        assert conditions["x-kubernetes-list-type"] == "map"
        assert conditions["x-kubernetes-list-map-keys"] == ["type"]
        assert set(conditions["items"]["required"]) >= {"type", "status", "reason", "lastTransitionTime"}


def test_schema_is_structural_enough() -> None:
    """No $ref, titles or type-declaring unions survive the conversion."""

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            assert "$ref" not in node and "title" not in node, path
            if "anyOf" in node:
                assert node.get("x-kubernetes-int-or-string"), path
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    for kind in crds.KINDS:
        walk(crds.openapi_schema(kind), kind.kind)
