from __future__ import annotations

import pytest

from stratum.api.common import quantity_bytes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1024, 1024),
        ("10Gi", 10 * 2**30),
        ("1.5Gi", 3 * 2**29),
        ("500M", 500 * 10**6),
        ("1k", 1000),
        ("7", 7),
        ("0.5Ki", 512),
        ("1.0001k", 1001),  # rounds up to whole bytes
    ],
)
def test_quantity_bytes(value: int | str, expected: int) -> None:
    assert quantity_bytes(value) == expected


@pytest.mark.parametrize("value", ["ten", "10Xi", "", "1m"])
def test_quantity_bytes_refuses_non_byte_values(value: str) -> None:
    with pytest.raises(ValueError, match="not a byte quantity"):
        quantity_bytes(value)
