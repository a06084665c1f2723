"""Loading and checking the measures file (gateway.measures_file): the shipped one, bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.catalogue_file import load_catalogue
from gateway.config_files import ConfigError
from gateway.measures_file import (
    DEFAULT_MEASURES_FILE,
    catalogue_measure_problems,
    check_catalogue_measures,
    load_measures,
)
from gateway.settings import DEFAULTS_DIR
from resolvers.catalogue import Catalogue, Matter
from resolvers.measures import MeasureKind

DOMAIN_MEASURES = (
    "P_STRICT_LICENSING",
    "P_MARKET_ACCESS",
    "P_PROJECT_APPROVAL",
    "P_OFFICER_BAN",
    "P_SECURITIES",
    "P_FIN_INSTITUTION",
    "P_BANK_CREDIT",
    "P_INTERNET_INFO",
    "P_FISCAL_FUNDS",
    "P_PUBLIC_RESOURCE",
    "P_FRANCHISE",
    "P_HONORS",
    "P_KEY_SUPERVISION",
    "P_NO_EXEMPTION",
    "P_REVOKE_QUALIFICATION",
    "C_EXIT",
    "C_REAL_ESTATE",
    "C_FLIGHT",
    "C_HIGH_SPEED_RAIL",
    "C_LEISURE_TRAVEL",
    "C_STAR_HOTEL",
    "I_FAST_TRACK",
    "I_ACCEPT_INCOMPLETE",
    "I_FEWER_INSPECTIONS",
    "I_PRIORITY_FISCAL",
    "I_BIDDING_BONUS",
    "I_PRIORITY_AWARDS",
    "I_PUBLIC_PROMOTION",
)
"""Every measure id of DOMAIN.md, "Measures of joint reward and punishment", in its order."""

BLACK = {
    "SERIOUS_DISHONEST",
    "JUDGMENT_DEBTOR",
    "MAJOR_TAX_VIOLATION",
    "BIDDING_BLACKLIST",
    "RESEARCH_MISCONDUCT",
    "FOOD_DRUG_DISHONEST",
}
WATCH = {"ABNORMAL_OPERATION", "KEY_SUPERVISION"}
RED = {"A_TAXPAYER", "CUSTOMS_AEO", "HONOUR"}
SCHEMES = {
    "tax": ["A", "B", "M", "C", "D"],
    "environment": ["GREEN", "BLUE", "YELLOW", "RED"],
    "food_drug": ["A", "B", "C", "D"],
    "customs": ["ADVANCED_CERTIFIED", "CERTIFIED", "REGULAR", "DISHONEST", "SERIOUSLY_DISHONEST"],
}
KNOWN_GRADES = {f"{scheme}:{value}" for scheme, values in SCHEMES.items() for value in values}
TOP_GRADES = {f"{scheme}:{values[0]}" for scheme, values in SCHEMES.items()}


# --- the shipped file -------------------------------------------------------------------------


def test_the_shipped_file_defines_exactly_the_measures_of_domain_md() -> None:
    measures = load_measures()

    assert DEFAULT_MEASURES_FILE == DEFAULTS_DIR / "measures.toml"
    assert [m.id for m in measures] == list(DOMAIN_MEASURES)
    for measure in measures:
        expected = MeasureKind.INCENTIVE if measure.id[0] == "I" else MeasureKind.RESTRICTION
        assert measure.kind is expected, measure.id
        assert measure.name
        assert measure.description
        assert measure.legal_basis
        assert (measure.group == "consumption") == measure.id.startswith("C_"), measure.id


def test_the_shipped_file_uses_only_the_departments_vocabulary() -> None:
    load_measures(known_lists=BLACK | WATCH | RED, known_grades=KNOWN_GRADES)


def test_the_shipped_file_targets_sensibly() -> None:
    measures = {m.id: m for m in load_measures()}

    for measure in measures.values():
        if measure.kind is MeasureKind.INCENTIVE:
            assert measure.lists <= RED, measure.id
            assert measure.grades <= TOP_GRADES, measure.id
        else:
            assert not measure.lists & RED, measure.id
            assert not measure.grades & TOP_GRADES, measure.id
    assert [m.id for m in measures.values() if m.extends_to_officers] == ["P_OFFICER_BAN"]
    assert measures["P_OFFICER_BAN"].lists == {"SERIOUS_DISHONEST", "JUDGMENT_DEBTOR"}
    assert measures["P_PUBLIC_RESOURCE"].lists == {
        "SERIOUS_DISHONEST",
        "BIDDING_BLACKLIST",
        "JUDGMENT_DEBTOR",
        "MAJOR_TAX_VIOLATION",
    }
    assert measures["P_KEY_SUPERVISION"].lists >= WATCH
    assert measures["P_KEY_SUPERVISION"].grades >= {
        "tax:D",
        "environment:RED",
        "food_drug:D",
        "customs:SERIOUSLY_DISHONEST",
    }
    for consumption in (m for m in measures.values() if m.group == "consumption"):
        assert consumption.lists == {"JUDGMENT_DEBTOR"}
        assert consumption.grades == frozenset()
    assert measures["I_BIDDING_BONUS"].lists == {"A_TAXPAYER", "HONOUR"}
    assert measures["I_BIDDING_BONUS"].grades == {"tax:A"}
    assert measures["I_FAST_TRACK"].lists == RED
    assert measures["I_FAST_TRACK"].grades == TOP_GRADES


def test_the_shipped_catalogue_cites_only_defined_measures() -> None:
    catalogue = load_catalogue(DEFAULTS_DIR / "catalogue.toml")
    measures = load_measures()

    assert catalogue_measure_problems(catalogue, measures) == {}
    check_catalogue_measures(catalogue, measures)


def test_a_catalogue_citing_undefined_measures_is_refused_naming_each_matter() -> None:
    def matter(matter_id: str, *measures: str) -> Matter:
        return Matter(matter_id, "名称", "commerce", "依据", "方法", ("commerce",), measures)

    catalogue = Catalogue(
        (
            matter("CM-GOOD", "P_MARKET_ACCESS"),
            matter("CM-TYPO", "P_MARKET_ACCES", "I_FAST_TRACK"),
            matter("CM-INVENTED", "I_FREE_LUNCH", "C_YACHT"),
        )
    )
    measures = load_measures()

    assert catalogue_measure_problems(catalogue, measures) == {
        "CM-TYPO": ("P_MARKET_ACCES",),
        "CM-INVENTED": ("I_FREE_LUNCH", "C_YACHT"),
    }
    with pytest.raises(ConfigError) as raised:
        check_catalogue_measures(
            catalogue, measures, catalogue_source="cat.toml", measures_source="measures.toml"
        )
    message = str(raised.value)
    assert message.startswith("cat.toml: ")
    assert "measures.toml" in message
    assert "CM-TYPO" in message
    assert "P_MARKET_ACCES" in message
    assert "CM-INVENTED" in message
    assert "I_FREE_LUNCH" in message
    assert "C_YACHT" in message
    assert "CM-GOOD" not in message


# --- bad files ----------------------------------------------------------------------------------

GOOD_TABLE = """\
[[measures]]
id = "P_MARKET_ACCESS"
kind = "RESTRICTION"
name = "市场和行业禁入"
description = "禁入"
legal_basis = "国发〔2016〕33号"
lists = ["SERIOUS_DISHONEST"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "measures.toml"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return numbers[occurrence - 1]


def refusal(path: Path, **vocabulary: set[str]) -> str:
    with pytest.raises(ConfigError) as raised:
        load_measures(path, **vocabulary)
    return str(raised.value)


def test_a_good_file_loads(tmp_path: Path) -> None:
    (measure,) = load_measures(write(tmp_path, GOOD_TABLE))

    assert measure.id == "P_MARKET_ACCESS"
    assert measure.lists == {"SERIOUS_DISHONEST"}
    assert measure.grades == frozenset()
    assert not measure.extends_to_officers
    assert measure.group is None


def test_a_duplicate_id_is_refused_naming_both_lines(tmp_path: Path) -> None:
    text = GOOD_TABLE + "\n" + GOOD_TABLE
    path = write(tmp_path, text)
    message = refusal(path)

    second, first = line_of(text, "id = ", 2), line_of(text, "id = ", 1)
    assert message.startswith(f"{path}:{second}: measure P_MARKET_ACCESS is defined twice")
    assert f"first at {path}:{first}" in message


def test_an_unknown_kind_is_refused_at_its_line(tmp_path: Path) -> None:
    text = (
        GOOD_TABLE
        + "\n"
        + GOOD_TABLE.replace("P_MARKET", "P_OTHER").replace('"RESTRICTION"', '"PENALTY"')
    )
    path = write(tmp_path, text)
    message = refusal(path)

    assert message.startswith(f"{path}:{line_of(text, 'PENALTY')}: measure P_OTHER_ACCESS: kind:")
    assert "RESTRICTION" in message


@pytest.mark.parametrize(
    ("measure_id", "kind"),
    [("P_X", "INCENTIVE"), ("C_X", "INCENTIVE"), ("I_X", "RESTRICTION")],
)
def test_a_kind_contradicting_the_prefix_is_refused(
    tmp_path: Path, measure_id: str, kind: str
) -> None:
    text = GOOD_TABLE.replace("P_MARKET_ACCESS", measure_id).replace('"RESTRICTION"', f'"{kind}"')
    path = write(tmp_path, text)

    assert refusal(path).startswith(f"{path}:{line_of(text, 'kind =')}: measure {measure_id}: a ")


@pytest.mark.parametrize("bad", ["P_lower", "X_MEASURE", "P_", "I_FAST-TRACK", "P_TWO WORDS"])
def test_a_malformed_id_is_refused(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, GOOD_TABLE.replace("P_MARKET_ACCESS", bad))

    assert refusal(path).startswith(f"{path}:2: measure {bad}: id: ")


def test_a_malformed_grade_reference_is_refused_at_its_own_line(tmp_path: Path) -> None:
    text = GOOD_TABLE + 'grades = [\n    "tax:A",\n    "tax-D",\n]\n'
    path = write(tmp_path, text)
    message = refusal(path)

    assert message.startswith(
        f"{path}:{line_of(text, 'tax-D')}: measure P_MARKET_ACCESS: grades.1:"
    )
    assert "scheme:VALUE" in message


@pytest.mark.parametrize("bad", ["TAX:A", "tax:a", "tax", ":A", "tax:A:B"])
def test_every_malformed_grade_reference_is_refused(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, GOOD_TABLE + f'grades = ["{bad}"]\n')

    assert "grades.0" in refusal(path)


def test_a_malformed_list_type_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_TABLE.replace('"SERIOUS_DISHONEST"', '"serious dishonest"'))

    assert refusal(path).startswith(f"{path}:7: measure P_MARKET_ACCESS: lists.0: ")


def test_a_repeated_target_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_TABLE + 'grades = ["tax:D", "tax:D"]\n')

    message = refusal(path)
    assert message.startswith(f"{path}:8: measure P_MARKET_ACCESS: grades: ")
    assert "repeats ['tax:D']" in message


def test_an_unknown_field_is_refused_at_its_line(tmp_path: Path) -> None:
    text = GOOD_TABLE + 'colour = "red"\n'
    path = write(tmp_path, text)

    message = refusal(path)
    assert message.startswith(f"{path}:{line_of(text, 'colour')}: measure P_MARKET_ACCESS: colour:")
    assert "Extra inputs are not permitted" in message


def test_a_missing_field_is_refused_at_the_tables_header(tmp_path: Path) -> None:
    text = (
        GOOD_TABLE
        + "\n"
        + GOOD_TABLE.replace("P_MARKET", "P_OTHER").replace(
            'legal_basis = "国发〔2016〕33号"\n', ""
        )
    )
    path = write(tmp_path, text)

    message = refusal(path)
    header = line_of(text, "[[measures]]", 2)
    assert message.startswith(f"{path}:{header}: measure P_OTHER_ACCESS: legal_basis: ")
    assert "Field required" in message


def test_a_measure_targeting_nothing_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_TABLE.replace('["SERIOUS_DISHONEST"]', "[]"))

    assert refusal(path) == f"{path}:1: measure P_MARKET_ACCESS: " + (
        "targets no list and no grade, so it could never apply"
    )


def test_extends_to_officers_must_be_a_boolean(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_TABLE + 'extends_to_officers = "yes"\n')

    assert refusal(path).startswith(f"{path}:8: measure P_MARKET_ACCESS: extends_to_officers: ")


def test_targets_outside_a_given_vocabulary_are_refused(tmp_path: Path) -> None:
    text = GOOD_TABLE + 'grades = [\n    "tax:A",\n    "tax:AA",\n]\n'
    path = write(tmp_path, text)

    lists = refusal(path, known_lists={"JUDGMENT_DEBTOR"})
    assert lists == f"{path}:7: measure P_MARKET_ACCESS: unknown list types ['SERIOUS_DISHONEST']"
    grades = refusal(path, known_grades=KNOWN_GRADES)
    assert grades == f"{path}:{line_of(text, 'tax:AA')}: measure P_MARKET_ACCESS: " + (
        "unknown grades ['tax:AA']"
    )
    # Without a vocabulary, well-formed targets are accepted.
    load_measures(path, known_lists=BLACK)


def test_an_unknown_top_level_key_is_refused_at_its_line(tmp_path: Path) -> None:
    text = GOOD_TABLE + "\n[penalties]\nx = 1\n"
    path = write(tmp_path, text)

    assert refusal(path).startswith(f"{path}:{line_of(text, '[penalties]')}: penalties: ")


def test_a_file_without_measures_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")

    assert refusal(path).startswith(f"{path}: measures: Field required")


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_TABLE + "lists = [\n")

    assert refusal(path).startswith(f"{path}: not valid TOML")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    assert refusal(path).startswith(f"cannot read measures {path}")
