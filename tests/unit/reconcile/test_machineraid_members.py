"""The member diff: fewest valid updates, removals validated before additions, and a device
moving between active and spare taking two updates."""

from __future__ import annotations

import itertools
import random
from collections import deque

import pytest

from stratum.reconcile.maas.capacity import MAAS_MIN_ACTIVE
from stratum.reconcile.maas.members import MemberUpdate, UnreachableMembers, plan_members

State = tuple[frozenset[str], frozenset[str]]


def apply(level: str, state: State, update: MemberUpdate[str], universe: set[str]) -> State:
    """One PUT as MAAS runs it; AssertionError where MAAS would answer 400."""
    active, spare = set(state[0]), set(state[1])
    free = universe - active - spare  # the form's choices are computed before anything runs
    for key in update.remove_active + update.remove_spare:
        assert key in active | spare, f"{key} is not a member"
        active.discard(key)
        spare.discard(key)
        assert len(active) >= MAAS_MIN_ACTIVE[level], f"removing {key} leaves too few active devices"
    for key in update.add_active + update.add_spare:
        assert key in free, f"{key} is not free when the update is checked"
    active |= set(update.add_active)
    spare |= set(update.add_spare)
    assert len(active) >= MAAS_MIN_ACTIVE[level]
    assert not (level == "raid-0" and spare)
    return frozenset(active), frozenset(spare)


def run(level: str, active: list[str], spare: list[str], want_a: list[str], want_s: list[str]) -> int:
    universe = set(active + spare + want_a + want_s)
    updates = plan_members(level, active, spare, want_a, want_s)
    state: State = (frozenset(active), frozenset(spare))
    for update in updates:
        assert update, "empty update"
        state = apply(level, state, update, universe)
    assert state == (frozenset(want_a), frozenset(want_s))
    return len(updates)


def fewest_updates(level: str, start: State, goal: State, universe: list[str]) -> int:
    """Breadth-first search over every possible PUT: the true minimum."""
    seen = {start}
    queue = deque([(start, 0)])
    while queue:
        state, depth = queue.popleft()
        if state == goal:
            return depth
        members = sorted(state[0] | state[1])
        free = [k for k in universe if k not in members]
        for removed in itertools.chain.from_iterable(
            itertools.combinations(members, n) for n in range(len(members) + 1)
        ):
            for roles in itertools.product((None, "a", "s"), repeat=len(free)):
                update: MemberUpdate[str] = MemberUpdate(
                    remove_active=[k for k in removed if k in state[0]],
                    remove_spare=[k for k in removed if k in state[1]],
                    add_active=[k for k, r in zip(free, roles, strict=True) if r == "a"],
                    add_spare=[k for k, r in zip(free, roles, strict=True) if r == "s"],
                )
                if not update:
                    continue
                try:
                    nxt = apply(level, state, update, set(universe))
                except AssertionError:
                    continue
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, depth + 1))
    raise AssertionError("goal unreachable")


def test_nothing_to_do() -> None:
    assert plan_members("raid-1", ["a", "b"], ["c"], ["b", "a"], ["c"]) == []


def test_grow_by_one_device_is_one_update() -> None:
    assert plan_members("raid-5", ["a", "b", "c"], [], ["a", "b", "c", "d"], []) == [
        MemberUpdate(add_active=["d"])
    ]


def test_replace_a_spare_is_one_update() -> None:
    assert plan_members("raid-1", ["a", "b"], ["c"], ["a", "b"], ["d"]) == [
        MemberUpdate(remove_spare=["c"], add_spare=["d"])
    ]


def test_swap_spare_and_active_at_the_minimum_takes_four_updates() -> None:
    updates = plan_members("raid-1", ["a", "b"], ["c"], ["a", "c"], ["b"])
    assert updates == [
        MemberUpdate(remove_spare=["c"]),
        MemberUpdate(add_active=["c"]),
        MemberUpdate(remove_active=["b"]),
        MemberUpdate(add_spare=["b"]),
    ]
    assert run("raid-1", ["a", "b"], ["c"], ["a", "c"], ["b"]) == 4


def test_swap_with_room_above_the_minimum_takes_two_updates() -> None:
    updates = plan_members("raid-5", ["a", "b", "c", "d"], ["e"], ["a", "b", "c", "e"], ["d"])
    assert updates == [
        MemberUpdate(remove_active=["d"], remove_spare=["e"]),
        MemberUpdate(add_active=["e"], add_spare=["d"]),
    ]


def test_removals_never_go_below_the_minimum() -> None:
    # Replace two of three raid-5 members: new ones must come in before old ones go.
    updates = plan_members("raid-5", ["a", "b", "c"], [], ["a", "d", "e"], [])
    assert updates == [MemberUpdate(add_active=["d", "e"]), MemberUpdate(remove_active=["b", "c"])]


def test_actives_moving_to_spare_leave_first() -> None:
    # Only one active may go per update; d (wanted back as a spare) goes first so it can be
    # re-added together with the second removal: two updates instead of three.
    updates = plan_members("raid-5", ["a", "b", "c", "d"], [], ["a", "b", "f"], ["d"])
    assert updates == [
        MemberUpdate(remove_active=["d"], add_active=["f"]),
        MemberUpdate(remove_active=["c"], add_spare=["d"]),
    ]


def test_raid10_intermediate_states_use_the_maas_minimum_of_three() -> None:
    # 4 -> 3 active is fine for MAAS, so the swap fits in one update.
    assert plan_members("raid-10", ["a", "b", "c", "d"], [], ["a", "b", "c", "e"], []) == [
        MemberUpdate(remove_active=["d"], add_active=["e"])
    ]


def test_too_few_wanted_devices_is_refused() -> None:
    with pytest.raises(UnreachableMembers):
        plan_members("raid-5", ["a", "b", "c"], [], ["a", "b"], [])


@pytest.mark.parametrize("level", ["raid-1", "raid-5", "raid-10", "raid-0"])
def test_plans_are_valid_and_minimal(level: str) -> None:
    rng = random.Random(level)
    universe = ["a", "b", "c", "d", "e"]
    minimum = MAAS_MIN_ACTIVE[level]
    for _ in range(40):

        def pick() -> tuple[list[str], list[str]]:
            keys = rng.sample(universe, rng.randint(minimum, len(universe)))
            n_active = rng.randint(minimum, len(keys))
            spare = [] if level == "raid-0" else keys[n_active:]
            return keys[:n_active], spare

        (act, spa), (want_a, want_s) = pick(), pick()
        count = run(level, act, spa, want_a, want_s)
        best = fewest_updates(
            level, (frozenset(act), frozenset(spa)), (frozenset(want_a), frozenset(want_s)), universe
        )
        assert count == best, (act, spa, want_a, want_s)
