"""Which LINSTOR controllers Stratum talks to, and what each version can do.

The minimum is REST API 1.24.0 (LINSTOR 1.30): every request body the operator sends is known
there — `snapshot_definition_props` (REST 1.24, carries the Snapshot owner marker),
`resource_definition_props` on spawn (1.22), `definitions_only` (1.0) — and an older
controller's JSON parser refuses unknown fields as a parse error (linstor-server
api/rest/v1/*.java, plain ObjectMapper). Two capabilities depend on the version and are used
only when present: sync progress (`replication_states`, REST 1.25 / LINSTOR 1.31) and rollback to
any snapshot ("rollback via restore", LINSTOR 1.31; before, only the most recent snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass

from stratum.clients.errors import Backend, BackendRefused
from stratum.clients.linstor.models import ControllerVersion

MIN_REST_API = (1, 24, 0)
MIN_LINSTOR = "1.30.0"
SYNC_PROGRESS_REST_API = (1, 25, 0)
ROLLBACK_ANY_SNAPSHOT = (1, 31, 0)


def parse_version(text: str) -> tuple[int, int, int]:
    core = text.split("-", 1)[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class Controller:
    version: str
    rest_api_version: str

    @classmethod
    def of(cls, answer: ControllerVersion) -> Controller:
        return cls(answer.version, answer.rest_api_version)

    @property
    def supported(self) -> bool:
        rest = parse_version(self.rest_api_version)
        return rest[0] == MIN_REST_API[0] and rest >= MIN_REST_API

    @property
    def reports_sync_progress(self) -> bool:
        return parse_version(self.rest_api_version) >= SYNC_PROGRESS_REST_API

    @property
    def rollback_to_any_snapshot(self) -> bool:
        return parse_version(self.version) >= ROLLBACK_ANY_SNAPSHOT

    def refusal(self) -> str:
        return (
            f"LINSTOR controller {self.version} (REST API {self.rest_api_version}) is not supported: "
            f"Stratum needs REST API 1.x >= {'.'.join(map(str, MIN_REST_API))} (LINSTOR >= {MIN_LINSTOR}), "
            "the first that accepts every field it sends (snapshot_definition_props carries the "
            "Snapshot owner marker); LINSTOR >= 1.31 adds sync progress and rollback to any snapshot"
        )


class UnsupportedController(BackendRefused):
    """Raised instead of sending anything to a controller Stratum does not support."""

    def __init__(self, message: str) -> None:
        super().__init__(Backend.LINSTOR, message, detail={"unsupportedController": True})
