from __future__ import annotations

from stratum.reconcile.linstor.ownership import (
    MANAGED_PROP,
    OWNER_PROP,
    Claim,
    claim,
    conflict_message,
    creation_marker,
)
from stratum.reconcile.linstor.properties import plan_props
from stratum.reconcile.quantities import bytes_to_quantity, kib_to_quantity, quantity_kib

UID = "uid-1"


def test_claims() -> None:
    assert claim({OWNER_PROP: UID}, UID, adopt=False) is Claim.OURS
    assert claim({}, UID, adopt=False, description=creation_marker(UID)) is Claim.OURS
    assert claim({OWNER_PROP: "uid-2"}, UID, adopt=True) is Claim.OWNED_ELSEWHERE
    assert claim({}, UID, adopt=True) is Claim.ADOPT
    assert claim({"Aux/x": "y"}, UID, adopt=False) is Claim.CONFLICT


def test_conflict_messages_tell_what_to_do() -> None:
    assert "spec.adopt: true" in conflict_message("LINSTOR resource", "r1", Claim.CONFLICT)
    assert "another Stratum object" in conflict_message("LINSTOR resource", "r1", Claim.OWNED_ELSEWHERE)


def test_property_plan_sets_wanted_keeps_foreign_and_deletes_only_its_own() -> None:
    observed = {"A": "old", "Gone": "1", "Foreign": "f", OWNER_PROP: UID, MANAGED_PROP: "A,Gone"}
    change = plan_props({"A": "new", "B": "2"}, observed, UID)
    assert change.override == {"A": "new", "B": "2", MANAGED_PROP: "A,B"}
    assert change.delete == ["Gone"]
    # Once applied, the same spec plans nothing, and the foreign key is still there.
    applied = {k: v for k, v in {**observed, **change.override}.items() if k not in change.delete}
    assert applied["Foreign"] == "f"
    assert not plan_props({"A": "new", "B": "2"}, applied, UID)


def test_quantities() -> None:
    assert quantity_kib("10Gi") == 10 * 1024 * 1024
    assert quantity_kib(1025) == 2  # rounds up to whole KiB
    assert quantity_kib("1G") == 976563
    assert kib_to_quantity(10 * 1024 * 1024) == "10Gi"
    assert bytes_to_quantity(1536) == "1536"
    assert bytes_to_quantity(3 * 2**29) == "1536Mi"
