"""readyTag: on the machine exactly while every MachineRaid naming it is Ready."""

from __future__ import annotations

from stratum.reconcile.maas.readytag import Sibling, TagPlan, plan_ready_tag, want_tag

ME = "uid-me"


def test_wanted_only_when_this_one_and_every_sibling_is_ready() -> None:
    ready, not_ready = Sibling("uid-a", "a", True), Sibling("uid-b", "b", False)
    assert want_tag(True, [], ME)
    assert want_tag(True, [ready, Sibling(ME, "me", False)], ME)  # its own stale index entry is ignored
    assert not want_tag(True, [ready, not_ready], ME)
    assert not want_tag(False, [ready], ME)


def test_added_and_created_when_missing() -> None:
    plan = plan_ready_tag("storage-ready", want=True, machine_tags=["x"], tag_exists=False, recorded=None)
    assert plan == TagPlan(create=True, add=True)
    assert plan_ready_tag(
        "storage-ready", want=True, machine_tags=[], tag_exists=True, recorded=None
    ) == TagPlan(add=True)


def test_nothing_to_do_when_it_already_matches() -> None:
    assert not plan_ready_tag("t", want=True, machine_tags=["t"], tag_exists=None, recorded="t")
    assert not plan_ready_tag("t", want=False, machine_tags=["u"], tag_exists=None, recorded="t")
    assert not plan_ready_tag(None, want=False, machine_tags=["t"], tag_exists=None, recorded=None)


def test_removed_when_not_ready_and_an_old_tag_goes_when_the_spec_changes_it() -> None:
    assert plan_ready_tag("t", want=False, machine_tags=["t"], tag_exists=None, recorded="t") == TagPlan(
        remove=True
    )
    plan = plan_ready_tag("new", want=True, machine_tags=["old", "new"], tag_exists=None, recorded="old")
    assert plan == TagPlan(remove_old="old")
    assert plan_ready_tag(None, want=False, machine_tags=["old"], tag_exists=None, recorded="old") == TagPlan(
        remove_old="old"
    )
