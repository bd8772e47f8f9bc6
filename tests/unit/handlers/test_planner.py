"""`stratum plan` before any backend is read: which manifests count, what is refused, and the
indexes built with the operator's own index functions."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml

from stratum.handlers.planner import EXIT_ERROR, PlanError, build_indexes, load_manifests, run_plan, target
from stratum.reconcile.linstor.refs import GroupRef

LINSTOR = "linstor.stratum.dev/v1alpha1"


def group(name: str, place_count: int = 2, **status: object) -> dict[str, object]:
    return {
        "apiVersion": LINSTOR,
        "kind": "ResourceGroup",
        "metadata": {"name": name},
        "spec": {"placement": {"placeCount": place_count, "storagePools": ["thin"]}},
        "status": status,
    }


def test_files_directories_lists_and_stdin_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump_all([group("a"), None]))
    (tmp_path / "b.json").write_text(
        '{"kind": "List", "items": [' + yaml.safe_dump(group("b"), default_flow_style=True).strip() + "]}"
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    stdin = io.StringIO(yaml.safe_dump(group("c")))
    docs = load_manifests([str(tmp_path), "-"], stdin)
    assert [doc["metadata"]["name"] for _, doc in docs] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, "not a Stratum kind"),
        ({**group("x"), "apiVersion": "linstor.stratum.dev/v1beta9"}, "not a Stratum kind"),
        ({**group("x"), "metadata": {}}, "without metadata.name"),
        (group("x", place_count=0), "placeCount"),
    ],
)
def test_invalid_manifests_are_refused_naming_the_problem(doc: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        target("f.yaml", doc)


def test_a_bad_file_exits_1_before_any_backend_is_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed")
    err = io.StringIO()
    assert run_plan([str(bad)], {}, io.StringIO(), err, io.StringIO()) == EXIT_ERROR
    assert err.getvalue().startswith(f"stratum plan: {bad}:")


def test_references_resolve_through_the_operator_index_and_files_win() -> None:
    ready = {"conditions": [{"type": "Ready", "status": "True"}], "linstorName": "live-name"}
    live = target("cluster", group("g", 3, **ready)).body
    from_file = target("f.yaml", group("g", 2)).body
    indexes = build_indexes([live, from_file])
    assert indexes["resourcegroup_index"]["g"] == [GroupRef(linstor_name="g", ready=False, place_count=2)]
    assert build_indexes([live])["resourcegroup_index"]["g"] == [
        GroupRef(linstor_name="live-name", ready=True, place_count=3)
    ]


def test_schedule_remote_and_backup_examples_plan_without_a_backend_call() -> None:
    """No KUBECONFIG: the Remote cannot read its Secret, the Backup waits for the Remote, a
    SnapshotSchedule changes no backend itself; none of them reaches LINSTOR (which is unreachable)."""
    examples = Path(__file__).resolve().parents[3] / "examples"
    files = [str(examples / n) for n in ("50-remote.yaml", "51-snapshotschedule.yaml", "52-backup.yaml")]
    out, err = io.StringIO(), io.StringIO()
    env = {"LS_CONTROLLERS": "linstor://127.0.0.1:9"}
    assert run_plan(files, env, out, err, io.StringIO()) == 0, err.getvalue()
    text = out.getvalue()
    assert "Remote/offsite (linstor.stratum.dev):\n  no changes now; waits: SecretMissing" in text
    assert "SnapshotSchedule/db-data-frequent (linstor.stratum.dev):\n  no changes" in text
    assert "Backup/db-data-backup1 (linstor.stratum.dev):\n  no changes now; waits: WaitingForRemote" in text
