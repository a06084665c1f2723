"""Check characters, code layouts and the index scramble."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric, uscc

from registries.authorities import government_code
from registries.identifiers import (
    USCC_ALPHABET,
    decode_base31,
    encode_base31,
    make_ric,
    make_uscc,
    normalise_id,
    org_code_check,
    ric_check,
    uscc_check,
)
from registries.scramble import Scrambler


@pytest.mark.parametrize(
    "code", ["91110000600037341L", "9115220107837757XE", "121200004013590816", "92340603MA2PBN17X5"]
)
def test_check_characters_match_published_examples(code: str) -> None:
    assert uscc_check(code[:17]) == code[17]
    assert org_code_check(code[8:16]) == code[16]


@pytest.mark.parametrize("code", ["11010519491231002X", "360426199101010071", "44011320141005001X"])
def test_ric_check_matches_published_examples(code: str) -> None:
    assert ric_check(code[:17]) == code[17]


def test_built_codes_validate_with_stdnum() -> None:
    assert uscc.is_valid(make_uscc("91", "430104", "MA4L0K3X"))
    assert uscc.is_valid(government_code("长沙市生态环境局", "430100"))
    assert ric.is_valid(make_ric("430121", date(1960, 2, 29), 13))


def test_org_body_outside_the_uscc_alphabet_is_refused() -> None:
    with pytest.raises(ValueError, match="alphabet"):
        make_uscc("91", "430104", "MA4L0K3O")


def test_normalise_id() -> None:
    assert normalise_id(" 9143-0104ma4l 0k3x2n ") == "91430104MA4L0K3X2N"


def test_base31_round_trip() -> None:
    for value in (0, 1, 30, 31, 31**6 - 1):
        text = encode_base31(value, 6)
        assert set(text) <= set(USCC_ALPHABET)
        assert decode_base31(text) == value
    assert decode_base31("MAOI") is None


@pytest.mark.parametrize("domain", [2, 31, 1000, 4097])
def test_scrambler_is_a_bijection(domain: int) -> None:
    scrambler = Scrambler(domain, f"test:{domain}")
    images = [scrambler.forward(value) for value in range(domain)]
    assert sorted(images) == list(range(domain))
    assert all(scrambler.inverse(image) == value for value, image in enumerate(images))


def test_scrambler_scatters_consecutive_values() -> None:
    scrambler = Scrambler(31**6, "test")
    images = [scrambler.forward(value) for value in range(100)]
    assert images != sorted(images)
    assert len({image // 31**4 for image in images}) > 50


def test_scrambler_rejects_values_outside_its_domain() -> None:
    with pytest.raises(ValueError, match="outside"):
        Scrambler(10, "test").forward(10)
