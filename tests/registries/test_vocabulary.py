"""The vocabulary of lists and grades: the shipped files, a deployment's own, and malformed ones."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pydantic
import pytest

from connectors.records import ListCategory
from connectors.vocabulary import (
    UnknownTerm,
    VocabularyError,
    default_vocabulary,
    load_grade_schemes,
    load_list_types,
    load_vocabulary,
    shipped_file,
)

ROOT = Path(__file__).resolve().parents[2]

LISTS = {
    "SERIOUS_DISHONEST": ("BLACK", "严重失信主体名单", ()),
    "JUDGMENT_DEBTOR": ("BLACK", "失信被执行人名单", ("court",)),
    "MAJOR_TAX_VIOLATION": ("BLACK", "重大税收违法失信主体名单", ("tax",)),
    "BIDDING_BLACKLIST": ("BLACK", "公共资源交易黑名单", ("bidding",)),
    "RESEARCH_MISCONDUCT": ("BLACK", "科研诚信严重失信行为记录", ("education",)),
    "FOOD_DRUG_DISHONEST": ("BLACK", "食品药品安全严重失信者名单", ("food_drug",)),
    "ABNORMAL_OPERATION": ("WATCH", "经营异常名录", ("commerce",)),
    "KEY_SUPERVISION": ("WATCH", "重点关注名单", ()),
    "A_TAXPAYER": ("RED", "A级纳税人名单", ("tax",)),
    "CUSTOMS_AEO": ("RED", "海关高级认证企业名单", ("customs",)),
    "HONOUR": ("RED", "诚实守信相关荣誉", ()),
}
"""The ids other engineers rely on (issue 4, item 2), exactly."""

SCHEMES = {
    "tax": ("tax", ["A", "B", "M", "C", "D"]),
    "environment": ("environment", ["GREEN", "BLUE", "YELLOW", "RED"]),
    "food_drug": ("food_drug", ["A", "B", "C", "D"]),
    "customs": (
        "customs",
        ["ADVANCED_CERTIFIED", "CERTIFIED", "REGULAR", "DISHONEST", "SERIOUSLY_DISHONEST"],
    ),
}

GOOD_LIST = """
[[list]]
id = "SERIOUS_DISHONEST"
category = "BLACK"
name = "严重失信主体名单"
"""


def test_the_shipped_lists_are_exactly_the_agreed_ones() -> None:
    vocabulary = default_vocabulary()
    assert list(vocabulary.lists) == list(LISTS)
    for list_id, (category, name, departments) in LISTS.items():
        term = vocabulary.list_type(list_id)
        assert (term.category, term.name, term.departments) == (
            ListCategory(category),
            name,
            departments,
        )
    assert vocabulary.list_type("HONOUR").kept_by("health")
    assert not vocabulary.list_type("JUDGMENT_DEBTOR").kept_by("tax")


def test_the_shipped_grade_schemes_are_best_first() -> None:
    vocabulary = default_vocabulary()
    assert set(vocabulary.schemes) == set(SCHEMES)
    for scheme_id, (department, values) in SCHEMES.items():
        scheme = vocabulary.grade_scheme(scheme_id)
        assert scheme.department == department
        assert [value.value for value in scheme.values] == values
        assert [value.rank for value in scheme.values] == list(range(1, len(values) + 1))
        assert scheme.top.value == values[0]
        assert all(value.label for value in scheme.values)
    labels = {v.value: v.label for v in vocabulary.grade_scheme("environment").values}
    assert labels == {"GREEN": "诚信", "BLUE": "良好", "YELLOW": "警示", "RED": "不良"}
    food = {v.value: v.label for v in vocabulary.grade_scheme("food_drug").values}
    assert food == {"A": "守信", "B": "基本守信", "C": "失信", "D": "严重失信"}
    customs = vocabulary.grade_scheme("customs")
    assert customs.value("ADVANCED_CERTIFIED").label == "高级认证企业"
    assert customs.value("SERIOUSLY_DISHONEST").label == "严重失信企业"


def test_tax_scores_map_to_values() -> None:
    tax = default_vocabulary().grade_scheme("tax")
    expected = {100: "A", 90: "A", 89.5: "B", 70: "B", 69: "C", 40: "C", 39.9: "D", 0: "D"}
    for score, value in expected.items():
        found = tax.value_for_score(score)
        assert found is not None
        assert found.value == value, score
    assert not tax.value("M").scored
    assert tax.value("M").description


def test_lookups_of_unknown_terms_fail_clearly() -> None:
    vocabulary = default_vocabulary()
    with pytest.raises(UnknownTerm, match="no list type 'TOURISM_RED'"):
        vocabulary.list_type("TOURISM_RED")
    with pytest.raises(UnknownTerm, match="no grade scheme 'quality'"):
        vocabulary.grade_scheme("quality")
    with pytest.raises(UnknownTerm, match="'tax' has no value 'E'"):
        vocabulary.grade_value("tax", "E")
    assert vocabulary.is_top_grade("tax", "A")
    assert not vocabulary.is_top_grade("tax", "B")
    assert not vocabulary.is_top_grade("quality", "A")


def test_the_vocabulary_is_immutable() -> None:
    vocabulary = default_vocabulary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        vocabulary.list_types = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        vocabulary.lists["NEW"] = vocabulary.list_type("HONOUR")  # type: ignore[index]
    with pytest.raises(pydantic.ValidationError):
        vocabulary.list_type("HONOUR").name = "x"  # type: ignore[misc]
    assert default_vocabulary() is vocabulary


def test_a_deployment_passes_its_own_files(tmp_path: Path) -> None:
    lists = tmp_path / "lists.toml"
    lists.write_text(
        GOOD_LIST
        + """
[[list]]
id = "TOURISM_BLACKLIST"
category = "BLACK"
name = "旅游市场严重失信名单"
departments = ["tourism"]
""",
        encoding="utf-8",
    )
    vocabulary = load_vocabulary(lists_path=lists)
    assert list(vocabulary.lists) == ["SERIOUS_DISHONEST", "TOURISM_BLACKLIST"]
    assert vocabulary.grade_schemes == load_grade_schemes()  # the shipped grades
    assert load_vocabulary(str(lists), shipped_file("grades.toml")) == vocabulary
    assert load_list_types() == default_vocabulary().list_types


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[list]\nid = 1", "not valid TOML"),
        (GOOD_LIST.replace('"BLACK"', '"GREY"'), "list.0.category"),
        (GOOD_LIST.replace('"SERIOUS_DISHONEST"', '"serious"'), "list.0.id"),
        (GOOD_LIST + GOOD_LIST, "duplicate list type ids: SERIOUS_DISHONEST"),
        (GOOD_LIST + 'colour = "black"\n', "list.0.colour: Extra inputs"),
        ("", "list: Field required"),
    ],
)
def test_a_malformed_lists_file_is_refused_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "my-lists.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError) as error:
        load_vocabulary(lists_path=path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    assert problem in message


GOOD_SCHEME = """
[[scheme]]
id = "tax"
department = "tax"
[[scheme.values]]
value = "A"
label = "A级"
rank = 1
min_score = 90
[[scheme.values]]
value = "B"
label = "B级"
rank = 2
max_score = 90
"""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (GOOD_SCHEME.replace("rank = 2", "rank = 3"), "best first with ranks 1, 2, 3"),
        (GOOD_SCHEME.replace('value = "B"', 'value = "A"'), "duplicate values A"),
        (GOOD_SCHEME.replace("min_score = 90", "min_score = 95\nmax_score = 90"), "min_score"),
        (GOOD_SCHEME + GOOD_SCHEME, "duplicate grade scheme ids: tax"),
        (GOOD_SCHEME.replace('label = "A级"', 'label = ""'), "scheme.0.values.0.label"),
    ],
)
def test_a_malformed_grades_file_is_refused_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "my-grades.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError) as error:
        load_vocabulary(grades_path=path)
    assert str(error.value).startswith(f"{path}: ")
    assert problem in str(error.value)


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(VocabularyError, match=f"^{path}: cannot read"):
        load_vocabulary(grades_path=path)


def test_the_files_are_package_data() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "vocabulary/*.toml" in pyproject["tool"]["setuptools"]["package-data"]["connectors"]
    for name in ("lists.toml", "grades.toml"):
        assert shipped_file(name).is_file()
