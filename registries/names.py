"""Word lists and the rules that turn them into plausible Chinese names and addresses.

Realistic names matter for the demo and for tests of masking (``张**``); the lists are small but
combine into enough variety that a 10,000-subject dataset rarely repeats a name. Every function
takes the caller's `random.Random`, so names follow from the subject's seed like everything else.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from registries.divisions import Division


@dataclass(frozen=True, slots=True)
class Trade:
    """What a business does: the word in its name and the sector the departments care about."""

    word: str
    sector: str


# Sectors decide which licences, inspections and violations a department records.
FOOD = "food"
MANUFACTURING = "manufacturing"
CHEMICAL = "chemical"
CONSTRUCTION = "construction"
TRADING = "trade"
TECHNOLOGY = "technology"
SERVICE = "service"
MEDICAL = "medical"
PUBLIC_PLACE = "public_place"
ENVIRONMENTAL = "environmental"
LOGISTICS = "logistics"
AGRICULTURE = "agriculture"
REAL_ESTATE = "real_estate"
MEDIA = "media"

_ENTERPRISE_TRADES: tuple[tuple[Trade, int], ...] = (
    (Trade("食品", FOOD), 8),
    (Trade("建材", MANUFACTURING), 6),
    (Trade("化工", CHEMICAL), 5),
    (Trade("机械制造", MANUFACTURING), 6),
    (Trade("电子科技", TECHNOLOGY), 7),
    (Trade("信息技术", TECHNOLOGY), 7),
    (Trade("农业开发", AGRICULTURE), 5),
    (Trade("物流", LOGISTICS), 5),
    (Trade("商贸", TRADING), 10),
    (Trade("建筑工程", CONSTRUCTION), 7),
    (Trade("房地产开发", REAL_ESTATE), 3),
    (Trade("制药", CHEMICAL), 2),
    (Trade("餐饮管理", PUBLIC_PLACE), 5),
    (Trade("酒店管理", PUBLIC_PLACE), 3),
    (Trade("环境科技", ENVIRONMENTAL), 2),
    (Trade("新材料", MANUFACTURING), 3),
    (Trade("汽车销售服务", TRADING), 3),
    (Trade("服饰", MANUFACTURING), 3),
    (Trade("纺织", MANUFACTURING), 2),
    (Trade("印刷", MANUFACTURING), 2),
    (Trade("家具", MANUFACTURING), 2),
    (Trade("电气设备", MANUFACTURING), 3),
    (Trade("生物科技", CHEMICAL), 2),
    (Trade("文化传媒", MEDIA), 4),
    (Trade("教育咨询", SERVICE), 3),
    (Trade("口腔门诊部", MEDICAL), 1),
    (Trade("医院", MEDICAL), 1),
    (Trade("美容美发", PUBLIC_PLACE), 2),
    (Trade("健身服务", PUBLIC_PLACE), 1),
)
ENTERPRISE_TRADES = tuple(trade for trade, _ in _ENTERPRISE_TRADES)
_ENTERPRISE_TRADE_CUM = tuple(itertools.accumulate(weight for _, weight in _ENTERPRISE_TRADES))

_SHOP_TRADES: tuple[tuple[Trade, int], ...] = (
    (Trade("餐馆", PUBLIC_PLACE), 6),
    (Trade("小吃店", PUBLIC_PLACE), 4),
    (Trade("粉店", PUBLIC_PLACE), 4),
    (Trade("快餐店", PUBLIC_PLACE), 3),
    (Trade("理发店", PUBLIC_PLACE), 3),
    (Trade("足浴店", PUBLIC_PLACE), 1),
    (Trade("便利店", TRADING), 5),
    (Trade("副食店", TRADING), 3),
    (Trade("五金店", TRADING), 2),
    (Trade("水果店", TRADING), 3),
    (Trade("服装店", TRADING), 3),
    (Trade("茶叶店", TRADING), 1),
    (Trade("汽车修理店", SERVICE), 2),
    (Trade("家电维修部", SERVICE), 1),
    (Trade("诊所", MEDICAL), 1),
)
SHOP_TRADES = tuple(trade for trade, _ in _SHOP_TRADES)
_SHOP_TRADE_CUM = tuple(itertools.accumulate(weight for _, weight in _SHOP_TRADES))

_FORMS: tuple[tuple[str, int], ...] = (
    ("有限公司", 62),
    ("有限责任公司", 20),
    ("股份有限公司", 10),
    ("厂", 8),
)
_FORM_CUM = tuple(itertools.accumulate(weight for _, weight in _FORMS))
_FACTORY_SECTORS = frozenset({FOOD, MANUFACTURING, CHEMICAL})

BRANDS = (
    "恒达", "鑫源", "华瑞", "宏图", "湘江", "麓山", "金凯", "盛世", "泰丰", "博雅",
    "德润", "汇通", "创新", "远航", "天成", "兴业", "正邦", "佳和", "中南", "楚天",
    "星城", "恒信", "康达", "三湘", "永盛", "利华", "安泰", "宏远", "嘉禾", "聚源",
    "万通", "新力", "瑞丰", "锦程", "富源", "明辉", "鼎盛", "润泽", "晟达", "华宇",
    "金桥", "云帆", "湘楚", "宇通", "华信", "顺发", "腾飞", "隆昌", "和信", "长青",
    "红星", "开元", "东方", "金鹰", "祥瑞", "荣盛", "凯旋", "飞扬", "海纳", "卓越",
    "诚信", "九州", "银河", "蓝天", "绿源", "金穗", "普惠", "君安", "立信", "洞庭",
)  # fmt: skip

SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
    "彭", "谭", "唐", "罗", "曾", "邓", "廖", "胡", "欧阳", "贺",
    "徐", "孙", "马", "朱", "郭", "何", "林", "高", "郑", "梁",
    "谢", "宋", "许", "冯", "韩", "曹", "蔡", "潘", "田", "董",
    "袁", "于", "余", "蒋", "叶", "杜", "苏", "魏", "程", "吕",
    "丁", "沈", "任", "姚", "卢", "钟", "姜", "崔", "范", "汪",
    "陆", "金", "石", "戴", "贾", "夏", "邱", "方", "侯", "邹",
    "熊", "孟", "秦", "白", "毛", "江", "薛", "尹", "段", "雷",
    "黎", "龙", "陶", "顾", "龚", "郝", "邵", "万", "向", "汤",
)  # fmt: skip
_SURNAME_CUM = tuple(itertools.accumulate(4 if i < 20 else 1 for i in range(len(SURNAMES))))

_MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋阳亮建国志文峰成"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞秀玲燕婷慧红琳雪倩颖洁萍丹晶兰欣梅莉佳蓉月媛璐思雨悦"

_ROADS = (
    "人民路", "解放路", "建设路", "新华路", "五一路", "迎宾路", "工业园路", "创业大道",
    "科技路", "东风路", "车站路", "红旗路", "芙蓉路", "滨江路", "长青路", "金星路",
    "银杏路", "和平路", "光明路", "长江路",
)  # fmt: skip
_BUILDINGS = ("", "", "", "商务中心", "科技园", "大厦", "产业园", "广场")

SCOPES: dict[str, str] = {
    FOOD: "食品生产；食品销售；农副产品加工；货物进出口",
    MANUFACTURING: "通用设备制造；金属制品销售；五金产品批发；技术服务、技术开发",
    CHEMICAL: "化工产品生产（不含许可类化工产品）；化工产品销售；技术进出口",
    CONSTRUCTION: "建设工程施工；建筑材料销售；园林绿化工程施工；市政设施管理",
    TRADING: "日用百货销售；五金产品零售；针纺织品销售；电子产品销售；互联网销售",
    TECHNOLOGY: "软件开发；信息系统集成服务；计算机软硬件及辅助设备零售；技术咨询",
    SERVICE: "教育咨询服务；会议及展览服务；组织文化艺术交流活动；家用电器修理",
    MEDICAL: "医疗服务；诊所服务；医学研究和试验发展；第二类医疗器械销售",
    PUBLIC_PLACE: "餐饮服务；住宿服务；理发及美容服务；洗浴服务；健身休闲活动",
    ENVIRONMENTAL: "环境保护监测；环境影响评价；环保咨询服务；水污染治理；大气污染治理",
    LOGISTICS: "普通货物仓储服务；道路货物运输；国内货物运输代理；装卸搬运",
    AGRICULTURE: "农业生产托管服务；谷物种植；蔬菜种植；农产品的生产、销售、加工",
    REAL_ESTATE: "房地产开发经营；物业管理；住房租赁；非居住房地产租赁",
    MEDIA: "广告设计、代理；广告制作；文艺创作；数字内容制作服务",
}


def enterprise_trade(rng: random.Random) -> Trade:
    return rng.choices(ENTERPRISE_TRADES, cum_weights=_ENTERPRISE_TRADE_CUM)[0]


def shop_trade(rng: random.Random) -> Trade:
    return rng.choices(SHOP_TRADES, cum_weights=_SHOP_TRADE_CUM)[0]


def surname(rng: random.Random) -> str:
    return rng.choices(SURNAMES, cum_weights=_SURNAME_CUM)[0]


def person_name(rng: random.Random, male: bool, family: str | None = None) -> str:
    """A full name; the given name has one character about a third of the time."""
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    given = rng.choice(chars) if rng.random() < 0.35 else rng.choice(chars) + rng.choice(chars)
    return (family or surname(rng)) + given


def enterprise_name(rng: random.Random, division: Division, trade: Trade, brand: str) -> str:
    """E.g. 长沙市岳麓区恒达食品有限公司, 浏阳市鑫源建材厂, 湖南华瑞电子科技股份有限公司."""
    place_roll = rng.random()
    if place_roll < 0.2:
        place = "湖南"
    elif division.is_district:
        place = division.full_name if place_roll < 0.7 else division.city.short
    else:
        place = division.name
    form = rng.choices(_FORMS, cum_weights=_FORM_CUM)[0][0]
    if form == "厂" and trade.sector not in _FACTORY_SECTORS:
        form = "有限公司"
    return f"{place}{brand}{trade.word}{form}"


def shop_name(rng: random.Random, division: Division, trade: Trade, family: str, brand: str) -> str:
    """E.g. 芙蓉区张记餐馆 or 浏阳市恒达便利店."""
    if rng.random() < 0.6:
        return f"{division.name}{family}记{trade.word}"
    return f"{division.name}{brand}{trade.word}"


def address(rng: random.Random, division: Division) -> str:
    """A street address in the division, e.g. 湖南省长沙市岳麓区科技路128号恒达大厦."""
    building = rng.choice(_BUILDINGS)
    suffix = f"{rng.choice(BRANDS)}{building}{rng.randint(1, 28)}楼" if building else ""
    city = "" if division.is_district else division.city.name
    return f"湖南省{city}{division.full_name}{rng.choice(_ROADS)}{rng.randint(1, 999)}号{suffix}"
