"""Byte quantities: every form of the Kubernetes quantity grammar the CRD admits parses to the
right bytes, and what it refuses the parser refuses too. Grammar cases follow apimachinery's
pkg/api/resource/quantity_test.go (TestQuantityParse and its invalid list)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stratum.api.common import QUANTITY_PATTERN, quantity_bytes
from stratum.api.crds import KINDS, crd


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
        # Forms the API server accepts that the first parser refused (issue 15).
        (".5Gi", 2**29),
        ("1e9", 10**9),
        ("+1Gi", 2**30),
        ("1.5G", 1_500_000_000),
        ("1E9", 10**9),  # E followed by digits is an exponent, alone it is exa
        ("1E", 10**18),
        ("1e+3", 1000),
        ("1.5e3", 1500),
        ("1.", 1),  # quantity.go: "we currently allow 1.G"
        ("1.G", 10**9),
        ("007Mi", 7 * 2**20),
        ("0.000001Ti", 1099512),  # 1099511.627776 rounds up
        ("1Ei", 2**60),
        ("7.999Ei", -(-7999 * 2**60 // 1000)),
        ("9223372036854775807", 2**63 - 1),
        ("0" * 63 + "1", 1),  # the longest string the CRD admits (maxLength 64)
    ],
)
def test_quantity_bytes(value: int | str, expected: int) -> None:
    assert quantity_bytes(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "ten",
        "10Xi",
        "",
        "1m",  # milli-bytes: a typo for Mi or M
        "1u",
        "1n",
        # apimachinery's invalid list
        "1.1.M",
        "1+1.0M",
        "0.1mi",
        "0.1am",
        "aoeu",
        ".5i",
        "1i",
        "-3.01i",
        "-3.01e-",
        " 1",
        "1 ",
        "1Gi\n",
        ".",  # 0 for the API server
        "0" * 64 + "1",  # longer than the CRD's maxLength
        # not suffixes
        "1K",
        "1ki",
        "1e",
        "1Gb",
        "5e-1k",  # an exponent cannot take a suffix as well
        # the API server would wrap this exponent to 32 bits (1e9); refused rather than misread
        "1e4294967305",
    ],
)
def test_quantity_bytes_refuses_non_byte_values(value: str) -> None:
    with pytest.raises(ValueError, match="not a byte quantity"):
        quantity_bytes(value)


@pytest.mark.parametrize(
    "value", ["0", "0Gi", "-1Gi", "0.5", "1e-3", "8Ei", "1e19", "9223372036854775808", 0, -5]
)
def test_sizes_outside_one_byte_to_8ei_are_refused(value: int | str) -> None:
    with pytest.raises(ValueError, match="not a size from 1 byte to below 8Ei"):
        quantity_bytes(value)


def test_the_crd_admits_with_the_parser_pattern() -> None:
    """One definition: the CEL rule of every quantity field embeds the parser's own pattern."""

    def rules(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for rule in node.get("x-kubernetes-validations", []):
                yield rule["rule"]
            for child in node.values():
                yield from rules(child)
        elif isinstance(node, list):
            for child in node:
                yield from rules(child)

    quantity_rules = [r for kind in KINDS for r in rules(crd(kind)) if "isQuantity(self)" in r]
    assert quantity_rules, "the size field lost its admission rule"
    for rule in quantity_rules:
        assert f"self.matches('{QUANTITY_PATTERN}')" in rule
