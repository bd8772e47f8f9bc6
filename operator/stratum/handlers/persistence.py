"""Where kopf keeps its state on each object: under `status.kopf`, so a pass's whole patch (our
status and kopf's progress and diff base) is one PATCH of /status. In annotations, as before, every
pass that wrote status wrote the object too: two PATCHes (kopf _cogs/clients/patching.py
`patch_obj` sends the body and the status subresource separately).

Objects written before keep kopf's state in `stratum.dev/...` annotations: it is read from there
while status has none, and the annotation goes when its status copy is written, so an upgrade
neither replays the create handlers nor keeps a stale copy. The kopf storages this builds on are
kopf _cogs/configs/progress.py and diffbase.py."""

from __future__ import annotations

from collections.abc import Iterable

import kopf

from stratum.api.common import KOPF_STATUS

LAST_HANDLED = "last-handled-configuration"
"""kopf's name for the diff base, in status as in the annotation of earlier versions."""
ANNOTATIONS = ("metadata", "annotations")


class StatusProgressStorage(kopf.StatusProgressStorage):
    """kopf's handler progress in `status.kopf.progress`. Clearing it from the diffed essence
    touches no annotation: the pause annotation stays in the diff that fires update handlers."""

    def __init__(self, *, prefix: str) -> None:
        super().__init__(name=KOPF_STATUS)
        self.legacy = kopf.AnnotationsProgressStorage(prefix=prefix)

    def fetch(self, *, key: kopf.HandlerId, body: kopf.Body) -> kopf.ProgressRecord | None:
        record = super().fetch(key=key, body=body)
        return record if record is not None else self.legacy.fetch(key=key, body=body)

    def store(
        self, *, key: kopf.HandlerId, record: kopf.ProgressRecord, body: kopf.Body, patch: kopf.Patch
    ) -> None:
        super().store(key=key, record=record, body=body, patch=patch)
        # (The annotation would be read again once the status record is purged.)
        self.legacy.purge(key=key, body=body, patch=patch)

    def purge(self, *, key: kopf.HandlerId, body: kopf.Body, patch: kopf.Patch) -> None:
        super().purge(key=key, body=body, patch=patch)
        self.legacy.purge(key=key, body=body, patch=patch)

    def touch(self, *, body: kopf.Body, patch: kopf.Patch, value: str | None) -> None:
        super().touch(body=body, patch=patch, value=value)
        if value is None:  # kopf clearing its dummy along a patch: an annotation one goes too
            remove_annotations(body, patch, self.legacy.make_keys(self.legacy.touch_key, body=body))


class StatusDiffBaseStorage(kopf.StatusDiffBaseStorage):
    """kopf's diff base (the essence last handled) in `status.kopf.last-handled-configuration`.

    The essence leaves out the annotations under our prefix, as it did when kopf kept its state
    there (kopf drops a prefix it has marked `<prefix>/kopf-managed`): the annotations the operator
    writes (`stratum.dev/released-from-machineraidset`) and kopf's old ones change nothing the
    handlers act on. Those a handler watches (`stratum.dev/paused`) stay in it."""

    def __init__(self, *, prefix: str) -> None:
        super().__init__(name=KOPF_STATUS, field=f"status.{KOPF_STATUS}.{LAST_HANDLED}")
        self.prefix = prefix
        self.legacy = kopf.AnnotationsDiffBaseStorage(prefix=prefix, key=LAST_HANDLED)

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        essence = super().build(body=body, extra_fields=extra_fields)
        paths = map(field_path, extra_fields or ())
        watched = {path[2] for path in paths if len(path) == 3 and path[:2] == ANNOTATIONS}
        annotations = essence.get("metadata", {}).get("annotations", {})
        own = {key for key in annotations if key.startswith(f"{self.prefix}/") and key not in watched}
        self.remove_annotations(essence, own)
        self.remove_empty_stanzas(essence)
        return essence

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        essence = super().fetch(body=body)
        return essence if essence is not None else self.legacy.fetch(body=body)

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        super().store(body=body, patch=patch, essence=essence)
        remove_annotations(body, patch, self.legacy.make_keys(LAST_HANDLED, body=body))


def remove_annotations(body: kopf.Body, patch: kopf.Patch, keys: Iterable[str]) -> None:
    """Those of `keys` the object has, nulled in the patch (an object patch, once per object)."""
    for key in keys:
        if key in body.metadata.annotations:
            patch.metadata.annotations[key] = None


def field_path(spec: kopf.FieldSpec) -> tuple[str, ...]:
    """A kopf field spec as a path, as kopf _cogs/structs/dicts.py `parse_field` reads it."""
    if spec is None:
        return ()
    return tuple(spec.split(".")) if isinstance(spec, str) else tuple(spec)
