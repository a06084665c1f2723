"""The government offices that decide penalties and issue licences, with their codes.

Offices exist at three levels (province, city, county) and are named the way Hunan names them
(长沙市生态环境局岳麓分局, 长沙市岳麓区市场监督管理局). Every office gets a valid USCC of an
organ of state (prefix 11) derived from its name, so the same office has the same code in every
record and every dataset, as a real one would.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from dataclasses import dataclass

from connectors.records import Authority
from registries.divisions import PROVINCE_ABBR, PROVINCE_CODE, Division
from registries.identifiers import make_uscc


class Level(enum.Enum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class Branch(enum.Enum):
    """The line of government a registry belongs to; each names its offices differently."""

    ECOLOGY = "ecology"
    MARKET = "market"
    HEALTH = "health"
    DRUG = "drug"
    DEVELOPMENT = "development"
    EDUCATION = "education"
    SCIENCE = "science"
    TAX = "tax"
    CUSTOMS = "customs"
    COURT = "court"


@dataclass(frozen=True, slots=True)
class Office:
    """An office and the prefix its document numbers start with (湘, 长, 长岳 ...)."""

    authority: Authority
    abbr: str


_PROVINCIAL = {
    Branch.ECOLOGY: "湖南省生态环境厅",
    Branch.MARKET: "湖南省市场监督管理局",
    Branch.HEALTH: "湖南省卫生健康委员会",
    Branch.DRUG: "湖南省药品监督管理局",
    Branch.DEVELOPMENT: "湖南省发展和改革委员会",
    Branch.EDUCATION: "湖南省教育厅",
    Branch.SCIENCE: "湖南省科学技术厅",
    Branch.TAX: "国家税务总局湖南省税务局",
    Branch.COURT: "湖南省高级人民法院",
}
_CITY_SUFFIX = {
    Branch.ECOLOGY: "生态环境局",
    Branch.MARKET: "市场监督管理局",
    Branch.HEALTH: "卫生健康委员会",
    Branch.DEVELOPMENT: "发展和改革委员会",
    Branch.EDUCATION: "教育局",
    Branch.SCIENCE: "科学技术局",
    Branch.COURT: "中级人民法院",
}
_COUNTY_SUFFIX = {
    Branch.MARKET: "市场监督管理局",
    Branch.HEALTH: "卫生健康局",
    Branch.DEVELOPMENT: "发展和改革局",
    Branch.EDUCATION: "教育局",
    Branch.COURT: "人民法院",
}
CUSTOMS_OFFICE = "长沙海关"
"""Hunan's direct customs; it certifies and grades every enterprise of the province."""


def government_code(name: str, division_code: str) -> str:
    """A stable, valid USCC of an organ of state: 11, its division, an org code from its name."""
    return named_code("11", name, division_code)


def named_code(prefix: str, name: str, division_code: str) -> str:
    """A stable, valid USCC for a named organisation outside the dataset (an office, an agency)."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    return make_uscc(prefix, division_code, f"{digest % 10**8:08d}")


@functools.cache
def office(branch: Branch, level: Level, division: Division) -> Office:
    """The `branch` office at `level` over `division` (ignored at province level).

    Drug supervision has only a provincial office and customs only 长沙海关 (whatever the level);
    tax offices belong to the State Taxation Administration (国家税务总局长沙市税务局 ...); the
    ecology and tax offices of counties are branches named after the city.
    """
    city = division.city
    if branch is Branch.CUSTOMS:
        name = CUSTOMS_OFFICE
        return Office(Authority(name=name, code=government_code(name, "430100")), "长关")
    if branch is Branch.DRUG:
        level = Level.PROVINCE
    if branch is Branch.TAX and level is not Level.PROVINCE:
        place = city.name if level is Level.CITY else division.full_name
        code = city.code if level is Level.CITY else division.code
        abbr = city.abbr if level is Level.CITY else city.abbr + division.abbr
        name = f"国家税务总局{place}税务局"
        return Office(Authority(name=name, code=government_code(name, code)), abbr)
    if level is Level.PROVINCE:
        name, code, abbr = _PROVINCIAL[branch], PROVINCE_CODE, PROVINCE_ABBR
    elif level is Level.CITY:
        name, code, abbr = f"{city.name}{_CITY_SUFFIX[branch]}", city.code, city.abbr
    elif branch is Branch.ECOLOGY:
        # County ecology offices are branches of the city bureau since the 2019 reform.
        county = division.name.removesuffix("区") if division.is_district else division.name
        name = f"{city.name}生态环境局{county}分局"
        code, abbr = division.code, city.abbr + division.abbr
    else:
        name = f"{division.full_name}{_COUNTY_SUFFIX[branch]}"
        code, abbr = division.code, city.abbr + division.abbr
    return Office(Authority(name=name, code=government_code(name, code)), abbr)
