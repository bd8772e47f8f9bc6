"""The committed crds/ must be exactly what `stratum crds` generates."""

from __future__ import annotations

from pathlib import Path

from stratum.api import crds
from stratum.api.common import KOPF_STATUS

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


def test_every_kind_keeps_kopfs_state_in_status_and_no_pass_can_write_it() -> None:
    """Free-form, else the API server prunes kopf's progress and diff base; not a status model
    field, so a pass's status (reconcile/outcome.py status_patch) never carries it."""
    for kind in crds.KINDS:
        status = crds.openapi_schema(kind)["properties"]["status"]["properties"]
        assert status[KOPF_STATUS] == {
            "type": "object",
            "description": status[KOPF_STATUS]["description"],
            "x-kubernetes-preserve-unknown-fields": True,
        }
        fields = {info.alias or name for name, info in kind.status.model_fields.items()}
        assert KOPF_STATUS not in fields, kind.kind


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
