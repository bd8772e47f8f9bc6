"""Sizes between Kubernetes quantities, bytes and LINSTOR's KiB."""

from __future__ import annotations

from stratum.api.common import quantity_bytes

_UNITS = (("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def quantity_kib(value: int | str) -> int:
    """LINSTOR sizes are KiB; a quantity that is not a whole KiB rounds up."""
    return -(-quantity_bytes(value) // 1024)


def bytes_to_quantity(size: int) -> str:
    """The largest binary unit that represents the size exactly, e.g. 10Gi."""
    for suffix, factor in _UNITS:
        if size >= factor and size % factor == 0:
            return f"{size // factor}{suffix}"
    return str(size)


def kib_to_quantity(kib: int) -> str:
    return bytes_to_quantity(kib * 1024)
