from datetime import date

import pytest

from resolvers.errors import CodedError, ErrorCode
from resolvers.identifiers import SubjectKind, normalise, parse_subject_id

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("91110000600037341L", SubjectKind.LEGAL_PERSON),
        ("9115220107837757XE", SubjectKind.LEGAL_PERSON),
        ("121200004013590816", SubjectKind.LEGAL_PERSON),
        ("92340603MA2PBN17X5", SubjectKind.INDIVIDUAL_BUSINESS),
        ("11010519491231002X", SubjectKind.NATURAL_PERSON),
        ("360426199101010071", SubjectKind.NATURAL_PERSON),
        ("44011320141005001X", SubjectKind.NATURAL_PERSON),
    ],
)
def test_valid_examples_of_domain_md(raw: str, kind: SubjectKind) -> None:
    parsed = parse_subject_id(raw, TODAY)
    assert parsed.value == raw
    assert parsed.kind is kind


@pytest.mark.parametrize(
    "raw",
    [
        "91110000600037341l",
        " 9111 0000 6000 37341L ",
        "9111-0000-6000-37341L",
        "９１１１００００６０００３７３４１Ｌ",  # full-width, as pasted from a Chinese document
        "\t91110000600037341L\n",
    ],
)
def test_lower_case_spaces_hyphens_and_full_width_are_normalised(raw: str) -> None:
    assert parse_subject_id(raw, TODAY).value == "91110000600037341L"


def test_resident_number_with_lower_case_x() -> None:
    assert parse_subject_id("11010519491231002x", TODAY).value == "11010519491231002X"


def _error(raw: str) -> str:
    with pytest.raises(CodedError) as caught:
        parse_subject_id(raw, TODAY)
    assert caught.value.code is ErrorCode.INVALID_SUBJECT_ID
    return caught.value.message


@pytest.mark.parametrize("raw", ["", "   ", "--"])
def test_empty(raw: str) -> None:
    assert "empty" in _error(raw)


@pytest.mark.parametrize("raw", ["9111000060003734", "91110000600037341LL", "1"])
def test_wrong_length_says_how_long(raw: str) -> None:
    message = _error(raw)
    assert "18 characters" in message
    assert f"got {len(raw)}" in message


def test_overlong_input_is_refused_before_normalising() -> None:
    assert "18 characters" in _error("9" * 10_000)


def test_bad_credit_code_checksum() -> None:
    assert "check character" in _error("91110000600037341A")
    assert "unified social credit code" in _error("91110000600037341A")


def test_forbidden_letters_are_named() -> None:
    message = _error("9111000060003734IO")
    assert "'I'" in message
    assert "'O'" in message


def test_non_digit_division_code() -> None:
    assert "must be digits" in _error("A1110000600037341L")


def test_bad_resident_number_checksum() -> None:
    message = _error("110105194912310021")
    assert "resident identity number" in message
    assert "check character" in message


def test_birth_date_not_a_real_date() -> None:
    assert "not a real date" in _error("11010519490231002X")


def test_birth_date_in_the_future() -> None:
    assert "in the future" in _error("11010520991231002X")


def test_bad_last_character_of_resident_number() -> None:
    assert "digit or X" in _error("11010519491231002Y")


def test_unknown_address_code() -> None:
    # 990000 is no division; the check digit is made right so only the address is wrong.
    from stdnum.cn import ric

    body = "99000019900101123"
    number = body + ric.calc_check_digit(body + "0")
    assert "address code" in _error(number)


def test_normalise_keeps_other_characters_for_the_validator_to_reject() -> None:
    assert normalise("a-b c") == "ABC"


def test_default_today_is_the_date_in_china() -> None:
    from datetime import UTC, datetime, timedelta

    from connectors.records import today_in_china

    assert today_in_china() == (datetime.now(UTC) + timedelta(hours=8)).date()
