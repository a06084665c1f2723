"""Hunan's administrative divisions, as the synthetic data uses them.

Codes are real (GB/T 2260). Each county-level division carries the first year its code existed,
because a resident ID number is only valid if its address code existed in the holder's birth year
(python-stdnum checks this against its own division history): a person born in 1960 cannot carry
an address code created in 1994. Only divisions that exist today are listed, so every registration
address and every registering office is current.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city: its code, full and short names, and document-number abbreviation."""

    code: str
    name: str
    short: str
    abbr: str


@dataclass(frozen=True, slots=True)
class Division:
    """A county-level division (district, county or county-level city)."""

    code: str
    name: str
    since: int
    """First year the code existed; 0 when it predates every birth year the data uses."""

    @property
    def city(self) -> City:
        return CITIES[self.code[:4]]

    @property
    def is_district(self) -> bool:
        """Districts are named after their city ("长沙市岳麓区"), counties stand alone."""
        return self.name.endswith("区")

    @property
    def full_name(self) -> str:
        return f"{self.city.name}{self.name}" if self.is_district else self.name

    @property
    def abbr(self) -> str:
        """The county's character in document numbers, as in 长岳市监处罚 (Changsha, Yuelu)."""
        return self.name[0]


PROVINCE_CODE = "430000"
PROVINCE_NAME = "湖南省"
PROVINCE_ABBR = "湘"

CITIES: dict[str, City] = {
    city.code[:4]: city
    for city in (
        City("430100", "长沙市", "长沙", "长"),
        City("430200", "株洲市", "株洲", "株"),
        City("430300", "湘潭市", "湘潭", "潭"),
        City("430400", "衡阳市", "衡阳", "衡"),
        City("430500", "邵阳市", "邵阳", "邵"),
        City("430600", "岳阳市", "岳阳", "岳"),
        City("430700", "常德市", "常德", "常"),
        City("430800", "张家界市", "张家界", "张"),
        City("430900", "益阳市", "益阳", "益"),
        City("431000", "郴州市", "郴州", "郴"),
        City("431100", "永州市", "永州", "永"),
        City("431200", "怀化市", "怀化", "怀"),
        City("431300", "娄底市", "娄底", "娄"),
        City("433100", "湘西土家族苗族自治州", "湘西", "州"),
    )
}

DIVISIONS: tuple[Division, ...] = tuple(
    Division(code, name, since)
    for code, name, since in (
        ("430102", "芙蓉区", 1983),
        ("430103", "天心区", 1983),
        ("430104", "岳麓区", 1983),
        ("430105", "开福区", 1983),
        ("430111", "雨花区", 1983),
        ("430112", "望城区", 2011),
        ("430121", "长沙县", 0),
        ("430181", "浏阳市", 1993),
        ("430182", "宁乡市", 2017),
        ("430202", "荷塘区", 1983),
        ("430203", "芦淞区", 1983),
        ("430204", "石峰区", 1983),
        ("430211", "天元区", 1983),
        ("430212", "渌口区", 2018),
        ("430223", "攸县", 1983),
        ("430224", "茶陵县", 1983),
        ("430225", "炎陵县", 1983),
        ("430281", "醴陵市", 1989),
        ("430302", "雨湖区", 1984),
        ("430304", "岳塘区", 1984),
        ("430321", "湘潭县", 0),
        ("430381", "湘乡市", 1989),
        ("430382", "韶山市", 1990),
        ("430405", "珠晖区", 2001),
        ("430406", "雁峰区", 2001),
        ("430407", "石鼓区", 2001),
        ("430408", "蒸湘区", 2001),
        ("430412", "南岳区", 1984),
        ("430421", "衡阳县", 1983),
        ("430422", "衡南县", 1983),
        ("430423", "衡山县", 1983),
        ("430424", "衡东县", 1983),
        ("430426", "祁东县", 1983),
        ("430481", "耒阳市", 1989),
        ("430482", "常宁市", 1996),
        ("430502", "双清区", 1983),
        ("430503", "大祥区", 1983),
        ("430511", "北塔区", 1983),
        ("430522", "新邵县", 1983),
        ("430523", "邵阳县", 1986),
        ("430524", "隆回县", 1986),
        ("430525", "洞口县", 1986),
        ("430527", "绥宁县", 1986),
        ("430528", "新宁县", 1986),
        ("430529", "城步苗族自治县", 1986),
        ("430581", "武冈市", 1994),
        ("430582", "邵东市", 2019),
        ("430602", "岳阳楼区", 1984),
        ("430603", "云溪区", 1984),
        ("430611", "君山区", 1984),
        ("430621", "岳阳县", 1983),
        ("430623", "华容县", 1986),
        ("430624", "湘阴县", 1986),
        ("430626", "平江县", 1986),
        ("430681", "汨罗市", 1989),
        ("430682", "临湘市", 1992),
        ("430702", "武陵区", 1988),
        ("430703", "鼎城区", 1988),
        ("430721", "安乡县", 1988),
        ("430722", "汉寿县", 1988),
        ("430723", "澧县", 1988),
        ("430724", "临澧县", 1988),
        ("430725", "桃源县", 1988),
        ("430726", "石门县", 1988),
        ("430781", "津市市", 1989),
        ("430802", "永定区", 1988),
        ("430811", "武陵源区", 1988),
        ("430821", "慈利县", 1988),
        ("430822", "桑植县", 1988),
        ("430902", "资阳区", 1994),
        ("430903", "赫山区", 1994),
        ("430921", "南县", 1994),
        ("430922", "桃江县", 1994),
        ("430923", "安化县", 1994),
        ("430981", "沅江市", 1994),
        ("431002", "北湖区", 1994),
        ("431003", "苏仙区", 1994),
        ("431021", "桂阳县", 1994),
        ("431022", "宜章县", 1994),
        ("431023", "永兴县", 1994),
        ("431024", "嘉禾县", 1994),
        ("431025", "临武县", 1994),
        ("431026", "汝城县", 1994),
        ("431027", "桂东县", 1994),
        ("431028", "安仁县", 1994),
        ("431081", "资兴市", 1994),
        ("431102", "零陵区", 1995),
        ("431103", "冷水滩区", 1995),
        ("431122", "东安县", 1995),
        ("431123", "双牌县", 1995),
        ("431124", "道县", 1995),
        ("431125", "江永县", 1995),
        ("431126", "宁远县", 1995),
        ("431127", "蓝山县", 1995),
        ("431128", "新田县", 1995),
        ("431129", "江华瑶族自治县", 1995),
        ("431181", "祁阳市", 2021),
        ("431202", "鹤城区", 1997),
        ("431221", "中方县", 1997),
        ("431222", "沅陵县", 1997),
        ("431223", "辰溪县", 1997),
        ("431224", "溆浦县", 1997),
        ("431225", "会同县", 1997),
        ("431226", "麻阳苗族自治县", 1997),
        ("431227", "新晃侗族自治县", 1997),
        ("431228", "芷江侗族自治县", 1997),
        ("431229", "靖州苗族侗族自治县", 1997),
        ("431230", "通道侗族自治县", 1997),
        ("431281", "洪江市", 1997),
        ("431302", "娄星区", 1999),
        ("431321", "双峰县", 1999),
        ("431322", "新化县", 1999),
        ("431381", "冷水江市", 1999),
        ("431382", "涟源市", 1999),
        ("433101", "吉首市", 1982),
        ("433122", "泸溪县", 0),
        ("433123", "凤凰县", 0),
        ("433124", "花垣县", 0),
        ("433125", "保靖县", 0),
        ("433126", "古丈县", 0),
        ("433127", "永顺县", 0),
        ("433130", "龙山县", 0),
    )
)

BY_CODE: dict[str, Division] = {division.code: division for division in DIVISIONS}


def _business_weight(division: Division) -> float:
    """Enterprises cluster in the capital's districts, then in other city districts."""
    if division.code.startswith("4301"):
        return 4.0 if division.is_district else 2.0
    return 1.5 if division.is_district else 1.0


BUSINESS_CUM_WEIGHTS: tuple[float, ...] = tuple(
    itertools.accumulate(_business_weight(d) for d in DIVISIONS)
)
"""Cumulative weights over `DIVISIONS` for `random.choices` when placing a business."""


@functools.cache
def divisions_for_birth_year(year: int) -> tuple[Division, ...]:
    """Divisions whose code existed in `year`, so an ID number born then validates."""
    return tuple(division for division in DIVISIONS if division.since <= year)
