from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from resolvers.errors import CodedError, ErrorCode
from resolvers.identifiers import (
    SubjectId,
    SubjectKind,
    division_existed,
    normalise,
    parse_subject_id,
)

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


@pytest.mark.parametrize(
    "address",
    [
        "110101",  # a division since before 1900
        "110103",  # Chongwen, merged away in 2010
        "110110",  # Yanshan, until 1986
        "110111",  # Fangshan, from 1986
        "110112",  # Tongzhou, from 1997
        "430102",  # Changsha's Furong
        "990000",  # no division at all
        "110199",  # unassigned inside Beijing
    ],
)
def test_the_memoised_division_check_answers_as_stdnum(address: str) -> None:
    """`division_existed` stands in for `ric.get_birth_place` on the id's own number: for every
    year either side of the divisions' changes, both say the same, asked once or twice."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    for year in (1949, 1985, 1986, 1996, 1997, 2009, 2010, 2011, 2026):
        body = f"{address}{year}0615123"
        number = body + ric.calc_check_digit(body + "0")
        try:
            ric.get_birth_place(number)
            expected = True
        except (ValidationError, KeyError):  # KeyError: stdnum's, for a county it lacks
            expected = False
        assert division_existed(address, year) is expected, (address, year)
        assert division_existed(address, year) is expected  # from the memo


def test_a_retired_division_is_refused_for_people_born_after_it_ended() -> None:
    from stdnum.cn import ric

    body = "11010320150615123"  # Chongwen (ended 2010), born 2015
    number = body + ric.calc_check_digit(body + "0")
    assert "address code 110103" in _error(number)
    born_before = "11010320050615123"
    valid = born_before + ric.calc_check_digit(born_before + "0")
    assert parse_subject_id(valid, TODAY).kind is SubjectKind.NATURAL_PERSON


def test_normalise_keeps_other_characters_for_the_validator_to_reject() -> None:
    assert normalise("a-b c") == "ABC"


def test_default_today_is_the_date_in_china() -> None:
    from datetime import UTC, datetime, timedelta

    from connectors.records import today_in_china

    assert today_in_china() == (datetime.now(UTC) + timedelta(hours=8)).date()


# Properties over generated input (hypothesis): small, derandomised runs, so the suite stays fast
# and a failure reproduces.
VALID = (
    "91110000600037341L",
    "92340603MA2PBN17X5",
    "121200004013590816",
    "11010519491231002X",
    "360426199101010071",
)
SEPARATORS = st.sampled_from([" ", "-", "\t", "\u2014", "_", "\u3000", "\n"])
PROPERTIES = settings(max_examples=200, derandomize=True, deadline=None, database=None)


def _parsed_or_error(raw: str) -> SubjectId | CodedError:
    try:
        return parse_subject_id(raw, TODAY)
    except CodedError as exc:
        return exc


@PROPERTIES
@given(raw=st.text(max_size=100))
def test_any_text_is_an_id_or_an_invalid_subject_id_error(raw: str) -> None:
    """Nothing a client sends makes the parser fail otherwise (no IndexError, ValueError ...),
    and every refusal says something."""
    parsed = _parsed_or_error(raw)
    if isinstance(parsed, CodedError):
        assert parsed.code is ErrorCode.INVALID_SUBJECT_ID
        assert parsed.message.endswith(".")
        assert len(parsed.message) < 300
        return
    assert len(parsed.value) == 18
    assert parse_subject_id(parsed.value, TODAY) == parsed


@PROPERTIES
@given(
    address=st.integers(0, 999_999),
    born=st.dates(date(1900, 1, 1), TODAY),
    serial=st.integers(0, 999),
)
def test_any_well_formed_resident_number_is_an_id_or_an_invalid_subject_id_error(
    address: int, born: date, serial: int
) -> None:
    """Any address code in a number whose date and check character are right: arbitrary text
    almost never reaches the division lookup, and stdnum's failed with a KeyError there for a
    province's code with no such county (which reached clients as a 500)."""
    from stdnum.cn import ric, uscc

    body = f"{address:06d}{born:%Y%m%d}{serial:03d}"
    parsed = _parsed_or_error(body + ric.calc_check_digit(body + "0"))
    if isinstance(parsed, CodedError):
        assert parsed.code is ErrorCode.INVALID_SUBJECT_ID
    else:  # a person's number, or (all digits) a valid credit code, which comes second
        assert parsed.kind is SubjectKind.NATURAL_PERSON or uscc.is_valid(parsed.value)


@PROPERTIES
@given(
    valid=st.sampled_from(VALID),
    cuts=st.lists(st.integers(0, 18), max_size=4),
    separator=SEPARATORS,
    full_width=st.booleans(),
    lower=st.booleans(),
)
def test_formatting_never_changes_which_subject_an_id_names(
    valid: str, cuts: list[int], separator: str, full_width: bool, lower: bool
) -> None:
    raw = valid.lower() if lower else valid
    if full_width:
        raw = "".join(chr(ord(c) + 0xFEE0) for c in raw)  # ASCII -> full-width forms
    for cut in sorted(set(cuts), reverse=True):
        raw = raw[:cut] + separator + raw[cut:]
    assert parse_subject_id(raw, TODAY).value == valid


@PROPERTIES
@given(valid=st.sampled_from(VALID), index=st.integers(0, 17), data=st.data())
def test_one_mistyped_character_never_names_another_subject_of_the_same_scheme(
    valid: str, index: int, data: st.DataObject
) -> None:
    """Both schemes' check characters catch every single-character substitution: a mistyped id
    is refused, unless the typo happens to form a valid id of the other scheme (an all-digit
    string can be a credit code or a resident number)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != valid[index]]))
    mistyped = valid[:index] + replacement + valid[index + 1 :]
    person = parse_subject_id(valid, TODAY).kind is SubjectKind.NATURAL_PERSON
    parsed = _parsed_or_error(mistyped)
    if isinstance(parsed, CodedError):
        assert parsed.code is ErrorCode.INVALID_SUBJECT_ID
        return
    assert (parsed.kind is SubjectKind.NATURAL_PERSON) is not person


def _judged_person_first(value: str) -> SubjectKind | str:
    """How an id of 17 digits was judged before codes were tried first: as a resident number,
    then as a credit code, then refused (the message, or a mark where the rest decides)."""
    from stdnum.cn import uscc

    from resolvers.identifiers import _organisation_kind, _resident_number_error

    person_error = _resident_number_error(value, TODAY)
    if person_error is None:
        return SubjectKind.NATURAL_PERSON
    if uscc.is_valid(value):
        return _organisation_kind(value)
    return "refused"


def _with_check(body: str, scheme: str) -> str:
    from stdnum.cn import ric, uscc

    calc = uscc.calc_check_digit if scheme == "uscc" else ric.calc_check_digit
    return body + calc(body + "0")


_DIGITS = st.from_regex(r"\A[0-9]{17}\Z")


@PROPERTIES
@given(
    value=st.one_of(
        st.from_regex(r"\A[0-9]{17}[0-9X]\Z"),
        _DIGITS.map(lambda body: _with_check(body, "uscc")),
        _DIGITS.map(lambda body: _with_check(body, "ric")),
        st.builds(
            lambda born, serial: _with_check(f"110105{born:%Y%m%d}{serial:03d}", "ric"),
            st.dates(date(1900, 1, 1), TODAY),
            st.integers(0, 999),
        ),
    )
)
@example("110105197001010054")  # a resident number that is also a valid credit code
@example("110105197001020439")
@example("914304212222826132")  # a credit code of digits
def test_codes_of_digits_are_judged_as_when_persons_were_tried_first(value: str) -> None:
    """Checking a code of digits as a credit code first (when it cannot be a resident number)
    names the same kind, or refuses, exactly as trying it as a resident number first did; a
    number valid as both is still a person's."""
    parsed = _parsed_or_error(value)
    expected = _judged_person_first(value)
    if expected == "refused":
        assert isinstance(parsed, CodedError)
    else:
        assert isinstance(parsed, SubjectId)
        assert parsed.kind is expected
