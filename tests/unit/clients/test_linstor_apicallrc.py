"""Severity and code are separate fields of the signed 64-bit ret_code."""

from __future__ import annotations

import pytest

from stratum.clients.linstor.apicallrc import ApiCallRc, LinstorError, parse_answers
from stratum.clients.linstor.config import LinstorConfig, parse_controllers
from stratum.reconcile import reasons

# Values from real controllers (reference §2.2).
RG_CREATED = 21233665
EXISTS_RSC_GRP = -4611686018406153718
NOT_ENOUGH_NODES = -4611686018407201820
WARN_NOT_FOUND_ON_DELETE = -9223372036833539144
UNKNOWN_ON_RG_MODIFY = -4611686018406153242


@pytest.mark.parametrize(
    ("ret_code", "error", "warning", "code"),
    [
        (RG_CREATED, False, False, 1),
        (EXISTS_RSC_GRP, True, False, 522),
        (NOT_ENOUGH_NODES, True, False, 996),
        (WARN_NOT_FOUND_ON_DELETE, False, True, 3000),
        (UNKNOWN_ON_RG_MODIFY, True, False, 998),
    ],
)
def test_severity_and_code(ret_code: int, error: bool, warning: bool, code: int) -> None:
    answer = ApiCallRc(ret_code=ret_code, message="m")
    assert (answer.is_error, answer.is_warning, answer.code) == (error, warning, code)


def test_an_error_is_not_mistaken_for_a_warning_nor_a_code_for_its_superset() -> None:
    # An ERROR has both severity bits set, so a bit-subset test calls it a warning; and
    # FAIL_EXISTS_RSC_DFN (501) contains the bits of 500 - python-linstor's checks get both wrong.
    exists_rd = ApiCallRc(ret_code=-4611686018406153718 - 522 + 501, message="exists")
    assert exists_rd.code == 501 and exists_rd.code != 500
    assert exists_rd.is_error and not exists_rd.is_warning
    assert (exists_rd.ret_code & 0x8000000000000000) == 0x8000000000000000  # the naive test says "warning"


def test_error_carries_message_cause_correction_and_reason() -> None:
    answers = parse_answers(
        [
            {"ret_code": 21233665, "message": "fine"},
            {
                "ret_code": NOT_ENOUGH_NODES,
                "message": "Not enough available nodes",
                "cause": "Only 1 node matched",
                "correction": "Add nodes",
                "details": "d",
            },
        ]
    )
    assert answers is not None
    error = LinstorError(500, answers)
    assert error.code == 996 and error.ret_code == NOT_ENOUGH_NODES
    assert reasons.for_error(error) == "NotEnoughNodes"
    assert error.message == "Not enough available nodes. Cause: Only 1 node matched. Correction: Add nodes."
    assert error.has_code(996) and not error.has_code(997)


def test_non_answer_bodies_are_not_parsed_as_answers() -> None:
    assert parse_answers({"name": "x"}) is None
    assert parse_answers([{"name": "rg"}]) is None
    assert parse_answers([]) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("linstor://ctrl", ("http://ctrl:3370",)),
        ("linstor+ssl://ctrl", ("https://ctrl:3371",)),
        ("linstor://a:1234, linstor+ssl://b", ("http://a:1234", "https://b:3371")),
        ("ctrl", ("http://ctrl:3370",)),
        ("http://[::1]:3370", ("http://[::1]:3370",)),
    ],
)
def test_controllers_from_ls_controllers(value: str, expected: tuple[str, ...]) -> None:
    assert parse_controllers(value) == expected


def test_bad_controller_list_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="LS_CONTROLLERS"):
        parse_controllers("ftp://x")
    config = LinstorConfig.from_env({"LS_CONTROLLERS": "linstor+ssl://c", "LS_ROOT_CA": "/ca.pem"})
    assert config.controllers == ("https://c:3371",) and config.root_ca == "/ca.pem"
