"""registries/openapi.yaml describes exactly the payload models of connectors/records.py."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pydantic
import pytest
import yaml

from connectors import records

Document = dict[str, Any]


@pytest.fixture(scope="module")
def document() -> Document:
    text = resources.files("registries").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: Document = yaml.safe_load(text)
    return loaded


def schema_fields(document: Document, name: str) -> tuple[set[str], set[str]]:
    """Properties and required properties of a component schema, through allOf."""
    schema = document["components"]["schemas"][name]
    properties: set[str] = set(schema.get("properties", {}))
    required: set[str] = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            inner = schema_fields(document, part["$ref"].rsplit("/", 1)[1])
        else:
            inner = (set(part.get("properties", {})), set(part.get("required", [])))
        properties |= inner[0]
        required |= inner[1]
    return properties, required


MODELS: list[type[pydantic.BaseModel]] = [
    records.Authority,
    records.Person,
    records.Publicity,
    records.Penalty,
    records.Licence,
    records.Inspection,
    records.ListEntry,
    records.Grade,
    records.EiaReview,
    records.Registration,
    records.EcommerceCheck,
    records.IndustryBan,
    records.Bid,
    records.TeacherRecord,
    records.ResearchViolation,
    records.JudgmentDebtorCase,
    records.CreditReportProvider,
    records.CreditReport,
    records.SubjectRecord,
    *records.RECORD_MODELS.values(),
    records.BatchRequest,
    records.BatchResponse,
    records.SubjectPage,
    records.RegistryHealth,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model.__name__)
def test_schema_matches_model(document: Document, model: type[pydantic.BaseModel]) -> None:
    properties, required = schema_fields(document, model.__name__)
    fields = model.model_fields
    aliases = {field.alias or name for name, field in fields.items()}
    assert properties == aliases
    assert required == {
        field.alias or name for name, field in fields.items() if field.is_required()
    }


@pytest.mark.parametrize(
    "enum",
    [
        records.Severity,
        records.PenaltyKind,
        records.InspectionResult,
        records.ListCategory,
        records.RegistrationStatus,
        records.BidRole,
        records.PerformanceStatus,
        records.CreditReportProviderKind,
    ],
    ids=lambda enum: enum.__name__,
)
def test_enums_match(document: Document, enum: type[Any]) -> None:
    assert document["components"]["schemas"][enum.__name__]["enum"] == [m.value for m in enum]


def test_paths_and_headers(document: Document) -> None:
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/v1/subjects/{id}",
        "/v1/subjects:batch",
        "/v1/subjects",
        "/v1/health",
    }
    single = document["paths"]["/v1/subjects/{id}"]["get"]["responses"]
    assert {"200", "304", "404", "429", "500"} <= set(single)
    assert {"ETag", "Cache-Control"} <= set(single["200"]["headers"])
    assert "Retry-After" in document["components"]["responses"]["RateLimited"]["headers"]
    assert "400" in document["paths"]["/v1/subjects:batch"]["post"]["responses"]


def test_every_department_record_is_a_record_alternative(document: Document) -> None:
    alternatives = {
        part["$ref"].rsplit("/", 1)[1]
        for part in document["components"]["schemas"]["Record"]["anyOf"]
    }
    assert alternatives == {model.__name__ for model in records.RECORD_MODELS.values()}


def test_every_reference_resolves(document: Document) -> None:
    schemas = document["components"]["schemas"]

    def refs(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
            return found + [ref for value in node.values() for ref in refs(value)]
        if isinstance(node, list):
            return [ref for value in node for ref in refs(value)]
        return []

    for ref in refs(document):
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in document["components"][section], ref
    assert "CreditReport" in schemas
