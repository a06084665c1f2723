"""The legacy tourism registry's payloads, and how they become a `TourismRecord`.

The registry predates the registry API. It answers ``GET /api/credit-records?code=<USCC>`` with
HTTP 200 whatever happened, and says what happened in an envelope::

    {"返回码": "0000", "返回信息": "成功", "数据": {...}}     found
    {"返回码": "1004", "返回信息": "无此主体信用记录", "数据": null}   not held
    {"返回码": "4001", "返回信息": "应用密钥无效"}             wrong application key
    {"返回码": "9999", "返回信息": "系统繁忙"}                 the registry failed

and its records have Chinese keys, dates in three formats (``2019/05/12``, ``20240315``,
``2024-03-15``), empty strings for "none", numbers as strings, amounts in ten-thousands of yuan
(万元), penalty kinds as one comma-separated string, a local time without a zone, and one grade
object instead of a list. Everything is validated here with pydantic; what does not parse is the
registry's fault and becomes a `SourceBadResponse` in the connector.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from connectors.records import ListCategory, PenaltyKind, Severity
from credit_gateway_tourism.records import GRADE_LABELS, GRADE_SCHEME, TourismRecord

BEIJING = timezone(timedelta(hours=8), "CST")
"""The registry writes local (Beijing) time without saying so."""

OK = "0000"
NOT_FOUND = "1004"
BAD_KEY = "4001"
FAILED = "9999"

TEN_THOUSAND = Decimal(10_000)
CENT = Decimal("0.01")

PENALTY_KINDS = {
    "警告": PenaltyKind.WARNING,
    "通报批评": PenaltyKind.WARNING,
    "罚款": PenaltyKind.FINE,
    "没收违法所得": PenaltyKind.CONFISCATION,
    "没收非法财物": PenaltyKind.CONFISCATION,
    "责令停业整顿": PenaltyKind.SUSPENSION,
    "暂停业务": PenaltyKind.SUSPENSION,
    "吊销旅行社业务经营许可证": PenaltyKind.LICENCE_REVOCATION,
    "吊销导游证": PenaltyKind.LICENCE_REVOCATION,
}
SEVERITIES = {"一般": Severity.GENERAL, "严重": Severity.SERIOUS}
LISTS = {
    "黑名单": (ListCategory.BLACK, "SERIOUS_DISHONEST"),
    "重点关注名单": (ListCategory.WATCH, "KEY_CONCERN"),
    "红名单": (ListCategory.RED, "HONOUR"),
}
"""名单类别 → (category, the stable list type joint measures target)."""

T = TypeVar("T")

MINIMUM_PUBLICITY_MONTHS = {Severity.GENERAL: 3, Severity.SERIOUS: 12}
MAXIMUM_PUBLICITY_YEARS = 3


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _legacy_date(value: object) -> object:
    """``2019/05/12``, ``20190512`` or ``2019-05-12``; blank is None."""
    value = _blank_to_none(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    match = re.fullmatch(r"(\d{4})[-/]?(\d{1,2})[-/]?(\d{1,2})", text)
    if match is None:
        raise ValueError(f"not a date in a format the registry uses: {text!r}")
    year, month, day = (int(part) for part in match.groups())
    return date(year, month, day)


def _legacy_time(value: object) -> object:
    """``2025-06-01 09:30:00`` in Beijing time."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.strip().replace("/", "-"))
    except ValueError as exc:
        raise ValueError(f"not a date-time: {value!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=BEIJING)


def _wan_yuan(value: object) -> object:
    """An amount in 万元 (a string or a number) as yuan, to the cent; blank is None."""
    value = _blank_to_none(value)
    if value is None or isinstance(value, bool):
        return value
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not an amount: {value!r}")
    return (amount * TEN_THOUSAND).quantize(CENT)


LegacyDate = Annotated[date, BeforeValidator(_legacy_date)]
OptionalDate = Annotated[date | None, BeforeValidator(_legacy_date)]
LegacyTime = Annotated[datetime, BeforeValidator(_legacy_time)]
Yuan = Annotated[Decimal | None, BeforeValidator(_wan_yuan)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalNumber = Annotated[float | None, BeforeValidator(_blank_to_none)]
OptionalYear = Annotated[int | None, BeforeValidator(_blank_to_none)]


class _Legacy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)


class LegacyLicence(_Legacy):
    number: str = Field(alias="许可证编号", min_length=1)
    document_number: str = Field(alias="许可文书号", min_length=1)
    kind: str = Field(alias="许可类别", min_length=1)
    scope: str = Field(alias="经营范围")
    issued_on: LegacyDate = Field(alias="发证日期")
    valid_to: OptionalDate = Field(default=None, alias="有效期至")
    authority: str = Field(alias="发证机关", min_length=1)
    authority_code: OptionalText = Field(default=None, alias="发证机关代码")


class LegacyPenalty(_Legacy):
    document_number: str = Field(alias="处罚决定书文号", min_length=1)
    violation_type: str = Field(alias="违法行为类型", min_length=1)
    facts: str = Field(alias="违法事实")
    legal_basis: str = Field(alias="处罚依据")
    kinds: str = Field(alias="处罚类别", min_length=1)
    content: str = Field(alias="处罚内容")
    fine: Yuan = Field(default=None, alias="罚款金额（万元）")
    confiscated: Yuan = Field(default=None, alias="没收金额（万元）")
    decided_on: LegacyDate = Field(alias="处罚决定日期")
    authority: str = Field(alias="处罚机关", min_length=1)
    authority_code: OptionalText = Field(default=None, alias="处罚机关代码")
    severity: str = Field(alias="严重程度")
    public_until: OptionalDate = Field(default=None, alias="公示截止日期")
    repaired_on: OptionalDate = Field(default=None, alias="信用修复日期")


class LegacyListing(_Legacy):
    list_kind: str = Field(alias="名单类别")
    list_name: str = Field(alias="名单名称", min_length=1)
    entered_on: LegacyDate = Field(alias="列入日期")
    exited_on: OptionalDate = Field(default=None, alias="移出日期")
    expires_on: OptionalDate = Field(default=None, alias="有效期至")
    reason: str = Field(alias="列入原因")
    basis: str = Field(alias="列入依据")
    document_number: OptionalText = Field(default=None, alias="认定文书号")
    authority: str = Field(alias="认定机关", min_length=1)
    authority_code: OptionalText = Field(default=None, alias="认定机关代码")


class LegacyGrade(_Legacy):
    value: str = Field(alias="等级", pattern="^[ABCD]$")
    score: OptionalNumber = Field(default=None, alias="评分")
    year: OptionalYear = Field(default=None, alias="评价年度")
    assessed_on: LegacyDate = Field(alias="评定日期")
    valid_until: OptionalDate = Field(default=None, alias="有效期至")
    authority: str = Field(alias="评定机关", min_length=1)
    authority_code: OptionalText = Field(default=None, alias="评定机关代码")


class LegacyRecord(_Legacy):
    code: str = Field(alias="统一社会信用代码", min_length=1, max_length=64)
    name: str = Field(alias="机构名称", min_length=1)
    updated_at: LegacyTime = Field(alias="更新时间")
    licences: list[LegacyLicence] = Field(default_factory=list, alias="经营许可")
    penalties: list[LegacyPenalty] = Field(default_factory=list, alias="行政处罚")
    listings: list[LegacyListing] = Field(default_factory=list, alias="名单信息")
    grade: LegacyGrade | None = Field(default=None, alias="信用等级")
    deposit: Yuan = Field(default=None, alias="质量保证金（万元）")


class Envelope(_Legacy):
    """Every answer of the registry, whatever happened."""

    code: str = Field(alias="返回码")
    message: str = Field(default="", alias="返回信息")
    data: dict[str, Any] | None = Field(default=None, alias="数据")


def to_record(department: str, legacy: LegacyRecord) -> TourismRecord:
    """The gateway's record of a legacy one; raises `pydantic.ValidationError` (or ValueError
    for a penalty kind, severity or list kind the mapping does not know)."""
    data: dict[str, object] = {
        "subject_id": legacy.code.upper(),
        "name": legacy.name,
        "updated_at": legacy.updated_at,
        "licences": [_licence(item) for item in legacy.licences],
        "penalties": [_penalty(item) for item in legacy.penalties],
        "list_entries": [_listing(item) for item in legacy.listings],
        "grades": [] if legacy.grade is None else [_grade(legacy.grade)],
        "guarantee_deposit": legacy.deposit,
    }
    return TourismRecord.model_validate(data, context={"department": department})


def _authority(name: str, code: str | None) -> dict[str, object]:
    return {"name": name, "code": code}


def _licence(item: LegacyLicence) -> dict[str, object]:
    return {
        "document_number": item.document_number,
        "licence_kind": item.kind.removesuffix("证"),
        "certificate_name": item.kind,
        "certificate_number": item.number,
        "content": item.scope,
        "decision_date": item.issued_on,
        "valid_from": item.issued_on,
        "valid_to": item.valid_to,
        "authority": _authority(item.authority, item.authority_code),
    }


def _penalty(item: LegacyPenalty) -> dict[str, object]:
    severity = _lookup(SEVERITIES, item.severity, "严重程度")
    kinds = [
        PENALTY_KINDS.get(kind.strip(), PenaltyKind.OTHER)
        for kind in re.split(r"[,，、;；]", item.kinds)
        if kind.strip()
    ]
    decided = item.decided_on
    return {
        "document_number": item.document_number,
        "violation_type": item.violation_type,
        "facts": item.facts,
        "legal_basis": item.legal_basis,
        "kinds": list(dict.fromkeys(kinds)),
        "content": item.content,
        "fine_amount": item.fine,
        "confiscated_amount": item.confiscated,
        "decision_date": decided,
        "authority": _authority(item.authority, item.authority_code),
        "source_unit": item.authority,
        "severity": severity,
        # The registry records only the end of publicity; the rest follows the national rules
        # (public from the decision; repairable after 3 months, or a year if serious; 3 years).
        "publicity": {
            "starts_on": decided,
            "minimum_until": add_months(decided, MINIMUM_PUBLICITY_MONTHS[severity]),
            "until": item.public_until or add_months(decided, 12 * MAXIMUM_PUBLICITY_YEARS),
            "repaired_on": item.repaired_on,
        },
    }


def _listing(item: LegacyListing) -> dict[str, object]:
    category, list_type = _lookup(LISTS, item.list_kind, "名单类别")
    return {
        "list_type": list_type,
        "list_name": item.list_name,
        "category": category,
        "entered_on": item.entered_on,
        "exited_on": item.exited_on,
        "expires_on": item.expires_on,
        "reason": item.reason,
        "basis": item.basis,
        "document_number": item.document_number,
        "authority": _authority(item.authority, item.authority_code),
    }


def _grade(item: LegacyGrade) -> dict[str, object]:
    return {
        "scheme": GRADE_SCHEME,
        "value": item.value,
        "label": GRADE_LABELS[item.value],
        "score": item.score,
        "year": item.year,
        "assessed_on": item.assessed_on,
        "valid_until": item.valid_until,
        "authority": _authority(item.authority, item.authority_code),
    }


def _lookup(table: dict[str, T], key: str, field: str) -> T:
    try:
        return table[key.strip()]
    except KeyError:
        raise ValueError(f"unknown {field} {key!r}") from None


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
