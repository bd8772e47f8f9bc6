"""The reason catalogue: every reason the code uses is declared there, and backend error kinds
map to the reasons users have always seen."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from stratum.api.common import Condition
from stratum.clients.errors import Backend, BackendRefused, BackendUnavailable
from stratum.clients.linstor import apicallrc
from stratum.clients.linstor.apicallrc import ApiCallRc, LinstorError
from stratum.clients.maas.errors import (
    MaasError,
    MaasForbidden,
    MaasNotFound,
    MaasStateConflict,
    MaasUnauthorized,
    MaasValidationError,
)
from stratum.reconcile import reasons
from stratum.reconcile.outcome import Outcome

OPERATOR = Path(reasons.__file__).resolve().parents[1]
# Calls that take a reason, and where: positional index (None: keyword only).
REASON_ARGS = {"waiting": 0, "done": None, "Outcome": 1, "Problem": 0, "wait": 0, "event": None}


def literal_reasons(path: Path) -> list[str]:
    """String literals passed where a reason goes."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name not in REASON_ARGS:
            continue
        index = REASON_ARGS[name]
        args = [node.args[index]] if index is not None and len(node.args) > index else []
        args += [k.value for k in node.keywords if k.arg == "reason"]
        found += [f"{path.name}:{a.lineno} {a.value}" for a in args if isinstance(a, ast.Constant)]
    return found


def test_no_reason_is_written_as_a_bare_string() -> None:
    sources = [
        p for d in ("reconcile", "handlers") for p in (OPERATOR / d).rglob("*.py") if p.name != "reasons.py"
    ]
    assert len(sources) > 15
    assert [hit for path in sources for hit in literal_reasons(path)] == []


def test_outcome_refuses_an_undeclared_reason() -> None:
    with pytest.raises(TypeError, match="not declared"):
        Outcome(False, "Typo", "x")  # type: ignore[arg-type]
    assert Outcome.waiting(reasons.PLACING, "x").reason == "Placing"


def test_every_reason_is_a_valid_condition_reason_with_a_meaning() -> None:
    assert len(reasons.CATALOGUE) >= 40
    for name, reason in reasons.CATALOGUE.items():
        assert reason == name and re.fullmatch(r"[A-Z][A-Za-z]+", name)
        assert reason.meaning
        Condition(type="Ready", status="False", reason=reason, last_transition_time="2026-01-01T00:00:00Z")
        assert reason.event_type == ("Warning" if reason.stalls or reason.failure else "Normal")


def test_a_reason_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="twice"):
        reasons.Reason("Ready", "again")


def test_states_that_need_a_person_stall_and_waits_do_not() -> None:
    stalled = {r for r in reasons.CATALOGUE.values() if r.stalls}
    assert {"NameConflict", "DeviceNotFound", "InvalidProperty", "Forbidden", "NotConfigured"} <= stalled
    waiting = {"Creating", "Placing", "WaitingForSnapshot", "MachineNotReady", "BackendUnavailable", "InUse"}
    assert waiting.isdisjoint(stalled)


def test_linstor_codes_match_the_client_constants() -> None:
    assert reasons.LINSTOR_CODES == {
        apicallrc.FAIL_INVLD_PROP: reasons.INVALID_PROPERTY,
        apicallrc.FAIL_INVLD_VLM_SIZE: reasons.INVALID_VOLUME_SIZE,
        apicallrc.FAIL_NOT_FOUND_RSC_GRP: reasons.RESOURCE_GROUP_MISSING,
        apicallrc.FAIL_NOT_ENOUGH_FREE_SPACE: reasons.NOT_ENOUGH_FREE_SPACE,
        apicallrc.FAIL_SNAPSHOTS_NOT_SUPPORTED: reasons.SNAPSHOTS_NOT_SUPPORTED,
        apicallrc.FAIL_NOT_CONNECTED: reasons.NOT_CONNECTED,
        apicallrc.FAIL_NOT_ENOUGH_NODES: reasons.NOT_ENOUGH_NODES,
        apicallrc.FAIL_IN_USE: reasons.IN_USE,
        apicallrc.FAIL_UNKNOWN_ERROR: reasons.SATELLITE_FAILED,
    }


def linstor_error(code: int) -> LinstorError:
    return LinstorError(500, [ApiCallRc(ret_code=apicallrc.MASK_ERROR | code, message="m")])


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (BackendUnavailable(Backend.LINSTOR, "down"), "BackendUnavailable"),
        (BackendUnavailable(Backend.MAAS, "down"), "BackendUnavailable"),
        (linstor_error(apicallrc.FAIL_NOT_ENOUGH_NODES), "NotEnoughNodes"),
        (linstor_error(apicallrc.FAIL_INVLD_PROP), "InvalidProperty"),
        (linstor_error(apicallrc.FAIL_EXISTS_RSC_DFN), "LinstorError"),
        (BackendRefused(Backend.LINSTOR, "HTTP 418", status=418), "BackendError"),
        (MaasValidationError(400, "bad", {}), "Invalid"),
        (MaasUnauthorized(401, "key", {}), "Unauthorized"),
        (MaasForbidden(403, "admin only", {}), "Forbidden"),
        (MaasNotFound(404, "gone", {}), "NotFound"),
        (MaasStateConflict(409, "not Ready", {}), "MachineNotReady"),
        (MaasError(418, "teapot", {}), "MaasRejected"),
        (BackendRefused(Backend.KUBERNETES, "HTTP 422", status=422), "BackendError"),
    ],
)
def test_error_kinds_map_to_reasons(error: Exception, reason: str) -> None:
    assert isinstance(error, reasons.BackendError)
    assert reasons.for_error(error) == reason
