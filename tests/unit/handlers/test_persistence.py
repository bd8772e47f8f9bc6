"""kopf's state in status.kopf: a pass patches /status only, and objects written by earlier
versions (kopf's state in stratum.dev annotations) are read as they are, then moved."""

from __future__ import annotations

import json
from typing import Any

import kopf
import pytest

from stratum.handlers.settings import PREFIX, OperatorSettings

SPEC = {"placement": {"placeCount": 2, "storagePools": ["thin"]}}
LEGACY_DIFFBASE = f"{PREFIX}/last-handled-configuration"
LEGACY_PROGRESS = f"{PREFIX}/reconcile_resourcegroup"
HANDLER = kopf.HandlerId("reconcile_resourcegroup")


@pytest.fixture
def persistence() -> kopf.PersistenceSettings:
    settings = kopf.OperatorSettings()
    OperatorSettings().configure_kopf(settings)
    return settings.persistence


def obj(annotations: dict[str, str] | None = None, status: dict[str, Any] | None = None) -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "linstor.stratum.dev/v1alpha1",
            "kind": "ResourceGroup",
            "metadata": {"name": "rg1", "uid": "uid-rg1", "annotations": annotations or {}},
            "spec": SPEC,
            "status": status or {},
        }
    )


def upgraded(**more: str) -> kopf.Body:
    """An object the previous version handled: its diff base as that version stored it."""
    earlier = kopf.AnnotationsDiffBaseStorage(prefix=PREFIX, key="last-handled-configuration")
    before = obj({f"{PREFIX}/kopf-managed": "yes", **more})
    patch = kopf.Patch()
    earlier.store(body=before, patch=patch, essence=earlier.build(body=before))
    return obj({**before.metadata.annotations, **patch.metadata.annotations})


def test_a_pass_that_stores_the_diff_base_and_purges_progress_patches_status_only(
    persistence: kopf.PersistenceSettings,
) -> None:
    progress = {"reconcile_resourcegroup": {"started": "2026-01-01T00:00:00", "retries": 1}}
    body = obj(status={"kopf": {"progress": progress}})
    patch = kopf.Patch()
    patch.status["conditions"] = []  # what the runner writes
    persistence.progress_storage.purge(key=HANDLER, body=body, patch=patch)
    persistence.diffbase_storage.store(
        body=body, patch=patch, essence=persistence.diffbase_storage.build(body=body)
    )
    persistence.progress_storage.touch(body=body, patch=patch, value=None)
    # kopf _cogs/clients/patching.py patch_obj: only a "status" key means one PATCH of /status.
    assert set(patch) == {"status"}
    assert patch.status["kopf"]["progress"] == {"reconcile_resourcegroup": None}
    assert json.loads(patch.status["kopf"]["last-handled-configuration"]) == {"spec": SPEC}


def test_the_diff_base_is_read_from_status(persistence: kopf.PersistenceSettings) -> None:
    storage = persistence.diffbase_storage
    stored = json.dumps({"spec": SPEC})
    assert storage.fetch(body=obj(status={"kopf": {"last-handled-configuration": stored}})) == {"spec": SPEC}
    assert storage.fetch(body=obj()) is None  # a new object: kopf runs its create handlers


def test_an_upgraded_object_diffs_against_its_annotation_and_shows_no_change(
    persistence: kopf.PersistenceSettings,
) -> None:
    body = upgraded()
    storage = persistence.diffbase_storage
    old = persistence.progress_storage.clear(essence=storage.fetch(body=body))
    new = persistence.progress_storage.clear(essence=storage.build(body=body))
    assert old == new == {"spec": SPEC}  # no update handler runs after the upgrade


def test_status_wins_over_the_annotation_and_storing_removes_the_annotation(
    persistence: kopf.PersistenceSettings,
) -> None:
    changed = {"spec": {"placement": {"placeCount": 3}}}
    body = obj(
        {**upgraded().metadata.annotations},
        status={"kopf": {"last-handled-configuration": json.dumps(changed)}},
    )
    storage = persistence.diffbase_storage
    assert storage.fetch(body=body) == changed
    patch = kopf.Patch()
    storage.store(body=body, patch=patch, essence=storage.build(body=body))
    assert patch.metadata.annotations == {LEGACY_DIFFBASE: None}  # once: the next pass has none
    assert json.loads(patch.status["kopf"]["last-handled-configuration"]) == {"spec": SPEC}


def test_progress_is_read_from_status_then_from_an_annotation(persistence: kopf.PersistenceSettings) -> None:
    storage = persistence.progress_storage
    in_status = {"started": "2026-01-01T00:00:00", "retries": 2}
    in_annotation = {"started": "2025-12-31T00:00:00", "retries": 5}
    legacy = {LEGACY_PROGRESS: json.dumps(in_annotation)}
    assert storage.fetch(key=HANDLER, body=obj(legacy)) == in_annotation  # a retry in flight at upgrade
    both = obj(legacy, status={"kopf": {"progress": {HANDLER: in_status}}})
    assert storage.fetch(key=HANDLER, body=both) == in_status
    assert storage.fetch(key=HANDLER, body=obj()) is None


def test_storing_or_purging_progress_moves_it_out_of_the_annotation(
    persistence: kopf.PersistenceSettings,
) -> None:
    storage = persistence.progress_storage
    body = obj({LEGACY_PROGRESS: json.dumps({"retries": 5}), f"{PREFIX}/kopf-managed": "yes"})
    record: kopf.ProgressRecord = {"started": "2026-01-01T00:00:00", "retries": 6}
    stored = kopf.Patch()
    storage.store(key=HANDLER, record=record, body=body, patch=stored)
    assert stored.status["kopf"]["progress"][HANDLER] == record
    # Else, once the status record is purged, the stale annotation would be read again.
    assert stored.metadata.annotations == {LEGACY_PROGRESS: None}
    purged = kopf.Patch()
    storage.purge(key=HANDLER, body=body, patch=purged)
    assert dict(purged) == {"metadata": {"annotations": {LEGACY_PROGRESS: None}}}  # none in status


def test_a_new_objects_progress_never_touches_annotations(persistence: kopf.PersistenceSettings) -> None:
    storage = persistence.progress_storage
    patch = kopf.Patch()
    storage.store(key=HANDLER, record={"retries": 1}, body=obj(), patch=patch)
    storage.touch(body=obj(), patch=patch, value="2026-01-01T00:00:00")
    assert set(patch) == {"status"}
    assert patch.status["kopf"]["dummy"] == "2026-01-01T00:00:00"


def test_kopf_clears_its_dummy_from_status_and_from_an_annotation(
    persistence: kopf.PersistenceSettings,
) -> None:
    body = obj({f"{PREFIX}/touch-dummy": "x"}, status={"kopf": {"dummy": "y"}})
    patch = kopf.Patch()
    persistence.progress_storage.touch(body=body, patch=patch, value=None)
    assert patch.metadata.annotations == {f"{PREFIX}/touch-dummy": None}
    assert patch.status["kopf"]["dummy"] is None


def test_clearing_progress_keeps_annotations_and_drops_kopfs_status(
    persistence: kopf.PersistenceSettings,
) -> None:
    essence: Any = {
        "metadata": {"annotations": {f"{PREFIX}/paused": "true"}},
        "spec": SPEC,
        "status": {"kopf": {"progress": {HANDLER: {"retries": 1}}}},
    }
    cleared = persistence.progress_storage.clear(essence=essence)
    assert cleared == {"metadata": {"annotations": {f"{PREFIX}/paused": "true"}}, "spec": SPEC}
