"""What a simulated volume "contains", so that a backup carries data a restore can check.

A simulated volume has no blocks; its content is named by a seed (new volumes: derived from the
resource definition's UUID; `POST /_sim/write` gives a volume a fresh seed, like a write).  A
shipped data object is a one-line JSON header plus a payload expanded deterministically from the
seed, 1 byte per 64 KiB of volume (between 256 B and 256 KiB), 1/16 of that for an incremental
object: proportional to the volume, never gigabytes.  A restore reads the objects back, checks
every payload against its header, and the restored volume takes over the seed, so its digest
(`GET /_sim/volume-data`) equals the source's at backup time.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FORMAT = "stratum-sim-volume/1"
KIB_PER_BYTE = 64
MIN_BYTES = 256
MAX_BYTES = 256 * 1024
INCREMENTAL_DIVISOR = 16


def initial_seed(rd_uuid: str, vlm_nr: int) -> str:
    return f"{rd_uuid}/{vlm_nr}"


def payload_size(size_kib: int, incremental: bool) -> int:
    full = min(max(size_kib // KIB_PER_BYTE, MIN_BYTES), MAX_BYTES)
    return max(full // INCREMENTAL_DIVISOR, MIN_BYTES) if incremental else full


def expand(seed: str, size: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}#{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def digest(seed: str, size_kib: int) -> str:
    """The content digest of a volume of this size holding this seed."""
    return hashlib.sha256(expand(seed, payload_size(size_kib, False))).hexdigest()


def encode(seed: str, size_kib: int, based_on: str | None) -> bytes:
    size = payload_size(size_kib, based_on is not None)
    header = {"format": FORMAT, "seed": seed, "sizeKib": size_kib, "basedOn": based_on, "payloadBytes": size}
    return json.dumps(header, sort_keys=True).encode() + b"\n" + expand(seed, size)


def decode(data: bytes) -> dict[str, Any]:
    """The header of a data object whose payload checks out; ValueError if it is not one of ours."""
    head, sep, payload = data.partition(b"\n")
    if not sep:
        raise ValueError("no header line")
    try:
        header = json.loads(head)
    except ValueError as exc:
        raise ValueError(f"unreadable header: {exc}") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("not a simulator volume object")
    seed = str(header.get("seed"))
    if len(payload) != header.get("payloadBytes") or payload != expand(seed, len(payload)):
        raise ValueError("payload does not match its seed (corrupt object)")
    return header
