"""Array sizes as MAAS computes them, before anything is created."""

from __future__ import annotations

import random

import pytest

from stratum.reconcile.maas.capacity import expected_size, raid_size
from stratum.sim.maas.sizes import raid_size as sim_raid_size

TB = 10**12
GB = 10**9


@pytest.mark.parametrize(
    ("level", "active", "spares", "size"),
    [
        # The worked values of the MAAS reference (FilesystemGroup.get_raid_size).
        ("raid-1", [TB, 2 * TB], [], 999_999_868_928),
        ("raid-0", [TB, 2 * TB], [], 2_999_999_737_856),
        ("raid-5", [TB, TB, TB], [], 1_999_999_868_928),
        ("raid-5", [TB, TB, TB], [500 * GB], 999_999_868_928),
        ("raid-6", [TB, TB, TB, TB], [], 1_999_999_868_928),
        ("raid-10", [TB, TB, TB, TB], [], 1_999_999_868_928),
        ("raid-10", [TB, TB, TB], [], 1_499_999_868_928),
    ],
)
def test_reference_values(level: str, active: list[int], spares: list[int], size: int) -> None:
    assert expected_size(level, active, spares) == size
    assert raid_size(level, active, spares) == size


def test_raid10_is_a_float_like_maas_and_expected_size_truncates() -> None:
    odd = [TB + 1, TB + 1, TB + 1]
    assert isinstance(raid_size("raid-10", odd), float)
    assert raid_size("raid-10", odd) == (TB + 1) * 3 / 2 - 131072
    assert expected_size("raid-10", odd) == (TB + 1) * 3 // 2 - 131072


def test_spares_count_towards_the_smallest_member_but_not_raid0() -> None:
    assert expected_size("raid-1", [TB, TB], [GB]) == GB - 131072
    assert expected_size("raid-0", [TB, GB]) == TB + GB - 2 * 131072


def test_huge_raid10_stays_exact() -> None:
    size = 2**53 + 3
    assert expected_size("raid-10", [size] * 5) == size * 5 // 2 - 131072


@pytest.mark.parametrize("level", ["raid-0", "raid-1", "raid-5", "raid-6", "raid-10"])
def test_agrees_with_the_simulator_formula(level: str) -> None:
    rng = random.Random(level)
    for _ in range(200):
        active = [rng.randrange(4 * 2**20, 4 * TB) for _ in range(rng.randint(4, 8))]
        spares = (
            [] if level == "raid-0" else [rng.randrange(4 * 2**20, 4 * TB) for _ in range(rng.randint(0, 2))]
        )
        members = active + spares
        assert raid_size(level, active, spares) == sim_raid_size(level, members, len(active))
        assert expected_size(level, active, spares) == int(sim_raid_size(level, members, len(active)))
